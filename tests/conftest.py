import pytest

from engine.sim import SimConfig, SimServer

SIM_KEY = "sk-test-known-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def sim_server():
    """One simulator on an ephemeral loopback port for the whole session."""
    with SimServer(SimConfig(keys=(SIM_KEY,), models=("gpt-4o-mini",))) as server:
        yield server


PROVIDER_KEY = "sk-provider-known-secret-0123456789"


@pytest.fixture(scope="session")
def provider():
    """A well-behaved OpenAI-compatible provider that is not runbook's simulator (llmock behind a gateway)."""
    from support.provider import WellBehavedProvider

    with WellBehavedProvider(keys=(PROVIDER_KEY,), models=("gpt-4o-mini",)) as server:
        yield server
