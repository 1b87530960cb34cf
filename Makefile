# Sightline: the two commands of the README contract are `make demo` and `make test`.
# Each target is a thin wrapper around a script in scripts/ so CI and people run the same thing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help demo test test-reliability fuzz-smoke sdk kafka-up kafka-down bench report lint image test-image test-deploy test-alerts

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

demo: ## run Kafka, the collector and the demo site on this machine
	@scripts/demo.sh

test: ## every test: lint, unit, golden vectors, Kafka integration, browser, end to end
	@scripts/test.sh

test-reliability: ## zero-data-loss proofs: Kafka outage, SIGKILL, SIGTERM, spool cap, load shedding, browser queue across a collector outage (~9 min)
	@scripts/test-reliability.sh

fuzz-smoke: ## short cargo-fuzz run of every collector fuzz target (nightly; installs cargo-fuzz)
	@scripts/fuzz-smoke.sh $${FUZZ_SECONDS:-20}

lint: ## cargo fmt --check and clippy -D warnings
	@scripts/test.sh lint

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

image: ## the collector's container image (deploy/Containerfile) built with podman; prints its size
	@scripts/image.sh build

test-image: ## build the image, run the collector from its exported filesystem against Kafka: readyz, a batch read back, SIGTERM
	@scripts/test-image.sh

test-deploy: ## Helm chart offline: lint, template, strict Kubernetes API decoding, invariants, alert syntax, dashboard metrics
	@scripts/test-deploy.sh

test-alerts: ## test-deploy plus promtool check rules and promtool test rules (builds promtool once)
	@scripts/test-deploy.sh alerts
