"""brand_audience_affinity by ``brand_audience_affinity.sql`` and the steps it lists (the formula and its decisions
are there and in docs/marts.md): every day of a run at once over DuckDB relations of the cleaned comments (the
run's 90-day window), the notes (their trailing window) and creator_scorecard (the run's days), with the brands
typed as Arrow. Its table-level invariants (``check_brand_audience_affinity``) are beside it, for the asset check."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts.checks import CheckOutcome
from kol_pipeline.lib.marts.frames import as_input, day_list, result_frame, typed_table
from kol_pipeline.lib.schemas import BRAND_AUDIENCE_AFFINITY
from kol_pipeline.lib.settings import NOTE_WINDOW

__all__ = [
    "AFFINITY_WINDOW_DAYS",
    "COMMENT_COLUMNS",
    "MIN_COMMENTERS",
    "MIN_SHARED",
    "NOTE_COLUMNS",
    "SCORECARD_COLUMNS",
    "BUCKET_ROWS",
    "affinity_against_er",
    "brand_audience_affinity",
    "check_brand_audience_affinity",
    "creator_buckets",
]

AFFINITY_WINDOW_DAYS = 90  # comments with snapshot_date in D-89 .. D
MIN_COMMENTERS = 20  # rows only where commenters_90d >= 20 ...
MIN_SHARED = 1  # ... and shared_commenters >= 1
#: comment rows of the window the query takes in one run: a larger window runs a bucket of creators at a time. At
#: the 1M benchmark (180 M comments in 90 days) the one query ran out of DuckDB's 1 GB (BENCHMARKS.md,
#: twenty-fifth session); at 100k (18 M) it completes in one (1.2-1.25 GB peak RSS)
BUCKET_ROWS = 40_000_000
#: the temp tables of a run, each computed once and read by every bucket of creators: the notes' latest crawls
#: (brand_audience_affinity_latest.sql), the brands they list (_note_brands.sql), the brands' audiences (_audience.sql)
LATEST_TABLE = "brand_audience_affinity_latest_crawls"
NOTE_BRANDS_TABLE = "brand_audience_affinity_note_brands"
AUDIENCE_TABLE = "brand_audience_affinity_brand_audience"
#: the pairs input of a run without a comment on a note of known author (no bucket file was written)
NO_PAIRS = "SELECT NULL::DATE AS day, NULL::VARCHAR AS author, NULL::VARCHAR AS commenter WHERE false"

#: the columns the query reads of each large input (``PartitionedInput.relation(con, columns=...)``)
COMMENT_COLUMNS = ("note_id", "user_id")
NOTE_COLUMNS = ("note_id", "user_id", "brands", "published_at", "crawled_at")
SCORECARD_COLUMNS = ("user_id", "nickname", "tier", "primary_category")


def brand_audience_affinity(
    con: Any,
    comments: Any,
    notes: Any,
    creator_scorecard: Any,
    brands: pd.DataFrame,
    snapshot_dates: Sequence[Any],
    window_days: int = AFFINITY_WINDOW_DAYS,
    note_window: int = NOTE_WINDOW,
    min_commenters: int = MIN_COMMENTERS,
    min_shared: int = MIN_SHARED,
    bucket_rows: int | None = None,
) -> pd.DataFrame:
    """Per day D of ``snapshot_dates`` x brand x creator, on ``con`` (lib/duck.connect), in the steps
    brand_audience_affinity.sql lists: the notes' latest crawls, their brands and the brands' audiences once per
    run (temp tables), the (author, commenter) pairs of the comment window once, as a Parquet file per bucket of
    creators in DuckDB's temp directory (one bucket per ``bucket_rows`` rows of the comments input, default
    ``BUCKET_ROWS``: ``creator_buckets``), then the mart's query a bucket at a time; the same rows.
    ``comments`` (D - window_days + 1 .. D of the run's days), ``notes`` (D - note_window .. D) and
    ``creator_scorecard`` (the run's days): DuckDB relations with the *_COLUMNS and snapshot_date, or pandas
    frames of them (tests). A ranged call gives each day the rows of a one-day call."""
    if int(min_shared) < 1:
        raise ValueError("min_shared must be >= 1: a row needs a shared commenter")
    days = day_list(snapshot_dates)
    window = {"days": days, "window_days": int(window_days)}
    comments_in = as_input(comments, "comments", [*COMMENT_COLUMNS, "snapshot_date"])
    buckets = creator_buckets(comments_in, BUCKET_ROWS if bucket_rows is None else bucket_rows)
    folder = duck.temp_folder(con, "brand_audience_affinity_pairs")
    try:
        latest = duck.create_table_as(
            con,
            LATEST_TABLE,
            "brand_audience_affinity_latest",
            {"notes": as_input(notes, "notes", [*NOTE_COLUMNS, "snapshot_date"])},
            {"days": days, "note_window": int(note_window)},
        )
        brands_in = {"latest": latest, "brands": typed_table(brands, "brands", ["brand"])}
        note_brands = duck.create_table_as(con, NOTE_BRANDS_TABLE, "brand_audience_affinity_note_brands", brands_in)
        audience = duck.create_table_as(
            con,
            AUDIENCE_TABLE,
            "brand_audience_affinity_audience",
            {"comments": comments_in, "note_brands": note_brands},
            window,
        )
        pairs = {"comments": comments_in, "latest": latest}
        written = duck.copy_buckets(con, folder, "brand_audience_affinity_pairs", pairs, {**window, "buckets": buckets})
        inputs = {
            "brand_audience": audience,
            "note_brands": note_brands,
            "creator_scorecard": as_input(
                creator_scorecard, "creator_scorecard", [*SCORECARD_COLUMNS, "snapshot_date"]
            ),
        }
        params = {"window_days": int(window_days), "min_commenters": int(min_commenters), "min_shared": int(min_shared)}
        parts = [
            duck.run_query(con, "brand_audience_affinity", {**inputs, "pairs": p}, params)
            for p in written or [con.sql(NO_PAIRS)]
        ]
    finally:
        for table in (LATEST_TABLE, NOTE_BRANDS_TABLE, AUDIENCE_TABLE):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        shutil.rmtree(folder, ignore_errors=True)
    out = (
        parts[0]
        if len(parts) == 1
        else duck.run_query(con, "brand_audience_affinity_rank", {"parts": pa.concat_tables(parts)})
    )
    return result_frame(out, BRAND_AUDIENCE_AFFINITY)


def creator_buckets(comments: Any, bucket_rows: int) -> int:
    """How many buckets of creators ``brand_audience_affinity`` runs in: one per ``bucket_rows`` rows of the
    comments input (a DuckDB relation or an Arrow table), at least one."""
    if isinstance(comments, duckdb.DuckDBPyRelation):
        rows = int(comments.aggregate("count(*)").fetchall()[0][0])
    else:
        rows = int(comments.num_rows)
    return duck.bucket_count(rows, bucket_rows)


def check_brand_audience_affinity(
    df: pd.DataFrame, min_commenters: int = MIN_COMMENTERS, min_shared: int = MIN_SHARED
) -> list[CheckOutcome]:
    """Invariants: 0 <= affinity <= 1 and = shared_commenters / commenters_90d; commenters_90d >= min_commenters
    and min_shared <= shared_commenters <= commenters_90d; ranks 1..n per brand and day with affinity
    non-increasing; unique keys."""
    out = []
    n = df["commenters_90d"].astype("Float64")
    s = df["shared_commenters"].astype("Float64")
    a = df["affinity"].astype("Float64")
    bad_a = (~((a >= 0) & (a <= 1)) | ((a - s / n).abs() > 1e-9)).fillna(True)
    out.append(
        CheckOutcome(
            "affinity_in_unit_interval",
            not bad_a.any(),
            "0 <= affinity <= 1 and affinity = shared_commenters / commenters_90d",
            {"violations": int(bad_a.sum())},
        )
    )
    bad_t = (~((n >= min_commenters) & (s >= min_shared) & (s <= n))).fillna(True)
    out.append(
        CheckOutcome(
            "thresholds",
            not bad_t.any(),
            f"commenters_90d >= {min_commenters} and {min_shared} <= shared_commenters <= commenters_90d",
            {"violations": int(bad_t.sum())},
        )
    )
    bad_rank = []
    for (d, brand), g in df.groupby(["snapshot_date", "brand"]):
        g = g.sort_values("rank_in_brand")
        r = g["rank_in_brand"].astype("int64").tolist()
        aff = g["affinity"].astype("float64").to_numpy()
        if r != list(range(1, len(r) + 1)) or (len(aff) > 1 and (aff[1:] > aff[:-1] + 1e-12).any()):
            bad_rank.append(f"{d} {brand}")
    out.append(
        CheckOutcome(
            "ranked_by_affinity",
            not bad_rank,
            "rank_in_brand 1..n per brand and day, affinity non-increasing with rank",
            {"violations": bad_rank[:20]},
        )
    )
    dup = int(df.duplicated(["snapshot_date", "brand", "user_id"]).sum())
    out.append(
        CheckOutcome("unique_keys", dup == 0, "one row per (snapshot_date, brand, user_id)", {"duplicates": dup})
    )
    return out


def affinity_against_er(
    affinity_day: pd.DataFrame, scorecard_day: pd.DataFrame, tier: str = "micro"
) -> dict[str, tuple[list[float], list[float]]]:
    """Per brand, the (median_er_7d, affinity) points of one day's creators of ``tier`` (the shortlist's tier): the
    metadata chart "who is both engaging and followed by the brand's audience". ``scorecard_day``: user_id and
    median_er_7d of the same day. A creator without a known median_er_7d is left out."""
    rows = affinity_day[affinity_day["tier"] == tier][["brand", "user_id", "affinity"]]
    er = scorecard_day[["user_id", "median_er_7d"]].drop_duplicates("user_id")
    rows = rows.merge(er, on="user_id", how="left")
    rows = rows[rows["median_er_7d"].notna() & rows["affinity"].notna()]
    return {
        str(brand): (g["median_er_7d"].astype(float).tolist(), g["affinity"].astype(float).tolist())
        for brand, g in sorted(rows.groupby("brand"), key=lambda kv: str(kv[0]))
    }
