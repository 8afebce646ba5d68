"""The `World` record: what the first phases of `simulate()` have built (the setting, creators, their followers,
the campaigns, the notes and the crawl schedule), handed as one argument to the later phases (search, crawl
files, brand files, truth).
"""

from __future__ import annotations

from dataclasses import dataclass

from kol_pipeline.lib.simulate.base import Setting
from kol_pipeline.lib.simulate.campaigns import Campaigns
from kol_pipeline.lib.simulate.creators import Creators, Followers
from kol_pipeline.lib.simulate.notes import Notes
from kol_pipeline.lib.simulate.observations import Schedule


@dataclass(frozen=True)
class World:
    setting: Setting
    creators: Creators
    followers: Followers
    campaigns: Campaigns
    notes: Notes
    schedule: Schedule
