"""The HTML report in a real browser: Debian's headless Chromium, driven by Playwright.

Two reports: the shipped spec's full run on the simulator, and a failing run (a server that answers
200 to everything). At 1400 px and at 390 px each must show the verdict, the blocking criteria and
the first failure in the first screen, overflow nowhere sideways at 390 px, log no console error,
and its status and tag filters must hide and show the right items. A third, of 10,000 synthetic
checks, must read the same way, with its passing checks folded into one table that a link opens.
Screenshots are kept under reports/browser/ as test artifacts.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import api
from engine.report import render_html
from support.many_results import many_results
from support.provider import AlwaysOkServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "reports" / "browser"
SCREENS = {"desktop": (1400, 900), "phone": (390, 844)}
LAUNCH_ARGS = [  # as root, on a machine whose network is closed: no sandbox, no background fetches
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make dev installs it)"
    if not os.path.exists(CHROMIUM):
        return "Debian's chromium is not installed (apt-get install chromium; .ci/run does it)"
    return None


MISSING = _browser_missing()
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"BROWSER TESTS SKIPPED: {MISSING}")


@pytest.fixture(scope="module")
def browser(failing_report, full_report) -> Iterator[object]:
    """Started after the reports are written: Playwright's sync API keeps an event loop running
    in this thread, where runbook's own asyncio.run could not start."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def failing_report(tmp_path_factory, cometapi_spec) -> Path:
    out = tmp_path_factory.mktemp("failing-report")
    with AlwaysOkServer() as server:
        environ = {**os.environ, "COMETAPI_BASE_URL": server.base_url, "COMETAPI_API_KEY": "sk-browser-test-0000"}
        outcome = api.run(cometapi_spec, "live", environ=environ, out_dir=out, formats=("html", "json"),
                          selection=api.Selection(tags=("smoke", "malformed")))  # fmt: skip
    assert outcome.results.summary.verdict == "not_ready"
    return out / "cometapi-chat-completions.html"


@pytest.fixture(scope="module")
def full_report(cometapi_run) -> Path:
    return cometapi_run.reports / "cometapi-chat-completions.html"


def open_page(browser, report: Path, screen: str):
    width, height = SCREENS[screen]
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    return page, errors


def in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def shown_items(page) -> list[str]:
    return page.eval_on_selector_all("details.item", "items => items.filter(i => !i.hidden).map(i => i.id)")


@pytest.mark.parametrize("screen", SCREENS)
def test_a_failing_run_shows_verdict_blockers_and_first_failure_without_scrolling(browser, failing_report, screen):
    page, errors = open_page(browser, failing_report, screen)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"failing-{screen}.png"))
    assert page.locator("#verdict .verdict").inner_text().startswith("Not ready")
    for part in ("#verdict .verdict", "#verdict .first", "#blocking"):
        assert in_first_screen(page, part), f"{part} is not in the first screen at {SCREENS[screen]}"
    assert "First failure: check stream-happy-path" in page.locator("#verdict .first").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen][0]
    assert errors == []
    page.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_full_run_report_reads_in_the_first_screen(browser, full_report, screen):
    page, errors = open_page(browser, full_report, screen)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"full-run-{screen}.png"))
    for part in ("#verdict .verdict", "#blocking"):
        assert in_first_screen(page, part), f"{part} is not in the first screen at {SCREENS[screen]}"
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen][0]
    assert errors == []
    page.close()


def test_filtering_by_status_hides_and_shows_the_right_items(browser, failing_report):
    page, errors = open_page(browser, failing_report, "desktop")
    every = shown_items(page)
    status = dict(page.eval_on_selector_all("details.item", "items => items.map(i => [i.id, i.dataset.status])"))
    failed = {ident for ident, value in status.items() if value == "failed"}
    assert failed and set(every) == set(status)
    page.uncheck("input[name=status][value=failed]")
    assert set(shown_items(page)) == set(status) - failed
    page.uncheck("input[name=status][value=skipped]")
    assert set(shown_items(page)) == {ident for ident, value in status.items() if value == "passed"}
    page.check("input[name=status][value=failed]")
    assert failed <= set(shown_items(page))
    assert errors == []
    page.close()


def test_filtering_by_tag_keeps_only_items_with_that_tag(browser, full_report):
    page, errors = open_page(browser, full_report, "desktop")
    tags = dict(page.eval_on_selector_all("details.item", "items => items.map(i => [i.id, i.dataset.tags])"))
    page.select_option("select[name=tag]", "smoke")
    expected = {ident for ident, value in tags.items() if "smoke" in value.split()}
    assert expected and set(shown_items(page)) == expected
    page.select_option("select[name=tag]", "")
    assert set(shown_items(page)) == set(tags)
    assert page.locator("#shown").inner_text() == f"{len(tags)} of {len(tags)} shown"
    assert errors == []
    page.close()


def test_a_link_to_a_folded_item_opens_it(browser, full_report):
    page, _ = open_page(browser, full_report, "desktop")
    assert page.evaluate("document.getElementById('check-happy-path').open") is False  # passing: folded
    page.click("#criterion-minimal-completion-from-production a[href='#check-happy-path']")
    page.wait_for_function("document.getElementById('check-happy-path').open", timeout=10_000)  # hashchange runs next
    page.close()


@pytest.fixture(scope="module")
def large_report(tmp_path_factory) -> Path:
    """10,000 synthetic checks (one in 100 failing), rendered as `runbook run` writes them."""
    path = tmp_path_factory.mktemp("large-report") / "bulk.html"
    path.write_text(render_html(many_results(10_000)), encoding="utf-8")
    return path


@pytest.mark.parametrize("screen", SCREENS)
def test_a_report_of_10000_checks_reads_in_the_first_screen(browser, large_report, screen):
    page, errors = open_page(browser, large_report, screen)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"large-{screen}.png"))
    for part in ("#verdict .verdict", "#verdict .first", "#blocking"):
        assert in_first_screen(page, part), f"{part} is not in the first screen at {SCREENS[screen]}"
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen][0]
    assert page.evaluate("document.getElementById('passing-checks').open") is False
    assert errors == []
    page.close()


def test_a_link_to_a_folded_passing_check_opens_its_table(browser, large_report):
    page, errors = open_page(browser, large_report, "desktop")
    assert page.locator("#check-bulk-00001").is_visible() is False
    page.evaluate("location.hash = '#check-bulk-00001'")
    page.wait_for_function("document.getElementById('passing-checks').open", timeout=10_000)
    assert page.locator("#check-bulk-00001").is_visible()
    page.uncheck("input[name=status][value=passed]")
    assert page.locator("#check-bulk-00001").is_visible() is False
    assert page.locator("#shown").inner_text() == "120 of 10040 shown"  # the failed, erring and skipped checks
    assert errors == []
    page.close()
