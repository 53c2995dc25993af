"""The simulator in a process of its own (large runs): it serves like the threaded one, keeps its
key out of the process listing, stops when told or when its parent's pipe closes."""

from __future__ import annotations

import httpx
import pytest

from engine import api
from engine.core.profiles import SimProfile
from engine.core.providers import PROFILES
from engine.run import targets
from engine.sim import SimConfig
from engine.sim.process import SimProcess

KEY = "sk-sim-process-test-0123"


def test_it_serves_the_profile_and_stops():
    with SimProcess(SimConfig(keys=(KEY,), models=("gpt-4o-mini",), profile=PROFILES["mistral"])) as sim:
        process = sim._process
        assert process is not None and KEY not in " ".join(process.args)  # settings go through stdin
        answer = httpx.post(
            sim.base_url + "/v1/chat/completions",
            json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {KEY}"},
        )
        assert answer.status_code == 400 and answer.json()["type"] == "invalid_model"  # Mistral's body
    assert process.poll() is not None  # closing its stdin ended it


def test_a_child_that_cannot_start_is_a_clear_error():
    with pytest.raises(RuntimeError, match="did not start"):
        SimProcess(SimConfig(keys=(KEY,), profile=SimProfile("no-such-profile"))).start(timeout=15)


def test_a_run_on_the_simulator_process_is_judged_like_one_on_the_thread(monkeypatch, cometapi_spec):
    selection = api.Selection(only=("happy-path", "missing-auth", "invalid-role"))
    threaded = api.run(cometapi_spec, out_dir=None, selection=selection)
    monkeypatch.setattr(targets, "SIM_PROCESS_FROM", 1)
    own = api.run(cometapi_spec, out_dir=None, selection=selection)
    assert [(c.id, c.status) for c in own.results.checks] == [(c.id, c.status) for c in threaded.results.checks]
    assert {c.status for c in own.results.checks if c.selected} == {"passed"}
