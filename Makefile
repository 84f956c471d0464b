# summarizer — set-up and everyday commands. Everything runs in a virtual
# environment that these targets create (VENV), so nothing is installed by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= test
SEED := seeds/000_09fe83c6082f21eb.txt
OUT ?= out

.PHONY: help venv test lint brief fixtures fixtures-strong quality bench clean

help:
	@echo "make brief     brief the seed article on the embedded default (rules; no key, no model to build)"
	@echo "make test      create $(VENV), install summarizer[$(EXTRAS)], run make lint and the offline test suite"
	@echo "make lint      ruff check, ruff format --check, mypy --strict on summarizer/, import-linter contracts"
	@echo "make fixtures  re-record every fixture with the embedded model (after a prompt/schema change)"
	@echo "make fixtures-strong  re-record fixtures/strong against the strong reference-answer server"
	@echo "make quality   score the embedded and strong fixture sets against the Wikinews gold (offline)"
	@echo "make bench     one table: start-up, replay overhead, concurrency, naive baseline, rerun, embedded model"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"

test: lint
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

brief:
	$(MAKE) venv
	$(BIN)/summarizer brief $(SEED) --provider local --output $(OUT)/seed-brief.json
	$(BIN)/summarizer show $(OUT)/seed-brief.json
	@echo "JSON brief: $(OUT)/seed-brief.json"

fixtures:
	$(MAKE) venv EXTRAS=test,local
	$(BIN)/python scripts/record_fixtures.py

fixtures-strong: venv
	$(BIN)/python scripts/record_strong.py

quality: venv
	$(BIN)/python bench/quality.py

bench:
	$(MAKE) venv EXTRAS=test,local
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python bench/all.py
	$(BIN)/python bench/long.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis
