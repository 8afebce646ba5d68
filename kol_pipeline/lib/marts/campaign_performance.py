"""campaign_performance by ``campaign_performance.sql`` (the formula and its decisions are there and in
docs/marts.md): every day of a run in one query over DuckDB relations of note_metrics (the run's days), notes and
creators (their trailing windows), with the brand tables typed as Arrow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts.frames import as_input, day_list, result_frame, typed_table
from kol_pipeline.lib.schemas import CAMPAIGN_PERFORMANCE
from kol_pipeline.lib.settings import NOTE_WINDOW, MetricSettings

__all__ = [
    "CREATOR_COLUMNS",
    "DENSITY_MIN_CREATORS",
    "NOTE_COLUMNS",
    "NOTE_METRICS_COLUMNS",
    "campaign_keywords",
    "campaign_performance",
]

DENSITY_MIN_CREATORS = 15  # distinct creators an `all` row needs for density_ok (``min_creators``)
#: the columns the query reads of each large input (``PartitionedInput.relation(con, columns=...)``)
NOTE_METRICS_COLUMNS = (
    "note_id",
    "user_id",
    "published_date",
    "engagements",
    "saves",
    "eng_30d",
    "er_7d",
    "is_disclosed",
)
NOTE_COLUMNS = (
    "note_id",
    "user_id",
    "title",
    "description",
    "tags",
    "published_at",
    "crawled_at",
    "engagements",
    "saves",
    "is_disclosed",
)
CREATOR_COLUMNS = ("user_id", "followers", "tier", "crawled_at")


def campaign_keywords(campaigns: pd.DataFrame) -> pa.Table:
    """One row per (campaign_id, target keyword) of the campaigns (the list column `target_keywords`)."""
    ids, words = [], []
    for cid, kws in zip(campaigns["campaign_id"], campaigns["target_keywords"]):
        if isinstance(kws, (list, tuple, np.ndarray)):
            for k in kws:
                if k is not None and not (isinstance(k, float) and np.isnan(k)):
                    ids.append(None if cid is None else str(cid))
                    words.append(str(k))
    return pa.table({"campaign_id": pa.array(ids, pa.string()), "keyword": pa.array(words, pa.string())})


def campaign_performance(
    con: Any,
    campaigns: pd.DataFrame,
    campaign_posts: pd.DataFrame,
    note_metrics: Any,
    notes: Any,
    creators: Any,
    snapshot_dates: Sequence[Any],
    settings: MetricSettings = MetricSettings(),
    min_creators: int = DENSITY_MIN_CREATORS,
    window_days: int = NOTE_WINDOW,
) -> pd.DataFrame:
    """Per campaign x tier (plus tier ``all``) for each day of ``snapshot_dates``, as of that day, in one query on
    ``con`` (lib/duck.connect). ``note_metrics`` (the run's days), ``notes`` and ``creators`` (their windows):
    DuckDB relations with the *_COLUMNS above and snapshot_date, or pandas frames of them (tests). Day D sees the
    crawls and creator snapshots of D - ``window_days`` .. D only (the asset's ``window_mapping(window_days)`` of a
    one-day run), so a ranged call gives each day the rows of a one-day call."""
    posts = typed_table(
        campaign_posts, "campaign_posts", ["campaign_id", "note_id", "user_id", "fee_cny", "posted_date"]
    )
    posts = posts.append_column("post_row", pa.array(np.arange(len(posts), dtype=np.int64)))
    inputs = {
        "campaigns": typed_table(campaigns, "campaigns", ["campaign_id", "brand", "phase", "start_date"]),
        "campaign_keywords": campaign_keywords(campaigns),
        "campaign_posts": posts,
        "note_metrics": as_input(note_metrics, "note_metrics", [*NOTE_METRICS_COLUMNS, "snapshot_date"]),
        "notes": as_input(notes, "notes", [*NOTE_COLUMNS, "snapshot_date"]),
        "creators": as_input(creators, "creators", [*CREATOR_COLUMNS, "snapshot_date"]),
    }
    params = {
        "days": day_list(snapshot_dates),
        "tier_bounds": [int(b) for b in settings.tier_bounds],
        "min_creators": int(min_creators),
        "window_days": int(window_days),
    }
    out = duck.run_query(con, "campaign_performance", inputs, params)
    return result_frame(out, CAMPAIGN_PERFORMANCE)
