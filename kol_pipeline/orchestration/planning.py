"""Planning `kol-pipeline run`: the days that hold data, their grouping into ranged runs (a cost model), what an
ingestion run writes and which days are already complete in the instance."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import intake as ingest_lib
from kol_pipeline.lib.schemas import daily_tables

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
    from kol_pipeline.lib.ingest import landing as landing_lib

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


def split_around(rng: tuple[date, date], blocked: set[date]) -> list[tuple[date, date]]:
    """``rng`` without its blocked days: the runs of consecutive days between them (days one apart share a run;
    until the twenty-second session a gap of 0 made every day after a blocked one a run of its own)."""
    start, end = rng
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    return plan_runs([d for d in days if d not in blocked], max_gap=1) if any(d in blocked for d in days) else [rng]


def ingest_selection(landing: Path | None) -> list[dg.AssetKey]:
    """The ingestion outputs a run writes: comments and search_rankings only when the landing folder (or the
    MediaCrawler database) can have them."""
    import os

    selection = daily_tables("ingest")
    if landing is not None:
        from kol_pipeline.lib.ingest import landing as landing_lib

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


@functools.cache
def load_definitions() -> dg.Definitions:
    """The code location's Definitions, built once per process: `kol-pipeline run` resolves a job from them for
    every run it launches (``running.job_named``, what a reconstructable job reloads), and building them walks
    the defs folder (~0.3 s each time: 13 times in a 14-day run). They hold no value read from the environment:
    resources read theirs (``dg.EnvVar``) when a run starts."""
    from kol_pipeline.definitions import defs

    return defs() if callable(defs) else defs
