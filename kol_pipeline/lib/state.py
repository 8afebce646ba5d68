"""Incremental metrics state: the daily cost of note_metrics, creator_scorecard and tier_benchmarks does not grow
with the length of the history (docs/metrics.md "Incremental state").

Three compact states, each computed from the previous day's state plus that day's cleaned partition:

- ``note_state``: one row per note published in the trailing ``note_window_days`` (120) or observed in the
  trailing 92 days (the tier_benchmarks curve): publish time (first observed), first/last snapshot day, the latest
  observation, the last point of the running-maximum curve, E(h) for h = 2, 7, 30, 90 once the observation at or
  above h has been crawled (with the day it became known), and the curve points up to the first one at or above
  age 30 (for half_life_days) until eng_30d is decided.
- ``creator_state`` (computed by lib/queries/creator_state.sql; ``CreatorLookup`` here reads it): one row per
  creator with a snapshot in the trailing 125 days: the latest nickname and day, and ``followers_by_day``, a 125-long array whose element i is the followers of the snapshot of day D - i (NaN:
  no snapshot that day; -1: a snapshot whose follower count is null). Every creator look-up of the metrics (the
  latest snapshot, the snapshot nearest to t7 or to D - 30 within 3 days, consecutive snapshots for
  follower_spike) is an index into that array.
- ``comment_state``: one row per comment seen in the trailing 122 days, as fixed-width numbers only: 64-bit keys
  of its id, note and first snapshot's normalized text, first and last snapshot day, the class flags of its first
  snapshot, and its latest top-level snapshot's note and is_substantive. It is stored as each day's sightings (a
  delta) with a base now and then, and read as a view over the trailing 122 partitions (``comment_view``).

The ``*_from_state`` functions turn the states of one day D into exactly the rows the window functions of
lib/metrics.py give for D (both end in the same ``finish_*`` code). Pure pandas/numpy, no dagster import.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib import metrics as M
from kol_pipeline.lib.comments import normalize_comment
from kol_pipeline.lib.fastclean import by_value
from kol_pipeline.lib.longevity import half_life_days, horizon_column
from kol_pipeline.lib.order import renumbered
from kol_pipeline.lib.settings import MetricSettings, tier_of

CREATOR_DAYS = 125  # followers_by_day length: creator_scorecard looks back D-124 .. D
NOTE_CREATOR_LOOKBACK = 121  # note_metrics looked up creators of D-121 .. D
CURVE_CREATOR_LOOKBACK = 91  # tier_benchmarks: D-91 .. D
CURVE_NOTE_LOOKBACK = 91  # tier_benchmarks loaded notes of D-91 .. D
COMMENT_KEEP_DAYS = 121  # note_metrics loaded comments of D-121 .. D
NULL_FOLLOWERS = -1.0  # a snapshot whose follower count is null (NaN means no snapshot)
_EPS = 1e-9
_EPOCH_DAY = date(1970, 1, 1)
HORIZONS = M.HORIZONS

NOTE_OBS_COLUMNS = [
    "note_id",
    "user_id",
    "published_at",
    "crawled_at",
    "likes",
    "saves",
    "comments",
    "shares",
    "engagements",
    "category",
    "brands",
    "is_disclosed",
]
COMMENT_COLUMNS = ["comment_id", "note_id", "parent_comment_id", "content", "is_substantive", "crawled_at"]
# The comment state's columns each consumer reads (the state holds one row per comment of 122 days).
NOTE_SHARE_COMMENT_COLUMNS = ["lt_note_key", "lt_cnt", "lt_sub"]
SCORECARD_COMMENT_COLUMNS = ["note_key", "last_sd", "norm_key", "top_first", "top_sub_first"]
_LATEST = [
    "user_id",
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
]


def _ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def _latest_of_day(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per key: the latest crawl (crawled_at, nulls last as in a sort) of a one-day partition, in key order.
    A partition already in strictly increasing key order (a cleaned partition is written sorted by id and holds one
    row per id and day) is that result as it is, and comes back itself, not copied (the sort took 1.1 s for the
    1M-note day)."""
    keys = df[key]
    if keys.is_monotonic_increasing and keys.is_unique and not keys.isna().any():
        return df
    sort_cols = [key] + (["crawled_at"] if "crawled_at" in df.columns else [])
    return df.sort_values(sort_cols, kind="mergesort").drop_duplicates(key, keep="last")


def _with_day(df: pd.DataFrame, day: date) -> pd.DataFrame:
    """The state with its snapshot_date column (set in place: a state frame is owned by the step that made it).
    The column is a one-category Categorical of ``day``: equal to the date everywhere, and grouped or written by
    day without hashing millions of date objects (2.1 s -> 0.26 s for the 24 M rows of a comment_state)."""
    col = pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), categories=pd.Index([day], dtype=object))
    if "snapshot_date" in df.columns:
        df["snapshot_date"] = col
    else:
        df.insert(0, "snapshot_date", col)
    return df


def _without_day(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """A state as loaded (with snapshot_date) -> the frame the steps take. The state functions pick the columns
    they use, so a loaded state is passed through without a copy (the comment state holds millions of rows)."""
    return df


# ============================================================================================ creator_state
def _matrix(state: pd.DataFrame) -> np.ndarray:
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
        self.mat = _matrix(state)
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


# ============================================================================================ comment_state
def key64(values) -> np.ndarray:
    """64-bit keys of ids or texts (pandas' fixed-key hash: the same on every run and machine). The comment state
    keeps these instead of strings: a day then reads fixed-width columns only."""
    arr = np.asarray(pd.Series(values, dtype=object).astype(str).to_numpy(), dtype=object)
    return pd.util.hash_array(arr, categorize=False).view("int64") if len(arr) else np.empty(0, dtype="int64")


# The comment state's columns and their numpy types: 44 bytes a comment (days as int32 day numbers, flags as int8;
# lt_cnt -1 = never top-level). It was 80 bytes with timestamps and float flags, and every day reads, copies and
# writes the whole state (24 M rows at 100,000 notes a day).
COMMENT_STATE_DTYPES = {
    "comment_key": "int64",
    "note_key": "int64",
    "first_sd": "int32",
    "last_sd": "int32",
    "norm_key": "int64",
    "top_first": "int8",
    "top_sub_first": "int8",
    "lt_note_key": "int64",
    "lt_cnt": "int8",
    "lt_sub": "int8",
}
_DAY_COLS = ("first_sd", "last_sd")


def empty_comment_state() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COMMENT_STATE_DTYPES.items()})


def day_number(d: date) -> int:
    """A day as days since 1970-01-01 (comment_state's first_sd / last_sd)."""
    return (d - _EPOCH_DAY).days


def _state_days(s: pd.Series) -> np.ndarray:
    """A comment_state day column as int32 day numbers (also from the timestamps a state stored before them)."""
    if s.dtype.kind in "iu":
        return s.to_numpy(dtype="int32")
    return _dt64(s).astype("datetime64[D]").astype("int64").astype("int32")


# What a NaN flag of a state stored in the former float format becomes: a comment never seen top-level had NaN in
# lt_cnt and lt_sub, now -1 in lt_cnt and 0 in lt_sub.
_FORMER_NULL_FLAG = {"top_first": 0, "top_sub_first": 0, "lt_cnt": -1, "lt_sub": 0}
_FLAG_COLS = tuple(_FORMER_NULL_FLAG)


def _state_flags(cs: pd.DataFrame, column: str) -> np.ndarray:
    """A comment_state flag column as int8 (also from the floats of a state stored before the int8 flags)."""
    s = cs[column]
    if s.dtype.kind in "iu":
        return s.to_numpy(dtype="int8")
    values = s.to_numpy(dtype="float64", na_value=np.nan)
    return np.nan_to_num(values, nan=float(_FORMER_NULL_FLAG[column])).astype("int8")


def _dt64(s: pd.Series) -> np.ndarray:
    """Day columns (datetime64 of any unit, or date objects) as datetime64[ns] values."""
    if s.dtype == object:
        return np.array(s.to_numpy(), dtype="datetime64[D]").astype("datetime64[ns]")
    if s.dtype.kind == "M" and getattr(s.dtype, "tz", None) is None:
        return s.to_numpy().astype("datetime64[ns]", copy=False)
    return pd.to_datetime(s).to_numpy(dtype="datetime64[ns]")


_INT_COLS = ("comment_key", "note_key", "norm_key", "lt_note_key")


def _latest_per_comment(c: pd.DataFrame) -> pd.DataFrame:
    """``_latest_of_day`` by comment_id, without sorting when every comment_id occurs once (the usual day)."""
    if c["comment_id"].is_unique:
        return c
    return _latest_of_day(c, "comment_id")


def _comment_day(comments_day: pd.DataFrame | None) -> dict[str, np.ndarray] | None:
    """One day's comments as the comment state sees them, fixed-width arrays only: per comment its latest snapshot
    of the day (``key``, ``note_key``, ``norm_key``, ``top_first``, ``top_sub_first``, in the day's order, or by
    comment_id when a comment_id occurs more than once), and per comment seen top-level that day its latest top-level snapshot (``lt_key``,
    ``lt_note_key``, ``lt_cnt``, ``lt_sub``). None when the day has no usable comment."""
    if comments_day is None or len(comments_day) == 0:
        return None
    c = comments_day[[x for x in COMMENT_COLUMNS if x in comments_day.columns]]
    c = c[c["comment_id"].notna() & c["note_id"].notna()]
    if len(c) == 0:
        return None
    lat = _latest_per_comment(c)
    top = M._top_level(lat)
    sub = (
        lat["is_substantive"].astype("boolean")
        if "is_substantive" in lat.columns
        else pd.Series(pd.NA, index=lat.index, dtype="boolean")
    )
    content = lat["content"] if "content" in lat.columns else pd.Series("", index=lat.index)
    norm = by_value(content, normalize_comment)  # once per distinct text: short comments repeat ("好看", ...)
    out = {
        "key": key64(lat["comment_id"]),
        "note_key": key64(lat["note_id"]),
        "norm_key": np.where(norm.astype(str).to_numpy() != "", key64(norm), 0),
        "top_first": (top & sub.notna()).to_numpy(dtype="int8"),
        "top_sub_first": (top & sub.fillna(False)).to_numpy(dtype="int8"),
    }
    top_rows = lat[top] if lat is c else c[M._top_level(c)]
    lt = _latest_per_comment(top_rows) if len(top_rows) else top_rows
    s = (
        lt["is_substantive"].astype("boolean")
        if "is_substantive" in lt.columns
        else pd.Series(pd.NA, index=lt.index, dtype="boolean")
    )
    out.update(
        {
            "lt_key": key64(lt["comment_id"]),
            "lt_note_key": key64(lt["note_id"]),
            "lt_cnt": s.notna().to_numpy(dtype="int8"),
            "lt_sub": s.fillna(False).to_numpy(dtype="int8"),
        }
    )
    return out


def _kept_rows(keep: np.ndarray) -> slice | np.ndarray:
    """The rows to keep as a slice when they are all the rows from some row on (the usual day: the expiring
    comments are the oldest, at the front), which costs no pass over the state; else the mask."""
    first = int(np.argmax(keep)) if keep.any() else len(keep)
    return slice(first, None) if keep[first:].all() else keep


def comment_state_step(
    prev: pd.DataFrame | None, comments_day: pd.DataFrame | None, day: date, keep_days: int = COMMENT_KEEP_DAYS
) -> pd.DataFrame:
    """The comment state of ``day`` from the previous state and the comments partition of ``day``.

    Ids and normalized texts are kept as 64-bit keys (``key64``); ``norm_key`` 0 = an empty normalized text,
    ``lt_note_key`` 0 with a null ``lt_cnt`` = never seen top-level. Rows keep their order (new comments are
    appended in the order of the day's latest snapshots); every column of the result is copied once."""
    return _comment_state_step(
        empty_comment_state() if prev is None else prev, _comment_day(comments_day), day, keep_days
    )


def _comment_state_step(st: pd.DataFrame, cd: dict[str, np.ndarray] | None, day: date, keep_days: int) -> pd.DataFrame:
    old = {c: st[c].to_numpy(dtype="int64") for c in _INT_COLS}  # views: prev is never written to
    old.update({c: _state_days(st[c]) for c in _DAY_COLS})
    old.update({c: _state_flags(st, c) for c in _FLAG_COLS})
    today = np.int32(day_number(day))
    keep = old["last_sd"] >= today - keep_days
    if cd is None:
        sel = _kept_rows(keep)
        cols = {k: v[sel] for k, v in old.items()}
    else:
        # hash the day's keys and probe the state's (not the other way round: the state holds millions)
        hit = pd.Index(cd["key"]).get_indexer(old["comment_key"])
        old_rows = np.flatnonzero(hit >= 0)
        pos = np.full(len(cd["key"]), -1, dtype=np.int64)
        pos[hit[old_rows]] = old_rows
        seen = pos >= 0
        keep[old_rows] = True  # seen today: kept whatever its last day was
        sel = _kept_rows(keep)
        n_keep, new = int(keep.sum()), ~seen
        n_new = int(new.sum())
        add = {
            "comment_key": cd["key"][new],
            "note_key": cd["note_key"][new],
            "first_sd": np.full(n_new, today),
            "last_sd": np.full(n_new, today),
            "norm_key": cd["norm_key"][new],
            "top_first": cd["top_first"][new],
            "top_sub_first": cd["top_sub_first"][new],
            "lt_note_key": np.zeros(n_new, dtype="int64"),
            "lt_cnt": np.full(n_new, -1, dtype="int8"),
            "lt_sub": np.zeros(n_new, dtype="int8"),
        }
        cols = {k: np.concatenate([v[sel], add[k]]) for k, v in old.items()}
        row = np.empty(len(pos), dtype="int64")
        # old row -> its row in the result
        row[seen] = pos[seen] - sel.start if isinstance(sel, slice) else (np.cumsum(keep) - 1)[pos[seen]]
        row[new] = np.arange(n_keep, n_keep + n_new)
        cols["last_sd"][row] = today
        if len(cd["lt_key"]):
            lrow = row[pd.Index(cd["key"]).get_indexer(cd["lt_key"])]
            cols["lt_note_key"][lrow] = cd["lt_note_key"]
            cols["lt_cnt"][lrow] = cd["lt_cnt"]
            cols["lt_sub"][lrow] = cd["lt_sub"]
    # copy=False: the arrays are new and owned by the frame; pandas would otherwise copy them into 2-D blocks
    return pd.DataFrame({c: cols[c] for c in empty_comment_state().columns}, copy=False)


def _by_key_and_day(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The chunks' columns concatenated and sorted by (key, day), column by column, emptying ``chunks`` as it
    goes (a bootstrap at 100,000 notes a day sorts ~24 M sightings)."""
    out = {c: np.concatenate([x.pop(c) for x in chunks]) for c in list(chunks[0])}
    chunks.clear()
    order = np.lexsort((out["day"], out["key"]))
    for c in list(out):
        out[c] = out[c][order]
    return out


def comment_state_batch(
    parts: Iterable[tuple[date, pd.DataFrame | None]], keep_days: int = COMMENT_KEEP_DAYS
) -> pd.DataFrame:
    """The comment state of the last day of ``parts`` (consecutive days, each with its comments partition or
    None), equal to folding ``comment_state_step`` over them from no state, row order included, in one sort
    instead of a pass over the growing state per day (a bootstrap over 121 days at 100,000 notes a day folds
    ~24 M comments).

    A comment's sightings form one life while consecutive sightings are at most keep_days + 1 days apart (the
    step drops a comment keep_days + 1 days after its last sighting, and a later sighting starts it anew). Its
    row is its last life: first-sighting attributes and day, last sighting day, the latest top-level sighting of
    that life; kept when the last sighting is in the trailing keep_days + 1 days."""
    lat: list[dict[str, np.ndarray]] = []
    lts: list[dict[str, np.ndarray]] = []
    last: date | None = None
    for d, part in parts:
        last = d
        cd = _comment_day(part)
        if cd is None:
            continue
        day_no = np.int64((d - _EPOCH_DAY).days)
        n = len(cd["key"])
        lat.append(
            {
                "key": cd["key"],
                "day": np.full(n, day_no),
                "seq": np.arange(n, dtype="int64"),
                **{c: cd[c] for c in ("note_key", "norm_key", "top_first", "top_sub_first")},
            }
        )
        lts.append(
            {
                "key": cd["lt_key"],
                "day": np.full(len(cd["lt_key"]), day_no),
                **{c: cd[c] for c in ("lt_note_key", "lt_cnt", "lt_sub")},
            }
        )
    if last is None or not lat:
        return empty_comment_state()
    a = _by_key_and_day(lat)
    key, day = a["key"], a["day"]
    n = len(key)
    new_key = np.ones(n, dtype=bool)
    new_key[1:] = key[1:] != key[:-1]
    starts = new_key.copy()
    starts[1:] |= (day[1:] - day[:-1]) > keep_days + 1
    life_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    end = np.flatnonzero(np.append(new_key[1:], True))  # each key's last sighting
    last_no = np.int64((last - _EPOCH_DAY).days)
    end = end[day[end] >= last_no - keep_days]
    beg = life_start[end]
    out_key = key[end]
    first_no, last_sd_no = day[beg], day[end]
    # the latest top-level sighting of each key, if it falls in the kept life
    t = _by_key_and_day(lts)
    t_last = np.flatnonzero(np.append(t["key"][1:] != t["key"][:-1], True)) if len(t["key"]) else np.empty(0, int)
    at = pd.Index(t["key"][t_last]).get_indexer(out_key) if len(t_last) else np.full(len(out_key), -1)
    has = at >= 0
    has[has] = t["day"][t_last[at[has]]] >= first_no[has]
    lt_at = t_last[np.where(has, at, 0)] if len(t_last) else np.zeros(len(out_key), dtype="int64")
    i = np.lexsort((a["seq"][beg], first_no))  # the fold's row order, as positions in beg/end
    rows, has, lt_at = beg[i], has[i], lt_at[i]
    cols = {
        "comment_key": out_key[i],
        "note_key": a.pop("note_key")[rows],
        "first_sd": first_no[i].astype("int32"),
        "last_sd": last_sd_no[i].astype("int32"),
        "norm_key": a.pop("norm_key")[rows],
        "top_first": a.pop("top_first")[rows],
        "top_sub_first": a.pop("top_sub_first")[rows],
        "lt_note_key": np.where(has, t["lt_note_key"][lt_at] if len(t_last) else 0, 0).astype("int64"),
        "lt_cnt": np.where(has, t["lt_cnt"][lt_at] if len(t_last) else -1, -1).astype("int8"),
        "lt_sub": np.where(has, t["lt_sub"][lt_at] if len(t_last) else 0, 0).astype("int8"),
    }
    return pd.DataFrame({c: cols[c] for c in empty_comment_state().columns}, copy=False)


# ---------------------------------------------------------------------------- comment_state: deltas and bases
# What is stored: partition D of comment_state is a *delta*, the rows of the comments seen on D with their state as
# of D (so last_sd == D), or a *base*, the whole state of D (``base`` = 1 on its rows). A base is written when the
# state before D cannot be read from stored partitions (the first day, a gap) and when the deltas since the last
# base hold more superseded rows than the state has rows (comments re-crawled day after day). The state of a day X
# is ``comment_view`` over the partitions of X - 121 .. X. A day then writes its ~200,000 sightings instead of the
# whole state (24 M rows, 3.6 s of Parquet writing at 100,000 notes a day). docs/metrics.md "comment_state".
COMMENT_VIEW_COLUMNS = ["comment_key", "first_sd", "last_sd", "base"]


def view_start(newest: pd.DataFrame, newest_day: date, day: date, keep_days: int = COMMENT_KEEP_DAYS) -> date:
    """The first partition the comment state of ``day`` is read from, told by the ``base`` and ``base_sd``
    columns of the newest stored partition at or before ``day`` (``newest``, of ``newest_day``): its latest base,
    or ``day - keep_days`` when that base is older. A partition stored before deltas (no ``base``) holds a whole
    state, so the view starts there; one without ``base_sd`` gives no hint, so the whole window is read. Partitions
    before the latest base are never read (a state re-based after re-sightings would otherwise read every former
    base of the window)."""
    lo = day - timedelta(days=keep_days)
    if "base" not in newest.columns:
        return max(lo, newest_day)
    if "base_sd" not in newest.columns or len(newest) == 0 or newest["base_sd"].isna().any():
        return lo
    return max(lo, _EPOCH_DAY + timedelta(days=int(newest["base_sd"].max())))


def comment_partitions_since(day: date, window_days: int, keep_days: int = COMMENT_KEEP_DAYS) -> date:
    """The first stored comment_state partition a reader of the comments last seen in the ``window_days`` days
    ending on ``day`` needs (creator_scorecard: its 90-day window, against the state's 122 days).

    A partition of day P holds rows with last_sd <= P (a delta the comments seen on P, a base the state of P), so
    every row last seen on or after ``day - (window_days - 1)`` is in a partition of that day or later. Over those
    partitions ``comment_view_mask`` keeps the same such rows as over the whole view: a comment's kept row is its
    row of the latest partition, which is among them, and a row of an earlier partition never displaces it. The
    rows of the partitions left out are all last seen before the window (a test checks the stats on random
    histories with bases, re-sightings and expiry: unit/test_comment_state.py)."""
    return day - timedelta(days=min(max(window_days, 1) - 1, keep_days))


def last_seen_since(since: date) -> pc.Expression:
    """Row filter for the reads of ``comment_partitions_since``: the rows last seen on or after ``since`` (a base
    partition holds its whole state; the rows before the window are not the reader's, and none of them decides
    which row of a comment in the window the view keeps: a later row of a comment is last seen later still).
    ``last_sd`` is an int32 day number; a partition of the former format (timestamps) does not take the filter,
    and the caller reads it whole."""
    return pc.field("last_sd") >= pa.scalar(day_number(since), pa.int32())


def _partition_days(sd: pd.Series) -> np.ndarray:
    """snapshot_date (a Categorical of dates as the IO manager reads it, date objects or timestamps) as int32 day
    numbers, one per row (a Categorical is converted per category, not per row)."""

    def number(v) -> int:
        return day_number(pd.Timestamp(v).date())

    if isinstance(sd.dtype, pd.CategoricalDtype):
        cats = np.array([number(c) for c in sd.cat.categories], dtype=np.int32)
        codes = sd.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError("comment_state: rows without a snapshot_date")
        return cats[codes] if len(cats) else np.empty(0, dtype=np.int32)
    if sd.dtype.kind == "M":
        return _dt64(sd).astype("datetime64[D]").astype("int64").astype(np.int32)
    codes, days = pd.factorize(pd.Series(sd), use_na_sentinel=True)  # date objects: converted once per day
    if (codes < 0).any():
        raise ValueError("comment_state: rows without a snapshot_date")
    return np.array([number(v) for v in days], dtype=np.int32)[codes] if len(days) else np.empty(0, np.int32)


def _base_flags(stored: pd.DataFrame) -> np.ndarray:
    """The ``base`` column as int8; a partition stored before deltas existed (no ``base``) held the whole state of
    its day, so it is a base."""
    if "base" not in stored.columns:
        return np.ones(len(stored), dtype=np.int8)
    col = stored["base"]
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu":  # numpy ints: no null (0.47 s a call through
        return col.to_numpy().astype(np.int8, copy=False)  # float64 at 24 M rows, cProfile)
    # nullable ints, or floats: a partition of the former format among newer ones has nulls here
    return col.to_numpy(dtype="float64", na_value=1.0).astype(np.int8)


def comment_view_mask(
    stored: pd.DataFrame, day: date, keep_days: int = COMMENT_KEEP_DAYS
) -> tuple[np.ndarray, int, date]:
    """Which rows of ``stored`` (comment_state partitions with snapshot_date, in any order) form the comment state
    of ``day``; how many rows of the partitions the view reads are not in it (superseded or expired: the cost
    that decides when a new base is written); and the first day read (the latest base, else day - keep_days).

    The view: the partitions of ``day - keep_days .. day`` from the latest base among them on; of those rows, the
    ones with last_sd >= day - keep_days; of a comment with several such rows, the one of the latest partition
    (re-sighted on a later day). Within the window a comment has rows of one life only: a row of a former life
    has its last sighting more than keep_days + 1 days before the new life's first, so it is out of the window."""
    n = len(stored)
    if n == 0:
        return np.zeros(0, dtype=bool), 0, day - timedelta(days=keep_days)
    pday = _partition_days(stored["snapshot_date"])
    today = day_number(day)
    lo = today - keep_days
    in_win = (pday >= lo) & (pday <= today)
    bases = pday[in_win & (_base_flags(stored) == 1)]
    start = max(lo, int(bases.max())) if len(bases) else lo
    read = (pday >= start) & (pday <= today)
    last = _state_days(stored["last_sd"])
    m = read & (last >= lo)
    # a delta row with first_sd < last_sd continues a row of an earlier partition, which it supersedes; rows of
    # the first partition read supersede nothing read (a base, or a delta whose predecessors are before the window)
    resighted = m & (pday > start) & (_state_days(stored["first_sd"]) < last)
    if resighted.any():
        keys = stored["comment_key"].to_numpy(dtype="int64")
        cand = np.flatnonzero(m & (pd.Index(np.unique(keys[resighted])).get_indexer(keys) >= 0))
        cand = cand[np.argsort(pday[cand], kind="stable")]
        m[cand[pd.Index(keys[cand]).duplicated(keep="last")]] = False
    return m, int(read.sum() - m.sum()), _EPOCH_DAY + timedelta(days=int(start))


def comment_view(
    stored: pd.DataFrame | None, day: date, keep_days: int = COMMENT_KEEP_DAYS, mask: np.ndarray | None = None
) -> pd.DataFrame | None:
    """The comment state of ``day`` from stored comment_state partitions (``comment_view_mask``, or ``mask`` when
    the caller has it), with the columns ``stored`` has but snapshot_date and base; no copy of the rows when every
    row is in the view (the usual daily read)."""
    if stored is None:
        return None
    m = comment_view_mask(stored, day, keep_days)[0] if mask is None else mask
    cols = [c for c in stored.columns if c not in ("snapshot_date", "base", "base_sd")]
    if m.all():
        return stored[cols] if len(cols) < len(stored.columns) else stored
    # column by column in numpy (.loc with a mask over 24 M rows took 4.5 s, this 0.3 s)
    return pd.DataFrame({c: stored[c].to_numpy()[m] for c in cols}, copy=False)


#: ``fetch(rows)``: the comment state's columns (COMMENT_STATE_DTYPES) of the rows of a mask over stored partitions
#: that were read with fewer columns (the view's), in row order
RowFetch = Callable[[np.ndarray], pd.DataFrame]


def comment_state_delta(
    prev: pd.DataFrame | None,
    comments_day: pd.DataFrame | None,
    day: date,
    keep_days: int = COMMENT_KEEP_DAYS,
    prev_rows: np.ndarray | None = None,
    fetch: RowFetch | None = None,
) -> pd.DataFrame:
    """The rows of the comment state of ``day`` whose last_sd is ``day`` (the comments seen that day), from the
    state of the day before and the day's comments: ``comment_state_step``'s rows for them, without building the
    rest of the state (only the previous rows of the day's comments are taken). ``prev_rows``: when given, the
    rows of ``prev`` (stored partitions) that form the state (``comment_view_mask``); ``fetch``: when given,
    ``prev`` holds only comment_key (and the view's columns) and ``fetch`` gives the other columns of those rows."""
    cd = _comment_day(comments_day)
    if cd is None:
        return empty_comment_state()
    st = empty_comment_state() if prev is None else prev
    hit = pd.Index(cd["key"]).get_indexer(st["comment_key"].to_numpy(dtype="int64")) >= 0
    if prev_rows is not None:
        hit &= prev_rows
    cols = list(COMMENT_STATE_DTYPES)
    if fetch is not None and prev is not None:
        sub = fetch(hit)[cols] if hit.any() else empty_comment_state()
    else:
        sub = pd.DataFrame({c: st[c].to_numpy()[hit] for c in cols}, copy=False)
    return _comment_state_step(sub, cd, day, keep_days)


def comment_state_partitions(
    prev: pd.DataFrame | None,
    days: Sequence[date],
    read: Callable[[date], pd.DataFrame | None],
    dead: int = 0,
    base_first: bool = False,
    keep_days: int = COMMENT_KEEP_DAYS,
    prev_rows: np.ndarray | None = None,
    base_day: date | None = None,
    fetch: RowFetch | None = None,
) -> Iterator[tuple[date, pd.DataFrame]]:
    """The comment_state partitions to store for ``days`` (consecutive), continuing from ``prev``, the state of
    the day before the first (None: empty; with ``prev_rows``, the stored partitions and the mask of the state's
    rows), whose stored partitions hold ``dead`` rows beyond it; ``read(day)`` gives a day's comments partition.
    Yields (day, rows with ``base``): a delta, or the whole state when ``base_first`` (first day only) or when the
    deltas since the last base would hold more superseded rows than the state has rows. ``base_day``: where the
    view of the day before starts (``comment_view_mask``), written as ``base_sd`` until a new base. Only a day that
    is followed by another day of the run, or stored as a base, builds the whole state (a daily run copies no row
    of the stored state). ``fetch``: ``prev`` (with ``prev_rows``) holds only the view's columns, and ``fetch``
    gives the others for the rows a day needs (the previous rows of its comments; all the state's rows for a
    base or for the next day of the run)."""
    st = empty_comment_state() if prev is None else prev
    st_rows = prev_rows
    base_next = base_first

    def whole() -> pd.DataFrame:  # the state's rows as a frame of their own (the day is not used with a mask)
        if st_rows is None:
            return st
        return fetch(st_rows) if fetch is not None else comment_view(st, days[0], mask=st_rows)

    base_no = day_number(base_day if base_day is not None else days[0] - timedelta(days=keep_days + 1))

    for i, d in enumerate(days):
        part = read(d)
        delta = comment_state_delta(st, part, d, keep_days, st_rows, fetch if st_rows is not None else None)
        resighted = int((delta["first_sd"].to_numpy() < day_number(d)).sum())
        live = len(st) if st_rows is None else int(st_rows.sum())
        dead += resighted
        if base_next or dead > live + len(delta) - resighted:
            st, st_rows = comment_state_step(whole(), part, d, keep_days), None
            rows, dead, base_next, base_no = st.copy(deep=False), 0, False, day_number(d)
            rows["base"] = np.int8(1)
        else:
            rows = delta
            rows["base"] = np.int8(0)
            if i + 1 < len(days):  # the next day continues from the whole state
                st, st_rows = comment_state_step(whole(), part, d, keep_days), None
        rows["base_sd"] = np.int32(base_no)
        yield d, rows


# =============================================================================================== note_state
def _h(h: float) -> str:
    return horizon_column(h)


def empty_note_state() -> pd.DataFrame:
    """The note state with no rows (a fresh copy: callers own what they get)."""
    return _empty_note_state().copy()


@functools.lru_cache(maxsize=1)
def _empty_note_state() -> pd.DataFrame:
    cols: dict[str, pd.Series] = {
        "note_id": pd.Series(dtype=object),
        "user_id": pd.Series(dtype=object),
        "published_at": pd.Series(dtype="datetime64[ns, UTC]"),
        "pub_day": pd.Series(dtype="datetime64[ns]"),
        "first_sd": pd.Series(dtype="datetime64[ns]"),
        "last_sd": pd.Series(dtype="datetime64[ns]"),
        "crawled_at": pd.Series(dtype="datetime64[ns, UTC]"),
        "age_days": pd.Series(dtype="float64"),
        "likes": pd.Series(dtype="Int64"),
        "saves": pd.Series(dtype="Int64"),
        "comments": pd.Series(dtype="Int64"),
        "shares": pd.Series(dtype="Int64"),
        "engagements": pd.Series(dtype="Int64"),
        "category": pd.Series(dtype=object),
        "brands": pd.Series(dtype=object),
        "is_disclosed": pd.Series(dtype="boolean"),
        "c_age": pd.Series(dtype="float64"),
        "c_E": pd.Series(dtype="float64"),
    }
    for h in HORIZONS:
        cols[_h(h)] = pd.Series(dtype="float64")
        cols[f"{_h(h)}_sd"] = pd.Series(dtype="datetime64[ns]")
        cols[f"{_h(h)}_done"] = pd.Series(dtype=bool)
    cols["half_life_days"] = pd.Series(dtype="float64")
    cols["curve_age"] = pd.Series(dtype=object)
    cols["curve_E"] = pd.Series(dtype=object)
    return pd.DataFrame(cols)


def _columns_of(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A new frame of `columns` of `df` sharing its arrays (a column selection copied all 1.1 M rows of the 1M-note
    day's note state, twice a step). The step only replaces columns of it, never writes into one."""
    if list(df.columns) == columns:
        return df.copy(deep=False)
    if not set(columns) <= set(df.columns) or len(set(df.columns)) != len(df.columns):
        return df[columns]  # a missing column raises as before; duplicate labels: pandas decides
    out = df.copy(deep=False)
    for c in [c for c in out.columns if c not in set(columns)]:
        del out[c]
    return out if list(out.columns) == columns else out[columns]


def _normalize_note_state(st: pd.DataFrame) -> pd.DataFrame:
    """dtypes after a Parquet round trip -> the in-memory ones (state columns only). Always a new frame (the step
    owns it, and only replaces its columns); a state made by the previous step already has the in-memory dtypes,
    and only its columns are picked."""
    base = _empty_note_state()
    st = renumbered(_columns_of(st, list(base.columns)))
    if st.dtypes.equals(base.dtypes):
        return st
    for c in ("pub_day", "first_sd", "last_sd", *[f"{_h(h)}_sd" for h in HORIZONS]):
        st[c] = _dt64(st[c]) if len(st) else st[c].astype("datetime64[ns]")
    for c in ("published_at", "crawled_at"):
        st[c] = M._utc(st[c])
    for h in HORIZONS:
        st[f"{_h(h)}_done"] = st[f"{_h(h)}_done"].astype("boolean").fillna(False).astype(bool)
    for c in ("note_id", "user_id", "category", "brands", "curve_age", "curve_E"):
        st[c] = st[c].astype(object)
    for c in ("likes", "saves", "comments", "shares", "engagements"):
        st[c] = pd.array(pd.to_numeric(st[c], errors="coerce"), dtype="Int64")
    st["is_disclosed"] = st["is_disclosed"].astype("boolean")
    for c in ("age_days", "c_age", "c_E", "half_life_days", *[_h(h) for h in HORIZONS]):
        st[c] = st[c].astype("float64")
    return st


def _new_notes(new: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """State rows of notes seen for the first time (latest observation filled in by the caller)."""
    n = len(new)
    add = pd.DataFrame(
        {
            "note_id": new["note_id"].to_numpy(dtype=object),
            "published_at": new["published_at"].array,  # not to_numpy(): a Timestamp object per row
            "pub_day": M._shanghai_day(new["published_at"]).to_numpy(dtype="datetime64[ns]"),
            "c_age": 0.0,
            "c_E": 0.0,
            "half_life_days": np.nan,
        }
    )
    add["published_at"] = M._utc(add["published_at"])
    for h in HORIZONS:
        add[f"{_h(h)}_done"] = False
    empty = np.empty(n, dtype=object)
    for i in range(n):
        empty[i] = np.empty(0)
    add["curve_age"] = empty
    add["curve_E"] = empty.copy()
    base = empty_note_state()
    for col in columns:
        if col not in add.columns:
            add[col] = pd.Series(np.full(n, None, dtype=object)).astype(base[col].dtype) if n else base[col]
    return add[list(columns)]


def note_state_step(
    prev: pd.DataFrame | None, notes_day: pd.DataFrame | None, day: date, settings: MetricSettings = MetricSettings()
) -> pd.DataFrame:
    """The note state of ``day`` from the previous state and the notes partition of ``day``."""
    st = empty_note_state() if prev is None else _normalize_note_state(prev)
    d = _ts(day)
    d64 = np.datetime64(d.to_datetime64(), "ns")
    gap = float(settings.max_gap_days)
    if notes_day is not None and len(notes_day):
        o = _columns_of(notes_day, [c for c in NOTE_OBS_COLUMNS if c in notes_day.columns])
        named = o["note_id"].notna().to_numpy()
        if not named.all():
            o = o[named]
        for c in NOTE_OBS_COLUMNS:
            if c not in o.columns:
                o[c] = None
        o["crawled_at"] = M._utc(o["crawled_at"])
        o["published_at"] = M._utc(o["published_at"])
        o = renumbered(_latest_of_day(o, "note_id"))
        pos = pd.Index(st["note_id"].to_numpy(dtype=object)).get_indexer(o["note_id"].to_numpy(dtype=object))
        new = (pos < 0) & o["published_at"].notna().to_numpy()  # a note enters with its first publish time
        if new.any():
            n0 = len(st)
            add = _new_notes(o[new], st.columns)
            add["first_sd"] = d64
            with warnings.catch_warnings():  # all-null columns of the new rows
                warnings.simplefilter("ignore", FutureWarning)
                st = pd.concat([st, add], ignore_index=True) if n0 else add
            st = _normalize_note_state(st)
            pos[new] = np.arange(n0, n0 + int(new.sum()))
        seen = pos >= 0
        if not seen.all():
            o, pos = renumbered(o[seen]), pos[seen]

        def put(col: str, values) -> None:
            arr = (
                st[col].array.copy()
                if isinstance(st[col].dtype, pd.api.extensions.ExtensionDtype)
                else st[col].to_numpy(copy=True)
            )
            arr[pos] = values
            st[col] = arr

        pub = st["published_at"].array[pos]
        put("last_sd", d64)
        for c in ("user_id", "category"):
            put(c, o[c].to_numpy(dtype=object))
        put("is_disclosed", o["is_disclosed"].astype("boolean").array)
        put("crawled_at", o["crawled_at"].array)
        for c in ("likes", "saves", "comments", "shares", "engagements"):
            put(c, pd.array(pd.to_numeric(o[c], errors="coerce"), dtype="Int64"))
        br = st["brands"].to_numpy(dtype=object, copy=True)
        br[pos] = o["brands"].to_numpy(dtype=object)  # 1-D object arrays: each note's list is assigned as is
        st["brands"] = br
        age = (pd.Series(o["crawled_at"].array) - pd.Series(pub)).dt.total_seconds().to_numpy(dtype="float64") / 86400.0
        put("age_days", age)

        # ---- the running-maximum curve: one new point per note whose observation has a usable age and value
        e = M._num(o["engagements"])
        pt = ~np.isnan(age) & ~np.isnan(e) & (age >= 0)
        pp = pos[pt]
        if len(pp):
            a = age[pt]
            c_age = st["c_age"].to_numpy(dtype="float64", copy=True)
            c_E = st["c_E"].to_numpy(dtype="float64", copy=True)
            E = np.fmax(c_E[pp], e[pt])
            pending30 = ~st[f"{_h(30.0)}_done"].to_numpy(dtype=bool)[pp]
            for h in HORIZONS:
                col = _h(h)
                done = st[f"{col}_done"].to_numpy(dtype=bool, copy=True)
                now = ~done[pp] & (a >= h)
                if not now.any():
                    continue
                exact = a == h
                a0 = np.where(exact, a, c_age[pp])
                e0 = np.where(exact, E, c_E[pp])
                ok = (h - a0 <= gap + _EPS) & (a - h <= gap + _EPS)
                span = a - a0
                with np.errstate(invalid="ignore", divide="ignore"):
                    val = np.where(span > 0, e0 + (h - a0) / np.where(span > 0, span, 1.0) * (E - e0), E)
                sel = pp[now]
                v = st[col].to_numpy(dtype="float64", copy=True)
                v[sel] = np.where(ok, val, np.nan)[now]
                st[col] = v
                sd = st[f"{col}_sd"].to_numpy(dtype="datetime64[ns]", copy=True)
                sd[sel] = np.where(ok[now], d64, np.datetime64("NaT", "ns"))
                st[f"{col}_sd"] = sd
                done[sel] = True
                st[f"{col}_done"] = done
            c_age[pp] = a
            c_E[pp] = E
            st["c_age"] = c_age
            st["c_E"] = c_E
            # curve points for the half-life while eng_30d is undecided (this point included)
            grow = pp[pending30]
            if len(grow):
                ca = st["curve_age"].to_numpy(dtype=object, copy=True)
                cE = st["curve_E"].to_numpy(dtype=object, copy=True)
                ca[grow] = _appended(ca[grow], a[pending30])
                cE[grow] = _appended(cE[grow], E[pending30])
                st["curve_age"] = ca
                st["curve_E"] = cE
                decided = grow[st[f"{_h(30.0)}_done"].to_numpy(dtype=bool)[grow]]
                if len(decided):
                    rows = st.iloc[decided].set_index("note_id")
                    hl = st["half_life_days"].to_numpy(dtype="float64", copy=True)
                    hl[decided] = _half_life(rows, settings).to_numpy()
                    st["half_life_days"] = hl
                    for p_ in decided:
                        ca[p_] = np.empty(0)
                        cE[p_] = np.empty(0)
                    st["curve_age"] = ca
                    st["curve_E"] = cE
    # ---- retention: the note window, and notes observed recently enough for the tier_benchmarks curve
    window = int(settings.note_window_days)
    in_window = (st["pub_day"] >= d - pd.Timedelta(days=window - 1)).to_numpy()
    recent = (st["last_sd"] >= d - pd.Timedelta(days=CURVE_NOTE_LOOKBACK)).to_numpy()
    st = renumbered(st[in_window | recent])
    old = np.flatnonzero(~in_window[in_window | recent])
    if len(old):  # curve-only notes need no curve points
        ca = st["curve_age"].to_numpy(dtype=object, copy=True)
        cE = st["curve_E"].to_numpy(dtype=object, copy=True)
        for p_ in old:
            ca[p_] = np.empty(0)
            cE[p_] = np.empty(0)
        st["curve_age"] = ca
        st["curve_E"] = cE
    return st


def _object_array(items) -> np.ndarray:
    """A 1-D object array holding `items` as they are (numpy would make a 2-D array of equal-length lists)."""
    return np.fromiter(items, dtype=object, count=len(items))


def _appended(arrays: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each float array of `arrays` (an object array; None or a list counts as its values) with the matching
    value of `values` appended, as a new object array of float64 arrays. One concatenation and one split instead
    of an np.append per note (532,602 calls in the 1M-note day's note_state)."""
    if len(arrays) == 0:
        return np.empty(0, dtype=object)
    parts = [np.asarray(x if x is not None else (), dtype="float64") for x in arrays]
    lens = np.fromiter((len(x) for x in parts), dtype=np.int64, count=len(parts)) + 1
    flat = np.empty(int(lens.sum()), dtype="float64")
    ends = np.cumsum(lens)
    flat[ends - 1] = values
    keep = np.ones(len(flat), dtype=bool)
    keep[ends - 1] = False
    if keep.any():
        flat[keep] = np.concatenate(parts)
    return _object_array(np.split(flat, ends[:-1]))


def _half_life(rows: pd.DataFrame, settings: MetricSettings) -> pd.Series:
    """half_life_days of notes whose eng_30d was just decided, from their stored curve points."""
    lens = rows["curve_age"].map(len).to_numpy()
    ids = rows.index.to_numpy(dtype=object)
    curve = pd.DataFrame(
        {
            "note_id": np.concatenate([ids, np.repeat(ids, lens)]),
            "age_days": np.concatenate(
                [np.zeros(len(ids))] + [np.asarray(x, dtype="float64") for x in rows["curve_age"]]
            ),
            "E": np.concatenate([np.zeros(len(ids))] + [np.asarray(x, dtype="float64") for x in rows["curve_E"]]),
            "_ord": np.concatenate([np.zeros(len(ids)), np.ones(int(lens.sum()))]),
        }
    )
    curve = curve.sort_values(["note_id", "age_days", "_ord"], kind="mergesort").drop(columns="_ord")
    curve = renumbered(curve)
    eng30 = rows[_h(30.0)].astype("float64")
    hl = half_life_days(curve, eng30, 30.0, settings.max_gap_days)
    return hl.reindex(rows.index)


# ======================================================================================== metrics from state
def note_metrics_from_state(
    note_state: pd.DataFrame,
    creator_state: pd.DataFrame,
    comment_state: pd.DataFrame,
    campaign_posts: pd.DataFrame | None,
    day: date,
    settings: MetricSettings = MetricSettings(),
    lookup: CreatorLookup | None = None,
    comment_rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """note_metrics rows of ``day`` from the three states of that day. ``comment_rows``: when given, the rows of
    ``comment_state`` that form the state (``comment_view_mask`` over stored partitions; no copy of the rest)."""
    st = _normalize_note_state(_without_day(note_state))
    d = _ts(day)
    window = int(settings.note_window_days)
    lo_day = np.maximum(st["first_sd"].to_numpy(dtype="datetime64[ns]"), st["pub_day"].to_numpy(dtype="datetime64[ns]"))
    sel = (
        st["pub_day"].notna()
        & st["first_sd"].notna()
        & (lo_day <= d.to_datetime64())
        & (st["pub_day"] >= d - pd.Timedelta(days=window - 1))
    )
    keep = sel.to_numpy()
    if not keep.any():
        return M.NOTE_METRICS.empty_frame()
    # the columns used, then the rows: one copy of those columns (the rows of the whole state, curve lists
    # included, were copied, then the columns twice more); none when every note is in the window
    pairs = _columns_of(
        st,
        [
            "note_id",
            "user_id",
            "published_at",
            "pub_day",
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
            "half_life_days",
            *[_h(h) for h in HORIZONS],
        ],
    )
    pairs = renumbered(pairs if keep.all() else pairs[keep])
    pairs["D"] = d
    pairs["D"] = pairs["D"].astype("datetime64[ns]")
    lk = lookup if lookup is not None else CreatorLookup(_without_day(creator_state))
    rows = lk.rows(pairs["user_id"])
    followers, _ = lk.latest(rows, NOTE_CREATOR_LOOKBACK)
    t7 = M._shanghai_day(pairs["published_at"] + pd.Timedelta(days=7))
    target = ((d - t7).dt.days).to_numpy(dtype="int64")
    f7 = lk.nearest(rows, target, int(settings.nearest_snapshot_days), NOTE_CREATOR_LOOKBACK)
    sub = _note_comment_share(_without_day(comment_state), pairs["note_id"], comment_rows)
    return M.finish_note_metrics(pairs, followers, f7, sub, campaign_posts, settings)


def _note_comment_share(cs: pd.DataFrame | None, note_ids: pd.Series, rows: np.ndarray | None = None) -> np.ndarray:
    """Share of substantive comments among the top-level comments of each note (by the note of their latest
    top-level snapshot); NaN when none. Only the state's rows of the notes asked for are summed (a hash probe per
    row instead of a sort of the whole state); only ``rows`` (a mask) of ``cs`` when given."""
    if cs is None or len(cs) == 0:
        return np.full(len(note_ids), np.nan)
    cnt = _state_flags(cs, "lt_cnt")
    want = key64(note_ids)
    uk = pd.Index(pd.unique(want))
    at = uk.get_indexer(cs["lt_note_key"].to_numpy(dtype="int64"))
    ok = (at >= 0) & (cnt > 0)  # a top-level snapshot with a known is_substantive
    if rows is not None:
        ok &= rows
    n_by = np.bincount(at[ok], minlength=len(uk)).astype("float64")
    k_by = np.bincount(at[ok], weights=_state_flags(cs, "lt_sub")[ok], minlength=len(uk))
    row = uk.get_indexer(want)
    n, k = n_by[row], k_by[row]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)


#: rows of per-day inputs one batched finish takes at most (``tier_benchmarks_from_states``): the pandas overhead of a call per day goes on small data, and a ranged run of
#: large days does not hold every day's inputs at once (a 1M-note day alone is ~1.1 M note_metrics rows)
FINISH_BATCH_ROWS = 1_000_000


def _batches(items: Iterable, size_of: Callable[[object], int], limit: int) -> Iterator[list]:
    """``items`` in order, grouped into lists of at most ``limit`` rows (an item larger than that alone)."""
    batch: list = []
    n = 0
    for it in items:
        k = size_of(it)
        if batch and n + k > limit:
            yield batch
            batch, n = [], 0
        batch.append(it)
        n += k
    if batch:
        yield batch


def _creator_comment_stats_state(
    cs: pd.DataFrame | None,
    owner: pd.Series,
    d: pd.Timestamp,
    window: int,
    pairs: pd.DataFrame,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per creator of ``pairs``: the comments on their notes (``owner``: note_id -> user_id) last seen in the
    trailing ``window`` days: n_all, n_dup (comments whose non-empty normalized text another of them shares),
    n_top, n_top_sub. Integer codes and bincounts: the state may hold millions of comments."""
    zeros = pd.DataFrame(0.0, index=range(len(pairs)), columns=["n_all", "n_dup", "n_top", "n_top_sub"])
    if cs is None or len(cs) == 0 or len(pairs) == 0 or len(owner) == 0:
        return zeros
    last = _state_days(cs["last_sd"])
    m = last >= day_number(d.date()) - (window - 1)
    if rows is not None:  # only the rows of the state (a mask over stored partitions)
        m &= rows
    # creators by hash, not by np.unique's sort of the owners' ids as fixed-width text (0.7 s for 1.1 M notes)
    ucode, users = pd.factorize(pd.Series(owner.to_numpy(dtype=object), dtype=object).astype(str))
    okeys = key64(owner.index.to_numpy(dtype=object))
    first_of_key = ~pd.Index(okeys).duplicated(keep="last")  # one owner per note (the last row, as the window code)
    okeys, ucode = okeys[first_of_key], ucode[first_of_key]
    at = pd.Index(okeys).get_indexer(cs["note_key"].to_numpy(dtype="int64")[m])
    has = at >= 0
    code = ucode[at[has]]
    if len(code) == 0:
        return zeros
    sel = m.copy()  # the rows in the window on a note of a known creator: one selection per column, not two
    sel[m] = has
    nu = len(users)
    n_all = np.bincount(code, minlength=nu).astype("float64")
    n_top = np.bincount(code, weights=_state_flags(cs, "top_first")[sel], minlength=nu)
    n_top_sub = np.bincount(code, weights=_state_flags(cs, "top_sub_first")[sel], minlength=nu)
    norm = cs["norm_key"].to_numpy(dtype="int64")[sel]
    t = norm != 0
    n_dup = np.zeros(nu)
    if t.any():
        # a comment is a duplicate when another comment of the same creator has its normalized text: count the
        # (creator, text) pairs through integer codes (a two-key groupby took 1.1 s on 18 M comments at 100k)
        u_t = code[t]
        text, _ = pd.factorize(norm[t])
        pair, _ = pd.factorize(text.astype("int64") * nu + u_t)
        dup = np.bincount(pair)[pair] >= 2
        n_dup = np.bincount(u_t[dup], minlength=nu).astype("float64")
    pu = pd.Index(users).get_indexer(pairs["user_id"].astype(str).to_numpy())
    pick = lambda a: np.where(pu >= 0, a[np.maximum(pu, 0)], 0.0)  # noqa: E731
    out = pd.DataFrame({"n_all": pick(n_all), "n_dup": pick(n_dup), "n_top": pick(n_top), "n_top_sub": pick(n_top_sub)})
    return out.fillna(0.0).round(9)


#: public for the scorecard's glue (lib/queries/creator_scorecard.comment_stats) until comment_state is in SQL
creator_comment_stats_state = _creator_comment_stats_state

# the note_state columns the tier_benchmarks curve reads (the asset loads only these, not the curve lists)
CURVE_NOTE_COLUMNS = ["user_id", "last_sd", "age_days", "engagements", "category"]


def curve_points_from_state(
    note_state: pd.DataFrame,
    day: date,
    settings: MetricSettings = MetricSettings(),
    lookup: CreatorLookup | None = None,
    creator_state: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """tier_benchmarks curve points of ``day``: every note's latest observation if made in the trailing
    curve_window_days, engagements / the author's latest followers. Reads only ``CURVE_NOTE_COLUMNS`` of the
    state (as stored or as a step made it: each column converted as `_normalize_note_state` converts it)."""
    st = _without_day(note_state)
    d = _ts(day)
    cw = int(settings.curve_window_days)
    last = _dt64(st["last_sd"]) if len(st) else np.zeros(0, dtype="datetime64[ns]")
    age = pd.Series(st["age_days"]).astype("float64").to_numpy()
    keep = np.flatnonzero(
        (last >= (d - pd.Timedelta(days=cw - 1)).to_datetime64()) & (last <= d.to_datetime64()) & (age >= 0)
    )
    users = st["user_id"].astype(object).to_numpy()[keep]
    lk = lookup if lookup is not None else CreatorLookup(_without_day(creator_state))
    fol, _ = lk.latest(lk.rows(users), CURVE_CREATOR_LOOKBACK)
    eng = M._num(st["engagements"])[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(fol > 0, eng / np.where(fol > 0, fol, 1.0), np.nan)
    D = pd.Series(d, index=range(len(keep))).astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "D": D.to_numpy(),
            "tier": tier_of(pd.Series(fol), settings.tier_bounds).to_numpy(),
            "category": st["category"].astype(object).to_numpy()[keep],
            "age_days": age[keep],
            "ratio": ratio,
        }
    )


def tier_benchmarks_from_state(
    scorecard_day: pd.DataFrame,
    note_state: pd.DataFrame,
    creator_state: pd.DataFrame,
    day: date,
    settings: MetricSettings = MetricSettings(),
    lookup: CreatorLookup | None = None,
) -> pd.DataFrame:
    cp = curve_points_from_state(note_state, day, settings, lookup, creator_state)
    return M.tier_benchmarks(scorecard_day, None, None, None, [day], settings, curve_points=cp)


def tier_benchmarks_from_states(
    scorecard: pd.DataFrame,
    curve_points: Iterable[tuple[date, pd.DataFrame]],
    settings: MetricSettings = MetricSettings(),
    batch_rows: int = FINISH_BATCH_ROWS,
) -> pd.DataFrame:
    """tier_benchmarks rows of several days, in day order, from the scorecard rows of those days and each
    (day, ``curve_points_from_state`` of that day): one ``M.tier_benchmarks`` per batch of days
    (``FINISH_BATCH_ROWS``), which groups by day, so each day's rows are those of ``tier_benchmarks_from_state``
    of that day (a call per day cost a ranged run 0.04 s a day of pandas overhead under cProfile on small data)."""
    out = []
    for got in _batches(curve_points, lambda dp: len(dp[1]), batch_rows):
        days = [d for d, _ in got]
        cp = pd.concat([c for _, c in got], ignore_index=True) if len(got) > 1 else got[0][1]
        # M.tier_benchmarks takes the scorecard rows of ``days`` only
        out.append(M.tier_benchmarks(scorecard, None, None, None, days, settings, curve_points=cp))
    if not out:
        return M.TIER_BENCHMARKS.empty_frame()
    return out[0] if len(out) == 1 else pd.concat(out, ignore_index=True)


# ================================================================================================ folding
def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
