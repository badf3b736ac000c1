# smartpark: `make demo` to run a simulated park, `make test` to run every test.
VENV ?= .venv
SP := $(VENV)/bin/smartpark
PYTEST_ARGS ?=

.PHONY: setup demo test test-unit lint services-down bench web

setup:
	bash scripts/setup.sh

demo: setup
	$(SP) up --demo

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-unit: setup
	$(VENV)/bin/python -m pytest -m "not integration and not browser" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The page's bundles and ECharts build from dashboards/web/js (dashboards/build/rollup.config.mjs);
# run after changing the page's modules, and commit what it writes.
web: setup
	cd dashboards/build && node_modules/.bin/rollup -c --silent

services-down:
	$(SP) services down

bench: setup
	$(SP) bench ingest
	$(SP) bench aggregate
	$(SP) bench alerts
	$(SP) bench api
	$(SP) bench hj212
