# The single entry point: `make demo` and `make test` install what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
RUNTIME_PACKAGES := fonts-dejavu-core
BENCH_PACKAGES := $(RUNTIME_PACKAGES) libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
TEST_PACKAGES := $(BENCH_PACKAGES) poppler-utils chromium default-jdk-headless libpdfbox2-java libjaxb-api-java
export PYTHONPATH := $(CURDIR)/layers/invoice_dispatch:$(CURDIR)
# The SAM CLI and checkov, kept out of the project's virtualenv (see requirements-package.txt).
PACKAGE_VENV := .venv-package
PACKAGE_INSTALLED := $(PACKAGE_VENV)/.installed
SAM := $(PACKAGE_VENV)/bin/sam
TEMPLATE := infra/template.yaml
# arm64 wheels cannot be imported on x86_64 build machines: the smoke test imports this build.
SMOKE_ARCHITECTURE := x86_64
LAYER_BUDGET_MB := 80
# No telemetry, no calls home: the SAM CLI and checkov run offline.
export SAM_CLI_TELEMETRY := 0
export BC_SKIP_MAPPING := TRUE

.PHONY: demo collections test bench lint format typecheck cfn-lint runtime-deps bench-deps test-deps pr clean deploy package checkov

$(INSTALLED): requirements-dev.txt layers/invoice_dispatch/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(PACKAGE_INSTALLED): requirements-package.txt
	$(PYTHON) -m venv $(PACKAGE_VENV)
	$(PACKAGE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PACKAGE_VENV)/bin/python -m pip install --quiet -r requirements-package.txt
	touch $@

# Invoices are drawn with the DejaVu fonts; the naive WeasyPrint peer of the rendering
# benchmark needs Pango and HarfBuzz; the tests also read PDFs back, drive Chromium and
# parse the PDF/A metadata with Apache PDFBox (Java; JAXB because Java 17 no longer has it).
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

# The daily collections run, day by day on a simulated clock (AS_OF: its last day).
collections: $(INSTALLED) runtime-deps
	$(PY) -m tools.local_run --collections $(if $(AS_OF),--as-of $(AS_OF)) $(ARGS)

test: $(INSTALLED) test-deps cfn-lint checkov package
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

cfn-lint: $(INSTALLED)
	$(VENV)/bin/cfn-lint $(TEMPLATE)

checkov: $(PACKAGE_INSTALLED)
	$(PACKAGE_VENV)/bin/checkov --config-file .checkov.yaml -f $(TEMPLATE)

# Validate, build what `sam deploy` ships (arm64), then build for this machine's processor
# and smoke-test that artifact: handlers imported as Lambda would, one invoice to a PDF.
# Each architecture keeps its own SAM cache: the layer's cache key does not include it.
package: $(INSTALLED) $(PACKAGE_INSTALLED)
	$(SAM) validate --lint --template-file $(TEMPLATE)
	PATH="$(CURDIR)/$(PACKAGE_VENV)/bin:$$PATH" $(SAM) build --template-file $(TEMPLATE) \
		--cache-dir .aws-sam/cache-arm64
	$(PY) -m tools.package_smoke --build-dir .aws-sam/build --architecture arm64 \
		--budget-mb $(LAYER_BUDGET_MB) --layer-only
	PATH="$(CURDIR)/$(PACKAGE_VENV)/bin:$$PATH" LAYER_ARCHITECTURE=$(SMOKE_ARCHITECTURE) \
		$(SAM) build --template-file $(TEMPLATE) --build-dir .aws-sam/smoke \
		--cache-dir .aws-sam/cache-$(SMOKE_ARCHITECTURE) \
		--parameter-overrides Architecture=$(SMOKE_ARCHITECTURE)
	$(PY) -m tools.package_smoke --build-dir .aws-sam/smoke --architecture $(SMOKE_ARCHITECTURE) \
		--budget-mb $(LAYER_BUDGET_MB)

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

deploy: package
	$(SAM) deploy --guided

clean:
	rm -rf $(VENV) $(PACKAGE_VENV) .aws-sam out .pytest_cache .ruff_cache .mypy_cache
