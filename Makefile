# Two entry points: `make demo` (the example DAG against the local simulator) and `make test`.
# Both build .venv on first use from the pinned constraints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet \
		-c requirements/constraints.txt -e ".[test,lint]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_onecodex tests dags_examples bench
	$(BIN)/mypy airflow_provider_onecodex

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .airflow .demo
