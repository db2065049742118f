# The project's commands; the README documents each target. Everything installs itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test test-cluster kafka kafka-stop cluster cluster-stop worker stop lint coverage schema manifests bench bench-schaal

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

# The official AsyncAPI parser (node, from the npm registry) that tests/contract runs; pinned by
# tools/contract/package-lock.json.
# axe-core (tools/browser), the accessibility engine the dashboard's browser test runs in Chromium.
NODE_TOOLS := tools/contract/node_modules/.installed tools/browser/node_modules/.installed
tools/%/node_modules/.installed: tools/%/package.json tools/%/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --prefix tools/$* --no-audit --no-fund
	touch $@

## make run: set up everything, start Kafka and the engine, publish sample traffic, show the results
run: $(VENV)/.installed kafka
	deploy/local/run.sh

## make test: set up everything and run the whole suite (lint, types, unit, pipeline on a real broker)
test: $(VENV)/.installed $(NODE_TOOLS) lint
	$(PY) -m pytest

## make test-cluster: fault tests on a fresh local three-broker cluster with several workers (tests/cluster;
## not in make test; .ci/run calls it after make test). Prints and writes .local/cluster-faults.json
test-cluster: $(VENV)/.installed
	$(PY) -m pytest tests/cluster

## make coverage: line coverage of engine/ by the unit tests alone (milliseconds each, no broker)
coverage: $(VENV)/.installed
	$(VENV)/bin/coverage run -m pytest -q tests/unit
	$(VENV)/bin/coverage report --include='engine/kafka/*,engine/handlers/*,engine/projections/*,engine/api/*' | tail -n 40

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check engine tests bench
	$(VENV)/bin/ruff format --check engine tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## make kafka / kafka-stop: the local single-node broker on localhost:9092 (idempotent)
kafka:
	deploy/local/kafka.sh start

kafka-stop:
	deploy/local/kafka.sh stop

## make cluster / cluster-stop: three secured KRaft brokers (RF 3, min ISR 2) and WORKERS (3) engine
## workers on loopback, Prometheus and Grafana when installed (deploy/local/cluster.sh)
cluster: $(VENV)/.installed
	deploy/local/cluster.sh start

cluster-stop:
	deploy/local/cluster.sh stop

## make worker: the engine in the foreground (KAFKA_*, or the local broker's engine principal)
worker: $(VENV)/.installed
	deploy/local/run.sh worker

## make stop: stop the engine started by make run, and the broker
stop:
	deploy/local/run.sh stop
	deploy/local/kafka.sh stop

## make schema: regenerate docs/contract/ from the structs
schema: $(VENV)/.installed
	$(PY) -m engine.ops.schema

## make manifests: regenerate deploy/kubernetes/ (Strimzi) from the engine's topics and ACLs
manifests: $(VENV)/.installed
	$(PY) -m engine.ops.deploy

## make bench: throughput of the engine against a raw aiokafka loop on the same broker (not in make test)
bench: $(VENV)/.installed
	$(PY) bench/run.py

## make bench-schaal: throughput with 1, 2, 3 routing workers on a fresh local three-broker cluster, a
## projection worker's start-up against the size of the logs, each role's peak memory at 1M signals
## (about 30 minutes; writes bench/schaal.json; not in make test)
bench-schaal: $(VENV)/.installed
	$(PY) bench/schaal.py
