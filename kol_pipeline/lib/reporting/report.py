"""The daily report for marketers: one self-contained HTML page per day (inline CSS, inline SVG charts, no
external URL), built from the marts of that day. No Dagster here; the asset is kol_pipeline.defs.reporting.

Sections (docs/report.md explains how to read each): Tier comparison, Campaigns, Cost per engagement and per save
by tier, Share of voice over time, Brand search lift, Creator shortlist, Creators your audience already follows,
Data quality.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pandas as pd

from kol_pipeline.lib.quality.validation import summarize_quarantine
from kol_pipeline.lib.reporting import charts

#: days of share-of-voice history drawn (D-29 .. D)
SOV_DAYS = 30
#: creators shown per brand in the shortlist section
SHORTLIST_TOP = 10
#: creators shown per brand in the audience section (brand_audience_affinity)
AUDIENCE_TOP = 10
#: a 28-day window needs this many days with a value (brand_search_lift)
MIN_LIFT_DAYS = 21
TIER_ORDER: tuple[str, ...] = ("nano", "micro", "mid", "macro", "top", "unknown")
NA = "n/a"
NO_DATA = "no data"
SHORT_WINDOW = f"n/a (fewer than {MIN_LIFT_DAYS} days)"

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


# ----------------------------------------------------------------------------------------------------- formatting


def _missing(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def fmt_cny(v: object, decimals: int = 2) -> str:
    """1234.5 -> '¥1,234.50'; null -> 'n/a'."""
    return NA if _missing(v) else f"¥{float(v):,.{decimals}f}"


def fmt_pct(v: object, decimals: int = 1, signed: bool = False) -> str:
    """A share as a percentage: 0.42 -> '42.0 %' (signed: '+42.0 %'); null -> 'n/a'."""
    if _missing(v):
        return NA
    return f"{float(v) * 100:{'+' if signed else ''}.{decimals}f} %"


def fmt_int(v: object) -> str:
    """12345 -> '12,345'; null -> 'n/a'."""
    return NA if _missing(v) else f"{round(float(v)):,}"


def fmt_num(v: object, decimals: int = 2) -> str:
    return NA if _missing(v) else f"{float(v):,.{decimals}f}"


def _e(text: object) -> str:
    return html.escape("" if _missing(text) else str(text), quote=True)


# ------------------------------------------------------------------------------------------------------ helpers


def _dates(s: pd.Series) -> pd.Series:
    """snapshot_date/launch_date values (date, Timestamp or ISO text) as python dates."""
    if s.empty:
        return pd.Series([], dtype=object, index=s.index)
    return pd.to_datetime(s, errors="coerce").dt.date


class DaySlicer:
    """A ranged run's frame with its snapshot dates converted once: the rows of one day, or of the ``days`` days up
    to one. render_report converts the dates of the frames it is given; given the whole range's frames for every
    page of a backfill, that work grew with the range (120 days of the small sample under cProfile: render_report
    19.1 s, of which `_dates` 3.5 s in 1,323 calls and the share-of-voice section 9.2 s). Frames without rows or
    without snapshot_date are given as they are (render_report treats them so)."""

    def __init__(self, df: pd.DataFrame | None) -> None:
        self.df = df
        usable = df is not None and not df.empty and "snapshot_date" in df.columns
        self._dates = _dates(df["snapshot_date"]) if usable else None

    def on(self, day: date) -> pd.DataFrame | None:
        return self.df if self._dates is None else self.df[self._dates == day]

    def up_to(self, day: date, days: int) -> pd.DataFrame | None:
        if self._dates is None:
            return self.df
        return self.df[(self._dates <= day) & (self._dates > day - timedelta(days=days))]


def _on_day(df: pd.DataFrame | None, day: date) -> pd.DataFrame:
    if df is None or df.empty or "snapshot_date" not in df.columns:
        return pd.DataFrame(columns=[] if df is None else df.columns)
    return df[_dates(df["snapshot_date"]) == day]


def _tier_key(t: object) -> int:
    return TIER_ORDER.index(t) if t in TIER_ORDER else len(TIER_ORDER)


def _chart(kind: str, series: dict[str, list], labels: Sequence[str], title: str, ylabel: str = "") -> str:
    """An inline SVG chart (charts.svg: written directly, escaped, no external reference)."""
    return f'<div class="chart">{charts.svg(kind, series, [str(x) for x in labels], title, ylabel)}</div>'


Cell = tuple[str, str]  # (text, css class)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str | Cell]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; every text is escaped. A cell is a text or (text, extra css class)."""
    num = set(numeric)
    head = "".join(f"<th{' class=num' if i in num else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text, cls = cell if isinstance(cell, tuple) else (cell, "")
            classes = " ".join(c for c in ("num" if i in num else "", cls, "na" if text.startswith(NA) else "") if c)
            cells.append(f"<td{f' class={chr(34)}{classes}{chr(34)}' if classes else ''}>{_e(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _nodata(what: str = "") -> str:
    return f'<p class="nodata">{_e(NO_DATA + (": " + what if what else ""))}</p>'


def _hint(text: str) -> str:
    return f'<p class="hint">{_e(text)}</p>'


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


def _values(df: pd.DataFrame, col: str) -> list:
    return [None if _missing(v) else float(v) for v in df[col]] if col in df.columns else [None] * len(df)


# ------------------------------------------------------------------------------------------------------ sections


def _overall_tiers(tier_comparison_day: pd.DataFrame) -> pd.DataFrame:
    tc = tier_comparison_day
    if tc.empty:
        return tc
    out = tc[(tc["campaign_id"] == "all") & (tc["brand"] == "all")]
    return out.iloc[sorted(range(len(out)), key=lambda i: _tier_key(out["tier"].iloc[i]))]


def _tier_comparison_section(overall: pd.DataFrame, day: date) -> str:
    if overall.empty:
        return _nodata("no campaign had a note on or before this day")
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
    cpe = total_spend / total_eng if not _missing(total_eng) and total_eng > 0 and not _missing(total_spend) else None
    kpis = (
        '<div class="kpis">'
        f'<div class="kpi"><b>{_e(fmt_cny(total_spend, 0))}</b><span>spend, all campaigns</span></div>'
        f'<div class="kpi"><b>{_e(fmt_int(total_eng))}</b><span>engagements of measured notes</span></div>'
        f'<div class="kpi"><b>{_e(fmt_cny(cpe))}</b><span>cost per engagement, all tiers</span></div>'
        "</div>"
    )
    tiers = [str(t) for t in overall["tier"]]
    chart = _chart(
        "bar",
        {
            "spend share": [None if v is None else v * 100 for v in _values(overall, "spend_share")],
            "engagement share": [None if v is None else v * 100 for v in _values(overall, "engagement_share")],
            "save share": [None if v is None else v * 100 for v in _values(overall, "save_share")],
        },
        tiers,
        f"Share of spend, engagements and saves by tier, {day}",
        "%",
    )
    return (
        _hint(
            "All campaigns together. A tier whose engagement share is above its spend share buys engagements "
            "cheaper than the average; SOV contribution is the tier's part of the brands' top-20 search results."
        )
        + kpis
        + chart
        + _table(
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


def _campaigns_section(cp_day: pd.DataFrame) -> str:
    allrows = cp_day[cp_day["tier"] == "all"] if len(cp_day) else cp_day
    if allrows.empty:
        return _nodata("no campaign had started by this day")
    allrows = allrows.sort_values(["brand", "campaign_id"], key=lambda s: s.astype(str).str.lower())
    rows = []
    for r in allrows.itertuples(index=False):
        dens = getattr(r, "density_ok", None)
        rows.append(
            [
                str(r.campaign_id),
                str(r.brand),
                "" if _missing(r.phase) else str(r.phase),
                fmt_int(r.creators),
                fmt_int(r.notes),
                fmt_cny(r.spend_cny, 0),
                fmt_int(r.engagements),
                fmt_cny(r.cpe_cny),
                fmt_cny(r.cost_per_save_cny),
                fmt_pct(r.keyword_coverage),
                fmt_pct(r.disclosure_rate),
                NA if _missing(dens) else ("yes" if bool(dens) else "no"),
            ]
        )
    return _hint(
        "Each campaign as of this day. CPE = spend / engagements of the notes crawled so far (uncrawled paid "
        "notes make it look dearer). 'Enough creators' = at least 15 distinct creators."
    ) + _table(
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


def _cost_section(overall: pd.DataFrame, tc_day: pd.DataFrame, bench_day: pd.DataFrame, day: date) -> str:
    parts = []
    if overall.empty:
        parts.append(_nodata("no campaign spend by tier on this day"))
    else:
        parts.append(_hint("Lower is better. Null (n/a) where a tier has no measured engagement or save."))
        parts.append(
            _chart(
                "bar",
                {
                    "CPE (CNY)": _values(overall, "cpe_cny"),
                    "cost per save (CNY)": _values(overall, "cost_per_save_cny"),
                },
                [str(t) for t in overall["tier"]],
                f"Cost per engagement and per save by tier, all campaigns, {day}",
                "CNY",
            )
        )
        brands = tc_day[(tc_day["campaign_id"] == "all") & (tc_day["brand"] != "all")]
        if len(brands):
            tiers = sorted(set(brands["tier"]), key=_tier_key)
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
            parts.append(_table(["Brand", *tiers], rows, numeric=range(1, len(tiers) + 1)))
    bench = bench_day[bench_day["category"].astype(str) == "all"] if len(bench_day) else bench_day
    parts.append("<h3>Market benchmarks by tier (every creator, all categories)</h3>")
    if bench.empty:
        parts.append(_nodata("no tier benchmarks on this day"))
    else:
        bench = bench.iloc[sorted(range(len(bench)), key=lambda i: _tier_key(bench["tier"].iloc[i]))]
        rows = [
            [
                str(r.tier),
                fmt_int(r.creators),
                fmt_pct(r.er_7d_median, 2),
                f"{fmt_pct(r.er_7d_p25, 2)} – {fmt_pct(r.er_7d_p75, 2)}",
                fmt_cny(r.est_cpe_cny_median),
                f"{fmt_cny(r.est_cpe_cny_p25)} – {fmt_cny(r.est_cpe_cny_p75)}",
                NA if _missing(r.half_life_days_median) else f"{fmt_num(r.half_life_days_median, 1)} d",
            ]
            for r in bench.itertuples(index=False)
        ]
        parts.append(
            _hint(
                "Typical creators of each tier (tier_benchmarks): the rate-card price per engagement "
                "(est. CPE) and the 7-day engagement rate, median and middle half (p25 – p75)."
            )
        )
        parts.append(
            _table(
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


def brand_share_of_voice(history: pd.DataFrame, day: date, days: int = SOV_DAYS) -> pd.DataFrame:
    """Per brand and day of D-(days-1) .. D: pooled share of voice over every ranked keyword,
    sum(brand_results) / sum(results). Columns: snapshot_date, brand, brand_results, results, share_of_voice."""
    cols = ["snapshot_date", "brand", "brand_results", "results", "share_of_voice"]
    if history is None or history.empty:
        return pd.DataFrame(columns=cols)
    h = history.assign(snapshot_date=_dates(history["snapshot_date"]))
    h = h[(h["snapshot_date"] <= day) & (h["snapshot_date"] > day - timedelta(days=days))]
    if h.empty:
        return pd.DataFrame(columns=cols)
    g = h.groupby(["snapshot_date", "brand"], as_index=False)[["brand_results", "results"]].sum(min_count=1)
    g["share_of_voice"] = [
        (float(b) / float(r)) if not _missing(b) and not _missing(r) and float(r) > 0 else None
        for b, r in zip(g["brand_results"], g["results"])
    ]
    return g[cols].sort_values(["snapshot_date", "brand"]).reset_index(drop=True)


def _sov_section(history: pd.DataFrame, day: date) -> str:
    pooled = brand_share_of_voice(history, day)
    if pooled.empty:
        return _nodata(f"no ranked search results in the {SOV_DAYS} days up to this day")
    days = sorted(set(pooled["snapshot_date"]))
    brands = sorted(set(pooled["brand"]), key=lambda b: str(b).lower())
    wide = pooled.pivot(index="snapshot_date", columns="brand", values="share_of_voice").reindex(days)
    chart = _chart(
        "line",
        {str(b): [None if _missing(v) else float(v) * 100 for v in wide[b]] for b in brands},
        [d.strftime("%m-%d") for d in days],
        f"Share of voice in the top 20 search results, {days[0]} .. {days[-1]}",
        "%",
    )
    today = _on_day(history, day)
    rows = []
    for b in brands:
        pb = pooled[pooled["brand"] == b]
        on_day = pb[pb["snapshot_date"] == day]
        best = ""
        if len(today):
            tb = today[(today["brand"] == b) & (pd.to_numeric(today["brand_results"], errors="coerce") > 0)]
            if len(tb):
                top = tb.sort_values(["share_of_voice", "keyword"], ascending=[False, True]).iloc[0]
                best = f"{top['keyword']} ({fmt_pct(top['share_of_voice'])})"
        rows.append(
            [
                str(b),
                fmt_pct(on_day["share_of_voice"].iloc[0]) if len(on_day) else NA,
                fmt_int(on_day["brand_results"].iloc[0]) if len(on_day) else NA,
                fmt_pct(pd.Series(pb["share_of_voice"], dtype="Float64").mean()),
                best or "–",
            ]
        )
    return (
        _hint(
            "Share of voice = of the top-20 results of every tracked keyword, the part that mentions the brand or is "
            "one of its campaign notes (all keywords pooled). One line per brand; gaps are days without rankings."
        )
        + chart
        + _table(
            [
                "Brand",
                f"Share on {day}",
                f"Brand results on {day}",
                "Average over the days shown",
                "Best keyword today",
            ],
            rows,
            numeric=(1, 2, 3),
        )
    )


def _lift_text(value: object, short: bool, other_reason: str) -> str:
    if not _missing(value):
        return fmt_pct(value, signed=True)
    return SHORT_WINDOW if short else other_reason


def _short(row: pd.Series, *cols: str) -> bool:
    """A window count below MIN_LIFT_DAYS (a null count means the window was not measured: short)."""
    for c in cols:
        v = row.get(c)
        if _missing(v) or float(v) < MIN_LIFT_DAYS:
            return True
    return False


def _lift_section(lift: pd.DataFrame, day: date) -> str:
    if lift is None or lift.empty:
        return _nodata("no campaign")
    lf = lift[_dates(lift["launch_date"]) <= day] if "launch_date" in lift.columns else lift
    if lf.empty:
        return _nodata("no campaign launched by this day")
    lf = lf.sort_values(["launch_date", "campaign_id"])
    show_store = "store_lift" in lf.columns and lf["store_lift"].notna().any()
    rows = []
    for _, r in lf.iterrows():
        has_control = not _missing(r.get("control_keyword")) and str(r.get("control_keyword")).strip() != ""
        lift_short = _short(r, "pre_days", "post_days")
        lift_txt = _lift_text(r.get("lift"), lift_short, "n/a (no searches before launch)")
        if has_control:
            ctrl_short = _short(r, "control_pre_days", "control_post_days") if "control_pre_days" in r else lift_short
            ctrl_txt = _lift_text(r.get("control_lift"), ctrl_short, "n/a (no control searches before launch)")
            adj_txt = _lift_text(r.get("adjusted_lift"), lift_short or ctrl_short, NA)
        else:
            ctrl_txt = adj_txt = "n/a (no control keyword)"
        row = [
            str(r["campaign_id"]),
            str(r["brand"]),
            (str(_dates(pd.Series([r["launch_date"]])).iloc[0]), "nowrap"),
            fmt_num(r.get("pre_mean"), 1),
            fmt_num(r.get("post_mean"), 1),
            lift_txt,
            "–" if not has_control else str(r["control_keyword"]),
            ctrl_txt,
            adj_txt,
        ]
        if show_store:
            row.append(
                _lift_text(
                    r.get("store_lift"),
                    _short(r, "store_pre_days", "store_post_days") if "store_pre_days" in r else True,
                    NA,
                )
            )
        rows.append(row)
    headers = [
        "Campaign",
        "Brand",
        "Launch",
        "Searches/day before",
        "Searches/day after",
        "Search lift",
        "Control keyword",
        "Control lift",
        "Adjusted lift",
    ] + (["Store visit lift"] if show_store else [])
    return _hint(
        f"Mean daily search index of the brand in the 28 days from launch against the 28 days before. The "
        f"control keyword moves with the season but not with the campaign: adjusted lift = (1 + lift) / "
        f"(1 + control lift) − 1 is the part of the lift the season does not explain. A window with fewer "
        f"than {MIN_LIFT_DAYS} days of data gives no figure. Recomputed with all search data known at build "
        f"time."
    ) + _table(headers, rows, numeric=(3, 4, 5, 7, 8) + ((9,) if show_store else ()))


def _shortlist_section(shortlist_day: pd.DataFrame) -> str:
    if shortlist_day.empty:
        return _nodata(
            "no brand has a shortlist on this day (no creator of the brand's category and tier "
            "without an authenticity flag)"
        )
    parts = [
        _hint(
            f"Per brand, the best {SHORTLIST_TOP} creators of the brand's category in the shortlist tier with "
            "no authenticity flag, by composite score; the reasons are the metrics behind the score."
        )
    ]
    for brand, g in sorted(shortlist_day.groupby("brand"), key=lambda kv: str(kv[0]).lower()):
        g = g.sort_values("rank").head(SHORTLIST_TOP)
        rows = [
            [
                fmt_int(r.rank),
                f"{'' if _missing(r.nickname) else r.nickname} ({r.user_id})",
                fmt_int(r.followers),
                fmt_num(r.score, 3),
                fmt_pct(r.median_er_7d),
                fmt_cny(r.est_cpe_cny),
                (str(r.reasons), "reasons"),
            ]
            for r in g.itertuples(index=False)
        ]
        cat = g["primary_category"].dropna()
        tier = g["tier"].dropna()
        label = f"{brand}" + (f" — {tier.iloc[0]} creators in {cat.iloc[0]}" if len(cat) and len(tier) else "")
        parts.append(f"<h3>{_e(label)}</h3>")
        parts.append(
            _table(
                ["Rank", "Creator", "Followers", "Score", "Median er_7d", "Est. CPE", "Why"], rows, numeric=range(0, 6)
            )
        )
    return "".join(parts)


def _audience_section(affinity_day: pd.DataFrame | None, scorecard_day: pd.DataFrame | None) -> str:
    """Per brand, the creators of brand_audience_affinity's top AUDIENCE_TOP by affinity, with tier, whether they
    already mention the brand, and their search appearances of the last 30 days (creator_scorecard's
    search_appearances_30d; the column is empty where the scorecard does not have it)."""
    if affinity_day is None or affinity_day.empty:
        return _nodata(
            "no creator with 20 or more commenters in 90 days shares a commenter with a brand's notes on this day "
            "(brand_audience_affinity is empty)"
        )
    searches: dict[str, object] = {}
    if scorecard_day is not None and "search_appearances_30d" in scorecard_day.columns:
        searches = dict(zip(scorecard_day["user_id"], scorecard_day["search_appearances_30d"]))
    parts = [
        _hint(
            f"Per brand, the {AUDIENCE_TOP} creators whose commenters of the last 90 days most often also commented on "
            "other authors' notes mentioning the brand (affinity = shared commenters / commenters; creators with "
            'at least 20 commenters). "Mentions brand": the creator already posted about it (a partner or a fan); '
            '"no": a prospect. Search results: their notes among the top 20 of the tracked searches, 30 days.'
        )
    ]
    for brand, g in sorted(affinity_day.groupby("brand"), key=lambda kv: str(kv[0]).lower()):
        g = g.sort_values("rank_in_brand").head(AUDIENCE_TOP)
        rows = [
            [
                fmt_int(r.rank_in_brand),
                f"{'' if _missing(r.nickname) else r.nickname} ({r.user_id})",
                NA if _missing(r.tier) else str(r.tier),
                fmt_pct(r.affinity),
                f"{fmt_int(r.shared_commenters)} / {fmt_int(r.commenters_90d)}",
                NA if _missing(r.mentions_brand) else ("yes" if bool(r.mentions_brand) else "no"),
                fmt_int(searches[r.user_id]) if r.user_id in searches else "",
            ]
            for r in g.itertuples(index=False)
        ]
        parts.append(f"<h3>{_e(brand)}</h3>")
        parts.append(
            _table(
                [
                    "Rank",
                    "Creator",
                    "Tier",
                    "Affinity",
                    "Shared / commenters",
                    "Mentions brand",
                    "Search results (30 d)",
                ],
                rows,
                numeric=(0, 3, 4, 6),
            )
        )
    return "".join(parts)


def _quality_section(quarantine_day: pd.DataFrame, failed_checks: list[str] | None) -> str:
    parts = []
    summary = summarize_quarantine(quarantine_day.drop(columns=["snapshot_date"], errors="ignore"))
    total = int(summary["rows"].sum()) if len(summary) else 0
    parts.append("<h3>Quarantined rows</h3>")
    if total == 0:
        parts.append(_hint("No input row was rejected on this day."))
    else:
        parts.append(
            _hint(
                f"{total:,} input rows were rejected on this day and left out of every figure above "
                "(see the quarantine table for each row)."
            )
        )
        parts.append(
            _table(
                ["Source", "Reason", "Rows", "Files"],
                [
                    [str(r.source), str(r.reason), fmt_int(r.rows), fmt_int(r.files)]
                    for r in summary.itertuples(index=False)
                ],
                numeric=(2, 3),
            )
        )
    parts.append("<h3>Failed checks</h3>")
    if failed_checks is None:
        parts.append(_hint("Check results were not available when this report was built."))
    elif not failed_checks:
        parts.append(_hint("No failed check recorded for this day."))
    else:
        parts.append('<ul class="checks">' + "".join(f"<li>{_e(c)}</li>" for c in failed_checks) + "</ul>")
    return "".join(parts)


# ------------------------------------------------------------------------------------------------------ the page


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
    tc_day = _on_day(tier_comparison, day)
    overall = _overall_tiers(tc_day)
    builders: dict[str, Callable[[], str]] = {
        "tier-comparison": lambda: _tier_comparison_section(overall, day),
        "campaigns": lambda: _campaigns_section(_on_day(campaign_performance, day)),
        "cost-by-tier": lambda: _cost_section(overall, tc_day, _on_day(tier_benchmarks, day), day),
        "share-of-voice": lambda: _sov_section(keyword_share_of_voice_history, day),
        "search-lift": lambda: _lift_section(brand_search_lift, day),
        "shortlist": lambda: _shortlist_section(_on_day(creator_shortlist, day)),
        "audience": lambda: _audience_section(
            None if brand_audience_affinity is None else _on_day(brand_audience_affinity, day),
            None if creator_scorecard is None else _on_day(creator_scorecard, day),
        ),
        "data-quality": lambda: _quality_section(_on_day(quarantine, day), failed_checks),
    }
    body = "".join(_section(anchor, title, builders[anchor]()) for anchor, title in SECTIONS)
    nav = "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in SECTIONS)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(f'KOL report {day}')}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_e(f'KOL report — {day}')}</h1>"
        f"<p>{_e('Which creator tiers earn the money back: spend, engagements, search share and shortlists, as of ' + str(day) + ' (Asia/Shanghai).')}</p>"
        f"<nav>{nav}</nav></header><main>{body}</main></body></html>\n"
    )
