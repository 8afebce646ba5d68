"""Deterministic landing-data simulator: MediaCrawler crawl output + brand files with planted truth.

`simulate(out, creators, days, seed, end_date, brand_files)` writes, under `out`:

- `mediacrawler/<crawler folder>/{crawler}_{item}_{YYYY-MM-DD}.{json,jsonl,csv}`: one crawl per folder per day of
  creator profiles, their notes (each note re-crawled daily while younger than 100 days) and, every third day,
  comments; MediaCrawler field names and value formats (counts as strings, possibly abbreviated; epoch-ms times);
- `brand/*.csv` (brands, campaigns, campaign_posts, daily search_rankings, search_index, rate_card,
  store_traffic) unless `brand_files=False`, and `reference/categories.csv`;
- `truth/`: the planted parameters (never read by the pipeline) so tests can check that the metrics recover them.

Same arguments => byte-identical output. Everything planted and every formula is documented in docs/simulator.md.
Pure Python + numpy/pandas; no dagster import.

Modules, in the order `simulate()` (simulator.py) runs their phases: vocabulary.py (the fixed vocabulary, tiers,
brands, campaigns, field lists), curves.py (the planted engagement curve), base.py (setting, random streams,
shared helpers), creators.py, campaigns.py, notes.py, observations.py, world.py, search.py, comments.py,
audience.py and negative_waves.py (comment plants), plants.py (flat sponsored, search surfacing, malformed
records), crawl_files.py, brand.py, truth.py; cli.py and __main__.py (`python -m kol_pipeline.lib.simulate`).
"""

from kol_pipeline.lib.simulate.cli import main
from kol_pipeline.lib.simulate.curves import curve_fraction, planted_half_life, planted_late_share
from kol_pipeline.lib.simulate.negative_waves import (
    NEGATIVE_WAVE_DAYS,
    NEGATIVE_WAVE_MIN_COMMENTS,
    NEGATIVE_WAVE_TEMPLATES,
)
from kol_pipeline.lib.simulate.plants import FLAT_SPONSORED_FACTOR, SURFACING_BOOST
from kol_pipeline.lib.simulate.simulator import simulate
from kol_pipeline.lib.simulate.vocabulary import (
    ADJACENT,
    AUTHOR_REPLIES,
    BRANDS,
    CAMPAIGNS,
    CATEGORIES,
    CATEGORY_CN,
    CATEGORY_KEYWORDS,
    COMMENT_CLASS_P,
    COMMENT_FIELDS,
    COMMENT_PREFIXES,
    COMMENT_TEMPLATES,
    CREATOR_FIELDS,
    CREATOR_GAP_MS,
    DAILY_FROM_AGE,
    DAILY_UNTIL_AGE,
    DAY_MS,
    DESC_LINES,
    DISCLOSURES,
    DUPLICATE_POOL,
    EMOJI,
    EVERGREEN_RAMP_DAYS,
    EVERY2_UNTIL_AGE,
    EXPERIENCE_EFFECTS,
    FOLDERS,
    INFLATION_PATTERNS,
    MAX_CRAWL_AGE_DAYS,
    NICK_HEADS,
    NICK_TAILS,
    NOTE_FIELDS,
    PARTICLES,
    PROVINCES,
    SAVE_TO_LIKE,
    SEARCH_FOLDER,
    SH_OFFSET_MS,
    TAG_SUFFIXES,
    TIER_ER7,
    TIER_FEE,
    TIER_FOLLOWERS,
    TIER_NAMES,
    TIER_SHARE,
    TITLE_HEADS,
    TITLE_TAILS,
    Brand,
    CampaignPlan,
)

__all__ = [
    "ADJACENT",
    "AUTHOR_REPLIES",
    "BRANDS",
    "CAMPAIGNS",
    "CATEGORIES",
    "CATEGORY_CN",
    "CATEGORY_KEYWORDS",
    "COMMENT_CLASS_P",
    "COMMENT_FIELDS",
    "COMMENT_PREFIXES",
    "COMMENT_TEMPLATES",
    "CREATOR_FIELDS",
    "CREATOR_GAP_MS",
    "DAILY_FROM_AGE",
    "DAILY_UNTIL_AGE",
    "DAY_MS",
    "DESC_LINES",
    "DISCLOSURES",
    "DUPLICATE_POOL",
    "EMOJI",
    "EVERGREEN_RAMP_DAYS",
    "EVERY2_UNTIL_AGE",
    "EXPERIENCE_EFFECTS",
    "FLAT_SPONSORED_FACTOR",
    "FOLDERS",
    "INFLATION_PATTERNS",
    "MAX_CRAWL_AGE_DAYS",
    "NEGATIVE_WAVE_DAYS",
    "NEGATIVE_WAVE_MIN_COMMENTS",
    "NEGATIVE_WAVE_TEMPLATES",
    "NICK_HEADS",
    "NICK_TAILS",
    "NOTE_FIELDS",
    "PARTICLES",
    "PROVINCES",
    "SAVE_TO_LIKE",
    "SEARCH_FOLDER",
    "SH_OFFSET_MS",
    "SURFACING_BOOST",
    "TAG_SUFFIXES",
    "TIER_ER7",
    "TIER_FEE",
    "TIER_FOLLOWERS",
    "TIER_NAMES",
    "TIER_SHARE",
    "TITLE_HEADS",
    "TITLE_TAILS",
    "Brand",
    "CampaignPlan",
    "curve_fraction",
    "main",
    "planted_half_life",
    "planted_late_share",
    "simulate",
]
