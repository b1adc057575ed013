# Entry points: `make demo` (the example DAGs against the local simulator), `make demo-events`
# (new samples start DAG runs through a real scheduler and triggerer), `make demo-distributed`
# (the same on CeleryExecutor with a triggerer killed mid-wait) and `make test`.
# All build .venv on first use from the pinned constraints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: venv demo demo-events demo-distributed test lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet \
		-c requirements/constraints.txt -e ".[test,lint,upload]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# event scheduling needs a real scheduler and triggerer (about a minute)
demo-events: $(STAMP)
	$(BIN)/python scripts/demo_events.py

# CeleryExecutor, Postgres, Redis, 2 workers, 2 triggerers on loopback; one triggerer killed mid-wait.
# Celery and the Postgres drivers come from requirements/distributed.txt (pinned, on top of constraints).
DIST_STAMP := $(VENV)/.distributed-installed

$(DIST_STAMP): $(STAMP) requirements/distributed.txt
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet \
		-c requirements/constraints.txt -r requirements/distributed.txt
	touch $(DIST_STAMP)

demo-distributed: $(DIST_STAMP)
	$(BIN)/python scripts/demo_distributed.py

# The slow test tests/e2e/airflow/test_distributed.py runs demo-distributed: it needs DIST_STAMP too.
test: $(STAMP) $(DIST_STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_onecodex tests dags_examples bench scripts
	$(BIN)/mypy airflow_provider_onecodex

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .airflow .demo .demo-events
