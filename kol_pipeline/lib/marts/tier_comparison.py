"""tier_comparison by ``tier_comparison.sql`` (the formula and its decisions are there and in docs/marts.md): every
day of its inputs in one query over campaign_performance and keyword_share_of_voice (DuckDB relations of the
run's days, or frames), with the campaigns typed as Arrow."""

from __future__ import annotations

from typing import Any

import pandas as pd

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts.campaign_performance import campaign_keywords
from kol_pipeline.lib.marts.frames import as_input, result_frame, typed_table
from kol_pipeline.lib.schemas import TIER_COMPARISON, TIERS

__all__ = ["CAMPAIGN_PERFORMANCE_COLUMNS", "SHARE_OF_VOICE_COLUMNS", "tier_comparison"]

#: the columns the query reads of each input (``PartitionedInput.relation(con, columns=...)``)
CAMPAIGN_PERFORMANCE_COLUMNS = ("campaign_id", "brand", "tier", "notes", "spend_cny", "engagements", "saves")
SHARE_OF_VOICE_COLUMNS = ("keyword", "brand", *[f"brand_results_{t}" for t in TIERS], "brand_results_unknown_tier")


def tier_comparison(
    con: Any, campaign_performance: Any, keyword_share_of_voice: Any, campaigns: pd.DataFrame
) -> pd.DataFrame:
    """Per day x campaign x tier, per brand (campaign_id `all`) and overall (campaign_id and brand `all`), for
    every day of the inputs, in one query on ``con`` (lib/duck.connect): a day's rows are those of a call with that
    day's rows alone."""
    inputs = {
        "campaign_performance": as_input(
            campaign_performance, "campaign_performance", [*CAMPAIGN_PERFORMANCE_COLUMNS, "snapshot_date"]
        ),
        "keyword_share_of_voice": as_input(
            keyword_share_of_voice, "keyword_share_of_voice", [*SHARE_OF_VOICE_COLUMNS, "snapshot_date"]
        ),
        "campaign_keywords": campaign_keywords(campaigns),
        "campaigns": typed_table(campaigns, "campaigns", ["campaign_id", "brand"]),
    }
    out = duck.run_query(con, "tier_comparison", inputs)
    return result_frame(out, TIER_COMPARISON)
