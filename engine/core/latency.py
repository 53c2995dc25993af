"""Scheduling latency: how late an event loop wakes from a short sleep.

On a busy machine a process can wait tens of milliseconds for a core. A timing judgement (a pause
against the policy's envelope, a call against its deadline) must not blame a client for that, so
drills measure the noise while they run and widen their slack by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

PROBE_INTERVAL = 0.005  # seconds between wake-ups


class LatencyProbe:
    """A task in one event loop that records its worst oversleep: overall, and per open window."""

    def __init__(self) -> None:
        self._worst = 0.0
        self._task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()  # read from other threads than the probe's loop
        self._windows: set[Window] = set()
        self._asleep_since: float | None = None  # when the probe's current sleep began (time.monotonic)

    def start(self) -> LatencyProbe:
        """Start in the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def worst(self) -> float:
        """The worst lateness (seconds) since the probe started."""
        with self._lock:
            return self._worst

    def window(self) -> Window:
        """Start recording the worst lateness from now on, for one of several things that run at once."""
        window = Window()
        with self._lock:
            self._windows.add(window)
        return window

    def close(self, window: Window) -> float:
        """The worst lateness since `window` was opened; it records no more. A sleep of the probe's
        that is overdue at this moment counts too: a loop blocked right up to the close has not woken
        to say so yet."""
        with self._lock:
            self._windows.discard(window)
            return max(window.worst, self._overdue())

    def _overdue(self) -> float:
        since = self._asleep_since
        return 0.0 if since is None else max(0.0, time.monotonic() - since - PROBE_INTERVAL)

    async def _watch(self) -> None:
        try:
            while True:
                before = self._asleep_since = time.monotonic()
                await asyncio.sleep(PROBE_INTERVAL)
                late = time.monotonic() - before - PROBE_INTERVAL
                with self._lock:
                    self._worst = max(self._worst, late)
                    for window in self._windows:
                        window.worst = max(window.worst, late)
        finally:
            self._asleep_since = None


class Window:
    """The worst lateness seen while one window was open (see LatencyProbe.window)."""

    __slots__ = ("worst",)

    def __init__(self) -> None:
        self.worst = 0.0
