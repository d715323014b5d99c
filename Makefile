# Two entry points for a fresh machine with Python 3.11+:
#   make demo   - set up .venv and serve the browser demo on :8080 (no token, no network)
#   make test   - set up .venv and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-script test chromium ocr-engine systemd-tools lock screenshots lint bench clean

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
# Two pytest-xdist workers (CI has 2 cores; much of the suite waits on sockets, child
# processes and Chromium); worksteal evens out the few long tests. PYTEST_WORKERS=0 runs
# the suite in one process.
PYTEST_WORKERS ?= 2
test: $(BIN)/.installed chromium ocr-engine systemd-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python deploy/lockcheck.py
	AKSES_SCREENSHOTS=$${AKSES_SCREENSHOTS:-$$(mktemp -d)} $(BIN)/python -m pytest -q \
	  -n $(PYTEST_WORKERS) --dist worksteal

# The KTP reader (bot/ocr/) reads with Tesseract's Indonesian model from Debian; the specimen
# photos (bench/ktp_corpus.py) are drawn with Debian's DejaVu and Liberation fonts. Nothing is
# downloaded at run time. As root this installs them; otherwise it prints the command.
OCR_PACKAGES := tesseract-ocr-ind tesseract-ocr-eng fonts-dejavu-core fonts-liberation
ocr-engine:
	@test -f /usr/share/tesseract-ocr/5/tessdata/ind.traineddata -a -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's $(OCR_PACKAGES) for the KTP reader"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(OCR_PACKAGES) >/dev/null; \
	  else \
	    echo "The KTP reader needs Tesseract's Indonesian model. Run:  sudo apt-get install -y $(OCR_PACKAGES)" >&2; \
	    exit 1; \
	  fi; }

# The browser tests drive Debian's Chromium (Playwright's own browser download is not
# used). As root this installs it; otherwise it stops with the one command to run.
CHROMIUM_PACKAGES := chromium fonts-noto-color-emoji
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's $(CHROMIUM_PACKAGES) for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM_PACKAGES) >/dev/null; \
	  else \
	    echo "The browser tests need Debian's Chromium. Run:  sudo apt-get install -y $(CHROMIUM_PACKAGES)" >&2; \
	    exit 1; \
	  fi; }

# tests/system/test_install.py checks deploy/'s unit with systemd-analyze (Debian's
# systemd package; installing it does not make systemd PID 1 in a container).
systemd-tools:
	@command -v systemd-analyze >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's systemd for systemd-analyze"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; \
	  else \
	    echo "The deploy tests need systemd-analyze. Run:  sudo apt-get install -y systemd" >&2; \
	    exit 1; \
	  fi; }

# Regenerate deploy/requirements.lock after changing a dependency in pyproject.toml
# (pip-tools in a throwaway venv; Linux, CPython 3.11, every file's hash).
lock:
	rm -rf /tmp/akses-lock-venv && $(PYTHON) -m venv /tmp/akses-lock-venv
	/tmp/akses-lock-venv/bin/pip install --quiet pip-tools
	/tmp/akses-lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --all-build-deps \
	  --strip-extras --no-emit-index-url --no-emit-find-links \
	  --output-file=deploy/requirements.lock pyproject.toml
	/tmp/akses-lock-venv/bin/python deploy/lockcheck.py

screenshots: $(BIN)/.installed chromium
	AKSES_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/system/test_browser.py tests/system/test_browser_features.py

bench: $(BIN)/.installed
	$(BIN)/python -m bench

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-data .pytest_cache
