# api_monitor: `make demo` runs the whole flow, `make test` runs every test.
# Both set themselves up: the project's own environment in .venv (requirements-dev.txt), made on first use
# and again when that file changes; the system Python is never modified.
VENV := .venv
PYTHON := $(VENV)/bin/python
export ODOO_PATH ?= /opt/odoo

.PHONY: demo test test-fast test-core test-odoo lint pot wheel bench stack drill quality

$(VENV)/ready: requirements-dev.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: $(VENV)/ready
	$(PYTHON) -m tools.demo

stack: $(VENV)/ready
	$(PYTHON) -m tools.stack

drill: $(VENV)/ready
	$(PYTHON) -m tools.gateway_drill

quality: $(VENV)/ready
	$(PYTHON) -m tools.quality --png quality.png

test: lint test-core test-odoo

# the OCA's checks: ruff, pylint-odoo's mandatory checks, the addon checks, the Apps page is current
lint: $(VENV)/ready
	$(PYTHON) -m tools.lint

# odoo-addon-api_monitor wheels for Odoo 18.0 and 19.0 in dist/
wheel: $(VENV)/ready
	$(PYTHON) -m tools.package dist

# i18n/api_monitor.pot exported afresh by the Odoo 18 at ODOO_PATH
pot: $(VENV)/ready
	$(PYTHON) -m tools.pot

# the development loop: the core tests without the real-time drills and the Prometheus agreement check
test-fast: $(VENV)/ready
	$(PYTHON) -m pytest -q -m "not slow" tests/core

test-core: $(VENV)/ready
	$(PYTHON) -m pytest -q tests/core

test-odoo: $(VENV)/ready
	$(PYTHON) -m tools.odoo_tests

bench: $(VENV)/ready
	$(PYTHON) -m bench.hot_path
	$(PYTHON) -m bench.metrics_render
	$(PYTHON) -m bench.evaluator
	$(PYTHON) -m bench.storage
	$(PYTHON) -m bench.many_hosts
	$(PYTHON) -m bench.time_to_page
	$(PYTHON) -m bench.wrk_overhead
	$(PYTHON) -m bench.gateway_pipeline
