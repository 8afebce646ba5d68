"""Brand and campaign marts: thin wrappers over the lib's queries.

The marts declare the trailing windows of cleaned partitions they depend on (lineage) and get them lazily
(``PartitionedInput``). brand_creator_relationships, campaign_performance, keyword_share_of_voice, tier_comparison
and creator_shortlist are on the DuckDB path (docs/engine.md): each opens one DuckDB connection with the IO
manager's bounds, asks for its inputs as relations over exactly the partitions and columns it needs
(``PartitionedInput.relation``) and runs its formula, one SQL query per table in kol_pipeline/lib/marts/, for
every day of the run at once; DuckDB reads only the rows the query keeps. brand_search_lift (a few CSV rows) stays
pandas (kol_pipeline.lib.marts.brand_search_lift).
"""

import dagster as dg
import pandas as pd

from kol_pipeline.defs.metrics.assets import LAZY, NOTE_WINDOW, last_day, per_partition_counts
from kol_pipeline.defs.shared import DAILY, SINGLE_RUN, column_schema, run_days, table_md, window_mapping
from kol_pipeline.lib import duck
from kol_pipeline.lib.marts import brand_audience_affinity as baa_query
from kol_pipeline.lib.marts import brand_creator_relationships as bcr_query
from kol_pipeline.lib.marts import brand_search_lift as bsl_lib
from kol_pipeline.lib.marts import campaign_performance as cp_query
from kol_pipeline.lib.marts import creator_shortlist as cs_query
from kol_pipeline.lib.marts import keyword_share_of_voice as sov_query
from kol_pipeline.lib.marts import tier_comparison as tc_query
from kol_pipeline.lib.reporting import charts
from kol_pipeline.lib.settings import TIER_NAMES
from kol_pipeline.resources.io_manager import PartitionedInput
from kol_pipeline.resources.settings import MetricsConfig


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
        "note_metrics": dg.AssetIn(metadata=LAZY),
        "notes": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "creators": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
    },
    kinds={"duckdb", "parquet"},
)
def campaign_performance(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    campaigns: pd.DataFrame,
    campaign_posts: pd.DataFrame,
    note_metrics: PartitionedInput,
    notes: PartitionedInput,
    creators: PartitionedInput,
) -> pd.DataFrame:
    """Per campaign x tier (author's tier on the publish date) and `all`: creators, notes, spend, engagements,
    saves, CPE, cost per save, median er_7d, keyword coverage, disclosure rate, density (>= 15 creators). One SQL
    query (kol_pipeline/lib/marts/campaign_performance.sql) over the run's note_metrics and the notes and
    creators windows, every day of the run at once."""
    days = run_days(context)
    with duck.connect(notes.duck_settings) as con:
        out = cp_query.campaign_performance(
            con,
            campaigns,
            campaign_posts,
            note_metrics.relation(con, columns=list(cp_query.NOTE_METRICS_COLUMNS)),
            notes.relation(con, columns=list(cp_query.NOTE_COLUMNS)),
            creators.relation(con, columns=list(cp_query.CREATOR_COLUMNS)),
            days,
            metrics_config.to_settings(),
            window_days=NOTE_WINDOW,  # the notes and creators inputs' window_mapping
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
        "search_rankings": dg.AssetIn(metadata=LAZY),
        "notes": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "campaign_posts": dg.AssetIn(),
        "campaigns": dg.AssetIn(),
        "brands": dg.AssetIn(),
        "creators": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
    },
    kinds={"duckdb", "parquet"},
)
def keyword_share_of_voice(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    search_rankings: PartitionedInput,
    notes: PartitionedInput,
    campaign_posts: pd.DataFrame,
    campaigns: pd.DataFrame,
    brands: pd.DataFrame,
    creators: PartitionedInput,
) -> pd.DataFrame:
    """Per keyword x brand: results in the top 20, results mentioning the brand or in its campaigns, share of
    voice, and how many of those came from each tier. One SQL query
    (kol_pipeline/lib/marts/keyword_share_of_voice.sql) over the run's rankings and the notes and creators
    windows, every day of the run at once."""
    days = run_days(context)
    with duck.connect(notes.duck_settings) as con:
        out = sov_query.keyword_share_of_voice(
            con,
            search_rankings.relation(con, columns=list(sov_query.RANKING_COLUMNS)),
            notes.relation(con, columns=list(sov_query.NOTE_COLUMNS)),
            campaign_posts,
            campaigns,
            brands,
            creators.relation(con, columns=list(cp_query.CREATOR_COLUMNS)),
            days,
            metrics_config.to_settings(),
            window_days=NOTE_WINDOW,  # the notes and creators inputs' window_mapping
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
    out = bsl_lib.brand_search_lift(campaigns, brands, search_index, store_traffic)
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
        "notes": dg.AssetIn(partition_mapping=window_mapping(bcr_query.RELATIONSHIP_WINDOW_DAYS), metadata=LAZY),
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
    (kol_pipeline/lib/marts/brand_creator_relationships.sql) over the notes window's Parquet files for every day
    of the run, on a DuckDB connection bounded by the IO manager's duckdb_config (docs/engine.md)."""
    days = run_days(context)
    with duck.connect(notes.duck_settings) as con:
        window = notes.relation(con, columns=list(bcr_query.RELATIONSHIP_NOTE_COLUMNS))
        out = bcr_query.brand_creator_relationships(
            con, window, campaign_posts, campaigns, brands, days, window_days=bcr_query.RELATIONSHIP_WINDOW_DAYS
        )
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        context.add_output_metadata({"repeat_relationships": int(last["is_repeat"].sum())})
    return out


@_asset(
    "tier_comparison",
    {
        "campaign_performance": dg.AssetIn(metadata=LAZY),
        "keyword_share_of_voice": dg.AssetIn(metadata=LAZY),
        "campaigns": dg.AssetIn(),
    },
    kinds={"duckdb", "parquet"},
)
def tier_comparison(
    context: dg.AssetExecutionContext,
    campaign_performance: PartitionedInput,
    keyword_share_of_voice: PartitionedInput,
    campaigns: pd.DataFrame,
) -> pd.DataFrame:
    """The micro vs mega answer: per campaign and overall, per tier, the share of spend, engagements, saves and
    share-of-voice each tier brings, with CPE and cost per save. One SQL query
    (kol_pipeline/lib/marts/tier_comparison.sql) over the run's days of the two marts."""
    days = run_days(context)
    with duck.connect(campaign_performance.duck_settings) as con:
        out = tc_query.tier_comparison(
            con,
            campaign_performance.relation(con, columns=list(tc_query.CAMPAIGN_PERFORMANCE_COLUMNS)),
            keyword_share_of_voice.relation(con, columns=list(tc_query.SHARE_OF_VOICE_COLUMNS)),
            campaigns,
        )
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


@_asset(
    "brand_audience_affinity",
    {
        "comments": dg.AssetIn(partition_mapping=window_mapping(baa_query.AFFINITY_WINDOW_DAYS - 1), metadata=LAZY),
        "notes": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "creator_scorecard": dg.AssetIn(metadata=LAZY),
        "brands": dg.AssetIn(),
    },
    kinds={"duckdb", "parquet"},
)
def brand_audience_affinity(
    context: dg.AssetExecutionContext,
    comments: PartitionedInput,
    notes: PartitionedInput,
    creator_scorecard: PartitionedInput,
    brands: pd.DataFrame,
) -> pd.DataFrame:
    """Which creators the brand's audience already follows: per brand x creator, the share of the creator's
    commenters (D-89 .. D) who also commented on another author's note mentioning the brand, with mentions_brand
    (partner or prospect) and the scorecard's tier. One SQL query (kol_pipeline/lib/marts/brand_audience_affinity.sql)
    over the cleaned comments of the 90-day window, the notes window and the run's scorecard days."""
    days = run_days(context)
    with duck.connect(comments.duck_settings) as con:
        out = baa_query.brand_audience_affinity(
            con,
            comments.relation(con, columns=list(baa_query.COMMENT_COLUMNS)),
            notes.relation(con, columns=list(baa_query.NOTE_COLUMNS)),
            creator_scorecard.relation(con, columns=list(baa_query.SCORECARD_COLUMNS)),
            brands,
            days,
        )
        last = last_day(out, days)
        # the chart of affinity against er_7d for the shortlisted tier: here, not on creator_scorecard, which is
        # computed before this mart and cannot see affinity
        er = creator_scorecard.relation(
            con, columns=["user_id", "median_er_7d"], start=str(days[-1]), end=str(days[-1])
        )
        points = baa_query.affinity_against_er(last, er.df()) if len(last) else {}
    per_partition_counts(context, out)
    if len(last):
        top = last[last["rank_in_brand"] <= 5]
        cols = ["brand", "rank_in_brand", "user_id", "nickname", "tier", "affinity", "shared_commenters"]
        meta = {
            "top_affinity": table_md(top[cols + ["commenters_90d", "mentions_brand"]]),
            "brands": int(last["brand"].nunique()),
        }
        if points:
            meta["affinity_vs_er_7d"] = dg.MetadataValue.md(
                charts.scatter_png_markdown(
                    points,
                    f"Audience affinity against median er_7d, micro creators, {days[-1]}",
                    "median er_7d",
                    "affinity",
                )
            )
        context.add_output_metadata(meta)
    return out


@_asset(
    "creator_shortlist",
    {
        "creator_scorecard": dg.AssetIn(metadata=LAZY),
        "brand_audience_affinity": dg.AssetIn(metadata=LAZY),
        "brands": dg.AssetIn(),
    },
    kinds={"duckdb", "parquet"},
)
def creator_shortlist(
    context: dg.AssetExecutionContext,
    creator_scorecard: PartitionedInput,
    brand_audience_affinity: PartitionedInput,
    brands: pd.DataFrame,
) -> pd.DataFrame:
    """Per brand: the top 30 micro creators of the brand's category with no authenticity flag, by score, with the
    reasons beside each (audience affinity for the brand, search appearances, sponsored/organic er_7d, comment
    sentiment among them). One SQL query (kol_pipeline/lib/marts/creator_shortlist.sql) over the run's days of
    the scorecard and of brand_audience_affinity."""
    days = run_days(context)
    with duck.connect(creator_scorecard.duck_settings) as con:
        scorecard = creator_scorecard.relation(con, columns=cs_query.scorecard_columns())
        affinity = brand_audience_affinity.relation(con, columns=list(cs_query.AFFINITY_COLUMNS))
        out = cs_query.creator_shortlist(con, scorecard, brands, days, affinity=affinity)
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        context.add_output_metadata({"shortlist_preview": table_md(last.head(10))})
    return out
