"""Ingestion: MediaCrawler files (and database) -> daily cleaned tables; brand files -> tables. Thin wrappers over
kol_pipeline.lib.ingest.intake and kol_pipeline.lib.ingest.brand."""

import itertools
from collections.abc import Iterable
from dataclasses import replace

import dagster as dg
import duckdb
import pandas as pd

from kol_pipeline.defs.metrics.assets import per_partition_counts
from kol_pipeline.defs.shared import (
    DAILY,
    LANDING_CACHE_TAG,
    SINGLE_RUN,
    STEP_LARGE,
    column_schema,
    run_days,
    table_md,
)
from kol_pipeline.defs.validate.checks import (
    INGEST_CHECK_SPECS,
    ingest_check_results,
    previous_rows,
    validation_settings,
    warehouse_notes_before,
)
from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import intake as ingest_lib
from kol_pipeline.lib.ingest import landing as landing_lib
from kol_pipeline.lib.ingest import parsing
from kol_pipeline.lib.ingest.readers import FileRecords
from kol_pipeline.lib.schemas import BRAND_QUARANTINE, MEDIACRAWLER, QUARANTINE, daily_tables, input_tables, tables_in
from kol_pipeline.lib.settings import load_lexicon
from kol_pipeline.resources.settings import KolSettings, MetricsConfig
from kol_pipeline.resources.warehouse import Warehouse

#: the brand layer's tables read from a file (lib/ingest/brand.py SPECS); the layer's other table is brand_quarantine
BRAND_TABLES = tuple(t for t in tables_in("brand") if t in input_tables())
_BRAND_DOCS = {
    "brands": "Brands tracked, their aliases, category and control keyword (brand/brands.csv).",
    "campaigns": "Campaigns: brand, phase, dates, target keywords, budget (brand/campaigns.csv).",
    "campaign_posts": "Sponsored notes with the fee paid (brand/campaign_posts.csv).",
    "search_index": "Daily search volume per keyword (brand/search_index.csv).",
    "rate_card": "Quoted price of one sponsored note per creator (brand/rate_card.csv, optional).",
    "store_traffic": "Daily visits to a brand's store page (brand/store_traffic.csv, optional).",
    "categories": "Keyword -> category map used to categorize notes (reference/categories.csv).",
    "brand_quarantine": "Rejected rows of the brand and reference files, with file, record number and reason.",
}

RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL)


@dg.multi_asset(
    outs={
        name: dg.AssetOut(description=_BRAND_DOCS[name], kinds={"pandas", "parquet"}, io_manager_key="io_manager")
        for name in tables_in("brand")
    },
    group_name="ingest",
    retry_policy=RETRY,
)
def brand_files(context: dg.AssetExecutionContext, settings: KolSettings):
    """Reads the brand's own files and the category reference. Every file is optional."""
    rejects = []
    for name in BRAND_TABLES:
        t = brand_lib.read_brand_table(settings.landing, name)
        rejects.append(t.rejects)
        yield dg.Output(
            t.frame,
            output_name=name,
            metadata={"files": ", ".join(t.files) or "(none)", **{f"rows_{k}": v for k, v in t.accounting.items()}},
        )
    non_empty = [r for r in rejects if len(r)]
    rej = pd.concat(non_empty, ignore_index=True) if non_empty else BRAND_QUARANTINE.empty_frame()
    if len(rej):
        context.log.warning(f"{len(rej)} brand/reference rows rejected; see the brand_quarantine table")
    counts = rej.groupby(["source", "reason"]).size().reset_index(name="rows") if len(rej) else rej
    yield dg.Output(rej, output_name="brand_quarantine", metadata={"reasons": table_md(counts)})


_DAILY_DOCS = {
    "notes": "One row per (note_id, snapshot_date): latest crawl of the day, counts parsed, category, brands, disclosure.",
    "creators": "One row per (user_id, snapshot_date): followers, tier.",
    "comments": "One row per (comment_id, snapshot_date) with its comment class.",
    "search_rankings": "Ranked keyword search results of the day (brand/search_rankings_YYYY-MM-DD.csv).",
    "quarantine": "Every rejected input row of the day with file, record number and reason.",
}


@dg.multi_asset(
    outs={
        name: dg.AssetOut(
            description=_DAILY_DOCS[name],
            kinds={"duckdb" if name in input_tables(MEDIACRAWLER) else "pandas", "parquet"},
            io_manager_key="io_manager",
            metadata={"dagster/column_schema": column_schema(name)},
            is_required=False,  # subsettable: a landing folder without comments need not write comments
        )
        for name in daily_tables("ingest")
    },
    ins={
        "brands": dg.AssetIn(),
        "categories": dg.AssetIn(),
    },
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="ingest",
    retry_policy=RETRY,
    pool="landing_source",
    op_tags=STEP_LARGE,
    check_specs=INGEST_CHECK_SPECS,
    can_subset=True,
)
def mediacrawler_snapshot(
    context: dg.AssetExecutionContext,
    settings: KolSettings,
    warehouse: Warehouse,
    metrics_config: MetricsConfig,
    brands: pd.DataFrame,
    categories: pd.DataFrame,
):
    """Reads every MediaCrawler file of the landing folder (JSON, JSONL, CSV with BOM, GBK CSV) and, when
    KOL_SOURCE_DB_URL is set, MediaCrawler's database tables; assigns each row to the Asia/Shanghai day of its
    crawl time; quarantines bad rows with their reason; keeps the latest crawl per id and day."""
    days = run_days(context)
    start, end = days[0], days[-1]
    # the landing files are read as ingest_batches cleans them, the next one ahead in a thread (lib/ingest/landing.py)
    keep = context.run.tags.get(LANDING_CACHE_TAG) == "keep"
    batches: Iterable[tuple[str, FileRecords]] = landing_lib.iter_batches_for_days(
        settings.landing, start, end, cache=keep
    )
    engine = settings.source_engine()
    if engine is not None:
        batches = itertools.chain(batches, ingest_lib.db_batches(engine, start, end))
        engine.dispose()
    ctx = ingest_lib.IngestContext(
        categories=categories,
        brands=brands,
        lexicon=load_lexicon(settings.lexicon_file),
        tier_bounds=metrics_config.to_settings().tier_bounds,
    )
    # the cleaned tables stay in DuckDB on this connection until the IO manager has written them (Dagster hands a
    # yielded output to it before the step resumes); closed when the step ends
    con = ingest_lib.connection(warehouse.duck_settings())
    try:
        yield from _ingest_outputs(context, settings, warehouse, con, batches, ctx, days, categories)
    finally:
        con.close()


def _ingest_outputs(
    context: dg.AssetExecutionContext,
    settings: KolSettings,
    warehouse: Warehouse,
    con: duckdb.DuckDBPyConnection,
    batches: Iterable[tuple[str, FileRecords]],
    ctx: ingest_lib.IngestContext,
    days: list,
    categories: pd.DataFrame,
):
    start, end = days[0], days[-1]
    result = ingest_lib.ingest_batches(batches, ctx, start, end, con)
    rankings = brand_lib.read_search_rankings(settings.landing, [d.isoformat() for d in days])
    rank_q = rankings.rejects
    quarantine = (
        pd.concat([q for q in (result.quarantine, rank_q) if len(q)], ignore_index=True)
        if len(rank_q)
        else result.quarantine
    )
    if len(quarantine) == 0:
        quarantine = QUARANTINE.empty_frame()

    acc = result.accounting
    selected = {k.to_user_string() for k in context.selected_asset_keys}
    selected_checks = {c.name for c in context.selected_asset_check_keys}
    for name in input_tables(MEDIACRAWLER):
        if name not in selected:
            continue
        sub = acc[acc["kind"] == name] if len(acc) else acc
        per_file = (
            sub.groupby("source_file", as_index=False)[["read", "kept", "duplicates", "quarantined"]].sum()
            if len(sub)
            else sub
        )
        totals = {k: int(sub[k].sum()) if len(sub) else 0 for k in ("read", "kept", "duplicates", "quarantined")}
        per_partition_counts(context, result.tables[name], asset_key=name)
        yield dg.Output(
            result.tables[name],  # a DuckDB relation: written by DuckDB's COPY (the IO manager), never a frame
            output_name=name,
            metadata={
                **{f"rows_{k}": v for k, v in totals.items()},
                "accounting_holds": totals["read"] == totals["kept"] + totals["duplicates"] + totals["quarantined"],
                "files": len(per_file),
                "accounting_by_file": table_md(per_file, 30),
            },
        )
    if "search_rankings" in selected:
        per_partition_counts(context, rankings.frame, asset_key="search_rankings")
        yield dg.Output(
            rankings.frame,
            output_name="search_rankings",
            metadata={"files": len(rankings.files), **{f"rows_{k}": v for k, v in rankings.accounting.items()}},
        )
    reasons = (
        quarantine.groupby(["source", "reason"]).size().reset_index(name="rows").sort_values("rows", ascending=False)
        if len(quarantine)
        else quarantine
    )
    notes_meta = {p: n for p, n in result.file_notes.items()}
    if len(quarantine):
        context.log.warning(f"{len(quarantine)} rows quarantined over {start}..{end}")
    for path, msgs in notes_meta.items():
        context.log.warning(f"{path}: {'; '.join(msgs)}")
    tables = {
        **result.tables,  # notes, creators, comments: each a frame only for its own suite (ingest_check_results)
        "search_rankings": rankings.frame,
        "quarantine": quarantine,
    }
    # days with a search_rankings file: a crawl day without one is not an empty search_rankings partition
    input_days = {parsing.date_from_name(f.rsplit("/", 1)[-1]) for f in rankings.files}
    previous = {t: previous_rows(warehouse, t, start) for t in tables}
    check_results = [
        r
        for r in ingest_check_results(
            days,
            tables,
            acc,
            input_days,
            previous,
            categories,
            replace(validation_settings(settings), tier_bounds=ctx.tier_bounds),
            warehouse_notes_before(warehouse, start),
        )
        if r.check_name in selected_checks
    ]
    if "quarantine" not in selected:
        yield from check_results
        return
    per_partition_counts(context, quarantine, asset_key="quarantine")
    yield dg.Output(
        quarantine,
        output_name="quarantine",
        metadata={
            "reasons": table_md(reasons),
            "file_notes": table_md(pd.DataFrame([{"file": p, "note": "; ".join(m)} for p, m in notes_meta.items()])),
        },
    )
    yield from check_results
