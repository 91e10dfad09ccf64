# BizBot: `make run` starts everything, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BUN_VERSION := 1.4.5
export NPM_CONFIG_REGISTRY ?= https://registry.npmjs.org
export REFLEX_TELEMETRY_ENABLED := false
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)

.PHONY: run run-cluster test lint format deps test-deps bun browser clean

$(VENV)/.deps: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(VENV)/.test-deps: $(VENV)/.deps requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

deps: $(VENV)/.deps
test-deps: $(VENV)/.test-deps

# bun for Reflex's frontend build, from the npm registry, unless a recent one is on PATH.
bun:
	@if command -v bun >/dev/null && [ "$$(printf '%s\n' 1.4.4 "$$(bun --version)" | sort -V | head -1)" = 1.4.4 ]; then :; \
	else echo "installing bun $(BUN_VERSION) into .tools/"; \
	  npm install --silent --no-audit --no-fund --prefix .tools bun@$(BUN_VERSION); fi

# Chromium for the end-to-end tests: Debian's package where apt exists, else Playwright's.
browser: $(VENV)/.test-deps
	@if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null; then \
	  (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null; \
	else $(PY) -m playwright install chromium; fi

run: $(VENV)/.deps bun
	$(PY) -m backend.supervisor

# The scaled-out topology on one machine: its own PostgreSQL and Redis reached by URL only,
# two Reflex backends behind one port, three workers (docs/operations.md).
run-cluster: $(VENV)/.deps bun
	$(PY) -m backend.cluster

test: $(VENV)/.test-deps bun browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports

format: $(VENV)/.test-deps
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

clean:
	rm -rf .web .states $(VENV)/.deps $(VENV)/.test-deps
