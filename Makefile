# The two commands a newcomer needs:  make run  (the demo stack)  and  make test  (everything).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export SVC_STATE_DIR ?= $(CURDIR)/var

.PHONY: run down test unit e2e lint deps asterisk-down clean bench

$(BIN)/orchestrator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

deps: $(BIN)/orchestrator
	./deploy/install-system-deps.sh

## Bring up the whole stack on loopback -- Asterisk 22, Redis, live controller, REST API, recordings
## worker -- and apply the demo plan (first run: ~1-2 min to get Asterisk). Then: orchestrator status.
run: deps
	$(BIN)/orchestrator run

## Stop everything `make run` started.
down:
	$(BIN)/orchestrator stack down

## SVC_TEST_NOW=2026-12-25T10:00:00+01:00 make test: the tests as if the machine's clock showed
## that moment (libfaketime on the tests, Asterisk and every process they start: docs/testing.md).
AT := $(if $(SVC_TEST_NOW),$(BIN)/python -m tests.harness.at $(SVC_TEST_NOW))

## The whole suite: unit, store, golden files and end-to-end tests with real SIP calls.
test: deps
	$(AT) $(BIN)/pytest -q -p no:cacheprovider

unit: deps
	$(AT) $(BIN)/pytest -q tests/unit tests/store

e2e: deps
	$(AT) $(BIN)/pytest -q tests/e2e

lint: deps
	$(BIN)/ruff check orchestrator tests
	$(BIN)/mypy orchestrator
	$(BIN)/lint-imports

## Benchmarks against bare Asterisk (not tests): writes BENCHMARKS.md and benchmarks.png.
## ~30-35 min as the issue asks (30 s per load step); BENCH_SECONDS=10 BENCH_SIZES=1000,10000 for ~15 min.
$(VENV)/.bench-deps: pyproject.toml | $(BIN)/orchestrator
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@

bench: deps $(VENV)/.bench-deps
	$(BIN)/python -m tests.bench.run

asterisk-down:
	$(BIN)/orchestrator asterisk down

clean:
	rm -rf $(VENV) var
