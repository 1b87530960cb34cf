#!/usr/bin/env bash
# Creates (once) the Python venv of analytics/ in .cache/venv with the pinned requirements and
# prints its python. Reinstalls when analytics/requirements.txt changes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=${SIGHTLINE_VENV:-$repo/.cache/venv}
req=$repo/analytics/requirements.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  t0=$(date +%s)
  echo "analytics: installing $req into $venv (chdb-core is ~530 MB)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
  echo "analytics: venv ready in $(( $(date +%s) - t0 )) s" >&2
fi
echo "$venv/bin/python"
