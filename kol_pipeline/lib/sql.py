"""`kol-pipeline sql`: DuckDB SQL over the warehouse, every table a view with the table's name.

``connect(warehouse)`` opens an in-memory DuckDB database with one view per warehouse table:

- a daily-partitioned table (``<wh>/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet``) is
  ``read_parquet('<wh>/<table>/**/*.parquet', hive_partitioning = true, union_by_name = true)`` with
  ``snapshot_date`` typed ``DATE`` (the files do not carry it; the folder name does);
- an unpartitioned table is its single file ``<wh>/<table>/<table>.parquet``;
- a table of ``schemas.TABLES`` with no file yet is an empty view with the table's columns and types, so a query
  written for a full warehouse runs (and returns no rows) on a fresh one;
- a folder of the warehouse that is not in ``TABLES`` (a table added later) is registered the same way when its
  name is a plain identifier.

Columns of known tables come in the order of their ``TableSpec`` (extra columns after them).

Decisions:
- View names are fixed identifiers (``TABLES`` keys or folder names matching ``[A-Za-z_][A-Za-z0-9_]*``), always
  double-quoted; the warehouse path is embedded as an escaped string literal (DuckDB views cannot hold bound
  parameters). The user's query is run as given: it is the user's own SQL on their own machine.
- Local folders are the supported case. An fsspec URL (``s3://bucket/wh``, ``memory://wh``) is handed to DuckDB
  through ``register_filesystem`` of the same fsspec filesystem the IO manager uses; for ``s3://`` DuckDB's own
  ``httpfs`` extension (``INSTALL httpfs; LOAD httpfs;`` plus credentials via ``CREATE SECRET``) is the faster
  alternative. Neither is needed for local warehouses.
- Printing fetches at most ``max_rows + 1`` rows (the query is not counted twice); ``--out`` writes the whole
  result with DuckDB's ``COPY`` (CSV with a header, or Parquet) and prints the row count.
- Exit codes: 0 ok; 1 the SQL failed (DuckDB's message, no traceback); 2 unusable arguments (``--out`` not ending
  in ``.csv`` or ``.parquet``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.schemas import TABLES, TableSpec

__all__ = ["connect", "run_sql", "view_sql", "duckdb_type"]

PARTITION_COLUMN = "snapshot_date"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OUT_FORMATS = {".csv": "(FORMAT csv, HEADER true)", ".parquet": "(FORMAT parquet)"}
_MAX_COLWIDTH = 60


def duckdb_type(t: pa.DataType) -> str:
    """The DuckDB type of an Arrow type used in the warehouse schemas."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_int16(t):
        return "SMALLINT"
    if pa.types.is_int8(t):
        return "TINYINT"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return duckdb_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        inner = ", ".join(f'"{f.name}" {duckdb_type(f.type)}' for f in t)
        return f"STRUCT({inner})"
    raise ValueError(f"no DuckDB type for Arrow type {t}")


def _quote_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f'"{name}"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_view_sql(spec: TableSpec) -> str:
    cols = ", ".join(f"CAST(NULL AS {duckdb_type(c.type)}) AS {_quote_ident(c.name)}" for c in spec.columns)
    return f"SELECT {cols} WHERE false"


def view_sql(source: str, partitioned: bool) -> str:
    """SELECT reading a table's Parquet: ``source`` is the glob (partitioned) or the file."""
    if partitioned:
        return (
            f"SELECT * FROM read_parquet({_literal(source)}, hive_partitioning = true, union_by_name = true, "
            f"hive_types = {{'{PARTITION_COLUMN}': DATE}})"
        )
    return f"SELECT * FROM read_parquet({_literal(source)})"


class _Warehouse:
    """Where the tables of a warehouse are: local folder or fsspec URL."""

    def __init__(self, warehouse: str):
        self.raw = warehouse
        self.is_url = "://" in warehouse and not warehouse.startswith("file://")
        if self.is_url:
            from kol_pipeline.resources.io_manager import make_base_path

            self.upath = make_base_path(warehouse)
            self.fs = self.upath.fs
            self.root = warehouse.rstrip("/")
        else:
            local = warehouse[len("file://") :] if warehouse.startswith("file://") else warehouse
            self.root = str(Path(local).expanduser().resolve())
            self.fs = None

    def exists(self) -> bool:
        if self.is_url:
            return bool(self.upath.exists())
        return Path(self.root).is_dir()

    def folders(self) -> list[str]:
        if not self.exists():
            return []
        if self.is_url:
            return sorted(p.name for p in self.upath.iterdir() if p.is_dir())
        return sorted(p.name for p in Path(self.root).iterdir() if p.is_dir())

    def _glob(self, pattern: str) -> list[str]:
        if self.is_url:
            return [p for p in self.fs.glob(self.upath.path.rstrip("/") + "/" + pattern)]
        return [str(p) for p in Path(self.root).glob(pattern)]

    def has_partitions(self, table: str) -> bool:
        return any(
            not Path(p).name.startswith((".", "_")) for p in self._glob(f"{table}/{PARTITION_COLUMN}=*/*.parquet")
        )

    def has_single(self, table: str) -> bool:
        return bool(self._glob(f"{table}/{table}.parquet"))

    def location(self, table: str, partitioned: bool) -> str:
        tail = f"{table}/**/*.parquet" if partitioned else f"{table}/{table}.parquet"
        return f"{self.root}/{tail}"


def _ordered_select(have: list[str], spec: TableSpec | None) -> str:
    """The select list: the spec's columns first, in its order, then any extra columns of the files."""
    first = [c for c in spec.column_names if c in have] if spec is not None else []
    order = first + [c for c in have if c not in set(first)]
    return ", ".join(f'"{c}"' for c in order) if order != have else "*"


def connect(warehouse: str, tables: Iterable[str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per warehouse table (see the module docstring).

    ``tables``: restrict to these names (default: every table of ``TABLES`` plus every other table folder)."""
    wh = _Warehouse(warehouse)
    con = duck.connect()  # bounded by the KOL_DUCKDB_* settings (lib/duck.py)
    if wh.is_url:
        con.register_filesystem(wh.fs)
    names = list(TABLES)
    names += [f for f in wh.folders() if f not in TABLES and _IDENT.match(f)]
    if tables is not None:
        wanted = set(tables)
        names = [n for n in names if n in wanted]
    for name in names:
        spec = TABLES.get(name)
        ident = _quote_ident(name)
        if wh.has_partitions(name):
            select = view_sql(wh.location(name, partitioned=True), partitioned=True)
        elif wh.has_single(name):
            select = view_sql(wh.location(name, partitioned=False), partitioned=False)
        elif spec is not None:
            con.execute(f"CREATE VIEW {ident} AS {_empty_view_sql(spec)}")
            continue
        else:
            continue  # a folder without Parquet files
        have = con.sql(select).columns  # binds once: reads the files' schemas
        con.execute(f"CREATE VIEW {ident} AS SELECT {_ordered_select(have, spec)} FROM ({select})")
    return con


def _views(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall()]


def _render(df: pd.DataFrame) -> str:
    if df.shape[1] == 0:
        return "(no columns)"
    with pd.option_context("display.width", 250, "display.max_columns", None):
        return df.to_string(index=False, max_colwidth=_MAX_COLWIDTH, na_rep="NULL")


def run_sql(
    query: str,
    warehouse: str,
    out: str | None = None,
    max_rows: int = 50,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``query`` over the warehouse views; print up to ``max_rows`` rows, or write the whole result to ``out``
    (.csv or .parquet). Returns the exit code: 0 ok, 1 SQL error, 2 bad arguments."""
    so = stdout or sys.stdout
    se = stderr or sys.stderr
    fmt = None
    if out is not None:
        fmt = _OUT_FORMATS.get(Path(out).suffix.lower())
        if fmt is None:
            print(f"error: --out must end in .csv or .parquet, got {out!r}", file=se)
            return 2
    if max_rows < 0:
        print(f"error: --max-rows must be 0 or more, got {max_rows}", file=se)
        return 2
    wh = _Warehouse(warehouse)
    if not wh.exists():
        print(
            f"note: warehouse {warehouse} does not exist: every table is empty (run `kol-pipeline run` first)", file=se
        )
    try:
        con = connect(warehouse)
    except duckdb.Error as exc:
        print(f"error: cannot open the warehouse tables under {warehouse}: {exc}", file=se)
        return 1
    try:
        rel = con.sql(query)
        if rel is None or rel.columns == ["Success"]:  # a statement without a result (SET, PRAGMA ...)
            print("ok", file=so)
            return 0
        if out is not None:
            target = Path(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            rel.create_view("__kol_result", replace=True)
            (count,) = con.execute(f"COPY (SELECT * FROM __kol_result) TO {_literal(str(target))} {fmt}").fetchone()
            print(f"wrote {count} rows to {target}", file=so)
            return 0
        df = rel.limit(max_rows + 1).df()
    except duckdb.Error as exc:
        msg = str(exc).strip()
        hint = ""
        if isinstance(exc, duckdb.CatalogException):
            hint = "\ntables: " + ", ".join(_views(con))
        print(f"error: SQL failed: {type(exc).__name__}: {msg}{hint}", file=se)
        return 1
    more = len(df) > max_rows
    shown = df.head(max_rows)
    print(_render(shown), file=so)
    if more:
        print(f"(first {max_rows} rows shown; more exist: use --max-rows N or --out FILE.csv|.parquet)", file=so)
    else:
        print(f"({len(shown)} row{'s' if len(shown) != 1 else ''})", file=so)
    return 0
