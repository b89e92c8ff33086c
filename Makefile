# The two set-up commands: `make run` (demo pipeline) and `make test` (test suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export DO_NOT_TRACK := 1
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: run test dev demo lint lock clean dashboard screenshots

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Exact versions come from the lock files; the project itself installs editable.
$(VENV)/.runtime: $(BIN)/uv pyproject.toml requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# The dev lock is complete on its own (runtime + dev tools + the Spark engine, resolved together).
$(VENV)/.dev: $(BIN)/uv pyproject.toml requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

demo/generator.json: | $(VENV)/.runtime
	$(BIN)/productops demo

run: $(VENV)/.runtime $(DAGSTER_HOME)/dagster.yaml demo/generator.json
	$(BIN)/productops run --demo

# Two workers, one test module each at a time (module fixtures such as a demo run stay shared).
PYTEST_WORKERS ?= 2
test: $(VENV)/.dev
	$(BIN)/ruff check ingestion orchestration dashboard tests benchmarks
	$(BIN)/sqlfluff lint dbt_project/models --processes 2
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

dev: $(VENV)/.runtime $(DAGSTER_HOME)/dagster.yaml demo/generator.json
	$(BIN)/dagster dev -m orchestration.definitions

# The dashboard on the published marts (after `make run`): http://127.0.0.1:8501
dashboard: $(VENV)/.runtime
	$(BIN)/productops dashboard

# Regenerate the README's dashboard pictures (docs/images/) on the demo, timing each page's first render.
screenshots: run $(VENV)/.dev
	$(BIN)/python -m benchmarks.dashboard_render --rounds 1 --team payments --screenshots docs/images

demo: $(VENV)/.runtime
	$(BIN)/productops demo

lint: $(VENV)/.dev
	$(BIN)/ruff check ingestion orchestration dashboard tests benchmarks
	$(BIN)/ruff format --check ingestion orchestration dashboard tests
	$(BIN)/sqlfluff lint dbt_project/models --processes 2

# The benchmark: `make bench SCALE=M` (S, M, L or a demo scale factor); figures in benchmarks/output/.
SCALE ?= S
.PHONY: bench
bench: $(VENV)/.runtime
	$(BIN)/python -m benchmarks --scale $(SCALE)

# Re-resolve the lock files after changing pyproject.toml.
lock: $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -o requirements.lock --quiet
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --extra dev --extra spark -o requirements-dev.lock --quiet

clean:
	rm -rf $(VENV) warehouse demo .dagster dbt_project/target dbt_project/logs test-output
