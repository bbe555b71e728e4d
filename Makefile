# Platoons: the two commands of the README, and what CI runs.
#   make run    set everything up, load the demo extract and serve http://127.0.0.1:8000
#   make test   set everything up, lint, type-check and run the test suite (what CI runs)

VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup lint pytest load-england bench bench-coverage lock

setup:
	bash scripts/setup.sh
	$(BIN)/platoons db upgrade

# The demo's neighbourhood groups and organisers are synthetic (is_synthetic, "Synthetic group
# 00042", example.invalid addresses) on the real geography, so the coverage map has something
# to show; re-running replaces them and touches nothing else.
# The demo's street-level crime is the real Greater Manchester Police burglary extract
# (2016-02..2019-01), kept for the demo's districts (Trafford and Manchester), so that
# /crime/pack?area=E08000009 works on a first run.
run: setup
	$(BIN)/platoons load demo
	$(BIN)/platoons load crime --only-loaded-areas data/national/crime/gmp_burglary_2016-02_2019-01_points.csv.gz
	$(BIN)/python -m data.synthetic --groups 120 --organisers 20 --seed 7
	$(BIN)/platoons serve

test: setup lint pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

load-england: setup
	$(BIN)/platoons load england

bench: setup
	$(BIN)/python -m bench.foundation

# National and incremental coverage with 10,000 synthetic groups, beside dask-geopandas.
bench-coverage: setup
	$(BIN)/python -m bench.coverage

# Re-pin the lock file from the current environment.
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^platoons' > requirements.lock
