# Hotline calls per day from a call centre's Asterisk CDR file (plain or .gz) with polars,
# counted as aocpipe counts them: the distinct uniqueids (n_unique, via a group by) among the
# lines to 1441, each call on the day of its earliest start. Prints YYYY-MM-DD count per day.
import sys, polars as pl
df = (pl.scan_csv(sys.argv[1], has_header=False, quote_char='"',
                  schema_overrides={"column_2": pl.Utf8, "column_9": pl.Utf8, "column_16": pl.Utf8})
        .filter(pl.col("column_2") == "1441")
        .group_by("column_16")
        .agg(pl.col("column_9").min().str.slice(0, 10).alias("day"))
        .group_by("day")
        .agg(pl.len().alias("calls"))
        .sort("day")
        .collect())
for day, calls in df.iter_rows(): print(day, calls)
