# Developer entry points. `make run` and `make test` work on a fresh machine with Python 3.11.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run demo test test-unit test-sqlite test-postgres test-privacy lint services bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## run: install, initialise ./var (SQLite, example chain) and serve the API and console
run: install
	$(BIN)/broker init
	$(BIN)/broker serve --host $(HOST) --port $(PORT)

## demo: the broker's story through its HTTP API
demo: install
	$(BIN)/broker init
	$(BIN)/broker demo

## test: the whole suite: unit, integration on SQLite, integration on PostgreSQL+Redis, privacy scan
test: install services
	rm -rf test-artifacts
	$(BIN)/pytest tests --ignore=tests/privacy
	BROKER_TEST_BACKEND=postgres $(BIN)/pytest tests/integration tests/e2e/test_two_processes.py
	$(BIN)/pytest tests/privacy

test-unit: install
	$(BIN)/pytest tests/unit

lint: install
	$(BIN)/ruff check broker keys consent connectors policies tests bench
	$(BIN)/mypy broker keys consent connectors

## services: make sure PostgreSQL and Redis answer on loopback (starts them when possible)
services:
	bash .ci/services

bench: install services
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
