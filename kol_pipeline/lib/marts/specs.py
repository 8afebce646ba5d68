"""The table specs of the brand and campaign marts (kol_pipeline/lib/marts/<table>.py and .sql, the checks in
checks.py; decisions in docs/marts.md): columns, keys, partitioning and layer. Registered in
kol_pipeline.lib.schemas (the registry, lib/tables.py)."""

from __future__ import annotations

from kol_pipeline.lib.tables import (
    BOOL,
    DATE,
    F64,
    I64,
    SNAPSHOT,
    STR,
    TIERS,
    TableSpec,
    make_columns,
)

CAMPAIGN_PERFORMANCE = TableSpec(
    "campaign_performance",
    "Per campaign x author tier (tier on the note's publish date) plus tier `all`, as of the day.",
    make_columns(
        SNAPSHOT,
        ("campaign_id", STR, "campaign"),
        ("brand", STR, "the campaign's brand"),
        ("phase", STR, "the campaign's phase label"),
        ("tier", STR, "author's tier on the note's publish date (nearest creator snapshot), `unknown`, or `all`"),
        ("creators", I64, "distinct creators paid (campaign_posts.user_id)"),
        ("notes", I64, "distinct campaign notes posted on or before the day"),
        ("spend_cny", F64, "sum of fee_cny of those notes"),
        (
            "engagements",
            F64,
            "sum over measured notes of eng_30d where known, else latest engagements; null if none measured",
        ),
        ("saves", F64, "sum of saves at the latest observation; null if none measured"),
        ("cpe_cny", F64, "spend_cny / engagements (null when engagements is 0 or null)"),
        ("cost_per_save_cny", F64, "spend_cny / saves (null when saves is 0 or null)"),
        ("median_er_7d", F64, "median er_7d of the notes (null if none known)"),
        ("keyword_coverage", F64, "share of crawled notes whose title, desc or tags contain a target keyword"),
        ("disclosure_rate", F64, "share of crawled notes carrying a disclosure marker"),
        ("density_ok", BOOL, "distinct creators in the campaign >= 15; on the `all` row only (null on tier rows)"),
        ("notes_measured", I64, "notes whose engagements are known (crawled)"),
        ("spend_measured_cny", F64, "fees of the measured notes"),
        ("matched_cpe_cny", F64, "spend_measured_cny / engagements: CPE over crawled notes only"),
    ),
    keys=("campaign_id", "tier", "snapshot_date"),
    layer="marts",
    summary=True,
)

KEYWORD_SHARE_OF_VOICE = TableSpec(
    "keyword_share_of_voice",
    "Per keyword x brand on the day: how many of the top-20 ranked results mention the brand or are its campaign notes.",
    make_columns(
        SNAPSHOT,
        ("keyword", STR, "search keyword"),
        ("brand", STR, "brand"),
        ("results", I64, "distinct notes ranked 1..20 that day (never-crawled notes included)"),
        ("brand_results", I64, "of those, notes mentioning the brand or in one of its campaigns"),
        ("share_of_voice", F64, "brand_results / results"),
        *[(f"brand_results_{t}", I64, f"brand_results whose author is {t} (tier on the day)") for t in TIERS],
        ("brand_results_unknown_tier", I64, "brand_results whose author has no creator snapshot on or before the day"),
    ),
    keys=("keyword", "brand", "snapshot_date"),
    layer="marts",
    summary=True,
)

BRAND_SEARCH_LIFT = TableSpec(
    "brand_search_lift",
    "Per campaign: brand search volume 28 days after launch vs 28 days before, adjusted by a control keyword.",
    make_columns(
        ("campaign_id", STR, "campaign"),
        ("brand", STR, "brand"),
        ("keyword", STR, "the brand (search_index keyword)"),
        ("launch_date", DATE, "campaign start_date"),
        ("pre_mean", F64, "mean search_index over launch-28 .. launch-1 (null if < 21 days present)"),
        ("post_mean", F64, "mean search_index over launch .. launch+27 (null if < 21 days present)"),
        ("lift", F64, "post_mean / pre_mean - 1"),
        ("control_keyword", STR, "the brand's control keyword (null if none)"),
        ("control_lift", F64, "the same lift for the control keyword"),
        ("adjusted_lift", F64, "(1 + lift) / (1 + control_lift) - 1 (null without control)"),
        ("pre_days", I64, "days with a search_index in the pre window"),
        ("post_days", I64, "days with a search_index in the post window"),
        ("store_pre_mean", F64, "mean store_visits, pre window (null if < 21 days or no store data)"),
        ("store_post_mean", F64, "mean store_visits, post window"),
        ("store_lift", F64, "store_post_mean / store_pre_mean - 1"),
        ("control_pre_days", I64, "days with a control search_index in the pre window"),
        ("control_post_days", I64, "days with a control search_index in the post window"),
        ("store_pre_days", I64, "days with store_visits in the pre window"),
        ("store_post_days", I64, "days with store_visits in the post window"),
    ),
    partitioned=False,
    keys=("campaign_id",),
    layer="marts",
)

BRAND_CREATOR_RELATIONSHIPS = TableSpec(
    "brand_creator_relationships",
    "Per brand x creator who mentioned the brand in notes published in the trailing 180 days (D-179 .. D).",
    make_columns(
        SNAPSHOT,
        ("brand", STR, "brand"),
        ("user_id", STR, "creator"),
        ("notes", I64, "distinct notes mentioning the brand (or in its campaigns)"),
        ("sponsored_notes", I64, "of those, in campaign_posts or disclosed"),
        ("organic_notes", I64, "notes - sponsored_notes"),
        ("first_mention_date", DATE, "earliest publish date (Asia/Shanghai) in the window"),
        ("last_mention_date", DATE, "latest publish date in the window"),
        ("distinct_weeks", I64, "distinct ISO weeks with a mention"),
        ("is_repeat", BOOL, "distinct_weeks >= 2"),
    ),
    keys=("brand", "user_id", "snapshot_date"),
    layer="marts",
)

TIER_COMPARISON = TableSpec(
    "tier_comparison",
    "Per campaign (campaign_id `all` = a brand's campaigns together, brand `all` = every campaign) x tier: "
    "shares of spend, engagements, saves and share of voice, CPE and cost per save.",
    make_columns(
        SNAPSHOT,
        ("campaign_id", STR, "campaign, or all"),
        ("brand", STR, "brand, or all"),
        ("tier", STR, "author tier (nano..top, unknown when present)"),
        ("notes", I64, "campaign notes of the tier"),
        ("spend_cny", F64, "spend on the tier"),
        ("spend_share", F64, "tier spend / total spend"),
        ("engagements", F64, "engagements of the tier (campaign_performance definition)"),
        ("engagement_share", F64, "tier engagements / total engagements"),
        ("saves", F64, "saves of the tier"),
        ("save_share", F64, "tier saves / total saves"),
        ("cpe_cny", F64, "spend_cny / engagements"),
        ("cost_per_save_cny", F64, "spend_cny / saves"),
        ("brand_results", I64, "top-20 brand results whose author is of the tier"),
        ("sov_contribution", F64, "tier brand_results / all brand_results"),
    ),
    keys=("campaign_id", "brand", "tier", "snapshot_date"),
    layer="marts",
)

CREATOR_SHORTLIST = TableSpec(
    "creator_shortlist",
    "Per brand: the top creators of the brand's category in one tier (micro by default) with no authenticity flag.",
    make_columns(
        SNAPSHOT,
        ("brand", STR, "brand"),
        ("rank", I64, "1 = best score"),
        ("user_id", STR, "creator"),
        ("nickname", STR, "nickname"),
        ("tier", STR, "tier"),
        ("primary_category", STR, "creator's primary category (= the brand's category)"),
        ("score", F64, "composite score (creator_scorecard)"),
        ("median_er_7d", F64, "median er_7d"),
        ("median_save_to_like", F64, "median saves / likes"),
        ("median_half_life_days", F64, "median half-life, days"),
        ("evergreen_share", F64, "share of evergreen notes"),
        ("substantive_comment_share", F64, "share of substantive top-level comments"),
        ("est_cpe_cny", F64, "rate card price / median eng_30d"),
        ("followers", I64, "followers"),
        ("reasons", STR, "the metrics above in words, er_7d against the tier median"),
        ("tier_median_er_7d", F64, "median of median_er_7d over the day's creators of the tier"),
        ("affinity", F64, "brand_audience_affinity.affinity of the creator for this brand (null: no row there)"),
        ("search_appearances_30d", I64, "creator_scorecard: top-20 search results of D-29 .. D that are theirs"),
        ("sponsored_er_ratio", F64, "creator_scorecard: median er_7d of sponsored / of organic notes"),
        ("comment_sentiment", F64, "creator_scorecard: net sentiment ratio of their notes' top-level comments"),
    ),
    keys=("brand", "rank", "snapshot_date"),
    layer="marts",
)

BRAND_AUDIENCE_AFFINITY = TableSpec(
    "brand_audience_affinity",
    "Per brand x creator: the share of the creator's commenters (comments of D-89 .. D) who also commented on "
    "another author's note mentioning the brand; only where commenters_90d >= 20 and shared_commenters >= 1.",
    make_columns(
        SNAPSHOT,
        ("brand", STR, "brand (brands.csv)"),
        ("user_id", STR, "creator (the author of the commented notes)"),
        (
            "commenters_90d",
            I64,
            "distinct users who commented on the creator's notes in D-89 .. D, the creator excluded",
        ),
        (
            "shared_commenters",
            I64,
            "of them, those who in the same window commented on a note mentioning the brand by another author",
        ),
        ("affinity", F64, "shared_commenters / commenters_90d"),
        ("mentions_brand", BOOL, "the creator mentioned the brand in a note published in D-89 .. D"),
        ("tier", STR, "creator_scorecard's tier on D (null: not in the scorecard)"),
        ("primary_category", STR, "creator_scorecard's primary_category on D"),
        ("nickname", STR, "creator_scorecard's nickname on D"),
        ("rank_in_brand", I64, "1 = highest affinity for the brand that day (ties: more shared, then user_id)"),
    ),
    keys=("brand", "user_id", "snapshot_date"),
    layer="marts",
)

#: This layer's specs in registry order (kol_pipeline.lib.schemas registers them in this order).
SPECS: tuple[TableSpec, ...] = (
    CAMPAIGN_PERFORMANCE,
    KEYWORD_SHARE_OF_VOICE,
    BRAND_SEARCH_LIFT,
    BRAND_CREATOR_RELATIONSHIPS,
    TIER_COMPARISON,
    CREATOR_SHORTLIST,
    BRAND_AUDIENCE_AFFINITY,
)
