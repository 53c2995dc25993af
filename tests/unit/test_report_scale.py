"""Reports of 10,000 checks: small enough to open, with what is wrong shown in full and first.

The results are synthetic (tests/support/many_results.py): 10,000 checks shaped like the shipped
spec's happy path, one in 100 failing, one in 250 erring, one in 500 skipped, and 40 drills. No
timing is asserted here: `make bench` measures how long the reports take.
"""

from __future__ import annotations

import json
import re

import pytest

from engine.report import render_html, render_markdown
from engine.report.folds import CARD_LIMIT
from engine.report.formats import JSON, JUNIT
from engine.report.views import EVIDENCE_LIMIT, LATENCY_BARS, anchor
from support.many_results import FAILED_MESSAGE, check_id, many_results

COUNT = 10_000
MEGABYTE = 1_000_000


@pytest.fixture(scope="module")
def results() -> dict:
    return many_results(COUNT)


@pytest.fixture(scope="module")
def html(results) -> str:
    return render_html(results)


@pytest.fixture(scope="module")
def markdown(results) -> str:
    return render_markdown(results)


def _ids(results: dict, *statuses: str) -> list[str]:
    return [check["id"] for check in results["checks"] if check["status"] in statuses]


def _card(html: str, ident: str) -> str:
    found = re.search(rf'<details class="item[^"]*" id="check-{ident}".*?</details>', html, flags=re.DOTALL)
    assert found, f"no card for {ident}"
    return found.group(0)


def _fold(html: str, key: str) -> str:
    return html.split(f'<details class="fold" id="{key}">', 1)[1].split("</details>", 1)[0]


def test_the_html_of_10000_checks_is_under_10_mb(html, results):
    assert len(results["checks"]) == COUNT
    assert len(html.encode("utf-8")) < 10 * MEGABYTE


def test_every_failing_erring_and_skipped_check_keeps_its_full_card_open(html, results):
    failing, erring = _ids(results, "failed"), _ids(results, "error")
    assert len(failing) == 80 and len(erring) == 20 and len(_ids(results, "skipped")) == 20
    for ident in failing:
        card = _card(html, ident)
        assert card.split(">", 1)[0].endswith(" open") and 'data-status="failed"' in card
        assert FAILED_MESSAGE in card and "POST http://127.0.0.1:8765/v1/chat/completions" in card
        assert "HTTP 200" in card and f"req_{int(ident.split('-')[1]):024x}" in card  # the evidence too
    for ident in erring:
        assert "no response within the 30s read timeout" in _card(html, ident)
    for ident in _ids(results, "skipped"):
        assert "streaming is disabled in the pinned contract" in _card(html, ident)


def test_failures_come_before_the_folded_passing_checks(html, results):
    first_failure = html.index(f'id="check-{_ids(results, "failed")[0]}"')
    last_card = html.index(f'id="check-{_ids(results, "failed", "error", "skipped")[-1]}"')
    assert html.index('id="verdict"') < html.index('id="failures"') < first_failure < last_card
    assert last_card < html.index('id="drills"') < html.index('<details class="fold" id="passing-checks">')
    assert "First failure:</b> check <a" in html


def test_passing_checks_are_one_row_each_of_a_folded_table(html, results):
    passing = _ids(results, "passed")
    assert len(passing) == COUNT - 120
    fold = _fold(html, "passing-checks")
    rows = re.findall(r'<tr class="item" id="check-([^"]+)" data-status="passed"', fold)
    assert rows == passing
    assert not re.search(r'<details class="item[^"]*" id="check-bulk-00001"', html)  # no card of its own
    assert f"req_{1:024x}" not in html  # its evidence stays in the JSON report
    assert f"Passing checks ({len(passing)})" in fold and '<details class="fold" id="passing-checks" open' not in html


def test_links_still_reach_folded_rows_and_the_filter_sees_them(html):
    assert 'href="#passing-checks"' in html
    script = html.rsplit("<script>", 1)[1]
    assert 'querySelectorAll("details.item, tr.item")' in script
    assert 'closest("details")' in script  # a link to a folded row opens its table


def test_drills_keep_their_cards(html, results):
    for drill in results["drills"]:
        found = re.search(rf'<details class="item[^"]*" id="{re.escape(anchor("drill", drill["id"]))}"[^>]*>', html)
        assert found and 'data-kind="drill"' in found.group(0), drill["id"]


def test_a_criterion_of_10000_checks_lists_the_first_that_did_not_pass_and_folds_the_rest(html, results):
    card = html.split('id="criterion-every-bulk-check-passes"', 1)[1].split("</ul>", 1)[0]
    listed = re.findall(r'<li><a class="id" href="#check-([^"]+)">', card)
    wrong = _ids(results, "failed", "error", "skipped")
    assert listed == wrong[:EVIDENCE_LIMIT]
    assert f"<summary>{len(wrong) - EVIDENCE_LIMIT} more that did not pass" in card and wrong[-1] in card
    assert f"<summary>{COUNT - 120} more passed" in card and check_id(1) in card
    assert card.count('<li class="text">') == EVIDENCE_LIMIT and f"{120 - EVIDENCE_LIMIT} more reasons" in card


def test_the_latency_picture_keeps_the_slowest_checks(html):
    picture = html.split('<svg class="latency"', 1)[1].split("</svg>", 1)[0]
    assert picture.count('<g class="bar') == LATENCY_BARS
    assert f"The {LATENCY_BARS} slowest of {COUNT - 20} timed checks, slowest first; median" in html


def test_markdown_lists_every_check_that_did_not_pass_and_counts_the_passing_ones(markdown, results):
    rows = [line for line in markdown.splitlines() if re.match(r"\| \S+ (failed|error|skipped) \| bulk-", line)]
    assert [row.split(" | ")[1] for row in rows] == _ids(results, "failed", "error", "skipped")
    assert all("HTTP 200, parser: ok" in row for row in rows if " failed | " in row)
    assert f"✅ {COUNT - 120} passed, not listed one by one here" in markdown
    assert f"| {check_id(1)} |" not in markdown
    assert markdown.count(FAILED_MESSAGE) == 80  # each failure's mismatch, once
    assert len(markdown.encode("utf-8")) < MEGABYTE  # fits a GitHub step summary


def test_junit_and_json_keep_every_check(results):
    junit = JUNIT.render(results)
    assert junit.count("<testcase ") == COUNT + len(results["drills"]) + len(results["criteria"]) + 1
    text = JSON.render(results)
    assert json.loads(text) == results
    assert text.startswith('{\n  "schema_version": ') and f'\n    {{"id": "{check_id(1)}", ' in text


def test_below_the_limit_every_passing_check_keeps_its_folded_card():
    small = many_results(CARD_LIMIT, fail_every=0, error_every=0, skip_every=0, drills=0)
    html = render_html(small)
    assert 'class="fold"' not in html
    card = _card(html, check_id(1))
    assert not card.split(">", 1)[0].endswith(" open") and f"req_{1:024x}" in card
    assert "passed, not listed one by one" not in render_markdown(small)


def test_checks_the_selection_left_out_fold_into_rows_too():
    partial = many_results(COUNT, fail_every=0, error_every=0, skip_every=0, drills=0)
    for check in partial["checks"][100:]:
        check.update(status="skipped", selected=False, reason="not selected: --tags smoke", observed=None)
    html = render_html(partial)
    assert len(html.encode("utf-8")) < 10 * MEGABYTE / 4
    rows = re.findall(r'<tr class="item" id="check-([^"]+)" data-status="skipped"', _fold(html, "left-out-checks"))
    assert rows == [check["id"] for check in partial["checks"][100:]]
    assert 'id="passing-checks"' not in html and _card(html, check_id(100))  # 100 passing: a card each
    assert f"Not selected in this run ({COUNT - 100}): {check_id(101)}, " in render_markdown(partial)


def test_when_most_checks_fail_each_one_is_listed_with_every_mismatch_and_the_page_stays_small():
    failing = many_results(COUNT, fail_every=1)
    html = render_html(failing)
    assert len(html.encode("utf-8")) < 10 * MEGABYTE
    ids, failed = _ids(failing, "failed", "error", "skipped"), set(_ids(failing, "failed"))
    assert len(ids) == COUNT
    cards = re.findall(r'<details class="item[^"]*" id="check-([^"]+)"', html)
    table = html.split('id="more-checks"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="item st-row-(?:failed|error|skipped)" id="check-([^"]+)"', table)
    assert cards == ids[:CARD_LIMIT] and rows == ids[CARD_LIMIT:]  # every one, in spec order, none folded
    assert table.count(FAILED_MESSAGE) == len(failed.intersection(rows))
    shown = len(_ids(failing, "failed", "error"))  # the Failures section shows the first ones, not all again
    assert html.count('<article class="card') == CARD_LIMIT and f"… and {shown - CARD_LIMIT} more, each in full" in html
    assert render_markdown(failing).count(FAILED_MESSAGE) == len(failed)
