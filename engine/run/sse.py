"""An incremental server-sent-events parser that follows the WHATWG event-stream rules.

Lines end in CRLF, LF or CR (a CRLF may be split across network chunks); one leading BOM is
stripped; lines starting with ':' are comments (keep-alives); `field: value` splits on the first
colon and drops one leading space; several `data` lines join with "\\n"; a blank line dispatches;
an event with no data is not dispatched; at the end of the stream an event without its blank line
is discarded. Only what a caller keeps stays in memory: the parser holds one line and one event.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import NamedTuple

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Event(NamedTuple):
    data: str
    event: str = "message"
    id: str | None = None


MAX_LINE = 1 << 20  # characters in one line; a longer one is dropped (and reported), never buffered
MAX_EVENT = 4 << 20  # characters of data in one event


@dataclass
class SSEParser:
    comments: int = 0  # keep-alive lines seen
    discarded_at_end: bool = False  # the stream ended inside an event
    overlong: int = 0  # lines (or events) dropped for being longer than MAX_LINE (MAX_EVENT)
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace")
    )
    _line: list[str] = field(default_factory=list)
    _data: list[str] = field(default_factory=list)
    _event: str = ""
    _id: str | None = None
    _after_cr: bool = False
    _started: bool = False
    _line_size: int = 0
    _data_size: int = 0
    _skipping: bool = False  # inside a line that was too long: dropped up to its line break
    _dropping_event: bool = False  # the current event's data grew past MAX_EVENT: dropped up to its end

    def feed(self, chunk: bytes) -> list[Event]:
        """Events completed by this chunk."""
        text = self._decoder.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        return self._consume(text)

    def close(self) -> list[Event]:
        """End of stream: flush the decoder; an unterminated event is discarded, not dispatched."""
        events = self._consume(self._decoder.decode(b"", final=True))
        if self._line:
            self._take_line("".join(self._line))
            self._line.clear()
        self.discarded_at_end = bool(self._data)
        self._data, self._event = [], ""
        return events

    def _consume(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._after_cr and text.startswith("\n"):  # the LF of a CRLF split across chunks
            text = text[1:]
        self._after_cr = False
        if "\r" in text:
            lines = _LINE_BREAK.split(text)
            self._after_cr = text.endswith("\r")
        else:  # the usual case: LF only, split in C
            lines = text.split("\n")
        partial = lines.pop()  # after the last line break: an unfinished line ("" when none)
        for line in lines:
            if self._line:
                line = "".join(self._line) + line
                self._line.clear()
            self._line_size = 0
            if self._skipping:  # the end of a line already dropped (and counted)
                self._skipping = False
            elif len(line) > MAX_LINE:
                self.overlong += 1
            elif line.startswith("data: "):  # the usual line: no field parsing
                self._add_data(line[6:])
            else:
                event = self._take_line(line)
                if event is not None:
                    events.append(event)
        if partial:
            self._keep_partial(partial)
        return events

    def _keep_partial(self, piece: str) -> None:
        """The unfinished last line, unless it has grown past MAX_LINE: then it is dropped, once."""
        if self._skipping:
            return
        self._line_size += len(piece)
        if self._line_size > MAX_LINE:
            self._line.clear()
            self._line_size, self._skipping = 0, True
            self.overlong += 1
            return
        self._line.append(piece)

    def _take_line(self, line: str) -> Event | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._add_data(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _add_data(self, value: str) -> None:
        if self._dropping_event:
            return
        self._data_size += len(value)
        if self._data_size > MAX_EVENT:
            self._data.clear()
            self._dropping_event = True
            self.overlong += 1
            return
        self._data.append(value)

    def _dispatch(self) -> Event | None:
        self._data_size, self._dropping_event = 0, False
        if not self._data:
            self._event = ""
            return None
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        event = Event(data, self._event or "message", self._id)
        self._data, self._event = [], ""
        return event
