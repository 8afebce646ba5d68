"""The validation suites, as data: the constructors of the usual expectations (unique key, not null, in range, in
a set, column A >= column B, equal columns), the helper columns computed before validation for GX to compare
(engagements' parts summed, the expected ``is_substantive``, the tier from followers), the suite of every cleaned and
brand table (``SUITES``, docs/validation.md lists them) and :func:`register_suite` to add or replace one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from kol_pipeline.lib.quality.expectations import BLOCKING, WARN, ExpectationDef, Severity, ValidationSettings
from kol_pipeline.lib.quality.gx_runner import forget_suites
from kol_pipeline.lib.schemas import TIERS, input_tables
from kol_pipeline.lib.settings import tier_of

COMMENT_CLASSES: tuple[str, ...] = ("purchase_intent", "question", "tag_friend", "experience", "low_effort", "other")
NOTE_TYPES: tuple[str, ...] = ("normal", "video")
#: a rejected row's source: a table read from an input (MediaCrawler kinds, landing CSVs)
QUARANTINE_SOURCES: tuple[str, ...] = input_tables()


# --------------------------------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------------------------------


def _unique(cols: Sequence[str], severity: Severity = BLOCKING, what: str = "the table key") -> ExpectationDef:
    cols = list(cols)
    if len(cols) == 1:
        return ExpectationDef(
            f"unique_{cols[0]}",
            "expect_column_values_to_be_unique",
            {"column": cols[0]},
            severity,
            f"{cols[0]} is unique ({what})",
        )
    return ExpectationDef(
        "unique_" + "_".join(cols),
        "expect_compound_columns_to_be_unique",
        {"column_list": cols},
        severity,
        f"({', '.join(cols)}) is unique ({what})",
    )


def _not_null(col: str, severity: Severity = BLOCKING, why: str = "key") -> ExpectationDef:
    return ExpectationDef(
        f"{col}_not_null",
        "expect_column_values_to_not_be_null",
        {"column": col},
        severity,
        f"{col} is not null ({why})",
    )


def _between(
    col: str, lo: float | None = 0, hi: float | None = None, severity: Severity = WARN, name: str | None = None
) -> ExpectationDef:
    kwargs: dict[str, Any] = {"column": col}
    if lo is not None:
        kwargs["min_value"] = lo
    if hi is not None:
        kwargs["max_value"] = hi
    if name is None:
        name = f"{col}_non_negative" if (lo == 0 and hi is None) else f"{col}_in_range"
    rng = f">= {lo}" if hi is None else (f"<= {hi}" if lo is None else f"in [{lo}, {hi}]")
    return ExpectationDef(name, "expect_column_values_to_be_between", kwargs, severity, f"{col} {rng} (nulls ignored)")


def _in_set(
    col: str, values: Sequence[str] | None, name: str, description: str, param: str | None = None
) -> ExpectationDef:
    kwargs: dict[str, Any] = {"column": col}
    if values is not None:
        kwargs["value_set"] = list(values)
    return ExpectationDef(name, "expect_column_values_to_be_in_set", kwargs, WARN, description, param=param)


def _a_ge_b(a: str, b: str, name: str, description: str, severity: Severity = WARN) -> ExpectationDef:
    return ExpectationDef(
        name,
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
        severity,
        description,
    )


def _equal(a: str, b: str, name: str, description: str, severity: Severity = WARN) -> ExpectationDef:
    return ExpectationDef(
        name,
        "expect_column_pair_values_to_be_equal",
        {"column_A": a, "column_B": b, "ignore_row_if": "either_value_is_missing"},
        severity,
        description,
    )


def _category_in_list(col: str = "category") -> ExpectationDef:
    return _in_set(
        col,
        None,
        "category_in_categories",
        f"{col} is one of the categories of reference/categories.csv (a new value warns; null allowed); "
        "skipped when no category list is given",
        param="allowed_categories",
    )


# Helper columns computed before validation (name -> function of the frame and the settings). GX compares them.
_PARTS_SUM = "_likes_saves_comments_shares"
_EXPECTED_SUBSTANTIVE = "_comment_class_not_low_effort"
_TIER_FROM_FOLLOWERS = "_tier_from_followers"

HelperFn = Callable[[pd.DataFrame, ValidationSettings], pd.Series]


def _parts_sum(df: pd.DataFrame, _: ValidationSettings) -> pd.Series:
    parts = [pd.to_numeric(df[c], errors="coerce").astype("Float64") for c in ("likes", "saves", "comments", "shares")]
    return (parts[0] + parts[1] + parts[2] + parts[3]).astype("Int64")


def _expected_substantive(df: pd.DataFrame, _: ValidationSettings) -> pd.Series:
    cls = df["comment_class"].astype("string")
    return (cls != "low_effort").astype("boolean")


def _tier_from_followers(df: pd.DataFrame, settings: ValidationSettings) -> pd.Series:
    return tier_of(df["followers"], settings.tier_bounds)


HELPERS: dict[str, dict[str, tuple[tuple[str, ...], HelperFn]]] = {
    "notes": {_PARTS_SUM: (("likes", "saves", "comments", "shares"), _parts_sum)},
    "comments": {_EXPECTED_SUBSTANTIVE: (("comment_class",), _expected_substantive)},
    "creators": {_TIER_FROM_FOLLOWERS: (("followers",), _tier_from_followers)},
}

SUITES: dict[str, tuple[ExpectationDef, ...]] = {
    "notes": (
        _unique(["note_id", "snapshot_date"]),
        _not_null("note_id"),
        _not_null("snapshot_date"),
        _not_null("user_id", WARN, "a note without author cannot be scored"),
        *[_between(c) for c in ("likes", "saves", "comments", "shares", "engagements")],
        _equal("engagements", _PARTS_SUM, "engagements_equals_sum", "engagements = likes + saves + comments + shares"),
        _in_set("note_type", NOTE_TYPES, "note_type_allowed", "note_type is normal or video (null allowed)"),
        _category_in_list(),
        _a_ge_b("crawled_at", "published_at", "published_before_crawled", "published_at <= crawled_at"),
    ),
    "creators": (
        _unique(["user_id", "snapshot_date"]),
        _not_null("user_id"),
        _not_null("snapshot_date"),
        *[_between(c) for c in ("followers", "following", "likes_and_saves_total")],
        _in_set("tier", TIERS, "tier_allowed", "tier is nano|micro|mid|macro|top (null allowed)"),
        _equal(
            "tier", _TIER_FROM_FOLLOWERS, "tier_matches_followers", "tier = tier_of(followers) with the tier bounds"
        ),
    ),
    "comments": (
        _unique(["comment_id", "snapshot_date"]),
        _not_null("comment_id"),
        _not_null("snapshot_date"),
        _not_null("note_id", WARN, "a comment belongs to a note"),
        _between("like_count"),
        _between("sub_comment_count"),
        _in_set("comment_class", COMMENT_CLASSES, "comment_class_allowed", "comment_class is one of the six classes"),
        _not_null("comment_class", WARN, "every comment is classified"),
        _equal(
            "is_substantive",
            _EXPECTED_SUBSTANTIVE,
            "is_substantive_consistent",
            "is_substantive = (comment_class != low_effort)",
        ),
        _a_ge_b("crawled_at", "created_at", "created_before_crawled", "created_at <= crawled_at"),
    ),
    "quarantine": (
        _not_null("source", BLOCKING, "every rejected row names its source"),
        _not_null("reason", BLOCKING, "every rejected row says why"),
        _not_null("snapshot_date"),
        _in_set("source", QUARANTINE_SOURCES, "source_allowed", "source is a known input table"),
        _between("record_number", name="record_number_non_negative"),
        _not_null("source_file", WARN, "the file it came from"),
    ),
    "brand_quarantine": (  # rejected rows of the unpartitioned brand/reference files (no snapshot_date)
        _not_null("source", BLOCKING, "every rejected row names its source"),
        _not_null("reason", BLOCKING, "every rejected row says why"),
        _in_set("source", QUARANTINE_SOURCES, "source_allowed", "source is a known input table"),
        _between("record_number", name="record_number_non_negative"),
        _not_null("source_file", WARN, "the file it came from"),
    ),
    "search_rankings": (
        # a result page may list two notes at one rank (ties in scraped data): kept and counted, but worth a look
        _unique(["keyword", "rank", "note_id", "snapshot_date"]),
        _unique(["keyword", "rank", "snapshot_date"], WARN, "no tied ranks"),
        _not_null("keyword"),
        _not_null("rank"),
        _not_null("snapshot_date"),
        _not_null("note_id", WARN, "a ranked result is a note"),
        _between("rank", 1, name="rank_at_least_1"),
    ),
    "brands": (
        _unique(["brand"]),
        _not_null("brand"),
        _not_null("category", WARN, "a brand has a category"),
        _category_in_list(),
    ),
    "campaigns": (
        _unique(["campaign_id"]),
        _not_null("campaign_id"),
        _not_null("brand", WARN, "a campaign belongs to a brand"),
        _not_null("start_date", WARN, "needed for the search lift"),
        _a_ge_b("end_date", "start_date", "start_before_end", "start_date <= end_date"),
        _between("budget_cny"),
    ),
    "campaign_posts": (
        _unique(["campaign_id", "note_id"]),
        _not_null("campaign_id"),
        _not_null("note_id"),
        _not_null("user_id", WARN, "the creator paid"),
        _between("fee_cny"),
    ),
    "search_index": (
        _unique(["date", "keyword"]),
        _not_null("date"),
        _not_null("keyword"),
        _between("search_index"),
    ),
    "rate_card": (
        _unique(["user_id"]),
        _not_null("user_id"),
        _between("image_price_cny"),
        _between("video_price_cny"),
    ),
    "store_traffic": (
        _unique(["date", "brand"]),
        _not_null("date"),
        _not_null("brand"),
        _between("store_visits"),
    ),
}


def register_suite(
    table: str,
    expectations: Sequence[ExpectationDef],
    helpers: Mapping[str, tuple[tuple[str, ...], HelperFn]] | None = None,
) -> None:
    """Add or replace the suite of a table (e.g. a mart); clears the cached GX suites of that table."""
    SUITES[table] = tuple(expectations)
    if helpers is not None:
        HELPERS[table] = dict(helpers)
    forget_suites(table)
