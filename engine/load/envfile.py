"""Read a dotenv file (`--env-file PATH`): the values a command lays over the process environment.

The format, one assignment a line:

    # a comment line, and blank lines, are skipped
    KEY=value                  the value runs to the end of the line, or to ` #` (a comment)
    export KEY=value           `export ` in front is allowed and ignored
    KEY='single quoted'        taken as written: no escapes, no comment inside
    KEY="double quoted"        as written, except `\\"` and `\\\\` for a quote and a backslash

There is no interpolation (`$OTHER` stays as written) and no multi-line value. A malformed line is a
UsageError naming file:line, never quoting the line: it may hold a secret. The file is only read.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.core.errors import UsageError

MAX_ENV_FILE_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPORT = re.compile(r"export\s+")
_COMMENT = re.compile(r"(?:^|\s)#")  # `KEY=value # note`; a `#` inside a word (`a#b`) is part of the value


def read_env_file(path: Path) -> dict[str, str]:
    """Every KEY=VALUE of the file, in order (a key given twice keeps its last value)."""
    values: dict[str, str] = {}
    for number, line in enumerate(_read_lines(path), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, value = _assignment(stripped, f"{path}:{number}")
        values[key] = value
    return values


def _read_lines(path: Path) -> list[str]:
    try:
        raw = Path(path).read_bytes()[: MAX_ENV_FILE_BYTES + 1]
    except OSError as exc:
        raise UsageError(f"cannot read the env file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_ENV_FILE_BYTES:
        raise UsageError(f"the env file {path} is over {MAX_ENV_FILE_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UsageError(f"{path}:{line}: the env file is not UTF-8") from None
    return text.splitlines()


def _assignment(text: str, where: str) -> tuple[str, str]:
    """(KEY, value) of one non-comment line; `where` (file:line) names it in a UsageError."""
    text = _EXPORT.sub("", text, count=1) if _EXPORT.match(text) else text
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not _NAME.fullmatch(key):
        raise UsageError(f"{where}: not a KEY=VALUE line (KEY is letters, digits and _, not starting with a digit)")
    rest = rest.lstrip()
    if rest[:1] in ("'", '"'):
        return key, _quoted(rest, key, where)
    return key, _COMMENT.split(rest, maxsplit=1)[0].rstrip()


def _quoted(text: str, key: str, where: str) -> str:
    quote, value, index = text[0], [], 1
    while index < len(text) and text[index] != quote:
        if quote == '"' and text[index] == "\\" and text[index + 1 : index + 2] in ('"', "\\"):
            index += 1
        value.append(text[index])
        index += 1
    if index >= len(text):
        raise UsageError(
            f"{where}: the value of {key} has no closing {quote} on its line (multi-line values are not read)"
        )
    after = text[index + 1 :].strip()
    if after and not after.startswith("#"):
        raise UsageError(f"{where}: the value of {key} has text after its closing {quote}")
    return "".join(value)
