"""brand_search_lift in pandas (a few CSV rows: the campaigns, the brands' search index and store traffic): per
campaign, the brand's search volume over the 28 days from launch against the 28 days before, adjusted by the
brand's control keyword, and store visits the same way. Its invariants are ``checks.check_brand_search_lift``;
decisions where the contract is silent are in docs/marts.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kol_pipeline.lib.marts.frames import div, finalize, to_day
from kol_pipeline.lib.schemas import BRAND_SEARCH_LIFT

__all__ = ["LIFT_MIN_DAYS", "LIFT_WINDOW_DAYS", "brand_search_lift"]

LIFT_WINDOW_DAYS = 28  # days in each window: launch-28 .. launch-1 and launch .. launch+27
LIFT_MIN_DAYS = 21  # days with a value a window's mean needs (else null)


def _window_means(targets: pd.DataFrame, series: pd.DataFrame, window: int, min_days: int) -> pd.DataFrame:
    """targets: _row, _key, _launch. series: _key, _day, _value (one per key and day; duplicates averaged).
    Returns _row -> pre_mean, post_mean, pre_days, post_days, lift (means null below min_days)."""
    s = series.dropna(subset=["_value", "_day"]).groupby(["_key", "_day"], as_index=False)["_value"].mean()
    m = targets[["_row", "_key", "_launch"]].merge(s, on="_key", how="inner")
    off = (m["_day"] - m["_launch"]).dt.days
    m["_win"] = np.where((off >= -window) & (off <= -1), "pre", np.where((off >= 0) & (off <= window - 1), "post", ""))
    m = m[m["_win"] != ""]
    agg = m.groupby(["_row", "_win"])["_value"].agg(["mean", "count"]).unstack("_win")
    res = pd.DataFrame(index=targets["_row"])
    for w in ("pre", "post"):
        mean = agg[("mean", w)] if ("mean", w) in agg.columns else pd.Series(dtype=float)
        cnt = agg[("count", w)] if ("count", w) in agg.columns else pd.Series(dtype=float)
        res[f"{w}_days"] = res.index.map(cnt).fillna(0).astype("int64")
        res[f"{w}_mean"] = np.where(res[f"{w}_days"] >= min_days, res.index.map(mean).astype("float64"), np.nan)
    res["lift"] = div(res["post_mean"], res["pre_mean"]) - 1.0
    return res


def brand_search_lift(
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
    search_index: pd.DataFrame,
    store_traffic: pd.DataFrame | None = None,
    window_days: int = LIFT_WINDOW_DAYS,
    min_days: int = LIFT_MIN_DAYS,
) -> pd.DataFrame:
    """Per campaign: brand search volume over the 28 days from launch (launch .. launch+27) against the 28 days
    before (launch-28 .. launch-1), adjusted by the brand's control keyword; store visits the same way.

    Keywords and brands match case-insensitively (trimmed). A day counts when it has a non-null value;
    duplicate (day, keyword) rows are averaged. A window with fewer than ``min_days`` days gives a null mean,
    hence null lift. lift is null when pre_mean is 0; adjusted_lift null without a control_lift or when
    control_lift = -1.
    """
    spec = BRAND_SEARCH_LIFT
    if campaigns.empty:
        return finalize(spec.empty_frame(), spec)
    c = campaigns[["campaign_id", "brand", "start_date"]].copy().reset_index(drop=True)
    c["_row"] = np.arange(len(c))
    c["_launch"] = to_day(c["start_date"])
    c["_bkey"] = c["brand"].astype(str).str.strip().str.lower()
    bb = brands.copy()
    bb["_bkey"] = bb["brand"].astype(str).str.strip().str.lower()
    ctrl = bb.drop_duplicates("_bkey").set_index("_bkey")["control_keyword"] if "control_keyword" in bb else None
    c["control_keyword"] = c["_bkey"].map(ctrl) if ctrl is not None else None
    c["control_keyword"] = c["control_keyword"].where(
        c["control_keyword"].notna() & (c["control_keyword"].astype(str).str.strip() != ""), None
    )
    si = search_index.copy()
    si_series = pd.DataFrame(
        {
            "_key": si["keyword"].astype(str).str.strip().str.lower(),
            "_day": to_day(si["date"]),
            "_value": pd.to_numeric(si["search_index"], errors="coerce"),
        }
    )
    brand_w = _window_means(c.assign(_key=c["_bkey"]), si_series, window_days, min_days)
    ck = c[c["control_keyword"].notna()]
    ctrl_w = _window_means(
        ck.assign(_key=ck["control_keyword"].astype(str).str.strip().str.lower()), si_series, window_days, min_days
    )
    out = c[["_row", "campaign_id", "brand"]].copy()
    out["keyword"] = c["brand"]
    out["launch_date"] = c["_launch"]
    out["control_keyword"] = c["control_keyword"]
    bw = brand_w.reindex(c["_row"])
    for col in ("pre_mean", "post_mean", "lift", "pre_days", "post_days"):
        out[col] = bw[col].to_numpy()
    cw = ctrl_w.reindex(c["_row"])
    out["control_lift"] = cw["lift"].to_numpy()
    out["control_pre_days"] = cw["pre_days"].to_numpy()
    out["control_post_days"] = cw["post_days"].to_numpy()
    out["adjusted_lift"] = div(1.0 + out["lift"], 1.0 + out["control_lift"]) - 1.0
    if store_traffic is not None and not store_traffic.empty:
        st = pd.DataFrame(
            {
                "_key": store_traffic["brand"].astype(str).str.strip().str.lower(),
                "_day": to_day(store_traffic["date"]),
                "_value": pd.to_numeric(store_traffic["store_visits"], errors="coerce"),
            }
        )
        has = c["_bkey"].isin(set(st["_key"]))
        sw = _window_means(c[has].assign(_key=c.loc[has, "_bkey"]), st, window_days, min_days).reindex(c["_row"])
        out["store_pre_mean"] = sw["pre_mean"].to_numpy()
        out["store_post_mean"] = sw["post_mean"].to_numpy()
        out["store_lift"] = sw["lift"].to_numpy()
        out["store_pre_days"] = sw["pre_days"].to_numpy()
        out["store_post_days"] = sw["post_days"].to_numpy()
    return finalize(out.drop(columns="_row").sort_values("campaign_id", kind="stable"), spec)
