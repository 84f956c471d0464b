# summarizer — set-up and everyday commands. Everything runs in a virtual
# environment that these targets create (VENV), so nothing is installed by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= test
SEED := seeds/000_09fe83c6082f21eb.txt
OUT ?= out

.PHONY: help venv test lint brief as-a-user fixtures fixtures-strong quality bench clean

help:
	@echo "make brief     create $(VENV), install summarizer (default install), brief the seed article by rule (no key, no model)"
	@echo "make test      install summarizer[$(EXTRAS)] into $(VENV), run make lint and the offline test suite"
	@echo "make as-a-user a fresh copy, a clean environment, the default install: make brief, the README's commands, make test"
	@echo "make lint      ruff check, ruff format --check, mypy --strict on summarizer/, import-linter contracts"
	@echo "make fixtures  re-record every fixture with the embedded model (after a prompt/schema change)"
	@echo "make fixtures-strong  re-record fixtures/strong against the strong reference-answer server"
	@echo "make quality   the quality gate: the embedded default, the reference answers and the rules baseline scored against the Wikinews gold (offline); exit 1 if a figure is below its floor in bench/quality_floors.json"
	@echo "make bench     one table: start-up, the default daily run, replay overhead, concurrency, plain Instructor baselines, rerun, memory, digest, long documents, embedded model (BENCH_ARGS='--write docs/benchmarks.md' writes it into the docs, stamped)"

PIP := $(BIN)/python -m pip -qq --disable-pip-version-check
# EXTRAS= (empty) is the default install: what a user gets from `pip install summarizer`.
TARGET := $(if $(strip $(EXTRAS)),".[$(EXTRAS)]",.)

$(BIN)/python:
	@echo "creating $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip

venv: $(BIN)/python
	@echo "installing summarizer$(if $(strip $(EXTRAS)),[$(EXTRAS)]) into $(VENV)"
	@$(PIP) install -e $(TARGET)

test: lint
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

brief:
	@$(MAKE) --no-print-directory venv EXTRAS=
	@$(BIN)/summarizer brief $(SEED) --output $(OUT)/seed-brief.json
	@$(BIN)/summarizer show $(OUT)/seed-brief.json
	@echo "JSON brief: $(OUT)/seed-brief.json"

as-a-user:
	bash scripts/as_a_user.sh

fixtures:
	$(MAKE) venv EXTRAS=test,local
	$(BIN)/python scripts/record_fixtures.py

fixtures-strong: venv
	$(BIN)/python scripts/record_strong.py

quality: venv
	$(BIN)/python bench/quality.py

bench:
	$(MAKE) venv EXTRAS=test,local
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python bench/all.py $(BENCH_ARGS)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python bench/long.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis
