"""The scheduling-latency probe: a window closed while the probed loop is blocked still counts the block."""

from __future__ import annotations

import asyncio
import threading
import time

from engine.core.latency import LatencyProbe


def test_a_window_closed_during_a_block_counts_the_block_so_far():
    loop = asyncio.new_event_loop()
    probe = LatencyProbe()
    started, blocking = threading.Event(), threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(lambda: (probe.start(), started.set()))
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(5)
    time.sleep(0.05)  # the probe is asleep in its loop
    window = probe.window()
    loop.call_soon_threadsafe(lambda: (blocking.set(), time.sleep(0.3)))  # the loop cannot wake the probe
    assert blocking.wait(5)
    time.sleep(0.15)
    late = probe.close(window)  # before the probe has woken to record anything
    asyncio.run_coroutine_threadsafe(probe.stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()
    assert late >= 0.1, late


def test_a_probe_that_is_not_running_adds_nothing_at_close():
    probe = LatencyProbe()
    window = probe.window()
    assert probe.close(window) == 0.0
