# `make demo` and `make test` work on a fresh machine: they build .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB := out/demo.db

.PHONY: install demo test test-fast lint audit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(BIN)/storyline ingest data/sample/pages data/sample/html data/sample/feed.jsonl \
		--db sqlite:///$(DEMO_DB) --crawled-at 2025-10-24T18:00:00+03:00
	$(BIN)/storyline stories --db sqlite:///$(DEMO_DB) --limit 10
	$(BIN)/storyline story --db sqlite:///$(DEMO_DB) \
		$$($(BIN)/storyline stories --db sqlite:///$(DEMO_DB) --limit 1 --format jsonl | \
		   $(PYTHON) -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
	$(BIN)/storyline export --db sqlite:///$(DEMO_DB) --format jsonl -o out/demo.jsonl

test: $(STAMP)
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# Known vulnerabilities (PyPI's advisory data) in what is installed; storyline itself is skipped.
# Exits non-zero when one is found. A package it cannot look up is listed as skipped, not failed.
audit: $(STAMP)
	$(BIN)/pip-audit --skip-editable --progress-spinner off

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
