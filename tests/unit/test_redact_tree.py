"""scrub_tree's one pass over the JSON text gives exactly what scrubbing string by string gives."""

from __future__ import annotations

import random

import pytest

from engine.core.redact import REDACTED, _pattern, _scrub_walk, scrub_tree

SECRETS = [
    ("sk-live-0123456789abcdef",),  # the usual key: the text pass
    ("123456789",),  # digits: they also match inside numbers, so the walk is taken
    ('pa"ss\\word',),  # a quote and a backslash: the walk
    ("ключ-секрет-1",),  # non-ASCII: the text pass
    ("true-value", "null"),  # words JSON itself uses
]


def _tree(rng: random.Random, secret: str, depth: int = 0):
    pick = rng.randrange(7 if depth < 4 else 4)
    if pick == 0:
        return f"before {secret.upper() if rng.random() < 0.3 else secret} after\n\t\u001b"
    if pick == 1:
        return rng.choice([123456789, 3.5, True, None, -12, "plain", "é\u2028x"])
    if pick == 2:
        return secret[: len(secret) // 2]  # half a secret is not a secret
    if pick == 3:
        return f'{secret}"{secret}\\'
    if pick == 4:
        return [_tree(rng, secret, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{index}{secret if rng.random() < 0.2 else ''}": _tree(rng, secret, depth + 1) for index in range(3)}


@pytest.mark.parametrize("secrets", SECRETS, ids=lambda secrets: secrets[0][:8])
def test_the_one_pass_scrubs_exactly_what_the_walk_scrubs(secrets):
    rng = random.Random(7)
    pattern = _pattern(secrets)
    for _ in range(200):
        tree = {"results": [_tree(rng, secrets[0]) for _ in range(3)], "n": 123456789}
        assert scrub_tree(tree, secrets) == _scrub_walk(tree, pattern)


def test_a_tree_without_secrets_is_returned_as_it_is():
    tree = {"a": [1, "x"]}
    assert scrub_tree(tree, ()) is tree and scrub_tree(tree, ("",)) is tree


def test_a_secret_is_gone_from_every_string_and_key():
    secret = "sk-live-0123456789abcdef"
    scrubbed = scrub_tree({secret: [f"x{secret}y", {"deep": secret.upper()}]}, (secret,))
    assert scrubbed == {REDACTED: [f"x{REDACTED}y", {"deep": REDACTED}]}
