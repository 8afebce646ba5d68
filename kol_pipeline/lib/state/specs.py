"""The table specs of the incremental metrics state (note_state, creator_state, comment_state; lib/state/days.py,
docs/metrics.md "Incremental state") and the Arrow types only the states use. Registered in kol_pipeline.lib.schemas
(the registry, lib/tables.py)."""

from __future__ import annotations

import pyarrow as pa

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

F64_LIST = pa.list_(pa.float64())
# state day columns: midnight of an Asia/Shanghai day as a naive timestamp (reads back as datetime64, no per-row
# python date objects: the states are read whole every day)
DAY_TS = pa.timestamp("ms")
DAY_NO = pa.int32()  # a day as days since 1970-01-01 (comment_state: 4 bytes instead of a timestamp's 8)
FLAG = pa.int8()  # a 0/1 (or -1 = null) flag (comment_state: 1 byte instead of a float's 8)
NOTE_STATE = TableSpec(
    "note_state",
    "Per day: one row per note published in the trailing 120 days or observed in the trailing 92 days, with what "
    "note_metrics and the tier_benchmarks curve need as of the day (computed from the previous day's state).",
    make_columns(
        SNAPSHOT,
        ("note_id", STR, "note"),
        ("user_id", STR, "author at the latest observation"),
        ("published_at", UTC_TS, "publish time, the first one observed"),
        ("pub_day", DAY_TS, "Asia/Shanghai date of published_at"),
        ("first_sd", DAY_TS, "snapshot day of the first observation"),
        ("last_sd", DAY_TS, "snapshot day of the latest observation"),
        ("crawled_at", UTC_TS, "crawl time of the latest observation"),
        ("age_days", F64, "age in days at the latest observation"),
        ("likes", I64, "likes at the latest observation"),
        ("saves", I64, "saves at the latest observation"),
        ("comments", I64, "comments at the latest observation"),
        ("shares", I64, "shares at the latest observation"),
        ("engagements", I64, "engagements at the latest observation"),
        ("category", STR, "category at the latest observation"),
        ("brands", STR_LIST, "brands at the latest observation"),
        ("is_disclosed", BOOL, "disclosure at the latest observation"),
        ("c_age", F64, "age of the last point of the running-maximum curve (0 = the publish anchor only)"),
        ("c_E", F64, "running-maximum engagements at that point"),
        *[
            item
            for h in ("2", "7", "30", "90")
            for item in (
                (f"eng_{h}d", F64, f"E({h}) once decided (null when the gap rule fails or not decided yet)"),
                (
                    f"eng_{h}d_sd",
                    DAY_TS,
                    f"snapshot day the observation at or above age {h} was crawled (null if E({h}) is null)",
                ),
                (f"eng_{h}d_done", BOOL, f"an observation at or above age {h} has been crawled: E({h}) is final"),
            )
        ],
        ("half_life_days", F64, "half-life, set when eng_30d is decided"),
        ("curve_age", F64_LIST, "curve point ages up to the first at or above 30 days, while eng_30d is undecided"),
        ("curve_E", F64_LIST, "running-maximum engagements at those points"),
        ("desc_chars", I64, "Unicode code points of the description at the latest observation (creator_scorecard)"),
        ("note_type", STR, "normal (image) or video at the latest observation"),
        ("tag_count", I64, "number of tags at the latest observation"),
    ),
    keys=("note_id", "snapshot_date"),
    layer="state",
)

CREATOR_STATE = TableSpec(
    "creator_state",
    "Per day: one row per creator with a snapshot in the trailing 125 days: followers by day (the input of every "
    "creator look-up of the metrics).",
    make_columns(
        SNAPSHOT,
        ("user_id", STR, "creator"),
        ("nickname", STR, "nickname of the latest snapshot"),
        ("latest_sd", DAY_TS, "day of the latest snapshot"),
        (
            "followers_by_day",
            F64_LIST,
            "125 values: element i = followers of the snapshot of day D - i (NaN: no "
            "snapshot that day; -1: a snapshot with a null follower count)",
        ),
    ),
    keys=("user_id", "snapshot_date"),
    arrow_lists=("followers_by_day",),
    layer="state",
)

COMMENT_STATE = TableSpec(
    "comment_state",
    "Per day: the comments seen that day with their state (a delta), or, in a base partition, every comment seen "
    "in the trailing 122 days; keyed by the real comment ids (lib/state/comment_state.sql).",
    make_columns(
        SNAPSHOT,
        ("comment_id", STR, "XHS comment id"),
        ("note_id", STR, "note_id of its first snapshot (the note it was first seen on)"),
        ("first_sd", DATE, "first snapshot day of this life of the comment"),
        ("last_sd", DATE, "latest snapshot day"),
        (
            "norm_text",
            STR,
            "normalized text of the first snapshot (lib/ingest/comment_text.sql comment_norm_text); null when empty",
        ),
        ("top_first", BOOL, "the first snapshot is top-level with a known is_substantive"),
        ("top_sub_first", BOOL, "the first snapshot is top-level and substantive"),
        ("lt_note_id", STR, "note_id of its latest top-level snapshot; null: never seen top-level"),
        ("lt_sub", BOOL, "is_substantive of that snapshot (null: unknown, or never top-level)"),
        (
            "lt_sent",
            STR,
            "sentiment of that snapshot (positive|negative|neutral, lib/ingest/sentiment.sql); null: never "
            "top-level, or stored before the column existed",
        ),
        (
            "base",
            BOOL,
            "true in a base partition (the whole state of its day), false in a delta (the comments seen that "
            "day); the state of a day is the view over the trailing 122 partitions from the latest base on "
            "(lib/state/comment_view.sql)",
        ),
    ),
    keys=("comment_id", "snapshot_date"),
    layer="state",
)

#: This layer's specs in registry order (kol_pipeline.lib.schemas registers them in this order).
SPECS: tuple[TableSpec, ...] = (
    NOTE_STATE,
    CREATOR_STATE,
    COMMENT_STATE,
)
