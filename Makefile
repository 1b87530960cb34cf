# Sightline: the two commands of the README contract are `make demo` and `make test`.
# Each target is a thin wrapper around a script in scripts/ so CI and people run the same
# thing. Each script first installs what it needs (scripts/ensure.sh TARGET: idempotent, about
# a second when everything is there; `scripts/ensure.sh --list` shows the steps per target).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help demo test test-personalization test-browsers test-reliability test-cluster cluster capacity fuzz-smoke sdk kafka-up kafka-down bench report bench-analytics test-dashboard lint docs image test-image test-deploy test-alerts

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

demo: ## run Kafka, the collector and the demo site on this machine
	@scripts/demo.sh

test: ## every test: lint, unit, golden vectors, Kafka integration, browser, end to end
	@scripts/test.sh

test-personalization: ## issue 22's A/B proof: simulated students through collector, Kafka and sightline-decide; CTR per arm in ClickHouse
	@scripts/test-personalization.sh

test-browsers: ## the SDK's scenarios, CSP and fail-soft in Chromium, Firefox ESR and WebKitGTK; support matrix; wasm tests in Firefox
	@scripts/test-browsers.sh

test-reliability: ## zero-data-loss proofs: Kafka outage, SIGKILL, SIGTERM, spool cap, load shedding, browser queue across a collector outage (~9 min)
	@scripts/test-reliability.sh

cluster: ## production edge tier on loopback: 3 Kafka brokers (RF 3), 3 collectors, HAProxy in front; Ctrl-C stops all
	@scripts/cluster.sh

test-cluster: ## edge-tier proofs through HAProxy: rolling restart, broker failure, collector crash, client address, overhead (~9 min)
	@scripts/test-cluster.sh

capacity: ## render deploy/CAPACITY.md's sizing table from deploy/capacity/inputs.toml
	@python3 deploy/capacity/render.py

fuzz-smoke: ## short cargo-fuzz run of every collector fuzz target (nightly, cargo-fuzz)
	@scripts/fuzz-smoke.sh $${FUZZ_SECONDS:-20}

lint: ## rustfmt, clippy (native and wasm32), tsc --checkJs on the JavaScript, shellcheck, ruff
	@scripts/test.sh lint

docs: ## rewrite the generated parts of the docs (collector/README.md tables, proto/kinds.json)
	@scripts/docs.sh

sdk: ## build sdk-wasm/pkg (optimized wasm, JS glue, types, package.json) and check its size budget
	@scripts/build-sdk.sh

kafka-up: ## start a local Apache Kafka broker (KRaft) on 127.0.0.1:$${KAFKA_PORT:-9092} with Sightline's topics
	@scripts/kafka.sh up

kafka-down: ## stop that broker and delete its storage
	@scripts/kafka.sh down

bench: ## collector vs its HTTP and Kafka ceilings, SDK cost; writes bench/RESULTS.md
	@scripts/bench.sh

report: ## ClickHouse (chdb) report of the demo's data as HTML
	@scripts/report.sh

test-dashboard: ## the campaign dashboard in headless Chromium over 1 M generated events: load time, numbers, refresh, filters
	@scripts/test-dashboard.sh

bench-analytics: ## analytics at volume in chdb: generation, disk per event, query latencies, rollups; writes analytics/BENCH.md (~1 h)
	@scripts/bench-analytics.sh

image: ## the collector's container image (deploy/Containerfile) built with podman; prints its size
	@scripts/image.sh build

test-image: ## build the image, run the collector from its exported filesystem against Kafka: readyz, a batch read back, SIGTERM
	@scripts/test-image.sh

test-deploy: ## Helm chart offline: lint, template, strict Kubernetes API decoding, invariants, alert syntax, dashboard metrics
	@scripts/test-deploy.sh

test-alerts: ## test-deploy plus promtool check rules and promtool test rules (builds promtool once)
	@scripts/test-deploy.sh alerts
