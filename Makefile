# Two entry points for a fresh machine with Python 3.11+:
#   make demo   - set up .venv and serve the browser demo on :8080 (no token, no network)
#   make test   - set up .venv and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-script test screenshots lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m bot demo

demo-script: $(BIN)/.installed
	$(BIN)/python -m bot demo --script

# The browser tests' screenshots go to a scratch folder here, so a test run leaves the
# committed docs/img alone; `make screenshots` refreshes them on purpose.
test: $(BIN)/.installed
	$(BIN)/ruff check .
	AKSES_SCREENSHOTS=$${AKSES_SCREENSHOTS:-$$(mktemp -d)} $(BIN)/python -m pytest -q

screenshots: $(BIN)/.installed
	AKSES_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/system/test_browser.py

bench: $(BIN)/.installed
	$(BIN)/python -m bench

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-data .pytest_cache
