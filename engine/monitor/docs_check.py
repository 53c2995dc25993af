"""`runbook docs-check`: has the provider's reference page changed since its digest was recorded?

The spec's `contract.docs` is fetched (GET, redirects followed up to 5, at most 5 MB, 15 s in all);
its body, with line ends made uniform and trailing whitespace dropped, is hashed with SHA-256 and
compared with the digest recorded next to the spec's fixtures (`<fixtures>/docs-digest.json`).
A page that cannot be fetched is "unreachable", never "unchanged".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx

from engine.core.redact import printable

MAX_BYTES = 5_000_000
TIMEOUT = 15.0
DIGEST_FILE = "docs-digest.json"

Status = Literal["unchanged", "changed", "recorded", "unreachable", "not_recorded"]


@dataclass(frozen=True)
class DocsCheck:
    status: Status
    url: str
    message: str  # one line for the terminal
    digest: str | None = None  # the page's digest now (None: not fetched)


def docs_check(url: str, digest_file: Path, record: bool = False) -> DocsCheck:
    """Fetch `url` and compare (or, with `record`, store) its digest in `digest_file`."""
    try:
        body = _fetch(url)
    except (httpx.HTTPError, _TooLarge, _NotOk) as exc:
        return DocsCheck("unreachable", url, f"not verified: {url} could not be fetched ({printable(str(exc))[:200]})")
    digest = _digest(body)
    if record:
        _write(digest_file, url, digest, len(body))
        return DocsCheck("recorded", url, f"recorded the digest of {url} in {digest_file} (commit it)", digest)
    recorded = _read(digest_file)
    if recorded is None or recorded.get("url") != url:
        message = f"not verified: no digest of {url} is recorded in {digest_file} (runbook docs-check --record)"
        return DocsCheck("not_recorded", url, message, digest)
    if recorded.get("sha256") == digest:
        return DocsCheck("unchanged", url, f"unchanged: {url} (recorded {recorded.get('recorded', '?')})", digest)
    message = f"changed: {url} differs from its digest recorded {recorded.get('recorded', '?')}; run the release gate"
    return DocsCheck("changed", url, message, digest)


class _TooLarge(Exception):
    pass


class _NotOk(Exception):
    pass


def _fetch(url: str) -> bytes:
    with httpx.Client(follow_redirects=True, max_redirects=5, timeout=TIMEOUT, trust_env=True) as client:
        with client.stream("GET", url, headers={"accept": "text/html, text/plain, */*"}) as response:
            if response.status_code != 200:
                raise _NotOk(f"HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise _TooLarge(f"over {MAX_BYTES:,} bytes")
                chunks.append(chunk)
    return b"".join(chunks)


def _digest(body: bytes) -> str:
    lines = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return hashlib.sha256(b"\n".join(line.rstrip() for line in lines).strip()).hexdigest()


def _read(path: Path) -> dict[str, str] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _write(path: Path, url: str, digest: str, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = {"url": url, "sha256": digest, "bytes": size, "recorded": recorded}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
