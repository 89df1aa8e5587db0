# Two jobs a fresh machine can run offline:
#   make run    create .venv, install judgerank with what its three jobs use (the embedding model,
#               the HTTP service, the arena report), rerank the bundled example with the embedded model
#   make test   install the test extras, check lint (ruff), types (mypy), the layers (lint-imports) and dead
#               code (vulture), run the whole suite
#   make test-fast   the same checks, and the tests that need no model, data or service (under two minutes)
#   make docs   the documentation site (MkDocs) into site/, strictly: a broken link or API reference fails
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# llama-cpp-python builds from source; a portable build lets pip's cache reuse the wheel.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

.PHONY: run test test-fast check docs bench clean chromium postgresql

run: $(VENV)/.installed
	$(VENV)/bin/judgerank rerank --query "how long is the life cycle of a flea" --docs examples/flea.jsonl

test: check chromium postgresql
	$(PY) -m pytest -q

test-fast: check
	$(PY) -m pytest -q -m "not slow and not llm and not embed and not data and not postgres and not ray and not browser"

check: $(VENV)/.installed-test docs
	$(PY) -m ruff check src tests bench docs/hooks.py
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) -m vulture

docs: $(VENV)/.installed-test
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet

# The report test renders HTML in Debian's chromium; without it that one test skips.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1; } || \
	  echo "chromium unavailable: the report rendering test will skip"

# The PostgreSQL store's tests start a server of Debian's package in a temporary folder on a loopback
# port (tests/postgres.py); without it they skip, except under CI, where they fail.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq postgresql) >/dev/null 2>&1; } || \
	  echo "postgresql unavailable: the PostgreSQL store tests will skip"

bench: $(VENV)/.installed-test
	$(PY) -m pip install -q -e ".[qwen05,qwen15]"
	bash bench/run_all.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[embed,server,report]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[test,embed,server,report]"
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) build site src/*.egg-info
