"""The shipped example clients, drilled: the official openai SDK with its defaults, and the same SDK
tuned to the shipped policy. What runbook finds about each is what the README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api


@pytest.fixture(scope="module")
def examples_spec(repo_root: Path) -> Path:
    return repo_root / "examples" / "clients" / "cometapi-clients.yaml"


def drilled(spec: Path, client: str, only: tuple[str, ...]) -> dict:
    outcome = api.run(spec, out_dir=None, client=client, selection=api.Selection(only=only))
    return {d.id.removeprefix("drill:"): d for d in outcome.results.drills if d.selected}


def test_the_sdk_with_default_settings_trusts_a_cut_stream_and_retries_cometapis_invalid_request(examples_spec):
    drills = drilled(
        examples_spec,
        "openai-default",
        (
            "stream-clean-cut-is-partial",
            "cometapi-500-invalid-request-not-retried",
            "throttled-429-retry-after",
            "server-503-then-success",
        ),
    )
    assert drills["throttled-429-retry-after"].status == "passed"  # it waits out Retry-After: 2
    assert drills["server-503-then-success"].status == "passed"
    cut = [m.message for m in drills["stream-clean-cut-is-partial"].mismatches]
    assert any(m.startswith("partial answer looked complete") for m in cut)
    retried = [m.message for m in drills["cometapi-500-invalid-request-not-retried"].mismatches]
    assert (
        "classification.cometapi-500-invalid-request.retry violated: class request_invalid was retried although "
        "its rule says retry: no" in retried
    )


def test_the_tuned_sdk_keeps_the_policy_except_full_jitter(examples_spec):
    only = (
        "stream-clean-cut-is-partial",
        "cometapi-500-invalid-request-not-retried",
        "retry-after-above-cap",
        "server-503-exhausts-then-falls-back",
        "connect-failure-falls-back",
        "throttled-429-retry-after",
        "retry-jitter",
    )
    drills = drilled(examples_spec, "openai-tuned", only)
    failed = {name: [m.message for m in d.mismatches] for name, d in drills.items() if d.status != "passed"}
    assert list(failed) == ["retry-jitter"], failed  # the SDK's jitter is 0.75-1x, not full
    assert failed["retry-jitter"][0].startswith("jittered: expected True, observed False")
