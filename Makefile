# Two commands matter (see README.md):
#   make demo   creates .venv, starts the local Stripe emulator and loads the last 7 days of every asset
#   make test   creates .venv and runs the whole test suite (what CI runs)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EMULATOR_PORT ?= 12111
EMULATOR_KEY ?= sk_test_emulator
DAYS ?= 7
PYTEST_ARGS ?=
# Two test processes: most slow tests wait on subprocesses, servers and the emulator's latency,
# so two workers keep both cores busy (`make test PYTEST_WORKERS=0` runs in one process).
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=15

export DAGSTER_HOME := $(CURDIR)
# The demo and `make dev` always talk to the local emulator, whatever the shell has set.
DEMO_ENV := STRIPE_API_KEY=$(EMULATOR_KEY) STRIPE_API_BASE=http://127.0.0.1:$(EMULATOR_PORT)

.PHONY: demo test test-quick lint dev emulator install bench clean

$(BIN)/.installed: pyproject.toml emulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -e ./emulator
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	@mkdir -p data
	@$(BIN)/python -m stripe_assets.operations.demo --port $(EMULATOR_PORT) --api-key $(EMULATOR_KEY) --days $(DAYS)

# The quality gate: ruff (rules in pyproject.toml) and mypy with the pydantic plugin.
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(PYTEST) $(PYTEST_ARGS)

test-quick: lint
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

emulator: $(BIN)/.installed
	$(BIN)/stripe-assets emulator --port $(EMULATOR_PORT) --api-key $(EMULATOR_KEY)

# Safe to leave running: the emulator serves the last 30 days, while the shipped dataflows
# backfill from history_start, so every schedule starts STOPPED here (turn one on in the UI, or
# launch a backfill of the days the emulator serves).
dev: $(BIN)/.installed
	@mkdir -p data
	@echo "make dev: schedules start STOPPED (the emulator serves the last 30 days); turn them on in the UI"
	$(BIN)/stripe-assets emulator --port $(EMULATOR_PORT) --api-key $(EMULATOR_KEY) & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(DEMO_ENV) STRIPE_ASSETS_SCHEDULES=stopped $(BIN)/dg dev -w workspace.yaml

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/emulator.py
	$(BIN)/python benchmarks/validation.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/rate_limit.py
	$(BIN)/python benchmarks/concurrent_writes.py
	$(BIN)/python benchmarks/changes.py
	$(BIN)/python benchmarks/cpu.py
	$(BIN)/python benchmarks/decode.py

clean:
	rm -rf $(VENV) data/stripe.duckdb data/stripe.duckdb.lock history schedules storage logs
