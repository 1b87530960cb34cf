# shellcheck shell=bash
# Shell helpers shared by the scripts that start servers (demo.sh, bench.sh, tests/e2e/run.sh).
# Source it; it defines functions only and changes no shell options.

# True when nothing listens on 127.0.0.1:PORT.
port_free() { # port
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Polls URL every 0.2 s until it answers 2xx; false after SECONDS.
http_ready() { # url seconds
  local tries=$(( $2 * 5 ))
  for _ in $(seq 1 "$tries"); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# SIGTERM, then SIGKILL after SECONDS (default 10) if the process is still there.
stop_pid() { # pid [seconds]
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $(( ${2:-10} * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
