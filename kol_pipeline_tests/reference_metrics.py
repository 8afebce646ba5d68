"""Note metrics, creator scorecard and tier benchmarks (CONTRACT.md "Note engagement curve and longevity",
"Creators"). Pure pandas, vectorized over whole tables and over many snapshot dates at once; no dagster import.

Every function computes its tables AS OF each snapshot date D: only rows with ``snapshot_date <= D`` are used, so
re-running a past partition gives the same numbers. The approach: compute each note's full-history values together
with the day they become known (the snapshot date of the observation that makes them known), then expand per D.
Choices where the contract is silent are written in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from kol_pipeline.lib.metrics.longevity import engagement_curve, half_life_days, horizon_column, interpolate_at
from kol_pipeline.lib.order import renumbered, stable_order
from kol_pipeline.lib.schemas import CREATOR_SCORECARD, NOTE_METRICS, TIER_BENCHMARKS
from kol_pipeline.lib.settings import MetricSettings, tier_of
from kol_pipeline.lib.state.comment_common import KEEP_DAYS
from kol_pipeline_tests.python_comments import normalize_comment

SHANGHAI = "Asia/Shanghai"
HORIZONS: tuple[float, ...] = (2.0, 7.0, 30.0, 90.0)
FLAG_NAMES: tuple[str, ...] = ("low_er_for_tier", "follower_spike", "duplicate_comments", "low_comment_to_like")
CURVE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("curve_0_2d", 0.0, 3.0),
    ("curve_3_7d", 3.0, 8.0),
    ("curve_8_30d", 8.0, 31.0),
    ("curve_31_90d", 31.0, 91.0),
    ("curve_91d_plus", 91.0, np.inf),
)
BENCH_METRICS: dict[str, str] = {
    "er_7d": "median_er_7d",
    "save_to_like": "median_save_to_like",
    "half_life_days": "median_half_life_days",
    "est_cpe_cny": "est_cpe_cny",
}
_DAY = pd.Timedelta(days=1)


# --------------------------------------------------------------------------------------------------- helpers
def _days(values: Sequence[date] | pd.Series | pd.Index) -> pd.Series:
    """Dates (date objects, strings, datetime64, date32) as naive datetime64[ns] midnights."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if isinstance(s.dtype, pd.ArrowDtype):
        s = s.astype(object)
    out = pd.to_datetime(s, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[ns]")


def _utc(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values, errors="coerce", utc=True)
    return out.astype("datetime64[ns, UTC]")


def _shanghai_day(ts: pd.Series) -> pd.Series:
    """Asia/Shanghai calendar day of UTC instants, as naive datetime64 midnights."""
    return _utc(ts).dt.tz_convert(SHANGHAI).dt.tz_localize(None).dt.normalize().astype("datetime64[ns]")


def _snapshot_days(snapshot_dates: Sequence[date]) -> np.ndarray:
    d = _days(pd.Series(list(snapshot_dates), dtype=object)).dropna()
    return np.unique(d.to_numpy(dtype="datetime64[ns]"))


def _as_date(s: pd.Series) -> pd.Series:
    """datetime64 midnights -> python dates (object), NaT -> None."""
    out = s.dt.date.astype(object)
    return out.where(s.notna(), None)


def _is_number_dtype(dtype) -> bool:
    """Integer or float, numpy or pandas' nullable (not bool, not object)."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def float_array(x: pd.Series | np.ndarray) -> pd.array:
    """float64 values with NaN meaning null -> nullable Float64 (NaN/inf -> <NA>). Numbers are converted
    directly; only other values go through objects and to_numeric (which took 1.6 s for note_metrics' ten
    float columns at 1M notes)."""
    if _is_number_dtype(getattr(x, "dtype", None)):
        a = pd.Series(x).to_numpy(dtype="float64", na_value=np.nan)
    else:
        a = pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce").to_numpy(dtype="float64")
    null = ~np.isfinite(a)
    # the masked array built from its parts: pd.array(..., dtype="Float64") scanned the values again (0.12 s per
    # 1.1 M-row column against 0.003 s, ten columns in note_metrics)
    return pd.arrays.FloatingArray(np.where(null, 0.0, a), null)


def _num(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _bool(values: np.ndarray | pd.Series, known: np.ndarray | pd.Series) -> pd.array:
    v = np.asarray(values, dtype=bool)
    k = np.asarray(known, dtype=bool)
    out = pd.array(v, dtype="boolean")
    out[~k] = pd.NA
    return out


def int_array(x: pd.Series | np.ndarray) -> pd.array:
    """Values -> nullable Int64 (numbers directly, anything else through to_numeric)."""
    if _is_number_dtype(getattr(x, "dtype", None)):
        return pd.array(x.array if isinstance(x, pd.Series) else x, dtype="Int64")
    return pd.array(pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce"), dtype="Int64")


def _expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For row i the integers lo[i] .. hi[i]-1: (row index repeated, value)."""
    n = np.maximum(hi - lo, 0)
    rows = np.repeat(np.arange(len(lo)), n)
    starts = np.repeat(np.cumsum(n) - n, n)
    vals = np.repeat(lo, n) + (np.arange(int(n.sum())) - starts)
    return rows, vals


def _latest_per_day(df: pd.DataFrame, key: str, day_col: str = "sd") -> pd.DataFrame:
    """One row per (key, day): the latest crawl (crawled_at) of the day when the column exists."""
    sort_cols = [key, day_col] + (["crawled_at"] if "crawled_at" in df.columns else [])
    return df.sort_values(sort_cols, kind="mergesort").drop_duplicates([key, day_col], keep="last")


def _asof(left: pd.DataFrame, right: pd.DataFrame, on_left: str, on_right: str, by: str, **kw) -> pd.DataFrame:
    """merge_asof keeping the left row order."""
    left = left.assign(_pos=np.arange(len(left)))
    l_sorted = left.sort_values(on_left, kind="mergesort")
    r_sorted = right.sort_values(on_right, kind="mergesort")
    m = pd.merge_asof(l_sorted, r_sorted, left_on=on_left, right_on=on_right, by=by, **kw)
    return m.sort_values("_pos", kind="mergesort").drop(columns="_pos").reset_index(drop=True)


def _prep_creators(creators: pd.DataFrame, d_max: np.datetime64) -> pd.DataFrame:
    cols = ["user_id", "followers", "nickname", "crawled_at", "snapshot_date"]
    cr = creators[[c for c in cols if c in creators.columns]].copy()
    cr["sd"] = _days(cr["snapshot_date"])
    cr = cr[cr["user_id"].notna() & cr["sd"].notna() & (cr["sd"] <= d_max)]
    cr = _latest_per_day(cr, "user_id")
    cr["followers"] = _num(cr["followers"])
    if "nickname" not in cr.columns:
        cr["nickname"] = None
    return cr.reset_index(drop=True)


def _nearest_snapshot(left: pd.DataFrame, target_col: str, creators: pd.DataFrame, tolerance_days: int) -> pd.DataFrame:
    """For each left row (user_id, target day): the creator snapshots nearest to the target on or before it
    (``b_sd, b_followers``) and strictly after it (``f_sd, f_followers``), each within ``tolerance_days``."""
    right = creators[["user_id", "sd", "followers"]].rename(columns={"sd": "_snap"})
    tol = pd.Timedelta(days=tolerance_days)
    base = left[["user_id", target_col]].copy()
    ok = base[target_col].notna() & base["user_id"].notna()
    out = pd.DataFrame({"b_sd": pd.NaT, "b_followers": np.nan, "f_sd": pd.NaT, "f_followers": np.nan}, index=base.index)
    out["b_sd"] = out["b_sd"].astype("datetime64[ns]")
    out["f_sd"] = out["f_sd"].astype("datetime64[ns]")
    if ok.any() and len(right):
        sub = base[ok]
        for direction, prefix, exact in (("backward", "b", True), ("forward", "f", False)):
            m = _asof(
                sub,
                right,
                target_col,
                "_snap",
                "user_id",
                direction=direction,
                tolerance=tol,
                allow_exact_matches=exact,
            )
            out.loc[ok, f"{prefix}_sd"] = m["_snap"].to_numpy()
            out.loc[ok, f"{prefix}_followers"] = m["followers"].to_numpy(dtype="float64")
    return out


def _pick_nearest(target: pd.Series, near: pd.DataFrame, avail_until: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Choose between the backward and forward candidates: only snapshots on or before ``avail_until`` count;
    the nearer wins, the earlier on a tie. Returns (followers, snapshot day) with NaN/NaT where none."""
    b_ok = near["b_sd"].notna() & (near["b_sd"] <= avail_until)
    f_ok = near["f_sd"].notna() & (near["f_sd"] <= avail_until)
    db = (target - near["b_sd"]).dt.days
    df = (near["f_sd"] - target).dt.days
    use_f = f_ok & (~b_ok | (df < db))
    use_b = b_ok & ~use_f
    fol = np.where(use_f, near["f_followers"], np.where(use_b, near["b_followers"], np.nan)).astype("float64")
    sd = near["f_sd"].where(use_f, near["b_sd"].where(use_b))
    return fol, sd.to_numpy()


# --------------------------------------------------------------------------------------------------- notes
def note_metrics(
    notes: pd.DataFrame,
    creators: pd.DataFrame,
    comments: pd.DataFrame,
    campaign_posts: pd.DataFrame,
    snapshot_dates: Sequence[date],
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """``note_metrics`` rows (NOTE_METRICS columns, snapshot_date first) for every date D in ``snapshot_dates``.

    Inputs are the cleaned tables concatenated over a window that ends at max(snapshot_dates) and starts at least
    ``note_window_days + 1`` days before min(snapshot_dates); each has a ``snapshot_date`` column. For each D: one
    row per note observed on or before D whose published date (Asia/Shanghai) is in D-119 .. D, computed from the
    observations, creator snapshots and comments with snapshot_date <= D only.
    """
    days = _snapshot_days(snapshot_dates)
    if len(days) == 0 or notes is None or len(notes) == 0:
        return NOTE_METRICS.empty_frame()
    d_max = days[-1]
    window = int(settings.note_window_days)

    # ---- observations: one per (note, day), latest crawl of the day, up to the last date
    obs = notes.copy()
    obs["sd"] = _days(obs["snapshot_date"])
    obs = obs[obs["note_id"].notna() & obs["sd"].notna() & (obs["sd"] <= d_max)]
    obs["crawled_at"] = _utc(obs["crawled_at"])
    obs["published_at"] = _utc(obs["published_at"])
    obs = _latest_per_day(obs, "note_id").reset_index(drop=True)
    # One publish time per note: the first one observed (stable when later partitions are added).
    pub = (
        obs.dropna(subset=["published_at"])
        .drop_duplicates("note_id", keep="first")
        .set_index("note_id")["published_at"]
    )
    obs["published_at"] = obs["note_id"].map(pub)
    obs = obs[obs["published_at"].notna()].reset_index(drop=True)
    if obs.empty:
        return NOTE_METRICS.empty_frame()
    obs["age_days"] = (obs["crawled_at"] - obs["published_at"]).dt.total_seconds() / 86400.0

    # ---- full-history curve values and the day each becomes known
    curve = engagement_curve(obs, age_col="age_days", value_col="engagements", carry=("sd",))
    hz = interpolate_at(curve, HORIZONS, settings.max_gap_days, carry="sd")
    hl = half_life_days(curve, hz[horizon_column(30.0)], 30.0, settings.max_gap_days)

    # ---- per-note facts
    nf = pd.DataFrame({"published_at": pub.reindex(hz.index)})
    nf["pub_day"] = _shanghai_day(nf["published_at"])
    first_sd = obs.groupby("note_id")["sd"].min()
    nf["first_sd"] = first_sd.reindex(nf.index)
    nf = nf.join(hz).join(hl)
    nf["user_id"] = obs.drop_duplicates("note_id", keep="last").set_index("note_id")["user_id"].reindex(nf.index)
    nf = nf[nf["pub_day"].notna() & nf["first_sd"].notna()]

    # ---- (note, D) pairs: observed on or before D, published D-(window-1) .. D
    lo_day = np.maximum(nf["first_sd"].to_numpy(dtype="datetime64[ns]"), nf["pub_day"].to_numpy(dtype="datetime64[ns]"))
    hi_day = nf["pub_day"].to_numpy(dtype="datetime64[ns]") + np.timedelta64(window - 1, "D")
    lo = np.searchsorted(days, lo_day, side="left")
    hi = np.searchsorted(days, hi_day, side="right")
    rows, didx = _expand_ranges(lo, hi)
    if len(rows) == 0:
        return NOTE_METRICS.empty_frame()
    pairs = nf.iloc[rows].reset_index()
    pairs["D"] = days[didx]

    # ---- latest observation on or before D
    obs_cols = [
        "note_id",
        "sd",
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
    ob = obs[[c for c in obs_cols if c in obs.columns]].copy()
    for c in ("category", "brands", "is_disclosed"):
        if c not in ob.columns:
            ob[c] = None
    pairs = pairs.drop(columns=["user_id"]).pipe(lambda p: _asof(p, ob, "D", "sd", "note_id", direction="backward"))
    latest_user = obs.drop_duplicates("note_id", keep="last").set_index("note_id")["user_id"]
    # the author as of D: the user_id of the latest observation on or before D
    ou = obs[["note_id", "sd", "user_id"]]
    pairs["user_id"] = _asof(pairs[["note_id", "D"]], ou, "D", "sd", "note_id", direction="backward")["user_id"].fillna(
        pairs["note_id"].map(latest_user)
    )
    D = pairs["D"]

    # ---- horizons as of D (null until the observation at or above h has been crawled)
    for h in HORIZONS:
        col = horizon_column(h)
        known = pairs[f"{col}_sd"].notna() & (pairs[f"{col}_sd"] <= D)
        pairs[col] = pairs[col].where(known)
    known30 = pairs[f"{horizon_column(30.0)}_sd"].notna() & (pairs[f"{horizon_column(30.0)}_sd"] <= D)
    pairs["half_life_days"] = pairs["half_life_days"].where(known30)

    # ---- followers on D, and on the day the note reached age 7
    cr = (
        _prep_creators(creators, d_max)
        if creators is not None and len(creators)
        else _prep_creators(
            pd.DataFrame(columns=["user_id", "followers", "nickname", "crawled_at", "snapshot_date"]), d_max
        )
    )
    latest_cr = _asof(
        pairs[["user_id", "D"]], cr[["user_id", "sd", "followers"]], "D", "sd", "user_id", direction="backward"
    )
    followers = latest_cr["followers"].to_numpy(dtype="float64")
    pairs["t7"] = _shanghai_day(pairs["published_at"] + pd.Timedelta(days=7))
    near = _nearest_snapshot(
        nf.assign(t7=_shanghai_day(nf["published_at"] + pd.Timedelta(days=7))), "t7", cr, settings.nearest_snapshot_days
    )
    near_p = near.iloc[rows].reset_index(drop=True)
    f7, _ = _pick_nearest(pairs["t7"], near_p, D)
    sub, nsr = _comment_share_asof(comments, d_max, pairs[["note_id", "D"]], int(settings.note_sentiment_min_comments))
    return finish_note_metrics(pairs, followers, f7, sub, campaign_posts, settings, nsr)


def finish_note_metrics(
    pairs: pd.DataFrame,
    followers: np.ndarray,
    f7: np.ndarray,
    sub: np.ndarray,
    campaign_posts: pd.DataFrame | None,
    settings: MetricSettings,
    nsr: np.ndarray | None = None,
) -> pd.DataFrame:
    """The note_metrics rows from one row per (note, D) with the as-of-D facts (shared by the window computation
    above and the incremental one in lib/state/days.py): ``pairs`` has D, note_id, user_id, pub_day, the latest
    observation's age_days, counts, category, brands, is_disclosed, crawled_at, the known eng_{h}d and
    half_life_days; ``followers`` the author's followers on D, ``f7`` the followers of the er_7d snapshot,
    ``sub`` the substantive comment share, ``nsr`` the comment sentiment (all null when None)."""
    spec_cols = NOTE_METRICS.column_names
    D = pairs["D"]
    e7 = pairs[horizon_column(7.0)].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        er = np.where(f7 > 0, e7 / np.where(f7 > 0, f7, 1.0), np.nan)

    # ---- ratios at the latest observation
    likes = _num(pairs["likes"])
    saves = _num(pairs["saves"])
    eng = _num(pairs["engagements"])
    e2 = pairs[horizon_column(2.0)].to_numpy(dtype="float64")
    e30 = pairs[horizon_column(30.0)].to_numpy(dtype="float64")
    e90 = pairs[horizon_column(90.0)].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        s2l = np.where(likes > 0, saves / np.where(likes > 0, likes, 1.0), np.nan)
        after48 = np.where(e30 > 0, 1.0 - e2 / np.where(e30 > 0, e30, 1.0), np.nan)
        ever_known = (e90 > 0) & ~np.isnan(e30)
        ever = np.where(ever_known, (e90 - e30) / np.where(e90 > 0, e90, 1.0), np.nan) >= settings.evergreen_share

    # ---- viral: against the author's median engagements over their notes of the trailing creator window
    cw = int(settings.creator_window_days)
    in90 = pairs["pub_day"] >= D - pd.Timedelta(days=cw - 1)
    med = (
        pd.DataFrame({"user_id": pairs["user_id"], "D": D, "eng": eng})[in90.to_numpy()]
        .groupby(["user_id", "D"])["eng"]
        .median()
        .rename("med")
    )
    med_p = pairs[["user_id", "D"]].join(med, on=["user_id", "D"])["med"].to_numpy(dtype="float64")
    thr = np.fmax(float(settings.viral_min_engagements), settings.viral_multiple * med_p)
    viral = eng >= thr

    # ---- sponsorship
    sponsored_ids = set()
    if campaign_posts is not None and len(campaign_posts) and "note_id" in campaign_posts.columns:
        sponsored_ids = set(campaign_posts["note_id"].dropna().astype(str))
    disclosed = pairs["is_disclosed"].astype("boolean")
    in_campaign = pairs["note_id"].astype(str).isin(sponsored_ids).to_numpy()

    out = pd.DataFrame(
        {
            "snapshot_date": _as_date(D),
            "note_id": pairs["note_id"].astype(object),
            "user_id": pairs["user_id"].astype(object),
            "published_date": _as_date(pairs["pub_day"]),
            "age_days": float_array(pairs["age_days"]),
            "engagements": int_array(pairs["engagements"]),
            "likes": int_array(pairs["likes"]),
            "saves": int_array(pairs["saves"]),
            "comments": int_array(pairs["comments"]),
            "shares": int_array(pairs["shares"]),
            "followers": int_array(followers),
            "tier": tier_of(pd.Series(followers), settings.tier_bounds).to_numpy(),
            "category": pairs["category"].astype(object).where(pairs["category"].notna(), None),
            "brands": pairs["brands"].to_numpy(),
            "is_sponsored": pd.array(in_campaign | disclosed.fillna(False).to_numpy(dtype=bool), dtype="boolean"),
            "is_disclosed": disclosed.array,
            "eng_2d": float_array(e2),
            "eng_7d": float_array(e7),
            "eng_30d": float_array(e30),
            "eng_90d": float_array(e90),
            "er_7d": float_array(er),
            "save_to_like": float_array(s2l),
            "share_after_48h": float_array(after48),
            "half_life_days": float_array(pairs["half_life_days"]),
            "is_evergreen": _bool(ever, ever_known),
            "is_viral": _bool(viral, ~np.isnan(eng)),
            "substantive_comment_share": float_array(sub),
            "comment_sentiment": float_array(np.full(len(pairs), np.nan) if nsr is None else nsr),
            # the column itself: to_numpy() of a tz-aware column builds a Timestamp object per row (1.3 s per 1.1 M)
            "crawled_at": pairs["crawled_at"].array,
        }
    )
    out["crawled_at"] = _utc(out["crawled_at"])
    # sort_values(["snapshot_date", "note_id"], kind="mergesort") without pandas' sort of object strings, and one
    # copy of the frame instead of three (sort, reset_index, column selection)
    cols = spec_cols + [c for c in out.columns if c not in spec_cols]
    pos = stable_order(out, ["snapshot_date", "note_id"])
    return renumbered((out if list(out.columns) == cols else out[cols]).take(pos))


def _top_level(comments: pd.DataFrame) -> pd.Series:
    if "parent_comment_id" not in comments.columns:
        return pd.Series(True, index=comments.index)
    p = comments["parent_comment_id"]
    return p.isna() | p.astype(str).str.strip().isin(["", "0", "None", "nan"])


def _comment_share_asof(
    comments: pd.DataFrame | None, d_max: np.datetime64, pairs: pd.DataFrame, min_sentiment: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Over a note's top-level comments with snapshot_date <= D, each comment_id counted once with its latest
    snapshot on or before D: the share of substantive comments (NaN when none has a known is_substantive) and the
    net sentiment ratio (positive - negative) / (positive + negative) of their ``sentiment`` (NaN when positive +
    negative < ``min_sentiment``, or when the comments have no sentiment column)."""
    nan = np.full(len(pairs), np.nan)
    if comments is None or len(comments) == 0:
        return nan, nan
    c = comments[
        ["comment_id", "note_id", "snapshot_date", "is_substantive"]
        + [x for x in ("parent_comment_id", "crawled_at", "sentiment") if x in comments.columns]
    ].copy()
    c["sd"] = _days(c["snapshot_date"])
    c = c[c["comment_id"].notna() & c["note_id"].notna() & c["sd"].notna() & (c["sd"] <= d_max) & _top_level(c)]
    if c.empty:
        return nan, nan
    c = _latest_per_day(c, "comment_id").sort_values(["comment_id", "sd"], kind="mergesort")
    s = c["is_substantive"].astype("boolean")
    sent = c["sentiment"].astype(object) if "sentiment" in c.columns else pd.Series(None, index=c.index, dtype=object)
    values = {
        "n": s.notna().to_numpy(dtype="float64"),
        "k": s.fillna(False).to_numpy(dtype="float64"),
        "pos": (sent == "positive").to_numpy(dtype="float64"),
        "neg": (sent == "negative").to_numpy(dtype="float64"),
    }
    # each comment's counts move to its latest snapshot: a later snapshot takes back what the one before added
    same = (c["comment_id"] == c["comment_id"].shift()).to_numpy()
    deltas = {k: v - np.where(same, np.roll(v, 1), 0.0) for k, v in values.items()}
    ev = (
        pd.DataFrame({"note_id": c["note_id"].to_numpy(), "sd": c["sd"].to_numpy(), **deltas})
        .groupby(["note_id", "sd"], sort=True)[list(deltas)]
        .sum()
        .groupby(level="note_id")
        .cumsum()
        .reset_index()
    )
    m = _asof(pairs[["note_id", "D"]], ev, "D", "sd", "note_id", direction="backward")
    n, k, pos, neg = (m[x].to_numpy(dtype="float64") for x in ("n", "k", "pos", "neg"))
    polar = pos + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
        nsr = np.where(polar >= max(min_sentiment, 1), (pos - neg) / np.where(polar > 0, polar, 1.0), np.nan)
    return share, nsr


# --------------------------------------------------------------------------------------------------- creators
def _creator_comment_stats(
    comments: pd.DataFrame | None, owner: pd.Series, d_max: np.datetime64, window: int, pairs: pd.DataFrame
) -> pd.DataFrame:
    """Per (user_id, D) of ``pairs``: the comments on the creator's notes seen (snapshot_date) in D-window+1 .. D,
    each comment_id once. Columns: n_all, n_dup (comments whose normalized text is shared with another of those
    comments, empty normalized text never counts as a repeat), n_top (top-level with a known is_substantive),
    n_top_sub (of which substantive). Comment text and class are taken from the comment's first snapshot. n_pos,
    n_neg: ``_creator_sentiment_counts``."""
    zeros = pd.DataFrame(
        0.0, index=range(len(pairs)), columns=["n_all", "n_dup", "n_top", "n_top_sub", "n_pos", "n_neg"]
    )
    if comments is None or len(comments) == 0 or len(pairs) == 0:
        return zeros
    keep = [
        c
        for c in (
            "comment_id",
            "note_id",
            "snapshot_date",
            "content",
            "is_substantive",
            "parent_comment_id",
            "crawled_at",
            "sentiment",
        )
        if c in comments.columns
    ]
    c = comments[keep].copy()
    c["sd"] = _days(c["snapshot_date"])
    c["user_id"] = c["note_id"].map(owner)
    c = c[c["comment_id"].notna() & c["user_id"].notna() & c["sd"].notna() & (c["sd"] <= d_max)]
    if c.empty:
        return zeros
    c = _latest_per_day(c, "comment_id").sort_values(["comment_id", "sd"], kind="mergesort").reset_index(drop=True)
    same = (c["comment_id"] == c["comment_id"].shift()).to_numpy()
    gap = c["sd"].diff().dt.days.to_numpy(dtype="float64")
    new_run = ~same | (gap > window)
    c["run"] = np.cumsum(new_run)
    first = c[~same].set_index("comment_id")
    top = _top_level(first)
    sub = (
        first["is_substantive"].astype("boolean")
        if "is_substantive" in first.columns
        else pd.Series(pd.NA, index=first.index, dtype="boolean")
    )
    content = first["content"] if "content" in first.columns else pd.Series("", index=first.index)
    attrs = pd.DataFrame(
        {
            "norm": normalize_comment(content).to_numpy(),
            "top": (top & sub.notna()).to_numpy(dtype="float64"),
            "top_sub": (top & sub.fillna(False)).to_numpy(dtype="float64"),
        },
        index=first.index,
    )
    runs = c.groupby("run").agg(
        comment_id=("comment_id", "first"), user_id=("user_id", "first"), start=("sd", "min"), last=("sd", "max")
    )
    runs["end"] = runs["last"] + pd.Timedelta(days=window)
    runs = runs.join(attrs, on="comment_id")
    ev = pd.concat(
        [
            pd.DataFrame(
                {
                    "user_id": runs["user_id"],
                    "date": runs["start"],
                    "norm": runs["norm"],
                    "n_all": 1.0,
                    "n_top": runs["top"],
                    "n_top_sub": runs["top_sub"],
                }
            ),
            pd.DataFrame(
                {
                    "user_id": runs["user_id"],
                    "date": runs["end"],
                    "norm": runs["norm"],
                    "n_all": -1.0,
                    "n_top": -runs["top"],
                    "n_top_sub": -runs["top_sub"],
                }
            ),
        ],
        ignore_index=True,
    )
    agg = (
        ev.groupby(["user_id", "date"], sort=True)[["n_all", "n_top", "n_top_sub"]]
        .sum()
        .groupby(level="user_id")
        .cumsum()
        .reset_index()
    )
    # duplicates: per (user, text) running count k; the comments in a repeated text are f(k) = k if k >= 2.
    evd = ev[ev["norm"].astype(str) != ""]
    if len(evd):
        k = (
            evd.groupby(["user_id", "norm", "date"], sort=True)["n_all"]
            .sum()
            .groupby(level=["user_id", "norm"])
            .cumsum()
        )
        f = k.where(k >= 2, 0.0)
        df = f - f.groupby(level=["user_id", "norm"]).shift(fill_value=0.0)
        dup = (
            df.groupby(level=["user_id", "date"]).sum().groupby(level="user_id").cumsum().rename("n_dup").reset_index()
        )
    else:
        dup = pd.DataFrame(
            {
                "user_id": pd.Series(dtype=object),
                "date": pd.Series(dtype="datetime64[ns]"),
                "n_dup": pd.Series(dtype="float64"),
            }
        )
    p = pairs[["user_id", "D"]]
    m1 = _asof(p, agg, "D", "date", "user_id", direction="backward")
    m2 = _asof(p, dup, "D", "date", "user_id", direction="backward")
    out = pd.DataFrame(
        {
            "n_all": m1["n_all"].to_numpy(dtype="float64"),
            "n_dup": m2["n_dup"].to_numpy(dtype="float64"),
            "n_top": m1["n_top"].to_numpy(dtype="float64"),
            "n_top_sub": m1["n_top_sub"].to_numpy(dtype="float64"),
            **_creator_sentiment_counts(c, window, pairs),
        }
    )
    return out.fillna(0.0).round(9)


def _creator_sentiment_counts(c: pd.DataFrame, window: int, pairs: pd.DataFrame) -> dict[str, np.ndarray]:
    """n_pos, n_neg per (user_id, D) of ``pairs``, one day at a time: of the comments (``c``: the latest snapshot
    per comment and day, with the owner of its note as user_id) seen in D-KEEP_DAYS .. D (the comment state's
    window) and last seen on or after
    D-window+1, owned by the creator of their first snapshot's note, those whose latest top-level snapshot on or
    before D is positive / negative."""
    n_pos = np.zeros(len(pairs))
    n_neg = np.zeros(len(pairs))
    if "sentiment" not in c.columns:
        return {"n_pos": n_pos, "n_neg": n_neg}
    top = _top_level(c)
    for d in pd.unique(pairs["D"]):
        seen = c[(c["sd"] <= d) & (c["sd"] >= d - pd.Timedelta(days=KEEP_DAYS))]
        last = seen.groupby("comment_id")["sd"].max()
        counted = last.index[last >= d - pd.Timedelta(days=window - 1)]
        owner = seen.drop_duplicates("comment_id", keep="first").set_index("comment_id")["user_id"]
        lt = seen[top.reindex(seen.index).to_numpy()].drop_duplicates("comment_id", keep="last")
        lt = lt.set_index("comment_id")["sentiment"].reindex(counted)
        per_user = pd.DataFrame({"user_id": owner.reindex(counted).to_numpy(), "sent": lt.to_numpy()})
        pos = per_user[per_user["sent"] == "positive"].groupby("user_id").size()
        neg = per_user[per_user["sent"] == "negative"].groupby("user_id").size()
        at = (pairs["D"] == d).to_numpy()
        users = pairs.loc[at, "user_id"]
        n_pos[at] = users.map(pos).fillna(0).to_numpy(dtype="float64")
        n_neg[at] = users.map(neg).fillna(0).to_numpy(dtype="float64")
    return {"n_pos": n_pos, "n_neg": n_neg}


def creator_scorecard(
    note_metrics_day: pd.DataFrame,
    creators: pd.DataFrame,
    comments: pd.DataFrame,
    rate_card: pd.DataFrame | None,
    snapshot_dates: Sequence[date],
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """``creator_scorecard`` rows (CREATOR_SCORECARD columns) for every D in ``snapshot_dates`` from the cleaned
    tables of a window, by the pipeline's SQL (lib/metrics/creator_scorecard.sql): the creator state of each D
    is one step of lib/state/creator_state.sql over ``creators`` (from an empty state: their snapshots of
    D-124 .. D), the comment counts come from ``comments`` (seen in D-89 .. D). ``note_metrics_day`` holds the
    note_metrics rows of those dates. For tests and analysts; the assets read the stored states."""
    from kol_pipeline.lib import duck
    from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql
    from kol_pipeline.lib.state import creator_state as state_sql

    days = [pd.Timestamp(d).date() for d in _snapshot_days(snapshot_dates)]
    if not days:
        return scorecard_sql.empty_scorecard()
    w = int(settings.creator_window_days)
    nm = note_metrics_day if note_metrics_day is not None else NOTE_METRICS.empty_frame()
    nm = nm[_days(nm["snapshot_date"]).isin(pd.to_datetime(days)).to_numpy() & nm["user_id"].notna().to_numpy()]
    cr = creators if creators is not None and len(creators) else None
    if cr is not None:
        cr = cr[[c for c in [*state_sql.CREATOR_COLUMNS, "snapshot_date"] if c in cr.columns]]
    with duck.connect() as con:
        # each D: one step from an empty state over the window
        state = pd.concat([state_sql.creator_states(con, [d], lambda _d: cr) for d in days], ignore_index=True)
        # the comments on each creator's notes (a note is its creator's by its last note_metrics row)
        owner = nm.drop_duplicates("note_id", keep="last").set_index("note_id")["user_id"]
        users = pd.unique(owner.to_numpy(dtype=object))
        pairs = pd.DataFrame(
            {"user_id": np.repeat(users, len(days)), "D": np.tile(pd.to_datetime(days).to_numpy(), len(users))}
        )
        cs = _creator_comment_stats(comments, owner, pd.Timestamp(days[-1]).to_datetime64(), w, pairs)
        stats = pd.concat([pairs.assign(snapshot_date=pairs["D"].dt.date).drop(columns="D"), cs], axis=1)
        stats = stats[stats["n_all"] > 0]
        return scorecard_sql.creator_scorecard(con, nm, state, stats, rate_card, days, settings)


# --------------------------------------------------------------------------------------------------- benchmarks
def _curve_points(
    note_metrics_day: pd.DataFrame | None,
    notes: pd.DataFrame | None,
    creators: pd.DataFrame | None,
    days: np.ndarray,
    settings: MetricSettings,
) -> pd.DataFrame:
    """(D, tier, category, age_days, ratio) per note: its latest observation on or before D made in the trailing
    curve_window_days, engagements / the author's followers (latest creator snapshot on or before D)."""
    cols = ["D", "tier", "category", "age_days", "ratio"]
    d_max = days[-1]
    cw = int(settings.curve_window_days)
    if notes is None or len(notes) == 0:
        if note_metrics_day is None or len(note_metrics_day) == 0:
            return pd.DataFrame(columns=cols)
        nm = note_metrics_day.copy()
        nm["D"] = _days(nm["snapshot_date"])
        nm = nm[nm["D"].isin(days)]
        f = _num(nm["followers"])
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(f > 0, _num(nm["engagements"]) / np.where(f > 0, f, 1.0), np.nan)
        return pd.DataFrame(
            {
                "D": nm["D"].to_numpy(),
                "tier": nm["tier"].to_numpy(),
                "category": nm["category"].to_numpy(),
                "age_days": _num(nm["age_days"]),
                "ratio": ratio,
            }
        )
    o = notes[
        [
            c
            for c in ("note_id", "user_id", "published_at", "crawled_at", "engagements", "category", "snapshot_date")
            if c in notes.columns
        ]
    ].copy()
    o["sd"] = _days(o["snapshot_date"])
    o = o[o["note_id"].notna() & o["sd"].notna() & (o["sd"] <= d_max)]
    o["crawled_at"] = _utc(o["crawled_at"])
    o["published_at"] = _utc(o["published_at"])
    o = _latest_per_day(o, "note_id").reset_index(drop=True)
    pub = (
        o.dropna(subset=["published_at"]).drop_duplicates("note_id", keep="first").set_index("note_id")["published_at"]
    )
    o["age_days"] = (o["crawled_at"] - o["note_id"].map(pub)).dt.total_seconds() / 86400.0
    if "category" not in o.columns:
        o["category"] = None
    span = o.groupby("note_id")["sd"].agg(["min", "max"])
    lo = np.searchsorted(days, span["min"].to_numpy(dtype="datetime64[ns]"), side="left")
    hi = np.searchsorted(days, (span["max"] + pd.Timedelta(days=cw - 1)).to_numpy(dtype="datetime64[ns]"), side="right")
    rows, didx = _expand_ranges(lo, hi)
    if len(rows) == 0:
        return pd.DataFrame(columns=cols)
    p = pd.DataFrame({"note_id": span.index.to_numpy()[rows], "D": days[didx]})
    p = _asof(
        p,
        o[["note_id", "sd", "user_id", "engagements", "category", "age_days"]],
        "D",
        "sd",
        "note_id",
        direction="backward",
    )
    p = p[(p["sd"] >= p["D"] - pd.Timedelta(days=cw - 1)) & (p["age_days"] >= 0)].reset_index(drop=True)
    cr = _prep_creators(
        creators
        if creators is not None and len(creators)
        else pd.DataFrame(columns=["user_id", "followers", "nickname", "crawled_at", "snapshot_date"]),
        d_max,
    )
    fol = _asof(
        p[["user_id", "D"]],
        cr[["user_id", "sd", "followers"]].rename(columns={"sd": "csd"}),
        "D",
        "csd",
        "user_id",
        direction="backward",
    )["followers"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(fol > 0, _num(p["engagements"]) / np.where(fol > 0, fol, 1.0), np.nan)
    return pd.DataFrame(
        {
            "D": p["D"].to_numpy(),
            "tier": tier_of(pd.Series(fol), settings.tier_bounds).to_numpy(),
            "category": p["category"].to_numpy(),
            "age_days": p["age_days"].to_numpy(dtype="float64"),
            "ratio": ratio,
        }
    )


def _with_all(df: pd.DataFrame, cat_col: str) -> pd.DataFrame:
    """The rows with a non-null category, plus every row again with category 'all'."""
    a = df[df[cat_col].notna()].assign(_cat=lambda x: x[cat_col])
    b = df.assign(_cat="all")
    return pd.concat([a, b], ignore_index=True)


def tier_benchmarks(
    creator_scorecard_day: pd.DataFrame,
    note_metrics_day: pd.DataFrame | None,
    notes: pd.DataFrame | None,
    creators: pd.DataFrame | None,
    snapshot_dates: Sequence[date],
    settings: MetricSettings = MetricSettings(),
    curve_points: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``tier_benchmarks`` rows (TIER_BENCHMARKS columns) for every D: per tier x category (the creators'
    primary_category; the notes' category for the curve) and per tier x 'all'.

    creators / p25, median, p75 of the creators' median er_7d, median save_to_like, median half_life_days and
    est_cpe_cny (over the scorecard of D); the cross-sectional longevity curve: median engagements / followers of
    the notes by age bucket, each note at its latest observation on or before D if made in the trailing
    curve_window_days (``notes``: the cleaned notes of the loaded window; when None, note_metrics_day is used;
    ``curve_points``, when given, replaces both: the (D, tier, category, age_days, ratio) points, see lib/state/days.py)."""
    days = _snapshot_days(snapshot_dates)
    if len(days) == 0:
        return TIER_BENCHMARKS.empty_frame()
    keys = ["D", "tier", "_cat"]
    parts = []
    sc = creator_scorecard_day.copy() if creator_scorecard_day is not None else CREATOR_SCORECARD.empty_frame()
    sc["D"] = _days(sc["snapshot_date"])
    sc = sc[sc["D"].isin(days) & sc["tier"].notna()]
    if len(sc):
        s = _with_all(sc, "primary_category")
        for m, col in BENCH_METRICS.items():
            s[col] = _num(s[col])
        g = s.groupby(keys)
        st = pd.DataFrame({"creators": g["user_id"].nunique()})
        for m, col in BENCH_METRICS.items():
            for q, name in ((0.25, "p25"), (0.5, "median"), (0.75, "p75")):
                st[f"{m}_{name}"] = g[col].quantile(q)
        parts.append(st)
    cp = curve_points if curve_points is not None else _curve_points(note_metrics_day, notes, creators, days, settings)
    cp = cp[cp["tier"].notna()]
    if len(cp):
        c = _with_all(cp, "category")
        edges = np.array([b[1] for b in CURVE_BUCKETS] + [np.inf])
        c["bucket"] = np.array([b[0] for b in CURVE_BUCKETS], dtype=object)[
            np.clip(
                np.searchsorted(edges, np.floor(c["age_days"].to_numpy(dtype="float64")), side="right") - 1,
                0,
                len(CURVE_BUCKETS) - 1,
            )
        ]
        c["ratio"] = c["ratio"].astype("float64")
        cv = c.groupby(keys + ["bucket"])["ratio"].median().unstack("bucket")
        parts.append(cv)
    if not parts:
        return TIER_BENCHMARKS.empty_frame()
    res = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
    res = res.reset_index()
    out = pd.DataFrame(
        {
            "snapshot_date": _as_date(res["D"]),
            "tier": res["tier"].astype(object),
            "category": res["_cat"].astype(object),
        }
    )
    out["creators"] = int_array(res["creators"].fillna(0) if "creators" in res.columns else np.zeros(len(res)))
    for col in TIER_BENCHMARKS.column_names[4:]:
        out[col] = float_array(res[col] if col in res.columns else np.full(len(res), np.nan))
    return out.sort_values(["snapshot_date", "tier", "category"], kind="mergesort").reset_index(drop=True)
