"""The daily report for marketers: one self-contained HTML page per day (inline CSS, inline SVG charts, no
external URL), built from the marts of that day. No Dagster here; the asset is kol_pipeline.defs.reporting.

Sections (docs/report.md explains how to read each): Tier comparison, Campaigns, Cost per engagement and per save
by tier, Share of voice over time, Brand search lift, Creator shortlist, Creators your audience already follows,
Data quality.

This module is the page (its CSS, header, navigation and the order of the sections: render_report) and the public
entry point: the names other modules use are re-exported here (``__all__``). The parts: ``frames`` (the rows of a
day, DaySlicer, share of voice pooled per brand), ``formatting`` (number formats, escaped HTML tables, hints,
charts), and the sections, ``sections_spend`` (tier comparison, campaigns, cost by tier), ``sections_search``
(share of voice, search lift), ``sections_creators`` (shortlist, audience) and ``sections_quality`` (data quality).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd

from kol_pipeline.lib.reporting.formatting import NA, NO_DATA, Cell, escape, fmt_cny, fmt_int, fmt_num, fmt_pct
from kol_pipeline.lib.reporting.frames import (
    SOV_DAYS,
    TIER_ORDER,
    DaySlicer,
    brand_share_of_voice,
    overall_tiers,
    rows_on_day,
)
from kol_pipeline.lib.reporting.sections_creators import (
    AUDIENCE_TOP,
    SHORTLIST_TOP,
    audience_section,
    shortlist_section,
)
from kol_pipeline.lib.reporting.sections_quality import quality_section
from kol_pipeline.lib.reporting.sections_search import MIN_LIFT_DAYS, SHORT_WINDOW, lift_section, sov_section
from kol_pipeline.lib.reporting.sections_spend import campaigns_section, cost_section, tier_comparison_section

__all__ = [
    "AUDIENCE_TOP",
    "MIN_LIFT_DAYS",
    "NA",
    "NO_DATA",
    "SECTIONS",
    "SHORTLIST_TOP",
    "SHORT_WINDOW",
    "SOV_DAYS",
    "TIER_ORDER",
    "Cell",
    "DaySlicer",
    "brand_share_of_voice",
    "fmt_cny",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "render_report",
]

SECTIONS: tuple[tuple[str, str], ...] = (
    ("tier-comparison", "Tier comparison"),
    ("campaigns", "Campaigns"),
    ("cost-by-tier", "Cost per engagement and per save by tier"),
    ("share-of-voice", "Share of voice over time"),
    ("search-lift", "Brand search lift"),
    ("shortlist", "Creator shortlist"),
    ("audience", "Creators your audience already follows"),
    ("data-quality", "Data quality"),
)

_CSS = """
body{font-family:"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC",
 "Microsoft YaHei","WenQuanYi Micro Hei","Helvetica Neue",Arial,sans-serif;
 margin:0;background:#f5f6f8;color:#1d2330;line-height:1.45}
main{max-width:1100px;margin:0 auto;padding:24px}
header{background:#1d2330;color:#fff;padding:20px 24px}
header h1{margin:0;font-size:24px}
header p{margin:4px 0 0;color:#c9cfdb}
nav{margin:12px 0 0;font-size:13px}
nav a{color:#9fc3ff;margin-right:14px;text-decoration:none}
section{background:#fff;border-radius:8px;padding:16px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{margin:0 0 8px;font-size:20px}
h3{margin:16px 0 6px;font-size:16px}
p.hint{color:#5b6475;font-size:13px;margin:4px 0 10px}
p.nodata{color:#8a6d00;background:#fff8e1;padding:8px 12px;border-radius:4px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 12px}
th,td{border-bottom:1px solid #e3e6ec;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6;font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.na{color:#8a93a3}
td.nowrap{white-space:nowrap}
td.reasons{font-size:12px;color:#3b4352}
.chart svg{max-width:100%;height:auto}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:4px 0 12px}
.kpi{background:#eef1f6;border-radius:6px;padding:8px 14px;min-width:150px}
.kpi b{display:block;font-size:18px}
.kpi span{font-size:12px;color:#5b6475}
ul.checks li{color:#a11d1d}
small{color:#5b6475}
"""


# ------------------------------------------------------------------------------------------------------ the page


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def render_report(
    day: date,
    tier_comparison: pd.DataFrame,
    campaign_performance: pd.DataFrame,
    keyword_share_of_voice_history: pd.DataFrame,
    brand_search_lift: pd.DataFrame,
    creator_shortlist: pd.DataFrame,
    tier_benchmarks: pd.DataFrame,
    quarantine: pd.DataFrame,
    failed_checks: list[str] | None = None,
    brand_audience_affinity: pd.DataFrame | None = None,
    creator_scorecard: pd.DataFrame | None = None,
) -> str:
    """The report of `day` as one self-contained HTML page (inline CSS and SVG, no external URL, all text escaped).

    Partitioned inputs may hold other days (a ranged run's frames): only `day` is used, and for share of voice the
    days D-29 .. D. `brand_search_lift` is unpartitioned (campaigns launched after `day` are left out).
    `failed_checks`: lines for the data quality section; None = check results unknown.
    `brand_audience_affinity`, `creator_scorecard` (user_id and, where the scorecard has it,
    search_appearances_30d): the audience section; None = not available (the section says so).
    """
    tc_day = rows_on_day(tier_comparison, day)
    overall = overall_tiers(tc_day)
    builders: dict[str, Callable[[], str]] = {
        "tier-comparison": lambda: tier_comparison_section(overall, day),
        "campaigns": lambda: campaigns_section(rows_on_day(campaign_performance, day)),
        "cost-by-tier": lambda: cost_section(overall, tc_day, rows_on_day(tier_benchmarks, day), day),
        "share-of-voice": lambda: sov_section(keyword_share_of_voice_history, day),
        "search-lift": lambda: lift_section(brand_search_lift, day),
        "shortlist": lambda: shortlist_section(rows_on_day(creator_shortlist, day)),
        "audience": lambda: audience_section(
            None if brand_audience_affinity is None else rows_on_day(brand_audience_affinity, day),
            None if creator_scorecard is None else rows_on_day(creator_scorecard, day),
        ),
        "data-quality": lambda: quality_section(rows_on_day(quarantine, day), failed_checks),
    }
    body = "".join(_section(anchor, title, builders[anchor]()) for anchor, title in SECTIONS)
    nav = "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t in SECTIONS)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(f'KOL report {day}')}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{escape(f'KOL report — {day}')}</h1>"
        f"<p>{escape('Which creator tiers earn the money back: spend, engagements, search share and shortlists, as of ' + str(day) + ' (Asia/Shanghai).')}</p>"
        f"<nav>{nav}</nav></header><main>{body}</main></body></html>\n"
    )
