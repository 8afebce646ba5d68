"""tier_benchmarks by SQL (``tier_benchmarks.sql`` beside this file is the formula): the inputs typed, the query
run on a bounded DuckDB connection (lib/duck.py), the result as the table's frame (TIER_BENCHMARKS' columns and
nullable dtypes, as the pandas implementation gave them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from kol_pipeline.lib import duck
from kol_pipeline.lib.metrics.note_metrics import to_frame
from kol_pipeline.lib.schemas import TIER_BENCHMARKS
from kol_pipeline.lib.settings import MetricSettings

__all__ = ["SCORECARD_COLUMNS", "NOTE_STATE_COLUMNS", "CREATOR_STATE_COLUMNS", "tier_benchmarks"]

CURVE_CREATOR_LOOKBACK = 91  # the curve's followers: the latest creator snapshot of D-91 .. D
SCORECARD_COLUMNS = [
    "user_id",
    "tier",
    "primary_category",
    "median_er_7d",
    "median_save_to_like",
    "median_half_life_days",
    "est_cpe_cny",
]
NOTE_STATE_COLUMNS = ["user_id", "last_sd", "age_days", "engagements", "category"]  # not the curve lists
CREATOR_STATE_COLUMNS = ["user_id", "followers_by_day"]


def tier_benchmarks(
    con: Any,
    creator_scorecard: Any,
    note_state: Any,
    creator_state: Any,
    snapshot_dates: Sequence[Any],
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """tier_benchmarks of every day of ``snapshot_dates`` in one query on ``con`` (lib/duck.connect). Each input
    holds those days (snapshot_date and the columns above): a DuckDB relation (``PartitionedInput.relation``) or
    a frame."""
    params = {
        "days": sorted({pd.Timestamp(d).date() for d in snapshot_dates}),
        "curve_window_days": int(settings.curve_window_days),
        "creator_lookback": CURVE_CREATOR_LOOKBACK,
        "tier_bounds": [float(b) for b in settings.tier_bounds],
    }
    inputs = {"creator_scorecard": creator_scorecard, "note_state": note_state, "creator_state": creator_state}
    return to_frame(duck.run_query(con, "tier_benchmarks", inputs, params), TIER_BENCHMARKS)
