"""The report's sections about search: Share of voice over time (each brand's part of the top-20 results of the
tracked keywords, pooled, over the SOV_DAYS days up to the day) and Brand search lift (each campaign's search index
in the 28 days from launch against the 28 before, with its control keyword). Each function returns the HTML of its
section's body; the page around it is kol_pipeline.lib.reporting.report.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from kol_pipeline.lib.reporting.formatting import (
    NA,
    fmt_int,
    fmt_num,
    fmt_pct,
    hint,
    is_missing,
    nodata,
    svg_chart,
    table,
)
from kol_pipeline.lib.reporting.frames import SOV_DAYS, as_dates, brand_share_of_voice, rows_on_day

#: a 28-day window needs this many days with a value (brand_search_lift)
MIN_LIFT_DAYS = 21
SHORT_WINDOW = f"n/a (fewer than {MIN_LIFT_DAYS} days)"


def sov_section(history: pd.DataFrame, day: date) -> str:
    pooled = brand_share_of_voice(history, day)
    if pooled.empty:
        return nodata(f"no ranked search results in the {SOV_DAYS} days up to this day")
    days = sorted(set(pooled["snapshot_date"]))
    brands = sorted(set(pooled["brand"]), key=lambda b: str(b).lower())
    wide = pooled.pivot(index="snapshot_date", columns="brand", values="share_of_voice").reindex(days)
    chart = svg_chart(
        "line",
        {str(b): [None if is_missing(v) else float(v) * 100 for v in wide[b]] for b in brands},
        [d.strftime("%m-%d") for d in days],
        f"Share of voice in the top 20 search results, {days[0]} .. {days[-1]}",
        "%",
    )
    today = rows_on_day(history, day)
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
        hint(
            "Share of voice = of the top-20 results of every tracked keyword, the part that mentions the brand or is "
            "one of its campaign notes (all keywords pooled). One line per brand; gaps are days without rankings."
        )
        + chart
        + table(
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
    if not is_missing(value):
        return fmt_pct(value, signed=True)
    return SHORT_WINDOW if short else other_reason


def _short(row: pd.Series, *cols: str) -> bool:
    """A window count below MIN_LIFT_DAYS (a null count means the window was not measured: short)."""
    for c in cols:
        v = row.get(c)
        if is_missing(v) or float(v) < MIN_LIFT_DAYS:
            return True
    return False


def lift_section(lift: pd.DataFrame, day: date) -> str:
    if lift is None or lift.empty:
        return nodata("no campaign")
    lf = lift[as_dates(lift["launch_date"]) <= day] if "launch_date" in lift.columns else lift
    if lf.empty:
        return nodata("no campaign launched by this day")
    lf = lf.sort_values(["launch_date", "campaign_id"])
    show_store = "store_lift" in lf.columns and lf["store_lift"].notna().any()
    rows = []
    for _, r in lf.iterrows():
        has_control = not is_missing(r.get("control_keyword")) and str(r.get("control_keyword")).strip() != ""
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
            (str(as_dates(pd.Series([r["launch_date"]])).iloc[0]), "nowrap"),
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
    return hint(
        f"Mean daily search index of the brand in the 28 days from launch against the 28 days before. The "
        f"control keyword moves with the season but not with the campaign: adjusted lift = (1 + lift) / "
        f"(1 + control lift) − 1 is the part of the lift the season does not explain. A window with fewer "
        f"than {MIN_LIFT_DAYS} days of data gives no figure. Recomputed with all search data known at build "
        f"time."
    ) + table(headers, rows, numeric=(3, 4, 5, 7, 8) + ((9,) if show_store else ()))
