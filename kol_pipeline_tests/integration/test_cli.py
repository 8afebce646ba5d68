"""`kol-pipeline` as a user runs it: a subprocess with its own DAGSTER_HOME, on simulated data and on the real
MediaCrawler crawl in ../shared/real."""

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from kol_pipeline.lib.ingest import intake as ingest_lib
from kol_pipeline.lib.ingest import landing as landing_lib
from kol_pipeline.lib.simulate import simulate
from kol_pipeline.orchestration.planning import MAX_GAP_DAYS, downstream_gap, find_partition_days, plan_runs
from kol_pipeline.resources.io_manager import list_partitions, read_table

pytestmark = pytest.mark.heavy(200)

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "real" / "mediacrawler_mf_koc"


def kol(*args: str, home: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOL_")}
    env["DAGSTER_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "kol_pipeline.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_bad_arguments_give_clear_errors(tmp_path):
    p = kol("run", "--landing", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "wh"), home=tmp_path / "h")
    assert p.returncode == 2 and "does not exist" in p.stdout
    (tmp_path / "empty").mkdir()
    p = kol("run", "--landing", str(tmp_path / "empty"), "--warehouse", str(tmp_path / "wh"), home=tmp_path / "h")
    assert p.returncode == 2 and "no MediaCrawler XHS rows" in p.stdout
    # only another platform's crawl: nothing to do, and the message says what was skipped and why
    other = tmp_path / "data" / "douyin" / "json"
    other.mkdir(parents=True)
    (other / "search_contents_2025-06-16.json").write_text('[{"aweme_id": "1"}]', encoding="utf-8")
    p = kol("run", "--landing", str(tmp_path / "data"), "--warehouse", str(tmp_path / "wh"), home=tmp_path / "h")
    assert p.returncode == 2 and "no MediaCrawler XHS rows" in p.stdout, p.stdout + p.stderr
    assert "  other platform (douyin) (1): douyin/json/search_contents_2025-06-16.json" in p.stdout


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the real crawl is not at {REAL}")
def test_real_crawl_through_dagster(tmp_path):
    """The dense March 2025 crawl through `kol-pipeline run`, with metrics; the whole folder, with its one bad
    record, is ingested through Dagster in the next test."""
    wh, home = tmp_path / "wh", tmp_path / "home"
    p = kol(
        "run", "--landing", str(REAL), "--warehouse", str(wh), "--start", "2025-03-10", "--end", "2025-03-22", home=home
    )
    assert p.returncode == 0, p.stdout + p.stderr
    notes = read_table(str(wh), "notes", "2025-03-10", "2025-03-22")
    lib = ingest_lib.ingest_batches(
        landing_lib.batches_for_days(REAL, date(2025, 3, 10), date(2025, 3, 22)),
        ingest_lib.IngestContext(),
        date(2025, 3, 10),
        date(2025, 3, 22),
    )
    assert len(notes) == len(lib.notes) == 15_488
    assert notes.groupby(["note_id", "snapshot_date"]).size().max() == 1
    creators = read_table(str(wh), "creators")
    assert len(creators) == 105 and set(creators["tier"]) == {"nano"}
    assert {11_000, 45_000} <= set(read_table(str(wh), "notes")["likes"].dropna().astype(int))
    # single crawls: horizon metrics beyond 2 days are null, never invented; save_to_like is filled
    nm = read_table(str(wh), "note_metrics", "2025-03-22", "2025-03-22")
    assert len(nm) > 0
    assert nm["eng_7d"].isna().all() and nm["eng_30d"].isna().all() and nm["half_life_days"].isna().all()
    assert nm["save_to_like"].notna().mean() > 0.9
    tb = read_table(str(wh), "tier_benchmarks", "2025-03-22", "2025-03-22")
    assert tb.loc[(tb["tier"] == "nano") & (tb["category"] == "all"), "curve_0_2d"].notna().all()


@pytest.mark.skipif(not REAL.is_dir(), reason=f"the real crawl is not at {REAL}")
def test_real_crawl_whole_folder_ingested_through_dagster(tmp_path):
    """Issue #2's figures for the whole real folder, through `kol-pipeline run --ingest-only` and the Dagster
    instance: 518 sparse days in a handful of ranged runs (not a run per day), 16,339 note rows read, 16,236 kept,
    114 creator rows read, 106 kept (103 creators, all nano), exactly one quarantined row, counts like "1.1万"."""
    wh, home = tmp_path / "wh", tmp_path / "home"
    p = kol("run", "--landing", str(REAL), "--warehouse", str(wh), "--ingest-only", home=home)
    assert p.returncode == 0, p.stdout + p.stderr
    found = sorted(landing_lib.landing_days(REAL))
    ranges = plan_runs(found, MAX_GAP_DAYS)
    assert len(found) == 518 and len(ranges) < 20
    assert f"{len(found)} partitions ({found[0]}..{found[-1]}) ingested in {len(ranges)} ranged run(s)" in p.stdout

    notes, creators, q = (
        read_table(str(wh), "notes"),
        read_table(str(wh), "creators"),
        read_table(str(wh), "quarantine"),
    )
    assert len(notes) == 16_236 and notes.groupby(["note_id", "snapshot_date"]).size().max() == 1
    assert len(creators) == 106 and creators["user_id"].nunique() == 103 and set(creators["tier"]) == {"nano"}
    assert len(q) == 1 and '"note_id": "64a47bc0000000002f0284c9"' in q.iloc[0]["raw"]
    assert (q.iloc[0]["source_file"], q.iloc[0]["reason"]) == (
        "Ning/creator_contents_extension.json",
        "published_at is after crawled_at",
    )
    assert {11_000, 45_000} <= set(notes["likes"].dropna().astype(int))
    assert "notes 16,236, creators 106" in p.stdout and "quarantined rows: 1" in p.stdout

    with dg.DagsterInstance.from_config(str(home)) as inst:
        runs = [r for r in inst.get_runs() if r.job_name == "ingest_job"]
        assert sorted(
            (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in runs
        ) == [(a.isoformat(), b.isoformat()) for a, b in ranges]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        spanned = {(a + timedelta(days=k)).isoformat() for a, b in ranges for k in range((b - a).days + 1)}
        for table in ("notes", "creators", "quarantine"):
            assert inst.get_materialized_partitions(dg.AssetKey(table)) == spanned, table
        # the row accounting of every run, from the materialization metadata the UI shows
        read = {}
        for table, key in (("notes", "rows_read"), ("creators", "rows_read"), ("notes", "rows_quarantined")):
            per_run = {}
            for rec in inst.fetch_materializations(dg.AssetKey(table), limit=5000).records:
                per_run[rec.run_id] = rec.asset_materialization.metadata[key].value
            assert set(per_run) == {r.run_id for r in runs}
            read[(table, key)] = sum(per_run.values())
        assert read == {
            ("notes", "rows_read"): 16_339,
            ("creators", "rows_read"): 114,
            ("notes", "rows_quarantined"): 1,
        }
        # each day's own row count (0 on the empty days between crawl days)
        by_day = notes.groupby(notes["snapshot_date"].astype(str)).size().to_dict()
        recs = inst.fetch_materializations(dg.AssetKey("notes"), limit=5000).records
        counts = {r.partition_key: r.asset_materialization.metadata["dagster/row_count"].value for r in recs}
        assert counts == {d: by_day.get(d, 0) for d in spanned}
        # kol-pipeline run stores one planned event per asset and run (not per day)
        planned = inst.get_event_records(
            dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=dg.AssetKey("notes")),
            limit=5000,
        )
        assert len(planned) == len(runs)


def _spanned(days: list[date]) -> set[str]:
    """Every day of the ranged downstream runs `kol-pipeline run` plans for ``days``."""
    return {
        (a + timedelta(days=k)).isoformat()
        for a, b in plan_runs(days, downstream_gap())
        for k in range((b - a).days + 1)
    }


def test_run_records_history_and_resume_reruns_only_the_days_that_did_not_complete(tmp_path):
    """A backfill interrupted after its first week: each `kol-pipeline run` prints a progress line per partition
    and a summary, and records its runs in DAGSTER_HOME (the instance the UI reads); `--resume` runs only the
    other days, then finds nothing to do. (One simulated folder for both: each run of the CLI is a process that
    imports Dagster and the pipeline, about 25 s of a CI worker on a slow machine.)"""
    landing, wh, home = tmp_path / "landing", tmp_path / "wh", tmp_path / "home"
    simulate(landing, creators=6, days=14, seed=8, end_date=date(2025, 5, 31))
    found = sorted(find_partition_days(landing))  # the crawl's days and the brand files' (search rankings)
    first = found[:6]
    p = kol(
        "run",
        "--landing",
        str(landing),
        "--warehouse",
        str(wh),
        "--start",
        first[0].isoformat(),
        "--end",
        first[-1].isoformat(),
        home=home,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    conf = (home / "dagster.yaml").read_text()
    assert "telemetry" in conf and "enabled: false" in conf
    out = p.stdout
    # a progress line per partition, then the summary
    for d in first:
        assert f"] {d.isoformat()}  notes" in out, d
    assert "rows: notes " in out and "quarantined rows: " in out and out.rstrip().endswith("exit 0")
    notes = read_table(str(wh), "notes")
    assert len(notes) > 0 and f"notes {len(notes):,}" in out

    p = kol("run", "--landing", str(landing), "--warehouse", str(wh), "--resume", home=home)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"resume: {len(first)} of {len(found)} partitions already complete" in p.stdout
    for d in found[len(first) :]:
        assert f"] {d.isoformat()}  notes" in p.stdout, d
    assert f"] {first[-1].isoformat()}  notes" not in p.stdout
    with dg.DagsterInstance.from_config(str(home)) as inst:
        runs = inst.get_runs()
        assert {r.job_name for r in runs} >= {"brand_job", "ingest_job", "downstream_job"}
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        second = [r for r in runs if r.job_name == "ingest_job" and r.tags.get("dagster/asset_partition_range_start")]
        starts = sorted(r.tags["dagster/asset_partition_range_start"] for r in second)
        assert starts[0] == first[0].isoformat() and starts[1] > first[-1].isoformat()  # the resumed run starts after
        assert len(starts) == 2
        mats = inst.fetch_materializations(dg.AssetKey("note_metrics"), limit=500).records
        materialized = {m.partition_key for m in mats}
        # every day of the ranged runs, including days whose note_metrics are empty
        assert materialized == _spanned(first) | _spanned(found[len(first) :])
        assert set(list_partitions(str(wh), "note_metrics")) <= materialized  # empty days write no file
    assert list_partitions(str(wh), "note_metrics")[-1] == found[-1].isoformat()
    # that a second run over the same folder replaces, never appends: assets/test_pipeline.py
    # (test_warehouse_equals_library_and_reruns_replace, through run_pipeline, which this command calls)

    p = kol("run", "--landing", str(landing), "--warehouse", str(wh), "--resume", home=home)
    assert p.returncode == 0 and "nothing to do" in p.stdout, p.stdout + p.stderr
