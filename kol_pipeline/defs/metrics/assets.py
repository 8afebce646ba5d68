"""Note and creator metrics: thin wrappers over kol_pipeline.lib.state.days and kol_pipeline_tests.reference_metrics.

The daily cost does not depend on the length of the history: three compact states (note_state, creator_state,
comment_state) are each computed from the previous day's state and that day's cleaned partition, and the metrics
of a day are computed from that day's states (docs/metrics.md "Incremental state"). The states declare the
trailing window of cleaned partitions they would need to start from scratch (lineage), but read it only when the
previous day's state is missing (the first day, or a day re-run alone after a gap); otherwise they read one
partition per day of the run, only the columns they use. A ranged run processes its days in order in one step.
comment_state (DuckDB SQL, lib/state/comment_state.py) stores each day's sightings instead of the whole state,
and its state of a day is the view over its trailing 122 partitions from the latest base on (docs/metrics.md).
"""

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.defs.shared import DAILY, SINGLE_RUN, STEP_LARGE, STEP_MEDIUM, column_schema, run_days, window_mapping
from kol_pipeline.lib import duck
from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql
from kol_pipeline.lib.metrics import note_metrics as nm_query
from kol_pipeline.lib.metrics import tier_benchmarks as tb_query
from kol_pipeline.lib.reporting import charts
from kol_pipeline.lib.settings import NOTE_WINDOW, TIER_NAMES, load_lexicon
from kol_pipeline.lib.state import comment_state as comment_lib
from kol_pipeline.lib.state import comment_view as comment_view_lib
from kol_pipeline.lib.state import creator_state as creators_sql
from kol_pipeline.lib.state import days as state_lib
from kol_pipeline.lib.state import note_state as note_state_sql
from kol_pipeline.resources.io_manager import PartitionedInput
from kol_pipeline.resources.settings import KolSettings, MetricsConfig

CREATOR_WINDOW = 124  # 90 days of creators + 30-day growth + 3 days of tolerance + 1
# The state of the day before the run's first day (a self-dependency; absent on the first day ever).
PREVIOUS_DAY = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True)
# comment_state's own partitions the state of the day before the run is a view over (lib/state/days.py comment_view)
PREVIOUS_COMMENT_VIEW = dg.TimeWindowPartitionMapping(
    start_offset=-(state_lib.COMMENT_KEEP_DAYS + 1), end_offset=-1, allow_nonexistent_upstream_partitions=True
)
# the partitions the comment state of each day of the run is a view over
COMMENT_VIEW = window_mapping(state_lib.COMMENT_KEEP_DAYS)
LAZY = {"lazy": True}
# creator_scorecard's search_rankings: D-29 .. D of each day of the run
SEARCH_WINDOW = window_mapping(scorecard_sql.SEARCH_WINDOW_DAYS - 1)


def per_partition_counts(
    context: dg.AssetExecutionContext,
    df: pd.DataFrame | pa.Table | duckdb.DuckDBPyRelation,
    asset_key: str | None = None,
) -> None:
    """dagster/row_count on each partition's own materialization: 0 for every partition of the run, then the count
    of each day with rows (partition-scoped metadata overrides the run-wide one). Dagster checks every
    partition-scoped call against the run's whole key range, so a call per empty day of a long sparse range would
    cost O(days^2)."""
    keys = set(context.partition_keys)
    if isinstance(df, duckdb.DuckDBPyRelation):  # rows per day, counted by DuckDB
        got = df.aggregate("snapshot_date, count(*) AS n", "snapshot_date").fetchall()
        counts = pd.Series({str(d): int(n) for d, n in got}, dtype=int)
    elif len(keys) == 1:  # a daily run: every row is that day's (the IO manager refuses any other), no grouping
        counts = pd.Series({next(iter(keys)): len(df)}, dtype=int)
    elif isinstance(df, pa.Table):
        vc = pc.value_counts(df.column("snapshot_date")) if df.num_rows else None
        counts = pd.Series({str(v["values"]): v["counts"] for v in vc.to_pylist()} if vc is not None else {}, dtype=int)
    else:
        counts = df.groupby("snapshot_date", observed=True).size() if len(df) else pd.Series(dtype=int)
    target = {"asset_key": asset_key} if asset_key else {}
    context.add_asset_metadata({"dagster/row_count": 0}, **target)
    for day, n in counts.items():
        if str(day) in keys and n:
            context.add_asset_metadata({"dagster/row_count": int(n)}, partition_key=str(day), **target)


def last_day(df: pd.DataFrame, days) -> pd.DataFrame:
    return df[df["snapshot_date"] == days[-1]] if len(df) else df


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"duckdb", "parquet"},
    ins={
        "creators": dg.AssetIn(partition_mapping=window_mapping(CREATOR_WINDOW), metadata=LAZY),
        "previous": dg.AssetIn(key="creator_state", partition_mapping=PREVIOUS_DAY, metadata=LAZY),
    },
    op_tags=STEP_MEDIUM,
    metadata={"dagster/column_schema": column_schema("creator_state")},
)
def creator_state(
    context: dg.AssetExecutionContext, creators: PartitionedInput, previous: PartitionedInput
) -> Iterator[dg.Output]:
    """Per creator with a snapshot in the trailing 125 days: followers by day, latest nickname (the input of every
    creator look-up of note_metrics, creator_scorecard and tier_benchmarks). lib/state/creator_state.sql, one
    day at a time from the stored state of the day before the run (or, when it is missing, from the creators
    partitions of the CREATOR_WINDOW days before it), the states kept in DuckDB, which writes them."""
    days = run_days(context)
    first = days[0]
    before = (first - timedelta(days=1)).isoformat()
    have = set(creators.available())
    con = duck.connect(creators.duck_settings)  # open until the IO manager has written the yielded relation
    try:

        def creators_of(d: date):
            k = d.isoformat()
            return creators.relation(con, creators_sql.CREATOR_COLUMNS, start=k, end=k) if k in have else None

        if before in previous.available():
            context.log.info(f"creator_state: continuing from the stored state of {before}")
            prev = previous.relation(con, creators_sql.STATE_COLUMNS, start=before, end=before)
            out = creators_sql.fold_states(con, days, creators_of, prev, first - timedelta(days=1))
        else:
            # the state of the day before the run in one step over the stored partitions of its whole window
            lo = (first - timedelta(days=CREATOR_WINDOW)).isoformat()
            context.log.info(
                f"creator_state: no state for {before}; bootstrapping from "
                f"{len([k for k in have if lo <= k <= before])} stored creators partitions of {lo} .. {before}"
            )

            def window_then_days(d: date):
                if d.isoformat() == before:
                    return creators.relation(con, creators_sql.CREATOR_COLUMNS, start=lo, end=before)
                return creators_of(d)

            out = creators_sql.fold_states(con, [first - timedelta(days=1), *days], window_then_days, emit=days)
        yield dg.Output(out)
    finally:
        con.close()


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"duckdb", "parquet"},
    ins={
        "comments": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "previous": dg.AssetIn(key="comment_state", partition_mapping=PREVIOUS_COMMENT_VIEW, metadata=LAZY),
    },
    op_tags=STEP_LARGE,
    metadata={"dagster/column_schema": column_schema("comment_state")},
)
def comment_state(
    context: dg.AssetExecutionContext, settings: KolSettings, comments: PartitionedInput, previous: PartitionedInput
) -> Iterator[dg.Output]:
    """Per day, the comments seen that day with their state (a delta): the note of their first snapshot, first
    and last snapshot day, the normalized text and top-level flags of the first snapshot, the note and
    is_substantive and sentiment (lib/ingest/sentiment.sql, the lexicon's word lists) of the latest top-level
    snapshot, keyed by comment_id. The state of a day, every comment seen in
    the trailing 122 days, is the view over the trailing 122 partitions from the latest base on (a partition
    holding the whole state, written when the previous state could not be read or the partitions would hold more
    superseded rows than live ones): lib/state/comment_state.sql, comment_view.sql; docs/metrics.md."""
    days = run_days(context)
    # The rows stay in DuckDB: the step yields a relation over them, which the IO manager writes with DuckDB's
    # COPY, so a base (the whole state: tens of millions of comments at scale) is never an Arrow table or frame in
    # Python. Dagster hands a yielded output to the IO manager before the step resumes, so the connection is
    # still open for that write and is closed right after it.
    con = duck.connect(previous.duck_settings)
    try:
        _fold_comment_state(context, settings, comments, previous, con, days)
        # A partition's rows are keyed by comment_id and read in no order; a write that keeps their order holds
        # batches back until the ones before are written, and a bootstrapped base read from its files (238 M
        # rows at the 1M benchmark) spilled 45 GB doing so. Without it, DuckDB streams the rows into the file.
        con.execute("SET preserve_insertion_order = false")
        yield dg.Output(comment_lib.run_rows(con, days[0], days[-1]))
    finally:
        comment_lib.release(con)
        con.close()


def _fold_comment_state(
    context: dg.AssetExecutionContext,
    settings: KolSettings,
    comments: PartitionedInput,
    previous: PartitionedInput,
    con: duckdb.DuckDBPyConnection,
    days: list[date],
) -> None:
    first = days[0]
    before = first - timedelta(days=1)
    have = set(comments.available())
    start = before - timedelta(days=state_lib.COMMENT_KEEP_DAYS)
    try:
        comment_view_lib.use_stored(con, previous.relation(con, columns=comment_lib.STORED_COLUMNS))
        start = comment_view_lib.latest_base(con, before) or start
        stored_days = {k for k in previous.available() if k >= start.isoformat()}
    except duckdb.Error as e:  # partitions of the former format (64-bit keys): the state is rebuilt
        context.log.warning(f"comment_state: the stored partitions cannot be read as the state ({e})")
        stored_days = set()
    missing = [
        d for d in state_lib.day_range(start, before) if d.isoformat() in have and d.isoformat() not in stored_days
    ]
    boot = None
    if missing or (not stored_days and have):
        boot_days = (first - timedelta(days=NOTE_WINDOW), before)
        context.log.info(
            f"comment_state: the state of {before} cannot be read from stored partitions since {start} "
            f"({len(missing)} day(s) with comments but none stored); bootstrapping from the stored comments "
            f"partitions of {boot_days[0]} .. {boot_days[1]}"
        )
        comment_view_lib.use_stored(con, None)
        boot = comments.relation(  # the days before the run's first, whose state is bootstrapped from them and its own
            con, columns=comment_lib.COMMENT_COLUMNS, start=boot_days[0].isoformat(), end=before.isoformat()
        )
    else:
        rows_read, superseded = comment_view_lib.view_cost(con, before)
        context.log.info(
            f"comment_state: the state of {before} from {len(stored_days)} stored partition(s) since {start} "
            f"({rows_read} rows read, {rows_read - superseded} in the state, {superseded} superseded)"
        )
    base_first = boot is None and comment_view_lib.view_cost(con, before)[0] == 0

    def read(d: date):
        if d.isoformat() not in have:
            return None
        return comments.relation(con, columns=comment_lib.COMMENT_COLUMNS, start=d.isoformat(), end=d.isoformat())

    lexicon = load_lexicon(settings.lexicon_file)
    for d, n, base in comment_lib.fold_days(con, days, read, boot=boot, base_first=base_first, lexicon=lexicon):
        if base:
            context.log.info(f"comment_state: {d} is stored as a base ({n} rows: the whole state)")


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"duckdb", "parquet"},
    ins={
        "notes": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "previous": dg.AssetIn(key="note_state", partition_mapping=PREVIOUS_DAY, metadata=LAZY),
    },
    op_tags=STEP_LARGE,
    metadata={"dagster/column_schema": column_schema("note_state")},
)
def note_state(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    notes: PartitionedInput,
    previous: PartitionedInput,
) -> Iterator[dg.Output]:
    """Per note published in the trailing 120 days or observed in the trailing 92: publish time, latest
    observation, the running-maximum curve's last point, E(2/7/30/90) once decided, the curve up to age 30 for the
    half-life while eng_30d is undecided. By ``lib/state/note_state.sql``, one day after another on one DuckDB
    connection, from the stored state of the day before the run (or, when it is missing, from the cleaned
    partitions of the ``NOTE_WINDOW`` days before it); the states stay in DuckDB, which writes them."""
    settings = metrics_config.to_settings()
    days = run_days(context)
    before = days[0] - timedelta(days=1)
    have = set(notes.available())
    # As comment_state: the step yields a relation over the states DuckDB holds, which the IO manager writes with
    # DuckDB's COPY while the step waits; the connection is closed after that write.
    con = duck.connect(notes.duck_settings)
    try:

        def partition(d: date):
            k = d.isoformat()
            return notes.relation(con, note_state_sql.OBS_COLUMNS, start=k, end=k) if k in have else None

        boot: list[date] = []
        if before.isoformat() in previous.available():
            context.log.info(f"note_state: continuing from the stored state of {before}")
            prev = note_state_sql.stored_state(con, previous)
        else:
            prev = None
            boot = state_lib.day_range(days[0] - timedelta(days=NOTE_WINDOW), before)
            stored = [d for d in boot if d.isoformat() in have]
            context.log.info(
                f"note_state: no state for {before}; bootstrapping from {len(stored)} stored notes partitions of "
                f"{boot[0]} .. {boot[-1]}"
            )
            boot = boot[boot.index(stored[0]) :] if stored else []  # nothing before the first stored day
        folded = note_state_sql.fold_days(
            con, prev, ((d, partition(d)) for d in days), settings, boot=((d, partition(d)) for d in boot)
        )
        for d, n in folded:
            context.log.debug(f"note_state: {d}: {n} notes")
        yield dg.Output(note_state_sql.run_rows(con))
    finally:
        con.close()


def use_comment_view(con, comment_state: PartitionedInput, days: list[date], since: date | None = None) -> None:
    """Make ``con``'s comment_view read the stored comment_state partitions the runs' days need (from ``since``,
    else the 122 days before the first day, to the last; lib/state/comment_view.sql)."""
    lo = since if since is not None else days[0] - timedelta(days=state_lib.COMMENT_KEEP_DAYS)
    rel = comment_state.relation(
        con, columns=comment_lib.STORED_COLUMNS, start=lo.isoformat(), end=days[-1].isoformat()
    )
    comment_view_lib.use_stored(con, rel)


def _of_day(df: pd.DataFrame, d: date, days: list[date] | None = None) -> pd.DataFrame:
    """The rows of ``d`` of an input loaded for the run's ``days`` (all of them when the run is that one day: a
    state of millions of rows is then not compared and copied)."""
    if days is not None and len(days) == 1 and days[0] == d:
        return df
    return df[df["snapshot_date"] == d] if len(df) and "snapshot_date" in df.columns else df.iloc[0:0]


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"duckdb", "parquet"},
    ins={
        "note_state": dg.AssetIn(metadata=LAZY),
        "creator_state": dg.AssetIn(metadata=LAZY),
        "comment_state": dg.AssetIn(partition_mapping=COMMENT_VIEW, metadata=LAZY),
        "campaign_posts": dg.AssetIn(metadata={"columns": ["note_id"]}),
    },
    op_tags=STEP_LARGE,
    metadata={"dagster/column_schema": column_schema("note_metrics")},
)
def note_metrics(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    note_state: PartitionedInput,
    creator_state: PartitionedInput,
    comment_state: PartitionedInput,
    campaign_posts: pd.DataFrame,
) -> Iterator[dg.Output]:
    """Engagement curve and longevity of every note published in the trailing 120 days, as of the day:
    eng_2d/7d/30d/90d (interpolated, null when no observation is within 2 days), er_7d, save_to_like,
    share_after_48h, half_life_days, is_evergreen, is_viral, substantive_comment_share. One SQL query
    (kol_pipeline/lib/metrics/note_metrics.sql) over the states of the run's days, on a DuckDB connection bounded
    by the IO manager's duckdb_config; the comment shares from the comment state's view (lib/state/note_comment_share.sql)."""
    days = run_days(context)
    settings = metrics_config.to_settings()
    con = duck.connect(note_state.duck_settings)  # open until the IO manager has written the yielded relation
    try:
        use_comment_view(con, comment_state, days)
        notes = note_state.relation(con, columns=nm_query.NOTE_STATE_COLUMNS)
        shares = nm_query.comment_shares(
            con, notes.project("snapshot_date, note_id").df(), settings.note_sentiment_min_comments
        )
        creators = creator_state.relation(con, columns=nm_query.CREATOR_STATE_COLUMNS)
        out = nm_query.note_metrics_table(con, notes, creators, shares, campaign_posts, days, settings)
        med, with_eng = nm_query.day_summary(con, days[-1])
        metadata = {}
        if med:
            tiers = [t for t in TIER_NAMES if t in med]
            metadata = {
                "er_7d_by_tier": dg.MetadataValue.md(
                    charts.png_markdown(
                        "bar",
                        {"median er_7d": [med[t] for t in tiers]},
                        tiers,
                        f"Median er_7d by tier, {days[-1]}",
                    )
                ),
                "notes_with_eng_7d": int(with_eng),
            }
        yield dg.Output(out, metadata=metadata)
    finally:
        con.close()


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"duckdb", "parquet"},
    ins={
        "note_metrics": dg.AssetIn(metadata=LAZY),
        "creator_state": dg.AssetIn(metadata=LAZY),
        "comment_state": dg.AssetIn(partition_mapping=COMMENT_VIEW, metadata=LAZY),
        "rate_card": dg.AssetIn(),
        # issue #26: the content facts and authors of the run's days, the search rankings of D-29 .. D
        "note_state": dg.AssetIn(metadata=LAZY),
        "search_rankings": dg.AssetIn(partition_mapping=SEARCH_WINDOW, metadata=LAZY),
    },
    op_tags=STEP_MEDIUM,
    metadata={"dagster/column_schema": column_schema("creator_scorecard")},
)
def creator_scorecard(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    note_metrics: PartitionedInput,
    creator_state: PartitionedInput,
    comment_state: PartitionedInput,
    rate_card: pd.DataFrame,
    note_state: PartitionedInput,
    search_rankings: PartitionedInput,
) -> pd.DataFrame:
    """One row per creator seen in the trailing 90 days: followers, tier, growth, niche, medians of the note
    metrics, estimated cost per engagement, disclosure rate, authenticity flags and score, composite score and rank
    within tier x category; sponsored vs organic er_7d, search appearances of the last 30 days, content style,
    percentiles within tier x category (the content facts from note_state, the rankings of D-29 .. D). lib/metrics/creator_scorecard.sql, every day of the run in one query; the comment
    counts per creator come from the comment state's view (lib/state/creator_comment_stats.sql, a query a day)."""
    days = run_days(context)
    settings = metrics_config.to_settings()
    # only the partitions that can hold comments last seen in the creator window (lib/state/days.py)
    w = int(settings.creator_window_days)
    since = days[0] - timedelta(days=min(max(w, 1) - 1, state_lib.COMMENT_KEEP_DAYS))
    with duck.connect(note_metrics.duck_settings) as con:
        use_comment_view(con, comment_state, days, since)
        owners = note_metrics.relation(con, ["note_id", "user_id"]).df()
        stats = scorecard_sql.comment_stats(con, owners, days, w)
        out = scorecard_sql.creator_scorecard(
            con,
            note_metrics.relation(con, scorecard_sql.NOTE_COLUMNS),
            creator_state.relation(con, scorecard_sql.STATE_COLUMNS),
            stats,
            rate_card,
            days,
            settings,
            note_facts=note_state_sql.stored_state(con, note_state, scorecard_sql.NOTE_FACT_COLUMNS),
            search_rankings=search_rankings.relation(con, scorecard_sql.RANKING_COLUMNS),
        )
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        flagged = last[last["authenticity_flags"].map(lambda f: f is not None and len(f) > 0)]
        flags = (
            pd.Series([x for f in flagged["authenticity_flags"] for x in f]).value_counts()
            if len(flagged)
            else pd.Series(dtype=int)
        )
        context.add_output_metadata(
            {
                "flagged_creators": len(flagged),
                "flags": dg.MetadataValue.json({str(k): int(v) for k, v in flags.items()}),
                "creators_by_tier": dg.MetadataValue.json(
                    {str(k): int(v) for k, v in last["tier"].value_counts().items()}
                ),
            }
        )
    return out


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"duckdb", "parquet"},
    ins={
        "creator_scorecard": dg.AssetIn(metadata=LAZY),
        "note_state": dg.AssetIn(metadata=LAZY),
        "creator_state": dg.AssetIn(metadata=LAZY),
    },
    op_tags=STEP_MEDIUM,
    metadata={"dagster/column_schema": column_schema("tier_benchmarks")},
)
def tier_benchmarks(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    creator_scorecard: PartitionedInput,
    note_state: PartitionedInput,
    creator_state: PartitionedInput,
) -> pd.DataFrame:
    """Per tier x category (and `all`): p25/median/p75 of creators' er_7d, save_to_like, half-life and CPE, and the
    cross-sectional longevity curve (median engagements/followers by note age bucket), which works on single
    crawls. One SQL query (kol_pipeline/lib/metrics/tier_benchmarks.sql) over the run's days."""
    days = run_days(context)
    settings = metrics_config.to_settings()
    with duck.connect(note_state.duck_settings) as con:
        out = tb_query.tier_benchmarks(
            con,
            creator_scorecard.relation(con, columns=tb_query.SCORECARD_COLUMNS),
            note_state.relation(con, columns=tb_query.NOTE_STATE_COLUMNS),  # not the curve lists
            creator_state.relation(con, columns=tb_query.CREATOR_STATE_COLUMNS),
            days,
            settings,
        )
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
                    charts.png_markdown(
                        "line",
                        series,
                        ["0-2d", "3-7d", "8-30d", "31-90d", "91d+"],
                        f"Median engagements/followers by note age, {days[-1]}",
                    )
                )
            }
        )
    return out
