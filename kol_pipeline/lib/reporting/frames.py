"""What the report reads from the marts: the rows of one day (or of the share-of-voice days up to it) of frames
that may hold a ranged run's other days, with their snapshot dates converted once (DaySlicer), the tiers in the
report's order, the all-campaigns rows of tier_comparison and the brands' share of voice pooled over every ranked
keyword. Plain pandas, no HTML: the sections (``sections_*`` modules) turn these frames into text.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from kol_pipeline.lib.reporting.formatting import is_missing

#: days of share-of-voice history drawn (D-29 .. D)
SOV_DAYS = 30
TIER_ORDER: tuple[str, ...] = ("nano", "micro", "mid", "macro", "top", "unknown")


def as_dates(s: pd.Series) -> pd.Series:
    """snapshot_date/launch_date values (date, Timestamp or ISO text) as python dates."""
    if s.empty:
        return pd.Series([], dtype=object, index=s.index)
    return pd.to_datetime(s, errors="coerce").dt.date


class DaySlicer:
    """A ranged run's frame with its snapshot dates converted once: the rows of one day, or of the ``days`` days up
    to one. render_report converts the dates of the frames it is given; given the whole range's frames for every
    page of a backfill, that work grew with the range (120 days of the small sample under cProfile: render_report
    19.1 s, of which `_dates` (now as_dates) 3.5 s in 1,323 calls and the share-of-voice section 9.2 s). Frames without rows or
    without snapshot_date are given as they are (render_report treats them so)."""

    def __init__(self, df: pd.DataFrame | None) -> None:
        self.df = df
        usable = df is not None and not df.empty and "snapshot_date" in df.columns
        self._dates = as_dates(df["snapshot_date"]) if usable else None

    def on(self, day: date) -> pd.DataFrame | None:
        return self.df if self._dates is None else self.df[self._dates == day]

    def up_to(self, day: date, days: int) -> pd.DataFrame | None:
        if self._dates is None:
            return self.df
        return self.df[(self._dates <= day) & (self._dates > day - timedelta(days=days))]


def rows_on_day(df: pd.DataFrame | None, day: date) -> pd.DataFrame:
    """The rows of ``day``; an empty frame (with the columns it had) when there are none or no snapshot_date."""
    if df is None or df.empty or "snapshot_date" not in df.columns:
        return pd.DataFrame(columns=[] if df is None else df.columns)
    return df[as_dates(df["snapshot_date"]) == day]


def tier_key(t: object) -> int:
    """Sort key of a tier: TIER_ORDER, anything else last."""
    return TIER_ORDER.index(t) if t in TIER_ORDER else len(TIER_ORDER)


def overall_tiers(tier_comparison_day: pd.DataFrame) -> pd.DataFrame:
    """tier_comparison's rows of all campaigns and all brands (one per tier), in TIER_ORDER."""
    tc = tier_comparison_day
    if tc.empty:
        return tc
    out = tc[(tc["campaign_id"] == "all") & (tc["brand"] == "all")]
    return out.iloc[sorted(range(len(out)), key=lambda i: tier_key(out["tier"].iloc[i]))]


def brand_share_of_voice(history: pd.DataFrame, day: date, days: int = SOV_DAYS) -> pd.DataFrame:
    """Per brand and day of D-(days-1) .. D: pooled share of voice over every ranked keyword,
    sum(brand_results) / sum(results). Columns: snapshot_date, brand, brand_results, results, share_of_voice."""
    cols = ["snapshot_date", "brand", "brand_results", "results", "share_of_voice"]
    if history is None or history.empty:
        return pd.DataFrame(columns=cols)
    h = history.assign(snapshot_date=as_dates(history["snapshot_date"]))
    h = h[(h["snapshot_date"] <= day) & (h["snapshot_date"] > day - timedelta(days=days))]
    if h.empty:
        return pd.DataFrame(columns=cols)
    g = h.groupby(["snapshot_date", "brand"], as_index=False)[["brand_results", "results"]].sum(min_count=1)
    g["share_of_voice"] = [
        (float(b) / float(r)) if not is_missing(b) and not is_missing(r) and float(r) > 0 else None
        for b, r in zip(g["brand_results"], g["results"])
    ]
    return g[cols].sort_values(["snapshot_date", "brand"]).reset_index(drop=True)
