# newswatch — every target installs what it needs first (a .venv with pinned dependencies).
# Only python3 (3.11) is assumed on the machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UV     := $(BIN)/uv
UV_VERSION := 0.13.8
PYTEST_ARGS ?=
DATA ?=

.PHONY: help install run demo test test-fast lint format bench up down eval-extract eval-tagger clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "newswatch needs Python 3.11 (set PYTHON=python3.11)"; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)  ## create .venv with the pinned dependencies (idempotent)

lock:  ## re-pin requirements.lock from pyproject.toml
	$(UV) pip compile pyproject.toml --extra all --extra dev --python-version 3.11 -o requirements.lock

# `make run` uses ./newswatch.yaml (or $$NEWSWATCH_CONFIG) when present, else the example config.
RUN_CONFIG := $(if $(or $(wildcard newswatch.yaml),$(NEWSWATCH_CONFIG)),,--config deploy/newswatch.example.yaml)

run: $(STAMP)  ## the whole pipeline in one process, embedded runtime
	$(BIN)/newswatch run $(RUN_CONFIG)

demo: $(STAMP)  ## the offline demo newsroom, end to end
	$(BIN)/newswatch demo

lint: $(STAMP)  ## ruff (format + lint) and mypy
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy newswatch services

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Most server-backed tests wait (group joins, restarts) rather than compute, so three workers
# on two cores halve the wall time; --dist loadfile keeps a module's tests (and its module
# fixtures, such as the demo run) on one worker.
PYTEST_WORKERS ?= 3

test: lint  ## lint, then every test (unit, integration against real servers on loopback, e2e)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP)  ## unit tests only: no server-backed tests
	$(BIN)/pytest -q -m "not integration and not e2e and not slow" $(PYTEST_ARGS)

bench: $(STAMP)  ## benchmarks (bench/[!_]*.py; bench/_*.py are their shared helpers), as ratios against baselines measured in the same run
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

eval-extract: $(STAMP)  ## extraction quality on a gold folder (DATA=DIR, default ../shared/data/articles/scrapinghub_aeb)
	$(BIN)/python -m services.extractor.evaluate $(if $(DATA),--data $(DATA),)

eval-tagger: $(STAMP)  ## tagger quality on the dev set and, when present, ../shared/data/events/acled.csv
	$(BIN)/python -m services.extractor.tagging.evaluate

up:  ## the distributed runtime with docker compose (Kafka, Elasticsearch, Kibana, Mailpit, services)
	@test -f deploy/.env || { echo "cp deploy/.env.example deploy/.env and set the secrets first"; exit 1; }
	docker compose -f deploy/docker-compose.yml up -d --build

down:  ## stop the distributed runtime (volumes are kept; see deploy/README.md to reset)
	docker compose -f deploy/docker-compose.yml down

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
