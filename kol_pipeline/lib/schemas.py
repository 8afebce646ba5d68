"""Column schemas of every warehouse table: the single source for Parquet types, the Dagster column
schema metadata, empty partitions and the generated data dictionary (docs/tables.md).

Names, types and meanings follow ../shared/CONTRACT.md section 3; extra columns are documented here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
I64 = pa.int64()
F64 = pa.float64()
BOOL = pa.bool_()
DATE = pa.date32()
STR_LIST = pa.list_(pa.string())

TIERS: tuple[str, ...] = ("nano", "micro", "mid", "macro", "top")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    partitioned: bool = True
    keys: tuple[str, ...] = field(default_factory=tuple)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def empty_frame(self) -> pd.DataFrame:
        return self.schema.empty_table().to_pandas()


def _cols(*items: tuple[str, pa.DataType, str]) -> tuple[Column, ...]:
    return tuple(Column(n, t, d) for n, t, d in items)


SNAPSHOT = ("snapshot_date", DATE, "Asia/Shanghai calendar day of the crawl (the partition)")

NOTES = TableSpec(
    "notes",
    "One row per (note_id, snapshot_date): the latest crawl of that day of a MediaCrawler note row.",
    _cols(
        ("note_id", STR, "XHS note id"),
        ("user_id", STR, "author's user id"),
        ("nickname", STR, "author's nickname at crawl time"),
        ("note_type", STR, "normal (image) or video"),
        ("title", STR, "note title"),
        ("description", STR, "note body text (MediaCrawler `desc`)"),
        ("tags", STR_LIST, "topic tags, parsed from the comma-joined tag_list"),
        ("published_at", UTC_TS, "publish time (MediaCrawler `time`), UTC"),
        ("crawled_at", UTC_TS, "crawl time (MediaCrawler `last_modify_ts`), UTC"),
        ("likes", I64, "liked_count, abbreviations such as 1.1万 expanded"),
        ("saves", I64, "collected_count (收藏)"),
        ("comments", I64, "comment_count"),
        ("shares", I64, "share_count"),
        ("engagements", I64, "likes + saves + comments + shares"),
        ("category", STR, "category from reference/categories.csv (tag 3, title 2, desc 1 per keyword), null if none"),
        ("brands", STR_LIST, "brands (brand/brands.csv) whose name or alias appears in title, desc or tags"),
        ("is_disclosed", BOOL, "text carries a disclosure marker (#广告, 赞助, 品牌合作, #ad, ...)"),
        ("source_file", STR, "landing file (relative path) or db:<table> the row came from"),
        SNAPSHOT,
    ),
    keys=("note_id", "snapshot_date"),
)

CREATORS = TableSpec(
    "creators",
    "One row per (user_id, snapshot_date): the latest crawl of that day of a MediaCrawler creator profile.",
    _cols(
        ("user_id", STR, "XHS user id"),
        ("nickname", STR, "nickname"),
        ("gender", STR, "gender as crawled"),
        ("followers", I64, "fans"),
        ("following", I64, "follows"),
        ("likes_and_saves_total", I64, "interaction: likes and saves received over the account's life"),
        ("tier", STR, "nano < 10k <= micro < 100k <= mid < 500k <= macro < 1M <= top (configurable)"),
        ("crawled_at", UTC_TS, "crawl time (last_modify_ts), UTC"),
        ("source_file", STR, "landing file or db:<table>"),
        SNAPSHOT,
    ),
    keys=("user_id", "snapshot_date"),
)

COMMENTS = TableSpec(
    "comments",
    "One row per (comment_id, snapshot_date): MediaCrawler comment rows with their comment class.",
    _cols(
        ("comment_id", STR, "comment id"),
        ("note_id", STR, "note commented on"),
        ("user_id", STR, "commenter's user id"),
        ("parent_comment_id", STR, "parent comment id; null for a top-level comment"),
        ("content", STR, "comment text as crawled"),
        ("created_at", UTC_TS, "comment time (create_time), UTC"),
        ("like_count", I64, "likes on the comment"),
        ("sub_comment_count", I64, "replies to the comment"),
        ("comment_class", STR, "purchase_intent|question|tag_friend|experience|low_effort|other"),
        ("is_substantive", BOOL, "comment_class != low_effort"),
        ("crawled_at", UTC_TS, "crawl time (last_modify_ts), UTC"),
        ("source_file", STR, "landing file or db:<table>"),
        SNAPSHOT,
    ),
    keys=("comment_id", "snapshot_date"),
)

QUARANTINE = TableSpec(
    "quarantine",
    "Every rejected input row (or unreadable file, record_number 0) with the reason.",
    _cols(
        ("source", STR, "notes|comments|creators|search_rankings|campaign_posts|..."),
        ("source_file", STR, "landing file (relative path) or db:<table>"),
        ("record_number", I64, "1-based record number in the file (line for JSONL, data row for CSV); 0 = whole file"),
        ("reason", STR, "why it was rejected"),
        ("raw", STR, "the original record as JSON text"),
        SNAPSHOT,
    ),
)

SEARCH_RANKINGS = TableSpec(
    "search_rankings",
    "Ranked keyword search results, one row per keyword and result on the day (brand/search_rankings_YYYY-MM-DD.csv).",
    _cols(
        ("keyword", STR, "search keyword"),
        ("rank", I64, "1 = top result"),
        ("note_id", STR, "note listed at that rank"),
        ("source_file", STR, "landing file"),
        SNAPSHOT,
    ),
    keys=("keyword", "rank", "snapshot_date"),
)

BRANDS = TableSpec(
    "brands",
    "Brands tracked (brand/brands.csv).",
    _cols(
        ("brand", STR, "brand name"),
        ("aliases", STR_LIST, "other names, matched case-insensitively in title, desc and tags"),
        ("category", STR, "the brand's category"),
        ("control_keyword", STR, "a search term the brand's campaigns do not move (null if none)"),
    ),
    partitioned=False,
    keys=("brand",),
)

CAMPAIGNS = TableSpec(
    "campaigns",
    "One row per campaign (brand/campaigns.csv).",
    _cols(
        ("campaign_id", STR, "campaign id"),
        ("brand", STR, "brand"),
        ("phase", STR, "launch, sustain, festival, ..."),
        ("start_date", DATE, "first day"),
        ("end_date", DATE, "last day"),
        ("target_keywords", STR_LIST, "keywords the campaign targets"),
        ("budget_cny", F64, "budget in CNY"),
    ),
    partitioned=False,
    keys=("campaign_id",),
)

CAMPAIGN_POSTS = TableSpec(
    "campaign_posts",
    "Sponsored notes of each campaign with their fee (brand/campaign_posts.csv).",
    _cols(
        ("campaign_id", STR, "campaign id"),
        ("note_id", STR, "sponsored note"),
        ("user_id", STR, "creator paid"),
        ("fee_cny", F64, "fee paid in CNY (¥ and thousands separators removed)"),
        ("posted_date", DATE, "day the note was posted"),
        ("note_known", BOOL, "the note appears in the crawled notes"),
    ),
    partitioned=False,
    keys=("campaign_id", "note_id"),
)

SEARCH_INDEX = TableSpec(
    "search_index",
    "Daily search volume per keyword (brand/search_index.csv).",
    _cols(("date", DATE, "day"), ("keyword", STR, "keyword"), ("search_index", F64, "search volume index")),
    partitioned=False,
    keys=("date", "keyword"),
)

RATE_CARD = TableSpec(
    "rate_card",
    "Quoted price of one sponsored note per creator (brand/rate_card.csv, optional).",
    _cols(
        ("user_id", STR, "creator"),
        ("image_price_cny", F64, "price of one image note, CNY"),
        ("video_price_cny", F64, "price of one video note, CNY"),
    ),
    partitioned=False,
    keys=("user_id",),
)

STORE_TRAFFIC = TableSpec(
    "store_traffic",
    "Daily visits to a brand's in-platform store (brand/store_traffic.csv, optional).",
    _cols(("date", DATE, "day"), ("brand", STR, "brand"), ("store_visits", F64, "visits")),
    partitioned=False,
    keys=("date", "brand"),
)

CATEGORIES = TableSpec(
    "categories",
    "Keyword to category map (reference/categories.csv); category order = first appearance.",
    _cols(("keyword", STR, "word matched in tags, title, desc"), ("category", STR, "category")),
    partitioned=False,
)

NOTE_METRICS = TableSpec(
    "note_metrics",
    "Engagement curve and longevity per note observed on or before the day and published in the trailing 120 days.",
    _cols(
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
    ),
    keys=("note_id", "snapshot_date"),
)

CREATOR_SCORECARD = TableSpec(
    "creator_scorecard",
    "One row per creator seen in the trailing 90 days: reach, engagement, longevity, niche, authenticity, price.",
    _cols(
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
    ),
    keys=("user_id", "snapshot_date"),
)

_BENCH_METRICS = ("er_7d", "save_to_like", "half_life_days", "est_cpe_cny")
TIER_BENCHMARKS = TableSpec(
    "tier_benchmarks",
    "Per tier x category (and category `all`): distribution of creator metrics and the cross-sectional longevity curve.",
    _cols(
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
)

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        NOTES,
        CREATORS,
        COMMENTS,
        QUARANTINE,
        SEARCH_RANKINGS,
        BRANDS,
        CAMPAIGNS,
        CAMPAIGN_POSTS,
        SEARCH_INDEX,
        RATE_CARD,
        STORE_TRAFFIC,
        CATEGORIES,
        NOTE_METRICS,
        CREATOR_SCORECARD,
        TIER_BENCHMARKS,
    )
}


def register(spec: TableSpec) -> TableSpec:
    """Add a table spec defined elsewhere (marts) to the registry."""
    TABLES[spec.name] = spec
    return spec


def conform(df: pd.DataFrame, spec: TableSpec) -> pa.Table:
    """Order and cast a frame to the table's schema (extra columns are kept at the end)."""
    missing = [c for c in spec.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"{spec.name}: missing columns {missing}")
    extra = [c for c in df.columns if c not in spec.column_names]
    ordered = df[spec.column_names + extra]
    table = pa.Table.from_pandas(ordered, preserve_index=False)
    fields = [pa.field(c.name, c.type) for c in spec.columns] + [table.schema.field(n) for n in extra]
    return table.cast(pa.schema(fields))
