"""The report's sections about creators: Creator shortlist (per brand, the best SHORTLIST_TOP creators of
creator_shortlist with the reasons behind their score) and Creators your audience already follows (per brand, the
AUDIENCE_TOP creators of brand_audience_affinity, with tier, whether they already mention the brand and their
search appearances). Each function returns the HTML of its section's body; the page around it is
kol_pipeline.lib.reporting.report.
"""

from __future__ import annotations

import pandas as pd

from kol_pipeline.lib.reporting.formatting import (
    NA,
    escape,
    fmt_cny,
    fmt_int,
    fmt_num,
    fmt_pct,
    hint,
    is_missing,
    nodata,
    table,
)

#: creators shown per brand in the shortlist section
SHORTLIST_TOP = 10
#: creators shown per brand in the audience section (brand_audience_affinity)
AUDIENCE_TOP = 10


def shortlist_section(shortlist_day: pd.DataFrame) -> str:
    if shortlist_day.empty:
        return nodata(
            "no brand has a shortlist on this day (no creator of the brand's category and tier "
            "without an authenticity flag)"
        )
    parts = [
        hint(
            f"Per brand, the best {SHORTLIST_TOP} creators of the brand's category in the shortlist tier with "
            "no authenticity flag, by composite score; the reasons are the metrics behind the score."
        )
    ]
    for brand, g in sorted(shortlist_day.groupby("brand"), key=lambda kv: str(kv[0]).lower()):
        g = g.sort_values("rank").head(SHORTLIST_TOP)
        rows = [
            [
                fmt_int(r.rank),
                f"{'' if is_missing(r.nickname) else r.nickname} ({r.user_id})",
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
        parts.append(f"<h3>{escape(label)}</h3>")
        parts.append(
            table(
                ["Rank", "Creator", "Followers", "Score", "Median er_7d", "Est. CPE", "Why"], rows, numeric=range(0, 6)
            )
        )
    return "".join(parts)


def audience_section(affinity_day: pd.DataFrame | None, scorecard_day: pd.DataFrame | None) -> str:
    """Per brand, the creators of brand_audience_affinity's top AUDIENCE_TOP by affinity, with tier, whether they
    already mention the brand, and their search appearances of the last 30 days (creator_scorecard's
    search_appearances_30d; the column is empty where the scorecard does not have it)."""
    if affinity_day is None or affinity_day.empty:
        return nodata(
            "no creator with 20 or more commenters in 90 days shares a commenter with a brand's notes on this day "
            "(brand_audience_affinity is empty)"
        )
    searches: dict[str, object] = {}
    if scorecard_day is not None and "search_appearances_30d" in scorecard_day.columns:
        searches = dict(zip(scorecard_day["user_id"], scorecard_day["search_appearances_30d"]))
    parts = [
        hint(
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
                f"{'' if is_missing(r.nickname) else r.nickname} ({r.user_id})",
                NA if is_missing(r.tier) else str(r.tier),
                fmt_pct(r.affinity),
                f"{fmt_int(r.shared_commenters)} / {fmt_int(r.commenters_90d)}",
                NA if is_missing(r.mentions_brand) else ("yes" if bool(r.mentions_brand) else "no"),
                fmt_int(searches[r.user_id]) if r.user_id in searches else "",
            ]
            for r in g.itertuples(index=False)
        ]
        parts.append(f"<h3>{escape(brand)}</h3>")
        parts.append(
            table(
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
