"""The daily report for marketers: one self-contained HTML page per day, WAREHOUSE/reports/YYYY-MM-DD.html.

A thin wrapper over kol_pipeline.lib.reporting.report.render_report. The page is not a warehouse table: the asset writes the
file itself and returns a MaterializeResult (no IO manager output). docs/report.md describes the page.
"""

import os
import uuid
from collections.abc import Sequence
from datetime import date

import dagster as dg
import pandas as pd
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem
from upath import UPath

from kol_pipeline.defs.metrics.assets import LAZY
from kol_pipeline.defs.shared import DAILY, SINGLE_RUN, metadata_days, run_days, window_mapping
from kol_pipeline.lib import duck
from kol_pipeline.lib.reporting import charts
from kol_pipeline.lib.reporting import report as report_lib
from kol_pipeline.lib.schemas import TABLES
from kol_pipeline.lib.settings import TIER_NAMES
from kol_pipeline.resources.io_manager import PartitionedInput
from kol_pipeline.resources.warehouse import Warehouse

REPORTS_DIR = "reports"
#: newest asset check evaluations read from the event log (about 25 checks x 80 runs)
CHECK_EVENTS = 2000
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def report_path(root: UPath, day: date) -> UPath:
    """WAREHOUSE/reports/YYYY-MM-DD.html under the warehouse folder ``root`` (``Warehouse.root``: local or fsspec)."""
    return root / REPORTS_DIR / f"{day.isoformat()}.html"


def write_report(path: UPath, text: str) -> int:
    """Write the page; locally to a hidden temporary name in the same folder, then renamed over the final name (a
    reader never sees a partial page); elsewhere one plain write (one PUT on object stores). Returns the bytes."""
    data = text.encode("utf-8")
    if isinstance(path.fs, LocalFileSystem):
        final = os.fspath(path)
        folder = os.path.dirname(final)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{os.path.basename(final)}.tmp-{uuid.uuid4().hex}")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return len(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotImplementedError, OSError):  # object stores have no folders
        pass
    path.fs.pipe_file(path.path, data)
    return len(data)


# ---------------------------------------------------------------------------------------------- failed checks


def _run_days(instance: dg.DagsterInstance, run_id: str, cache: dict[str, set[date] | None]) -> set[date] | None:
    """The days a run covered (its partition or partition range tags); None = an unpartitioned run (every day)."""
    if run_id not in cache:
        run = instance.get_run_by_id(run_id)
        tags = run.tags if run is not None else {}
        days: set[date] | None = None
        try:
            if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
                start, end = date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
                days = {d.date() for d in pd.date_range(start, end, freq="D")}
            elif PARTITION_TAG in tags:
                days = {date.fromisoformat(tags[PARTITION_TAG])}
        except ValueError:  # a partition key that is not a day
            days = None
        cache[run_id] = days
    return cache[run_id]


def _meta_text(metadata, key: str) -> str | None:
    v = (metadata or {}).get(key)
    if v is None:
        return None
    return str(getattr(v, "value", v))


def _day_set(value: object) -> set[date] | None:
    """The days a check's ``blocked_partitions``/``failed_partitions`` metadata names; None when absent or empty
    (then the failure is not day-specific)."""
    days = metadata_days(value)
    return set(days) if days else None


def _failure_for_day(evaluation, day: date) -> str | None:
    """The report line of a failed evaluation for `day`, or None when it names other days only."""
    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    meta = evaluation.metadata
    blocked = _day_set((meta or {}).get("blocked_partitions"))
    failed_days = _day_set((meta or {}).get("failed_partitions"))
    failed = _meta_text(meta, "failed") or ""
    warnings = _meta_text(meta, "warnings") or ""
    if blocked is not None:  # ingestion suites: blocking failures per day, warnings over the run's range
        if day in blocked:
            return f"{name}: blocking failure ({failed or 'see the check in Dagster'})"
        return f"{name}: warning ({warnings})" if warnings else None
    if failed_days is not None and day not in failed_days:
        return None
    severity = "blocking failure" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning"
    detail = ", ".join(x for x in (failed, warnings) if x)
    return f"{name}: {severity}" + (f" ({detail})" if detail else "")


def failed_checks_by_day(context: dg.AssetExecutionContext, days: Sequence[date]) -> dict[date, list[str]] | None:
    """For each day, the asset checks whose latest evaluation covering that day failed, as report lines.

    Read from the instance's event log (the newest CHECK_EVENTS check evaluations, any check of any code location
    writing to it): a run covers the days of its partition tags, an unpartitioned run every day. None when the event
    log cannot be read (the report then says check results were not available)."""
    try:
        instance = context.instance
        records = instance.event_log_storage.get_event_records(
            dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION),
            limit=CHECK_EVENTS,
            ascending=False,
        )
        runs: dict[str, set[date] | None] = {}
        pending: dict[tuple[str, str], set[date]] = {}
        out: dict[date, list[str]] = {d: [] for d in days}
        for rec in records:  # newest first
            entry = rec.event_log_entry
            evaluation = entry.asset_check_evaluation
            if evaluation is None:
                continue
            todo = pending.setdefault((evaluation.asset_key.to_user_string(), evaluation.check_name), set(days))
            if not todo:
                continue
            covered = _run_days(instance, entry.run_id, runs)
            hit = set(todo) if covered is None else todo & covered
            todo -= hit
            if evaluation.passed:
                continue
            for d in hit:
                line = _failure_for_day(evaluation, d)
                if line:
                    out[d].append(line)
        return {d: sorted(lines) for d, lines in out.items()}
    except Exception as exc:  # the report must not fail because the event log cannot be read
        context.log.warning(f"daily_report: could not read asset check results ({type(exc).__name__}: {exc})")
        return None


# ---------------------------------------------------------------------------------------------------- the asset


def _overall(tier_comparison: pd.DataFrame, day: date) -> pd.DataFrame:
    tc = tier_comparison
    if tc.empty:
        return tc
    sel = tc[
        (pd.to_datetime(tc["snapshot_date"]).dt.date == day) & (tc["campaign_id"] == "all") & (tc["brand"] == "all")
    ]
    return sel.set_index("tier").reindex([t for t in (*TIER_NAMES, "unknown") if t in set(sel["tier"])])


def _num(v) -> float | None:
    return None if pd.isna(v) else float(v)


#: the scorecard column the audience section shows (CONTRACT.md "Finding the right creators")
SEARCH_COLUMN = "search_appearances_30d"


def scorecard_searches(creator_scorecard: PartitionedInput, user_ids: Sequence[str]) -> pd.DataFrame:
    """snapshot_date, user_id and search_appearances_30d of the run's scorecard days for ``user_ids`` only (the
    audience section's creators); without the column in the scorecard's registry entry, only the first two."""
    columns = ["user_id"] + ([SEARCH_COLUMN] if SEARCH_COLUMN in TABLES["creator_scorecard"].column_names else [])
    with duck.connect(creator_scorecard.duck_settings) as con:
        wanted = con.from_arrow(pa.table({"user_id": pa.array(sorted(set(user_ids)), type=pa.string())}))
        return creator_scorecard.relation(con, columns=columns).join(wanted, "user_id").df()


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="reporting",
    kinds={"html"},
    ins={
        "tier_comparison": dg.AssetIn(),
        "campaign_performance": dg.AssetIn(),
        "keyword_share_of_voice": dg.AssetIn(partition_mapping=window_mapping(report_lib.SOV_DAYS)),
        "brand_search_lift": dg.AssetIn(),
        "creator_shortlist": dg.AssetIn(),
        "tier_benchmarks": dg.AssetIn(),
        "quarantine": dg.AssetIn(),
        "brand_audience_affinity": dg.AssetIn(),
        "creator_scorecard": dg.AssetIn(metadata=LAZY),
    },
)
def daily_report(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    tier_comparison: pd.DataFrame,
    campaign_performance: pd.DataFrame,
    keyword_share_of_voice: pd.DataFrame,
    brand_search_lift: pd.DataFrame,
    creator_shortlist: pd.DataFrame,
    tier_benchmarks: pd.DataFrame,
    quarantine: pd.DataFrame,
    brand_audience_affinity: pd.DataFrame,
    creator_scorecard: PartitionedInput,
) -> dg.MaterializeResult:
    """The marketers' page of the day, WAREHOUSE/reports/YYYY-MM-DD.html: tier comparison (spend, engagement and
    save shares, CPE), campaigns, cost per engagement and per save by tier, 30 days of share of voice per brand,
    brand search lift, the creator shortlist per brand, the creators the brand's audience already follows (top
    affinity per brand, with tier and search appearances), and data quality (quarantined rows, failed checks).
    Self-contained HTML (inline CSS and SVG charts), no external URL."""
    days = run_days(context)
    checks = failed_checks_by_day(context, days)
    total = 0
    # each page gets its day's rows (share of voice: its SOV_DAYS days), the dates of each frame converted once
    top = brand_audience_affinity
    if len(top):
        top = top[top["rank_in_brand"] <= report_lib.AUDIENCE_TOP]
    searches = scorecard_searches(creator_scorecard, list(top["user_id"]) if len(top) else [])
    tc, cp, sov, short, bench, quar, aff, sc = (
        report_lib.DaySlicer(f)
        for f in (
            tier_comparison,
            campaign_performance,
            keyword_share_of_voice,
            creator_shortlist,
            tier_benchmarks,
            quarantine,
            top,
            searches,
        )
    )
    for day in days:
        page = report_lib.render_report(
            day,
            tc.on(day),
            cp.on(day),
            sov.up_to(day, report_lib.SOV_DAYS),
            brand_search_lift,
            short.on(day),
            bench.on(day),
            quar.on(day),
            failed_checks=None if checks is None else checks[day],
            brand_audience_affinity=aff.on(day),
            creator_scorecard=sc.on(day),
        )
        path = report_path(warehouse.root, day)
        size = write_report(path, page)
        total += size
        meta: dict = {"path": dg.MetadataValue.path(str(path)), "bytes": size}
        if day == days[-1]:
            overall = _overall(tier_comparison, day)
            if len(overall):
                tiers = list(overall.index)
                meta["tier_comparison"] = dg.MetadataValue.md(
                    charts.png_markdown(
                        "bar",
                        {
                            c.replace("_", " "): [None if _num(v) is None else _num(v) * 100 for v in overall[c]]
                            for c in ("spend_share", "engagement_share", "save_share")
                        },
                        tiers,
                        f"Share of spend, engagements and saves by tier (%), {day}",
                        "%",
                    )
                )
                meta["cpe_by_tier"] = dg.MetadataValue.md(
                    charts.png_markdown(
                        "bar",
                        {
                            "CPE (CNY)": [_num(v) for v in overall["cpe_cny"]],
                            "cost per save (CNY)": [_num(v) for v in overall["cost_per_save_cny"]],
                        },
                        tiers,
                        f"Cost per engagement and per save by tier, {day}",
                        "CNY",
                    )
                )
        if len(days) > 1:
            context.add_asset_metadata(meta, partition_key=day.isoformat())
        else:
            last_meta = meta
    context.log.info(
        f"daily_report: {len(days)} page(s), {total:,} bytes, under {report_path(warehouse.root, days[0]).parent}"
    )
    return dg.MaterializeResult(metadata=last_meta if len(days) == 1 else None)
