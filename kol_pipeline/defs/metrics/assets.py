"""Note and creator metrics: thin wrappers over kol_pipeline.lib.metrics.

Each asset reads only the history it needs through a trailing-window partition mapping (e.g. the notes of the
121 days up to the partition), computes every day of the run at once, and records per-partition row counts."""

import dagster as dg
import pandas as pd

from kol_pipeline.defs.shared import DAILY, SINGLE_RUN, STEP_LARGE, STEP_MEDIUM, column_schema, run_days, window_mapping
from kol_pipeline.lib import charts
from kol_pipeline.lib import metrics as metrics_lib
from kol_pipeline.lib.settings import TIER_NAMES
from kol_pipeline.resources.settings import MetricsConfig

NOTE_WINDOW = 121  # note_window_days + 1: a note published 119 days ago needs its first observations
CREATOR_WINDOW = 124  # 90 days of creators + 30-day growth + 3 days of tolerance + 1


def per_partition_counts(context: dg.AssetExecutionContext, df: pd.DataFrame, asset_key: str | None = None) -> None:
    """dagster/row_count on each partition's own materialization."""
    counts = df.groupby("snapshot_date").size() if len(df) else pd.Series(dtype=int)
    by_day = {str(k): int(v) for k, v in counts.items()}
    for key in context.partition_keys:
        meta = {"dagster/row_count": by_day.get(key, 0)}
        if asset_key:
            context.add_asset_metadata(meta, partition_key=key, asset_key=asset_key)
        else:
            context.add_asset_metadata(meta, partition_key=key)


def last_day(df: pd.DataFrame, days) -> pd.DataFrame:
    return df[df["snapshot_date"] == days[-1]] if len(df) else df


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"pandas", "parquet"},
    ins={
        "notes": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW)),
        "creators": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW)),
        "comments": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW)),
        "campaign_posts": dg.AssetIn(),
    },
    op_tags=STEP_LARGE,
    metadata={"dagster/column_schema": column_schema("note_metrics")},
)
def note_metrics(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    notes: pd.DataFrame,
    creators: pd.DataFrame,
    comments: pd.DataFrame,
    campaign_posts: pd.DataFrame,
) -> pd.DataFrame:
    """Engagement curve and longevity of every note published in the trailing 120 days, as of the day:
    eng_2d/7d/30d/90d (interpolated, null when no observation is within 2 days), er_7d, save_to_like,
    share_after_48h, half_life_days, is_evergreen, is_viral, substantive_comment_share."""
    days = run_days(context)
    out = metrics_lib.note_metrics(notes, creators, comments, campaign_posts, days, metrics_config.to_settings())
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        med = last.groupby("tier")["er_7d"].median()
        tiers = [t for t in TIER_NAMES if t in med.index]
        context.add_output_metadata(
            {
                "er_7d_by_tier": dg.MetadataValue.md(
                    charts.png_markdown("bar", {"median er_7d": [float(med[t]) if pd.notna(med[t]) else None for t in tiers]},
                                        tiers, f"Median er_7d by tier, {days[-1]}")
                ),
                "notes_with_eng_7d": int(last["eng_7d"].notna().sum()),
            }
        )
    return out


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"pandas", "parquet"},
    ins={
        "note_metrics": dg.AssetIn(),
        "creators": dg.AssetIn(partition_mapping=window_mapping(CREATOR_WINDOW)),
        "comments": dg.AssetIn(partition_mapping=window_mapping(91)),
        "rate_card": dg.AssetIn(),
    },
    op_tags=STEP_MEDIUM,
    metadata={"dagster/column_schema": column_schema("creator_scorecard")},
)
def creator_scorecard(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    note_metrics: pd.DataFrame,
    creators: pd.DataFrame,
    comments: pd.DataFrame,
    rate_card: pd.DataFrame,
) -> pd.DataFrame:
    """One row per creator seen in the trailing 90 days: followers, tier, growth, niche, medians of the note
    metrics, estimated cost per engagement, disclosure rate, authenticity flags and score, composite score and rank
    within tier x category."""
    days = run_days(context)
    out = metrics_lib.creator_scorecard(note_metrics, creators, comments, rate_card, days, metrics_config.to_settings())
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        flagged = last[last["authenticity_flags"].map(lambda f: f is not None and len(f) > 0)]
        flags = pd.Series([x for f in flagged["authenticity_flags"] for x in f]).value_counts() if len(flagged) else pd.Series(dtype=int)
        context.add_output_metadata(
            {
                "flagged_creators": len(flagged),
                "flags": dg.MetadataValue.json({str(k): int(v) for k, v in flags.items()}),
                "creators_by_tier": dg.MetadataValue.json({str(k): int(v) for k, v in last["tier"].value_counts().items()}),
            }
        )
    return out


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"pandas", "parquet"},
    ins={
        "creator_scorecard": dg.AssetIn(),
        "note_metrics": dg.AssetIn(),
        "notes": dg.AssetIn(partition_mapping=window_mapping(91)),
        "creators": dg.AssetIn(partition_mapping=window_mapping(91)),
    },
    op_tags=STEP_MEDIUM,
    metadata={"dagster/column_schema": column_schema("tier_benchmarks")},
)
def tier_benchmarks(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    creator_scorecard: pd.DataFrame,
    note_metrics: pd.DataFrame,
    notes: pd.DataFrame,
    creators: pd.DataFrame,
) -> pd.DataFrame:
    """Per tier x category (and `all`): p25/median/p75 of creators' er_7d, save_to_like, half-life and CPE, and the
    cross-sectional longevity curve (median engagements/followers by note age bucket), which works on single crawls."""
    days = run_days(context)
    out = metrics_lib.tier_benchmarks(creator_scorecard, note_metrics, notes, creators, days, metrics_config.to_settings())
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        allc = last[last["category"] == "all"].set_index("tier")
        tiers = [t for t in TIER_NAMES if t in allc.index]
        buckets = ["curve_0_2d", "curve_3_7d", "curve_8_30d", "curve_31_90d", "curve_91d_plus"]
        series = {t: [float(allc.at[t, b]) if pd.notna(allc.at[t, b]) else None for b in buckets] for t in tiers}
        context.add_output_metadata(
            {
                "longevity_curve_by_tier": dg.MetadataValue.md(
                    charts.png_markdown("line", series, ["0-2d", "3-7d", "8-30d", "31-90d", "91d+"],
                                        f"Median engagements/followers by note age, {days[-1]}")
                )
            }
        )
    return out
