"""The small public surface: every advertised name exists, and nothing private is advertised."""

import importlib

import pytest


@pytest.mark.parametrize("module", ["engine.api", "engine.sim", "engine.report"])
def test_all_names_exist_and_are_public(module):
    loaded = importlib.import_module(module)
    assert loaded.__all__, f"{module} advertises nothing"
    for name in loaded.__all__:
        assert hasattr(loaded, name), f"{module}.__all__ names missing {name}"
        assert not name.startswith("_")


def test_api_offers_every_stage_the_cli_uses():
    from engine import api

    assert {"validate_specs", "load", "plan", "run", "serve_simulator", "write_reports"} <= set(api.__all__)
