"""Run-time settings of the pipeline as a Dagster resource (values from dg.EnvVar in definitions.py)."""

import os
from dataclasses import replace
from pathlib import Path

import dagster as dg
from pydantic import Field

from kol_pipeline.lib.duck import DuckSettings
from kol_pipeline.lib.settings import MetricSettings


class KolSettings(dg.ConfigurableResource):
    """Where the landing data is and how to reach the optional MediaCrawler database.

    The database URL is read from the environment variable named by `source_db_url_env` when a run needs it, so
    credentials never enter run configuration, logs or metadata.
    """

    landing_dir: str = Field(description="Landing folder: mediacrawler/, brand/, reference/ (KOL_LANDING_DIR)")
    source_db_url_env: str = Field(
        default="KOL_SOURCE_DB_URL",
        description="Name of the environment variable holding a SQLAlchemy URL of a MediaCrawler database (unset = none)",
    )
    lexicon_file: str | None = Field(default=None, description="Word lists (default data/reference/lexicon.json)")
    max_quarantine_share: float = Field(default=0.05, description="Quarantine share that blocks a partition")
    min_rows_for_quarantine_block: int = Field(default=100, description="Rows read below which quarantine only warns")

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    def source_db_url(self) -> str | None:
        return os.environ.get(self.source_db_url_env) or None

    def source_engine(self):  # -> sqlalchemy.Engine | None
        url = self.source_db_url()
        if not url:
            return None
        import sqlalchemy as sa

        return sa.create_engine(url, pool_pre_ping=True)


_D = MetricSettings()  # one source for the defaults


class MetricsConfig(dg.ConfigurableResource):
    """Tunable numbers of the metrics (defaults: kol_pipeline.lib.settings.MetricSettings; docs/metrics.md).

    Set them in the launchpad's resource config or in Definitions; the word lists live in data/reference/lexicon.json
    (KolSettings.lexicon_file)."""

    tier_bounds: list[int] = Field(
        default=list(_D.tier_bounds),
        description="Lower follower bounds of micro, mid, macro, top (nano below the first)",
    )
    max_gap_days: float = Field(
        default=_D.max_gap_days, description="E(h): a bracketing observation at most this far from h"
    )
    viral_min_engagements: int = Field(default=_D.viral_min_engagements, description="is_viral: absolute floor")
    viral_multiple: float = Field(
        default=_D.viral_multiple, description="is_viral: multiple of the author's 90-day median"
    )
    evergreen_share: float = Field(
        default=_D.evergreen_share, description="is_evergreen: share of eng_90d after day 30"
    )
    low_er_factor: float = Field(default=_D.low_er_factor, description="low_er_for_tier: below this x the tier median")
    spike_rel: float = Field(default=_D.spike_rel, description="follower_spike: relative rise")
    spike_abs: int = Field(default=_D.spike_abs, description="follower_spike: absolute rise")
    dup_min_comments: int = Field(
        default=_D.dup_min_comments, description="duplicate_comments: minimum comments in 90 days"
    )
    dup_share: float = Field(default=_D.dup_share, description="duplicate_comments: share repeating another")
    low_c2l_factor: float = Field(
        default=_D.low_c2l_factor, description="low_comment_to_like: below this x the tier median"
    )
    note_sentiment_min_comments: int = Field(
        default=_D.note_sentiment_min_comments,
        description="note_metrics.comment_sentiment: null below this many positive + negative comments",
    )
    creator_sentiment_min_comments: int = Field(
        default=_D.creator_sentiment_min_comments,
        description="creator_scorecard.comment_sentiment: null below this many positive + negative comments",
    )
    score_weights: dict[str, float] = Field(
        default=dict(_D.score_weights), description="Composite score weights (percentile ranks within tier)"
    )

    def to_settings(self) -> MetricSettings:
        if len(self.tier_bounds) != 4 or list(self.tier_bounds) != sorted(self.tier_bounds):
            raise ValueError(f"tier_bounds needs 4 increasing numbers, got {self.tier_bounds}")
        return replace(
            _D,
            tier_bounds=tuple(int(b) for b in self.tier_bounds),
            max_gap_days=self.max_gap_days,
            viral_min_engagements=self.viral_min_engagements,
            viral_multiple=self.viral_multiple,
            evergreen_share=self.evergreen_share,
            low_er_factor=self.low_er_factor,
            spike_rel=self.spike_rel,
            spike_abs=self.spike_abs,
            dup_min_comments=self.dup_min_comments,
            dup_share=self.dup_share,
            low_c2l_factor=self.low_c2l_factor,
            note_sentiment_min_comments=self.note_sentiment_min_comments,
            creator_sentiment_min_comments=self.creator_sentiment_min_comments,
            score_weights=dict(self.score_weights),
        )


class DuckDBConfig(dg.Config):
    """Bounds of every DuckDB connection the pipeline opens (kol_pipeline/lib/duck.py; docs/engine.md).

    A field left unset takes its environment variable when a run resolves it (``KOL_DUCKDB_MEMORY_LIMIT``,
    ``KOL_DUCKDB_THREADS``, ``KOL_DUCKDB_TEMP_DIR``, ``KOL_DUCKDB_PRESERVE_INSERTION_ORDER``), else the built-in
    default (1GB, 2 threads, ``<system temp>/kol_pipeline_duckdb``, order kept). Set a field (launchpad, or
    ``dg.EnvVar`` in Definitions) to override both."""

    memory_limit: str | None = Field(
        default=None, description="DuckDB memory_limit, e.g. 1GB (KOL_DUCKDB_MEMORY_LIMIT)"
    )
    threads: int | None = Field(default=None, description="DuckDB threads (KOL_DUCKDB_THREADS, default 2)")
    temp_directory: str | None = Field(
        default=None, description="Where DuckDB spills beyond memory_limit (KOL_DUCKDB_TEMP_DIR)"
    )
    preserve_insertion_order: bool | None = Field(
        default=None, description="Keep the files' row order in results (KOL_DUCKDB_PRESERVE_INSERTION_ORDER)"
    )

    def to_settings(self) -> DuckSettings:
        env = DuckSettings.from_env()
        return DuckSettings(
            memory_limit=self.memory_limit or env.memory_limit,
            threads=self.threads if self.threads is not None else env.threads,
            temp_directory=self.temp_directory or env.temp_directory,
            preserve_insertion_order=(
                env.preserve_insertion_order if self.preserve_insertion_order is None else self.preserve_insertion_order
            ),
        )
