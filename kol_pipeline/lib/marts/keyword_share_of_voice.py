"""keyword_share_of_voice by ``keyword_share_of_voice.sql`` (the formula and its decisions are there and in
docs/marts.md): every day of a run in one query over DuckDB relations of search_rankings (the run's days), notes
and creators (their trailing windows), with the brand tables typed as Arrow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts.campaign_performance import CREATOR_COLUMNS
from kol_pipeline.lib.marts.frames import as_input, day_list, result_frame, typed_table
from kol_pipeline.lib.schemas import KEYWORD_SHARE_OF_VOICE
from kol_pipeline.lib.settings import NOTE_WINDOW, MetricSettings

__all__ = ["NOTE_COLUMNS", "RANKING_COLUMNS", "SOV_TOP_N", "keyword_share_of_voice"]

SOV_TOP_N = 20  # the ranking's top results a keyword's share of voice counts (``top_n``)
#: the columns the query reads of each large input (``PartitionedInput.relation(con, columns=...)``)
RANKING_COLUMNS = ("keyword", "rank", "note_id")
NOTE_COLUMNS = ("note_id", "user_id", "brands", "crawled_at")


def keyword_share_of_voice(
    con: Any,
    search_rankings: Any,
    notes: Any,
    campaign_posts: pd.DataFrame,
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
    creators: Any,
    snapshot_dates: Sequence[Any],
    settings: MetricSettings = MetricSettings(),
    top_n: int = SOV_TOP_N,
    window_days: int = NOTE_WINDOW,
) -> pd.DataFrame:
    """Per keyword ranked on D x brand, for each day D of ``snapshot_dates``, in one query on ``con``
    (lib/duck.connect). ``search_rankings`` (the run's days), ``notes`` and ``creators`` (their windows): DuckDB
    relations with the *_COLUMNS and snapshot_date, or pandas frames of them (tests). Day D sees the crawls and
    creator snapshots of D - ``window_days`` .. D only (the asset's ``window_mapping(window_days)`` of a one-day
    run), so a ranged call gives each day the rows of a one-day call."""
    posts = typed_table(campaign_posts, "campaign_posts", ["campaign_id", "note_id", "user_id"])
    posts = posts.append_column("post_row", pa.array(np.arange(len(posts), dtype=np.int64)))
    inputs = {
        "search_rankings": as_input(search_rankings, "search_rankings", [*RANKING_COLUMNS, "snapshot_date"]),
        "notes": as_input(notes, "notes", [*NOTE_COLUMNS, "snapshot_date"]),
        "creators": as_input(creators, "creators", [*CREATOR_COLUMNS, "snapshot_date"]),
        "campaign_posts": posts,
        "campaigns": typed_table(campaigns, "campaigns", ["campaign_id", "brand"]),
        "brands": typed_table(brands, "brands", ["brand"]),
    }
    params = {
        "days": day_list(snapshot_dates),
        "top_n": int(top_n),
        "tier_bounds": [int(b) for b in settings.tier_bounds],
        "window_days": int(window_days),
    }
    out = duck.run_query(con, "keyword_share_of_voice", inputs, params)
    return result_frame(out, KEYWORD_SHARE_OF_VOICE)
