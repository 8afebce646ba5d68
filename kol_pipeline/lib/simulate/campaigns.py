"""The simulator's campaigns (after the creators, before the notes): each CampaignPlan's window of days and the
creators it hires, same category first, adjacent categories next, then anyone; C02 re-hires half of C01's
creators (stream `brand`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kol_pipeline.lib.simulate.vocabulary import ADJACENT, BRANDS, CAMPAIGNS, CampaignPlan


@dataclass(frozen=True)
class Campaigns:
    """`camp_rows`: one dict(plan, start, end) per CAMPAIGNS entry (day indices, inclusive); `chosen`: the hired
    creators' indices by campaign_id."""

    camp_rows: list[dict[str, Any]]
    chosen: dict[str, np.ndarray]


def plan_campaigns(r_brand: np.random.Generator, cats: np.ndarray, n: int, D: int) -> Campaigns:
    """The campaigns of a `D`-day world of `n` creators of categories `cats`."""
    camp_rows = []
    for c in CAMPAIGNS:
        start = int(round(c.start_frac * D))
        start = min(start, D - 3)
        end = min(start + c.length_days - 1, D - 1)
        camp_rows.append(dict(plan=c, start=start, end=end))
    # campaign creators: same category first, adjacent categories next, then anyone; C02 re-hires half of C01
    chosen: dict[str, np.ndarray] = {}
    for cr in camp_rows:
        c: CampaignPlan = cr["plan"]
        b = BRANDS[c.brand_idx]
        pref = np.where(cats == b.category, 0, np.where(np.isin(cats, ADJACENT[b.category]), 1, 2))
        key = pref + r_brand.random(n) * 0.9
        if c.campaign_id == "C02" and "C01" in chosen:
            prev = chosen["C01"]
            key[prev[: len(prev) // 2]] = -1.0  # repeat creators across phases
        order = np.argsort(key, kind="stable")
        chosen[c.campaign_id] = np.sort(order[: min(c.n_creators, n)])
    return Campaigns(camp_rows=camp_rows, chosen=chosen)
