#!/usr/bin/env bash
# Short fuzz run of every cargo-fuzz target of the collector (collector/fuzz/), for CI;
# the same script runs the long campaigns with a bigger duration.
#
#   scripts/fuzz-smoke.sh [SECONDS_PER_TARGET] [TARGET...]      default 25 s, all targets
#
# Seeds come from collector/fuzz/corpus/<target> (committed, read only here); new inputs
# go to a scratch corpus under collector/fuzz/target/ so the repo is not modified.
# Crashes land in collector/fuzz/artifacts/<target>/ and fail the run. Prints the
# executions and coverage (libFuzzer's cov/ft) per target. Installs what it needs when
# missing (scripts/ensure.sh): a nightly toolchain (libFuzzer's sanitizer flags are
# nightly-only) and cargo-fuzz. The first build compiles the collector with ASan: about 8 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../collector/fuzz"
../../scripts/ensure.sh fuzz-smoke  # nightly and cargo-fuzz

seconds=${1:-25}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(cargo +nightly fuzz list)
# Low-priority: other work shares this machine.
nice_cmd=(nice -n 10)

# `cargo fuzz build` takes one target (or none: all of them).
if [ $# -eq 0 ]; then
  "${nice_cmd[@]}" cargo +nightly fuzz build -O
else
  for t in "${targets[@]}"; do "${nice_cmd[@]}" cargo +nightly fuzz build -O "$t"; done
fi

scratch=target/fuzz-corpus
summary=()
status=0
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "corpus/$target"
  log=target/fuzz-$target.log
  echo "==> $target for ${seconds} s"
  if "${nice_cmd[@]}" cargo +nightly fuzz run -O "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 40 "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
  units=$(find "$scratch/$target" -type f | wc -l)
  summary+=("$(printf '%-24s %-6s execs=%-10s %s corpus+=%s' "$target" "$result" "${execs:-?}" "${cov:-cov: ?}" "$units")")
done

echo
echo "fuzz smoke (${seconds} s per target):"
printf '  %s\n' "${summary[@]}"
exit $status
