# The two commands: `make run` and `make test`. Both work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run test lint system-deps bench clean

# The runtime environment; rebuilt when requirements.txt changes.
$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# The runtime plus test-only tools. requirements.txt as constraints: nothing a test tool asks for (timm's
# torchvision pins torch==2.13.0) may replace the runtime's pins, torch above all.
$(VENV)/.testtools: $(VENV)/.runtime requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.txt -r requirements-test.txt
	@touch $@

# Graphviz's `dot` (diagram SVG/PNG export) and Chromium (end-to-end tests), from Debian's packages.
system-deps:
	@bash scripts/system_deps.sh

run: $(VENV)/.runtime
	@bash scripts/system_deps.sh --optional dot
	$(PY) -m app.serve --server.port 8501 --server.address localhost

test: $(VENV)/.testtools system-deps
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.testtools
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(VENV)/.testtools
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
