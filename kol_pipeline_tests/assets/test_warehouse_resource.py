"""One warehouse for the IO manager, the checks and the sensors (resources/warehouse.py; issue #25 point 7): the
code location's `warehouse` resource is configured once, and a run that configures it at launch (the launchpad)
writes and checks in that warehouse, not in KOL_WAREHOUSE_DIR."""

import dagster as dg
import pandas as pd

from kol_pipeline.definitions import build_resources
from kol_pipeline.resources.warehouse import Warehouse


@dg.asset
def brands() -> pd.DataFrame:
    return pd.DataFrame(
        {"brand": ["A", "B"], "aliases": [["a"], []], "category": ["美妆", "美妆"], "control_keyword": [None, None]}
    )


@dg.asset_check(asset=brands)
def brands_stored(warehouse: Warehouse) -> dg.AssetCheckResult:
    df = warehouse.read_table("brands")
    return dg.AssetCheckResult(passed=len(df) == 2, metadata={"root": str(warehouse.root), "rows": len(df)})


def test_a_warehouse_configured_at_launch_reaches_the_io_manager_and_the_checks(tmp_path, monkeypatch):
    default, chosen = tmp_path / "default", tmp_path / "chosen"
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(default))
    monkeypatch.setenv("KOL_LANDING_DIR", str(tmp_path / "landing"))
    defs = dg.Definitions(assets=[brands], asset_checks=[brands_stored], resources=build_resources())
    job = defs.resolve_implicit_global_asset_job_def()

    res = job.execute_in_process(run_config={"resources": {"warehouse": {"config": {"base_path": str(chosen)}}}})
    (check,) = res.get_asset_check_evaluations()
    assert check.passed and check.metadata["rows"].value == 2
    assert check.metadata["root"].value == str(chosen)
    assert (chosen / "brands" / "brands.parquet").is_file() and not default.exists()

    # without launch config: KOL_WAREHOUSE_DIR, for both
    res = job.execute_in_process()
    (check,) = res.get_asset_check_evaluations()
    assert check.passed and check.metadata["root"].value == str(default)
    assert (default / "brands" / "brands.parquet").is_file()
