"""note_metrics by SQL (``note_metrics.sql`` beside this file is the formula): the inputs typed, the query run on
a bounded DuckDB connection (lib/duck.py), the result as the table's frame (NOTE_METRICS' columns and nullable
dtypes, as the pandas implementation gave them).

The comment shares come from the comment state (``comment_view.py``: note_comment_share.sql, one query per day
over the view of the stored comment_state partitions) as the query's ``comment_shares`` input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib import duck
from kol_pipeline.lib.schemas import NOTE_METRICS, TableSpec
from kol_pipeline.lib.settings import MetricSettings
from kol_pipeline.lib.state import comment_view as comment_view_lib

__all__ = ["NOTE_STATE_COLUMNS", "CREATOR_STATE_COLUMNS", "comment_shares", "note_metrics", "to_frame"]

NOTE_CREATOR_LOOKBACK = 121  # the creator snapshots of D-121 .. D are looked up (offsets into followers_by_day)
# the note_state columns the query reads (not the curve lists)
NOTE_STATE_COLUMNS = [
    "note_id",
    "user_id",
    "published_at",
    "pub_day",
    "first_sd",
    "crawled_at",
    "age_days",
    "likes",
    "saves",
    "comments",
    "shares",
    "engagements",
    "category",
    "brands",
    "is_disclosed",
    "eng_2d",
    "eng_7d",
    "eng_30d",
    "eng_90d",
    "half_life_days",
]
CREATOR_STATE_COLUMNS = ["user_id", "followers_by_day"]
COMMENT_SHARES_SCHEMA = pa.schema(
    [
        ("snapshot_date", pa.date32()),
        ("note_id", pa.string()),
        ("comment_share", pa.float64()),
        ("comment_sentiment", pa.float64()),
    ]
)


def _days(snapshot_dates: Sequence[Any]) -> list[dt.date]:
    return sorted({pd.Timestamp(d).date() for d in snapshot_dates})


def comment_shares(con: Any, notes: pd.DataFrame, min_sentiment_comments: int = 3) -> pa.Table:
    """Per (snapshot_date, note_id) of ``notes``: the share of substantive comments among the note's top-level
    comments seen so far (note_comment_share.sql on each day, over ``con``'s comment_view: call
    ``comment_view.use_stored`` first), null when there are none; and their net sentiment ratio
    (``comment_sentiment``), null below ``min_sentiment_comments`` positive + negative comments."""
    out = []
    rows = None  # the rows of the last day's view (its threads), counted once for the run, as comment_stats does
    for day, ids in notes.groupby("snapshot_date", sort=True)["note_id"]:
        ids = pd.unique(ids.dropna().astype(str).to_numpy(dtype=object))
        if len(ids):
            if rows is None:
                rows = comment_view_lib.view_rows(con, pd.Timestamp(notes["snapshot_date"].max()).date())
            share = comment_view_lib.note_comment_share(
                con, ids, pd.Timestamp(day).date(), min_sentiment_comments=min_sentiment_comments, rows=rows
            )
            out.append(pa.Table.from_pandas(share, schema=COMMENT_SHARES_SCHEMA, preserve_index=False))
    return pa.concat_tables(out) if out else COMMENT_SHARES_SCHEMA.empty_table()


def note_metrics(
    con: Any,
    note_state: Any,
    creator_state: Any,
    shares: pa.Table | pd.DataFrame,
    campaign_posts: pd.DataFrame | None,
    snapshot_dates: Sequence[Any],
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """note_metrics of every day of ``snapshot_dates`` in one query on ``con`` (lib/duck.connect).
    ``note_state`` / ``creator_state``: the states of those days, DuckDB relations with NOTE_STATE_COLUMNS /
    CREATOR_STATE_COLUMNS and snapshot_date (``PartitionedInput.relation``) or frames of them; ``shares`` the
    ``comment_shares`` frame of those days; ``campaign_posts`` its note_id column is used."""
    inputs, params = _query_inputs(note_state, creator_state, shares, campaign_posts, snapshot_dates, settings)
    return to_frame(duck.run_query(con, "note_metrics", inputs, params), NOTE_METRICS)


#: the connection's table of ``note_metrics_table``'s rows
RESULT_TABLE = "note_metrics_result"


def note_metrics_table(
    con: Any,
    note_state: Any,
    creator_state: Any,
    shares: pa.Table | pd.DataFrame,
    campaign_posts: pd.DataFrame | None,
    snapshot_dates: Sequence[Any],
    settings: MetricSettings = MetricSettings(),
) -> Any:
    """``note_metrics`` kept in a table of ``con`` (``RESULT_TABLE``) instead of a pandas frame: a relation over
    it, the table's columns in order, non-finite floats null as the frame gives them, for the IO manager to
    write with DuckDB (the 1M day's ~1.3 M rows as a frame took ~0.4 GB more RSS than DuckDB's limit)."""
    inputs, params = _query_inputs(note_state, creator_state, shares, campaign_posts, snapshot_dates, settings)
    cols = []
    for col in NOTE_METRICS.columns:
        if pa.types.is_floating(col.type):
            cols.append(f"CASE WHEN isfinite({col.name}) THEN {col.name} END AS {col.name}")
        else:
            cols.append(col.name)
    duck.create_table(con, RESULT_TABLE, NOTE_METRICS.schema)
    duck.insert_query(con, RESULT_TABLE, ", ".join(cols), "note_metrics", inputs, params)
    return con.table(RESULT_TABLE)


def _query_inputs(
    note_state: Any,
    creator_state: Any,
    shares: pa.Table | pd.DataFrame,
    campaign_posts: pd.DataFrame | None,
    snapshot_dates: Sequence[Any],
    settings: MetricSettings,
) -> tuple[dict[str, Any], dict[str, Any]]:
    posts = pd.DataFrame({"note_id": pd.Series(dtype=object)})
    if campaign_posts is not None and len(campaign_posts) and "note_id" in campaign_posts.columns:
        posts = pd.DataFrame({"note_id": campaign_posts["note_id"].dropna().astype(str).to_numpy(dtype=object)})
    params = {
        "days": _days(snapshot_dates),
        "note_window_days": int(settings.note_window_days),
        "creator_window_days": int(settings.creator_window_days),
        "creator_lookback": NOTE_CREATOR_LOOKBACK,
        "tolerance_days": int(settings.nearest_snapshot_days),
        "viral_min": float(settings.viral_min_engagements),
        "viral_multiple": float(settings.viral_multiple),
        "evergreen_share": float(settings.evergreen_share),
        "tier_bounds": [float(b) for b in settings.tier_bounds],
    }
    inputs = {
        "note_state": note_state,
        "creator_state": creator_state,
        "campaign_posts": posts,
        "comment_shares": shares,
    }
    return inputs, params


def to_frame(table: pa.Table, spec: TableSpec) -> pd.DataFrame:
    """A query's Arrow result as the table's pandas frame: the spec's columns in order, int64 as Int64, float64
    as Float64 (NaN and infinities null), booleans as boolean, dates as ``datetime.date`` objects, text as
    objects, UTC timestamps as datetime64[ns, UTC]. No rows: the spec's empty frame (what the pandas path gave)."""
    if table.num_rows == 0:
        return spec.empty_frame()
    cols = {}
    for col in spec.columns:
        arr = table.column(col.name)
        t = col.type
        if pa.types.is_floating(t):
            arr = pc.cast(arr, pa.float64())
            arr = pc.if_else(pc.is_finite(arr), arr, pa.scalar(None, pa.float64()))
            cols[col.name] = pd.Series(arr.to_pandas(types_mapper={pa.float64(): pd.Float64Dtype()}.get))
        elif pa.types.is_integer(t):
            cols[col.name] = pd.Series(
                pc.cast(arr, pa.int64()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
            )
        elif pa.types.is_boolean(t):
            cols[col.name] = pd.Series(arr.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get))
        elif pa.types.is_date32(t):
            cols[col.name] = pd.Series(pc.cast(arr, pa.date32()).to_pandas(date_as_object=True), dtype=object)
        elif pa.types.is_timestamp(t):
            cols[col.name] = pd.Series(pc.cast(arr, t).to_pandas()).astype("datetime64[ns, UTC]")
        else:
            s = pd.Series(arr.to_pandas(), dtype=object)
            cols[col.name] = s.where(s.notna(), None)
    return pd.DataFrame(cols)


def day_summary(con: Any, day: Any) -> tuple[dict[str, float | None], int]:
    """Of ``note_metrics_table``'s rows of ``day``: the median er_7d per tier, and how many notes have eng_7d (the
    asset's chart and count)."""
    params = {"day": day}
    med = con.sql(
        f"SELECT tier, median(er_7d) FROM {RESULT_TABLE} WHERE snapshot_date = $day GROUP BY tier", params=params
    ).fetchall()
    n = con.sql(f"SELECT count(eng_7d) FROM {RESULT_TABLE} WHERE snapshot_date = $day", params=params).fetchall()
    return {t: (float(m) if m is not None else None) for t, m in med}, int(n[0][0])
