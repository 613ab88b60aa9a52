# Hotline calls per day from an Asterisk CDR file (plain or .gz) with polars, as a user would
# write it: lazy scan, filter on dst, group by the date part of start.
import sys, polars as pl
df = (pl.scan_csv(sys.argv[1], has_header=False, quote_char='"',
                  schema_overrides={"column_2": pl.Utf8, "column_9": pl.Utf8})
        .filter(pl.col("column_2") == "1441")
        .group_by(pl.col("column_9").str.slice(0, 10).alias("day"))
        .agg(pl.len().alias("calls"))
        .sort("day")
        .collect())
for day, calls in df.iter_rows(): print(day, calls)
