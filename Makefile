# The two commands of the quick start are `make run` and `make test`; everything else is for development and ops.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := omnitron.settings

.PHONY: run test install migrate seed check lint format schema bench bench-pg fuzz worker beat gunicorn clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

check: lint schema
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

bench: install
	$(PY) -m bench

# PostgreSQL at 1M cancellation requests (BENCH_REQUESTS), served by gunicorn, timed against a floor; see README.
# DATABASE_URL names the throwaway database it creates and drops (default postgres://.../omnitron_bench).
bench-pg: install
	$(PY) -m bench.pg

# schemathesis against gunicorn on a throwaway PostgreSQL database (DATABASE_URL, default .../omnitron_fuzz), as
# staff and as a channel user; exclusions in tests/fuzz/exclusions.py. See README.
fuzz: install
	$(PY) -m tests.fuzz.run

worker: install
	$(VENV)/bin/celery -A omnitron worker --loglevel=INFO --concurrency=2

beat: install
	$(VENV)/bin/celery -A omnitron beat --loglevel=INFO

gunicorn: migrate
	$(VENV)/bin/gunicorn omnitron.wsgi:application --bind 127.0.0.1:8000 --workers 3

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
