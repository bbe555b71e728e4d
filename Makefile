# Platoons: the two commands of the README, and what CI runs.
#   make run    set everything up, load the demo extract and serve http://127.0.0.1:8000
#   make test   set everything up, lint, type-check and run the test suite (what CI runs)

VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup lint pytest load-england bench bench-coverage lock

setup:
	bash scripts/setup.sh
	$(BIN)/platoons db upgrade

# The demo (platoons demo, cli/demo.py), each part labelled as what it is: the REAL extract of
# four districts; EXAMPLE grant programmes and an EXAMPLE register of assets of community value;
# SYNTHETIC neighbourhood groups and organisers (is_synthetic, "Synthetic group 00042",
# example.invalid addresses) on the real geography; REAL council land and buildings (Trafford's
# Transparency Code file); REAL police.uk street-level crime (Greater Manchester burglary
# 2016-02..2019-01) in the demo's districts, so /crime/pack?area=E08000009 works on a first
# run; REAL Trafford payments and 360Giving grants (/spending, /grants/need); EXAMPLE
# neighbourhood areas. Re-running leaves the same state (tests/cli/test_demo.py).
# The maps open on Trafford and Manchester, where most of the demo's data lie (its four
# districts span England); PLATOONS_MAP_HOME set beforehand chooses another box.
run: setup
	$(BIN)/platoons demo --groups 120 --organisers 20 --seed 7
	PLATOONS_MAP_HOME="$${PLATOONS_MAP_HOME:-[-2.479, 53.340, -2.147, 53.545]}" $(BIN)/platoons serve

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
