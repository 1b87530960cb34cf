#!/usr/bin/env bash
# Install step for `make cluster` and `make test-cluster`: Debian's haproxy package (the
# balancer in front of the collectors). Idempotent: returns at once when it is installed.
# Kept as its own step so it can join the per-target install steps of scripts/setup.sh.
set -euo pipefail

if command -v haproxy >/dev/null 2>&1 && dpkg -s haproxy >/dev/null 2>&1; then exit 0; fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "install: apt-get install haproxy"
as_root apt-get update -qq
# The dpkg lock may be held by another apt run on a shared machine: wait for it (bounded).
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -o DPkg::Lock::Timeout=300 haproxy >/dev/null
# The package enables a system service with its own config; Sightline runs its own haproxy
# process and leaves that service alone.
haproxy -v | head -n 1
