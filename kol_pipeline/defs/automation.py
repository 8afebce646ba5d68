"""Jobs, schedules and sensors."""

import dagster as dg

from kol_pipeline.defs.shared import DAILY

BRAND = dg.AssetSelection.assets(
    "brands", "campaigns", "campaign_posts", "search_index", "rate_card", "store_traffic", "categories",
    "brand_quarantine", "brand_search_lift",
)
DAILY_INGEST = dg.AssetSelection.assets("notes", "creators", "comments", "search_rankings", "quarantine")
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

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=5,
    minute_of_hour=30,
    description="Yesterday's partition (Asia/Shanghai) every morning at 05:30.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
