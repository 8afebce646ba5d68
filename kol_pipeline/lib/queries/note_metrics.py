"""note_metrics by SQL (``note_metrics.sql`` beside this file is the formula): the inputs typed, the query run on
a bounded DuckDB connection (lib/duck.py), the result as the table's frame (NOTE_METRICS' columns and nullable
dtypes, as the pandas implementation gave them).

The one part still in Python is ``comment_shares``: the substantive share of each note's top-level comments, from
the stored comment_state, which keys comments and notes by 64-bit pandas hashes that SQL cannot reproduce. It
returns the frame the query takes as its ``comment_shares`` input (snapshot_date, note_id, comment_share); once
comment_state is keyed by real ids, a query gives the same frame and replaces it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib import duck
from kol_pipeline.lib.schemas import NOTE_METRICS, TableSpec
from kol_pipeline.lib.settings import MetricSettings
from kol_pipeline.lib.state import comment_view_mask, key64

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
# the comment_state columns ``comment_shares`` reads besides the view's (lib/state.py COMMENT_VIEW_COLUMNS)
COMMENT_SHARE_COLUMNS = ["lt_note_key", "lt_cnt", "lt_sub"]
COMMENT_SHARES_SCHEMA = pa.schema(
    [("snapshot_date", pa.date32()), ("note_id", pa.string()), ("comment_share", pa.float64())]
)


def _days(snapshot_dates: Sequence[Any]) -> list[dt.date]:
    return sorted({pd.Timestamp(d).date() for d in snapshot_dates})


def _flag(cs: pd.DataFrame, column: str, former_null: int) -> np.ndarray:
    """A comment_state flag column as int8 (a state stored before the int8 flags has floats, NaN = null)."""
    s = cs[column]
    if s.dtype.kind in "iu":
        return s.to_numpy(dtype="int8")
    return np.nan_to_num(s.to_numpy(dtype="float64", na_value=np.nan), nan=float(former_null)).astype("int8")


def comment_shares(comment_state: pd.DataFrame | None, notes: pd.DataFrame) -> pa.Table:
    """Per (snapshot_date, note_id) of ``notes``: the share of substantive comments among the note's top-level
    comments seen so far (by the note of each comment's latest top-level snapshot, with a known is_substantive);
    null when there are none. ``comment_state``: the stored comment_state partitions the comment states of those
    days are views over (snapshot_date, the view's columns and COMMENT_SHARE_COLUMNS); the state of each day is
    its view (lib/state.py comment_view_mask)."""
    out = []
    have = comment_state is not None and len(comment_state) > 0
    if have:
        cnt = _flag(comment_state, "lt_cnt", -1)
        sub = _flag(comment_state, "lt_sub", 0)
        note_keys = comment_state["lt_note_key"].to_numpy(dtype="int64")
    for day, ids in notes.groupby("snapshot_date", sort=True)["note_id"]:
        ids = pd.unique(ids.dropna().astype(str).to_numpy(dtype=object))
        share = np.full(len(ids), np.nan)
        if have and len(ids):
            want = key64(ids)
            at = pd.Index(want).get_indexer(note_keys)
            ok = (at >= 0) & (cnt > 0) & comment_view_mask(comment_state, pd.Timestamp(day).date())[0]
            n = np.bincount(at[ok], minlength=len(ids)).astype("float64")
            k = np.bincount(at[ok], weights=sub[ok], minlength=len(ids))
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
        out.append(
            pa.table(
                {
                    "snapshot_date": pa.array([pd.Timestamp(day).date()] * len(ids), pa.date32()),
                    "note_id": pa.array(ids, pa.string()),
                    "comment_share": pa.array(share, pa.float64(), from_pandas=True),
                }
            )
        )
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
    return to_frame(duck.run_query(con, "note_metrics", inputs, params), NOTE_METRICS)


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
