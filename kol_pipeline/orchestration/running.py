"""Running `kol-pipeline run`: brand files once, ingestion and its checks per ranged run, then the downstream layers
(metrics, marts, reports) for the days whose blocking checks passed, in as few ranged runs as possible."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from kol_pipeline.defs.shared import LANDING_CACHE_TAG, metadata_days
from kol_pipeline.orchestration.planning import (
    COMPACT_PLANNED_EVENTS_ENV,
    downstream_gap,
    ingest_selection,
    load_definitions,
    plan_runs,
    split_around,
)
from kol_pipeline.orchestration.summary import RunSummary, add_accounting, partition_counts, table_totals

# The CLI prints its own progress lines; Dagster's console logger only shows warnings and errors there. Every event
# is still stored in the instance and visible in the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def range_tags(start: date, end: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
        "kol/launched_by": "kol-pipeline run",
    }


def job_named(name: str) -> dg.JobDefinition:
    """The code location's job ``name``: what ``run_job`` rebuilds its job from."""
    return load_definitions().resolve_job_def(name)


@contextmanager
def run_job(
    name: str,
    instance: dg.DagsterInstance,
    *,
    tags: dict[str, str] | None = None,
    asset_selection: set[dg.AssetKey] | None = None,
    asset_check_selection: set[dg.AssetCheckKey] | None = None,
    run_config: dict | None = None,
):
    """Execute the job ``name`` (optionally a subset) to its end and yield its result.

    Through ``dg.execute_job``, not ``JobDefinition.execute_in_process``: execute_in_process keeps every step's
    output value in memory until the run ends, for its result's ``output_for_node``. Our outputs are the day's
    tables, already written by the IO manager, so a run held all of them at once (docs/operations.md). The run
    goes through the job's own executor (in process), like a run worker of ``dagster dev`` or the daemon."""
    recon = dg.build_reconstructable_job(__name__, "job_named", reconstructable_args=(name,))
    if asset_selection is not None or asset_check_selection is not None:
        recon = recon.get_subset(asset_selection=asset_selection, asset_check_selection=asset_check_selection)
    with dg.execute_job(
        recon,
        instance=instance,
        run_config=QUIET if run_config is None else run_config,
        tags=tags,
        raise_on_error=False,
    ) as result:
        yield result


@dataclass(frozen=True)
class _Outcome:
    """What the CLI needs of a finished run: its id, success, and (failed checks, warnings, blocked days)."""

    run_id: str
    success: bool
    checks: tuple[list[str], list[str], set[date]]

    @classmethod
    def of(cls, result: dg.JobExecutionResult) -> _Outcome:
        return cls(result.run_id, result.success, _check_outcomes(result))


def _check_outcomes(
    result: dg.JobExecutionResult | dg.ExecuteInProcessResult,
) -> tuple[list[str], list[str], set[date]]:
    """(failed blocking checks, warnings, blocked days) from a run's check evaluations."""
    failed, warned, blocked = [], [], set()
    for ev in result.get_asset_check_evaluations():
        if ev.passed:
            continue
        name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
        meta = ev.metadata or {}
        day_list = metadata_days(meta.get("blocked_partitions")) or []
        if ev.severity == dg.AssetCheckSeverity.ERROR:
            failed.append(f"{name} ({', '.join(d.isoformat() for d in day_list) or 'all days'})")
            blocked |= set(day_list)
        else:
            warned.append(name)
    return failed, warned, blocked


def run_pipeline(
    ranges: Sequence[tuple[date, date]],
    warehouse: str,
    progress: Callable[[str], None] = print,
    instance: dg.DagsterInstance | None = None,
    downstream_days: set[date] | None = None,
    landing: Path | None = None,
    compact_planned_events: bool = True,
) -> RunSummary:
    """Brand files once; ingest + checks for each range; then the downstream layers for the days of
    `downstream_days` (all days when None) whose blocking checks passed, in as few ranged runs as possible.
    `compact_planned_events`: one planned event per asset and run (see COMPACT_PLANNED_EVENTS_ENV)."""
    with _env(COMPACT_PLANNED_EVENTS_ENV, "true" if compact_planned_events else None):
        return _run_pipeline(ranges, warehouse, progress, instance, downstream_days, landing)


@contextmanager
def _env(name: str, value: str | None):
    """Set (or, with None, leave as it is) an environment variable for the duration of the block."""
    import os

    if value is None:
        yield
        return
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def _run_pipeline(
    ranges: Sequence[tuple[date, date]],
    warehouse: str,
    progress: Callable[[str], None],
    instance: dg.DagsterInstance | None,
    downstream_days: set[date] | None,
    landing: Path | None,
) -> RunSummary:
    defs = load_definitions()
    instance = instance or dg.DagsterInstance.get()
    summary = RunSummary()
    clock = time.monotonic()
    progress("brand and reference files")
    with run_job("brand_job", instance, tags={"kol/launched_by": "kol-pipeline run"}) as res:
        outcome = _Outcome.of(res)
    summary.runs += 1
    failed, warned, _ = outcome.checks
    summary.failed_checks += failed
    summary.warned_checks += warned
    brand_ok = outcome.success and not failed
    if not outcome.success and not failed:
        summary.failed_runs.append(f"brand files (run {outcome.run_id})")

    summary.phase_seconds["brand"] = time.monotonic() - clock
    clock = time.monotonic()
    selection = ingest_selection(landing)
    from kol_pipeline.defs.validate.checks import INGEST_CHECK_SPECS

    ingest_checks = {spec.key for spec in INGEST_CHECK_SPECS if spec.asset_key in set(selection)}
    blocked_all: set[date] = set()
    ok_days: list[date] = []
    for i, (start, end) in enumerate(ranges, start=1):
        days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
        summary.days += days
        with run_job(
            "ingest_job",
            instance,
            tags={**range_tags(start, end), LANDING_CACHE_TAG: "keep"},
            asset_selection=set(selection),
            asset_check_selection=ingest_checks,
        ) as res:
            outcome = _Outcome.of(res)
            add_accounting(summary.accounting, res)
        summary.runs += 1
        failed, warned, blocked = outcome.checks
        if not outcome.success and not failed:
            summary.failed_runs.append(f"ingest {start}..{end} (run {outcome.run_id})")
            progress(f"[ingest {i}/{len(ranges)}] {start}..{end}: run {outcome.run_id} FAILED; see the Dagster UI")
            continue
        summary.failed_checks += failed
        summary.warned_checks += warned
        blocked_all |= blocked
        ok_days += [d for d in days if d not in blocked]
        counts = partition_counts(warehouse, start, end)
        for d in days:
            c = counts.get(d.isoformat(), {})
            progress(
                f"[ingest {i}/{len(ranges)}] {d}  notes {c.get('notes', 0):>6}  creators {c.get('creators', 0):>5}  "
                f"comments {c.get('comments', 0):>6}  quarantined {c.get('quarantine', 0):>4}"
                + ("  BLOCKED by a failed check" if d in blocked else "")
            )
    summary.blocked_days = sorted(blocked_all)
    summary.phase_seconds["ingest"] = time.monotonic() - clock
    from kol_pipeline.lib.ingest import landing as landing_lib

    landing_lib.clear_cache()  # the downstream runs do not read the landing folder
    clock = time.monotonic()

    todo = [d for d in ok_days if downstream_days is None or d in downstream_days]
    if not brand_ok:
        progress("downstream layers skipped: the brand files failed a blocking check or could not be read")
        todo = []
    down_ranges = plan_runs(todo, max_gap=downstream_gap(defs))
    # a merged gap must not re-run a blocked day
    down_ranges = [r for rng in down_ranges for r in split_around(rng, blocked_all)]
    for i, (start, end) in enumerate(down_ranges, start=1):
        with run_job("downstream_job", instance, tags=range_tags(start, end)) as res:
            outcome = _Outcome.of(res)
        summary.runs += 1
        failed, warned, _ = outcome.checks
        summary.failed_checks += failed
        summary.warned_checks += warned
        if not outcome.success and not failed:
            summary.failed_runs.append(f"downstream {start}..{end} (run {outcome.run_id})")
        counts = partition_counts(warehouse, start, end)
        for k in range((end - start).days + 1):
            d = start + timedelta(days=k)
            c = counts.get(d.isoformat(), {})
            progress(
                f"[metrics {i}/{len(down_ranges)}] {d}  note_metrics {c.get('note_metrics', 0):>6}  "
                f"creator_scorecard {c.get('creator_scorecard', 0):>5}  campaign_performance "
                f"{c.get('campaign_performance', 0):>4}" + ("" if outcome.success else "  FAILED")
            )
    summary.phase_seconds["downstream"] = time.monotonic() - clock
    totals = table_totals(warehouse, summary.days)
    summary.quarantined = totals.pop("quarantine", 0)
    summary.rows = totals
    return summary
