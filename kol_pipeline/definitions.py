"""The code location: every asset, check, schedule and sensor under kol_pipeline/defs, plus resources and executor."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from kol_pipeline.resources.settings import KolSettings, MetricsConfig
from kol_pipeline.resources.warehouse import Warehouse, WarehouseIOManager


def build_resources() -> dict:
    """Resources configured from the environment at run time (KOL_LANDING_DIR, KOL_WAREHOUSE_DIR)."""
    # one warehouse for the IO manager, the checks, the sensors and the report (resources/warehouse.py); "at
    # launch": a run's config of `warehouse` (launchpad) reaches the IO manager too, KOL_WAREHOUSE_DIR otherwise
    warehouse = Warehouse.configure_at_launch(base_path=dg.EnvVar("KOL_WAREHOUSE_DIR"))
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "settings": KolSettings(landing_dir=dg.EnvVar("KOL_LANDING_DIR")),
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
