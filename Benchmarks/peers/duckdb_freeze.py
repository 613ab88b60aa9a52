# Accounts frozen per day from a freeze JSONL file (plain or .gz) with DuckDB's read_json.
import sys, duckdb
rows = duckdb.sql(f"""
    SELECT substr(ts, 1, 10) AS day, count(*) AS frozen
    FROM read_json('{sys.argv[1]}', format = 'newline_delimited', columns = {{ts: 'VARCHAR', event: 'VARCHAR', "case": 'VARCHAR'}})
    WHERE event = 'frozen' GROUP BY day ORDER BY day""").fetchall()
print(sum(c for _, c in rows))
