"""`--env-file PATH`: a dotenv file read over the environment for one command, never written anywhere.

The parser on its own, then the commands: the values reach the spec through `environ` only, a
malformed line is a usage error naming file:line without quoting it, and a secret read from the file
is sent to the target and scrubbed from every report like any secret.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli.commands import main
from engine.core.errors import UsageError
from engine.load.envfile import read_env_file
from support.hostile import LEAKY, HostileServer, pieces
from support.provider import AlwaysOkServer

KEY = "sk-envfile-canary-Qm3Zx8Wv5Tn2"


def env_file(tmp_path: Path, text: str, name: str = ".env") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_the_dotenv_forms(tmp_path):
    path = env_file(
        tmp_path,
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "  SPACED = around the sign  \n"
        "SINGLE='as $HOME \\n written'\n"
        'DOUBLE="say \\"hi\\" \\\\ $HOME"\n'
        "COMMENTED=kept # dropped\n"
        "HASH=a#b\n"
        "EMPTY=\n"
        "EMPTY_COMMENT= # nothing\n"
        "QUOTED_COMMENT='x' # dropped\n"
        "EQUALS=a=b=c\n"
        "PLAIN=last one wins\n",
    )
    assert read_env_file(path) == {
        "PLAIN": "last one wins",
        "EXPORTED": "yes",
        "SPACED": "around the sign",
        "SINGLE": "as $HOME \\n written",
        "DOUBLE": 'say "hi" \\ $HOME',
        "COMMENTED": "kept",
        "HASH": "a#b",
        "EMPTY": "",
        "EMPTY_COMMENT": "",
        "QUOTED_COMMENT": "x",
        "EQUALS": "a=b=c",
    }


def test_a_byte_order_mark_and_crlf_line_ends_are_read(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfA=1\r\nB='2'\r\n")
    assert read_env_file(path) == {"A": "1", "B": "2"}


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("A=1\nsk-live-do-not-print\n", 2, "not a KEY=VALUE line"),
        ("A=1\n\n9LIVES=sk-live-do-not-print\n", 3, "not a KEY=VALUE line"),
        ("MY KEY=sk-live-do-not-print\n", 1, "not a KEY=VALUE line"),
        ('TOKEN="sk-live-do-not-print\n', 1, 'the value of TOKEN has no closing "'),
        ("TOKEN='sk-live-do-not-print'tail\n", 1, "the value of TOKEN has text after its closing '"),
    ],
)
def test_a_malformed_line_names_file_and_line_and_never_its_text(tmp_path, text, line, says):
    path = env_file(tmp_path, text)
    with pytest.raises(UsageError) as raised:
        read_env_file(path)
    assert str(raised.value).startswith(f"{path}:{line}: ") and says in str(raised.value)
    assert "do-not-print" not in str(raised.value)


def test_an_unreadable_or_undecodable_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read the env file"):
        read_env_file(tmp_path / "missing.env")
    path = tmp_path / "latin1.env"
    path.write_bytes(b"A=1\nB=caf\xe9\n")
    with pytest.raises(UsageError, match=r"latin1.env:2: the env file is not UTF-8"):
        read_env_file(path)


def test_a_malformed_env_file_exits_2_on_every_command(tmp_path, cometapi_spec):
    path = env_file(tmp_path, "GOOD=1\nsk-live-do-not-print\n")
    for command in ("validate", "lint", "plan", "run"):
        result = invoke(command, str(cometapi_spec), "--env-file", str(path))
        assert result.exit_code == 2, (command, result.output)
        assert f"error: {path}:2: not a KEY=VALUE line" in result.output
        assert "do-not-print" not in result.output and "Traceback" not in result.output


def test_validate_and_plan_read_declared_variables_from_the_file(tmp_path, child_spec, monkeypatch):
    monkeypatch.delenv("RUNBOOK_TEST_HOST", raising=False)
    spec = child_spec("env:\n  RUNBOOK_TEST_HOST: {}\ntargets:\n  live: {base_url: '{{ env.RUNBOOK_TEST_HOST }}'}\n")
    unset = invoke("validate", str(spec))
    assert unset.exit_code == 2 and "RUNBOOK_TEST_HOST is not set" in unset.output
    path = env_file(tmp_path, "RUNBOOK_TEST_HOST=https://from-the-file.example\n")
    assert invoke("validate", str(spec), "--env-file", str(path)).exit_code == 0
    planned = invoke("plan", str(spec), "--target", "live", "--only", "happy-path", "--env-file", str(path))
    assert planned.exit_code == 0, planned.output
    assert "from-the-file.example" in planned.output
    assert "RUNBOOK_TEST_HOST" not in os.environ  # laid over the environment for that command only


def written_text(folder: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(folder.rglob("*")) if path.is_file())


def test_run_sends_the_key_from_the_file_and_no_report_holds_it(tmp_path, child_spec, monkeypatch):
    """The server echoes the key it received in JSON keys, enum values and headers: every echo is
    scrubbed, so the key it got is the file's, and no 8-character piece of it is written."""
    monkeypatch.delenv("COMETAPI_API_KEY", raising=False)
    monkeypatch.delenv("COMETAPI_BASE_URL", raising=False)
    spec = child_spec(LEAKY, name="leaky")
    out = tmp_path / "out"
    with HostileServer() as server:
        path = env_file(tmp_path, f"# staging\nexport COMETAPI_API_KEY='{KEY}'\nCOMETAPI_BASE_URL={server.base_url}\n")
        result = invoke("run", str(spec), "--target", "live", "--only", "happy-path,leaky-error",
                        "--env-file", str(path), "--out", str(out))  # fmt: skip
    assert result.exit_code in (1, 4), result.output
    assert "needs COMETAPI_API_KEY" not in result.output
    reports = written_text(out)
    assert "[REDACTED]" in reports  # the server echoed the key it was sent: the file's
    leaked = sorted(piece for piece in pieces(KEY) if piece in reports + result.output)
    assert leaked == [], leaked
    assert "COMETAPI_API_KEY" not in os.environ and path.read_text().count(KEY) == 1  # nothing written back


def test_every_declared_secret_from_the_file_is_scrubbed(tmp_path, child_spec, monkeypatch):
    """A secret the spec declares besides the contract's own is scrubbed too, even when the server
    happens to send its value back (here, as the completion id the happy path captures)."""
    monkeypatch.delenv("COMETAPI_BASE_URL", raising=False)
    spec = child_spec("env:\n  SIGNING_TOKEN: {secret: true}\n", name="signed")
    out = tmp_path / "out"
    with AlwaysOkServer() as server:
        path = env_file(tmp_path, f"COMETAPI_API_KEY={KEY}\nCOMETAPI_BASE_URL={server.base_url}\n"
                                  "SIGNING_TOKEN=chatcmpl-1\n")  # fmt: skip
        result = invoke("run", str(spec), "--target", "live", "--only", "happy-path", "--format", "json",
                        "--env-file", str(path), "--out", str(out))  # fmt: skip
    assert result.exit_code in (1, 4), result.output
    reports = written_text(out)
    assert "chatcmpl-1" not in reports and "[REDACTED]" in reports
