"""How `kol-pipeline run` drives Dagster: find the partitions, group them into ranged runs, run ingestion and its
checks, then the downstream layers for the partitions whose blocking checks passed.

Every run goes through the same job definitions the UI shows (kol_pipeline.defs.automation) and lands in the
DAGSTER_HOME instance, so `make ui` shows its history, materializations, check results and metadata.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from kol_pipeline.defs.shared import LANDING_CACHE_TAG, metadata_days
from kol_pipeline.lib import brand as brand_lib
from kol_pipeline.lib import ingest as ingest_lib
from kol_pipeline.lib.schemas import daily_tables, summary_tables

# Cost model of a ranged run, measured on the real crawl (518 sparse days; docs/operations.md "Sparse history"):
# a run costs ~0.55 s of fixed work (run record, step and check events, resources, one GX validation per table);
# each (asset, day) in its range ~10 ms, mostly Dagster's stored materialization event. An empty day inside a range
# costs that per asset; a separate run costs RUN_COST_S. So two ranges are merged when the days between them cost
# less than a run: max gap = RUN_COST_S / (ASSET_PARTITION_COST_S * assets per day).
RUN_COST_S = 0.55
ASSET_PARTITION_COST_S = 0.010
# Dagster's per-partition planned events (one per asset and day of a ranged run) double that per-day cost.
# Dagster's own switch writes one planned event per asset and run instead; its documented cost: the partitions of
# a run that fails are shown as missing, not failed, in the UI's partition bar (the run itself is marked failed,
# kol-pipeline run prints the failure and `--resume` re-runs the missing days). kol-pipeline run sets it for its
# own runs only; runs launched from the UI, schedules and sensors keep per-partition planned events.
COMPACT_PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
# A downstream run costs more: ~14 steps, and its first day's states (note_state, creator_state, comment_state)
# are bootstrapped from up to 120 stored days when the day before it was not computed (measured on the real crawl:
# the last 150 days in 7 runs 46.8 s, in one run 37.8 s).
DOWNSTREAM_RUN_COST_S = 3.0


def merge_gap(assets_per_day: int, run_cost_s: float = RUN_COST_S) -> int:
    """Largest number of empty days between two data days that is cheaper to run through than to start a run."""
    return int(run_cost_s / (ASSET_PARTITION_COST_S * max(assets_per_day, 1)))


# Days closer than this share an ingestion run (3 ingestion assets: notes, creators, quarantine).
MAX_GAP_DAYS = merge_gap(3)


def downstream_gap(defs: dg.Definitions | None = None) -> int:
    """merge_gap for the downstream job (metrics, marts, reports: about a dozen daily assets)."""
    defs = defs or load_definitions()
    return merge_gap(
        len(defs.resolve_job_def("downstream_job").asset_layer.executable_asset_keys), DOWNSTREAM_RUN_COST_S
    )


# By default the downstream layers (metrics, marts, reports) are materialized for the found days of the trailing
# window of note_metrics before the newest day; older days are ingested and validated (they feed the windows).
DEFAULT_METRICS_DAYS = 120


def find_partition_days(landing: Path) -> set[date]:
    """Asia/Shanghai days that hold MediaCrawler rows (files, and the database when KOL_SOURCE_DB_URL is set) or a
    search_rankings file."""
    from kol_pipeline.lib import landing as landing_lib

    days = set(landing_lib.landing_days(landing))
    days |= {date.fromisoformat(d) for d in brand_lib.search_ranking_files(landing)}
    import os

    url = os.environ.get("KOL_SOURCE_DB_URL")
    if url:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        try:
            days |= set(db_crawl_days(engine))
        finally:
            engine.dispose()
    return days


def db_crawl_days(engine) -> set[date]:
    """The days of MediaCrawler's database tables' rows (`ingest.db_record_days`: the crawl time's, or the insert
    time's where the crawl time is unusable)."""
    import sqlalchemy as sa

    out: set[date] = set()
    insp = sa.inspect(engine)
    with engine.connect() as conn:
        for table in ingest_lib.DB_TABLES.values():
            if not insp.has_table(table):
                continue
            cols = {c["name"] for c in insp.get_columns(table)}
            if "last_modify_ts" not in cols:
                continue
            query = sa.select(sa.column("last_modify_ts"), sa.column("add_ts") if "add_ts" in cols else sa.null())
            rows = conn.execute(query.select_from(sa.table(table))).all()
            days, _ = ingest_lib.db_record_days([r[0] for r in rows], [r[1] for r in rows])
            out |= {date(1970, 1, 1) + timedelta(days=int(d)) for d in set(days.tolist()) if d >= 0}
    return out


def plan_runs(days: Sequence[date], max_gap: int = MAX_GAP_DAYS) -> list[tuple[date, date]]:
    """Group sorted days into ranges; days at most `max_gap` apart share a run."""
    ranges: list[tuple[date, date]] = []
    for d in sorted(set(days)):
        if ranges and (d - ranges[-1][1]).days <= max_gap:
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges


# The CLI prints its own progress lines; Dagster's console logger only shows warnings and errors there. Every event
# is still stored in the instance and visible in the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def range_tags(start: date, end: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
        "kol/launched_by": "kol-pipeline run",
    }


@dataclass
class RunSummary:
    days: list[date] = field(default_factory=list)
    runs: int = 0
    failed_runs: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    blocked_days: list[date] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    # per ingested kind: rows read / kept / duplicates / quarantined over the run's days (the ingest assets'
    # accounting metadata), and the landing files not read, with why
    accounting: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # wall seconds per phase (brand files, ingestion runs, downstream runs): where a long run spends its time
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if (self.failed_runs or self.failed_checks) else 0

    def render(self, seconds: float) -> str:
        lines = [
            f"done in {seconds:.1f}s: {len(self.days)} daily partitions materialized (days with data and the empty "
            f"days inside ranged runs), {self.runs} Dagster runs"
            + (
                " (" + ", ".join(f"{k} {v:.1f}s" for k, v in self.phase_seconds.items()) + ")"
                if self.phase_seconds
                else ""
            ),
            "rows: " + ", ".join(f"{t} {n:,}" for t, n in self.rows.items()),
            f"quarantined rows: {self.quarantined:,}",
        ]
        for kind, acc in self.accounting.items():
            lines.append(
                f"  {kind}: read {acc['read']:,} / kept {acc['kept']:,} / duplicates {acc['duplicates']:,} / "
                f"quarantined {acc['quarantined']:,}"
            )
        lines += render_skipped(self.skipped)
        if self.warned_checks:
            counts: dict[str, int] = {}
            for w in self.warned_checks:
                counts[w] = counts.get(w, 0) + 1
            lines.append(
                "check warnings (runs): "
                + "; ".join(f"{w} ({n})" for w, n in sorted(counts.items()))
                + " - see the check metadata in the UI"
            )
        if self.failed_checks:
            lines.append(f"FAILED blocking checks ({len(self.failed_checks)}): " + "; ".join(self.failed_checks))
            lines.append("downstream assets skipped for: " + ", ".join(d.isoformat() for d in self.blocked_days))
        if self.failed_runs:
            lines.append("FAILED runs: " + "; ".join(self.failed_runs))
        lines.append("exit " + str(self.exit_code))
        return "\n".join(lines)


ACCOUNTED = ("read", "kept", "duplicates", "quarantined")


def render_skipped(skipped: Sequence[tuple[str, str]], examples: int = 5) -> list[str]:
    """Summary lines for the files not read, grouped by reason, with up to `examples` names each (a MediaCrawler
    data folder can hold thousands of other platforms' files)."""
    if not skipped:
        return []
    by_reason: dict[str, list[str]] = {}
    for name, reason in skipped:
        by_reason.setdefault(reason, []).append(name)
    lines = [f"skipped files ({len(skipped):,}), not read:"]
    for reason, names in sorted(by_reason.items()):
        more = f", and {len(names) - examples:,} more" if len(names) > examples else ""
        lines.append(f"  {reason} ({len(names):,}): " + ", ".join(names[:examples]) + more)
    return lines


def add_accounting(total: dict[str, dict[str, int]], result: dg.JobExecutionResult) -> None:
    """Add an ingest run's rows read / kept / duplicates / quarantined per kind (its assets' `rows_*` metadata) to
    `total`. A ranged run records one materialization per day with the range's metadata: counted once per run."""
    seen: set[str] = set()
    for ev in result.get_asset_materialization_events():
        mat = ev.materialization
        name = mat.asset_key.to_user_string() if mat is not None else ""
        meta = mat.metadata if mat is not None else {}
        if name in seen or f"rows_{ACCOUNTED[0]}" not in meta:
            continue
        seen.add(name)
        acc = total.setdefault(name, dict.fromkeys(ACCOUNTED, 0))
        for k in ACCOUNTED:
            value = meta.get(f"rows_{k}")
            acc[k] += int(value.value) if value is not None else 0


def load_definitions() -> dg.Definitions:
    from kol_pipeline.definitions import defs

    return defs() if callable(defs) else defs


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


def ingest_selection(landing: Path | None) -> list[dg.AssetKey]:
    """The ingestion outputs a run writes: comments and search_rankings only when the landing folder (or the
    MediaCrawler database) can have them."""
    import os

    selection = daily_tables("ingest")
    if landing is not None:
        from kol_pipeline.lib import landing as landing_lib

        written = {
            "comments": "comments" in landing_lib.kinds_present(landing) or bool(os.environ.get("KOL_SOURCE_DB_URL")),
            "search_rankings": bool(brand_lib.search_ranking_files(landing)),
        }
        selection = tuple(t for t in selection if written.get(t, True))
    return [dg.AssetKey(t) for t in selection]


def completed_days(
    instance: dg.DagsterInstance, days: Sequence[date], downstream_days: set[date], landing: Path | None
) -> set[date]:
    """Days every asset of which `kol-pipeline run` would write has a materialization in the instance: the
    ingestion outputs, and for the days in `downstream_days` every downstream asset (metrics, marts, reports).
    A day blocked by a failed check or hit by a failed run is not complete."""
    defs = load_definitions()
    ingest = ingest_selection(landing)
    downstream = [
        k
        for k in defs.resolve_job_def("downstream_job").asset_layer.executable_asset_keys
        if defs.resolve_assets_def(k).partitions_def is not None
    ]
    done: dict[dg.AssetKey, set[str]] = {k: instance.get_materialized_partitions(k) for k in [*ingest, *downstream]}
    out = set()
    for d in days:
        key = d.isoformat()
        keys = ingest + (downstream if d in downstream_days else [])
        if all(key in done[k] for k in keys):
            out.add(d)
    return out


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
        counts = _partition_counts(warehouse, start, end)
        for d in days:
            c = counts.get(d.isoformat(), {})
            progress(
                f"[ingest {i}/{len(ranges)}] {d}  notes {c.get('notes', 0):>6}  creators {c.get('creators', 0):>5}  "
                f"comments {c.get('comments', 0):>6}  quarantined {c.get('quarantine', 0):>4}"
                + ("  BLOCKED by a failed check" if d in blocked else "")
            )
    summary.blocked_days = sorted(blocked_all)
    summary.phase_seconds["ingest"] = time.monotonic() - clock
    from kol_pipeline.lib import landing as landing_lib

    landing_lib.clear_cache()  # the downstream runs do not read the landing folder
    clock = time.monotonic()

    todo = [d for d in ok_days if downstream_days is None or d in downstream_days]
    if not brand_ok:
        progress("downstream layers skipped: the brand files failed a blocking check or could not be read")
        todo = []
    down_ranges = plan_runs(todo, max_gap=downstream_gap(defs))
    # a merged gap must not re-run a blocked day
    down_ranges = [r for rng in down_ranges for r in _split_around(rng, blocked_all)]
    for i, (start, end) in enumerate(down_ranges, start=1):
        with run_job("downstream_job", instance, tags=range_tags(start, end)) as res:
            outcome = _Outcome.of(res)
        summary.runs += 1
        failed, warned, _ = outcome.checks
        summary.failed_checks += failed
        summary.warned_checks += warned
        if not outcome.success and not failed:
            summary.failed_runs.append(f"downstream {start}..{end} (run {outcome.run_id})")
        counts = _partition_counts(warehouse, start, end)
        for k in range((end - start).days + 1):
            d = start + timedelta(days=k)
            c = counts.get(d.isoformat(), {})
            progress(
                f"[metrics {i}/{len(down_ranges)}] {d}  note_metrics {c.get('note_metrics', 0):>6}  "
                f"creator_scorecard {c.get('creator_scorecard', 0):>5}  campaign_performance "
                f"{c.get('campaign_performance', 0):>4}" + ("" if outcome.success else "  FAILED")
            )
    summary.phase_seconds["downstream"] = time.monotonic() - clock
    totals = _table_totals(warehouse, summary.days)
    summary.quarantined = totals.pop("quarantine", 0)
    summary.rows = totals
    return summary


def _split_around(rng: tuple[date, date], blocked: set[date]) -> list[tuple[date, date]]:
    start, end = rng
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    return plan_runs([d for d in days if d not in blocked], max_gap=0) if any(d in blocked for d in days) else [rng]


SUMMARY_TABLES = summary_tables()


def _partition_counts(
    warehouse: str, start: date, end: date, tables: Sequence[str] = SUMMARY_TABLES
) -> dict[str, dict[str, int]]:
    """Rows per day and table for the days start..end, from Parquet footers (no data read; only those days'
    folders are looked at, so a long history costs nothing here)."""
    import pyarrow.parquet as pq

    from kol_pipeline.resources.io_manager import PART_FILE, make_base_path

    base = make_base_path(warehouse)
    fs = base.fs
    out: dict[str, dict[str, int]] = {}
    days = [(start + timedelta(days=k)).isoformat() for k in range((end - start).days + 1)]
    for table in tables:
        for day in days:
            part = base / table / f"snapshot_date={day}" / PART_FILE
            path = part.path
            if not fs.exists(path):
                continue
            with fs.open(path, "rb") as fh:
                out.setdefault(day, {})[table] = pq.ParquetFile(fh).metadata.num_rows
    return out


def _table_totals(warehouse: str, days: Sequence[date]) -> dict[str, int]:
    if not days:
        return {}
    counts = _partition_counts(warehouse, min(days), max(days))
    wanted = {d.isoformat() for d in days}
    totals: dict[str, int] = {t: 0 for t in SUMMARY_TABLES}
    for day, per in counts.items():
        if day in wanted:
            for t, n in per.items():
                totals[t] += n
    return totals
