"""Simulator modes (engine/sim/modes.py): a running simulator switched to failing and back, in process."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from engine.core.providers import PROFILES
from engine.sim import SimConfig, create_app
from engine.sim.config import modes_of, situation_of

KEY = "sk-sim-modes-4c1d"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = "/v1/chat/completions"
HELLO = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def client(**config: object) -> TestClient:
    return TestClient(create_app(SimConfig(keys=(KEY,), **config)))  # type: ignore[arg-type]


def switch(sim: TestClient, mode: str, headers: dict[str, str] = AUTH) -> dict[str, object]:
    answer = sim.put("/_runbook/mode", json={"mode": mode}, headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_a_simulator_answers_normally_until_switched_then_every_api_request_gets_the_error() -> None:
    sim = client()
    assert sim.post(CHAT, json=HELLO, headers=AUTH).status_code == 200
    assert switch(sim, "invalid_key")["mode"] == "invalid_key"
    failed = sim.post(CHAT, json=HELLO, headers=AUTH)
    assert failed.status_code == 401 and failed.json()["error"]["code"] == "invalid_api_key"
    assert "(request id: " in failed.json()["error"]["message"]  # CometAPI's own shape, from its profile
    assert sim.get("/v1/models", headers=AUTH).status_code == 401
    assert sim.get("/_runbook/mode", headers=AUTH).json()["mode"] == "invalid_key"
    switch(sim, "normal")
    assert sim.post(CHAT, json=HELLO, headers=AUTH).status_code == 200


def test_an_error_mode_answers_in_the_profiles_shape() -> None:
    sim = client(profile=PROFILES["openai"])
    switch(sim, "overloaded")
    failed = sim.post(CHAT, json=HELLO, headers=AUTH)
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "server_is_overloaded"


def test_the_starting_mode_comes_from_the_config_and_get_lists_every_mode() -> None:
    sim = client(mode="internal")
    assert sim.post(CHAT, json=HELLO, headers=AUTH).status_code == 500
    listed = sim.get("/_runbook/mode", headers=AUTH).json()
    assert listed == {"mode": "internal", "modes": list(modes_of(PROFILES["cometapi"]))}
    assert listed["modes"][0] == "normal" and "invalid_key" in listed["modes"]


def test_the_control_route_needs_an_accepted_key_in_the_profiles_header() -> None:
    sim = client()
    assert sim.put("/_runbook/mode", json={"mode": "invalid_key"}).status_code == 401
    assert (
        sim.put("/_runbook/mode", json={"mode": "internal"}, headers={"Authorization": "Bearer sk-other"}).status_code
        == 401
    )
    assert sim.get("/_runbook/mode").status_code == 401
    assert sim.get("/_runbook/mode", headers=AUTH).json()["mode"] == "normal"  # nothing switched it
    azure = client(profile=PROFILES["azure-openai"])
    assert azure.put("/_runbook/mode", json={"mode": "internal"}, headers=AUTH).status_code == 401
    assert switch(azure, "internal", headers={"api-key": KEY})["mode"] == "internal"


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"mode": "invalid_kye"}', "did you mean 'invalid_key'?"),
        (b'{"mode": 3}', '{"mode": NAME}'),
        (b"not json", '{"mode": NAME}'),
        (b'["invalid_key"]', '{"mode": NAME}'),
        (b'{"mode": "' + b"x" * 5000 + b'"}', "at most 4096 bytes"),
    ],
)
def test_a_bad_mode_request_is_a_400_that_says_why_and_switches_nothing(body: bytes, said: str) -> None:
    sim = client()
    answer = sim.put("/_runbook/mode", content=body, headers=AUTH)
    assert answer.status_code == 400 and said in answer.json()["error"]["message"]
    assert sim.get("/_runbook/mode", headers=AUTH).json()["mode"] == "normal"


def test_a_mode_the_profile_lacks_is_refused_at_start_and_when_switching() -> None:
    with pytest.raises(ValueError, match="unknown simulator mode 'overloaded'"):
        SimConfig(keys=(KEY,), mode="overloaded")  # CometAPI's profile has no overloaded error
    assert situation_of("normal", PROFILES["cometapi"]) is None
    assert situation_of("overloaded", PROFILES["openai"]) == "overloaded"
    sim = client()
    assert sim.put("/_runbook/mode", json={"mode": "unknown_deployment"}, headers=AUTH).status_code == 400
