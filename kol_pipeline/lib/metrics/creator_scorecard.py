"""creator_scorecard by ``creator_scorecard.sql`` (the formula is there): every day of a run in one query over
that day's note_metrics and creator_state (relations, or pandas frames in tests) and the per-creator comment
counts of ``comment_stats`` (for now computed by the existing Python over the stored comment_state, whose 64-bit
keys SQL cannot reproduce; its SQL replaces it once comment_state is keyed by real ids), and for the columns of
CONTRACT.md "Finding the right creators" the content facts of note_state (``NOTE_FACT_COLUMNS``) and the
search_rankings of the 30 days up to each day. Returns the table's
frame: lib/schemas.CREATOR_SCORECARD's columns and nullable dtypes, then the evidence columns of
kol_pipeline_tests/reference_metrics.SCORECARD_EXTRA."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.schemas import CREATOR_SCORECARD, CREATOR_STATE, NOTE_METRICS, NOTE_STATE, SEARCH_RANKINGS
from kol_pipeline.lib.settings import MetricSettings
from kol_pipeline.lib.state import comment_view as comment_view_lib

__all__ = [
    "NOTE_COLUMNS",
    "STATE_COLUMNS",
    "NOTE_FACT_COLUMNS",
    "RANKING_COLUMNS",
    "SEARCH_WINDOW_DAYS",
    "SCORE_COMPONENTS",
    "COMMENT_STATS_COLUMNS",
    "comment_stats",
    "creator_scorecard",
    "empty_scorecard",
]

# the note_metrics and creator_state columns the query reads (besides snapshot_date)
NOTE_COLUMNS = [
    "note_id",
    "user_id",
    "published_date",
    "crawled_at",
    "er_7d",
    "save_to_like",
    "half_life_days",
    "eng_30d",
    "comments",
    "likes",
    "category",
    "is_sponsored",
    "is_disclosed",
    "is_evergreen",
]
STATE_COLUMNS = ["user_id", "nickname", "followers_by_day"]
# note_state's content facts of the latest crawl on or before the day (and the author the search results are
# attributed to), and the search_rankings columns the query reads
NOTE_FACT_COLUMNS = ["note_id", "user_id", "desc_chars", "note_type", "tag_count"]
RANKING_COLUMNS = ["keyword", "rank", "note_id"]
SEARCH_WINDOW_DAYS = 30  # search_appearances_30d: the rankings of D-29 .. D
SEARCH_TOP_N = 20  # ranked results: rank 1 .. 20
MIN_PEERS = 5  # er_7d_percentile, save_to_like_percentile: null with fewer creators of the tier x category
SCORECARD_LOOKBACK = 124  # creator_state's followers_by_day: D-124 .. D
# the scorecard columns the composite score may weigh (MetricSettings.score_weights; the query unpivots them)
SCORE_COMPONENTS = (
    "median_er_7d",
    "median_save_to_like",
    "substantive_comment_share",
    "evergreen_share",
    "median_half_life_days",
    "authenticity_score",
    "followers",
    "follower_growth_30d",
    "notes_90d",
    "niche_hhi",
    "est_cpe_cny",
    "disclosure_rate",
)
COMMENT_STATS_COLUMNS = ["n_all", "n_dup", "n_top", "n_top_sub", "n_pos", "n_neg"]
EXTRA = {"comments_90d": "Int64", "duplicate_comment_share": "Float64", "comment_to_like_90d": "Float64"}


def empty_scorecard() -> pd.DataFrame:
    out = CREATOR_SCORECARD.empty_frame()
    for c, t in EXTRA.items():
        out[c] = pd.Series(dtype=t)
    return out


def comment_stats(con: Any, note_owners: pd.DataFrame, days: Iterable[date], window_days: int) -> pd.DataFrame:
    """Per day D of ``days`` and creator: the comments on their notes last seen in D-window+1 .. D (the comment
    state of D: creator_comment_stats.sql over ``con``'s comment_view, set up by ``comment_view.use_stored``):
    n_all, n_dup (whose non-empty normalized text another of them shares), n_top (top-level), n_top_sub (of those,
    substantive), n_pos, n_neg (seen top-level, positive / negative: comment_sentiment). ``note_owners``: D's note_metrics rows (snapshot_date, note_id, user_id): a note is its
    creator's by the last row. Only creators with a comment; the scorecard takes 0 for the others."""
    cols = {"snapshot_date": pd.Series(dtype=object), "user_id": pd.Series(dtype=object)}
    cols.update({c: pd.Series(dtype="float64") for c in COMMENT_STATS_COLUMNS})
    owners = note_owners[note_owners["user_id"].notna()]
    sd = pd.to_datetime(owners["snapshot_date"].astype(object)).dt.date
    out = []
    days = sorted(days)
    # the rows of the window's view (its buckets of creators and threads), counted once for the run on its last
    # day (the windows of a run's days are about as large; a bucket count or the threads change the memory a query
    # needs, never its rows), not with a scan a day
    rows = None
    for d in days:
        of_day = owners[(sd == d).to_numpy()].drop_duplicates("note_id", keep="last")
        if of_day.empty:
            continue
        if rows is None:
            rows = comment_view_lib.stats_rows(con, days[-1], window_days)
        got = comment_view_lib.creator_comment_stats(con, of_day[["note_id", "user_id"]], d, window_days, rows=rows)
        got = got[got["n_all"] > 0]
        if len(got):
            got["snapshot_date"] = d
            out.append(got)
    if not out:
        return pd.DataFrame(cols)
    return pd.concat(out, ignore_index=True)[list(cols)]


def _day_frame(df: pd.DataFrame, columns: Sequence[str], schema: pa.Schema) -> pa.Table:
    """A pandas frame of a stored table as a typed Arrow table of ``columns`` and snapshot_date (tests)."""
    cols = [*columns, "snapshot_date"]
    frame = df.reindex(columns=cols).copy()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"].astype(object)).dt.date
    fields = [schema.field(c) for c in cols]
    return pa.Table.from_pandas(frame, schema=pa.schema(fields), preserve_index=False)


def _optional(obj: Any, columns: Sequence[str], schema: pa.Schema) -> Any:
    """A relation as it is; a frame typed (``_day_frame``); None as no rows."""
    if obj is None:
        return pa.schema([schema.field(c) for c in [*columns, "snapshot_date"]]).empty_table()
    if isinstance(obj, pd.DataFrame):
        return _day_frame(obj, columns, schema)
    return obj


def _inputs(
    note_metrics: Any,
    creator_state: Any,
    stats: pd.DataFrame,
    rate_card: pd.DataFrame | None,
    settings,
    note_facts: Any = None,
    search_rankings: Any = None,
) -> dict[str, Any]:
    if isinstance(note_metrics, pd.DataFrame):
        note_metrics = _day_frame(note_metrics, NOTE_COLUMNS, NOTE_METRICS.schema)
    if isinstance(creator_state, pd.DataFrame):
        creator_state = _day_frame(creator_state, STATE_COLUMNS, CREATOR_STATE.schema)
    stats_t = pa.table(
        {
            "snapshot_date": pa.array(list(stats["snapshot_date"]), type=pa.date32()),
            "user_id": pa.array(stats["user_id"].astype(object).tolist(), type=pa.string()),
            # a stats frame without the sentiment counts (n_pos, n_neg) counts none
            **{
                c: pa.array(
                    stats[c].to_numpy(dtype="float64") if c in stats.columns else np.zeros(len(stats)),
                    type=pa.float64(),
                )
                for c in COMMENT_STATS_COLUMNS
            },
        }
    )
    rc = rate_card if rate_card is not None and "image_price_cny" in rate_card.columns else None
    price = pd.to_numeric(rc["image_price_cny"], errors="coerce") if rc is not None else pd.Series(dtype="float64")
    rate = pa.table(
        {
            "user_id": pa.array([] if rc is None else rc["user_id"].astype(object).tolist(), type=pa.string()),
            "image_price_cny": pa.array(price.to_numpy(dtype="float64"), type=pa.float64(), from_pandas=True),
            "rc_row": pa.array(np.arange(len(price), dtype="int64")),
        }
    )
    unknown = [c for c in settings.score_weights if c not in SCORE_COMPONENTS]
    if unknown:
        raise ValueError(f"score_weights: not a scorecard component: {unknown} (one of {list(SCORE_COMPONENTS)})")
    weights = pa.table(
        {
            "pos": pa.array(range(len(settings.score_weights)), type=pa.int64()),
            "component": pa.array(list(settings.score_weights), type=pa.string()),
            "weight": pa.array([float(v) for v in settings.score_weights.values()], type=pa.float64()),
        }
    )
    return {
        "note_metrics": note_metrics,
        "creator_state": creator_state,
        "comment_stats": stats_t,
        "rate_card": rate,
        "score_weights": weights,
        "note_facts": _optional(note_facts, NOTE_FACT_COLUMNS, NOTE_STATE.schema),
        "search_rankings": _optional(search_rankings, RANKING_COLUMNS, SEARCH_RANKINGS.schema),
    }


def _params(days: Sequence[date], settings: MetricSettings) -> dict[str, object]:
    aw = settings.authenticity_weights
    return {
        "days": list(days),
        "window_days": int(settings.creator_window_days),
        "tolerance": int(settings.nearest_snapshot_days),
        "lookback": SCORECARD_LOOKBACK,
        "tier_bounds": [float(b) for b in settings.tier_bounds],
        "low_er_factor": float(settings.low_er_factor),
        "spike_rel": float(settings.spike_rel),
        "spike_abs": float(settings.spike_abs),
        "spike_quiet_days": float(settings.spike_quiet_days),
        "dup_min_comments": float(settings.dup_min_comments),
        "dup_share": float(settings.dup_share),
        "low_c2l_factor": float(settings.low_c2l_factor),
        "w_low_er": float(aw.get("low_er_for_tier", 0.0)),
        "w_spike": float(aw.get("follower_spike", 0.0)),
        "w_dup": float(aw.get("duplicate_comments", 0.0)),
        "w_low_c2l": float(aw.get("low_comment_to_like", 0.0)),
        "score_min_weight_share": float(settings.score_min_weight_share),
        "search_days": SEARCH_WINDOW_DAYS,
        "top_n": SEARCH_TOP_N,
        "min_peers": MIN_PEERS,
        "min_sentiment_comments": int(settings.creator_sentiment_min_comments),
    }


def creator_scorecard(
    con: duckdb.DuckDBPyConnection,
    note_metrics: Any,
    creator_state: Any,
    stats: pd.DataFrame,
    rate_card: pd.DataFrame | None,
    days: Iterable[date],
    settings: MetricSettings = MetricSettings(),
    *,
    note_facts: Any = None,
    search_rankings: Any = None,
) -> pd.DataFrame:
    """The scorecard of every day of ``days`` in one query on ``con`` (lib/duck.connect). ``note_metrics`` and
    ``creator_state``: relations (``PartitionedInput.relation``) or frames with NOTE_COLUMNS / STATE_COLUMNS
    and snapshot_date; ``stats``: ``comment_stats`` of those days. ``note_facts``: note_state of those days
    (NOTE_FACT_COLUMNS and snapshot_date); ``search_rankings``: the rankings of the SEARCH_WINDOW_DAYS days up to
    each of them (RANKING_COLUMNS and snapshot_date); None: none (the content style and search columns null)."""
    days = sorted({pd.Timestamp(d).date() for d in days})
    if not days:
        return empty_scorecard()
    out = duck.run_query(
        con,
        "creator_scorecard",
        _inputs(note_metrics, creator_state, stats, rate_card, settings, note_facts, search_rankings),
        _params(days, settings),
    )
    return to_frame(out)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """The query's Arrow result as the table's frame (nullable dtypes, dates as python dates, flag lists as
    python lists)."""
    if len(table) == 0:
        return empty_scorecard()
    flags = table.column("authenticity_flags").to_pylist()
    keywords = table.column("search_keywords_30d").to_pylist()
    df = table.drop_columns(["authenticity_flags", "search_keywords_30d"]).to_pandas(types_mapper=_nullable)
    df["authenticity_flags"] = pd.Series([list(f) if f is not None else [] for f in flags], dtype=object)
    df["search_keywords_30d"] = pd.Series([list(k) if k is not None else None for k in keywords], dtype=object)
    df["snapshot_date"] = pd.Series([d for d in table.column("snapshot_date").to_pylist()], dtype=object)
    for c in ("user_id", "nickname", "tier", "primary_category"):
        s = df[c].astype(object)
        df[c] = s.where(s.notna(), None)
    for c, t in ((f.name, f.type) for f in CREATOR_SCORECARD.schema):
        if pa.types.is_floating(t):
            df[c] = df[c].astype("Float64")
        elif pa.types.is_int64(t):
            df[c] = df[c].astype("Int64")
    for c, t in EXTRA.items():
        df[c] = df[c].astype(t)
    return df[list(empty_scorecard().columns)].reset_index(drop=True)


def _nullable(t: pa.DataType):
    if pa.types.is_floating(t):
        return pd.Float64Dtype()
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    return None


def scorecard_from_state(
    note_metrics_day: pd.DataFrame,
    creator_state: pd.DataFrame,
    comment_state: Any,
    rate_card: pd.DataFrame | None,
    day: date,
    settings: MetricSettings = MetricSettings(),
    *,
    note_facts: pd.DataFrame | None = None,
    search_rankings: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The scorecard of ``day`` from that day's note_metrics rows and states as pandas frames (tests,
    benchmarks), on a connection of its own: ``comment_state`` the stored comment_state partitions the comment
    state of the day is the view over (with snapshot_date and base; None: no comment). ``note_facts``: that day's
    note_state rows; ``search_rankings``: the rankings of the 30 days up to it (with snapshot_date)."""
    nm = note_metrics_day.assign(snapshot_date=day)
    state = creator_state.assign(snapshot_date=day)
    with duck.connect() as con:
        comment_view_lib.use_stored(con, comment_state)
        stats = comment_stats(con, nm[["snapshot_date", "note_id", "user_id"]], [day], settings.creator_window_days)
        facts = note_facts.assign(snapshot_date=day) if note_facts is not None else None
        return creator_scorecard(
            con, nm, state, stats, rate_card, [day], settings, note_facts=facts, search_rankings=search_rankings
        )
