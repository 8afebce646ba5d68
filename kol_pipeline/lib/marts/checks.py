"""The table-level invariants of the brand and campaign marts: ``check_<mart>(df, ...) -> list[CheckOutcome]``
for campaign_performance, keyword_share_of_voice, brand_search_lift, brand_creator_relationships, tier_comparison
and creator_shortlist (brand_audience_affinity's is beside its query). They read a mart's small result in pandas
and back the Dagster asset checks (kol_pipeline/defs/marts/checks.py); decisions where the contract is silent are
in docs/marts.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kol_pipeline.lib.marts.brand_creator_relationships import RELATIONSHIP_WINDOW_DAYS
from kol_pipeline.lib.marts.brand_search_lift import LIFT_MIN_DAYS
from kol_pipeline.lib.marts.campaign_performance import DENSITY_MIN_CREATORS
from kol_pipeline.lib.marts.frames import div, to_day
from kol_pipeline.lib.marts.keyword_share_of_voice import SOV_TOP_N
from kol_pipeline.lib.schemas import TIERS

__all__ = [
    "ALL",
    "CheckOutcome",
    "check_brand_creator_relationships",
    "check_brand_search_lift",
    "check_campaign_performance",
    "check_creator_shortlist",
    "check_keyword_share_of_voice",
    "check_tier_comparison",
]

ALL = "all"
_TOL = 1e-6


@dataclass(frozen=True)
class CheckOutcome:
    """Result of one table-level invariant (maps onto a Dagster AssetCheckResult)."""

    name: str
    passed: bool
    description: str
    details: dict[str, Any] = field(default_factory=dict)


def _unique_check(df: pd.DataFrame, keys: list[str]) -> CheckOutcome:
    dup = int(df.duplicated(keys).sum())
    return CheckOutcome("unique_keys", dup == 0, f"one row per {', '.join(keys)}", {"duplicates": dup})


def check_campaign_performance(
    df: pd.DataFrame, campaign_posts: pd.DataFrame, min_creators: int = DENSITY_MIN_CREATORS
) -> list[CheckOutcome]:
    """Invariants: spend on `all` rows = fees of campaign_posts posted on or before the day; tier rows add up to
    the `all` row; rates in [0, 1]; density_ok only on `all` rows and = creators >= 15; unique keys."""
    out: list[CheckOutcome] = []
    allr = df[df["tier"] == ALL]
    posts = campaign_posts.copy()
    posts["_posted"] = to_day(posts["posted_date"]) if len(posts) else pd.Series(dtype="datetime64[ns]")
    bad_spend = []
    for day, rows in allr.groupby(to_day(allr["snapshot_date"])):
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
    ratio = pd.Series(div(br, res), index=df.index)
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
    exp = pd.Series(div(df["post_mean"], df["pre_mean"]) - 1.0, index=df.index)
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
    expa = pd.Series(div(1 + got, 1 + df["control_lift"].astype("float64")) - 1.0, index=df.index)
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
    sd = to_day(df["snapshot_date"])
    f = to_day(df["first_mention_date"])
    last = to_day(df["last_mention_date"])
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
