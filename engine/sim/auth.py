"""Bearer-key authentication. Messages never repeat the key that was presented."""

from __future__ import annotations

import hmac

from engine.sim.errors import SimError


def check_auth(value: str | None, keys: tuple[str, ...], header: str = "authorization", scheme: str = "bearer") -> None:
    """Raise `missing_auth` or `invalid_key` unless the header carries a known key: `Bearer <key>`, or (scheme
    `key`, as Azure's `api-key`) the key alone.

    A missing (or blank) header is `missing_auth`; a wrong scheme or an unknown key is `invalid_key`
    (the profile says how each is answered: CometAPI's 401 with an empty code, or `invalid_api_key`).
    """
    expected = "'Bearer <key>'" if scheme == "bearer" else "the key"
    if value is None or not value.strip():
        raise SimError(
            "missing_auth", header=header.title() if header == "authorization" else header, expected=expected
        )
    presented, _, key = value.strip().partition(" ")
    if scheme == "key":
        presented, key = "bearer", value.strip()
    if presented.lower() != "bearer" or not _is_known(key.strip(), keys):
        raise SimError("invalid_key")


def _is_known(key: str, keys: tuple[str, ...]) -> bool:
    """Compare in constant time against every accepted key."""
    presented = key.encode("utf-8")
    matches = [hmac.compare_digest(presented, known.encode("utf-8")) for known in keys]
    return bool(key) and any(matches)
