# The two commands of the quick start are `make run` and `make test`; everything else is for development and ops.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := omnitron.settings

.PHONY: help run test install migrate seed check lint format schema bench bench-pg fuzz worker beat gunicorn clean
.DEFAULT_GOAL := help

help: ## List the targets, one line each
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## Create .venv and install the pinned dependencies (again when pyproject.toml or constraints.txt change)

migrate: install ## Apply the database migrations (DATABASE_URL, default the SQLite file db.sqlite3)
	$(PY) manage.py migrate --noinput

seed: migrate ## Migrate and load the demo data (manage.py seed_demo; safe to run again)
	$(PY) manage.py seed_demo

run: seed ## Migrate, seed and serve the development server on http://127.0.0.1:8000
	$(PY) manage.py runserver 127.0.0.1:8000

test: install ## Run the whole test suite (PYTEST_ARGS for more pytest options)
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install ## ruff format and autofix
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

schema: install ## Validate the OpenAPI schema, failing on any warning
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

check: lint schema ## lint, schema, makemigrations --check and Django's system checks (what CI runs)
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

bench: install ## Queries, time and memory of the list pages and of cancels on SQLite
	$(PY) -m bench

# PostgreSQL at 1M cancellation requests (BENCH_REQUESTS), served by gunicorn, timed against a floor; see README.
# DATABASE_URL names the throwaway database it creates and drops (default postgres://.../omnitron_bench).
bench-pg: install ## The speed targets on PostgreSQL at 1M cancellation requests, served by gunicorn
	$(PY) -m bench.pg

# schemathesis against gunicorn on a throwaway PostgreSQL database (DATABASE_URL, default .../omnitron_fuzz), as
# staff and as a channel user; exclusions in tests/fuzz/exclusions.py. See README.
fuzz: install ## schemathesis against gunicorn as staff and as a channel user (PostgreSQL)
	$(PY) -m tests.fuzz.run

worker: install ## A Celery worker (needs CELERY_BROKER_URL)
	$(VENV)/bin/celery -A omnitron worker --loglevel=INFO --concurrency=2

beat: install ## Celery beat: the sweepers (refunds, storefront syncs, webhook deliveries) and the idempotency purge (needs CELERY_BROKER_URL)
	$(VENV)/bin/celery -A omnitron beat --loglevel=INFO

gunicorn: migrate ## Collect the static files and serve with gunicorn on http://127.0.0.1:8000
	$(PY) manage.py collectstatic --noinput -v0
	$(VENV)/bin/gunicorn omnitron.wsgi:application --bind 127.0.0.1:8000 --workers 3

clean: ## Remove .venv and the tool caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
