#!/usr/bin/env bash
# Every fuzz target for SECONDS each (default 600), two at a time (one a core here), then
# their figures: executions, executions per second, crashes found.
#
#   Fuzz/campaign.sh [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-600}
logs=${AOCPIPE_FUZZ_WORK:-/tmp/aocpipe-fuzz}/logs
mkdir -p "$logs"
# Build first, one at a time (the builds share a scratch directory).
for t in cdr json gzip checkpoint pipeline; do "$here/run.sh" "$t" 0 >/dev/null 2>"$logs/$t.build" || { cat "$logs/$t.build" >&2; exit 1; }; done
run() { "$here/run.sh" "$1" "$seconds" >"$logs/$1.out" 2>"$logs/$1.log" || true; }
marker=$logs/started
touch "$marker"
run cdr & run json & wait
run gzip & run checkpoint & wait
run pipeline
printf '%-11s %12s %10s %8s\n' target executions "exec/s" crashes
for t in cdr json gzip checkpoint pipeline; do
  runs=$(grep 'stat::number_of_executed_units:' "$logs/$t.log" | tail -1 | awk '{print $2}')
  rate=$(grep 'stat::average_exec_per_sec:' "$logs/$t.log" | tail -1 | awk '{print $2}')
  found=$(find "$here/Regressions/$t" -type f -newer "$marker" ! -name .keep | wc -l)  # found by this campaign
  printf '%-11s %12s %10s %8s\n' "$t" "${runs:-?}" "${rate:-?}" "$found"
done
