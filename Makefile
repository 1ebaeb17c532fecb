# api_monitor: `make demo` runs the whole flow, `make test` runs every test.
PYTHON ?= python3
export ODOO_PATH ?= /opt/odoo

.PHONY: demo test test-fast test-core test-odoo bench stack drill quality

demo:
	$(PYTHON) -m tools.demo

stack:
	$(PYTHON) -m tools.stack

drill:
	$(PYTHON) -m tools.gateway_drill

quality:
	$(PYTHON) -m tools.quality --png quality.png

test: test-core test-odoo

# the development loop: the core tests without the real-time drills and the Prometheus agreement check
test-fast:
	$(PYTHON) -m pytest -q -m "not slow" tests/core

test-core:
	$(PYTHON) -m pytest -q tests/core

test-odoo:
	$(PYTHON) -m tools.odoo_tests

bench:
	$(PYTHON) -m bench.hot_path
	$(PYTHON) -m bench.metrics_render
	$(PYTHON) -m bench.evaluator
	$(PYTHON) -m bench.time_to_page
	$(PYTHON) -m bench.wrk_overhead
	$(PYTHON) -m bench.gateway_pipeline
