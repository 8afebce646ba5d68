"""Asset checks: the Great Expectations suites of kol_pipeline.lib.quality.validation on every cleaned and brand table.

The daily tables (notes, creators, comments, search_rankings, quarantine) are checked inside the ingestion step
(`INGEST_CHECK_SPECS`, evaluated by `ingest_check_results`) because that step already holds the frames and the
row accounting; the suites run once over the run's whole range, and the per-day rules (rows against the previous
day with input, quarantine share) run per day. A blocking failure names its days in the `blocked_partitions`
metadata: Dagster blocks the downstream assets of a one-day run, and `kol-pipeline run` runs the downstream layers
only for the other days of a range.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, timedelta

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.defs.shared import days_metadata
from kol_pipeline.lib.ingest.clean import as_frame as cleaned_as_frame
from kol_pipeline.lib.quality import validation as val
from kol_pipeline.lib.schemas import MEDIACRAWLER, daily_tables, input_tables, tables_in
from kol_pipeline.resources.settings import KolSettings
from kol_pipeline.resources.warehouse import Warehouse

DAILY_TABLES = daily_tables("ingest")
#: the MediaCrawler kinds, whose rows read/kept/duplicates/quarantined are accounted per file and day
ACCOUNTED = input_tables(MEDIACRAWLER)
#: how far before a run the warehouse's notes count as crawled for a comment (note_metrics' window of 120 days)
NOTE_LOOKBACK_DAYS = 120

INGEST_CHECK_SPECS = [
    dg.AssetCheckSpec(
        name=f"{t}_suite",
        asset=t,
        blocking=True,
        description=f"Great Expectations suite of `{t}` (keys, ranges, sums, allowed values) and per-day rules "
        "(row count vs the previous day with input, quarantine share). Blocking failures stop the day's downstream assets.",
    )
    for t in DAILY_TABLES
] + [
    dg.AssetCheckSpec(
        name="comments_note_crawled",
        asset="comments",
        blocking=False,
        description="Warns about comments whose note was not crawled by the comment's day (not in this run's notes "
        f"of that day or before, nor in the warehouse's notes of the {NOTE_LOOKBACK_DAYS} days before the run). "
        "Such comments are kept (a comments-only crawl); metadata: how many, on how many notes, example note ids.",
    )
]


def validation_settings(settings: KolSettings) -> val.ValidationSettings:
    return val.ValidationSettings(
        max_quarantine_share=settings.max_quarantine_share,
        min_rows_for_quarantine_block=settings.min_rows_for_quarantine_block,
    )


def previous_rows(warehouse: Warehouse, table: str, before: date) -> int | None:
    """Rows of the latest partition of `table` strictly before `before` (None when there is none), from footers."""
    earlier = [d for d in warehouse.list_partitions(table) if d < before.isoformat()]
    return warehouse.partition_rows(table, earlier[-1]) if earlier else None


def warehouse_notes_before(warehouse: Warehouse, start: date) -> Callable[[set[str]], set[str]]:
    """Note ids -> those in the warehouse's notes of the NOTE_LOOKBACK_DAYS days before `start` (only those ids
    are looked for, newest day first, stopping once all are found)."""

    def lookup(ids: set[str]) -> set[str]:
        return warehouse.present_values(
            "notes",
            "note_id",
            ids,
            start=(start - timedelta(days=NOTE_LOOKBACK_DAYS)).isoformat(),
            end=(start - timedelta(days=1)).isoformat(),
        )

    return lookup


def note_crawled_result(
    comments: pd.DataFrame, notes: pd.DataFrame, known_before: Callable[[set[str]], set[str]] | None
) -> dg.AssetCheckResult:
    """The non-blocking `comments_note_crawled` check: comments on notes not crawled by their day."""
    outcome = val.note_crawled_rule(val.comments_on_uncrawled_notes(comments, notes, known_before))
    return dg.AssetCheckResult(
        check_name="comments_note_crawled",
        asset_key="comments",
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "comments_on_uncrawled_notes": outcome.observed["comments"],
            "uncrawled_notes": outcome.observed["notes"],
            "example_note_ids": ", ".join(outcome.unexpected_values),
            "by_day": dg.MetadataValue.json(outcome.observed["by_day"]),
        },
    )


def _as_frame(
    table: pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation, name: str, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """A table of the ingest step as a pandas frame (the checks' GX batches): a cleaned table (Arrow, or a DuckDB
    relation) is converted here, one at a time, so the step never holds all of them as frames at once."""
    if isinstance(table, pd.DataFrame):
        return table if columns is None or not len(table) else table[list(columns)]
    return cleaned_as_frame(table, name, columns)


def _day_counts(df: pd.DataFrame) -> dict[date, int]:
    return {d: int(n) for d, n in df.groupby("snapshot_date").size().items()} if len(df) else {}


def ingest_check_results(
    days: Sequence[date],
    tables: Mapping[str, pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation],
    accounting: pd.DataFrame,
    input_days: set[date],
    previous: dict[str, int | None],
    categories: pd.DataFrame,
    settings: val.ValidationSettings,
    known_notes: Callable[[set[str]], set[str]] | None = None,
) -> Iterator[dg.AssetCheckResult]:
    """One AssetCheckResult per daily table for the run's days, then `comments_note_crawled` (known_notes: note
    ids -> those crawled before the run, see `warehouse_notes_before`).

    input_days: days with a search_rankings file. The row-count rules of a table only apply to days on which rows
    of that table were read (a crawl of notes without creator profiles is not an empty creators partition), and
    "previous" means the previous such day (sparse crawls skip days legitimately). The quarantine table has no
    row-count rules: an empty quarantine is good news. The cleaned tables may come as Arrow (the ingest step's
    outputs): each is converted to a frame for its own suite only."""
    allowed = list(dict.fromkeys(categories["category"])) if len(categories) else None
    for table in DAILY_TABLES:
        df = _as_frame(tables[table], table)
        whole = val.validate_table(
            table, df, allowed_categories=allowed if table == "notes" else None, settings=settings
        )
        counts = _day_counts(df)
        acc = accounting[accounting["kind"] == table] if len(accounting) and table in ACCOUNTED else None
        acc_by_day = (
            acc.groupby("snapshot_date")[["read", "quarantined"]].sum() if acc is not None and len(acc) else None
        )
        prev = previous.get(table)
        day_rows, blocked, warned = [], [], []
        if table in ACCOUNTED:
            table_days = set(acc["snapshot_date"]) if acc is not None and len(acc) else set()
        elif table == "search_rankings":
            table_days = input_days
        else:
            table_days = set()
        for d in days:
            if d not in table_days:
                continue
            rules = val.row_count_rules(table, counts.get(d, 0), prev, settings)
            if acc_by_day is not None and d in acc_by_day.index:
                rules += val.quarantine_rule(
                    int(acc_by_day.at[d, "read"]), int(acc_by_day.at[d, "quarantined"]), settings
                )
            for r in rules:
                if not r.success:
                    (blocked if r.severity == val.BLOCKING else warned).append(d)
                    day_rows.append(
                        {"day": d.isoformat(), "rule": r.name, "severity": r.severity, "observed": str(r.observed)}
                    )
            if counts.get(d, 0) > 0:
                prev = counts[d]
        if whole.blocking_failures:
            # the suite failed on the range: find the days it fails on (rare path, one GX run per day)
            for d in days:
                part = df[df["snapshot_date"] == d] if len(df) else df
                if (
                    len(part)
                    and not val.validate_table(
                        table, part, allowed_categories=allowed if table == "notes" else None, settings=settings
                    ).passed
                ):
                    blocked.append(d)
        blocked_days = sorted(set(blocked))
        failed_names = [r.name for r in whole.blocking_failures] + sorted(
            {r["rule"] for r in day_rows if r["severity"] == val.BLOCKING}
        )
        warn_names = [r.name for r in whole.warnings] + sorted(
            {r["rule"] for r in day_rows if r["severity"] != val.BLOCKING}
        )
        passed = not blocked_days and not whole.blocking_failures and not warn_names
        yield dg.AssetCheckResult(
            check_name=f"{table}_suite",
            asset_key=table,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR
            if (blocked_days or whole.blocking_failures)
            else dg.AssetCheckSeverity.WARN,
            metadata={
                "expectations": dg.MetadataValue.md(whole.to_markdown()),
                "day_rules_failed": dg.MetadataValue.md(
                    pd.DataFrame(day_rows).head(50).to_markdown(index=False) if day_rows else "_(none)_"
                ),
                "blocked_partitions": days_metadata(blocked_days),
                "failed": ", ".join(failed_names),
                "warnings": ", ".join(warn_names),
                "days_checked": len([d for d in days if d in table_days]),
            },
        )
    del df  # the last suite's frame: the check below reads two columns only
    on = ["note_id", "snapshot_date"]
    yield note_crawled_result(
        _as_frame(tables["comments"], "comments", on), _as_frame(tables["notes"], "notes", on), known_notes
    )


# ------------------------------------------------------------------ brand tables (unpartitioned)


def _brand_check(table: str):
    @dg.asset_check(
        asset=table,
        name=f"{table}_suite",
        blocking=True,
        description=f"Great Expectations suite of `{table}` (keys unique and not null, value ranges).",
    )
    def _check(
        context: dg.AssetCheckExecutionContext, settings: KolSettings, warehouse: Warehouse
    ) -> dg.AssetCheckResult:
        df = warehouse.read_table(table)
        report = val.validate_table(table, df, settings=validation_settings(settings))
        return _result(report)

    return _check


def _result(report: val.ValidationReport, extra: dict | None = None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not report.blocking_failures and not report.warnings,
        severity=dg.AssetCheckSeverity.ERROR if report.blocking_failures else dg.AssetCheckSeverity.WARN,
        metadata={
            "expectations": dg.MetadataValue.md(report.to_markdown()),
            "failed": ", ".join(r.name for r in report.blocking_failures),
            "warnings": ", ".join(r.name for r in report.warnings),
            **(extra or {}),
        },
    )


# the brand-layer tables with a suite (categories has none), but campaign_posts: its check below does more
brand_checks = [_brand_check(t) for t in tables_in("brand") if t in val.SUITES and t != "campaign_posts"]


@dg.asset_check(
    asset="campaign_posts",
    name="campaign_posts_suite",
    blocking=True,
    description="Suite of `campaign_posts`, plus a warning for posts whose note was never crawled "
    "(their spend counts, their engagements cannot).",
)
def campaign_posts_suite(
    context: dg.AssetCheckExecutionContext, settings: KolSettings, warehouse: Warehouse
) -> dg.AssetCheckResult:
    posts = warehouse.read_table("campaign_posts")
    report = val.validate_table("campaign_posts", posts, settings=validation_settings(settings))
    # only the posts' note ids are looked for, newest partition first, stopping once all are found
    ids = set(posts["note_id"]) if len(posts) else set()
    known = warehouse.present_values("notes", "note_id", ids)
    unknown = sorted(ids - known)
    report.results.append(
        val.ExpectationOutcome(
            "note_was_crawled",
            "rule:campaign_note_in_notes",
            ("note_id",),
            val.WARN,
            not unknown,
            unexpected_count=len(unknown),
            unexpected_values=unknown[:10],
        )
    )
    return _result(report)
