"""Secrets never land anywhere (issue 11, failure 2): a server that echoes the key in JSON keys, enum-like
values, long headers cut to length, a whitespace-padded error page, upper-cased and URL-encoded, leaves
neither the key nor any 8-character piece of it in a report, a refreshed fixture, or the output."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from support.hostile import LEAKY, HostileServer, pieces

KEY = "sk-canary-Zq7Xw2Vt9Lm4Pr6Ns8Kd"


@pytest.fixture
def leaky(monkeypatch):
    with HostileServer() as server:
        monkeypatch.setenv("COMETAPI_BASE_URL", server.base_url)
        monkeypatch.setenv("COMETAPI_API_KEY", KEY)
        yield server


def written_text(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(folder.rglob("*")) if path.is_file())


def test_the_echoed_key_reaches_no_report_and_no_fixture(leaky, child_spec, tmp_path, capsys):
    spec = child_spec(LEAKY, name="leaky")
    outcome = api.run(spec, target="live", out_dir=tmp_path / "out", update_fixtures=True,
                      selection=api.Selection(only=("happy-path", "leaky-error")))  # fmt: skip
    checks = {c.id: c for c in outcome.results.checks if c.selected}
    assert checks["happy-path"].fixture is not None and checks["happy-path"].fixture.status == "updated"
    assert checks["leaky-error"].observed.status == 503 and checks["leaky-error"].observed.body_excerpt
    assert (tmp_path / "fixtures" / "happy-path.json").is_file()  # the refreshed fixture was written
    everything = written_text(tmp_path / "out") + written_text(tmp_path / "fixtures") + str(capsys.readouterr())
    leaked = sorted(piece for piece in pieces(KEY) if piece in everything)
    assert leaked == [], leaked
    assert "[REDACTED]" in written_text(tmp_path / "fixtures")  # the key in a JSON key and enum values
