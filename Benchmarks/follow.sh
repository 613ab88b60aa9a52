#!/usr/bin/env bash
# Follow mode at production scale (issue 14's table): the CPU a follower takes with N idle
# files (last written an hour ago), with one line appended to one of 1,000 files every 10 ms,
# its open descriptors, and the bytes it writes (checkpoints, sinks) while nothing changes;
# then the rows of Benchmarks/follow_rows.py: checkpoint bytes a day, catching up, restarts,
# appending at full speed, write-to-/metrics latency, RSS over simulated days, 10,000 files.
#
#   Benchmarks/follow.sh [DIR] [SECONDS]
#
# DIR (default /tmp/aocpipe-follow-bench) gets one directory of files per set; each measure
# runs SECONDS (default 20) after the follower has settled. Needs the release build, as
# deployed (swift build -c release --static-swift-stdlib) and python3 (the line writer).
# ROWS: which rows (default: idle checkpoint checkpoint100 catchup restart-gzip live latency
# rss manyfiles; all but idle are Benchmarks/follow_rows.py, which says what each measures).
# BEFORE=DIR (a checkout of an earlier commit with its release build) measures that build's
# idle rows too, in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/aocpipe-follow-bench}
secs=${2:-20}
builds=("now:$here/.build/release/aocpipe")
[ -n "${BEFORE:-}" ] && builds+=("before:$BEFORE/.build/release/aocpipe")
for b in "${builds[@]}"; do [ -x "${b#*:}" ] || { echo "build first: ${b#*:}" >&2; exit 1; }; done
ticks=$(getconf CLK_TCK)

line() {  # UNIQUEID: one hotline CDR line (18 columns)
  printf '"","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/trunk-1","PJSIP/agent1-1","Queue","aoc1441,t,,,300","2023-11-01 10:00:00","2023-11-01 10:00:01","2023-11-01 10:02:00",120,119,"ANSWERED","DOCUMENTATION","%s",""\n' "$1"
}

setup() {  # N: N files of two lines each, and a pipeline following them
  local n=$1 d=$dir/files-$1
  [ -f "$d/.ready" ] && return
  rm -rf "$d"; mkdir -p "$d/logs"
  for i in $(seq 1 "$n"); do { line "1698800000.$i"; line "1698800001.$i"; } > "$d/logs/Master-$i.csv"; done
  touch "$d/.ready"
}

age() {  # N: the files were last written an hour ago (idle, as rotated logs are)
  find "$dir/files-$1/logs" -name 'Master-*.csv' -exec touch -d '1 hour ago' {} +
}

pipeline() {  # N LABEL: a pipeline file with its own checkpoint and sink
  local d=$dir/files-$1 p=$dir/run-$2-$1
  rm -rf "$p"; mkdir -p "$p"
  cat > "$p/p.yaml" <<YAML
name: bench
sources:
  - { name: telephony, format: asterisk-cdr, paths: ["$d/logs/Master-*.csv"] }
checkpoint: { path: $p/state }
sinks:
  - { type: file, format: json, path: $p/out.json }
YAML
  echo "$p"
}

cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wchar() { awk '/^wchar/ { print $2 }' "/proc/$1/io"; }

measure() {  # LABEL BIN N WRITE(0|1): prints cpu%, descriptors, bytes written per minute
  local label=$1 bin=$2 n=$3 write=$4 p
  age "$n"
  p=$(pipeline "$n" "$label")
  "$bin" follow "$p/p.yaml" --log-level warning > /dev/null 2> "$p/log" &
  local pid=$!
  for _ in $(seq 1 600); do [ -f "$p/state" ] && break; sleep 0.1; done
  sleep 3  # settle: the first read, the first checkpoint
  local writer=""
  if [ "$write" = 1 ]; then
    python3 - "$dir/files-$n/logs" "$n" "$secs" <<'PY' &
import os, random, sys, time
d, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) + 5
end, k = time.time() + secs, 0
while time.time() < end:
    k += 1
    uid = "1698900000.%d" % k
    line = '"","0812345678","1441","aoc-hotline","""Caller"" <0812345678>","PJSIP/trunk-1","PJSIP/agent1-1","Queue","aoc1441,t,,,300","2023-11-01 10:00:00","2023-11-01 10:00:01","2023-11-01 10:02:00",120,119,"ANSWERED","DOCUMENTATION","%s",""\n' % uid
    with open(os.path.join(d, "Master-%d.csv" % random.randint(1, n)), "a") as f:
        f.write(line)
    time.sleep(0.01)
PY
    writer=$!
    sleep 1
  fi
  local c0 w0 c1 w1 fds
  c0=$(cpu "$pid"); w0=$(wchar "$pid")
  sleep "$secs"
  c1=$(cpu "$pid"); w1=$(wchar "$pid")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  [ -n "$writer" ] && { kill "$writer" 2>/dev/null || true; wait "$writer" 2>/dev/null || true; }
  kill -TERM "$pid"; wait "$pid" || true
  awk -v c=$((c1 - c0)) -v t="$ticks" -v s="$secs" -v w=$((w1 - w0)) -v f="$fds" -v l="$label" -v n="$n" -v wr="$write" \
    'BEGIN { printf "  %-7s %5d files %-14s CPU %6.2f%% of a core   fds %5d   written %10.0f bytes/min\n",
             l, n, (wr == 1 ? "1 line/10 ms" : "idle"), 100 * c / t / s, f, w * 60 / s }'
}

# The big set for catching up, restarts and appending: 16 days x 150,000 calls a day of plain
# CDR (~600 MB), generated once.
big=$dir/big-16
if [ ! -f "$big/truth.json" ]; then
  "${builds[0]#*:}" generate --profile synthetic --out "$big" --force --days 16 --calls-per-day 150000 \
    --gzip 0 --cdr-style simple > /dev/null 2>&1
fi

for n in 1 100 1000; do setup "$n"; done
echo "follow.sh: $secs s per measure, $(nproc) cores"
rows=${ROWS:-idle checkpoint checkpoint100 catchup restart-gzip live latency rss manyfiles}
for b in "${builds[@]}"; do
  label=${b%%:*} bin=${b#*:}
  case " $rows " in *" idle "*)
    for n in 1 100 1000; do measure "$label" "$bin" "$n" 0; done
    measure "$label" "$bin" 1000 1 ;;
  esac
  [ "$label" = now ] || continue  # the other rows read metrics an earlier build may not have
  for row in $rows; do
    [ "$row" = idle ] && continue
    python3 "$here/Benchmarks/follow_rows.py" "$row" "$bin" "$dir" "$secs" "$big"
  done
done
