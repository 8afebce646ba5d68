"""Note and creator metrics: thin wrappers over kol_pipeline.lib.state and kol_pipeline.lib.metrics.

The daily cost does not depend on the length of the history: three compact states (note_state, creator_state,
comment_state) are each computed from the previous day's state and that day's cleaned partition, and the metrics
of a day are computed from that day's states (docs/metrics.md "Incremental state"). The states declare the
trailing window of cleaned partitions they would need to start from scratch (lineage), but read it only when the
previous day's state is missing (the first day, or a day re-run alone after a gap); otherwise they read one
partition per day of the run, only the columns they use. A ranged run processes its days in order in one step.
comment_state stores each day's sightings instead of the whole state, and its state of a day is the view over its
trailing 122 partitions from the latest base on (lib/state.py comment_view; docs/metrics.md).
"""

import functools
from datetime import date, timedelta

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.defs.shared import DAILY, SINGLE_RUN, STEP_LARGE, STEP_MEDIUM, column_schema, run_days, window_mapping
from kol_pipeline.lib import charts, duck
from kol_pipeline.lib import metrics as metrics_lib
from kol_pipeline.lib import state as state_lib
from kol_pipeline.lib.queries import creator_scorecard as scorecard_sql
from kol_pipeline.lib.queries import creator_state as creators_sql
from kol_pipeline.lib.settings import TIER_NAMES
from kol_pipeline.resources.io_manager import PartitionedInput
from kol_pipeline.resources.settings import MetricsConfig

NOTE_WINDOW = 121  # note_window_days + 1: a note published 119 days ago needs its first observations
CREATOR_WINDOW = 124  # 90 days of creators + 30-day growth + 3 days of tolerance + 1
# The state of the day before the run's first day (a self-dependency; absent on the first day ever).
PREVIOUS_DAY = dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True)
# comment_state's own partitions the state of the day before the run is a view over (lib/state.py comment_view)
PREVIOUS_COMMENT_VIEW = dg.TimeWindowPartitionMapping(
    start_offset=-(state_lib.COMMENT_KEEP_DAYS + 1), end_offset=-1, allow_nonexistent_upstream_partitions=True
)
# the partitions the comment state of each day of the run is a view over
COMMENT_VIEW = window_mapping(state_lib.COMMENT_KEEP_DAYS)
LAZY = {"lazy": True}


def per_partition_counts(context: dg.AssetExecutionContext, df: pd.DataFrame, asset_key: str | None = None) -> None:
    """dagster/row_count on each partition's own materialization: 0 for every partition of the run, then the count
    of each day with rows (partition-scoped metadata overrides the run-wide one). Dagster checks every
    partition-scoped call against the run's whole key range, so a call per empty day of a long sparse range would
    cost O(days^2)."""
    keys = set(context.partition_keys)
    if len(keys) == 1:  # a daily run: every row is that day's (the IO manager refuses any other), no grouping
        counts = pd.Series({next(iter(keys)): len(df)}, dtype=int)
    else:
        counts = df.groupby("snapshot_date", observed=True).size() if len(df) else pd.Series(dtype=int)
    target = {"asset_key": asset_key} if asset_key else {}
    context.add_asset_metadata({"dagster/row_count": 0}, **target)
    for day, n in counts.items():
        if str(day) in keys and n:
            context.add_asset_metadata({"dagster/row_count": int(n)}, partition_key=str(day), **target)


def last_day(df: pd.DataFrame, days) -> pd.DataFrame:
    return df[df["snapshot_date"] == days[-1]] if len(df) else df


def _fold_state(
    context: dg.AssetExecutionContext,
    name: str,
    previous: PartitionedInput,
    cleaned: PartitionedInput,
    columns: list[str],
    bootstrap_days: int,
    step,
) -> pd.DataFrame:
    """Run ``step(prev_state, prev_day, partition, day)`` over the run's days in order, starting from the stored
    state of the day before the first (or, when it is missing, from the cleaned partitions of the
    ``bootstrap_days`` days before it, by folding ``step`` over them). Returns every day's state with
    snapshot_date. (comment_state, stored as deltas, has its own loop: ``comment_state`` below.)"""
    days = run_days(context)
    first = days[0]
    before = (first - timedelta(days=1)).isoformat()
    stored = previous.available()
    if before in stored:
        prev = state_lib._without_day(previous.read([before]))
        prev_day: date | None = first - timedelta(days=1)
        context.log.info(f"{name}: continuing from the stored state of {before}")
    else:
        prev, prev_day = None, None
        boot = state_lib.day_range(first - timedelta(days=bootstrap_days), first - timedelta(days=1))
        have = set(cleaned.available())
        context.log.info(
            f"{name}: no state for {before}; bootstrapping from {len(have & {d.isoformat() for d in boot})} "
            f"stored {cleaned.table} partitions of {boot[0]} .. {boot[-1]}"
        )
        stored_days = [i for i, d in enumerate(boot) if d.isoformat() in have]
        boot = boot[stored_days[0] :] if stored_days else []  # nothing before the first stored day
        parts = ((d, cleaned.read([d.isoformat()], columns) if d.isoformat() in have else None) for d in boot)
        for d, part in parts:
            prev = step(prev, prev_day, part, d)
            prev_day = d
    have = set(cleaned.available())
    out = []
    for d in days:
        part = cleaned.read([d.isoformat()], columns) if d.isoformat() in have else None
        prev = step(prev, prev_day, part, d)
        prev_day = d
        out.append(state_lib._with_day(prev, d))
    res = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
    per_partition_counts(context, res)
    return res


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
) -> pd.DataFrame:
    """Per creator with a snapshot in the trailing 125 days: followers by day, latest nickname (the input of every
    creator look-up of note_metrics, creator_scorecard and tier_benchmarks). lib/queries/creator_state.sql, one
    day at a time from the stored state of the day before the run (or, when it is missing, from the creators
    partitions of the CREATOR_WINDOW days before it), the previous day's state kept in DuckDB."""
    days = run_days(context)
    first = days[0]
    before = (first - timedelta(days=1)).isoformat()
    have = set(creators.available())
    with duck.connect(creators.duck_settings) as con:

        def creators_of(d: date):
            k = d.isoformat()
            return creators.relation(con, creators_sql.CREATOR_COLUMNS, start=k, end=k) if k in have else None

        if before in previous.available():
            context.log.info(f"creator_state: continuing from the stored state of {before}")
            prev = previous.relation(con, creators_sql.STATE_COLUMNS, start=before, end=before)
            out = creators_sql.creator_states(con, days, creators_of, prev, first - timedelta(days=1))
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

            out = creators_sql.creator_states(con, [first - timedelta(days=1), *days], window_then_days, emit=days)
    per_partition_counts(context, out)
    return out


def _view_keys(stored: PartitionedInput, first: date, last: date | None = None) -> list[str]:
    """The stored comment_state partitions the comment states of ``first`` .. ``last`` are views over: from where
    the view of ``first`` starts (its latest base, told by the newest partition at or before it:
    ``state.view_start``) to ``last``. One row of it is read besides; nothing before the latest base is read."""
    last = first if last is None else last
    lo = first - timedelta(days=state_lib.COMMENT_KEEP_DAYS)
    keys = [k for k in stored.available() if lo.isoformat() <= k <= last.isoformat()]
    head = [k for k in keys if k <= first.isoformat()]
    if not head:
        return keys
    newest = date.fromisoformat(head[-1])
    # base and base_sd are the same on every row of a partition: its first row tells (a base holds millions)
    start = state_lib.view_start(stored.read([head[-1]], columns=["base", "base_sd"], limit=1), newest, first)
    return [k for k in keys if k >= start.isoformat()]


def _row_fetch(previous: PartitionedInput, keys: list[str], window: pd.DataFrame) -> state_lib.RowFetch:
    """``fetch(rows)`` for ``comment_state_partitions``: the state's columns of the rows of a mask over ``window``
    (the stored partitions ``keys``, read with fewer columns). Few rows (the previous rows of the day's re-sighted
    comments) are read with a filter on their comment keys; many (a base, a ranged run) with a full read. Either
    read is checked to give the window's rows in the window's order."""
    cols = list(state_lib.COMMENT_STATE_DTYPES)
    wkeys = window["comment_key"].to_numpy(dtype="int64")

    def frame(df: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({c: df[c].to_numpy()[rows] for c in cols}, copy=False)

    def fetch(rows: np.ndarray) -> pd.DataFrame:
        if not rows.any():
            return state_lib.empty_comment_state()
        if all(c in window.columns for c in cols):
            return frame(window, rows)
        want = np.unique(wkeys[rows])
        if len(want) * 20 < len(wkeys):
            at = np.flatnonzero(pd.Index(want).get_indexer(wkeys) >= 0)
            got = previous.read(keys, cols, row_filter=pc.field("comment_key").isin(pa.array(want, type=pa.int64())))
            if len(got) == len(at) and np.array_equal(got["comment_key"].to_numpy(dtype="int64"), wkeys[at]):
                return frame(got, rows[at])
        full = previous.read(keys, cols)
        if len(full) != len(wkeys) or not np.array_equal(full["comment_key"].to_numpy(dtype="int64"), wkeys):
            raise RuntimeError(
                f"comment_state: the stored partitions {keys[0]} .. {keys[-1]} changed while this "
                "run read them; run it again"
            )
        return frame(full, rows)

    return fetch


def _stored_comment_state(
    context: dg.AssetExecutionContext,
    previous: PartitionedInput,
    comments: PartitionedInput,
    before: date,
    columns: list[str] | None = None,
) -> tuple[pd.DataFrame | None, np.ndarray | None, int, date | None, state_lib.RowFetch | None]:
    """The comment state of ``before`` from its stored partitions: those partitions (from the latest base on, only
    ``columns``: all of the state's by default), the mask of the state's rows among them, how many rows they hold
    beyond it (superseded or expired), the first day read and a ``fetch`` of the state's columns of given rows;
    (None, None, 0, None, None) when it cannot be read from them: a day from the latest base on has cleaned
    comments but no stored partition (never run, or deleted). A day without cleaned comments writes no partition
    (an empty delta), so it breaks nothing."""
    stored = _view_keys(previous, before)
    cleaned = set(comments.available())
    if not stored and cleaned:
        return None, None, 0, None, None
    columns = list(state_lib.COMMENT_STATE_DTYPES) + ["base"] if columns is None else columns
    window = previous.read(stored, columns) if stored else None
    if window is None or len(window) == 0:
        return (None, None, 0, None, None) if cleaned else (state_lib.empty_comment_state(), None, 0, None, None)
    mask, dead, start = state_lib.comment_view_mask(window, before)
    have = set(stored)
    missing = [d for d in state_lib.day_range(start, before) if d.isoformat() not in have and d.isoformat() in cleaned]
    if missing:
        context.log.warning(
            f"comment_state: no stored partition for {len(missing)} day(s) with comments since "
            f"{start} (first {missing[0]}); the state of {before} is rebuilt from the cleaned comments"
        )
        return None, None, 0, None, None
    context.log.info(
        f"comment_state: the state of {before} from {len(stored)} stored partition(s) since {start} "
        f"({len(window)} rows read, {int(mask.sum())} in the state, {dead} superseded or expired)"
    )
    return window, mask, dead, start, _row_fetch(previous, stored, window)


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"pandas", "parquet"},
    ins={
        "comments": dg.AssetIn(partition_mapping=window_mapping(NOTE_WINDOW), metadata=LAZY),
        "previous": dg.AssetIn(key="comment_state", partition_mapping=PREVIOUS_COMMENT_VIEW, metadata=LAZY),
    },
    op_tags=STEP_LARGE,
    metadata={"dagster/column_schema": column_schema("comment_state")},
)
def comment_state(
    context: dg.AssetExecutionContext, comments: PartitionedInput, previous: PartitionedInput
) -> pd.DataFrame:
    """Per day, the comments seen that day with their state (a delta): note, first/last snapshot day, normalized
    text and class of the first snapshot, latest top-level is_substantive (no text kept). The state of a day, every
    comment seen in the trailing 122 days, is the view over the trailing 122 partitions from the latest base on
    (a partition holding the whole state, written when the previous state could not be read or the deltas carry
    more superseded rows than live ones): docs/metrics.md, "How comment_state is stored"."""
    days = run_days(context)
    first = days[0]
    # a daily run reads the view's columns of the stored state; the rest only of the rows it needs (the previous
    # rows of the day's re-sighted comments; every row when the day is stored as a base). A ranged run builds
    # the whole state for its next days, so it reads every column at once.
    columns = state_lib.COMMENT_VIEW_COLUMNS if len(days) == 1 else None
    prev, prev_rows, dead, start, fetch = _stored_comment_state(
        context, previous, comments, first - timedelta(days=1), columns
    )
    base_first = prev is None or (len(prev) if prev_rows is None else int(prev_rows.sum())) == 0
    have = set(comments.available())

    def read(d: date) -> pd.DataFrame | None:
        return comments.read([d.isoformat()], state_lib.COMMENT_COLUMNS) if d.isoformat() in have else None

    if prev is None:
        boot = state_lib.day_range(first - timedelta(days=NOTE_WINDOW), first - timedelta(days=1))
        context.log.info(
            f"comment_state: bootstrapping from {len(have & {d.isoformat() for d in boot})} stored "
            f"comments partitions of {boot[0]} .. {boot[-1]}"
        )
        prev = state_lib.comment_state_batch((d, read(d)) for d in boot)

    out = []
    for d, rows in state_lib.comment_state_partitions(
        prev, days, read, dead, base_first, prev_rows=prev_rows, base_day=start, fetch=fetch
    ):
        if rows["base"].any():
            context.log.info(f"comment_state: {d} is stored as a base ({len(rows)} rows: the whole state)")
        out.append(state_lib._with_day(rows, d))
    res = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
    per_partition_counts(context, res)
    return res


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    group_name="metrics",
    kinds={"pandas", "parquet"},
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
) -> pd.DataFrame:
    """Per note published in the trailing 120 days or observed in the trailing 92: publish time, latest
    observation, the running-maximum curve's last point, E(2/7/30/90) once decided, the curve up to age 30 for the
    half-life while eng_30d is undecided."""
    settings = metrics_config.to_settings()
    return _fold_state(
        context,
        "note_state",
        previous,
        notes,
        state_lib.NOTE_OBS_COLUMNS,
        NOTE_WINDOW,
        lambda prev, prev_day, part, d: state_lib.note_state_step(prev, part, d, settings),
    )


def _comment_partitions(
    comment_state: PartitionedInput, days: list[date], columns: list[str], since: date | None = None
) -> pd.DataFrame:
    """The stored comment_state partitions the comment states of the run's days are views over (from the latest
    base on), only ``columns`` and those the view needs; with ``since``, only the partitions from that day on and
    their rows last seen from then on (``state.comment_partitions_since``, ``state.last_seen_since``)."""
    keys = _view_keys(comment_state, days[0], days[-1])
    columns = columns + state_lib.COMMENT_VIEW_COLUMNS
    if since is not None:
        keys = [k for k in keys if k >= since.isoformat()]
        try:  # and of a base partition only its rows last seen from ``since`` on (state.last_seen_since)
            return comment_state.read(keys, columns, row_filter=state_lib.last_seen_since(since))
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # a partition of the former format (timestamp days): read whole, the view's mask decides
    return comment_state.read(keys, columns)


def _comment_rows(comment_state: pd.DataFrame, d: date):
    """The rows of the loaded comment_state partitions that form the comment state of ``d`` (a mask, so that
    millions of rows are not copied; lib/state.py comment_view_mask)."""
    return state_lib.comment_view_mask(comment_state, d)[0]


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
    kinds={"pandas", "parquet"},
    ins={
        "note_state": dg.AssetIn(),
        "creator_state": dg.AssetIn(),
        "comment_state": dg.AssetIn(partition_mapping=COMMENT_VIEW, metadata=LAZY),
        "campaign_posts": dg.AssetIn(metadata={"columns": ["note_id"]}),
    },
    op_tags=STEP_LARGE,
    metadata={"dagster/column_schema": column_schema("note_metrics")},
)
def note_metrics(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    note_state: pd.DataFrame,
    creator_state: pd.DataFrame,
    comment_state: PartitionedInput,
    campaign_posts: pd.DataFrame,
) -> pd.DataFrame:
    """Engagement curve and longevity of every note published in the trailing 120 days, as of the day:
    eng_2d/7d/30d/90d (interpolated, null when no observation is within 2 days), er_7d, save_to_like,
    share_after_48h, half_life_days, is_evergreen, is_viral, substantive_comment_share."""
    days = run_days(context)
    settings = metrics_config.to_settings()
    comment_state = _comment_partitions(comment_state, days, state_lib.NOTE_SHARE_COMMENT_COLUMNS)
    parts = [
        state_lib.note_metrics_from_state(
            _of_day(note_state, d, days),
            _of_day(creator_state, d, days),
            comment_state,
            campaign_posts,
            d,
            settings,
            comment_rows=_comment_rows(comment_state, d),
        )
        for d in days
    ]
    out = pd.concat(parts, ignore_index=True) if parts else metrics_lib.NOTE_METRICS.empty_frame()
    per_partition_counts(context, out)
    last = last_day(out, days)
    if len(last):
        med = last.groupby("tier")["er_7d"].median()
        tiers = [t for t in TIER_NAMES if t in med.index]
        context.add_output_metadata(
            {
                "er_7d_by_tier": dg.MetadataValue.md(
                    charts.png_markdown(
                        "bar",
                        {"median er_7d": [float(med[t]) if pd.notna(med[t]) else None for t in tiers]},
                        tiers,
                        f"Median er_7d by tier, {days[-1]}",
                    )
                ),
                "notes_with_eng_7d": int(last["eng_7d"].notna().sum()),
            }
        )
    return out


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
) -> pd.DataFrame:
    """One row per creator seen in the trailing 90 days: followers, tier, growth, niche, medians of the note
    metrics, estimated cost per engagement, disclosure rate, authenticity flags and score, composite score and rank
    within tier x category. lib/queries/creator_scorecard.sql, every day of the run in one query; the comment
    counts per creator come from the stored comment_state (creator_scorecard.comment_stats)."""
    days = run_days(context)
    settings = metrics_config.to_settings()
    # only the partitions that can hold comments last seen in the creator window (lib/state.py)
    since = state_lib.comment_partitions_since(days[0], settings.creator_window_days)
    comments = _comment_partitions(comment_state, days, state_lib.SCORECARD_COMMENT_COLUMNS, since)
    stats = scorecard_sql.comment_stats(
        comments,
        note_metrics.read(columns=["note_id", "user_id"]),
        days,
        settings.creator_window_days,
        functools.partial(_comment_rows, comments),
    )
    comments = None  # the comment rows are counted: free them before the query
    with duck.connect(note_metrics.duck_settings) as con:
        out = scorecard_sql.creator_scorecard(
            con,
            note_metrics.relation(con, scorecard_sql.NOTE_COLUMNS),
            creator_state.relation(con, scorecard_sql.STATE_COLUMNS),
            stats,
            rate_card,
            days,
            settings,
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
    kinds={"pandas", "parquet"},
    ins={
        "creator_scorecard": dg.AssetIn(),
        "note_state": dg.AssetIn(metadata={"columns": state_lib.CURVE_NOTE_COLUMNS}),  # not the curve lists
        "creator_state": dg.AssetIn(),
    },
    op_tags=STEP_MEDIUM,
    metadata={"dagster/column_schema": column_schema("tier_benchmarks")},
)
def tier_benchmarks(
    context: dg.AssetExecutionContext,
    metrics_config: MetricsConfig,
    creator_scorecard: pd.DataFrame,
    note_state: pd.DataFrame,
    creator_state: pd.DataFrame,
) -> pd.DataFrame:
    """Per tier x category (and `all`): p25/median/p75 of creators' er_7d, save_to_like, half-life and CPE, and the
    cross-sectional longevity curve (median engagements/followers by note age bucket), which works on single crawls."""
    days = run_days(context)
    settings = metrics_config.to_settings()
    points = (
        (
            d,
            state_lib.curve_points_from_state(
                _of_day(note_state, d, days), d, settings, creator_state=_of_day(creator_state, d, days)
            ),
        )
        for d in days
    )
    out = state_lib.tier_benchmarks_from_states(creator_scorecard, points, settings)
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
