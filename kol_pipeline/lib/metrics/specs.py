"""The table specs of the metrics layer (note_metrics, creator_scorecard, tier_benchmarks; docs/metrics.md):
columns, keys, partitioning and layer. Registered in kol_pipeline.lib.schemas (the registry, lib/tables.py)."""

from __future__ import annotations

from kol_pipeline.lib.tables import (
    BOOL,
    DATE,
    F64,
    I64,
    SNAPSHOT,
    STR,
    STR_LIST,
    UTC_TS,
    TableSpec,
    make_columns,
)

NOTE_METRICS = TableSpec(
    "note_metrics",
    "Engagement curve and longevity per note observed on or before the day and published in the trailing 120 days.",
    make_columns(
        SNAPSHOT,
        ("note_id", STR, "note"),
        ("user_id", STR, "author"),
        ("published_date", DATE, "Asia/Shanghai date of published_at"),
        ("age_days", F64, "age in days at the latest observation on or before the day"),
        ("engagements", I64, "engagements at the latest observation"),
        ("likes", I64, "likes at the latest observation"),
        ("saves", I64, "saves at the latest observation"),
        ("comments", I64, "comments at the latest observation"),
        ("shares", I64, "shares at the latest observation"),
        ("followers", I64, "author's followers, latest creator snapshot on or before the day"),
        ("tier", STR, "author's tier from those followers"),
        ("category", STR, "note category"),
        ("brands", STR_LIST, "brands mentioned"),
        ("is_sponsored", BOOL, "in campaign_posts, or disclosed"),
        ("is_disclosed", BOOL, "carries a disclosure marker"),
        ("eng_2d", F64, "E(2): interpolated engagements at age 2 days"),
        ("eng_7d", F64, "E(7)"),
        ("eng_30d", F64, "E(30)"),
        ("eng_90d", F64, "E(90)"),
        ("er_7d", F64, "eng_7d / followers on the day the note reached age 7"),
        ("save_to_like", F64, "saves / likes at the latest observation"),
        ("share_after_48h", F64, "1 - eng_2d / eng_30d"),
        ("half_life_days", F64, "smallest t in [0, 30] with E(t) >= 0.5 eng_30d"),
        ("is_evergreen", BOOL, "(eng_90d - eng_30d) / eng_90d >= 0.25"),
        ("is_viral", BOOL, "engagements >= max(1000, 10 x author's trailing-90-day median)"),
        ("substantive_comment_share", F64, "share of its top-level comments seen so far that are substantive"),
        ("crawled_at", UTC_TS, "crawl time of the latest observation on or before the day"),
        (
            "comment_sentiment",
            F64,
            "net sentiment ratio (positive - negative) / (positive + negative) of its top-level comments seen so "
            "far (comments.sentiment); null when positive + negative < 3",
        ),
    ),
    keys=("note_id", "snapshot_date"),
    layer="metrics",
    summary=True,
)

CREATOR_SCORECARD = TableSpec(
    "creator_scorecard",
    "One row per creator seen in the trailing 90 days: reach, engagement, longevity, niche, authenticity, price.",
    make_columns(
        SNAPSHOT,
        ("user_id", STR, "creator"),
        ("nickname", STR, "nickname"),
        ("followers", I64, "followers, latest snapshot"),
        ("tier", STR, "tier"),
        ("follower_growth_30d", F64, "relative change against the snapshot 30 days earlier (within 3 days)"),
        ("notes_90d", I64, "notes published in the trailing 90 days"),
        ("primary_category", STR, "most frequent note category over 90 days"),
        ("niche_hhi", F64, "sum of squared category shares (1 = pure specialist)"),
        ("median_er_7d", F64, "median er_7d of the 90-day notes"),
        ("median_save_to_like", F64, "median save_to_like"),
        ("median_half_life_days", F64, "median half_life_days"),
        ("evergreen_share", F64, "share of notes with known eng_90d that are evergreen"),
        ("substantive_comment_share", F64, "share of top-level comments on their notes that are substantive"),
        ("est_cpe_cny", F64, "rate card image price / median eng_30d"),
        ("disclosure_rate", F64, "disclosed / sponsored notes"),
        ("authenticity_flags", STR_LIST, "low_er_for_tier, follower_spike, duplicate_comments, low_comment_to_like"),
        ("authenticity_score", F64, "0..1, 1 = no sign of inflation"),
        ("score", F64, "composite ranking score (docs/metrics.md)"),
        ("rank_in_tier_category", I64, "rank by score within tier x primary_category"),
        ("sponsored_notes_90d", I64, "90-day notes with is_sponsored"),
        ("organic_notes_90d", I64, "90-day notes without is_sponsored"),
        ("median_er_7d_sponsored", F64, "median er_7d of the sponsored 90-day notes (null when < 2 have one)"),
        ("median_er_7d_organic", F64, "median er_7d of the organic 90-day notes (null when < 2 have one)"),
        (
            "sponsored_er_ratio",
            F64,
            "median_er_7d_sponsored / median_er_7d_organic (null when either is null or organic is 0); below 1, "
            "the audience engages less with the paid posts",
        ),
        (
            "search_appearances_30d",
            I64,
            "top-20 search_rankings results of D-29 .. D whose note is the creator's (null: no ranking stored)",
        ),
        ("search_keywords_30d", STR_LIST, "the distinct keywords of those results, sorted"),
        ("median_desc_chars", F64, "median description length (Unicode code points) of the 90-day notes"),
        ("video_share", F64, "share of video notes among the 90-day notes with a known type"),
        ("median_tags", F64, "median tags per 90-day note"),
        (
            "er_7d_percentile",
            F64,
            "median_er_7d's percentile among creators of the same tier x primary_category (null when fewer than 5)",
        ),
        ("save_to_like_percentile", F64, "median_save_to_like's percentile, the same way"),
        (
            "comment_sentiment",
            F64,
            "net sentiment ratio (positive - negative) / (positive + negative) of the top-level comments on their "
            "notes with snapshot_date in D-89 .. D; null when positive + negative < 5",
        ),
    ),
    keys=("user_id", "snapshot_date"),
    layer="metrics",
    summary=True,
)

_BENCH_METRICS = ("er_7d", "save_to_like", "half_life_days", "est_cpe_cny")
TIER_BENCHMARKS = TableSpec(
    "tier_benchmarks",
    "Per tier x category (and category `all`): distribution of creator metrics and the cross-sectional longevity curve.",
    make_columns(
        SNAPSHOT,
        ("tier", STR, "tier"),
        ("category", STR, "category or all"),
        ("creators", I64, "creators in the cell"),
        *[
            (f"{m}_{q}", F64, f"{q} over creators of the creator's median {m}")
            for m in _BENCH_METRICS
            for q in ("p25", "median", "p75")
        ],
        ("curve_0_2d", F64, "median engagements/followers of notes aged 0-2 days"),
        ("curve_3_7d", F64, "... aged 3-7 days"),
        ("curve_8_30d", F64, "... aged 8-30 days"),
        ("curve_31_90d", F64, "... aged 31-90 days"),
        ("curve_91d_plus", F64, "... aged 91 days and more"),
    ),
    keys=("tier", "category", "snapshot_date"),
    layer="metrics",
    summary=True,
)

#: This layer's specs in registry order (kol_pipeline.lib.schemas registers them in this order).
SPECS: tuple[TableSpec, ...] = (
    NOTE_METRICS,
    CREATOR_SCORECARD,
    TIER_BENCHMARKS,
)
