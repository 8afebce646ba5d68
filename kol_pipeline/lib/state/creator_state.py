"""creator_state by ``creator_state.sql`` (the formula is there): the state of a day from the state of the day
before and that day's creators partition. A run over several days (a ranged run, or the bootstrap of the first
day from the trailing creators partitions) calls the one query per day in order, keeping the previous day's
state in a DuckDB temp table on the connection (never in pandas); the states of the days asked for stay in temp
tables, and the asset hands a relation over them to the IO manager, which writes them with DuckDB
(lib/schemas.CREATOR_STATE: followers_by_day a list of 125 float64, nulls for days without a snapshot);
``creator_states`` gives them as the table's frame."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck

__all__ = [
    "CREATOR_DAYS",
    "CREATOR_COLUMNS",
    "creator_states",
    "creator_state_step",
    "drop_steps",
    "fold_states",
    "run_into_table",
]

CREATOR_DAYS = 125  # followers_by_day length: creator_scorecard looks back D-124 .. D
CREATOR_COLUMNS = ["user_id", "nickname", "followers", "crawled_at"]  # and snapshot_date
STATE_COLUMNS = ["user_id", "nickname", "latest_sd", "followers_by_day"]
_STEP = "creator_state_step"  # temp tables creator_state_step_<n>: the state after the n-th step of a fold

_EMPTY_STATE = (
    "SELECT NULL::VARCHAR AS user_id, NULL::VARCHAR AS nickname, NULL::TIMESTAMP AS latest_sd, "
    "NULL::DOUBLE[] AS followers_by_day WHERE false"
)
_EMPTY_CREATORS = (
    "SELECT NULL::VARCHAR AS user_id, NULL::VARCHAR AS nickname, NULL::BIGINT AS followers, "
    "NULL::TIMESTAMPTZ AS crawled_at, NULL::DATE AS snapshot_date WHERE false"
)
_CREATOR_INPUT = [*CREATOR_COLUMNS, "snapshot_date"]


def run_into_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: str,
    inputs: Mapping[str, object],
    params: Mapping[str, object] | None = None,
) -> None:
    """``CREATE OR REPLACE TEMP TABLE <table> AS`` the query ``lib/<layer>/<name>.sql`` with ``inputs`` visible
    under their names (a relation as a view, a pandas/Arrow frame registered), as ``duck.run_query`` does, but
    the result stays in DuckDB. ``table`` and the input names come from the code."""
    sql = duck.query_text(name)
    views, registered = [], []
    try:
        for view, obj in inputs.items():
            if isinstance(obj, duckdb.DuckDBPyRelation):
                obj.create_view(view, replace=True)
                views.append(view)
            else:
                con.register(view, obj)
                registered.append(view)
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{table}" AS {sql}', dict(params or {}))
    finally:
        for view in views:
            con.execute(f'DROP VIEW IF EXISTS "{view}"')
        for view in registered:
            con.unregister(view)


def _as_relation(con: duckdb.DuckDBPyConnection, obj: object, empty_sql: str, columns: list[str], day=None):
    """A relation of ``columns`` over ``obj`` (a relation, a pandas/Arrow frame, or None: empty, typed); a frame
    without snapshot_date is of ``day``."""
    if obj is None or (isinstance(obj, pd.DataFrame) and len(obj) == 0):
        return con.sql(empty_sql)
    if isinstance(obj, duckdb.DuckDBPyRelation):
        rel = obj
    else:
        frame = obj if isinstance(obj, pa.Table) else pa.Table.from_pandas(_dated(obj, day), preserve_index=False)
        rel = con.from_arrow(frame)
    have = set(rel.columns)
    empty = con.sql(empty_sql)
    cols = [
        f'"{c}"::{t} AS "{c}"' if c in have else f'NULL::{t} AS "{c}"'
        for c, t in zip(columns, empty.dtypes, strict=True)
    ]
    return rel.select(", ".join(cols))


def _dated(df: pd.DataFrame, day) -> pd.DataFrame:
    """A pandas frame with snapshot_date as python dates (``day`` where the column is missing)."""
    out = df.copy()
    if "snapshot_date" in out.columns:
        out["snapshot_date"] = pd.to_datetime(out["snapshot_date"].astype(object)).dt.date
    elif day is not None:
        out["snapshot_date"] = day
    return out


def fold_states(
    con: duckdb.DuckDBPyConnection,
    days: Iterable[date],
    creators_of: Callable[[date], object],
    previous: object = None,
    previous_day: date | None = None,
    emit: Iterable[date] | None = None,
) -> duckdb.DuckDBPyRelation:
    """Fold ``creator_state.sql`` over ``days`` (in order) from ``previous``, the state of ``previous_day`` (a
    relation or frame; None: start empty, and the first step reads the whole window). ``creators_of(day)``: the
    creators partitions since the previous day of the fold (a relation or frame with CREATOR_COLUMNS and
    snapshot_date, a frame without it being of that day; more days are fine, only those are read; None when
    there is none). The states of the days in ``emit`` (every day when None) stay in temp tables of ``con``;
    returns a lazy relation over them with snapshot_date, sorted by (snapshot_date, user_id), for the IO manager
    to write with DuckDB (the tables go with the connection, or ``drop_steps``)."""
    days = list(days)
    want = set(days if emit is None else emit)
    if previous_day is not None and days and days[0] <= previous_day:
        raise ValueError(f"creator_state: the fold must start after {previous_day}, not on {days[0]}")
    prev = _as_relation(con, previous, _EMPTY_STATE, STATE_COLUMNS)  # read by the first step as it is
    prev_day, prev_table = previous_day, None
    kept: list[tuple[date, str]] = []  # (day, temp table of its state) of the days to return
    for n, d in enumerate(days):
        shift = (d - prev_day).days if prev_day is not None else CREATOR_DAYS
        creators = _as_relation(con, creators_of(d), _EMPTY_CREATORS, _CREATOR_INPUT, d)
        table = f"{_STEP}_{n}"
        run_into_table(
            con,
            "creator_state",
            table,
            {"prev_state": prev, "creators": creators},
            {"day": d, "shift": int(shift), "days_kept": CREATOR_DAYS},
        )
        if prev_table is not None and (not kept or kept[-1][1] != prev_table):
            con.execute(f"DROP TABLE {prev_table}")  # an intermediate day's state, not returned
        if d in want:
            kept.append((d, table))
        prev, prev_day, prev_table = con.table(table), d, table
    if not kept:
        return con.sql(f"SELECT NULL::DATE AS snapshot_date, * FROM ({_EMPTY_STATE})")
    union = " UNION ALL ".join(f"SELECT $d{i}::DATE AS snapshot_date, * FROM {t}" for i, (_, t) in enumerate(kept))
    params = {f"d{i}": d for i, (d, _) in enumerate(kept)}
    return con.sql(f"SELECT * FROM ({union}) ORDER BY snapshot_date, user_id", params=params)


def drop_steps(con: duckdb.DuckDBPyConnection, days: int) -> None:
    """Drop the temp tables a fold of ``days`` days left on ``con``."""
    for n in range(days):
        con.execute(f"DROP TABLE IF EXISTS {_STEP}_{n}")


def creator_states(
    con: duckdb.DuckDBPyConnection,
    days: Iterable[date],
    creators_of: Callable[[date], object],
    previous: object = None,
    previous_day: date | None = None,
    emit: Iterable[date] | None = None,
) -> pd.DataFrame:
    """``fold_states`` as the table's frame (tests, benchmarks, tools that hold pandas frames)."""
    days = list(days)
    try:
        return to_frame(fold_states(con, days, creators_of, previous, previous_day, emit).to_arrow_table())
    finally:
        drop_steps(con, len(days))


def to_frame(table: pa.Table) -> pd.DataFrame:
    """The Arrow result as the table's frame: followers_by_day an Arrow list column, latest_sd datetime64[ns],
    snapshot_date python dates."""
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    fbd = table.column("followers_by_day").combine_chunks()
    df = table.drop_columns(["followers_by_day"]).to_pandas()
    df["latest_sd"] = pd.to_datetime(df["latest_sd"]).astype("datetime64[ns]")
    df["nickname"] = df["nickname"].astype(object).where(df["nickname"].notna(), None)
    df["user_id"] = df["user_id"].astype(object)
    df["followers_by_day"] = pd.Series(pd.arrays.ArrowExtensionArray(fbd.cast(pa.list_(pa.float64()))), index=df.index)
    return df


def creator_state_step(
    prev: pd.DataFrame | None, prev_day: date | None, creators_day: pd.DataFrame | None, day: date
) -> pd.DataFrame:
    """One step on pandas frames (tests, benchmarks): the state of ``day`` from the state of ``prev_day`` and
    that day's creators, by the SQL on a connection of its own. Frames carry no snapshot_date column."""
    with duck.connect() as con:
        out = creator_states(con, [day], lambda _d: creators_day, prev, prev_day)
    return out.drop(columns=["snapshot_date"])
