"""brand_creator_relationships by ``brand_creator_relationships.sql`` (the formula is there; docs/marts.md): the
glue that types the small brand tables as Arrow and runs every day of a run in one query over the notes' trailing
window. Its invariants are ``checks.check_brand_creator_relationships``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts.frames import finalize, to_day
from kol_pipeline.lib.schemas import BRAND_CREATOR_RELATIONSHIPS, NOTES

__all__ = ["RELATIONSHIP_NOTE_COLUMNS", "RELATIONSHIP_WINDOW_DAYS", "brand_creator_relationships"]

RELATIONSHIP_WINDOW_DAYS = 180  # the trailing days of crawls a day's relationships count
#: the notes columns the query reads (PartitionedInput.relation(con, columns=...))
RELATIONSHIP_NOTE_COLUMNS = ("note_id", "user_id", "brands", "published_at", "is_disclosed", "crawled_at")


def _text_array(values: Any) -> pa.Array:
    return pa.array(
        [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values], type=pa.string()
    )


def _relationship_inputs(
    notes: Any, campaign_posts: pd.DataFrame, campaigns: pd.DataFrame, brands: pd.DataFrame
) -> dict[str, Any]:
    """The query's inputs: the notes relation as given (a pandas frame is typed as the notes table), the small
    brand frames as typed Arrow tables."""
    if isinstance(notes, pd.DataFrame):
        cols = [*RELATIONSHIP_NOTE_COLUMNS, "snapshot_date"]
        schema = pa.schema([NOTES.schema.field(c) for c in cols])
        frame = notes.reindex(columns=cols)
        frame["snapshot_date"] = to_day(frame["snapshot_date"]).dt.date if len(frame) else frame["snapshot_date"]
        notes = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    posted = to_day(campaign_posts["posted_date"]) if len(campaign_posts) else pd.Series([], dtype="datetime64[ns]")
    return {
        "notes": notes,
        "campaign_posts": pa.table(
            {
                "campaign_id": _text_array(campaign_posts["campaign_id"]),
                "note_id": _text_array(campaign_posts["note_id"]),
                "user_id": _text_array(campaign_posts["user_id"]),
                "posted_date": pa.array([d.date() if pd.notna(d) else None for d in posted], type=pa.date32()),
            }
        ),
        "campaigns": pa.table(
            {"campaign_id": _text_array(campaigns["campaign_id"]), "brand": _text_array(campaigns["brand"])}
        ),
        "brands": pa.table({"brand": _text_array(brands["brand"])}),
    }


def brand_creator_relationships(
    con: Any,
    notes: Any,
    campaign_posts: pd.DataFrame,
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
    snapshot_dates: Sequence[dt.date],
    window_days: int = RELATIONSHIP_WINDOW_DAYS,
) -> pd.DataFrame:
    """The mart by ``lib/marts/brand_creator_relationships.sql`` (the formula is there), every day of
    ``snapshot_dates`` in one query on ``con`` (lib/duck.connect). ``notes``: the crawls of the window, a
    DuckDB relation with RELATIONSHIP_NOTE_COLUMNS and snapshot_date (``PartitionedInput.relation``), or a
    pandas frame of them (tests)."""
    days = sorted({pd.Timestamp(d).date() for d in snapshot_dates})
    inputs = _relationship_inputs(notes, campaign_posts, campaigns, brands)
    out = duck.run_query(con, "brand_creator_relationships", inputs, {"days": days, "window_days": int(window_days)})
    return finalize(out.to_pandas(), BRAND_CREATOR_RELATIONSHIPS)
