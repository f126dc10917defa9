# The two commands of the README: `make run` and `make test`; `make serve` and `make worker` for
# production (README, "Deploying").
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000

.PHONY: run test install lint bench bench-sqlite serve worker release lock

# Installs come from requirements.lock (every package pinned, with its hashes): the same
# versions on every machine, a year from now too. `make lock` re-resolves it from pyproject.toml.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) scripts/check_python.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

lock: install
	$(VENV)/bin/pip-compile --quiet --all-extras --generate-hashes --strip-extras --allow-unsafe \
	  --output-file requirements.lock pyproject.toml

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

## Production (README "Deploying"): DEBUG off, SECRET_KEY required, the rest from the environment.
## `make release` once per deployment (migrations, static files, schedules), then on each web
## machine `make serve` (gunicorn, WEB_CONCURRENCY workers) and on each worker machine
## `make worker` (django-q2). `make serve` runs the release steps itself unless RELEASE=0.
RELEASE ?= 1
release: export DEBUG := 0
release: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py setup_schedules

serve: export DEBUG := 0
serve: export BIND := $(ADDR)
serve: install
	@[ "$(RELEASE)" = "0" ] || $(MAKE) --no-print-directory release
	$(VENV)/bin/gunicorn --config gunicorn.conf.py aftersales.wsgi

worker: export DEBUG := 0
worker: install
	$(PY) manage.py qcluster

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
