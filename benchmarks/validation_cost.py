"""What validation adds to a run: the ingestion job on the bundled sample with and without its asset checks.

    .venv/bin/python -m benchmarks.validation_cost [--landing data/sample]

Each variant runs in a fresh warehouse and an ephemeral Dagster instance; GX is imported before timing (its import,
~2.5 s once per process, is reported separately)."""

import argparse
import os
import tempfile
import time
from pathlib import Path

import dagster as dg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--landing", default="data/sample")
    args = ap.parse_args()
    landing = Path(args.landing).resolve()
    os.environ["KOL_LANDING_DIR"] = str(landing)
    t = time.perf_counter()
    import great_expectations  # noqa: F401

    gx_import = time.perf_counter() - t
    from kol_pipeline.orchestration.planning import find_partition_days, load_definitions
    from kol_pipeline.orchestration.running import QUIET, range_tags

    days = sorted(find_partition_days(landing))
    defs = load_definitions()
    keys = [dg.AssetKey(k) for k in ("notes", "creators", "comments", "search_rankings", "quarantine")]
    results = {}
    all_checks = {dg.AssetCheckKey(k, f"{k.path[-1]}_suite") for k in keys}
    # the first run warms the landing cache; it is repeated at the end so both variants run warm
    for label, checks in (("warm-up", set()), ("with checks", all_checks), ("without checks", set())):
        with tempfile.TemporaryDirectory() as wh:
            os.environ["KOL_WAREHOUSE_DIR"] = wh
            inst = dg.DagsterInstance.ephemeral()
            defs.resolve_job_def("brand_job").execute_in_process(run_config=QUIET, instance=inst)
            job = defs.resolve_job_def("ingest_job").get_subset(asset_selection=set(keys), asset_check_selection=checks)
            t = time.perf_counter()
            res = job.execute_in_process(
                run_config=QUIET, instance=inst, tags=range_tags(days[0], days[-1]), raise_on_error=False
            )
            results[label] = time.perf_counter() - t
            print(
                f"{label:>15}: {results[label]:6.2f} s for {len(days)} days ({len(res.get_asset_check_evaluations())} check results)"
            )
    print(
        f"validation adds {results['with checks'] - results['without checks']:.2f} s "
        f"({(results['with checks'] / results['without checks'] - 1) * 100:.0f} %); GX import once per process: {gx_import:.2f} s"
    )


if __name__ == "__main__":
    main()
