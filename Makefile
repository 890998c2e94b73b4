# The virtual shift marketplace. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .cache/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
INFRA := $(PY) -m vsm_infra
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)


.PHONY: help install topics infra-up infra-down infra-status up down test unit lint bench browser grpcurl

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV) ## Create .venv from uv.lock, fetch the server jars, build the launcher (quick when done)
	$(UV) sync --frozen --quiet --compile-bytecode
	$(PY) libs/contracts/generate.py
	$(INFRA) install

infra-up: install ## Start Kafka and the MongoDB-protocol server unless running; wait until they answer
	$(INFRA) up

infra-down: ## Stop the servers that make started
	@if [ -x $(PY) ]; then $(INFRA) down; else echo "nothing installed, nothing to stop"; fi

topics: install ## Create the declared topics on the broker in use (KAFKA_BOOTSTRAP for an outside one)
	$(INFRA) topics

infra-status: ## Show where each server listens and whether it answers
	$(INFRA) status

up: install ## Start the whole stack, seed the demo (once), print the web address and demo sign-ins
	$(INFRA) up
	$(INFRA) services-up
	$(PY) -m gateway.demo

down: ## Stop exactly what `make up` started
	@if [ -x $(PY) ]; then $(INFRA) services-down; $(INFRA) down; else echo "nothing installed, nothing to stop"; fi

lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: install ## Unit tests only (no servers, seconds)
	$(VENV)/bin/pytest -m "not integration"

browser: ## Debian's Chromium for the browser tests (from Debian's packages; quick when installed)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

grpcurl: ## grpcurl for the partner API's tests, built from the Go module proxy (quick when built)
	@test -x $(TOOLS)/bin/grpcurl || GOBIN=$(CURDIR)/$(TOOLS)/bin GOFLAGS=-mod=mod \
		go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3
	@$(TOOLS)/bin/grpcurl --version

test: lint browser grpcurl ## Install, start the servers the suite needs, run every test, stop what it started
	$(INFRA) with-servers -- $(VENV)/bin/pytest

bench: install ## Engine vs the yardstick, live offers, a live fortnight, the gateway; bench/results/REPORT.md
	$(PY) -m bench.marketplace $(BENCH_ARGS)
	$(INFRA) with-servers -- $(PY) -m bench.offers
	$(INFRA) with-servers -- $(PY) -m bench.simulation
	$(INFRA) with-servers -- $(PY) -m bench.gateway
	$(PY) -m bench.report
