# Accounts frozen per Bangkok day from a freeze JSONL file (plain or .gz) with DuckDB's
# read_json, as a user would write it. Prints one line per day: YYYY-MM-DD count. Event times
# carry their own offsets (+07:00 or Z), so days come from the instant plus 7 hours
# (Thailand has no daylight saving).
import datetime, sys, duckdb
rows = duckdb.sql(f"""
    SELECT floor((epoch(ts::TIMESTAMPTZ) + 25200) / 86400)::BIGINT AS day, count(*) AS frozen
    FROM read_json('{sys.argv[1]}', format = 'newline_delimited', columns = {{ts: 'VARCHAR', event: 'VARCHAR', "case": 'VARCHAR'}})
    WHERE event = 'frozen' GROUP BY day ORDER BY day""").fetchall()
for day, count in rows: print(datetime.date(1970, 1, 1) + datetime.timedelta(days=day), count)
