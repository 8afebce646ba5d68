"""Brand and campaign marts: thin wrappers over kol_pipeline.lib.marts.

The marts declare the trailing windows of cleaned partitions they depend on (lineage), but read them lazily and
only the rows they use, filtered by the scanner before anything becomes pandas (DuckDB over the files of a local
warehouse, the Arrow scanner elsewhere; docs/marts.md "What each mart reads"): campaign_performance the rows of
campaign posts, keyword_share_of_voice the rows of the ranked notes, and the creator snapshots of those notes'
authors only. The lib functions get exactly the rows of the window they would have looked at, so the results are
those of a full read (test_mart_reads.py).

brand_creator_relationships is the first mart on the DuckDB path (docs/engine.md): its notes window is a DuckDB
relation over the window's Parquet files (``PartitionedInput.relation``) and its formula one SQL query,
kol_pipeline/lib/queries/brand_creator_relationships.sql.
"""

import dagster as dg
import pandas as pd

from kol_pipeline.defs.metrics.assets import LAZY, NOTE_WINDOW, last_day, per_partition_counts
from kol_pipeline.defs.shared import DAILY, SINGLE_RUN, column_schema, run_days, table_md, window_mapping
from kol_pipeline.lib import charts, duck
from kol_pipeline.lib import marts as marts_lib
from kol_pipeline.lib.settings import TIER_NAMES
from kol_pipeline.resources.io_manager import IdsIn, PartitionedInput
from kol_pipeline.resources.settings import MetricsConfig

# Columns of the cleaned tables each mart uses (read only those over the trailing windows).
CREATOR_TIER_COLUMNS = ["user_id", "followers", "tier", "crawled_at"]
CAMPAIGN_NOTE_COLUMNS = [
    "note_id",
    "user_id",
    "title",
    "description",
    "tags",
    "published_at",
    "crawled_at",
    "engagements",
    "saves",
    "is_disclosed",
]
SOV_NOTE_COLUMNS = ["note_id", "user_id", "brands", "crawled_at"]
NOTE_METRICS_CAMPAIGN_COLUMNS = [
    "note_id",
    "user_id",
    "published_date",
    "engagements",
    "saves",
    "eng_30d",
    "er_7d",
    "is_disclosed",
]


def campaign_reads(
    notes, creators, campaign_posts: pd.DataFrame, note_metrics: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """campaign_performance's rows of the windows: every crawl of a campaign post's note, and the creator
    snapshots of every possible author of one (campaign_posts.user_id, the notes' and note_metrics' user_id)."""
    post_ids = set(campaign_posts["note_id"].dropna())
    n = notes.read(columns=CAMPAIGN_NOTE_COLUMNS, row_filter=IdsIn.of("note_id", post_ids))
    nm_users = note_metrics.loc[note_metrics["note_id"].isin(post_ids), "user_id"] if len(note_metrics) else []
    users = set(campaign_posts["user_id"].dropna()) | set(n["user_id"].dropna()) | set(pd.Series(nm_users).dropna())
    c = creators.read(columns=CREATOR_TIER_COLUMNS, row_filter=IdsIn.of("user_id", users))
    return n, c


def share_of_voice_reads(
    notes, creators, search_rankings: pd.DataFrame, campaign_posts: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """keyword_share_of_voice's rows of the windows: every crawl of a ranked note, and the creator snapshots of
    those notes' authors and of the campaign posts' authors."""
    n = notes.read(columns=SOV_NOTE_COLUMNS, row_filter=IdsIn.of("note_id", search_rankings["note_id"]))
    users = set(n["user_id"].dropna()) | set(campaign_posts["user_id"].dropna())
    c = creators.read(columns=CREATOR_TIER_COLUMNS, row_filter=IdsIn.of("user_id", users))
    return n, c


def _asset(name: str, ins: dict, partitioned: bool = True, kinds: set[str] | None = None, **kw):
    extra = {"partitions_def": DAILY, "backfill_policy": SINGLE_RUN} if partitioned else {}
    return dg.asset(
        name=name,
        group_name="marts",
        kinds=kinds or {"pandas", "parquet"},
        ins=ins,
        metadata={"dagster/column_schema": column_schema(name)},
        **extra,
        **kw,
    )


@_asset(
    "campaign_performance",
    {
        "campaigns": dg.AssetIn(),
        "campaign_posts": dg.AssetIn(),
        "note_metrics": dg.AssetIn(metadata={"columns": NOTE_METRICS_CAMPAIGN_COLUMNS}),
        "notes": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "creators": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
    },
)
def campaign_performance(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    campaigns: pd.DataFrame,
    campaign_posts: pd.DataFrame,
    note_metrics: pd.DataFrame,
    notes: PartitionedInput,
    creators: PartitionedInput,
) -> pd.DataFrame:
    """Per campaign x tier (author's tier on the publish date) and `all`: creators, notes, spend, engagements,
    saves, CPE, cost per save, median er_7d, keyword coverage, disclosure rate, density (>= 15 creators)."""
    days = run_days(context)
    notes, creators = campaign_reads(notes, creators, campaign_posts, note_metrics)
    out = marts_lib.campaign_performance(
        campaigns, campaign_posts, note_metrics, notes, creators, days, metrics_config.to_settings()
    )
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        tiers = (
            last[last["tier"] != "all"]
            .groupby("tier")
            .agg(spend=("spend_cny", "sum"), eng=("engagements", "sum"), saves=("saves", "sum"))
        )
        tiers = tiers.reindex([t for t in TIER_NAMES if t in tiers.index])
        cpe = (tiers["spend"] / tiers["eng"].where(tiers["eng"] > 0)).tolist()
        cps = (tiers["spend"] / tiers["saves"].where(tiers["saves"] > 0)).tolist()
        context.add_output_metadata(
            {
                "cpe_by_tier": dg.MetadataValue.md(
                    charts.png_markdown(
                        "bar",
                        {"CPE (CNY)": cpe, "cost per save (CNY)": cps},
                        list(tiers.index),
                        f"Cost per engagement and per save by tier, all campaigns, {days[-1]}",
                    )
                ),
                "campaigns": int(last["campaign_id"].nunique()),
            }
        )
    return out


@_asset(
    "keyword_share_of_voice",
    {
        "search_rankings": dg.AssetIn(),
        "notes": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "campaign_posts": dg.AssetIn(),
        "campaigns": dg.AssetIn(),
        "brands": dg.AssetIn(),
        "creators": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
    },
)
def keyword_share_of_voice(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    search_rankings: pd.DataFrame,
    notes: PartitionedInput,
    campaign_posts: pd.DataFrame,
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
    creators: PartitionedInput,
) -> pd.DataFrame:
    """Per keyword x brand: results in the top 20, results mentioning the brand or in its campaigns, share of
    voice, and how many of those came from each tier."""
    days = run_days(context)
    notes, creators = share_of_voice_reads(notes, creators, search_rankings, campaign_posts)
    out = marts_lib.keyword_share_of_voice(
        search_rankings, notes, campaign_posts, campaigns, brands, creators, days, metrics_config.to_settings()
    )
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        top = last.sort_values("share_of_voice", ascending=False).head(15)
        context.add_output_metadata(
            {"top_share_of_voice": table_md(top[["keyword", "brand", "results", "brand_results", "share_of_voice"]])}
        )
    return out


@_asset(
    "brand_search_lift",
    {"campaigns": dg.AssetIn(), "brands": dg.AssetIn(), "search_index": dg.AssetIn(), "store_traffic": dg.AssetIn()},
    partitioned=False,
)
def brand_search_lift(
    context: dg.AssetExecutionContext,
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
    search_index: pd.DataFrame,
    store_traffic: pd.DataFrame,
) -> pd.DataFrame:
    """Per campaign: mean brand search index in the 28 days before vs from launch, lift, the control keyword's
    lift and the adjusted lift; store-visit lift where store traffic is given. Null with < 21 of 28 days."""
    out = marts_lib.brand_search_lift(campaigns, brands, search_index, store_traffic)
    context.add_output_metadata(
        {
            "dagster/row_count": len(out),
            "lift": table_md(
                out[["campaign_id", "brand", "lift", "control_lift", "adjusted_lift"]] if len(out) else out
            ),
        }
    )
    return out


@_asset(
    "brand_creator_relationships",
    {
        "notes": dg.AssetIn(partition_mapping=window_mapping(marts_lib.RELATIONSHIP_WINDOW_DAYS), metadata=LAZY),
        "campaign_posts": dg.AssetIn(),
        "campaigns": dg.AssetIn(),
        "brands": dg.AssetIn(),
    },
    kinds={"duckdb", "parquet"},
)
def brand_creator_relationships(
    context: dg.AssetExecutionContext,
    notes: PartitionedInput,
    campaign_posts: pd.DataFrame,
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
) -> pd.DataFrame:
    """Per brand x creator who mentioned the brand in the trailing 180 days: notes, sponsored vs organic, first and
    last mention, distinct ISO weeks, and whether it is a repeat relationship (>= 2 weeks). One SQL query
    (kol_pipeline/lib/queries/brand_creator_relationships.sql) over the notes window's Parquet files for every day
    of the run, on a DuckDB connection bounded by the IO manager's duckdb_config (docs/engine.md)."""
    days = run_days(context)
    with duck.connect(notes.duck_settings) as con:
        window = notes.relation(con, columns=list(marts_lib.RELATIONSHIP_NOTE_COLUMNS))
        out = marts_lib.brand_creator_relationships(con, window, campaign_posts, campaigns, brands, days)
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        context.add_output_metadata({"repeat_relationships": int(last["is_repeat"].sum())})
    return out


@_asset(
    "tier_comparison",
    {"campaign_performance": dg.AssetIn(), "keyword_share_of_voice": dg.AssetIn(), "campaigns": dg.AssetIn()},
)
def tier_comparison(
    context: dg.AssetExecutionContext,
    campaign_performance: pd.DataFrame,
    keyword_share_of_voice: pd.DataFrame,
    campaigns: pd.DataFrame,
) -> pd.DataFrame:
    """The micro vs mega answer: per campaign and overall, per tier, the share of spend, engagements, saves and
    share-of-voice each tier brings, with CPE and cost per save."""
    days = run_days(context)
    # one call over the run's days (the inputs are a few rows per campaign and day): a day's rows are those of a
    # one-day run, without a pandas pass per day (0.3 s a day under cProfile, 120-day backfill of the small sample)
    out = marts_lib.tier_comparison(campaign_performance, keyword_share_of_voice, campaigns)
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        overall = last[(last["campaign_id"] == "all") & (last["brand"] == "all")].set_index("tier")
        tiers = [t for t in TIER_NAMES if t in overall.index]
        context.add_output_metadata(
            {
                "shares_by_tier": dg.MetadataValue.md(
                    charts.png_markdown(
                        "bar",
                        {
                            c: [float(overall.at[t, c]) if pd.notna(overall.at[t, c]) else None for t in tiers]
                            for c in ("spend_share", "engagement_share", "save_share")
                        },
                        tiers,
                        f"Share of spend, engagements and saves by tier, {days[-1]}",
                    )
                )
            }
        )
    return out


@_asset("creator_shortlist", {"creator_scorecard": dg.AssetIn(), "brands": dg.AssetIn()})
def creator_shortlist(
    context: dg.AssetExecutionContext, creator_scorecard: pd.DataFrame, brands: pd.DataFrame
) -> pd.DataFrame:
    """Per brand: the top 30 micro creators of the brand's category with no authenticity flag, by score, with the
    reasons beside each."""
    days = run_days(context)
    out = marts_lib.creator_shortlist(creator_scorecard, brands, days)
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        context.add_output_metadata({"shortlist_preview": table_md(last.head(10))})
    return out
