"""The report's sections about money: Tier comparison (each tier's share of spend, engagements and saves, with the
totals as cards), Campaigns (each campaign as of the day) and Cost per engagement and per save by tier (overall,
per brand, and the market's tier benchmarks). Each function takes the day's rows (``frames``: the all-campaigns
tier rows, the day's campaign_performance and tier_benchmarks) and returns the HTML of its section's body; the page
around it is kol_pipeline.lib.reporting.report.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from kol_pipeline.lib.reporting.formatting import (
    NA,
    column_values,
    escape,
    fmt_cny,
    fmt_int,
    fmt_num,
    fmt_pct,
    hint,
    is_missing,
    nodata,
    svg_chart,
    table,
)
from kol_pipeline.lib.reporting.frames import tier_key


def tier_comparison_section(overall: pd.DataFrame, day: date) -> str:
    if overall.empty:
        return nodata("no campaign had a note on or before this day")
    rows = [
        [
            str(r.tier),
            fmt_int(r.notes),
            fmt_cny(r.spend_cny, 0),
            fmt_pct(r.spend_share),
            fmt_pct(r.engagement_share),
            fmt_pct(r.save_share),
            fmt_cny(r.cpe_cny),
            fmt_cny(r.cost_per_save_cny),
            fmt_pct(r.sov_contribution),
        ]
        for r in overall.itertuples(index=False)
    ]
    total_spend = pd.to_numeric(overall["spend_cny"], errors="coerce").sum(min_count=1)
    total_eng = pd.to_numeric(overall["engagements"], errors="coerce").sum(min_count=1)
    cpe = (
        total_spend / total_eng if not is_missing(total_eng) and total_eng > 0 and not is_missing(total_spend) else None
    )
    kpis = (
        '<div class="kpis">'
        f'<div class="kpi"><b>{escape(fmt_cny(total_spend, 0))}</b><span>spend, all campaigns</span></div>'
        f'<div class="kpi"><b>{escape(fmt_int(total_eng))}</b><span>engagements of measured notes</span></div>'
        f'<div class="kpi"><b>{escape(fmt_cny(cpe))}</b><span>cost per engagement, all tiers</span></div>'
        "</div>"
    )
    tiers = [str(t) for t in overall["tier"]]
    chart = svg_chart(
        "bar",
        {
            "spend share": [None if v is None else v * 100 for v in column_values(overall, "spend_share")],
            "engagement share": [None if v is None else v * 100 for v in column_values(overall, "engagement_share")],
            "save share": [None if v is None else v * 100 for v in column_values(overall, "save_share")],
        },
        tiers,
        f"Share of spend, engagements and saves by tier, {day}",
        "%",
    )
    return (
        hint(
            "All campaigns together. A tier whose engagement share is above its spend share buys engagements "
            "cheaper than the average; SOV contribution is the tier's part of the brands' top-20 search results."
        )
        + kpis
        + chart
        + table(
            [
                "Tier",
                "Notes",
                "Spend",
                "Spend share",
                "Engagement share",
                "Save share",
                "CPE",
                "Cost per save",
                "SOV contribution",
            ],
            rows,
            numeric=range(1, 9),
        )
    )


def campaigns_section(cp_day: pd.DataFrame) -> str:
    allrows = cp_day[cp_day["tier"] == "all"] if len(cp_day) else cp_day
    if allrows.empty:
        return nodata("no campaign had started by this day")
    allrows = allrows.sort_values(["brand", "campaign_id"], key=lambda s: s.astype(str).str.lower())
    rows = []
    for r in allrows.itertuples(index=False):
        dens = getattr(r, "density_ok", None)
        rows.append(
            [
                str(r.campaign_id),
                str(r.brand),
                "" if is_missing(r.phase) else str(r.phase),
                fmt_int(r.creators),
                fmt_int(r.notes),
                fmt_cny(r.spend_cny, 0),
                fmt_int(r.engagements),
                fmt_cny(r.cpe_cny),
                fmt_cny(r.cost_per_save_cny),
                fmt_pct(r.keyword_coverage),
                fmt_pct(r.disclosure_rate),
                NA if is_missing(dens) else ("yes" if bool(dens) else "no"),
            ]
        )
    return hint(
        "Each campaign as of this day. CPE = spend / engagements of the notes crawled so far (uncrawled paid "
        "notes make it look dearer). 'Enough creators' = at least 15 distinct creators."
    ) + table(
        [
            "Campaign",
            "Brand",
            "Phase",
            "Creators",
            "Notes",
            "Spend",
            "Engagements",
            "CPE",
            "Cost per save",
            "Keyword coverage",
            "Disclosure rate",
            "Enough creators",
        ],
        rows,
        numeric=range(3, 11),
    )


def cost_section(overall: pd.DataFrame, tc_day: pd.DataFrame, bench_day: pd.DataFrame, day: date) -> str:
    parts = []
    if overall.empty:
        parts.append(nodata("no campaign spend by tier on this day"))
    else:
        parts.append(hint("Lower is better. Null (n/a) where a tier has no measured engagement or save."))
        parts.append(
            svg_chart(
                "bar",
                {
                    "CPE (CNY)": column_values(overall, "cpe_cny"),
                    "cost per save (CNY)": column_values(overall, "cost_per_save_cny"),
                },
                [str(t) for t in overall["tier"]],
                f"Cost per engagement and per save by tier, all campaigns, {day}",
                "CNY",
            )
        )
        brands = tc_day[(tc_day["campaign_id"] == "all") & (tc_day["brand"] != "all")]
        if len(brands):
            tiers = sorted(set(brands["tier"]), key=tier_key)
            rows = []
            for brand, g in sorted(brands.groupby("brand"), key=lambda kv: str(kv[0]).lower()):
                by = g.set_index("tier")
                rows.append(
                    [str(brand)]
                    + [
                        f"{fmt_cny(by.at[t, 'cpe_cny'])} / {fmt_cny(by.at[t, 'cost_per_save_cny'])}"
                        if t in by.index
                        else NA
                        for t in tiers
                    ]
                )
            parts.append("<h3>By brand: CPE / cost per save</h3>")
            parts.append(table(["Brand", *tiers], rows, numeric=range(1, len(tiers) + 1)))
    bench = bench_day[bench_day["category"].astype(str) == "all"] if len(bench_day) else bench_day
    parts.append("<h3>Market benchmarks by tier (every creator, all categories)</h3>")
    if bench.empty:
        parts.append(nodata("no tier benchmarks on this day"))
    else:
        bench = bench.iloc[sorted(range(len(bench)), key=lambda i: tier_key(bench["tier"].iloc[i]))]
        rows = [
            [
                str(r.tier),
                fmt_int(r.creators),
                fmt_pct(r.er_7d_median, 2),
                f"{fmt_pct(r.er_7d_p25, 2)} – {fmt_pct(r.er_7d_p75, 2)}",
                fmt_cny(r.est_cpe_cny_median),
                f"{fmt_cny(r.est_cpe_cny_p25)} – {fmt_cny(r.est_cpe_cny_p75)}",
                NA if is_missing(r.half_life_days_median) else f"{fmt_num(r.half_life_days_median, 1)} d",
            ]
            for r in bench.itertuples(index=False)
        ]
        parts.append(
            hint(
                "Typical creators of each tier (tier_benchmarks): the rate-card price per engagement "
                "(est. CPE) and the 7-day engagement rate, median and middle half (p25 – p75)."
            )
        )
        parts.append(
            table(
                [
                    "Tier",
                    "Creators",
                    "Median er_7d",
                    "er_7d p25 – p75",
                    "Median est. CPE",
                    "Est. CPE p25 – p75",
                    "Median half-life",
                ],
                rows,
                numeric=range(1, 7),
            )
        )
    return "".join(parts)
