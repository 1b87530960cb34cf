#!/usr/bin/env bash
# Installs what a make target needs on a fresh Debian machine of this project's kind (rustup,
# Java 17, Maven, Node.js 20+, Python 3.11 and apt are there; everything else comes from here).
# The script behind every make target calls it with the target's name, so `make test` and
# `make demo` work on a fresh clone with nothing run before them. Idempotent: each step checks first; when everything is
# there it prints one line and takes about a second. It prints what it installs.
#
#   scripts/ensure.sh TARGET|STEP...    e.g. `scripts/ensure.sh test`, `scripts/ensure.sh chromium`
#   scripts/ensure.sh --list            every step, which targets need it, how it is installed
#
# Adding a step is one line in the table below:
#
#   step NAME "TARGETS…" KIND ARGS…
#
# NAME is free (also usable as an argument above); TARGETS are the make targets that need it;
# KIND is one of
#   apt PKG[:COMMAND]…          Debian packages; skipped when dpkg has them (or COMMAND is on PATH)
#   rustup-component NAME…      rustup component add
#   rustup-target TRIPLE        rustup target add
#   rustup-toolchain NAME       rustup toolchain install --profile minimal
#   cargo-install CRATE VERSION BIN   cargo install unless installed (cargo's list, `BIN --version`)
#   go-install MODULE@VERSION BIN     go install (Go module proxy) when BIN is missing
#   npm DIR                     npm ci in DIR when its package-lock.json changed since the last one
#   venv DIR REQUIREMENTS       a Python venv at DIR with exactly REQUIREMENTS (pinned)
#   run COMMAND…                anything else: COMMAND must be idempotent and quick when done
# Steps run in table order; all apt packages of the requested steps are installed in one go, first.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

wasm_bindgen=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)  # the CLI must equal the crate

# --- the steps ------------------------------------------------------------------------------
names=() ; targets=() ; kinds=() ; args=()
step() { names+=("$1"); targets+=(" $2 "); kinds+=("$3"); shift 3; args+=("$*"); }

#    name              needed by (make targets; e2e = tests/e2e/run.sh)     kind and arguments
step protoc            "test report bench-analytics"                        apt protobuf-compiler:protoc
step chromium          "test e2e bench test-reliability test-browsers test-dashboard" apt chromium:chromium chromium-driver:chromedriver
step browsers          "test test-browsers"                                 apt firefox-esr:firefox-esr webkit2gtk-driver:WebKitWebDriver xvfb:Xvfb
step kcat              "test e2e"                                           apt kcat:kcat
step ffmpeg            "test e2e demo"                                      apt ffmpeg:ffmpeg
step shellcheck        "test lint"                                          apt shellcheck:shellcheck
step valgrind          "bench"                                              apt valgrind:valgrind
step haproxy           "cluster test-cluster"                               apt haproxy:haproxy
step java-maven        "test e2e demo bench test-reliability kafka-up cluster test-cluster bench-analytics test-personalization" apt openjdk-17-jre-headless:java maven:mvn
step rust-lint         "test lint"                                          rustup-component rustfmt clippy
step wasm32            "test e2e lint demo sdk bench test-reliability test-browsers" rustup-target wasm32-unknown-unknown
step wasm-bindgen      "test e2e demo sdk bench test-reliability test-browsers" cargo-install wasm-bindgen-cli "$wasm_bindgen" wasm-bindgen
step geckodriver       "test test-browsers"                                 cargo-install geckodriver 0.37.1 geckodriver
step nightly           "fuzz-smoke"                                         rustup-toolchain nightly
step cargo-fuzz        "fuzz-smoke"                                         cargo-install cargo-fuzz 0.13.2 cargo-fuzz
step npm-sdk           "test e2e demo sdk bench test-reliability test-browsers" npm sdk-wasm
step npm-browser-tests "test test-reliability test-dashboard"               npm tests/browser
step npm-harness       "test test-browsers lint"                            npm tests/harness
step npm-e2e           "test e2e lint"                                      npm tests/e2e
step npm-demo          "test e2e lint demo"                                 npm demo-site
step npm-bench         "test lint bench"                                    npm bench/sdk
step npm-lint          "test lint"                                          npm tools/lint
step npm-import        "test"                                               npm tests/import
step venv-import       "test"                                               venv .cache/import-venv tests/import/requirements.txt
step venv-lint         "test lint"                                          venv .cache/lint-venv tools/lint/requirements.txt
step venv-analytics    "test report bench-analytics test-dashboard demo test-personalization"    venv .cache/venv analytics/requirements.txt
step venv-mmdb         "test"                                               venv .cache/mmdb-venv tests/mmdb/requirements.txt
step kafka             "test e2e demo bench test-reliability kafka-up cluster test-cluster bench-analytics test-personalization" run scripts/kafka.sh fetch

# --- how each kind is installed -------------------------------------------------------------
log() { printf 'ensure: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
installed=()
timed() { # what command…: runs it and reports how long it took
  local what=$1 t0; shift; t0=$(date +%s)
  log "installing $what"
  "$@"
  log "installed $what in $(( $(date +%s) - t0 )) s"
  installed+=("$what")
}

apt_get() { # packages…
  # Another apt/dpkg (a neighbour's install) may hold the lock: wait for it, bounded.
  local tries=0
  until as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; do
    tries=$((tries + 1)); [ $tries -lt 30 ] || return 1
    log "apt-get failed or busy; retrying in 10 s ($tries/30)"; sleep 10
  done
}

apt_install() { # pkg[:command]…
  local missing=() spec pkg cmd
  for spec in "$@"; do
    pkg=${spec%%:*}; cmd=${spec#*:}
    [ "$cmd" != "$spec" ] && command -v "$cmd" >/dev/null 2>&1 && continue
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] || timed "apt packages ${missing[*]}" apt_get "${missing[@]}"
}

rustup_component() {
  local missing=() c
  for c in "$@"; do rustup component list --installed | grep -q "^$c" || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] || timed "rustup components ${missing[*]}" rustup component add "${missing[@]}"
}

rustup_target() {
  rustup target list --installed | grep -qx "$1" || timed "rustup target $1" rustup target add "$1"
}

rustup_toolchain() {
  rustup run "$1" rustc --version >/dev/null 2>&1 \
    || timed "rustup toolchain $1" rustup toolchain install "$1" --profile minimal
}

cargo_install() { # crate version bin
  cargo install --list | grep -qxF "$1 v$2:" && return
  "$3" --version 2>/dev/null | grep -qF "$2" && return
  # No --locked: the registry mirror lacks versions some lock files pin (see TOOLCHAIN.md).
  timed "cargo install $1 $2 (minutes on 2 cores)" cargo install "$1" --version "$2" --quiet
}

go_install() { # module@version bin
  command -v "$2" >/dev/null || timed "go install $1" go install "$1"
}

npm_ci() { # dir
  local dir=$1 want stamp
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp=$dir/node_modules/.sightline-lock.sha256
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return
  timed "npm packages of $dir" npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
}

venv() { # dir requirements
  local dir=$1 req=$2 want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$want" ] && return
  make_venv() { python3 -m venv "$1" && "$1/bin/pip" install --quiet --disable-pip-version-check -r "$2"; }
  timed "Python venv $dir from $req" make_venv "$dir" "$req"
  echo "$want" >"$dir/.requirements.sha256"
}

run_step() { # kind args…
  local kind=$1; shift
  case $kind in
    apt) ;; # done up front, all packages at once
    rustup-component) rustup_component "$@" ;;
    rustup-target) rustup_target "$@" ;;
    rustup-toolchain) rustup_toolchain "$@" ;;
    cargo-install) cargo_install "$@" ;;
    go-install) go_install "$@" ;;
    npm) npm_ci "$@" ;;
    venv) venv "$@" ;;
    run) "$@" ;;
    *) log "unknown step kind $kind"; exit 2 ;;
  esac
}

# --- which steps ----------------------------------------------------------------------------
if [ "${1:-}" = --list ]; then
  for i in "${!names[@]}"; do
    printf '%-18s %-46s %s %s\n' "${names[i]}" "${targets[i]# }" "${kinds[i]}" "${args[i]}"
  done
  exit 0
fi
[ $# -gt 0 ] || { sed -n '2,9p' "$0" >&2; exit 2; }

chosen=()
for want in "$@"; do
  found=no
  for i in "${!names[@]}"; do
    if [[ ${targets[i]} == *" $want "* || ${names[i]} == "$want" ]]; then
      [[ " ${chosen[*]} " == *" $i "* ]] || chosen+=("$i")
      found=yes
    fi
  done
  # A make target with no steps (e.g. help) is fine; a typo is not.
  [ $found = yes ] || grep -q "^$want:" Makefile || { log "no step or target named $want"; exit 2; }
done
mapfile -t chosen < <(printf '%s\n' "${chosen[@]}" | sort -n)

started=$(date +%s)
apt_specs=()
for i in "${chosen[@]}"; do
  # shellcheck disable=SC2206 # arguments are words by design
  [ "${kinds[i]}" = apt ] && apt_specs+=(${args[i]})
done
[ ${#apt_specs[@]} -eq 0 ] || apt_install "${apt_specs[@]}"
for i in "${chosen[@]}"; do
  # shellcheck disable=SC2086 # arguments are words by design
  run_step "${kinds[i]}" ${args[i]}
done
if [ ${#installed[@]} -eq 0 ]; then
  log "$* ready (${#chosen[@]} steps already done)"
else
  log "$* ready after $(( $(date +%s) - started )) s; installed: $(printf '%s; ' "${installed[@]}")"
fi
