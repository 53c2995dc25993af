"""Terminal manners for `runbook run`: progress on stderr, and colour only where it belongs.

On a terminal (stderr is a TTY) one live line is rewritten in place as each check and drill
finishes: done/total, failures so far, the item that finished last; it is cleared before anything
else is printed. Elsewhere (CI, pipes, files) each finished item gets one plain line. A drill of a
client under test runs in real time, so it keeps a line of its own on a terminal too.

Colour only on a TTY, without NO_COLOR (any value: https://no-color.org) and with a TERM that is
not "dumb". Every text from a spec or a server is escaped before it is shown (like `say`), and
colour is added after escaping, so an ESC from a server never reaches the terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TextIO

from engine.api import ProgressEvent
from engine.core.redact import printable

CLEAR_LINE = "\r\x1b[K"  # back to the line's start, erase to its end
_SGR = {"green": "32", "red": "31", "yellow": "33"}
_STATUS = {
    "passed": ("passed", "green"),
    "failed": ("FAILED", "red"),
    "error": ("ERROR", "red"),
    "skipped": ("skipped", "yellow"),
}
_MARK = re.compile(r"^  (PASS|FAIL|ERR|NOT MET) ")  # the summary's item and criterion marks
_MARK_COLOUR = {"PASS": "green", "FAIL": "red", "ERR": "red", "NOT MET": "red"}

Part = tuple[str, str | None]  # text already escaped, and its colour (None: none)


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):  # not a file, or a closed one
        return False


def colour_enabled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for `stream`: only a TTY, without NO_COLOR set (to anything) and with a TERM that is not dumb."""
    environ = os.environ if environ is None else environ
    return is_tty(stream) and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"


def paint(text: str, colour: str | None) -> str:
    return f"\x1b[{_SGR[colour]}m{text}\x1b[0m" if colour and text else text


def paint_summary_line(line: str) -> str:
    """A summary line, already escaped, with its PASS/FAIL mark or the verdict coloured."""
    if line.startswith("Verdict: "):
        ready, not_ready = line.startswith("Verdict: READY"), line.startswith("Verdict: NOT READY")
        return paint(line, "green" if ready else "red" if not_ready else "yellow")
    mark = _MARK.match(line)
    if mark is None:
        return line
    return f"  {paint(mark.group(1), _MARK_COLOUR[mark.group(1)])}{line[mark.end(1) :]}"


def shown_lines(lines: Sequence[str], colour: bool) -> str:
    """Lines as the terminal gets them: escaped line by line like `say` (a line that holds a newline
    is escaped piece by piece), then, with colour, each line's mark or the verdict painted."""
    shown: list[str] = []
    for line in lines:
        first, *rest = (printable(piece) for piece in line.split("\n"))
        shown += [paint_summary_line(first) if colour else first, *rest]
    return "\n".join(shown)


def terminal_width(stream: TextIO) -> int:
    """Columns of the terminal `stream` writes to: COLUMNS if set, else the stream's own terminal, else
    what shutil.get_terminal_size says (it asks stdout, which may be a pipe while stderr is not)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        size = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        size = 0
    return size if size > 0 else shutil.get_terminal_size().columns


def _cells(text: str) -> int:
    """How many terminal columns `text` takes (wide characters two, combining marks none)."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str, room: int) -> str:
    """`text` cut to `room` columns, with an ellipsis where it was cut."""
    if _cells(text) <= room:
        return text
    kept, used = [], 0
    for ch in text:
        if used + _cells(ch) > room - 1:
            break
        kept.append(ch)
        used += _cells(ch)
    return "".join(kept) + "…" if room > 0 else ""


def render(parts: Sequence[Part], width: int | None = None, colour: bool = False) -> str:
    """The parts as one line, at most `width` columns (None: any width), coloured only with `colour`."""
    shown, room = [], width
    for text, tint in parts:
        piece = text if room is None else _clip(text, room)
        shown.append(paint(piece, tint) if colour else piece)
        if room is not None:
            room -= _cells(piece)
            if piece != text or room <= 0:
                break
    return "".join(shown)


def _status(event: ProgressEvent) -> Part:
    return _STATUS[event.status]


def item_parts(event: ProgressEvent) -> list[Part]:
    """One finished item: `  [3/47] check missing-auth: passed (401 3ms)`."""
    detail = f" ({printable(event.detail)})" if event.detail else ""
    return [
        (f"  [{event.done}/{event.total}] {event.kind} {printable(event.id)}: ", None),
        _status(event),
        (detail, None),
    ]


def live_parts(event: ProgressEvent) -> list[Part]:
    """The live line: `[12/47] 1 failed · drill retry-jitter: passed (3x → success)`."""
    failures = event.failures_so_far
    return [
        (f"[{event.done}/{event.total}] ", None),
        (f"{failures} failed", "red" if failures else None),
        (f" · {event.kind} {printable(event.id)}: ", None),
        _status(event),
        (f" ({printable(event.detail)})" if event.detail else "", None),
    ]


class ProgressPrinter:
    """Shows each ProgressEvent on `stream`: on a TTY (`live`) one line rewritten in place, else one
    plain line per item. Progress is for display only: a stream that refuses a write ends it, not the run."""

    def __init__(self, stream: TextIO, live: bool, colour: bool = False, width: Callable[[], int] | None = None):
        self.stream, self.live, self.colour = stream, live, colour
        self.width = width or (lambda: terminal_width(stream))
        self.showing = False  # the live line is on the screen
        self.broken = False

    @classmethod
    def on(cls, stream: TextIO, environ: Mapping[str, str] | None = None) -> ProgressPrinter:
        live = is_tty(stream)
        return cls(stream, live, colour=live and colour_enabled(stream, environ))

    def __call__(self, event: ProgressEvent) -> None:
        if not self.live:
            self._write(render(item_parts(event)) + "\n")
            return
        width = max(1, self.width() - 1)  # the last column would wrap on some terminals
        kept = render(item_parts(event), width, self.colour) + "\n" if event.client is not None else ""
        self._write(CLEAR_LINE + kept + render(live_parts(event), width, self.colour))
        self.showing = True

    def clear(self) -> None:
        """Erase the live line, so what is printed next starts on a clean line."""
        if self.showing:
            self._write(CLEAR_LINE)
            self.showing = False

    def _write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream
            self.broken = True


@contextmanager
def progress_on(stream: TextIO, enabled: bool = True) -> Iterator[ProgressPrinter | None]:
    """A printer for the run's progress (None when not enabled); its live line is cleared however
    the run ends (finished, interrupted, aborted or failed)."""
    if not enabled:
        yield None
        return
    printer = ProgressPrinter.on(stream)
    try:
        yield printer
    finally:
        printer.clear()
