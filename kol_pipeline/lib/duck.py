"""The one place the pipeline opens DuckDB connections: bounded by configuration, never by DuckDB's defaults.

DuckDB's defaults take 80 % of the machine's memory and every core; on a shared machine (or a Kubernetes pod
with a memory limit) that is an out-of-memory kill waiting to happen. ``connect(settings)`` opens an in-memory
database with

- ``memory_limit`` (``KOL_DUCKDB_MEMORY_LIMIT``, default ``1GB``): beyond it DuckDB spills to ``temp_directory``;
- ``threads`` (``KOL_DUCKDB_THREADS``, default 2);
- ``temp_directory`` (``KOL_DUCKDB_TEMP_DIR``, default ``<system temp>/kol_pipeline_duckdb``): where it spills;
- ``preserve_insertion_order`` (``KOL_DUCKDB_PRESERVE_INSERTION_ORDER``, default true): results without ORDER BY
  keep the order of the files' rows (the readers rely on it);

and never installs an extension from the network (none is needed: Parquet, JSON and ICU time zones are built
in; object stores are reached through fsspec filesystems registered with ``register_filesystems``).

The Dagster resource ``DuckDBConfig`` (kol_pipeline/resources/settings.py) overrides these per deployment; the
environment variables are read when a connection's settings are resolved (``DuckSettings.from_env``), never at
import. docs/engine.md describes the pattern.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

__all__ = [
    "ALL_THREADS",
    "DuckSettings",
    "connect",
    "copy_buckets",
    "insert_query",
    "query_inputs",
    "query_text",
    "register_filesystems",
    "run_query",
    "setting",
    "threads",
    "write_buckets",
    "ENV_MEMORY_LIMIT",
    "ENV_THREADS",
    "ENV_TEMP_DIR",
    "ENV_PRESERVE_ORDER",
]

ENV_MEMORY_LIMIT = "KOL_DUCKDB_MEMORY_LIMIT"
ENV_THREADS = "KOL_DUCKDB_THREADS"
ENV_TEMP_DIR = "KOL_DUCKDB_TEMP_DIR"
ENV_PRESERVE_ORDER = "KOL_DUCKDB_PRESERVE_INSERTION_ORDER"

DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2


def default_temp_dir() -> str:
    """``<system temp dir>/kol_pipeline_duckdb``."""
    return str(Path(tempfile.gettempdir()) / "kol_pipeline_duckdb")


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{ENV_PRESERVE_ORDER}={text!r} is not a boolean (true/false)")


@dataclass(frozen=True)
class DuckSettings:
    """How big a DuckDB connection may get. ``DuckSettings()`` are the built-in defaults; ``from_env`` reads the
    ``KOL_DUCKDB_*`` variables over them."""

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = DEFAULT_THREADS
    temp_directory: str = ""  # "" = default_temp_dir()
    preserve_insertion_order: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DuckSettings:
        env = os.environ if environ is None else environ
        threads = env.get(ENV_THREADS, "").strip()
        order = env.get(ENV_PRESERVE_ORDER, "").strip()
        return cls(
            memory_limit=env.get(ENV_MEMORY_LIMIT, "").strip() or DEFAULT_MEMORY_LIMIT,
            threads=int(threads) if threads else DEFAULT_THREADS,
            temp_directory=env.get(ENV_TEMP_DIR, "").strip(),
            preserve_insertion_order=_flag(order) if order else True,
        )

    def config(self) -> dict[str, object]:
        """The ``duckdb.connect(config=...)`` dictionary."""
        if self.threads < 1:
            raise ValueError(f"DuckDB threads must be at least 1, got {self.threads}")
        return {
            "memory_limit": self.memory_limit,
            "threads": int(self.threads),
            "temp_directory": self.temp_directory or default_temp_dir(),
            "preserve_insertion_order": bool(self.preserve_insertion_order),
            "autoinstall_known_extensions": False,
        }


def connect(settings: DuckSettings | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection bounded by ``settings`` (None: ``DuckSettings.from_env()``). The temp
    directory is created if missing. Close it (or use it as a context manager) when done."""
    s = settings if settings is not None else DuckSettings.from_env()
    config = s.config()
    Path(str(config["temp_directory"])).mkdir(parents=True, exist_ok=True)
    return duckdb.connect(":memory:", config=config)


def register_filesystems(con: duckdb.DuckDBPyConnection, filesystems: Iterable[AbstractFileSystem]) -> None:
    """Make non-local fsspec filesystems (s3fs, memory, ...) readable by ``con`` under their protocol
    (``s3://bucket/key``): DuckDB's own httpfs extension is not needed (nor downloadable offline). A filesystem
    whose protocol is already registered on ``con`` is skipped; local filesystems need nothing."""
    known = set(con.list_filesystems())
    for fs in filesystems:
        if isinstance(fs, LocalFileSystem):
            continue
        protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
        if any(p in known or f"{p}://" in known for p in protocols):
            continue
        con.register_filesystem(fs)
        known = set(con.list_filesystems())


LIB_DIR = Path(__file__).resolve().parent
_QUERY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def query_path(name: str) -> Path:
    """``lib/<layer>/<name>.sql``: each table's SQL lives in its layer's package (ingest/, state/, metrics/,
    marts/), beside its Python glue; a name is unique across the layers."""
    if not _QUERY_NAME.match(name):
        raise ValueError(f"not a query name: {name!r}")
    found = sorted(LIB_DIR.glob(f"*/{name}.sql"))
    if len(found) != 1:
        raise FileNotFoundError(f"{name}.sql: expected once under {LIB_DIR}/<layer>/, found {len(found)}")
    return found[0]


#: macros shared by several tables' queries (``tier_of``: the contract's tiers), created by ``run_query`` on the
#: connection before a query that uses them
SHARED_MACROS = {"tier_of(": LIB_DIR / "tiers.sql"}


def query_text(name: str) -> str:
    """The SQL of ``lib/<layer>/<name>.sql`` (one readable query per table)."""
    return query_path(name).read_text(encoding="utf-8")


def run_query(
    con: duckdb.DuckDBPyConnection, name: str, inputs: Mapping[str, object], params: Mapping[str, object] | None = None
) -> pa.Table:
    """Run ``lib/<layer>/<name>.sql`` on ``con`` with each of ``inputs`` visible under its name (a DuckDB
    relation becomes a view, an Arrow table or pandas frame is registered) and the values of ``params`` bound to
    the query's ``$name`` parameters; the result as one Arrow table. The inputs' names are removed afterwards, so
    a connection can run several queries (names come from the code, never from data)."""
    with query_inputs(con, name, inputs) as sql:
        result = con.sql(sql, params=dict(params or {})).to_arrow_table()
        return result.read_all() if isinstance(result, pa.RecordBatchReader) else result


def insert_query(
    con: duckdb.DuckDBPyConnection,
    table: str,
    select: str,
    name: str,
    inputs: Mapping[str, object],
    params: Mapping[str, object] | None = None,
) -> None:
    """``INSERT INTO <table> SELECT <select> FROM (<the query of name>)`` with ``run_query``'s inputs and
    parameters: the result stays in DuckDB (within its memory limit, spilling), never an Arrow table in Python.
    ``table`` and ``select`` come from the code (a table of the connection, its column list with the extra values
    as ``$parameters``), never from data."""
    with query_inputs(con, name, inputs) as sql:
        con.execute(f"INSERT INTO {table} SELECT {select} FROM (\n{sql.rstrip().rstrip(';')}\n)", dict(params or {}))


def create_table_as(
    con: duckdb.DuckDBPyConnection,
    table: str,
    name: str,
    inputs: Mapping[str, object],
    params: Mapping[str, object] | None = None,
) -> duckdb.DuckDBPyRelation:
    """``CREATE OR REPLACE TEMP TABLE <table> AS <the query of name>`` with ``run_query``'s inputs and parameters,
    and a relation over it: for a result several later queries read (it stays in DuckDB, within its memory limit,
    spilling). ``table`` comes from the code, never from data; the caller drops it."""
    with query_inputs(con, name, inputs) as sql:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS (\n{sql.rstrip().rstrip(';')}\n)", dict(params or {}))
    return con.table(table)


def bucket_count(rows: int, bucket_rows: int) -> int:
    """How many buckets a query over ``rows`` rows runs in, ``bucket_rows`` at most a bucket (at least one)."""
    return max(1, -(-int(rows) // max(1, int(bucket_rows))))


def copy_query(
    con: duckdb.DuckDBPyConnection,
    path: str,
    select: str,
    name: str,
    inputs: Mapping[str, object],
    params: Mapping[str, object] | None = None,
) -> None:
    """``SELECT <select> FROM (<the query of name>)`` with ``run_query``'s inputs and parameters, written by
    DuckDB as one Parquet file at ``path`` (a value, never in the SQL text): ``insert_query`` for a result that
    should not stay in the connection."""
    with query_inputs(con, name, inputs) as sql:
        query = f"SELECT {select} FROM (\n{sql.rstrip().rstrip(';')}\n)"
        con.sql(query, params=dict(params or {})).write_parquet(path)


#: rows a bucket's Parquet writer buffers before it writes them (DuckDB's partitioned_write_flush_threshold):
#: ``copy_buckets`` writes every bucket at once, and DuckDB's default buffers many times more rows per bucket
BUCKET_FLUSH_ROWS = 65_536


def copy_buckets(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    name: str,
    inputs: Mapping[str, object],
    params: Mapping[str, object] | None = None,
) -> list[duckdb.DuckDBPyRelation]:
    """The query ``name`` (with ``run_query``'s inputs and parameters; its column ``bucket`` numbers the buckets)
    written into ``folder`` by ``write_buckets``. For a query whose later steps read a bucket at a time: each
    reads its own rows, not the whole result again."""
    with query_inputs(con, name, inputs) as sql:
        return write_buckets(con, con.sql(sql, params=dict(params or {})), folder)


def write_buckets(
    con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, folder: Path
) -> list[duckdb.DuckDBPyRelation]:
    """``relation`` (its column ``bucket`` numbers the buckets) written by DuckDB in one pass into ``folder`` as
    Parquet files per bucket (``bucket=<b>/``, without the column, ``BUCKET_FLUSH_ROWS`` buffered a bucket); a
    relation over each bucket's files, in bucket order (a bucket without rows has none). ``folder``:
    ``temp_folder``'s, removed by the caller when the relations are no longer read."""
    with setting(con, "partitioned_write_flush_threshold", BUCKET_FLUSH_ROWS):
        relation.write_parquet(str(folder), partition_by=["bucket"], write_partition_columns=False)
    present = sorted(int(p.name.split("=", 1)[1]) for p in folder.glob("bucket=*"))
    return [con.read_parquet(str(folder / f"bucket={b}" / "*.parquet"), hive_partitioning=False) for b in present]


def create_table(con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema) -> None:
    """An empty temporary table ``table`` of ``schema``'s columns and their DuckDB types (what a stored Parquet
    file of that schema reads as), replacing one of that name; ``table`` comes from the code."""
    con.register("duck_empty_schema", schema.empty_table())
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM duck_empty_schema")
    finally:
        con.unregister("duck_empty_schema")


def temp_folder(con: duckdb.DuckDBPyConnection, prefix: str) -> Path:
    """A new, empty folder ``<prefix>_<uuid>`` in ``con``'s DuckDB temp directory (where it spills): for files a
    query writes and reads back within a step; the caller removes it."""
    temp = con.sql("SELECT current_setting('temp_directory')").fetchall()[0][0]
    folder = Path(temp) / f"{prefix}_{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    return folder


#: ``threads(con, ALL_THREADS)``: every thread the connection is configured with
ALL_THREADS = 1 << 16


def _setting_text(value: bool | int) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(int(value))


@contextmanager
def setting(con: duckdb.DuckDBPyConnection, name: str, value: bool | int) -> Iterator[None]:
    """The block runs with DuckDB's setting ``name`` (a name from the code, never from data) at ``value`` (a
    boolean or an integer) on ``con``, then with the value it had."""
    before = con.sql("SELECT current_setting($name)", params={"name": name}).fetchall()[0][0]
    con.execute(f"SET {name} = {_setting_text(value)}")
    try:
        yield
    finally:
        con.execute(f"SET {name} = {_setting_text(before)}")


def threads(con: duckdb.DuckDBPyConnection, n: int) -> AbstractContextManager[None]:
    """The block runs with ``n`` DuckDB threads on ``con`` (at most the configured number), then with the number
    it had: for a query whose parallel form needs more of the memory limit than its work does."""
    before = int(con.sql("SELECT current_setting('threads')").fetchall()[0][0])
    return setting(con, "threads", max(1, min(int(n), before)))


@contextmanager
def query_inputs(con: duckdb.DuckDBPyConnection, name: str, inputs: Mapping[str, object]) -> Iterator[str]:
    """The SQL of ``name`` with its shared macros created on ``con`` and ``inputs`` visible under their names
    while the block runs (``run_query``, ``insert_query``); the names are removed afterwards."""
    sql = query_text(name)
    for call, path in SHARED_MACROS.items():
        if call in sql:
            con.execute(path.read_text(encoding="utf-8"))
    views: list[str] = []
    registered: list[str] = []
    try:
        for view, obj in inputs.items():
            if not _QUERY_NAME.match(view):
                raise ValueError(f"not an input name: {view!r}")
            if isinstance(obj, duckdb.DuckDBPyRelation):
                obj.create_view(view, replace=True)
                views.append(view)
            else:
                con.register(view, obj)
                registered.append(view)
        yield sql
    finally:
        for view in views:
            con.execute(f'DROP VIEW IF EXISTS "{view}"')
        for view in registered:
            con.unregister(view)
