#!/usr/bin/env bash
# `make docs`: rewrites every generated part of the documentation from the code, then shows
# what changed. The same tests, run without SIGHTLINE_WRITE_DOCS by `make test`, fail while a
# file differs from the code.
#   proto/kinds.json                  event kinds for JavaScript and Python (sightline-proto)
#   collector/README.md               option, error-code and metric tables (collector/src/docs.rs)
#   collector/sightline.example.toml  every option at its default (values only; comments kept)
set -euo pipefail
cd "$(dirname "$0")/.."
export SIGHTLINE_WRITE_DOCS=1
cargo test --quiet -p sightline-proto --lib kinds_json_is_current
cargo test --quiet -p sightline-collector --lib docs:: -- --test-threads=1  # one README, written by several tests
git status --short -- proto/kinds.json collector/README.md collector/sightline.example.toml
