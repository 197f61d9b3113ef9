# Silkway's front door. `make demo` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SILKWAY_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/silkway.db

.PHONY: demo test lint typecheck pytest install bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p instance
	$(BIN)/silkway db upgrade
	$(BIN)/silkway demo --days $${DEMO_DAYS:-90} --seed $${DEMO_SEED:-7}
	$(BIN)/silkway serve-demo

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy tracking routing carriers

pytest: $(STAMP)
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-2} -p no:cacheprovider

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache .mypy_cache .ruff_cache
