#!/usr/bin/env bash
# Prints the python of analytics/'s venv (.cache/venv, pinned analytics/requirements.txt),
# installing it first when missing or when the requirements changed (scripts/ensure.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/ensure.sh" venv-analytics >&2
echo "$repo/.cache/venv/bin/python"
