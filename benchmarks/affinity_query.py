"""brand_audience_affinity's query alone at scale, on synthetic inputs shaped like the harness's world (generate.py):
N note crawls a day over 122 days (a note crawled daily with probability 0.9 for its first 120 days, 3 % of notes
listing one of 20 brands), 2 N comments a day over 90 days on the younger notes by commenters from 50 M ids, N / 5
creators. The inputs are written once as hive-partitioned Parquet and read as DuckDB relations, as the asset does.

    .venv/bin/python -m benchmarks.affinity_query --size 100000 [--days 1] [--memory-limit 1GB] [--bucket-rows N]
        [--data-dir DIR]

Prints the query's seconds, the process's peak RSS and a digest of the rows (to compare two versions of the query
on the same data: run it on each commit)."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import resource
import time
from pathlib import Path

import duckdb
import pandas as pd

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts import brand_audience_affinity as baa

END = dt.date(2025, 6, 30)

GENERATE = {
    # one row per note: its author, its brands and its publish day (240 days of publications)
    "note_list": """
        SELECT 'n' || lpad(g::VARCHAR, 12, '0') AS note_id,
               'u' || lpad((hash(g, 1) % $creators)::VARCHAR, 12, '0') AS user_id,
               CASE WHEN hash(g, 2) % 100 < 3 THEN ['Brand' || (hash(g, 3) % 20)::VARCHAR] ELSE []::VARCHAR[] END
                   AS brands,
               $end::DATE - 240 + (g // $per_day)::INTEGER AS pub_day
        FROM range($per_day * 241) t(g)""",
    "notes": """
        SELECT n.note_id, n.user_id, n.brands, (n.pub_day::TIMESTAMP + INTERVAL 3 HOUR)::TIMESTAMPTZ AS published_at,
               (d.day::TIMESTAMP + INTERVAL 21 HOUR)::TIMESTAMPTZ AS crawled_at, d.day AS snapshot_date
        FROM note_list n
        JOIN (SELECT unnest(range($end::DATE - 121, $end::DATE + 1, INTERVAL 1 DAY))::DATE AS day) d
          ON d.day >= n.pub_day AND d.day < n.pub_day + 120 AND hash(n.note_id, d.day) % 10 < 9""",
    "comments": """
        SELECT 'n' || lpad(((d.day - ($end::DATE - 240)) * $per_day - 1
                            - floor(119 * pow((hash(k, d.day, 5) % 1000000) / 1e6, 3)) * $per_day
                            - hash(k, d.day, 6) % $per_day)::BIGINT::VARCHAR, 12, '0') AS note_id,
               'c' || lpad((hash(k, d.day, 7) % 50000000)::VARCHAR, 12, '0') AS user_id,
               d.day AS snapshot_date
        FROM (SELECT unnest(range($end::DATE - 89, $end::DATE + 1, INTERVAL 1 DAY))::DATE AS day) d,
             range($comments) r(k)""",
    "creator_scorecard": """
        SELECT DISTINCT user_id, 'nick' AS nickname, 'micro' AS tier, 'beauty' AS primary_category, snapshot_date
        FROM notes WHERE snapshot_date >= $end::DATE - 7""",
}


def generate(size: int, out: Path) -> None:
    params = {"end": END, "per_day": max(1, size // 108), "creators": max(1, size // 5), "comments": 2 * size}
    with duckdb.connect() as con:
        for name, sql in GENERATE.items():
            con.sql(sql, params={k: v for k, v in params.items() if f"${k}" in sql}).create(name)
        for table in ("notes", "comments", "creator_scorecard"):
            con.table(table).write_parquet(str(out / table), partition_by=["snapshot_date"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=1, help="run days ending on the last day (one query)")
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument(
        "--bucket-rows", type=int, default=None, help="comment rows a bucket of creators (default: BUCKET_ROWS)"
    )
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/kol_affinity_bench"))
    a = ap.parse_args(argv)
    data = a.data_dir / f"n{a.size}"
    if not (data / "comments").is_dir():
        data.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        generate(a.size, data)
        print(f"generated {data} in {time.perf_counter() - t:.1f}s")
    days = [END - dt.timedelta(days=i) for i in range(a.days)][::-1]
    settings = duck.DuckSettings(memory_limit=a.memory_limit, temp_directory=str(a.data_dir / "spill"))
    with duck.connect(settings) as con:

        def relation(table: str, columns: tuple[str, ...], back: int):
            lo = days[0] - dt.timedelta(days=back)
            files = str(data / table / "*" / "*.parquet")
            rel = con.read_parquet(files, hive_partitioning=True)
            return rel.filter(duckdb.ColumnExpression("snapshot_date") >= duckdb.ConstantExpression(lo)).select(
                *columns, "snapshot_date"
            )

        t = time.perf_counter()
        out = baa.brand_audience_affinity(
            con,
            relation("comments", baa.COMMENT_COLUMNS, baa.AFFINITY_WINDOW_DAYS - 1),
            relation("notes", baa.NOTE_COLUMNS, 121),
            relation("creator_scorecard", baa.SCORECARD_COLUMNS, 0),
            pd.DataFrame({"brand": [f"Brand{i}" for i in range(20)]}),
            days,
            bucket_rows=a.bucket_rows,
        )
        seconds = time.perf_counter() - t
    rows = out.sort_values(["snapshot_date", "brand", "user_id"]).to_csv(index=False).encode()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(
        f"brand_audience_affinity: size {a.size:,}, {a.days} day(s): {len(out):,} rows in {seconds:.1f}s, "
        f"peak RSS {peak:.2f} GB, rows digest {hashlib.sha1(rows).hexdigest()[:12]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
