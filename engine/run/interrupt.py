"""SIGINT and SIGTERM during a run: the first stops it cleanly, a second one (a second later) aborts.

A stopped run keeps what it gathered: the checks and drills that finished are judged and written,
the rest are reported as not run, and the results say `interrupted`. Exit codes follow the shell's
convention, 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
REPEAT_WINDOW = 1.0  # seconds: a repeat this soon is the same request delivered twice

# What `signal.signal` takes and gives back (typeshed's private `_HANDLER`).
Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class Interruption:
    """Context manager that turns the first SIGINT/SIGTERM into a request to stop."""

    def __init__(self, install: bool = True) -> None:
        self._install = install  # False: the caller handles the signals (runbook watch stops between runs)
        self.signal: signal.Signals | None = None
        self._on_signal: Callable[[], object] | None = None
        self._previous: dict[signal.Signals, Handler] = {}
        self._first_at = 0.0

    @property
    def name(self) -> str | None:
        return self.signal.name if self.signal is not None else None

    def __enter__(self) -> Interruption:
        if self._install and threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @contextmanager
    def calling(self, on_signal: Callable[[], object], loop: asyncio.AbstractEventLoop | None = None) -> Iterator[None]:
        """While inside, a signal also calls `on_signal` (for example: cancel the running task).

        With `loop`, the signals are delivered through the loop's own wake-up (as asyncio's
        add_signal_handler does), so a loop waiting on sockets reacts at once.
        """
        self._on_signal = on_signal
        watched = self._watch(loop)
        try:
            if self.signal is not None:
                on_signal()
            yield
        finally:
            self._on_signal = None
            if watched is not None:
                self._unwatch(watched)

    def _watch(self, loop: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop | None:
        """The loop now delivering the signals (None: none does)."""
        if loop is None or not self._previous:  # not installed: not the main thread
            return None
        for sig in SIGNALS:
            loop.add_signal_handler(sig, self._handle, sig, None)
        return loop

    def _unwatch(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)  # resets to the default handler ...
            signal.signal(sig, self._handle)  # ... so ours goes back until __exit__

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signal is not None:
            if time.monotonic() - self._first_at > REPEAT_WINDOW:
                raise Aborted(self.signal.name)  # asked again: stop waiting for a clean end
            return  # the same signal sent twice at once (a wrapper and its process group)
        self.signal, self._first_at = signal.Signals(signum), time.monotonic()
        if self._on_signal is not None:
            self._on_signal()


class Aborted(BaseException):
    """A second SIGINT/SIGTERM: the run stops now, without results (like KeyboardInterrupt)."""

    def __init__(self, signal_name: str):
        super().__init__(signal_name)
        self.signal_name = signal_name


def exit_code(signal_name: str) -> int:
    return 128 + signal.Signals[signal_name].value
