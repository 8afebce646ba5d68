"""The whole graph through Dagster on simulated landing data: what lands in the warehouse equals the library's
own computation, re-runs replace rather than append, and a failed blocking check stops only its day."""

import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import intake as ingest_lib
from kol_pipeline.lib.ingest import landing as landing_lib
from kol_pipeline.lib.simulate import simulate
from kol_pipeline.orchestration import running
from kol_pipeline.orchestration.planning import find_partition_days, plan_runs
from kol_pipeline.orchestration.running import run_pipeline
from kol_pipeline.resources.io_manager import list_partitions, read_table

pytestmark = pytest.mark.heavy(110)

END = date(2025, 6, 30)


def _run(landing: Path, warehouse: Path, monkeypatch, instance=None):
    monkeypatch.setenv("KOL_LANDING_DIR", str(landing))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.delenv("KOL_SOURCE_DB_URL", raising=False)
    days = sorted(find_partition_days(landing))
    instance = instance or dg.DagsterInstance.ephemeral()
    summary = run_pipeline(plan_runs(days), str(warehouse), progress=lambda m: None, instance=instance, landing=landing)
    return days, summary, instance


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    simulate(out, creators=14, days=14, seed=11, end_date=END)
    return out


def _lib_notes(landing: Path, start: date, end: date) -> pd.DataFrame:
    ctx = ingest_lib.IngestContext(
        categories=brand_lib.read_brand_table(landing, "categories").frame,
        brands=brand_lib.read_brand_table(landing, "brands").frame,
    )
    return ingest_lib.ingest_batches(landing_lib.batches_for_days(landing, start, end), ctx, start, end)


def _norm(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = df.sort_values(keys).reset_index(drop=True).copy()
    for c in out.columns:
        # a null as None: the library's tables hold text as Arrow strings (null: pd.NA), the warehouse's reads None
        out[c] = out[c].astype(object).where(out[c].notna(), None)
        out[c] = out[c].map(
            lambda v: json.dumps(list(v), ensure_ascii=False) if hasattr(v, "__len__") and not isinstance(v, str) else v
        )
        out[c] = out[c].astype(str)
    return out


def test_warehouse_equals_library_and_reruns_replace(landing, tmp_path, monkeypatch):
    wh = tmp_path / "wh"
    days, summary, instance = _run(landing, wh, monkeypatch)
    assert summary.exit_code == 0, summary.render(0)
    assert days[-1] == END and len(days) >= 10
    lib = _lib_notes(landing, days[0], days[-1])
    for table, keys in (
        ("notes", ["note_id", "snapshot_date"]),
        ("creators", ["user_id", "snapshot_date"]),
        ("comments", ["comment_id", "snapshot_date"]),
    ):
        got = read_table(str(wh), table)
        want = lib.table(table)
        assert len(got) == len(want) > 0, table
        pd.testing.assert_frame_equal(_norm(got[want.columns.tolist()], keys), _norm(want, keys), check_dtype=False)
    q = read_table(str(wh), "quarantine")
    assert len(q) == len(lib.quarantine) > 0  # the simulator plants malformed records
    # every day with notes has a partition folder; metrics were computed for every day
    assert set(list_partitions(str(wh), "notes")) == {d.isoformat() for d in set(lib.notes["snapshot_date"])}
    assert set(list_partitions(str(wh), "note_metrics")) == {
        d.isoformat() for d in days if d >= min(lib.notes["snapshot_date"])
    }
    # the runs are recorded with their materializations
    mats = instance.fetch_materializations(dg.AssetKey("notes"), limit=1000).records
    assert {m.partition_key for m in mats} >= {d.isoformat() for d in set(lib.notes["snapshot_date"])}

    # a re-run of the same days gives the same rows, no duplicates
    before = {t: len(read_table(str(wh), t)) for t in ("notes", "comments", "note_metrics", "creator_scorecard")}
    _, summary2, _ = _run(landing, wh, monkeypatch, instance=instance)
    assert summary2.exit_code == 0
    after = {t: len(read_table(str(wh), t)) for t in before}
    assert after == before


def test_blocking_check_stops_only_its_day(landing, tmp_path, monkeypatch):
    """120 unreadable rows crawled on one day: quarantine share above 5 % of >= 100 rows blocks that day only."""
    import shutil

    land = tmp_path / "landing"
    shutil.copytree(landing, land)
    bad_day = END - timedelta(days=3)
    crawl_ms = int(pd.Timestamp(f"{bad_day} 12:00", tz="Asia/Shanghai").timestamp() * 1000)
    rows = [
        {
            "note_id": f"bad{i:05d}",
            "user_id": "u1",
            "time": crawl_ms - 3_600_000,
            "last_modify_ts": crawl_ms,
            "liked_count": "abc",
            "collected_count": "1",
            "comment_count": "1",
            "share_count": "1",
        }
        for i in range(120)
    ]
    (land / "mediacrawler" / "extra").mkdir(parents=True)
    (land / "mediacrawler" / "extra" / "search_contents_broken.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    wh = tmp_path / "wh"
    days, summary, instance = _run(land, wh, monkeypatch)
    assert summary.exit_code == 1
    assert summary.blocked_days == [bad_day]
    # the days around the blocked one run downstream in two ranged runs, not a run per day
    down = sorted(
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in instance.get_runs()
        if r.job_name == "downstream_job"
    )
    after = bad_day + timedelta(days=1)
    before = bad_day - timedelta(days=1)
    assert down == [(days[0].isoformat(), before.isoformat()), (after.isoformat(), END.isoformat())]
    assert any(f.startswith("notes:notes_suite") and bad_day.isoformat() in f for f in summary.failed_checks)
    # the blocked day's cleaned tables and quarantine are written, its downstream assets are not; other days go on
    q = read_table(str(wh), "quarantine", bad_day.isoformat(), bad_day.isoformat())
    mine = q[q["source_file"] == "mediacrawler/extra/search_contents_broken.jsonl"]
    assert len(mine) == 120 and mine["reason"].eq("liked_count is not a number: 'abc'").all()
    assert sorted(mine["record_number"]) == list(range(1, 121))
    metric_days = set(list_partitions(str(wh), "note_metrics"))
    assert bad_day.isoformat() not in metric_days
    assert (bad_day - timedelta(days=1)).isoformat() in metric_days and (
        bad_day + timedelta(days=1)
    ).isoformat() in metric_days
    assert set(list_partitions(str(wh), "creator_scorecard")) == metric_days


@pytest.mark.parametrize("compact", [True, False])
def test_planned_events_per_run_or_per_day(landing, tmp_path, monkeypatch, compact):
    """kol-pipeline run stores one planned event per asset and run; --per-day-planned-events (and every run not
    launched by it: the switch is restored afterwards) one per asset and day, as the UI's failed-partition marks
    need."""
    import os

    from kol_pipeline.orchestration.planning import COMPACT_PLANNED_EVENTS_ENV

    monkeypatch.setenv("KOL_LANDING_DIR", str(landing))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(tmp_path / "wh"))
    monkeypatch.delenv(COMPACT_PLANNED_EVENTS_ENV, raising=False)
    days = sorted(find_partition_days(landing))
    instance = dg.DagsterInstance.ephemeral()
    run_pipeline(
        [(days[0], days[-1])],
        str(tmp_path / "wh"),
        progress=lambda m: None,
        instance=instance,
        downstream_days=set(),
        landing=landing,
        compact_planned_events=compact,
    )
    assert COMPACT_PLANNED_EVENTS_ENV not in os.environ
    planned = instance.get_event_records(
        dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=dg.AssetKey("notes"))
    )
    assert len(planned) == (1 if compact else len(days))
    assert instance.get_materialized_partitions(dg.AssetKey("notes")) == {d.isoformat() for d in days}


@pytest.mark.parametrize("compact", [True, False])
def test_failed_run_days_show_missing_or_failed(landing, tmp_path, monkeypatch, compact):
    """The documented cost of one planned event per run: the days of a failed kol-pipeline run show as missing
    (no status), not failed, in the UI's partition status; with per-day planned events they show as failed.
    Never "in progress" after the run ended. (The warehouse path lies under a file, so every write fails.)"""
    from kol_pipeline.defs.shared import DAILY

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    wh = str(blocker / "wh")
    monkeypatch.setenv("KOL_LANDING_DIR", str(landing))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", wh)
    # the steps' retry policy off (the executor's `retries: disabled`): the failed steps fail at once instead of
    # after the policy's 2 + 4 s of waits, which made this test 19 s; the statuses asserted are those of the end
    monkeypatch.setattr(running, "QUIET", {**running.QUIET, "execution": {"config": {"retries": {"disabled": {}}}}})
    days = sorted(find_partition_days(landing))[:3]
    instance = dg.DagsterInstance.ephemeral()
    summary = run_pipeline(
        [(days[0], days[-1])],
        wh,
        progress=lambda m: None,
        instance=instance,
        downstream_days=set(),
        landing=landing,
        compact_planned_events=compact,
    )
    assert summary.exit_code == 1 and any(f.startswith("ingest ") for f in summary.failed_runs)
    status = instance.get_status_by_partition(dg.AssetKey("notes"), [d.isoformat() for d in days], DAILY)
    expected = None if compact else dg.AssetPartitionStatus.FAILED
    assert status == {d.isoformat(): expected for d in days}
