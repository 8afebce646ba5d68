"""Brand and campaign marts (no Dagster): brand_search_lift in pandas (a few CSV rows), brand_creator_relationships'
glue to its SQL, and every mart's table-level invariants.

campaign_performance, keyword_share_of_voice, tier_comparison and creator_shortlist are one SQL query each
(kol_pipeline/lib/<layer>/<table>.sql, with its Python glue beside it; docs/engine.md). Every function returns a
frame with the columns of its TableSpec (lib/schemas.py), in order, with nullable dtypes (Int64, Float64, boolean;
dates as ``datetime.date``; strings as object), so that a value that cannot be computed is null, never 0 or NaN.

Each mart also has ``check_<mart>(df, ...) -> list[CheckOutcome]``: table-level invariants usable as Dagster
asset checks (they read the mart's small result). Decisions where the contract is silent are in docs/marts.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.schemas import (
    BRAND_CREATOR_RELATIONSHIPS,
    BRAND_SEARCH_LIFT,
    NOTES,
    TIERS,
    TableSpec,
)

ALL = "all"
DENSITY_MIN_CREATORS = 15
SOV_TOP_N = 20
LIFT_WINDOW_DAYS = 28
LIFT_MIN_DAYS = 21
RELATIONSHIP_WINDOW_DAYS = 180
_TOL = 1e-6


@dataclass(frozen=True)
class CheckOutcome:
    """Result of one table-level invariant (maps onto a Dagster AssetCheckResult)."""

    name: str
    passed: bool
    description: str
    details: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------


def _to_day(values: Any) -> pd.Series:
    """Dates (date objects, strings, datetime64, tz-aware timestamps) -> naive datetime64 at midnight."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    return pd.to_datetime(s, errors="coerce").dt.normalize()


def _div(num: Any, den: Any) -> np.ndarray:
    """num / den as float64, NaN (-> null) when den is 0 or either side is missing."""
    n = pd.to_numeric(pd.Series(num), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    d = pd.to_numeric(pd.Series(den), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((d == 0) | np.isnan(d) | np.isnan(n), np.nan, n / np.where(d == 0, 1.0, d))
    return out


def _finalize(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Columns of the spec in order (extras after), cast to nullable dtypes; NaN/inf become null."""
    import pyarrow as pa

    out = df.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            out[col.name] = None
        s = out[col.name]
        t = col.type
        if pa.types.is_int64(t):
            out[col.name] = pd.to_numeric(s, errors="coerce").astype("Float64").round().astype("Int64")
        elif pa.types.is_floating(t):
            f = pd.to_numeric(s, errors="coerce").astype("float64").replace([np.inf, -np.inf], np.nan)
            out[col.name] = f.astype("Float64")
        elif pa.types.is_boolean(t):
            out[col.name] = s.astype("boolean")
        elif pa.types.is_date32(t):
            d = _to_day(s)
            out[col.name] = pd.Series([x.date() if pd.notna(x) else None for x in d], index=out.index, dtype=object)
        else:
            out[col.name] = s.astype(object).where(s.notna(), None)
    extra = [c for c in out.columns if c not in spec.column_names]
    return out[spec.column_names + extra].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------------
# campaign_performance
# --------------------------------------------------------------------------------------------------------------


def check_campaign_performance(
    df: pd.DataFrame, campaign_posts: pd.DataFrame, min_creators: int = DENSITY_MIN_CREATORS
) -> list[CheckOutcome]:
    """Invariants: spend on `all` rows = fees of campaign_posts posted on or before the day; tier rows add up to
    the `all` row; rates in [0, 1]; density_ok only on `all` rows and = creators >= 15; unique keys."""
    out: list[CheckOutcome] = []
    allr = df[df["tier"] == ALL]
    posts = campaign_posts.copy()
    posts["_posted"] = _to_day(posts["posted_date"]) if len(posts) else pd.Series(dtype="datetime64[ns]")
    bad_spend = []
    for day, rows in allr.groupby(_to_day(allr["snapshot_date"])):
        p = posts[posts["_posted"].isna() | (posts["_posted"] <= day)]
        fees = p.groupby("campaign_id")["fee_cny"].sum()
        got = rows.set_index("campaign_id")["spend_cny"].astype("float64")
        exp = got.index.to_series().map(fees).fillna(0.0).astype("float64")
        diff = (got.fillna(0.0) - exp).abs() > _TOL * np.maximum(1.0, exp.abs())
        bad_spend += [f"{day.date()} {c}" for c in got.index[diff.to_numpy()]]
    out.append(
        CheckOutcome(
            "spend_matches_campaign_posts",
            not bad_spend,
            "spend_cny on each `all` row equals the sum of fee_cny of the campaign's posts posted by that day",
            {"mismatches": bad_spend[:20], "count": len(bad_spend)},
        )
    )
    tiers = df[df["tier"] != ALL]
    sums = tiers.groupby(["snapshot_date", "campaign_id"])[["notes", "spend_cny"]].sum(min_count=1)
    a = allr.set_index(["snapshot_date", "campaign_id"])[["notes", "spend_cny"]]
    j = a.join(sums, rsuffix="_t", how="left")
    bad = j[
        (j["notes"].fillna(0) != j["notes_t"].fillna(0))
        | (
            (j["spend_cny"].fillna(0) - j["spend_cny_t"].fillna(0)).abs()
            > _TOL * np.maximum(1, j["spend_cny"].fillna(0))
        )
    ]
    out.append(
        CheckOutcome(
            "tiers_add_up_to_all",
            bad.empty,
            "notes and spend of the tier rows add up to the `all` row",
            {"mismatches": [str(i) for i in bad.index[:20]], "count": int(len(bad))},
        )
    )
    rates = []
    for col in ("keyword_coverage", "disclosure_rate"):
        v = df[col].astype("Float64")
        rates += [f"{col}@{i}" for i in df.index[((v < 0) | (v > 1)).fillna(False).to_numpy()]]
    out.append(
        CheckOutcome(
            "rates_in_unit_interval",
            not rates,
            "keyword_coverage and disclosure_rate in [0, 1]",
            {"violations": rates[:20]},
        )
    )
    neg = [
        c
        for c in ("spend_cny", "engagements", "saves", "cpe_cny", "cost_per_save_cny")
        if (df[c].astype("Float64") < 0).fillna(False).any()
    ]
    out.append(
        CheckOutcome("non_negative", not neg, "money, engagements and costs are never negative", {"columns": neg})
    )
    dens_tier = df.loc[df["tier"] != ALL, "density_ok"].notna().sum()
    dens_all = (allr["density_ok"].astype("boolean") != (allr["creators"].astype("Int64") >= min_creators)).fillna(True)
    out.append(
        CheckOutcome(
            "density_ok_on_all_rows",
            bool(dens_tier == 0 and not dens_all.any()),
            f"density_ok = creators >= {min_creators} on `all` rows, null on tier rows",
            {"tier_rows_with_value": int(dens_tier), "all_rows_wrong": int(dens_all.sum())},
        )
    )
    out.append(_unique_check(df, ["snapshot_date", "campaign_id", "tier"]))
    return out


def _unique_check(df: pd.DataFrame, keys: list[str]) -> CheckOutcome:
    dup = int(df.duplicated(keys).sum())
    return CheckOutcome("unique_keys", dup == 0, f"one row per {', '.join(keys)}", {"duplicates": dup})


# --------------------------------------------------------------------------------------------------------------
# keyword_share_of_voice
# --------------------------------------------------------------------------------------------------------------


def check_keyword_share_of_voice(df: pd.DataFrame, top_n: int = SOV_TOP_N) -> list[CheckOutcome]:
    """Invariants: share_of_voice in [0, 1] and = brand_results / results; 0 <= brand_results <= results <= top_n;
    tier columns (with unknown) add up to brand_results; unique keys."""
    sov = df["share_of_voice"].astype("Float64")
    out = [
        CheckOutcome(
            "share_of_voice_in_unit_interval",
            bool(((sov >= 0) & (sov <= 1)).fillna(True).all()),
            "share_of_voice in [0, 1]",
            {"violations": int((~((sov >= 0) & (sov <= 1))).fillna(False).sum())},
        )
    ]
    br = df["brand_results"].astype("Int64")
    res = df["results"].astype("Int64")
    bad = ((br < 0) | (br > res) | (res > top_n) | (res < 1)).fillna(True)
    out.append(
        CheckOutcome(
            "counts_bounded", not bad.any(), f"0 <= brand_results <= results <= {top_n}", {"violations": int(bad.sum())}
        )
    )
    ratio = pd.Series(_div(br, res), index=df.index)
    mism = ((ratio - sov.astype("float64")).abs() > _TOL).fillna(False) | (ratio.isna() != sov.isna())
    out.append(
        CheckOutcome(
            "share_is_ratio",
            not mism.any(),
            "share_of_voice = brand_results / results",
            {"violations": int(mism.sum())},
        )
    )
    tcols = [f"brand_results_{t}" for t in TIERS] + ["brand_results_unknown_tier"]
    tsum = df[tcols].astype("Int64").sum(axis=1)
    bad_t = (tsum != br).fillna(True)
    out.append(
        CheckOutcome(
            "tiers_add_up",
            not bad_t.any(),
            "per-tier brand_results add up to brand_results",
            {"violations": int(bad_t.sum())},
        )
    )
    out.append(_unique_check(df, ["snapshot_date", "keyword", "brand"]))
    return out


# --------------------------------------------------------------------------------------------------------------
# brand_search_lift
# --------------------------------------------------------------------------------------------------------------


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
    res["lift"] = _div(res["post_mean"], res["pre_mean"]) - 1.0
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
        return _finalize(spec.empty_frame(), spec)
    c = campaigns[["campaign_id", "brand", "start_date"]].copy().reset_index(drop=True)
    c["_row"] = np.arange(len(c))
    c["_launch"] = _to_day(c["start_date"])
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
            "_day": _to_day(si["date"]),
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
    out["adjusted_lift"] = _div(1.0 + out["lift"], 1.0 + out["control_lift"]) - 1.0
    if store_traffic is not None and not store_traffic.empty:
        st = pd.DataFrame(
            {
                "_key": store_traffic["brand"].astype(str).str.strip().str.lower(),
                "_day": _to_day(store_traffic["date"]),
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
    return _finalize(out.drop(columns="_row").sort_values("campaign_id", kind="stable"), spec)


def check_brand_search_lift(df: pd.DataFrame, min_days: int = LIFT_MIN_DAYS) -> list[CheckOutcome]:
    """Invariants: lift (and its means) null when a window has < 21 days; lift = post/pre - 1; adjusted_lift null
    without control_lift and = (1+lift)/(1+control_lift) - 1; the same for the store; one row per campaign."""
    out = []
    short = (df["pre_days"].fillna(0) < min_days) | (df["post_days"].fillna(0) < min_days)
    bad = short & (
        df["lift"].notna()
        | df["pre_mean"].notna() & (df["pre_days"].fillna(0) < min_days)
        | df["post_mean"].notna() & (df["post_days"].fillna(0) < min_days)
    )
    out.append(
        CheckOutcome(
            "lift_null_on_short_window",
            not bad.any(),
            f"lift and window means are null when a window has fewer than {min_days} days",
            {"violations": df.loc[bad, "campaign_id"].tolist()[:20]},
        )
    )
    exp = pd.Series(_div(df["post_mean"], df["pre_mean"]) - 1.0, index=df.index)
    got = df["lift"].astype("float64")
    mism = (exp.isna() != got.isna()) | ((exp - got).abs() > _TOL).fillna(False)
    out.append(
        CheckOutcome(
            "lift_formula",
            not mism.any(),
            "lift = post_mean / pre_mean - 1",
            {"violations": df.loc[mism, "campaign_id"].tolist()[:20]},
        )
    )
    expa = pd.Series(_div(1 + got, 1 + df["control_lift"].astype("float64")) - 1.0, index=df.index)
    gota = df["adjusted_lift"].astype("float64")
    misa = (expa.isna() != gota.isna()) | ((expa - gota).abs() > _TOL).fillna(False)
    out.append(
        CheckOutcome(
            "adjusted_lift_formula",
            not misa.any(),
            "adjusted_lift = (1 + lift) / (1 + control_lift) - 1, null without control",
            {"violations": df.loc[misa, "campaign_id"].tolist()[:20]},
        )
    )
    sshort = (df["store_pre_days"].fillna(0) < min_days) | (df["store_post_days"].fillna(0) < min_days)
    sbad = sshort & df["store_lift"].notna()
    out.append(
        CheckOutcome(
            "store_lift_null_on_short_window",
            not sbad.any(),
            f"store_lift null when a store window has fewer than {min_days} days",
            {"violations": df.loc[sbad, "campaign_id"].tolist()[:20]},
        )
    )
    out.append(_unique_check(df, ["campaign_id"]))
    return out


# --------------------------------------------------------------------------------------------------------------
# brand_creator_relationships
# --------------------------------------------------------------------------------------------------------------


#: the notes columns the query reads (PartitionedInput.relation(con, columns=...))
RELATIONSHIP_NOTE_COLUMNS = ("note_id", "user_id", "brands", "published_at", "is_disclosed", "crawled_at")


def _text_array(values: Any) -> pa.Array:
    return pa.array(
        [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values], type=pa.string()
    )


def _relationship_inputs(
    notes: Any, campaign_posts: pd.DataFrame, campaigns: pd.DataFrame, brands: pd.DataFrame
) -> dict[str, Any]:
    """The query's inputs: the notes relation as given (a pandas frame is typed as the notes table), the small
    brand frames as typed Arrow tables."""
    if isinstance(notes, pd.DataFrame):
        cols = [*RELATIONSHIP_NOTE_COLUMNS, "snapshot_date"]
        schema = pa.schema([NOTES.schema.field(c) for c in cols])
        frame = notes.reindex(columns=cols)
        frame["snapshot_date"] = _to_day(frame["snapshot_date"]).dt.date if len(frame) else frame["snapshot_date"]
        notes = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    posted = _to_day(campaign_posts["posted_date"]) if len(campaign_posts) else pd.Series([], dtype="datetime64[ns]")
    return {
        "notes": notes,
        "campaign_posts": pa.table(
            {
                "campaign_id": _text_array(campaign_posts["campaign_id"]),
                "note_id": _text_array(campaign_posts["note_id"]),
                "user_id": _text_array(campaign_posts["user_id"]),
                "posted_date": pa.array([d.date() if pd.notna(d) else None for d in posted], type=pa.date32()),
            }
        ),
        "campaigns": pa.table(
            {"campaign_id": _text_array(campaigns["campaign_id"]), "brand": _text_array(campaigns["brand"])}
        ),
        "brands": pa.table({"brand": _text_array(brands["brand"])}),
    }


def brand_creator_relationships(
    con: Any,
    notes: Any,
    campaign_posts: pd.DataFrame,
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
    snapshot_dates: Sequence[dt.date],
    window_days: int = RELATIONSHIP_WINDOW_DAYS,
) -> pd.DataFrame:
    """The mart by ``lib/marts/brand_creator_relationships.sql`` (the formula is there), every day of
    ``snapshot_dates`` in one query on ``con`` (lib/duck.connect). ``notes``: the crawls of the window, a
    DuckDB relation with RELATIONSHIP_NOTE_COLUMNS and snapshot_date (``PartitionedInput.relation``), or a
    pandas frame of them (tests)."""
    days = sorted({pd.Timestamp(d).date() for d in snapshot_dates})
    inputs = _relationship_inputs(notes, campaign_posts, campaigns, brands)
    out = duck.run_query(con, "brand_creator_relationships", inputs, {"days": days, "window_days": int(window_days)})
    return _finalize(out.to_pandas(), BRAND_CREATOR_RELATIONSHIPS)


def check_brand_creator_relationships(
    df: pd.DataFrame, window_days: int = RELATIONSHIP_WINDOW_DAYS
) -> list[CheckOutcome]:
    """Invariants: notes = sponsored + organic >= 1; first <= last, both inside the window; 1 <= distinct_weeks
    <= notes; is_repeat = distinct_weeks >= 2; unique keys."""
    out = []
    s = df["sponsored_notes"].astype("Int64")
    o = df["organic_notes"].astype("Int64")
    n = df["notes"].astype("Int64")
    bad = ((s + o != n) | (n < 1) | (s < 0) | (o < 0)).fillna(True)
    out.append(
        CheckOutcome(
            "notes_split", not bad.any(), "notes = sponsored_notes + organic_notes >= 1", {"violations": int(bad.sum())}
        )
    )
    sd = _to_day(df["snapshot_date"])
    f = _to_day(df["first_mention_date"])
    last = _to_day(df["last_mention_date"])
    badd = ((f > last) | (last > sd) | (f < sd - pd.Timedelta(days=window_days - 1))).fillna(True)
    out.append(
        CheckOutcome(
            "dates_in_window",
            not badd.any(),
            f"first_mention_date <= last_mention_date, both within the trailing {window_days} days",
            {"violations": int(badd.sum())},
        )
    )
    w = df["distinct_weeks"].astype("Int64")
    badw = ((w < 1) | (w > n) | (df["is_repeat"].astype("boolean") != (w >= 2))).fillna(True)
    out.append(
        CheckOutcome(
            "repeat_is_two_weeks",
            not badw.any(),
            "1 <= distinct_weeks <= notes and is_repeat = distinct_weeks >= 2",
            {"violations": int(badw.sum())},
        )
    )
    out.append(_unique_check(df, ["snapshot_date", "brand", "user_id"]))
    return out


# --------------------------------------------------------------------------------------------------------------
# tier_comparison
# --------------------------------------------------------------------------------------------------------------


def check_tier_comparison(df: pd.DataFrame) -> list[CheckOutcome]:
    """Invariants: every share in [0, 1]; shares of a campaign (or level) add up to 1 where defined; unique keys."""
    out = []
    shares = ["spend_share", "engagement_share", "save_share", "sov_contribution"]
    viol = {c: int((~((df[c] >= 0) & (df[c] <= 1))).astype("boolean").fillna(False).sum()) for c in shares}
    out.append(CheckOutcome("shares_in_unit_interval", not any(viol.values()), "every share in [0, 1]", viol))
    keys = ["snapshot_date", "campaign_id", "brand"]
    bad = {}
    for c in shares:
        g = df.groupby(keys)[c]
        tot = g.sum(min_count=1)
        complete = g.count() == g.size()
        off = ((tot - 1).abs() > 1e-6) & complete & tot.notna()
        bad[c] = int(off.sum())
    out.append(
        CheckOutcome(
            "shares_sum_to_one",
            not any(bad.values()),
            "where every tier's share is known, the shares of a campaign add up to 1",
            bad,
        )
    )
    out.append(_unique_check(df, ["snapshot_date", "campaign_id", "brand", "tier"]))
    return out


# --------------------------------------------------------------------------------------------------------------
# creator_shortlist
# --------------------------------------------------------------------------------------------------------------


def check_creator_shortlist(df: pd.DataFrame, tier: str = "micro", top_n: int = 30) -> list[CheckOutcome]:
    """Invariants: ranks 1..n consecutive per brand and day with n <= top_n; score non-increasing with rank; every
    row of the tier; a creator at most once per brand; reasons present."""
    out = []
    bad_rank, bad_score = [], []
    for (d, brand), g in df.groupby(["snapshot_date", "brand"]):
        r = g["rank"].astype("int64").to_numpy()
        if sorted(r.tolist()) != list(range(1, len(r) + 1)) or len(r) > top_n:
            bad_rank.append(f"{d} {brand}")
        s = g.sort_values("rank")["score"].astype("float64").to_numpy()
        if (np.diff(s) > _TOL).any():
            bad_score.append(f"{d} {brand}")
    out.append(
        CheckOutcome(
            "ranks_consecutive", not bad_rank, f"ranks 1..n per brand, n <= {top_n}", {"violations": bad_rank[:20]}
        )
    )
    out.append(
        CheckOutcome(
            "score_ordered", not bad_score, "score does not increase with rank", {"violations": bad_score[:20]}
        )
    )
    wrong_tier = int((df["tier"] != tier).sum())
    out.append(CheckOutcome("tier_only", wrong_tier == 0, f"every creator is {tier}", {"violations": wrong_tier}))
    missing = int(df["reasons"].isna().sum())
    out.append(CheckOutcome("reasons_present", missing == 0, "every row has a reasons string", {"missing": missing}))
    out.append(_unique_check(df, ["snapshot_date", "brand", "user_id"]))
    return out


__all__: Iterable[str] = (
    "CheckOutcome",
    "check_campaign_performance",
    "check_keyword_share_of_voice",
    "brand_search_lift",
    "check_brand_search_lift",
    "brand_creator_relationships",
    "check_brand_creator_relationships",
    "check_tier_comparison",
    "check_creator_shortlist",
)
