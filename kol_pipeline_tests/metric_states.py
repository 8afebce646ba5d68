"""note_metrics and tier_benchmarks as the pipeline computes them, for tests that hold cleaned tables: the states
(note_state, creator_state, comment_state) folded over the days with the state assets' functions and stored in the
warehouse layout, then the SQL of lib/state and lib/metrics read over them as DuckDB relations, as the assets do.

``note_metrics`` and ``tier_benchmarks`` take the arguments of the former window functions of lib/metrics.py (now kol_pipeline_tests/reference_metrics.py)
(cleaned notes, creators and comments with snapshot_date; the days to compute), so the hand-computed tests
(unit/test_metrics.py, unit/test_planted_truth.py) check the SQL with their assertions unchanged. If the states'
producers change, ``write_states`` is the one place to follow them."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kol_pipeline.lib import duck
from kol_pipeline.lib.metrics import note_metrics as NM
from kol_pipeline.lib.metrics import tier_benchmarks as TB
from kol_pipeline.lib.settings import MetricSettings
from kol_pipeline.lib.state import comment_state as CS
from kol_pipeline.lib.state import comment_view as CV
from kol_pipeline.lib.state import creator_state as CR
from kol_pipeline.lib.state import days as S
from kol_pipeline.lib.state import note_state as NS
from kol_pipeline.resources.io_manager import PartitionedInput, make_base_path
from kol_pipeline.resources.table_io import to_arrow

STATES = ("note_state", "creator_state", "comment_state")
# the longest window a state asset bootstraps from (creator_state: 124 days) and one day more
BOOT_DAYS = 125


def _day(v) -> date:
    return pd.Timestamp(v).date()


def _by_day(df: pd.DataFrame | None) -> dict[date, pd.DataFrame]:
    if df is None or len(df) == 0:
        return {}
    sd = pd.Series([_day(v) for v in df["snapshot_date"]], index=df.index)
    return {d: part.drop(columns="snapshot_date") for d, part in df.groupby(sd, sort=True)}


def write_partition(wh: Path, table: str, d: date, frame: pd.DataFrame) -> None:
    """A state of ``d`` (without snapshot_date) stored under ``wh`` as the IO manager stores its partition."""
    if len(frame) == 0:  # the IO manager writes no file for an empty day
        return
    folder = wh / table / f"snapshot_date={d.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(to_arrow(S.with_day(frame, d), table).drop_columns(["snapshot_date"]), folder / "part-0.parquet")


def write_states(
    wh: Path,
    notes: pd.DataFrame | None,
    creators: pd.DataFrame | None,
    comments: pd.DataFrame | None,
    last: date,
    settings: MetricSettings = MetricSettings(),
    start: date | None = None,
) -> list[date]:
    """The three states of every day from the first day of the cleaned tables (or ``start``, if later) to
    ``last``, written under ``wh`` as the state assets' ranged run writes them; returns those days. A fold that
    starts ``BOOT_DAYS`` before the first day asked for gives that day the states a bootstrapping asset builds
    (the assets' window; a bootstrapped state equals a carried one: unit/test_state.py), without folding a long
    history day by day."""
    n, c, k = _by_day(notes), _by_day(creators), _by_day(comments)
    first = min([*n, *c, *k, last])
    if start is not None:
        first = max(first, start)
    days = S.day_range(first, last)
    # one connection for the whole fold, as a ranged run of the state assets folds (lib/queries/*_state.py): the
    # note state stays Arrow from day to day, creator_state is folded in DuckDB temp tables; the same rows as a
    # step per day on pandas frames, without a connection and two pandas conversions per day and state
    with duck.connect(duck.DuckSettings(memory_limit="512MB")) as con:
        for d, st in NS.note_states(con, None, ((d, n.get(d)) for d in days), settings):
            write_partition(wh, "note_state", d, NS.as_frame(st))
        crs = CR.creator_states(con, days, c.get)
        for d, part in crs.groupby("snapshot_date", sort=True):
            write_partition(wh, "creator_state", d, part.drop(columns="snapshot_date").reset_index(drop=True))
        CV.use_stored(con, None)
        for d, rows, base in CS.state_partitions(con, days, k.get, base_first=True):
            if rows.num_rows:
                write_partition(wh, "comment_state", d, rows.to_pandas().assign(base=base))
    return days


def _handle(wh: Path, table: str, keys: Sequence[date]) -> PartitionedInput:
    base = make_base_path(str(wh))
    return PartitionedInput(base.fs, str(base / table), table, [d.isoformat() for d in keys])


def note_metrics_of_warehouse(
    wh: Path,
    campaign_posts: pd.DataFrame | None,
    days: Sequence[date],
    settings: MetricSettings = MetricSettings(),
    con_settings: duck.DuckSettings | None = None,
) -> pd.DataFrame:
    """What the note_metrics asset computes for a run of ``days`` (ascending) over the states stored in ``wh``."""
    days = sorted(set(days))
    view = S.day_range(days[0] - timedelta(days=S.COMMENT_KEEP_DAYS), days[-1])
    with duck.connect(con_settings or duck.DuckSettings(memory_limit="512MB")) as con:
        CV.use_stored(con, _handle(wh, "comment_state", view).relation(con, columns=CS.STORED_COLUMNS))
        ns = _handle(wh, "note_state", days).relation(con, columns=NM.NOTE_STATE_COLUMNS)
        shares = NM.comment_shares(con, ns.project("snapshot_date, note_id").df())
        crs = _handle(wh, "creator_state", days).relation(con, columns=NM.CREATOR_STATE_COLUMNS)
        return NM.note_metrics(con, ns, crs, shares, campaign_posts, days, settings)


def tier_benchmarks_of_warehouse(
    wh: Path,
    creator_scorecard: pd.DataFrame,
    days: Sequence[date],
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """What the tier_benchmarks asset computes for a run of ``days`` over the states stored in ``wh`` and the
    scorecard rows of those days."""
    days = sorted(set(days))
    sc = creator_scorecard[TB.SCORECARD_COLUMNS + ["snapshot_date"]].copy()
    sc["snapshot_date"] = [_day(v) for v in sc["snapshot_date"]]
    for col in TB.SCORECARD_COLUMNS[3:]:
        sc[col] = pd.to_numeric(sc[col], errors="coerce").astype("float64")
    for col in TB.SCORECARD_COLUMNS[:3]:
        sc[col] = sc[col].astype(object).where(sc[col].notna(), None)
    with duck.connect(duck.DuckSettings(memory_limit="512MB")) as con:
        ns = _handle(wh, "note_state", days).relation(con, columns=TB.NOTE_STATE_COLUMNS)
        crs = _handle(wh, "creator_state", days).relation(con, columns=TB.CREATOR_STATE_COLUMNS)
        return TB.tier_benchmarks(con, sc, ns, crs, days, settings)


def note_metrics(
    notes: pd.DataFrame,
    creators: pd.DataFrame,
    comments: pd.DataFrame | None,
    campaign_posts: pd.DataFrame | None,
    snapshot_dates: Sequence[date],
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """note_metrics of ``snapshot_dates`` from cleaned tables: states folded and stored, then the SQL."""
    days = sorted({_day(d) for d in snapshot_dates})
    with tempfile.TemporaryDirectory() as tmp:
        wh = Path(tmp)
        write_states(wh, notes, creators, comments, days[-1], settings, days[0] - timedelta(days=BOOT_DAYS))
        return note_metrics_of_warehouse(wh, campaign_posts, days, settings)


def tier_benchmarks(
    creator_scorecard: pd.DataFrame,
    note_metrics: pd.DataFrame | None,
    notes: pd.DataFrame,
    creators: pd.DataFrame,
    snapshot_dates: Sequence[date],
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """tier_benchmarks of ``snapshot_dates`` from a scorecard and cleaned tables (``note_metrics`` is not used:
    the curve reads the note states)."""
    days = sorted({_day(d) for d in snapshot_dates})
    with tempfile.TemporaryDirectory() as tmp:
        wh = Path(tmp)
        write_states(wh, notes, creators, None, days[-1], settings, days[0] - timedelta(days=BOOT_DAYS))
        return tier_benchmarks_of_warehouse(wh, creator_scorecard, days, settings)


# ------------------------------------------------------------------------------------- from states in memory
def _with_snapshot(frame: pd.DataFrame, day: date, table: str | None = None) -> pa.Table:
    """A state frame of ``day`` as the Arrow table of its stored partition (``table``: through the IO manager's
    conversion, all its columns), or of just the frame's columns, with snapshot_date."""
    frame = frame.drop(columns=[c for c in ("snapshot_date",) if c in frame.columns])
    t = to_arrow(S.with_day(frame.copy(), day), table) if table else pa.Table.from_pandas(frame, preserve_index=False)
    if "snapshot_date" in t.column_names:
        t = t.drop_columns(["snapshot_date"])
    return t.append_column("snapshot_date", pa.array([day] * len(t), pa.date32()))


def note_metrics_of_states(
    note_state: pd.DataFrame,
    creator_state: pd.DataFrame,
    comment_state: pd.DataFrame | None,
    campaign_posts: pd.DataFrame | None,
    day: date,
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """note_metrics of ``day`` from that day's states in memory: note_state and creator_state as loaded, the
    comment state as its stored partitions (with snapshot_date and base; lib/state/comment_state.py)."""
    ids = pd.DataFrame({"snapshot_date": day, "note_id": note_state["note_id"].to_numpy(dtype=object)})
    with duck.connect(duck.DuckSettings(memory_limit="512MB")) as con:
        CV.use_stored(con, comment_state)
        return NM.note_metrics(
            con,
            _with_snapshot(note_state, day, "note_state"),
            _with_snapshot(creator_state, day, "creator_state"),
            NM.comment_shares(con, ids),
            campaign_posts,
            [day],
            settings,
        )


def tier_benchmarks_of_states(
    creator_scorecard: pd.DataFrame,
    note_state: pd.DataFrame,
    creator_state: pd.DataFrame,
    day: date,
    settings: MetricSettings = MetricSettings(),
) -> pd.DataFrame:
    """tier_benchmarks of ``day`` from that day's scorecard and states in memory (of note_state only the curve's
    columns are needed)."""
    sc = creator_scorecard[TB.SCORECARD_COLUMNS].copy()
    for col in TB.SCORECARD_COLUMNS[3:]:
        sc[col] = pd.to_numeric(sc[col], errors="coerce").astype("float64")
    ns = note_state[TB.NOTE_STATE_COLUMNS].copy()
    ns["engagements"] = pd.to_numeric(ns["engagements"], errors="coerce").astype("float64")
    with duck.connect(duck.DuckSettings(memory_limit="512MB")) as con:
        return TB.tier_benchmarks(
            con,
            _with_snapshot(sc, day),
            _with_snapshot(ns, day),
            _with_snapshot(creator_state, day, "creator_state"),
            [day],
            settings,
        )
