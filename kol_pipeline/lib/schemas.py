"""The table registry: the column schema, layer and partitioning of every warehouse table. The single source for
Parquet types, the Dagster column schema metadata, empty partitions, the generated data dictionary (docs/tables.md)
and every list of table names (job selections, checks, sensors, the CLI summary: ``tables_in`` and friends).

A facade: the core (types, ``TableSpec``, ``TABLES``, the lists, ``conform``, ``arrow_text``) is lib/tables.py,
and each table's spec lives beside its layer's SQL: lib/ingest/specs.py (the ingest and brand layers),
lib/metrics/specs.py, lib/state/specs.py, lib/marts/specs.py. This module fills ``TABLES`` with their ``SPECS`` in
registry order (ingest and brand, metrics, state, marts: the order of the job selections, docs/tables.md and the
summaries) and re-exports every name, so ``from kol_pipeline.lib.schemas import X`` is the one import for all of
them. The spec modules import only lib/tables.py, never this module.

Adding a table = its spec in its layer's specs.py (with its layer), listed in that module's ``SPECS`` + its asset +
its test; then ``make docs``.
"""

from __future__ import annotations

from kol_pipeline.lib.ingest.specs import (
    BRAND_QUARANTINE,
    BRANDS,
    CAMPAIGN_POSTS,
    CAMPAIGNS,
    CATEGORIES,
    COMMENTS,
    CREATORS,
    NOTES,
    QUARANTINE,
    RATE_CARD,
    SEARCH_INDEX,
    SEARCH_RANKINGS,
    STORE_TRAFFIC,
)
from kol_pipeline.lib.ingest.specs import SPECS as _INGEST_SPECS
from kol_pipeline.lib.marts.specs import (
    BRAND_AUDIENCE_AFFINITY,
    BRAND_CREATOR_RELATIONSHIPS,
    BRAND_SEARCH_LIFT,
    CAMPAIGN_PERFORMANCE,
    CREATOR_SHORTLIST,
    KEYWORD_SHARE_OF_VOICE,
    TIER_COMPARISON,
)
from kol_pipeline.lib.marts.specs import SPECS as _MARTS_SPECS
from kol_pipeline.lib.metrics.specs import CREATOR_SCORECARD, NOTE_METRICS, TIER_BENCHMARKS
from kol_pipeline.lib.metrics.specs import SPECS as _METRICS_SPECS
from kol_pipeline.lib.state.specs import (
    COMMENT_STATE,
    CREATOR_STATE,
    DAY_NO,
    DAY_TS,
    F64_LIST,
    FLAG,
    NOTE_STATE,
)
from kol_pipeline.lib.state.specs import SPECS as _STATE_SPECS
from kol_pipeline.lib.tables import (
    BOOL,
    DATE,
    F64,
    I64,
    LANDING_CSV,
    LAYERS,
    MEDIACRAWLER,
    SNAPSHOT,
    SOURCES,
    STR,
    STR_LIST,
    TABLES,
    TEXT,
    TEXT_LIST,
    TIERS,
    UTC_TS,
    Column,
    Layer,
    TableSpec,
    arrow_text,
    conform,
    daily_tables,
    input_tables,
    make_columns,
    register,
    summary_tables,
    tables_in,
    unpartitioned_tables,
)

# Registry order: the layers' specs in this order, then any spec added earlier with ``register`` (none today).
_registered = dict(TABLES)
TABLES.clear()
TABLES.update({t.name: t for t in (*_INGEST_SPECS, *_METRICS_SPECS, *_STATE_SPECS, *_MARTS_SPECS)})
TABLES.update({n: s for n, s in _registered.items() if n not in TABLES})

__all__ = [
    "BOOL",
    "BRANDS",
    "BRAND_AUDIENCE_AFFINITY",
    "BRAND_CREATOR_RELATIONSHIPS",
    "BRAND_QUARANTINE",
    "BRAND_SEARCH_LIFT",
    "CAMPAIGNS",
    "CAMPAIGN_PERFORMANCE",
    "CAMPAIGN_POSTS",
    "CATEGORIES",
    "COMMENTS",
    "COMMENT_STATE",
    "CREATORS",
    "CREATOR_SCORECARD",
    "CREATOR_SHORTLIST",
    "CREATOR_STATE",
    "DATE",
    "DAY_NO",
    "DAY_TS",
    "F64",
    "F64_LIST",
    "FLAG",
    "I64",
    "KEYWORD_SHARE_OF_VOICE",
    "LANDING_CSV",
    "LAYERS",
    "MEDIACRAWLER",
    "NOTES",
    "NOTE_METRICS",
    "NOTE_STATE",
    "QUARANTINE",
    "RATE_CARD",
    "SEARCH_INDEX",
    "SEARCH_RANKINGS",
    "SNAPSHOT",
    "SOURCES",
    "STORE_TRAFFIC",
    "STR",
    "STR_LIST",
    "TABLES",
    "TEXT",
    "TEXT_LIST",
    "TIERS",
    "TIER_BENCHMARKS",
    "TIER_COMPARISON",
    "UTC_TS",
    "Column",
    "Layer",
    "TableSpec",
    "arrow_text",
    "conform",
    "daily_tables",
    "input_tables",
    "make_columns",
    "register",
    "summary_tables",
    "tables_in",
    "unpartitioned_tables",
]
