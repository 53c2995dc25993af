# runbook — two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SPEC   ?= specs/cometapi/chat-completions.yaml

.PHONY: demo test bench install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## Run the shipped CometAPI spec against the built-in simulator and write reports/.
## runbook's exit code is the verdict (0 ready, 1 not ready, 4 not verified or partial); the demo
## itself fails only when runbook could not produce a verdict (2 bad spec or usage, 3 engine failure).
demo: $(VENV)/.installed
	@$(BIN)/runbook run $(SPEC); code=$$?; \
	echo "runbook exit code $$code (0 ready, 1 not ready, 2 invalid spec, 3 engine failure, 4 not verified or partial)"; \
	[ $$code -le 1 ] || [ $$code -eq 4 ]

## Run the whole test suite.
test: $(VENV)/.installed-dev
	$(BIN)/pytest

## Benchmarks (not timed tests): runbook vs a plain httpx loop, medians of one run.
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_sse.py

clean:
	rm -rf $(VENV) build *.egg-info reports/*.html reports/*.md reports/*.json
