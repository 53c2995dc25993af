"""Each provider pack's table classifies its provider's documented answers as the pack says: the
quirk rules fire on the shapes their cited sources describe (message-only meanings included)."""

from __future__ import annotations

import pytest

from engine.api import load
from engine.run.observation import Observation
from engine.spec.classify import classify

CASES = [
    # (pack, what the provider answers, the class the pack gives it)
    ("litellm", dict(status=400, error_code="400", error_type="invalid_request_error",
                     error_message="litellm.ContextWindowExceededError: ... maximum context length"), "token_budget"),
    ("litellm", dict(status=400, error_message="litellm.BadRequestError: ContentPolicyViolationError: ..."),
     "content_filtered"),
    ("litellm", dict(status=400, error_message="Invalid model name passed in model=gpt-99"), "model_config"),
    ("litellm", dict(status=400, error_message="Invalid model name passed in model=None"), "request_invalid"),
    ("deepseek", dict(status=400, error_type="invalid_request_error",
                      error_message="This model's maximum context length is 65536 tokens"), "token_budget"),
    ("deepseek", dict(status=400, error_message="Model Not Exist"), "model_config"),
    ("azure-openai", dict(status=404, error_code="DeploymentNotFound", error_message="The API deployment ..."),
     "model_config"),
    ("azure-openai", dict(status=400, error_code="content_filter"), "content_filtered"),
    ("azure-openai", dict(status=429, error_code="429", error_message="Please retry after 7 seconds"), "throttled"),
    ("vllm", dict(status=400, error_type="BadRequestError",
                  error_message="This model's maximum context length is 4096 tokens"), "token_budget"),
    ("groq", dict(status=413, error_message="Request too large"), "token_budget"),
    ("groq", dict(status=498, error_message="flex tier capacity exceeded"), "throttled"),
]  # fmt: skip


@pytest.fixture(scope="module")
def tables(repo_root):
    packs = {pack for pack, _, _ in CASES}
    return {pack: load(repo_root / "specs" / "providers" / f"{pack}.yaml").spec.classification for pack in packs}


@pytest.mark.parametrize("pack, answer, expected", CASES)
def test_the_pack_classifies_its_providers_answer(tables, pack, answer, expected):
    assert classify(Observation(parser="error_envelope", **answer), tables[pack]).class_ == expected


def test_the_message_match_is_case_insensitive_and_plain_text(tables):
    answer = Observation(status=400, parser="error_envelope", error_message="contextwindowexceedederror: too long")
    assert classify(answer, tables["litellm"]).class_ == "token_budget"
    regex_like = Observation(status=400, parser="error_envelope", error_message="ContextWindow.*Error")
    assert classify(regex_like, tables["litellm"]).class_ != "token_budget"  # never read as a pattern
