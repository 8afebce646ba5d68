"""The code location: every asset, check, schedule and sensor under kol_pipeline/defs, plus resources and executor."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from kol_pipeline.resources.io_manager import WarehouseIOManager
from kol_pipeline.resources.settings import KolSettings, MetricsConfig


def build_resources() -> dict:
    """Resources configured from the environment at run time (KOL_LANDING_DIR, KOL_WAREHOUSE_DIR)."""
    return {
        "io_manager": WarehouseIOManager(base_path=dg.EnvVar("KOL_WAREHOUSE_DIR")),
        "settings": KolSettings(
            landing_dir=dg.EnvVar("KOL_LANDING_DIR"),
            warehouse_dir=dg.EnvVar("KOL_WAREHOUSE_DIR"),
        ),
        "metrics_config": MetricsConfig(),
    }


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    # Steps here are cheap pandas work on one machine: run them in one process (a process per step would
    # re-import pandas and GX for every step). Multiprocess can be chosen per run in the launchpad.
    return dg.Definitions.merge(
        loaded,
        dg.Definitions(resources=build_resources(), executor=dg.in_process_executor),
    )
