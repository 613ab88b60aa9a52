#!/usr/bin/env bash
# Whole-process throughput of aocpipe batch against the decompressors on the same archive.
#
#   Benchmarks/compare.sh [DIR] [ROUNDS]
#
# Generates (once) a ~1 GB synthetic CDR archive in DIR (default /tmp/aocpipe-bench) with
# `aocpipe generate`, then runs gzip -dc, pigz -dc (if installed), aocpipe on the .gz and
# aocpipe on the plain file, interleaved, ROUNDS times (default 5), and prints the median
# seconds, MB/s of decoded text and peak resident memory of each. Checks that aocpipe's call
# count equals the generator's truth. Needs a release build: swift build -c release; the
# ISA-L build joins when present:
#   swift build -c release --traits ISAL --scratch-path .build-isal
# and so do the peers a user would pick instead, when installed: igzip (apt: isal), polars
# and DuckDB (pip install polars duckdb), each counting hotline calls on the same .gz.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/.build/release/aocpipe
isal=$here/.build-isal/release/aocpipe
peers=$here/Benchmarks/peers
dir=${1:-/tmp/aocpipe-bench}
rounds=${2:-5}
[ -x "$bin" ] || { echo "build first: swift build -c release" >&2; exit 1; }

if [ ! -f "$dir/telephony/Master.csv-0001.gz" ]; then
  echo "generating ~1 GB of CDR in $dir ..." >&2
  /usr/bin/time -f "generate: %e s" "$bin" generate --profile synthetic --out "$dir" \
    --days 30 --calls-per-day 127000 --files 1 --seed 1
fi
gz=$dir/telephony/Master.csv-0001.gz
plain=$dir/plain/Master.csv
if [ ! -f "$plain" ]; then mkdir -p "$dir/plain"; gzip -dc "$gz" > "$plain"; fi
decoded=$(stat -c %s "$plain")
truth=$(grep -o '"calls":[0-9]*' "$dir/truth.json" | head -1 | cut -d: -f2)
printf 'name: bench-gz\nsources:\n  - { name: telephony, format: asterisk-cdr, paths: ["%s"] }\n' "$gz" > "$dir/gz.yaml"
printf 'name: bench-plain\nsources:\n  - { name: telephony, format: asterisk-cdr, paths: ["%s"] }\n' "$plain" > "$dir/plain.yaml"

declare -A runs
tools=("gzip -dc" "aocpipe gz" "aocpipe plain")
command -v pigz >/dev/null && tools=("gzip -dc" "pigz -dc" "${tools[@]:1}")
command -v igzip >/dev/null && tools=("igzip -dc" "${tools[@]}")
[ -x "$isal" ] && tools+=("aocpipe-isal gz")
python3 -c "import polars" 2>/dev/null && tools+=("polars gz")
python3 -c "import duckdb" 2>/dev/null && tools+=("duckdb gz")
run() {
  case "$1" in
    "gzip -dc") gzip -dc "$gz" > /dev/null ;;
    "pigz -dc") pigz -dc "$gz" > /dev/null ;;
    "igzip -dc") igzip -dc "$gz" > /dev/null ;;
    "aocpipe-isal gz") "$isal" batch "$dir/gz.yaml" --format json --windows day --progress never > "$dir/out-isal.json" ;;
    "polars gz") python3 "$peers/polars_cdr.py" "$gz" > "$dir/out-polars.txt" ;;
    "duckdb gz") python3 "$peers/duckdb_cdr.py" "$gz" > "$dir/out-duckdb.txt" ;;
    "aocpipe gz") "$bin" batch "$dir/gz.yaml" --format json --windows day --progress never > "$dir/out-gz.json" ;;
    "aocpipe plain") "$bin" batch "$dir/plain.yaml" --format json --windows day --progress never > "$dir/out-plain.json" ;;
  esac
}
export -f run 2>/dev/null || true
for ((r = 1; r <= rounds; r++)); do
  for t in "${tools[@]}"; do
    out=$( { /usr/bin/time -f "%e %M" bash -c "$(declare -f run); gz='$gz' bin='$bin' isal='$isal' peers='$peers' dir='$dir'; run '$t'"; } 2>&1 | tail -1)
    runs[$t]+="$out"$'\n'
  done
done
outs="out-gz out-plain"; [ -x "$isal" ] && outs="$outs out-isal"
for f in $outs; do
  got=$(grep -o '"calls":[0-9]*' "$dir/$f.json" | head -1 | cut -d: -f2)
  [ "$got" = "$truth" ] || { echo "MISMATCH: $f counted $got calls, truth $truth" >&2; exit 1; }
done
for f in out-polars out-duckdb; do
  [ -f "$dir/$f.txt" ] || continue
  got=$(cat "$dir/$f.txt")
  [ "$got" = "$truth" ] || { echo "MISMATCH: $f counted $got calls, truth $truth" >&2; exit 1; }
done
echo "decoded CDR: $decoded bytes ($(stat -c %s "$gz") compressed), $truth hotline calls (matches truth)"
printf '%-14s %9s %9s %10s\n' tool "median s" "MB/s" "peak RSS"
for t in "${tools[@]}"; do
  med=$(printf '%s' "${runs[$t]}" | awk 'NF' | sort -n | awk '{a[NR]=$1; m[NR]=$2} END {print a[int((NR+1)/2)], m[int((NR+1)/2)]}')
  s=${med% *}; kb=${med#* }
  printf '%-14s %9.2f %9.0f %7.0f MB\n' "$t" "$s" "$(echo "$decoded / $s / 1000000" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
done
