# Hotline calls per day from an Asterisk CDR file (plain or .gz) with DuckDB's read_csv.
# Prints one line per day: YYYY-MM-DD count.
import sys, duckdb
rows = duckdb.sql(f"""
    SELECT substr(column09, 1, 10) AS day, count(*) AS calls
    FROM read_csv('{sys.argv[1]}', header = false, all_varchar = true, quote = '"', escape = '"')
    WHERE column02 = '1441' GROUP BY day ORDER BY day""").fetchall()
for day, count in rows: print(day, count)
