# ConsentDesk: `make run` starts the demo, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Two roles (core.db_roles): the owner creates, migrates and drops the test database,
# the tests connect as the app's role (created by the suite).
TEST_OWNER_URL ?= $(or $(filter postgres%,$(DATABASE_OWNER_URL)),postgres://postgres@127.0.0.1:5432/consentdesk)
TEST_DATABASE_URL ?= postgres://consentdesk_test_app@$(lastword $(subst @, ,$(TEST_OWNER_URL)))
TEST_BROKER_URL ?= redis://127.0.0.1:6379/1
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_OWNER_URL=$(TEST_OWNER_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	DJANGO_SECRET_KEY=test-only-secret-key-for-the-suite-0123456789abcdefghijklmnop \
	CONSENTDESK_SUPPRESSION_KEY=test-only-suppression-key-0123456789abcdef \
	DJANGO_DEBUG=0 DJANGO_SECURE_SSL_REDIRECT=0 CONSENTDESK_REQUIRE_2FA=1

.PHONY: install run test lint format migrations-check

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 not found)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

## The one-command demo: SQLite, embedded broker, web + worker + beat.
run: install
	@bash scripts/run_demo.sh

## The whole suite on PostgreSQL, with Redis for the Celery tests.
test: install
	@$(TEST_ENV) $(PY) scripts/check_services.py
	@$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

## The guards .ci/run checks besides the tests: ruff, the layers' import contracts, mypy.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_DEBUG=1 $(VENV)/bin/mypy

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

migrations-check: install
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
