#!/usr/bin/env bash
# Whole-process runs of aocpipe batch against the decompressors and the tools a user would
# pick instead, on the same files, in one run, interleaved.
#
#   Benchmarks/compare.sh [DIR] [ROUNDS]
#
# Generates (once, with `aocpipe generate`) in DIR (default /tmp/aocpipe-bench):
#   cdr/     a ~1 GB CDR archive (one gzip -6 member), one line a call, and its freeze log
#   cc/      a ~1 GB CDR archive as a queue call centre writes it (several lines a call)
#   fz/      a ~300 MB (decoded) freeze JSONL archive
#   cdr8/    the 1 GB of CDR again, as 8 files
# then runs every workload ROUNDS times (default 5), tools interleaved, and prints the median
# seconds, MB/s of decoded text, peak resident memory and the ratios the speed issue asks
# for. Every counting tool's per-day counts are checked against the generator's truth.
#
# Needs both release builds, as deployed (the Swift runtime linked in, see README):
#   swift build -c release --static-swift-stdlib
#   swift build -c release --static-swift-stdlib --traits ISAL --scratch-path .build-isal
# and uses, when installed: pigz, igzip (apt: pigz isal), mawk, polars and DuckDB
# (pip install polars duckdb).
#
# BEFORE=DIR (a checkout of an earlier commit with both release builds, made as above) adds
# that checkout's builds on the aocpipe workloads, in the same rounds, and their ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/.build/release/aocpipe
isal=$here/.build-isal/release/aocpipe
peers=$here/Benchmarks/peers
dir=${1:-/tmp/aocpipe-bench}
rounds=${2:-5}
[ -x "$bin" ] || { echo "build first: swift build -c release --static-swift-stdlib" >&2; exit 1; }
[ -x "$isal" ] || { echo "build first: swift build -c release --static-swift-stdlib --traits ISAL --scratch-path .build-isal" >&2; exit 1; }
for b in "$bin" "$isal"; do
  # grep reads all of ldd's output (no -q): an early exit would fail the pipe under pipefail.
  if [ "$(ldd "$b" 2>/dev/null | grep -c libswiftCore || true)" != 0 ]; then
    echo "note: $b loads the Swift runtime as shared libraries; the figures in BENCHMARKS.md are of --static-swift-stdlib builds" >&2
  fi
done

generate() {  # DIR DAYS CALLS FILES SEED STYLE
  [ -f "$1/truth.json" ] && return
  echo "generating $1 ..." >&2
  /usr/bin/time -f "  generated in %e s" "$bin" generate --profile synthetic --out "$1" --force \
    --days "$2" --calls-per-day "$3" --files "$4" --seed "$5" --cdr-style "${6:-simple}" >&2
}
generate "$dir/cdr" 30 127000 1 1
generate "$dir/cc" 30 26800 1 1 callcentre
generate "$dir/fz" 64 127000 1 2
generate "$dir/cdr8" 30 127000 8 1
cdr=$dir/cdr/telephony/Master.csv-0001.gz
cc=$dir/cc/telephony/Master.csv-0001.gz
fz=$dir/fz/freeze/freeze.jsonl-0001.gz
[ -f "$dir/cdr/Master.csv" ] || gzip -dc "$cdr" > "$dir/cdr/Master.csv"
cdr_bytes=$(stat -c %s "$dir/cdr/Master.csv")
fz_bytes=$(gzip -dc "$fz" | wc -c)
cdr8_bytes=$(cat "$dir"/cdr8/telephony/*.gz | gzip -dc | wc -c)
cc_bytes=$(gzip -dc "$cc" | wc -c)
yaml() {  # NAME FORMAT GLOB
  printf 'name: %s\nsources:\n  - { name: s, format: %s, paths: ["%s"] }\n' "$1" "$2" "$3"
}
yaml cdr asterisk-cdr "$cdr" > "$dir/cdr.yaml"
yaml cdr-plain asterisk-cdr "$dir/cdr/Master.csv" > "$dir/cdr-plain.yaml"
yaml fz freeze-jsonl "$fz" > "$dir/fz.yaml"
yaml cdr8 asterisk-cdr "$dir/cdr8/telephony/Master.csv-*" > "$dir/cdr8.yaml"
yaml cc asterisk-cdr "$cc" > "$dir/cc.yaml"

# Each tool: a label, a workload (its decoded bytes and truth) and a command that prints
# "YYYY-MM-DD count" per day (or nothing, for the decompressors).
# aocpipe's JSON is turned into days after the clock stops (`post`), so Python's start is not
# counted against it; the Python peers' own start is part of them.
labels=() ; declare -A cmd work post
add() { labels+=("$1"); work[$1]=$2; cmd[$1]=$3; post[$1]=${4:-}; }
aoc() { echo "$1 batch $2 --format json --windows day --progress never"; }
days() { echo "python3 $peers/days.py $dir/out.json $1"; }
command -v igzip >/dev/null && add "igzip -dc" cdr "igzip -dc $cdr > /dev/null"
add "gzip -dc" cdr "gzip -dc $cdr > /dev/null"
command -v pigz >/dev/null && add "pigz -dc" cdr "pigz -dc $cdr > /dev/null"
add "aocpipe, zlib build" cdr "$(aoc "$bin" "$dir/cdr.yaml")" "$(days calls)"
add "aocpipe, ISA-L build" cdr "$(aoc "$isal" "$dir/cdr.yaml")" "$(days calls)"
add "aocpipe, plain file" cdr "$(aoc "$isal" "$dir/cdr-plain.yaml")" "$(days calls)"
command -v mawk >/dev/null && add "zcat | mawk" cdr \
  "zcat $cdr | mawk -F'\",\"' '\$3 == \"1441\" { n[substr(\$10, 1, 10)]++ } END { for (d in n) print d, n[d] }' | sort"
python3 -c "import polars" 2>/dev/null && add "polars" cdr "python3 $peers/polars_cdr.py $cdr"
python3 -c "import duckdb" 2>/dev/null && add "DuckDB" cdr "python3 $peers/duckdb_cdr.py $cdr"
add "aocpipe ISA-L, call centre" cc "$(aoc "$isal" "$dir/cc.yaml")" "$(days calls)"
add "aocpipe zlib, call centre" cc "$(aoc "$bin" "$dir/cc.yaml")" "$(days calls)"
python3 -c "import polars" 2>/dev/null && add "polars n_unique, c.c." cc "python3 $peers/polars_calls.py $cc"
add "aocpipe ISA-L, JSONL" fz "$(aoc "$isal" "$dir/fz.yaml")" "$(days accounts_frozen)"
add "aocpipe zlib, JSONL" fz "$(aoc "$bin" "$dir/fz.yaml")" "$(days accounts_frozen)"
python3 -c "import duckdb" 2>/dev/null && add "DuckDB read_json" fz "python3 $peers/duckdb_freeze.py $fz"
if [ -n "${BEFORE:-}" ]; then
  add "before: zlib build" cdr "$(aoc "$BEFORE/.build/release/aocpipe" "$dir/cdr.yaml")" "$(days calls)"
  add "before: ISA-L build" cdr "$(aoc "$BEFORE/.build-isal/release/aocpipe" "$dir/cdr.yaml")" "$(days calls)"
  add "before: ISA-L, JSONL" fz "$(aoc "$BEFORE/.build-isal/release/aocpipe" "$dir/fz.yaml")" "$(days accounts_frozen)"
  add "before: 8 files, both" cdr8 "$(aoc "$BEFORE/.build-isal/release/aocpipe" "$dir/cdr8.yaml")" "$(days calls)"
fi
add "8 files, both cores" cdr8 "$(aoc "$isal" "$dir/cdr8.yaml")" "$(days calls)"
add "8 files, one core" cdr8 "taskset -c 0 $(aoc "$isal" "$dir/cdr8.yaml")" "$(days calls)"

python3 "$peers/days.py" "$dir/cdr/truth.json" calls > "$dir/truth-cdr.txt"
python3 "$peers/days.py" "$dir/fz/truth.json" accounts_frozen > "$dir/truth-fz.txt"
python3 "$peers/days.py" "$dir/cdr8/truth.json" calls > "$dir/truth-cdr8.txt"
python3 "$peers/days.py" "$dir/cc/truth.json" calls > "$dir/truth-cc.txt"

declare -A times
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds ..." >&2
  for t in "${labels[@]}"; do
    if [ -n "${post[$t]}" ]; then
      /usr/bin/time -o "$dir/time.txt" -f "%e %M" bash -c "${cmd[$t]}" > "$dir/out.json"
      bash -c "${post[$t]}" > "$dir/days.txt"
    else
      /usr/bin/time -o "$dir/time.txt" -f "%e %M" bash -c "${cmd[$t]}" > "$dir/days.txt"
    fi
    if [ -s "$dir/days.txt" ] && ! cmp -s <(sort "$dir/days.txt") "$dir/truth-${work[$t]}.txt"; then
      echo "MISMATCH: $t per-day counts differ from the generator's truth:" >&2
      diff <(sort "$dir/days.txt") "$dir/truth-${work[$t]}.txt" | head >&2
      exit 1
    fi
    times[$t]+="$(cat "$dir/time.txt")"$'\n'
  done
done

declare -A med
echo
echo "CDR archive: $cdr_bytes bytes decoded; call centre: $cc_bytes; freeze JSONL: $fz_bytes; 8 files: $cdr8_bytes."
echo "Median of $rounds interleaved rounds. Per-day counts of every counting tool = truth."
printf '%-22s %9s %10s %10s\n' tool "median s" "MB/s" "peak RSS"
for t in "${labels[@]}"; do
  m=$(printf '%s' "${times[$t]}" | awk 'NF' | sort -n | awk '{a[NR]=$1; k[NR]=$2} END {print a[int((NR+1)/2)], k[int((NR+1)/2)]}')
  s=${m% *}; kb=${m#* }
  case ${work[$t]} in cdr) b=$cdr_bytes ;; cc) b=$cc_bytes ;; fz) b=$fz_bytes ;; cdr8) b=$cdr8_bytes ;; esac
  med[$t]=$s
  printf '%-22s %9.2f %10.0f %7.0f MB\n' "$t" "$s" "$(echo "$b / $s / 1000000" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
done
ratio() {  # LABEL A B: how many times faster A is than B
  [ -n "${med[$2]:-}" ] && [ -n "${med[$3]:-}" ] && printf '%-46s %5.2fx\n' "$1" "$(echo "${med[$3]} / ${med[$2]}" | bc -l)"
  return 0
}
throughput() {  # LABEL A A-BYTES B B-BYTES: A's MB/s over B's
  [ -n "${med[$2]:-}" ] && [ -n "${med[$4]:-}" ] && printf '%-46s %5.2fx\n' "$1" "$(echo "($3 / ${med[$2]}) / ($5 / ${med[$4]})" | bc -l)"
  return 0
}
echo
ratio "zlib build vs pigz -dc (want >= 0.9)" "aocpipe, zlib build" "pigz -dc"
ratio "ISA-L build vs polars (want >= 2)" "aocpipe, ISA-L build" "polars"
ratio "ISA-L build vs igzip -dc (want >= 0.6)" "aocpipe, ISA-L build" "igzip -dc"
ratio "8 files, both cores vs one (want >= 1.7)" "8 files, both cores" "8 files, one core"
ratio "ISA-L JSONL vs DuckDB read_json (want >= 3)" "aocpipe ISA-L, JSONL" "DuckDB read_json"
ratio "ISA-L call centre vs polars n_unique" "aocpipe ISA-L, call centre" "polars n_unique, c.c."
throughput "ISA-L MB/s, call centre vs one line a call (want >= 0.9)" "aocpipe ISA-L, call centre" "$cc_bytes" "aocpipe, ISA-L build" "$cdr_bytes"
throughput "zlib MB/s, call centre vs one line a call (want >= 0.9)" "aocpipe zlib, call centre" "$cc_bytes" "aocpipe, zlib build" "$cdr_bytes"
if [ -n "${BEFORE:-}" ]; then
  echo
  ratio "zlib build vs before" "aocpipe, zlib build" "before: zlib build"
  ratio "ISA-L build vs before" "aocpipe, ISA-L build" "before: ISA-L build"
  ratio "ISA-L JSONL vs before" "aocpipe ISA-L, JSONL" "before: ISA-L, JSONL"
  ratio "8 files, both cores vs before" "8 files, both cores" "before: 8 files, both"
fi
