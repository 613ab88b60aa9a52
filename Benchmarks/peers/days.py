# Per-day counts, one "YYYY-MM-DD count" line per day, from aocpipe's JSON (--format json) or
# the generator's truth.json: `days.py FILE calls|accounts_frozen`.
import json, sys
doc = json.load(open(sys.argv[1]))
for d in doc["days"]:
    day = d.get("day") or d["start"][:10]
    count = d[sys.argv[2]] if sys.argv[2] in d else d["counters"][sys.argv[2]]
    if count: print(day, count)
