"""Bearer-key authentication. Messages never repeat the key that was presented."""

from __future__ import annotations

import hmac

from engine.sim.errors import SimError


def check_auth(authorization: str | None, keys: tuple[str, ...]) -> None:
    """Raise a 401 `SimError` unless `authorization` is `Bearer <key>` with a known key.

    A missing (or blank) header gets an empty code, as CometAPI sends; a wrong scheme
    or an unknown key gets `invalid_api_key`.
    """
    if authorization is None or not authorization.strip():
        raise SimError(401, "Missing Authorization header; expected 'Bearer <key>'")
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not _is_known(key.strip(), keys):
        raise SimError(401, "Invalid API key provided", code="invalid_api_key")


def _is_known(key: str, keys: tuple[str, ...]) -> bool:
    """Compare in constant time against every accepted key."""
    presented = key.encode("utf-8")
    matches = [hmac.compare_digest(presented, known.encode("utf-8")) for known in keys]
    return bool(key) and any(matches)
