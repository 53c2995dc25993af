"""Base URLs in a spec are checked without importing the HTTP stack; the verdicts match httpx's
reading of the same text, except where runbook is deliberately stricter."""

from __future__ import annotations

import httpx
import pytest

from engine.spec.values import _http_url

ACCEPTED = [
    "https://api.cometapi.com",
    "http://127.0.0.1:8080/",
    "http://[::1]:9/x",
    "http://host/ok%20x",
    "https://bücher.de",
    "http://xn--bcher-kva.de",
    "HTTP://HOST",
    "http://host:",
    "https://host/v1/",
    "http://host:65535/openai",
]
NOT_A_URL = [
    "ftp://x",
    "http://",
    "http:///path",
    "example.com/docs",
    "http://host:abc",
    "http://[::1",
    "http://host/pa th",
]
STRICTER_THAN_HTTPX = ["https://ex ample.com", "http://exa<mple.com", "http://host\\x", "http://ho%41st"]
PORT_OUT_OF_RANGE = ["http://host:0", "http://host:65536", "http://host:99999999", "http://[::1]:70000"]
SECRET_OR_VARIABLE = ["http://u:p@host", "http://token@host/v1", "http://host?x=1", "http://host#f", "http://host/v1?"]


def httpx_reads_it_as_an_http_url(text: str) -> bool:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


@pytest.mark.parametrize("text", ACCEPTED)
def test_a_plain_base_url_is_accepted_as_httpx_reads_it(text):
    assert httpx_reads_it_as_an_http_url(text)
    assert _http_url(text) == text.rstrip("/")


@pytest.mark.parametrize("text", NOT_A_URL)
def test_what_httpx_cannot_read_as_an_http_url_is_refused(text):
    assert not httpx_reads_it_as_an_http_url(text) or " " in text
    with pytest.raises(ValueError, match="is not an http"):
        _http_url(text)


@pytest.mark.parametrize("text", STRICTER_THAN_HTTPX)
def test_characters_no_host_name_holds_are_refused_though_httpx_would_encode_them(text):
    with pytest.raises(ValueError, match="is not an http"):
        _http_url(text)


@pytest.mark.parametrize("text", PORT_OUT_OF_RANGE)
def test_a_port_outside_the_range_is_named(text):
    with pytest.raises(ValueError, match="port outside 1-65535"):
        _http_url(text)


@pytest.mark.parametrize("text", SECRET_OR_VARIABLE)
def test_credentials_a_query_or_a_fragment_are_refused(text):
    with pytest.raises(ValueError, match="must not carry credentials"):
        _http_url(text)


def test_validating_a_spec_does_not_import_the_http_stack():
    import subprocess
    import sys

    code = (
        "import sys; from engine import api; from pathlib import Path; "
        "api.validate_specs([Path('specs/cometapi/chat-completions.yaml')]); "
        "print(sorted(m for m in ('httpx', 'httpcore', 'aiohttp', 'jinja2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "httpx" not in done.stdout and "aiohttp" not in done.stdout, done.stdout
