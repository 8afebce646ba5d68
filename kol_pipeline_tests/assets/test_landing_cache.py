"""The ingest step keeps the landing files it parses in the process's cache only when its run asks for it
(`kol-pipeline run`'s ingest runs, which read the same folder range after range); a run worker's step keeps
nothing, so the day's raw records do not stay in memory through the downstream steps."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from kol_pipeline.defs.shared import LANDING_CACHE_TAG
from kol_pipeline.lib.ingest import landing
from kol_pipeline.orchestration import running

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_ingest_step_caches_parsed_files_only_when_the_run_asks(tmp_path, monkeypatch):
    monkeypatch.setenv("KOL_LANDING_DIR", str(SAMPLE))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(tmp_path / "wh"))
    day = max(landing.landing_days(SAMPLE)).isoformat()
    files = sum(len(v) for v in landing.landing_files(SAMPLE).values())
    landing.clear_cache()
    assert landing.cached_files() == 0
    instance = dg.DagsterInstance.ephemeral()
    with running.run_job("brand_job", instance) as res:
        assert res.success

    with running.run_job("ingest_job", instance, tags={"dagster/partition": day}) as res:
        assert res.success
    notes = pq.read_table(tmp_path / "wh" / "notes" / f"snapshot_date={day}" / "part-0.parquet")
    assert notes.num_rows > 0  # the step did read and clean the day's files
    assert landing.cached_files() == 0

    with running.run_job("ingest_job", instance, tags={"dagster/partition": day, LANDING_CACHE_TAG: "keep"}) as res:
        assert res.success
    assert landing.cached_files() == files > 0
    landing.clear_cache()
