"""The code location as the UI and `dagster definitions validate` see it."""

import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from kol_pipeline.orchestration.planning import load_definitions

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_validate_without_warnings(tmp_path):
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    p = subprocess.run(
        [str(Path(os.sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "All code locations passed validation" in out
    # the only warning printed is Dagster's own notice that this CLI command is superseded by `dg check defs`
    lines = [ln for ln in out.splitlines() if "WARNING" in ln or "Warning" in ln]
    assert all("definitions_validate_command" in ln for ln in lines), lines


def test_assets_are_documented_grouped_and_typed():
    defs = load_definitions()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {
        "notes",
        "creators",
        "comments",
        "quarantine",
        "note_metrics",
        "creator_scorecard",
        "tier_benchmarks",
        "campaign_performance",
        "keyword_share_of_voice",
        "brand_search_lift",
        "brand_creator_relationships",
        "tier_comparison",
        "creator_shortlist",
    } <= keys
    for spec in defs.resolve_all_asset_specs():
        name = spec.key.to_user_string()
        assert spec.description and len(spec.description) > 20, name
        assert spec.group_name in {"ingest", "metrics", "marts", "reporting"}, name
        assert spec.kinds >= ({"html"} if spec.group_name == "reporting" else {"parquet"}), name
    checks = {k.name for k in graph.asset_check_keys}
    assert {"notes_suite", "creators_suite", "comments_suite", "quarantine_suite", "campaign_posts_suite"} <= checks


def test_daily_schedule_exists_and_is_stopped():
    defs = load_definitions()
    schedules = list(defs.schedules or [])
    assert len(schedules) == 1
    s = schedules[0]
    assert s.default_status == dg.DefaultScheduleStatus.STOPPED
    assert s.job_name == "daily_job"
    assert s.execution_timezone == "Asia/Shanghai"
    assert s.cron_schedule == "30 5 * * *"


@pytest.mark.parametrize(
    "tick,expected",
    [
        ("2025-07-01T05:30:00+08:00", "2025-06-30"),
        ("2025-03-01T05:30:00+08:00", "2025-02-28"),
        ("2025-01-01T05:30:00+08:00", "2024-12-31"),
    ],
)
def test_daily_schedule_requests_yesterdays_partition(tick, expected):
    from datetime import datetime

    from kol_pipeline.defs.automation import daily_schedule

    ctx = dg.build_schedule_context(scheduled_execution_time=datetime.fromisoformat(tick))
    req = daily_schedule(ctx)
    assert req.partition_key == expected and req.run_key == expected
