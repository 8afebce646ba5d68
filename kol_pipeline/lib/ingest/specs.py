"""The table specs of the ingest layer (the cleaned daily tables notes, creators, comments, quarantine,
search_rankings) and of the brand layer (the unpartitioned brand and reference files and brand_quarantine): columns,
keys, partitioning, layer and source. Registered in kol_pipeline.lib.schemas (the registry, lib/tables.py)."""

from __future__ import annotations

from kol_pipeline.lib.tables import (
    BOOL,
    DATE,
    F64,
    I64,
    LANDING_CSV,
    MEDIACRAWLER,
    SNAPSHOT,
    STR,
    STR_LIST,
    UTC_TS,
    TableSpec,
    make_columns,
)

NOTES = TableSpec(
    "notes",
    "One row per (note_id, snapshot_date): the latest crawl of that day of a MediaCrawler note row.",
    make_columns(
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
    layer="ingest",
    source=MEDIACRAWLER,
    summary=True,
)

CREATORS = TableSpec(
    "creators",
    "One row per (user_id, snapshot_date): the latest crawl of that day of a MediaCrawler creator profile.",
    make_columns(
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
    layer="ingest",
    source=MEDIACRAWLER,
    summary=True,
)

COMMENTS = TableSpec(
    "comments",
    "One row per (comment_id, snapshot_date): MediaCrawler comment rows with their comment class.",
    make_columns(
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
        (
            "sentiment",
            STR,
            "positive|negative|neutral: a negative word, or a positive word directly after 不/没/别, makes it "
            'negative; else a positive word positive (word lists: lexicon.json "sentiment"; lib/ingest/sentiment.sql)',
        ),
        SNAPSHOT,
    ),
    keys=("comment_id", "snapshot_date"),
    layer="ingest",
    source=MEDIACRAWLER,
    summary=True,
)

QUARANTINE = TableSpec(
    "quarantine",
    "Every rejected input row (or unreadable file, record_number 0) with the reason.",
    make_columns(
        ("source", STR, "notes|comments|creators|search_rankings|campaign_posts|..."),
        ("source_file", STR, "landing file (relative path) or db:<table>"),
        ("record_number", I64, "1-based record number in the file (line for JSONL, data row for CSV); 0 = whole file"),
        ("reason", STR, "why it was rejected"),
        ("raw", STR, "the original record as JSON text"),
        SNAPSHOT,
    ),
    layer="ingest",
    summary=True,
)

BRAND_QUARANTINE = TableSpec(
    "brand_quarantine",
    "Rejected rows of the unpartitioned brand and reference files (brands, campaigns, campaign_posts, ...).",
    QUARANTINE.columns[:-1],
    partitioned=False,
    layer="brand",
)

SEARCH_RANKINGS = TableSpec(
    "search_rankings",
    "Ranked keyword search results, one row per keyword and result on the day (brand/search_rankings_YYYY-MM-DD.csv).",
    make_columns(
        ("keyword", STR, "search keyword"),
        ("rank", I64, "1 = top result"),
        ("note_id", STR, "note listed at that rank"),
        ("source_file", STR, "landing file"),
        SNAPSHOT,
    ),
    keys=("keyword", "rank", "snapshot_date"),
    layer="ingest",
    source=LANDING_CSV,
    summary=True,
)

BRANDS = TableSpec(
    "brands",
    "Brands tracked (brand/brands.csv).",
    make_columns(
        ("brand", STR, "brand name"),
        ("aliases", STR_LIST, "other names, matched case-insensitively in title, desc and tags"),
        ("category", STR, "the brand's category"),
        ("control_keyword", STR, "a search term the brand's campaigns do not move (null if none)"),
    ),
    partitioned=False,
    keys=("brand",),
    layer="brand",
    source=LANDING_CSV,
)

CAMPAIGNS = TableSpec(
    "campaigns",
    "One row per campaign (brand/campaigns.csv).",
    make_columns(
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
    layer="brand",
    source=LANDING_CSV,
)

CAMPAIGN_POSTS = TableSpec(
    "campaign_posts",
    "Sponsored notes of each campaign with their fee (brand/campaign_posts.csv).",
    make_columns(
        ("campaign_id", STR, "campaign id"),
        ("note_id", STR, "sponsored note"),
        ("user_id", STR, "creator paid"),
        ("fee_cny", F64, "fee paid in CNY (¥ and thousands separators removed)"),
        ("posted_date", DATE, "day the note was posted"),
    ),
    partitioned=False,
    keys=("campaign_id", "note_id"),
    layer="brand",
    source=LANDING_CSV,
)

SEARCH_INDEX = TableSpec(
    "search_index",
    "Daily search volume per keyword (brand/search_index.csv).",
    make_columns(("date", DATE, "day"), ("keyword", STR, "keyword"), ("search_index", F64, "search volume index")),
    partitioned=False,
    keys=("date", "keyword"),
    layer="brand",
    source=LANDING_CSV,
)

RATE_CARD = TableSpec(
    "rate_card",
    "Quoted price of one sponsored note per creator (brand/rate_card.csv, optional).",
    make_columns(
        ("user_id", STR, "creator"),
        ("image_price_cny", F64, "price of one image note, CNY"),
        ("video_price_cny", F64, "price of one video note, CNY"),
    ),
    partitioned=False,
    keys=("user_id",),
    layer="brand",
    source=LANDING_CSV,
)

STORE_TRAFFIC = TableSpec(
    "store_traffic",
    "Daily visits to a brand's in-platform store (brand/store_traffic.csv, optional).",
    make_columns(("date", DATE, "day"), ("brand", STR, "brand"), ("store_visits", F64, "visits")),
    partitioned=False,
    keys=("date", "brand"),
    layer="brand",
    source=LANDING_CSV,
)

CATEGORIES = TableSpec(
    "categories",
    "Keyword to category map (reference/categories.csv); category order = first appearance.",
    make_columns(("keyword", STR, "word matched in tags, title, desc"), ("category", STR, "category")),
    partitioned=False,
    layer="brand",
    source=LANDING_CSV,
)

#: This layer's specs in registry order (kol_pipeline.lib.schemas registers them in this order).
SPECS: tuple[TableSpec, ...] = (
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
    BRAND_QUARANTINE,
)
