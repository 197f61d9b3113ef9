# Silkway's front door. `make demo` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SILKWAY_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/silkway.db

.PHONY: demo test lint typecheck pytest install bench bench-large clean

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

# Quick figures (100,000 parcels for the lookups); bench-large loads 1,000,000 parcels / 10,000,000 events
# into PostgreSQL first (about 5 minutes on 2 cores) and needs `apt-get install wrk` for the lookups.
bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/lookups.py --repeats 3
	$(BIN)/python bench/memory.py

bench-large: $(STAMP)
	$(BIN)/python bench/seed_large.py --full
	$(BIN)/python bench/lookups.py --full --repeats 3
	$(BIN)/python bench/memory.py --full
	$(BIN)/python bench/ingest.py --only postgres

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache .mypy_cache .ruff_cache
