"""note_state by SQL: ``note_state.sql`` is the formula (the state of day D from the state of D - 1 and the
cleaned notes of D); this module types its inputs and runs it one day after another on one DuckDB connection,
each day's state inserted into a table of the connection that the next day reads (``fold_days``), so the states
stay in DuckDB until the IO manager writes them; ``note_state_day`` and ``note_states`` give them as Arrow
(tests, tools). docs/metrics.md "Incremental state", docs/engine.md "note_state"."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.schemas import NOTE_STATE, TABLES
from kol_pipeline.lib.settings import MetricSettings

#: the cleaned notes' columns the state reads
OBS_COLUMNS = [
    "note_id",
    "user_id",
    "published_at",
    "crawled_at",
    "likes",
    "saves",
    "comments",
    "shares",
    "engagements",
    "category",
    "brands",
    "is_disclosed",
    "note_type",
    "description",
    "tags",
]
#: the state's columns as the query takes and gives them (the table's, without snapshot_date)
STATE_SCHEMA = pa.schema([f for f in NOTE_STATE.schema if f.name != "snapshot_date"])
STATE_COLUMNS = STATE_SCHEMA.names
OBS_SCHEMA = pa.schema([TABLES["notes"].schema.field(c) for c in OBS_COLUMNS])
#: notes observed in D - 91 .. D stay in the state (the tier_benchmarks curve loads notes of D - 91 .. D)
RECENT_DAYS = 91
#: the tolerance of the gap rule's comparisons (lib/metrics/longevity.py)
EPS = 1e-9

# a pandas frame's columns that are times (converted as the former pandas step did: to UTC, unreadable = null)
_UTC_COLUMNS = ("published_at", "crawled_at")


def _frame_as_arrow(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A pandas frame (tests, the bootstrap of a caller holding frames) as Arrow with ``schema``'s columns and
    types; a missing column is all null."""
    cols = {}
    for f in schema:
        if f.name not in df.columns:
            cols[f.name] = pa.nulls(len(df), f.type)
            continue
        s = df[f.name]
        if f.name in _UTC_COLUMNS or pa.types.is_timestamp(f.type) and f.type.tz is not None:
            s = pd.to_datetime(s, errors="coerce", utc=True)
        elif pa.types.is_timestamp(f.type):
            s = pd.to_datetime(s, errors="coerce")
        arr = pa.Array.from_pandas(s.reset_index(drop=True))
        cols[f.name] = arr.cast(f.type) if arr.type != f.type else arr
    return pa.table(cols, schema=schema)


#: columns added to the state and its input after the state was first stored (issue #26): a stored state without
#: them reads them as null (until the note's next crawl fills them); their DuckDB types
LATER_COLUMNS = {
    "desc_chars": "BIGINT",
    "note_type": "VARCHAR",
    "tag_count": "BIGINT",
    "description": "VARCHAR",
    "tags": "VARCHAR[]",
}


def _input(obj: Any, schema: pa.Schema) -> Any:
    """A query input: a DuckDB relation or an Arrow table as it is, a pandas frame typed, None as no rows; of
    ``LATER_COLUMNS`` the ones it lacks as nulls."""
    if obj is None:
        return schema.empty_table()
    if isinstance(obj, pd.DataFrame):
        return _frame_as_arrow(obj, schema)
    if isinstance(obj, pa.Table):
        for name in LATER_COLUMNS:
            if name in schema.names and name not in obj.column_names:
                obj = obj.append_column(schema.field(name), pa.nulls(obj.num_rows, schema.field(name).type))
        return obj.select(schema.names).cast(schema) if obj.schema != schema else obj
    missing = [n for n in LATER_COLUMNS if n in schema.names and n not in obj.columns]
    if missing:
        obj = obj.project(", ".join(["*", *(f"NULL::{LATER_COLUMNS[n]} AS {n}" for n in missing)]))
    return obj


def stored_state(con: duckdb.DuckDBPyConnection, stored: Any, columns: Sequence[str] = tuple(STATE_COLUMNS)) -> Any:
    """Stored note_state partitions (``stored``: a ``PartitionedInput``) as a relation of ``columns`` on ``con``;
    partitions stored before ``LATER_COLUMNS`` existed give them as nulls."""
    try:
        return stored.relation(con, list(columns))
    except duckdb.BinderException:
        rel = stored.relation(con, [c for c in columns if c not in LATER_COLUMNS])
        return rel.project(
            ", ".join(["*", *(f"NULL::{LATER_COLUMNS[c]} AS {c}" for c in columns if c in LATER_COLUMNS)])
        )


def _numbered(notes: Any) -> Any:
    """The day's notes with ``seq``, their position (the later of two crawls of a note with the same crawl time
    wins, as the former stable sort kept it; a cleaned partition holds one row per note, so it decides nothing
    there)."""
    if isinstance(notes, pa.Table):
        return notes.append_column("seq", pa.array(range(notes.num_rows), pa.int64()))
    return notes.project("*, row_number() OVER () AS seq")


def _params(day: date, settings: MetricSettings) -> dict[str, Any]:
    return {
        "day": day,
        "window_days": int(settings.note_window_days),
        "recent_days": RECENT_DAYS,
        "max_gap_days": float(settings.max_gap_days),
        "eps": EPS,
    }


def _inputs(prev: Any, notes: Any) -> dict[str, Any]:
    return {"prev": _input(prev, STATE_SCHEMA), "notes": _numbered(_input(notes, OBS_SCHEMA))}


def note_state_day(
    con: duckdb.DuckDBPyConnection,
    prev: Any,
    notes: Any,
    day: date,
    settings: MetricSettings = MetricSettings(),
) -> pa.Table:
    """The note state of ``day`` (``STATE_SCHEMA``, by note_id) from ``prev``, the state of ``day`` - 1, and
    ``notes``, the cleaned notes partition of ``day`` (``OBS_COLUMNS``). Each is a DuckDB relation on ``con``, an
    Arrow table, a pandas frame, or None (no state / no partition)."""
    return duck.run_query(con, "note_state", _inputs(prev, notes), _params(day, settings)).cast(STATE_SCHEMA)


#: the connection's tables of a fold (``fold_days``): the run's days' states (snapshot_date first), and the two
#: states a bootstrap alternates between (the day before's and the day's)
_RUN = "note_state_run"
_BOOT = ("note_state_boot_a", "note_state_boot_b")


def fold_days(
    con: duckdb.DuckDBPyConnection,
    prev: Any,
    parts: Iterable[tuple[date, Any]],
    settings: MetricSettings = MetricSettings(),
    boot: Iterable[tuple[date, Any]] = (),
) -> Iterator[tuple[date, int]]:
    """The note state of each day of ``parts`` ((day, notes partition or None), consecutive days in order), each
    from the one before, kept in the connection's run table (``run_rows``, ``day_rows``); the first from
    ``prev`` (the state of the day before it: relation, Arrow, frame or None), folded first over ``boot`` (the
    (day, partition) of the days before, from ``prev``: a bootstrap) when given. Yields (day, rows).

    The states never leave DuckDB: each day's is inserted by ``note_state.sql`` into a table (within DuckDB's
    memory limit, spilling), and the next day reads it there. At 1M notes a day the state is ~1.3M rows with
    descriptions and curves: as Arrow tables (two at a time, the day before's and the day's) and then one pandas
    frame, the bootstrap of 119 days peaked at 2.95 GB (BENCHMARKS.md)."""
    cols = ", ".join(STATE_COLUMNS)
    for i, (d, notes) in enumerate(boot):
        table = _BOOT[i % 2]
        duck.create_table(con, table, STATE_SCHEMA)
        duck.insert_query(con, table, cols, "note_state", _inputs(prev, notes), _params(d, settings))
        con.execute(f"DROP TABLE IF EXISTS {_BOOT[(i + 1) % 2]}")
        prev = con.table(table)
    duck.create_table(con, _RUN, NOTE_STATE.schema)
    for d, notes in parts:
        duck.insert_query(con, _RUN, f"$day, {cols}", "note_state", _inputs(prev, notes), _params(d, settings))
        for table in _BOOT:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        # the state of the day just inserted: the latest day of the run table when the next day's query reads it
        prev = con.sql(f"SELECT {cols} FROM {_RUN} WHERE snapshot_date = (SELECT max(snapshot_date) FROM {_RUN})")
        yield d, day_count(con, d)


def day_count(con: duckdb.DuckDBPyConnection, day: date) -> int:
    """Rows of ``day``'s state in the connection's run table."""
    sql = f"SELECT count(*) FROM {_RUN} WHERE snapshot_date = $day"
    return int(con.sql(sql, params={"day": day}).fetchall()[0][0])


def day_rows(con: duckdb.DuckDBPyConnection, day: date) -> pa.Table:
    """``day``'s state in the connection's run table as Arrow (``STATE_SCHEMA``, in the order it was inserted)."""
    sql = f"SELECT {', '.join(STATE_COLUMNS)} FROM {_RUN} WHERE snapshot_date = $day"
    out = con.sql(sql, params={"day": day}).to_arrow_table()
    return (out.read_all() if isinstance(out, pa.RecordBatchReader) else out).cast(STATE_SCHEMA)


def run_rows(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Every day's state ``fold_days`` kept (snapshot_date, then the state's columns): a lazy relation on ``con``
    for the IO manager to write with DuckDB."""
    return con.table(_RUN)


def note_states(
    con: duckdb.DuckDBPyConnection,
    prev: Any,
    parts: Iterable[tuple[date, Any]],
    settings: MetricSettings = MetricSettings(),
) -> Iterator[tuple[date, pa.Table]]:
    """``fold_days`` with each day's state as Arrow (tests and tools that compare states)."""
    for d, _ in fold_days(con, prev, parts, settings):
        yield d, day_rows(con, d)


def as_table(states: Iterable[tuple[date, pa.Table]]) -> pa.Table:
    """Days' states as one Arrow table of the warehouse's schema (snapshot_date first)."""
    tables = [t.add_column(0, "snapshot_date", pa.array([d] * t.num_rows, pa.date32())) for d, t in states]
    if not tables:
        return NOTE_STATE.schema.empty_table()
    return pa.concat_tables(tables).cast(NOTE_STATE.schema)


def as_frame(table: pa.Table) -> pd.DataFrame:
    """The state as the pandas frame the warehouse IO manager stores (one conversion, at the end): nullable ints
    and booleans, dates as date objects, lists as arrays."""
    types = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=types.get, date_as_object=True)


def note_state_frame(
    prev: Any, notes: Any, day: date, settings: MetricSettings = MetricSettings(), con: Any = None
) -> pd.DataFrame:
    """One day's state as a pandas frame without snapshot_date (tests and tools that hold pandas frames)."""
    if con is None:
        with duck.connect() as own:
            return note_state_frame(prev, notes, day, settings, own)
    return as_frame(note_state_day(con, prev, notes, day, settings))
