# Two entry points for a fresh machine with Python 3.11+:
#   make demo   - set up .venv and serve the browser demo on :8080 (no token, no network)
#   make test   - set up .venv and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo demo-script test chromium ocr-engine screenshots lint bench clean

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
test: $(BIN)/.installed chromium ocr-engine
	$(BIN)/ruff check .
	$(BIN)/mypy
	AKSES_SCREENSHOTS=$${AKSES_SCREENSHOTS:-$$(mktemp -d)} $(BIN)/python -m pytest -q

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

screenshots: $(BIN)/.installed chromium
	AKSES_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/system/test_browser.py

bench: $(BIN)/.installed
	$(BIN)/python -m bench

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) demo-data .pytest_cache
