"""Jobs, schedules and sensors."""

import dagster as dg

from kol_pipeline.defs.shared import DAILY

INGEST = dg.AssetSelection.groups("ingest")

# Ingestion and its checks first; `kol-pipeline run` then runs the downstream layers only for the days whose
# blocking checks passed (a blocking check would otherwise stop every day of a ranged run).
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=INGEST,
    partitions_def=DAILY,
    description="MediaCrawler and brand files -> cleaned tables + quarantine, with their checks.",
)
downstream_job = dg.define_asset_job(
    "downstream_job",
    selection=dg.AssetSelection.all() - INGEST,
    partitions_def=DAILY,
    description="Metrics, marts and reports of days whose ingestion passed its blocking checks.",
)
daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    partitions_def=DAILY,
    description="The whole graph for one day: ingest, validate, metrics, marts, report.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=5,
    minute_of_hour=30,
    description="Yesterday's partition (Asia/Shanghai) every morning at 05:30.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
