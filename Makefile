# The single entry point: `make demo` and `make test` install what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
RUNTIME_PACKAGES := fonts-dejavu-core
BENCH_PACKAGES := $(RUNTIME_PACKAGES) libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
TEST_PACKAGES := $(BENCH_PACKAGES) poppler-utils chromium
export PYTHONPATH := $(CURDIR)/layers/invoice_dispatch:$(CURDIR)

.PHONY: demo test bench lint format typecheck cfn-lint runtime-deps bench-deps test-deps pr clean deploy

$(INSTALLED): requirements-dev.txt layers/invoice_dispatch/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# Invoices are drawn with the DejaVu fonts; the naive WeasyPrint peer of the rendering
# benchmark needs Pango and HarfBuzz; the tests also read PDFs back and drive Chromium.
runtime-deps: PACKAGES = $(RUNTIME_PACKAGES)
bench-deps: PACKAGES = $(BENCH_PACKAGES)
test-deps: PACKAGES = $(TEST_PACKAGES)
runtime-deps bench-deps test-deps:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: $(INSTALLED) runtime-deps
	$(PY) -m tools.local_run $(ARGS)

test: $(INSTALLED) test-deps cfn-lint
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

cfn-lint: $(INSTALLED)
	$(VENV)/bin/cfn-lint infra/template.yaml

bench: $(INSTALLED) bench-deps
	$(PY) -m bench $(ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(INSTALLED)
	$(VENV)/bin/mypy layers/invoice_dispatch/invoice_dispatch

pr: format lint typecheck test

deploy:
	sam build --template-file infra/template.yaml && sam deploy --guided

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
