# Silkway's front door. `make demo` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every install takes the versions pinned here; `make lock` rewrites the file from setup.cfg.
CONSTRAINTS := requirements/constraints.txt
UV := $(BIN)/uv
UV_VERSION ?= 0.13.10
LOCK_COMPILE = $(UV) pip compile setup.cfg --extra test --extra postgres --universal --python-version 3.11 \
	--quiet --custom-compile-command 'make lock'
export SILKWAY_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/silkway.db

.PHONY: demo test lint typecheck pytest install lock lock-check bench bench-large clean

$(STAMP): setup.cfg pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test,postgres]'
	touch $(STAMP)

install: $(STAMP)

# uv (from PyPI, into the venv) compiles the constraints file; it is not needed to install or run Silkway.
$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'

# Rewrite the constraints file after a change to setup.cfg: pins already there are kept unless UPGRADE=1,
# which takes the newest release of everything.
lock: $(UV)
	$(LOCK_COMPILE) $(if $(UPGRADE),--upgrade) -o $(CONSTRAINTS)

# What `make lock UPGRADE=1` would change, as a diff; informational, never fails (nor without an index).
lock-check:
	@$(MAKE) --no-print-directory $(UV) >/dev/null 2>&1 || { echo "lock-check: could not install uv; skipped"; exit 0; }; \
	tmp=$$(mktemp -d); \
	if $(LOCK_COMPILE) --upgrade -o $$tmp/constraints.txt 2>$$tmp/err; then \
	  if diff -u $(CONSTRAINTS) $$tmp/constraints.txt; then echo "lock-check: $(CONSTRAINTS) is up to date"; \
	  else echo "lock-check: the diff above is what 'make lock UPGRADE=1' would change (informational)"; fi; \
	else echo "lock-check: could not compile (is the package index reachable?); skipped:"; sed 's/^/  /' $$tmp/err; fi; \
	rm -rf $$tmp

# `make demo PORT=8080` serves on another port (default 8000, or the port of SILKWAY_BIND=host:port); the
# address is checked first, so a bad or busy one stops before the world is built.
demo: $(STAMP)
	$(BIN)/silkway serve-demo --check $(if $(PORT),--port '$(PORT)')
	mkdir -p instance
	$(BIN)/silkway db upgrade
	$(BIN)/silkway demo --days $${DEMO_DAYS:-90} --seed $${DEMO_SEED:-7}
	$(BIN)/silkway serve-demo $(if $(PORT),--port '$(PORT)')

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy tracking routing carriers web

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
