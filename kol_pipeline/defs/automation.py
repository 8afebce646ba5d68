"""Jobs, schedules and sensors."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from kol_pipeline.defs.shared import DAILY
from kol_pipeline.lib.schemas import daily_tables, unpartitioned_tables

SHANGHAI = ZoneInfo("Asia/Shanghai")

# the unpartitioned tables (brand and reference files, brand_search_lift), and the daily ingestion tables
BRAND = dg.AssetSelection.assets(*unpartitioned_tables())
DAILY_INGEST = dg.AssetSelection.assets(*daily_tables("ingest"))
DOWNSTREAM = dg.AssetSelection.all() - BRAND - DAILY_INGEST

# `kol-pipeline run` drives these three: brand files once, then per range of days the ingestion with its checks,
# then the downstream layers for the days whose blocking checks passed (a blocking check would otherwise stop
# every day of a ranged run).
brand_job = dg.define_asset_job(
    "brand_job",
    selection=BRAND,
    description="Brand and reference files -> tables (with their checks), and the brand search lift.",
)
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=DAILY_INGEST,
    partitions_def=DAILY,
    description="MediaCrawler files (and database) -> notes, creators, comments, search_rankings, quarantine, "
    "with their checks.",
)
downstream_job = dg.define_asset_job(
    "downstream_job",
    selection=DOWNSTREAM,
    partitions_def=DAILY,
    description="Metrics, marts and reports of days whose ingestion passed its blocking checks.",
)
daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    partitions_def=DAILY,
    description="The whole graph for one day: brand files, ingest, validate, metrics, marts, report.",
)


@dg.schedule(
    name="daily_job_schedule",
    job=daily_job,
    cron_schedule="30 5 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Yesterday's partition (Asia/Shanghai) every morning at 05:30.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """The partition of the day before the tick, in Asia/Shanghai. (`build_schedule_from_partitioned_job` would pick
    the newest partition, which is today's: DAILY has end_offset=1 so that a crawl of today can be ingested.)"""
    day = (context.scheduled_execution_time.astimezone(SHANGHAI).date() - timedelta(days=1)).isoformat()
    return dg.RunRequest(run_key=day, partition_key=day, tags={"kol/launched_by": "daily_job_schedule"})
