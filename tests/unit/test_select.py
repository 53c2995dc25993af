import re

import pytest

from engine.core.errors import UsageError
from engine.plan.build import build_plan
from engine.plan.select import Selection


@pytest.fixture(scope="module")
def chosen(cometapi_loaded):
    """chosen(**selection): the ids of the checks a selection of the shipped spec runs."""

    def ids(**selection) -> list[str]:
        return [step.check.id for step in build_plan(cometapi_loaded, selection=Selection(**selection)).steps]

    return ids


@pytest.fixture(scope="module")
def all_checks(cometapi_loaded) -> list[str]:
    return [c.id for c in cometapi_loaded.spec.checks]


def test_no_selection_runs_everything(chosen, all_checks):
    assert chosen() == all_checks


def test_tags_select_any_of(chosen, all_checks):
    assert chosen(tags=("smoke",)) == ["happy-path", "stream-happy-path"]
    assert chosen(tags=("smoke", "malformed")) == all_checks


def test_only_and_skip(chosen, all_checks):
    assert chosen(only=("wrong-path", "happy-path")) == ["happy-path", "wrong-path"]
    assert chosen(skip=("oversized-request",)) == [c for c in all_checks if c != "oversized-request"]
    assert chosen(tags=("malformed",), skip=("missing-auth",)) == [
        c for c in all_checks if c not in ("happy-path", "stream-happy-path", "missing-auth")
    ]


def test_left_out_checks_say_why(cometapi_loaded):
    plan = build_plan(cometapi_loaded, selection=Selection(only=("happy-path",)))
    assert dict(plan.skipped)["missing-auth"] == "not selected: not in --only"


def test_schedules_of_the_source_document(chosen, all_checks, cometapi_loaded):
    assert chosen(schedule="continuous") == ["happy-path", "stream-happy-path"]
    assert chosen(schedule="release-gate") == all_checks
    schedule = cometapi_loaded.spec.schedules["release-gate"]
    assert set(schedule.on) == {
        "release",
        "sdk_change",
        "credential_rotation",
        "model_config_change",
        "reference_change",
    }
    assert cometapi_loaded.spec.schedules["continuous"].every == 300.0


@pytest.mark.parametrize(
    "selection, message",
    [
        ({"only": ("happy-pth",)}, "no check 'happy-pth' (did you mean 'happy-path'?)"),
        ({"skip": ("nope",)}, "no check 'nope'"),
        ({"tags": ("smoek",)}, "no check in 'cometapi-chat-completions' has tag 'smoek'"),
        ({"schedule": "nightly"}, "no schedule 'nightly'"),
    ],
)
def test_unknown_names_are_usage_errors(cometapi_loaded, selection, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        build_plan(cometapi_loaded, selection=Selection(**selection))
