"""creator_shortlist by ``creator_shortlist.sql`` (the formula and its decisions are there and in docs/marts.md):
every day of a run in one query over DuckDB relations of creator_scorecard and brand_audience_affinity (the run's
days), with the brands typed as Arrow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts.frames import as_input, day_list, result_frame, typed_table
from kol_pipeline.lib.schemas import CREATOR_SHORTLIST, TABLES

__all__ = ["AFFINITY_COLUMNS", "REASON_COLUMNS", "SCORECARD_COLUMNS", "creator_shortlist", "scorecard_columns"]

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
#: the scorecard's reasons of issue #26 (CONTRACT.md "Finding the right creators"), shown beside the others; a
#: scorecard without one of them (a warehouse written before it existed) gives null
REASON_COLUMNS = ("search_appearances_30d", "sponsored_er_ratio", "comment_sentiment")
#: the columns the query reads of brand_audience_affinity
AFFINITY_COLUMNS = ("brand", "user_id", "affinity")


def scorecard_columns() -> list[str]:
    """SCORECARD_COLUMNS and those of REASON_COLUMNS the scorecard's registry entry has (the asset's read)."""
    known = set(TABLES["creator_scorecard"].column_names)
    return [*SCORECARD_COLUMNS, *(c for c in REASON_COLUMNS if c in known)]


def _scorecard_input(scorecard: Any) -> Any:
    """The scorecard with every REASON_COLUMNS column: a relation lacking one gets it as a typed null; a frame's
    reason columns are typed as the shortlist's (the same names and types)."""
    if isinstance(scorecard, duckdb.DuckDBPyRelation):
        have = set(scorecard.columns)
        missing = [c for c in REASON_COLUMNS if c not in have]
        if not missing:
            return scorecard
        types = {c.name: c.type for c in CREATOR_SHORTLIST.columns}
        nulls = ", ".join(
            f"CAST(NULL AS {'BIGINT' if pa.types.is_int64(types[c]) else 'DOUBLE'}) AS {c}" for c in missing
        )
        return scorecard.project(f"*, {nulls}")
    known = set(TABLES["creator_scorecard"].column_names)
    base = as_input(
        scorecard,
        "creator_scorecard",
        [*SCORECARD_COLUMNS, *(c for c in REASON_COLUMNS if c in known), "snapshot_date"],
    )
    extra = typed_table(scorecard, "creator_shortlist", [c for c in REASON_COLUMNS if c not in known])
    for name in extra.column_names:
        base = base.append_column(name, extra.column(name))
    return base


def creator_shortlist(
    con: Any,
    creator_scorecard: Any,
    brands: pd.DataFrame,
    snapshot_dates: Sequence[Any] | None = None,
    tier: str = "micro",
    top_n: int = 30,
    affinity: Any = None,
) -> pd.DataFrame:
    """Per day x brand: the ``top_n`` creators of ``tier`` of the brand's category with no authenticity flag, by
    score, in one query on ``con`` (lib/duck.connect). ``creator_scorecard``: a DuckDB relation with
    SCORECARD_COLUMNS (REASON_COLUMNS where it has them) and snapshot_date, or a pandas frame of them (tests).
    ``affinity``: brand_audience_affinity's AFFINITY_COLUMNS and snapshot_date (relation or frame; None = no
    affinity known). ``snapshot_dates`` None = every day of the scorecard."""
    b = typed_table(brands, "brands", ["brand", "category"])
    b = b.append_column("brand_row", pa.array(np.arange(len(b), dtype=np.int64)))
    if affinity is None:
        affinity = TABLES["brand_audience_affinity"].empty_frame()
    inputs = {
        "creator_scorecard": _scorecard_input(creator_scorecard),
        "brands": b,
        "affinity": as_input(affinity, "brand_audience_affinity", [*AFFINITY_COLUMNS, "snapshot_date"]),
    }
    days = None if snapshot_dates is None else day_list(snapshot_dates)
    out = duck.run_query(con, "creator_shortlist", inputs, {"days": days, "tier": str(tier), "top_n": int(top_n)})
    return result_frame(out, CREATOR_SHORTLIST)
