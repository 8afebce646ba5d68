"""Incremental metrics state: the daily cost of note_metrics, creator_scorecard and tier_benchmarks does not grow
with the length of the history (docs/metrics.md "Incremental state").

Three compact states, each computed from the previous day's state plus that day's cleaned partition:

- ``note_state``: one row per note published in the trailing ``note_window_days`` (120) or observed in the
  trailing 92 days (the tier_benchmarks curve): publish time (first observed), first/last snapshot day, the latest
  observation, the last point of the running-maximum curve, E(h) for h = 2, 7, 30, 90 once the observation at or
  above h has been crawled (with the day it became known), and the curve points up to the first one at or above
  age 30 (for half_life_days) until eng_30d is decided.
- ``creator_state``: one row per creator with a snapshot in the trailing 125 days: the latest nickname and day,
  and ``followers_by_day``, a 125-long array whose element i is the followers of the snapshot of day D - i (NaN:
  no snapshot that day; -1: a snapshot whose follower count is null). Every creator look-up of the metrics (the
  latest snapshot, the snapshot nearest to t7 or to D - 30 within 3 days, consecutive snapshots for
  follower_spike) is an index into that array.
- ``comment_state`` is DuckDB SQL keyed by the real ids (lib/queries/comment_state.py); the metrics here take its
  two per-day inputs as functions: ``CommentShare`` (note_metrics) and ``CommentStats`` (creator_scorecard).

The ``*_from_state`` functions turn the states of one day D into exactly the rows the window functions of
lib/metrics.py give for D (both end in the same ``finish_*`` code). Pure pandas/numpy, no dagster import.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib import metrics as M
from kol_pipeline.lib.longevity import horizon_column
from kol_pipeline.lib.order import renumbered
from kol_pipeline.lib.queries import comment_state as comment_queries
from kol_pipeline.lib.settings import MetricSettings

CREATOR_DAYS = 125  # followers_by_day length: creator_scorecard looks back D-124 .. D
SCORECARD_CREATOR_LOOKBACK = 124  # creator_scorecard: D-124 .. D
COMMENT_KEEP_DAYS = comment_queries.KEEP_DAYS  # the comment state holds the comments seen in D-121 .. D
NULL_FOLLOWERS = -1.0  # a snapshot whose follower count is null (NaN means no snapshot)
_EPOCH_DAY = date(1970, 1, 1)
HORIZONS = M.HORIZONS

CREATOR_COLUMNS = ["user_id", "nickname", "followers", "crawled_at"]
COMMENT_COLUMNS = comment_queries.COMMENT_COLUMNS
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
def empty_creator_state() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": pd.Series(dtype=object),
            "nickname": pd.Series(dtype=object),
            "latest_sd": pd.Series(dtype="datetime64[ns]"),
            "followers_by_day": pd.Series(dtype=object),
        }
    )


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


def creator_state_step(
    prev: pd.DataFrame | None, prev_day: date | None, creators_day: pd.DataFrame | None, day: date
) -> pd.DataFrame:
    """The creator state of ``day`` from the state of ``prev_day`` (None: start empty) and the creators
    partition of ``day``. Frames carry no snapshot_date column."""
    prev = empty_creator_state() if prev is None else prev
    k = (day - prev_day).days if prev_day is not None else CREATOR_DAYS
    old = _matrix(prev)
    mat = np.full((len(prev), CREATOR_DAYS), np.nan)
    if 0 < k < CREATOR_DAYS:
        mat[:, k:] = old[:, : CREATOR_DAYS - k]
    users = prev["user_id"].to_numpy(dtype=object)
    nick = prev["nickname"].to_numpy(dtype=object)
    latest = pd.to_datetime(prev["latest_sd"]).to_numpy(dtype="datetime64[ns]")
    if creators_day is not None and len(creators_day):
        c = creators_day[[x for x in CREATOR_COLUMNS if x in creators_day.columns]]
        c = c[c["user_id"].notna()]
        c = _latest_of_day(c, "user_id")
        fol = M._num(c["followers"]) if "followers" in c.columns else np.full(len(c), np.nan)
        fol = np.where(np.isnan(fol), NULL_FOLLOWERS, fol)
        idx = pd.Index(users).get_indexer(c["user_id"].to_numpy(dtype=object))
        new = idx < 0
        n_new = int(new.sum())
        if n_new:
            mat = np.vstack([mat, np.full((n_new, CREATOR_DAYS), np.nan)])
            users = np.concatenate([users, c["user_id"].to_numpy(dtype=object)[new]])
            nick = np.concatenate([nick, np.full(n_new, None, dtype=object)])
            latest = np.concatenate([latest, np.full(n_new, np.datetime64("NaT"), dtype="datetime64[ns]")])
            idx[new] = np.arange(len(users) - n_new, len(users))
        mat[idx, 0] = fol
        nn = c["nickname"].to_numpy(dtype=object) if "nickname" in c.columns else np.full(len(c), None, dtype=object)
        nick[idx] = nn
        latest[idx] = np.datetime64(_ts(day).to_datetime64(), "ns")
    keep = ~np.isnan(mat).all(axis=1)
    out = pd.DataFrame(
        {
            "user_id": users[keep],
            "nickname": nick[keep],
            "latest_sd": pd.to_datetime(latest[keep]).astype("datetime64[ns]"),
        }
    )
    out["nickname"] = out["nickname"].astype(object).where(out["nickname"].notna(), None)
    out["followers_by_day"] = followers_column(mat[keep]) if keep.any() else pd.Series(dtype=object)
    return out


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

    def spike_candidates(self, day: date, lookback: int, settings: MetricSettings) -> pd.DataFrame:
        """Rises between consecutive snapshots (offsets 0..lookback) above spike_rel and spike_abs:
        user_id, sd, prev_sd."""
        cols = {
            "user_id": pd.Series(dtype=object),
            "sd": pd.Series(dtype="datetime64[ns]"),
            "prev_sd": pd.Series(dtype="datetime64[ns]"),
        }
        if len(self.mat) == 0:
            return pd.DataFrame(cols)
        chron = self.mat[:, : lookback + 1][:, ::-1]  # column j = day D - lookback + j
        m = chron.shape[1]
        present = ~np.isnan(chron)
        idx = np.where(present, np.arange(m), -1)
        last = np.maximum.accumulate(idx, axis=1)
        prev = np.concatenate([np.full((len(chron), 1), -1), last[:, :-1]], axis=1)
        r, j = np.nonzero(present & (prev >= 0))
        if len(r) == 0:
            return pd.DataFrame(cols)
        pj = prev[r, j]
        f = self._value(chron[r, j])
        fp = self._value(chron[r, pj])
        rise = f - fp
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(fp > 0, rise / np.where(fp > 0, fp, 1.0), np.where(rise > 0, np.inf, 0.0))
        cand = (rel > settings.spike_rel) & (rise > settings.spike_abs)
        d0 = np.datetime64(_ts(day).to_datetime64(), "ns")
        one = np.timedelta64(1, "D").astype("timedelta64[ns]")
        sd = d0 - (lookback - j[cand]).astype("int64") * one
        psd = d0 - (lookback - pj[cand]).astype("int64") * one
        return pd.DataFrame({"user_id": self.users.to_numpy()[r[cand]], "sd": sd, "prev_sd": psd})


def _dt64(s: pd.Series) -> np.ndarray:
    """Day columns (datetime64 of any unit, or date objects) as datetime64[ns] values."""
    if s.dtype == object:
        return np.array(s.to_numpy(), dtype="datetime64[D]").astype("datetime64[ns]")
    if s.dtype.kind == "M" and getattr(s.dtype, "tz", None) is None:
        return s.to_numpy().astype("datetime64[ns]", copy=False)
    return pd.to_datetime(s).to_numpy(dtype="datetime64[ns]")


# =============================================================================================== note_state
def _h(h: float) -> str:
    return horizon_column(h)


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


#: ``share(note_ids)``: (note_id, comment_share) of those notes (lib/queries/note_comment_share.sql)
CommentShare = Callable[[pd.Series], pd.DataFrame]
#: ``stats(owners)``: (user_id, n_all, n_dup, n_top, n_top_sub) per creator with comments, from ``owners``
#: (note_id, user_id; one owner per note) (lib/queries/creator_comment_stats.sql)
CommentStats = Callable[[pd.DataFrame], pd.DataFrame]


def _note_comment_share(share: CommentShare | None, note_ids: pd.Series) -> np.ndarray:
    """Share of substantive comments among the top-level comments of each note (by the note of their latest
    top-level snapshot), aligned with ``note_ids``; NaN when none."""
    if share is None or len(note_ids) == 0:
        return np.full(len(note_ids), np.nan)
    got = share(note_ids)
    by_note = got.drop_duplicates("note_id").set_index("note_id")["comment_share"]
    return by_note.reindex(note_ids.astype(str).to_numpy()).to_numpy(dtype="float64", na_value=np.nan)


class ScorecardParts(NamedTuple):
    """What ``M.finish_scorecard`` takes for one or more days, aligned with ``pairs`` (user_id, D)."""

    nm: pd.DataFrame
    pairs: pd.DataFrame
    followers: np.ndarray
    nickname: np.ndarray
    growth: np.ndarray
    cs: pd.DataFrame
    f_spike: np.ndarray


def scorecard_from_state(
    note_metrics_day: pd.DataFrame,
    creator_state: pd.DataFrame,
    comment_stats: CommentStats | None,
    rate_card: pd.DataFrame | None,
    day: date,
    settings: MetricSettings = MetricSettings(),
    lookup: CreatorLookup | None = None,
) -> pd.DataFrame:
    """creator_scorecard rows of ``day`` from that day's note_metrics, creator state and ``comment_stats`` (the
    comment state's creator_comment_stats of that day: lib/queries/comment_state.py; None: no comment)."""
    parts = scorecard_parts(note_metrics_day, creator_state, comment_stats, day, settings, lookup)
    return M._empty_scorecard() if parts is None else M.finish_scorecard(*parts, rate_card, settings)


#: rows of per-day inputs one batched finish takes at most (``scorecards_from_states``,
#: ``tier_benchmarks_from_states``): the pandas overhead of a call per day goes on small data, and a ranged run of
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


def scorecards_from_states(
    parts: Iterable[ScorecardParts | None],
    rate_card: pd.DataFrame | None,
    settings: MetricSettings = MetricSettings(),
    batch_rows: int = FINISH_BATCH_ROWS,
) -> pd.DataFrame:
    """creator_scorecard rows of several days, in day order, from each day's ``scorecard_parts``: one
    ``finish_scorecard`` per batch of days (``FINISH_BATCH_ROWS``), which groups, ranks and sorts by (D, ...), so
    each day's rows are those of ``scorecard_from_state`` of that day. A ranged run (a backfill: 120 days) made
    that call once per day, where its pandas overhead, not the data, cost 0.06 s a day under cProfile on small
    data."""
    out = []
    real = (p for p in parts if p is not None)
    for got in _batches(real, lambda p: len(p.pairs) + len(p.nm), batch_rows):
        if len(got) == 1:
            out.append(M.finish_scorecard(*got[0], rate_card, settings))
            continue
        out.append(
            M.finish_scorecard(
                pd.concat([p.nm for p in got], ignore_index=True),
                pd.concat([p.pairs for p in got], ignore_index=True),
                np.concatenate([p.followers for p in got]),
                np.concatenate([np.asarray(p.nickname, dtype=object) for p in got]),
                np.concatenate([p.growth for p in got]),
                pd.concat([p.cs for p in got], ignore_index=True),
                np.concatenate([p.f_spike for p in got]),
                rate_card,
                settings,
            )
        )
    if not out:
        return M._empty_scorecard()
    return out[0] if len(out) == 1 else pd.concat(out, ignore_index=True)


def scorecard_parts(
    note_metrics_day: pd.DataFrame,
    creator_state: pd.DataFrame,
    comment_stats: CommentStats | None,
    day: date,
    settings: MetricSettings = MetricSettings(),
    lookup: CreatorLookup | None = None,
) -> ScorecardParts | None:
    """The per-day inputs of ``finish_scorecard`` for ``day`` (None: no creator seen that day)."""
    d = _ts(day)
    days = np.array([d.to_datetime64()], dtype="datetime64[ns]")
    w = int(settings.creator_window_days)
    tol = int(settings.nearest_snapshot_days)
    nm = M.prep_scorecard_notes(note_metrics_day, days, w)
    lk = lookup if lookup is not None else CreatorLookup(_without_day(creator_state))
    users = pd.unique(
        pd.concat([pd.Series(lk.users.to_numpy(), dtype=object), nm["user_id"]], ignore_index=True).dropna()
    )
    if len(users) == 0:
        return None
    pairs = pd.DataFrame({"user_id": users, "D": d})
    pairs["D"] = pairs["D"].astype("datetime64[ns]")
    rows = lk.rows(pairs["user_id"])
    followers, off = lk.latest(rows, SCORECARD_CREATOR_LOOKBACK)
    seen_cr = (off >= 0) & (off <= w - 1)
    start = nm["D"] - pd.Timedelta(days=w - 1)
    if "crawled_at" in nm.columns and nm["crawled_at"].notna().any():
        seen_day = M._shanghai_day(nm["crawled_at"]).fillna(nm["pub"])
    else:
        seen_day = nm["pub"]
    seen_users = set(nm.loc[seen_day >= start, "user_id"])
    seen_note = pairs["user_id"].isin(seen_users).to_numpy()
    keep = seen_cr | seen_note
    pairs = renumbered(pairs[keep])
    rows, followers, off = rows[keep], followers[keep], off[keep]
    if pairs.empty:
        return None
    nickname = np.where(rows >= 0, lk.nickname[np.where(rows >= 0, rows, 0)] if len(lk.nickname) else None, None)
    base = lk.nearest(rows, np.full(len(rows), 30), tol, SCORECARD_CREATOR_LOOKBACK)
    current_ok = (off >= 0) & (off <= tol)
    with np.errstate(invalid="ignore", divide="ignore"):
        growth = np.where(current_ok & (base > 0), (followers - base) / np.where(base > 0, base, 1.0), np.nan)
    owner = nm.drop_duplicates("note_id", keep="last").set_index("note_id")["user_id"]
    cs = _creator_comment_stats(comment_stats, owner, pairs)
    sp = lk.spike_candidates(day, SCORECARD_CREATOR_LOOKBACK, settings)
    f_spike = M.spike_activity(sp, nm, w, settings, pairs) if len(lk.users) >= 2 else np.zeros(len(pairs), bool)
    return ScorecardParts(nm, pairs, followers, nickname, growth, cs, f_spike)


def _creator_comment_stats(stats: CommentStats | None, owner: pd.Series, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per creator of ``pairs``: the comments on their notes (``owner``: note_id -> user_id, the last row of a
    note) last seen in the creator window: n_all, n_dup, n_top, n_top_sub (0 without any)."""
    cols = ["n_all", "n_dup", "n_top", "n_top_sub"]
    zeros = pd.DataFrame(0.0, index=range(len(pairs)), columns=cols)
    if stats is None or len(pairs) == 0 or len(owner) == 0:
        return zeros
    owner = owner[~owner.index.duplicated(keep="last")]
    got = stats(pd.DataFrame({"note_id": owner.index.to_numpy(dtype=object), "user_id": owner.to_numpy(dtype=object)}))
    by_user = got.set_index("user_id")[cols].reindex(pairs["user_id"].astype(str).to_numpy())
    return by_user.fillna(0.0).astype("float64").reset_index(drop=True)


# ================================================================================================ folding
def fold(step, state, state_day: date | None, reader, days: Sequence[date], **kw):
    """Apply ``step`` over ``days`` in order starting from (state, state_day); ``reader(day)`` gives that day's
    cleaned partition. Returns the state of the last day."""
    for d in days:
        part = reader(d)
        if step is creator_state_step:
            state = creator_state_step(state, state_day, part, d)
        else:
            state = step(state, part, d, **kw)
        state_day = d
    return state


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
