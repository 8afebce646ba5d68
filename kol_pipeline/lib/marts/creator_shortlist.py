"""creator_shortlist by ``creator_shortlist.sql`` (the formula and its decisions are there and in docs/marts.md):
every day of a run in one query over a DuckDB relation of creator_scorecard (the run's days), with the brands
typed as Arrow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts.frames import as_input, day_list, result_frame, typed_table
from kol_pipeline.lib.schemas import CREATOR_SHORTLIST

__all__ = ["SCORECARD_COLUMNS", "creator_shortlist"]

#: the columns the query reads of creator_scorecard (``PartitionedInput.relation(con, columns=...)``)
SCORECARD_COLUMNS = (
    "user_id",
    "nickname",
    "followers",
    "tier",
    "primary_category",
    "score",
    "authenticity_flags",
    "median_er_7d",
    "median_save_to_like",
    "median_half_life_days",
    "evergreen_share",
    "substantive_comment_share",
    "est_cpe_cny",
)


def creator_shortlist(
    con: Any,
    creator_scorecard: Any,
    brands: pd.DataFrame,
    snapshot_dates: Sequence[Any] | None = None,
    tier: str = "micro",
    top_n: int = 30,
) -> pd.DataFrame:
    """Per day x brand: the ``top_n`` creators of ``tier`` of the brand's category with no authenticity flag, by
    score, in one query on ``con`` (lib/duck.connect). ``creator_scorecard``: a DuckDB relation with
    SCORECARD_COLUMNS and snapshot_date, or a pandas frame of them (tests). ``snapshot_dates`` None = every day
    of the scorecard."""
    b = typed_table(brands, "brands", ["brand", "category"])
    b = b.append_column("brand_row", pa.array(np.arange(len(b), dtype=np.int64)))
    inputs = {
        "creator_scorecard": as_input(creator_scorecard, "creator_scorecard", [*SCORECARD_COLUMNS, "snapshot_date"]),
        "brands": b,
    }
    days = None if snapshot_dates is None else day_list(snapshot_dates)
    out = duck.run_query(con, "creator_shortlist", inputs, {"days": days, "tier": str(tier), "top_n": int(top_n)})
    return result_frame(out, CREATOR_SHORTLIST)
