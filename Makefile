# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000

.PHONY: run test install lint bench bench-sqlite

$(VENV)/.installed: pyproject.toml
	$(PYTHON) scripts/check_python.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Set up everything and run the system: web server, admin, API, forms and background worker.
## Development settings (DEBUG=1: a development secret key, e-mails to var/outbox).
run: export DEBUG ?= 1
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py load_demo_scorecard_data
	$(PY) manage.py setup_schedules
	$(PY) manage.py demo_login
	$(PY) manage.py runall $(ADDR)

## Run the whole test suite (SQLite, then PostgreSQL when its binaries are installed).
test: install
	scripts/test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## Benchmarks (issue 11) on a throw-away PostgreSQL behind gunicorn, each next to its raw
## baseline: `make bench SIZE=1000000`; `make bench-sqlite` for the embedded database.
SIZE ?= 100000
REPEAT ?= 15
bench: install
	scripts/with-postgres $(PY) bench/perf.py --cases $(SIZE) --repeat $(REPEAT)

bench-sqlite: install
	rm -f var/bench-perf.sqlite3*
	$(PY) bench/perf.py --cases $(SIZE) --repeat $(REPEAT) --only list
