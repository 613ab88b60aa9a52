#!/usr/bin/env bash
# Builds one fuzz target with libFuzzer and AddressSanitizer and runs it.
#
#   Fuzz/run.sh TARGET [SECONDS]      TARGET: cdr, json, gzip, checkpoint, pipeline
#                                     SECONDS 0: build only
#
# Seeds: Fuzz/Corpus/TARGET (committed); what the run finds grows a work corpus in
# ${AOCPIPE_FUZZ_WORK:-/tmp/aocpipe-fuzz}/TARGET. An input that crashes, leaks, times out
# (10 s) or takes more than 1 GB goes to Fuzz/Regressions/TARGET/: commit it with its fix, and
# `swift test` replays it from then on (FuzzRegressionTests). The last lines printed hold the
# executions and executions per second (BENCHMARKS.md, "Fuzzing").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: Fuzz/run.sh cdr|json|gzip|checkpoint|pipeline [SECONDS]}
seconds=${2:-60}
case $target in
  cdr) product=FuzzCDR ;; json) product=FuzzJSON ;; gzip) product=FuzzGzip ;;
  checkpoint) product=FuzzCheckpoint ;; pipeline) product=FuzzPipeline ;;
  *) echo "unknown target $target (cdr, json, gzip, checkpoint, pipeline)" >&2; exit 64 ;;
esac
scratch=$here/.build-fuzz
swift build --package-path "$here" --scratch-path "$scratch" -c debug --product "$product" \
  --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
[ "$seconds" = 0 ] && exit 0
work=${AOCPIPE_FUZZ_WORK:-/tmp/aocpipe-fuzz}/$target
mkdir -p "$work" "$here/Regressions/$target"
dict=()
[ -f "$here/Dictionaries/$target.dict" ] && dict=(-dict="$here/Dictionaries/$target.dict")
# Without SWIFT_BACKTRACE=enable=no a Swift crash leaves no artifact.
SWIFT_BACKTRACE=enable=no "$scratch/debug/$product" "$work" "$here/Corpus/$target" "${dict[@]}" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=16384 -print_final_stats=1 \
  -artifact_prefix="$here/Regressions/$target/"
