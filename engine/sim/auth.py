"""Bearer-key authentication. Messages never repeat the key that was presented."""

from __future__ import annotations

import hmac

from engine.sim.errors import SimError


def check_auth(value: str | None, keys: tuple[str, ...], header: str = "authorization", scheme: str = "bearer") -> None:
    """Raise a 401 `SimError` unless the header carries a known key: `Bearer <key>`, or (scheme
    `key`, as Azure's `api-key`) the key alone.

    A missing (or blank) header gets an empty code, as CometAPI sends; a wrong scheme
    or an unknown key gets `invalid_api_key`.
    """
    expected = "'Bearer <key>'" if scheme == "bearer" else "the key"
    if value is None or not value.strip():
        raise SimError(
            401, f"Missing {header.title() if header == 'authorization' else header} header; expected {expected}"
        )
    presented, _, key = value.strip().partition(" ")
    if scheme == "key":
        presented, key = "bearer", value.strip()
    if presented.lower() != "bearer" or not _is_known(key.strip(), keys):
        raise SimError(401, "Invalid API key provided", code="invalid_api_key")


def _is_known(key: str, keys: tuple[str, ...]) -> bool:
    """Compare in constant time against every accepted key."""
    presented = key.encode("utf-8")
    matches = [hmac.compare_digest(presented, known.encode("utf-8")) for known in keys]
    return bool(key) and any(matches)
