"""Reading the stored comment_state: the view of a day (the macros of ``comment_view.sql``, over the stored
partitions plus the rows this connection adds) and the metrics' two comment inputs over it
(``note_comment_share.sql``, ``creator_comment_stats.sql``), all beside this file; docs/metrics.md "How
comment_state is stored". The fold that writes the state is ``comment_state.py``.

Usage: ``use_stored(con, stored)`` makes the view read the stored partitions (a DuckDB relation, or a frame in
tests) plus the rows this connection adds (``comment_state.fold_days``); then ``view``, ``note_comment_share`` and
``creator_comment_stats`` (the metrics) run on ``con``.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.state.comment_common import KEEP_DAYS, RUN, RUN_ROWS, STATE_TYPES, columns_of, register, typed

#: DuckDB threads of the per-note and per-creator aggregates over the whole view (``note_comment_share``,
#: ``creator_comment_stats``). At the 1M benchmark (240 M rows in the view, 1.95 M notes asked) the per-note
#: aggregate ran out of DuckDB's 1 GB on two threads, and completed on one in 66.8 s at 1.08 GB peak RSS (on two
#: threads with a 1.5 GB limit it took 57.8 s and 0.93 GB: the parallel form reserves memory it does not use).
VIEW_AGGREGATE_THREADS = 1
#: ... but an aggregate whose view reads at most this many rows runs on all of the connection's threads: at the
#: 100k benchmark (24 M rows) note_comment_share took 4.4 s on one thread and 2.4 s on two, creator_comment_stats
#: 6.3 s and 3.5 s, peak RSS 0.35 -> 0.45 GB and 0.60 GB both (BENCHMARKS.md, twenty-ninth session)
VIEW_PARALLEL_ROWS = 30_000_000
#: view rows (a window's comments) ``creator_comment_stats`` counts at a time: at the 1M benchmark its 180 M rows
#: in one aggregate ran out of DuckDB's 1 GB; at 100k (18 M rows) one aggregate peaks at 0.34 GB and completes
#: with a 80 MB limit (BENCHMARKS.md, twenty-fifth session)
STATS_BUCKET_ROWS = 50_000_000


def use_stored(con: duckdb.DuckDBPyConnection, stored=None) -> None:
    """Point the macros of comment_view.sql at ``stored`` (stored comment_state partitions with snapshot_date and
    base: a DuckDB relation, an Arrow table or a pandas frame; None: none) plus the rows this connection adds
    (``comment_state.fold_days``); a former run's added rows are dropped."""
    ddl = ", ".join(["snapshot_date DATE", *[f"{c} {t}" for c, t in STATE_TYPES.items()], "base BOOLEAN"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {RUN} ({ddl})")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {RUN_ROWS} AS SELECT * FROM {RUN}")
    parts = [f"SELECT * FROM {RUN_ROWS}"]
    if stored is not None:
        register(con, "comment_state_stored", stored)
        types = {"snapshot_date": "DATE", **STATE_TYPES, "base": "BOOLEAN"}
        parts.insert(0, typed("comment_state_stored", types, columns_of(stored)))
    con.execute(f"CREATE OR REPLACE TEMP VIEW comment_state AS {' UNION ALL '.join(parts)}")
    con.execute(duck.query_text("comment_view"))


def view(con: duckdb.DuckDBPyConnection, day: date, since: date | None = None, keep_days: int = KEEP_DAYS) -> pa.Table:
    """The comment state of ``day`` (its comments last seen on or after ``since``; all by default) as Arrow."""
    since = day - timedelta(days=keep_days) if since is None else since
    out = con.sql("SELECT * FROM comment_view($day, $since)", params={"day": day, "since": since}).to_arrow_table()
    return out.read_all() if isinstance(out, pa.RecordBatchReader) else out


def view_cost(con: duckdb.DuckDBPyConnection, day: date, keep_days: int = KEEP_DAYS) -> tuple[int, int]:
    """(rows the view of ``day`` reads, of them superseded by a later row of their comment)."""
    since = day - timedelta(days=keep_days)
    got = con.sql("SELECT * FROM comment_view_cost($day, $since)", params={"day": day, "since": since}).fetchall()[0]
    return int(got[0]), int(got[1])


def latest_base(con: duckdb.DuckDBPyConnection, day: date, keep_days: int = KEEP_DAYS) -> date | None:
    """The latest base partition in the window of the state of ``day`` (None: none)."""
    got = con.sql(
        "SELECT max(snapshot_date) FILTER (WHERE base) FROM comment_state WHERE snapshot_date BETWEEN $lo AND $day",
        params={"lo": day - timedelta(days=keep_days), "day": day},
    ).fetchall()[0]
    return got[0]


def note_comment_share(
    con: duckdb.DuckDBPyConnection,
    note_ids,
    day: date,
    keep_days: int = KEEP_DAYS,
    min_sentiment_comments: int = 3,
    rows: int | None = None,
) -> pd.DataFrame:
    """note_comment_share.sql for the notes ``note_ids`` on ``day``: (snapshot_date, note_id, comment_share,
    comment_sentiment: the NSR, null below ``min_sentiment_comments`` positive + negative comments). ``rows``: the
    rows the view of ``day`` reads (``view_rows``), when the caller has counted them already; at most
    VIEW_PARALLEL_ROWS: on all of the connection's threads."""
    notes = pa.table({"note_id": pa.array(pd.Series(note_ids, dtype=object).astype(str).tolist(), type=pa.string())})
    params = {"day": day, "keep_days": int(keep_days), "min_sentiment_comments": int(min_sentiment_comments)}
    if rows is None:
        rows = view_rows(con, day, keep_days)
    with duck.threads(con, aggregate_threads(rows)):
        out = duck.run_query(con, "note_comment_share", {"notes": notes}, params)
    return out.to_pandas()


def creator_comment_stats(
    con: duckdb.DuckDBPyConnection,
    owners: pd.DataFrame,
    day: date,
    window_days: int,
    keep_days: int = KEEP_DAYS,
    bucket_rows: int | None = None,
    rows: int | None = None,
) -> pd.DataFrame:
    """creator_comment_stats.sql on ``day``: ``owners`` (note_id, user_id; one owner per note) ->
    (snapshot_date, user_id, n_all, n_dup, n_top, n_top_sub, n_pos, n_neg) per creator with a comment in the
    window. A window whose view reads more than ``bucket_rows`` rows (default ``STATS_BUCKET_ROWS``) is counted a
    bucket of creators at a time: each creator's rows are in one bucket, so the counts are the same. ``rows``:
    the rows the window's view reads (``stats_rows``), when the caller has counted them already; a bucket of at
    most VIEW_PARALLEL_ROWS rows is counted on all of the connection's threads."""
    o = pa.table(
        {
            "note_id": pa.array(owners["note_id"].astype(str).tolist(), type=pa.string()),
            "user_id": pa.array(owners["user_id"].astype(str).tolist(), type=pa.string()),
        }
    )
    if rows is None:
        rows = stats_rows(con, day, window_days, keep_days)
    buckets = duck.bucket_count(rows, STATS_BUCKET_ROWS if bucket_rows is None else bucket_rows)
    params = {"day": day, "window_days": int(window_days), "keep_days": int(keep_days), "buckets": buckets}
    with duck.threads(con, aggregate_threads(-(-rows // buckets))):
        parts = [
            duck.run_query(con, "creator_comment_stats", {"owners": o}, {**params, "bucket": b}).to_pandas()
            for b in range(buckets)
        ]
    return parts[0] if buckets == 1 else pd.concat(parts, ignore_index=True)


def stats_rows(con: duckdb.DuckDBPyConnection, day: date, window_days: int, keep_days: int = KEEP_DAYS) -> int:
    """The rows the view of ``creator_comment_stats``' window of ``day`` reads."""
    return window_rows(con, day, day - timedelta(days=min(int(window_days) - 1, int(keep_days))))


def stats_buckets(
    con: duckdb.DuckDBPyConnection,
    day: date,
    window_days: int,
    bucket_rows: int = STATS_BUCKET_ROWS,
    keep_days: int = KEEP_DAYS,
) -> int:
    """How many buckets of creators ``creator_comment_stats`` counts the window of ``day`` in: one per
    ``bucket_rows`` rows the view reads (at least one)."""
    return duck.bucket_count(stats_rows(con, day, window_days, keep_days), bucket_rows)


def view_rows(con: duckdb.DuckDBPyConnection, day: date, keep_days: int = KEEP_DAYS) -> int:
    """The rows the whole view of ``day`` reads (note_comment_share's input)."""
    return window_rows(con, day, day - timedelta(days=int(keep_days)))


def window_rows(con: duckdb.DuckDBPyConnection, day: date, since: date) -> int:
    """The rows the view of ``day`` reads for the comments last seen on or after ``since`` (comment_view_cost)."""
    rows = con.sql("SELECT rows_read FROM comment_view_cost($day, $since)", params={"day": day, "since": since})
    return int(rows.fetchall()[0][0])


def aggregate_threads(rows: int) -> int:
    """The DuckDB threads of an aggregate over a view that reads ``rows`` rows (``duck.threads`` caps them at the
    connection's own): all of them up to VIEW_PARALLEL_ROWS, else VIEW_AGGREGATE_THREADS."""
    return duck.ALL_THREADS if rows <= VIEW_PARALLEL_ROWS else VIEW_AGGREGATE_THREADS
