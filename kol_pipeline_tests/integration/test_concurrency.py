"""Two partitions materialized at once, each run with the multiprocess executor (a process per step), into one
warehouse and one Dagster instance: neither clobbers the other's files, and the result equals one-at-a-time runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from kol_pipeline.definitions import defs
from kol_pipeline.resources.io_manager import list_partitions, read_table
from kol_pipeline_tests.fixtures.multiprocess_job import in_process_daily_job

pytestmark = pytest.mark.heavy(50)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
# 128 days apart: neither day's trailing windows (ingestion's known notes 120 days, the states' bootstrap up to 124) reach the
# other, so running them at once must give exactly what running them one after the other gives
DAYS = ("2025-02-22", "2025-06-30")
TABLES = (
    "notes",
    "creators",
    "comments",
    "quarantine",
    "search_rankings",
    "note_state",
    "creator_state",
    "comment_state",
)
KEYS = {
    "notes": ["note_id"],
    "creators": ["user_id"],
    "comments": ["comment_id"],
    "note_state": ["note_id"],
    "creator_state": ["user_id"],
    "comment_state": ["comment_id"],
    "search_rankings": ["keyword", "rank", "note_id"],
    "quarantine": ["source_file", "record_number"],
}


def _env(home: Path, wh: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "KOL_LANDING_DIR": str(SAMPLE), "KOL_WAREHOUSE_DIR": str(wh)}
    env.pop("KOL_SOURCE_DB_URL", None)
    return env


def _brand_tables(env: dict[str, str], monkeypatch) -> None:
    """The brand tables the daily assets read, written by a run in the instance (which creates its storage once:
    two processes creating a fresh SQLite instance at the same moment race on its schema version)."""
    for k in ("KOL_LANDING_DIR", "KOL_WAREHOUSE_DIR"):
        monkeypatch.setenv(k, env[k])
    monkeypatch.delenv("KOL_SOURCE_DB_URL", raising=False)
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert defs().resolve_job_def("brand_job").execute_in_process(instance=instance).success


def _launch(day: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kol_pipeline_tests.fixtures.multiprocess_job", day],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _frame(wh: Path, table: str, day: str) -> pd.DataFrame:
    df = read_table(str(wh), table, start=day, end=day)
    return df.sort_values(KEYS[table]).reset_index(drop=True)


def test_two_partitions_at_once_with_the_multiprocess_executor(tmp_path, monkeypatch):
    together, apart = tmp_path / "together", tmp_path / "apart"
    env = _env(tmp_path / "home", together / "wh")
    _brand_tables(env, monkeypatch)
    procs = [_launch(day, env, tmp_path / f"{day}.log") for day in DAYS]  # started together, run concurrently
    codes = [p.wait(timeout=600) for p in procs]
    logs = {day: (tmp_path / f"{day}.log").read_text(errors="replace") for day in DAYS}
    assert codes == [0, 0], logs

    # the reference: the same two days one after the other, in process, in another warehouse
    env2 = _env(tmp_path / "home2", apart / "wh")
    _brand_tables(env2, monkeypatch)
    job = in_process_daily_job()
    for day in DAYS:
        assert job.execute_in_process(partition_key=day, instance=dg.DagsterInstance.ephemeral()).success

    # the steps really ran in processes of their own
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        runs = instance.get_runs()
        runs = [r for r in runs if r.job_name == "multiprocess_daily"]
        assert sorted(r.tags["dagster/partition"] for r in runs) == list(DAYS)
        for run in runs:
            assert run.is_success
            starts = [
                e
                for e in instance.all_logs(run.run_id)
                if e.dagster_event and e.dagster_event.event_type_value == "STEP_START"
            ]
            run_pid = next(
                e.dagster_event.pid
                for e in instance.all_logs(run.run_id)
                if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_START"
            )
            assert len(starts) >= 2 and all(e.dagster_event.pid != run_pid for e in starts)
        records = [r for r in instance.get_run_records() if r.dagster_run.job_name == "multiprocess_daily"]
        assert max(r.start_time for r in records) < min(r.end_time for r in records)  # they overlapped in time

    wh, ref = together / "wh", apart / "wh"
    for table in TABLES:
        assert list_partitions(str(wh), table) == list_partitions(str(ref), table), table
        for day in list_partitions(str(wh), table):
            got, want = _frame(wh, table, day), _frame(ref, table, day)
            assert (got["snapshot_date"].astype(str) == day).all(), (table, day)  # only that day's rows in its file
            pd.testing.assert_frame_equal(got, want, check_like=False)
    assert set(list_partitions(str(wh), "notes")) == set(DAYS)
    assert len(_frame(wh, "notes", DAYS[0])) > 0 and len(_frame(wh, "note_state", DAYS[1])) > 0
    leftovers = [p for p in wh.rglob("*") if ".tmp-" in p.name]
    assert leftovers == []
