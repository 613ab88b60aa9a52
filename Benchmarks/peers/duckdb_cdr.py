# Hotline calls per day from an Asterisk CDR file (plain or .gz) with DuckDB's read_csv.
import sys, duckdb
rows = duckdb.sql(f"""
    SELECT substr(column09, 1, 10) AS day, count(*) AS calls
    FROM read_csv('{sys.argv[1]}', header = false, all_varchar = true, quote = '"', escape = '"')
    WHERE column02 = '1441' GROUP BY day ORDER BY day""").fetchall()
print(sum(c for _, c in rows))
