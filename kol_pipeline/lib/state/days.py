"""What is left of the numpy state machinery, shared by the states' SQL glue and the tests: day helpers (``_ts``,
``with_day``, ``day_range``), the creator_state array (``followers_by_day``: 125 elements, element i = followers
of the snapshot of day D - i; NaN = no snapshot, -1 = a null count) as a matrix (``followers_matrix``, ``followers_column``)
and its look-ups (``CreatorLookup``, for tests). The states themselves are SQL: lib/state/note_state.sql,
creator_state.sql, comment_state.sql (docs/metrics.md "Incremental state", docs/engine.md). No dagster import.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib.metrics.longevity import horizon_column
from kol_pipeline.lib.state import comment_common
from kol_pipeline.lib.state import comment_state as comment_queries

CREATOR_DAYS = 125  # followers_by_day length: creator_scorecard looks back D-124 .. D
COMMENT_KEEP_DAYS = comment_common.KEEP_DAYS  # the comment state holds the comments seen in D-121 .. D
NULL_FOLLOWERS = -1.0  # a snapshot whose follower count is null (NaN means no snapshot)

COMMENT_COLUMNS = comment_queries.COMMENT_COLUMNS


def _ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def latest_of_day(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per key: the latest crawl (crawled_at, nulls last as in a sort) of a one-day partition, in key order.
    A partition already in strictly increasing key order (a cleaned partition is written sorted by id and holds one
    row per id and day) is that result as it is, and comes back itself, not copied (the sort took 1.1 s for the
    1M-note day)."""
    keys = df[key]
    if keys.is_monotonic_increasing and keys.is_unique and not keys.isna().any():
        return df
    sort_cols = [key] + (["crawled_at"] if "crawled_at" in df.columns else [])
    return df.sort_values(sort_cols, kind="mergesort").drop_duplicates(key, keep="last")


def with_day(df: pd.DataFrame, day: date) -> pd.DataFrame:
    """The state with its snapshot_date column (set in place: a state frame is owned by the step that made it).
    The column is a one-category Categorical of ``day``: equal to the date everywhere, and grouped or written by
    day without hashing millions of date objects (2.1 s -> 0.26 s for the 24 M rows of a comment_state)."""
    col = pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), categories=pd.Index([day], dtype=object))
    if "snapshot_date" in df.columns:
        df["snapshot_date"] = col
    else:
        df.insert(0, "snapshot_date", col)
    return df


def without_day(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """A state as loaded (with snapshot_date) -> the frame the steps take. The state functions pick the columns
    they use, so a loaded state is passed through without a copy (the comment state holds millions of rows)."""
    return df


def followers_matrix(state: pd.DataFrame) -> np.ndarray:
    """followers_by_day as an (n, CREATOR_DAYS) float matrix (NaN for a null element). The column is an Arrow list
    as the warehouse reads it (``TableSpec.arrow_lists``) or as ``followers_column`` makes it: its values are
    taken as one block. An object column of per-row arrays is stacked row by row (0.3-0.5 s per call for the
    200,000 creators of the 1M benchmark, four calls a day; BENCHMARKS.md, sixteenth session)."""
    if len(state) == 0:
        return np.empty((0, CREATOR_DAYS), dtype="float64")
    col = state["followers_by_day"]
    if isinstance(col.dtype, pd.ArrowDtype) and pa.types.is_list(col.dtype.pyarrow_dtype):
        arr = col.array._pa_array.combine_chunks()
        lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
        if arr.null_count == 0 and (lengths == CREATOR_DAYS).all():
            values = pc.list_flatten(arr).cast(pa.float64())
            return values.to_numpy(zero_copy_only=False).reshape(len(arr), CREATOR_DAYS)
        return np.stack(
            [
                np.asarray(v if v is not None else np.full(CREATOR_DAYS, np.nan), dtype="float64")
                for v in arr.to_pylist()
            ]
        )
    return np.stack([np.asarray(v, dtype="float64") for v in col.to_numpy()])


def followers_column(mat: np.ndarray) -> pd.Series:
    """An (n, CREATOR_DAYS) matrix as the followers_by_day column: an Arrow list per row, built from the matrix as
    one block (an object column of n arrays took 0.76 s to convert for the Parquet file at 200,000 creators).
    NaN elements are stored as nulls, as Arrow's conversion of the per-row arrays stored them."""
    if mat.size >= 2**31:  # beyond a list column's 32-bit offsets: Arrow converts the rows one by one
        return pd.Series(list(mat), dtype=object)
    flat = pa.array(np.ascontiguousarray(mat, dtype="float64").reshape(-1), from_pandas=True)
    offsets = pa.array(np.arange(0, mat.shape[0] * mat.shape[1] + 1, mat.shape[1], dtype=np.int32))
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.ListArray.from_arrays(offsets, flat)))


class CreatorLookup:
    """Index look-ups into a creator state as of its day D."""

    def __init__(self, state: pd.DataFrame):
        self.users = pd.Index(state["user_id"].to_numpy(dtype=object))
        self.mat = followers_matrix(state)
        self.nickname = state["nickname"].to_numpy(dtype=object)

    def rows(self, user_ids: pd.Series | np.ndarray) -> np.ndarray:
        return self.users.get_indexer(pd.Series(user_ids).astype(object).to_numpy())

    @staticmethod
    def _value(v: np.ndarray) -> np.ndarray:
        return np.where(v == NULL_FOLLOWERS, np.nan, v)

    def latest(self, rows: np.ndarray, lookback: int) -> tuple[np.ndarray, np.ndarray]:
        """(followers, offset) of the latest snapshot within offsets 0..lookback; (NaN, -1) when none. Computed
        once per distinct creator row and then spread: note_metrics asks for one row per note (1.1 M at 1,000,000
        notes a day, which as rows of the 125-day matrix were a 1 GB copy), its creators are 200,000."""
        n = len(rows)
        fol = np.full(n, np.nan)
        off = np.full(n, -1, dtype="int64")
        ok = rows >= 0
        if ok.any() and len(self.mat):
            uniq, inv = np.unique(rows[ok], return_inverse=True)
            sub = self.mat[uniq, : lookback + 1]
            present = ~np.isnan(sub)
            has = present.any(axis=1)
            first = np.argmax(present, axis=1)
            val = sub[np.arange(len(sub)), first]
            fol[ok] = np.where(has, self._value(val), np.nan)[inv]
            off[ok] = np.where(has, first, -1)[inv]
        return fol, off

    def nearest(self, rows: np.ndarray, target: np.ndarray, tol: int, lookback: int) -> np.ndarray:
        """Followers of the snapshot nearest to the target day (given as its offset D - target, may be negative)
        within ``tol`` days, among snapshots of offsets 0..lookback, the earlier on a tie; NaN when none."""
        n = len(rows)
        b_val = np.full(n, np.nan)
        b_dist = np.full(n, np.inf)
        f_val = np.full(n, np.nan)
        f_dist = np.full(n, np.inf)
        if len(self.mat) == 0 or n == 0:
            return b_val
        target = np.asarray(target, dtype="int64")
        for d in range(tol, -1, -1):  # nearest last, so it wins
            off = target + d
            ok = (rows >= 0) & (off >= 0) & (off <= lookback)
            v = np.full(n, np.nan)
            v[ok] = self.mat[rows[ok], off[ok]]
            hit = ~np.isnan(v)
            b_val = np.where(hit, self._value(v), b_val)
            b_dist = np.where(hit, d, b_dist)
        for d in range(tol, 0, -1):
            off = target - d
            ok = (rows >= 0) & (off >= 0) & (off <= lookback)
            v = np.full(n, np.nan)
            v[ok] = self.mat[rows[ok], off[ok]]
            hit = ~np.isnan(v)
            f_val = np.where(hit, self._value(v), f_val)
            f_dist = np.where(hit, d, f_dist)
        b_ok = np.isfinite(b_dist)
        f_ok = np.isfinite(f_dist)
        use_f = f_ok & (~b_ok | (f_dist < b_dist))
        return np.where(use_f, f_val, np.where(b_ok, b_val, np.nan)).astype("float64")


# =============================================================================================== note_state
def _h(h: float) -> str:
    return horizon_column(h)


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
