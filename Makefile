# onthemove: `make run` starts the platform on the demo store, `make test` runs every check.
# A fresh machine needs only Python 3.11 and pip: uv is bootstrapped into .tools/ when missing.

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif
STORE ?= ./onthemove-data/
OTM := .venv/bin/onthemove

.PHONY: install run test lint typecheck pytest bench clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

install: .venv/.installed

run: install
	$(OTM) --store $(STORE) demo --if-empty
	$(OTM) --store $(STORE) summary
	$(OTM) --store $(STORE) alerts
	ONTHEMOVE_TRIGGERS=examples/demoland/triggers.yaml ONTHEMOVE_RESULTS_FRAMEWORK=examples/demoland/results.yaml \
		$(OTM) --store $(STORE) serve

lint: install
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

typecheck: install
	.venv/bin/mypy

pytest: install
	.venv/bin/pytest

test: lint typecheck pytest

bench: install
	.venv/bin/python bench/run_all.py

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
