"""Shared Dagster pieces: the daily partitions, the backfill policy, metadata helpers."""

from collections.abc import Iterable
from datetime import date, timedelta

import dagster as dg
import pandas as pd

from kol_pipeline.lib.schemas import TABLES

# Calendar days in Asia/Shanghai. The first day predates any XHS crawl we know of (the real crawl starts 2019-10);
# end_offset=1 makes today's partition exist so a crawl of today can be ingested before the day ends.
DAILY = dg.DailyPartitionsDefinition(start_date="2015-01-01", timezone="Asia/Shanghai", end_offset=1)

# A range of days runs as one run: per-partition runs cost a process (or at least a run) each.
SINGLE_RUN = dg.BackfillPolicy.single_run()

# Run tag: "keep" makes the ingest step keep the landing files it parses in the process's cache (lib/ingest/landing.py).
# `kol-pipeline run` sets it on its ingest runs, which share one process and read the same folder range after
# range; a run worker (UI, schedule, sensor, backfill) reads the folder once, so its step keeps nothing.
LANDING_CACHE_TAG = "kol/landing_cache"


def run_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days (partition keys) this step materializes, in order."""
    return [date.fromisoformat(k) for k in context.partition_keys]


def day_window(days: list[date], back: int) -> tuple[date, date]:
    return days[0] - timedelta(days=back), days[-1]


def window_mapping(days_back: int) -> dg.TimeWindowPartitionMapping:
    """Upstream partitions from `days_back` days before the first to the last day of the run."""
    return dg.TimeWindowPartitionMapping(
        start_offset=-days_back, end_offset=0, allow_nonexistent_upstream_partitions=True
    )


def column_schema(table: str) -> dg.TableSchema:
    spec = TABLES[table]
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, str(c.type), description=c.description) for c in spec.columns]
    )


def table_md(df: pd.DataFrame, max_rows: int = 20) -> dg.MetadataValue:
    if df is None or df.empty:
        return dg.MetadataValue.md("_(none)_")
    return dg.MetadataValue.md(df.head(max_rows).to_markdown(index=False))


def days_metadata(days: Iterable[date | str]) -> dg.MetadataValue:
    """Days as structured metadata (a check's ``blocked_partitions`` / ``failed_partitions``): a JSON list of
    ``YYYY-MM-DD`` strings, sorted and distinct (``[]`` when none). Read it back with ``metadata_days``."""
    return dg.MetadataValue.json(sorted({d if isinstance(d, str) else d.isoformat() for d in days}))


def metadata_days(value: object) -> list[date] | None:
    """The days of a ``days_metadata`` value (a ``JsonMetadataValue``, or the raw list), sorted; None when the
    value is absent. A comma-joined string (what checks wrote before the list, still in older event logs) is read
    too; an entry that is not a day is skipped."""
    if value is None:
        return None
    raw = getattr(value, "value", value)  # JsonMetadataValue.value is its data; TextMetadataValue's the text
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    out = set()
    for item in items:
        try:
            out.add(date.fromisoformat(str(item).strip()))
        except ValueError:
            continue
    return sorted(out)


K8S_CONFIG_TAG = "dagster-k8s/config"


def k8s_step(cpu: str, memory: str, memory_limit: str) -> dict[str, dict]:
    """op_tags giving a step's pod its resource requests under the k8s_job_executor (other executors ignore them)."""
    return {
        K8S_CONFIG_TAG: {
            "container_config": {
                "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}
            }
        }
    }


# Steps that hold a day of agency-scale data (~1M notes, 2M comments; BENCHMARKS.md). Untagged steps get the Helm
# values' default (deploy/helm/values.yaml: runK8sConfig / stepK8sConfig).
STEP_LARGE = k8s_step("2", "3Gi", "6Gi")
STEP_MEDIUM = k8s_step("1", "1536Mi", "3Gi")
