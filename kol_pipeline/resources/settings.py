"""Run-time settings of the pipeline as a Dagster resource (values from dg.EnvVar in definitions.py)."""


import os
from pathlib import Path

import dagster as dg
from pydantic import Field


class KolSettings(dg.ConfigurableResource):
    """Where the landing data is and how to reach the optional MediaCrawler database.

    The database URL is read from the environment variable named by `source_db_url_env` when a run needs it, so
    credentials never enter run configuration, logs or metadata.
    """

    landing_dir: str = Field(description="Landing folder: mediacrawler/, brand/, reference/ (KOL_LANDING_DIR)")
    warehouse_dir: str = Field(description="Warehouse folder or fsspec URL (KOL_WAREHOUSE_DIR)")
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
