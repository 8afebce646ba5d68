"""Warehouse writes by DuckDB: an asset's Arrow table or DuckDB relation becomes Parquet through DuckDB's
``COPY ... TO`` (``DuckDBPyRelation.to_parquet``), never through pandas.

The warehouse IO manager (``io_manager.py``) calls ``stage`` and then commits the staged files into the
warehouse layout itself (one ``part-0.parquet`` per hive folder, moved over the old one: a partition is replaced
whole and a killed write leaves the previous version readable). This module only knows DuckDB and files:

- ``conform_relation`` casts the relation to the table's registry schema (``schemas.TABLES``), as ``conform``
  does for pandas frames: the spec's columns first, in its order, each cast to its Arrow type's DuckDB type
  (which DuckDB writes back as exactly that Arrow type), unknown columns kept at the end as they are; a missing
  column is an error. ``snapshot_date`` (the hive column) is cast to DATE.
- ``stage`` runs the relation once and writes each day's rows with ``COPY (...) TO '<file>' (FORMAT parquet)``,
  in the relation's row order: a one-day output streams into its file; a ranged output is materialized as Arrow
  and written day by day (DuckDB's ``PARTITION_BY`` would reorder rows within a day on more than one thread).
  The staging folder is the IO manager's choice (a hidden ``.staging`` folder of a local warehouse, outside every
  table's folder; a local temporary folder for object stores); the staged files end in ``.parquet.tmp``.

Values never go into SQL text: the casts and the day guard are DuckDB expression objects (the day a constant
expression), the paths are arguments of ``to_parquet``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kol_pipeline.lib import duck as duck_lib
from kol_pipeline.lib.schemas import TableSpec

__all__ = [
    "STAGED_SUFFIX",
    "STALE_STAGING_SECONDS",
    "StagedFile",
    "conform_relation",
    "duck_type",
    "remove_stale_staging",
    "remove_staging",
    "stage",
]

#: what staged files end with: ``part-0.parquet.tmp`` (invisible to ``*.parquet`` readers)
STAGED_SUFFIX = ".parquet.tmp"

_SCALARS: dict[pa.DataType, str] = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.bool_(): "BOOLEAN",
    pa.int8(): "TINYINT",
    pa.int16(): "SMALLINT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float32(): "FLOAT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
}


def duck_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type whose Parquet column pyarrow reads back as ``arrow_type`` (the registry's types)."""
    if arrow_type in _SCALARS:
        return _SCALARS[arrow_type]
    if pa.types.is_timestamp(arrow_type):
        if arrow_type.tz is not None:
            if arrow_type.unit != "us":
                raise TypeError(f"no DuckDB type writes {arrow_type} (DuckDB's TIMESTAMPTZ is in microseconds)")
            return "TIMESTAMPTZ"
        return {"s": "TIMESTAMP_S", "ms": "TIMESTAMP_MS", "us": "TIMESTAMP", "ns": "TIMESTAMP_NS"}[arrow_type.unit]
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return duck_type(arrow_type.value_type) + "[]"
    raise TypeError(f"no DuckDB type for the Arrow type {arrow_type}")


def _cast(name: str, arrow_type: pa.DataType) -> duckdb.Expression:
    return duckdb.ColumnExpression(name).cast(duckdb.sqltype(duck_type(arrow_type))).alias(name)


def conform_relation(
    rel: duckdb.DuckDBPyRelation, spec: TableSpec | None, partition_column: str | None
) -> duckdb.DuckDBPyRelation:
    """``rel`` with the spec's columns in order, each cast to its type, then any other columns as they are;
    ``partition_column`` (when the table is partitioned) as DATE at the end. No spec: the columns as they are
    (the partition column still cast to DATE)."""
    names = list(rel.columns)
    exprs: list[duckdb.Expression] = []
    known: set[str] = set()
    if spec is not None:
        wanted = [c for c in spec.columns if c.name != partition_column]
        missing = [c.name for c in wanted if c.name not in names]
        if missing:
            raise ValueError(f"{spec.name}: missing columns {missing}")
        exprs += [_cast(c.name, c.type) for c in wanted]
        known = {c.name for c in wanted}
    exprs += [duckdb.ColumnExpression(c) for c in names if c not in known and c != partition_column]
    if partition_column is not None and partition_column in names:
        exprs.append(duckdb.ColumnExpression(partition_column).cast(duckdb.sqltype("DATE")).alias(partition_column))
    return rel.project(*exprs)


@dataclass(frozen=True)
class StagedFile:
    """One file ``stage`` wrote: its path, the partition key (``YYYY-MM-DD``; None for an unpartitioned
    table), its rows and bytes."""

    path: str
    key: str | None
    rows: int
    size: int


def stage(
    rel: duckdb.DuckDBPyRelation,
    staging_dir: str,
    partition_column: str | None,
    run_keys: Sequence[str] = (),
    duck: duck_lib.DuckSettings | None = None,
    table: str = "",
) -> list[StagedFile]:
    """Write ``rel`` as Parquet under ``staging_dir`` (a local folder, created; it must not exist): one file per
    day of ``partition_column`` in ``<staging_dir>/<column>=<day>/part-0.parquet.tmp`` (the column itself is not
    written: the folder names it), or one file ``<staging_dir>/part-0.parquet.tmp`` when it is None. Returns the
    files with their row counts from the footers; a day without rows has no file.

    Each file keeps the rows in the relation's order (a pandas output keeps its frame's order within a day, and
    sums downstream depend on it in the last bit). DuckDB's ``PARTITION_BY`` does not on more than one thread, so:

    - one run day (a daily run): ``rel`` is streamed into one file, guarded by ``error()`` on a row of another day
      or without one (the COPY then fails and nothing is committed);
    - several days (a ranged run): ``rel`` is materialized as Arrow (as a pandas output is), its rows grouped by
      day with a stable sort (no copy when they already come day after day) and each day written by its own
      single-file COPY on a connection bounded by ``duck``. Null days raise ``ValueError``; days outside
      ``run_keys`` are returned as they are, for the caller to refuse."""
    os.makedirs(staging_dir)
    if partition_column is None:
        path = os.path.join(staging_dir, "part-0" + STAGED_SUFFIX)
        rel.to_parquet(path)
        return [_staged(path, None)]
    if len(run_keys) == 1:
        return _stage_one_day(rel, staging_dir, partition_column, run_keys[0], table)
    got = rel.to_arrow_table()
    arrow = got.read_all() if isinstance(got, pa.RecordBatchReader) else got
    days = arrow.column(partition_column)
    if days.null_count:
        raise ValueError(f"{days.null_count} rows have a null or unparseable {partition_column}: [None]")
    ints = days.cast(pa.int32()).to_numpy()
    if len(ints) > 1 and (ints[1:] < ints[:-1]).any():
        order = np.argsort(ints, kind="stable")
        arrow, ints = arrow.take(pa.array(order)), ints[order]
    body = arrow.drop_columns([partition_column])
    starts = np.flatnonzero(np.r_[True, ints[1:] != ints[:-1]]) if len(ints) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(ints)]
    out = []
    with duck_lib.connect(duck) as con:
        for start, end in zip(starts.tolist(), ends.tolist()):
            key = str(np.datetime64(int(ints[start]), "D"))
            folder = os.path.join(staging_dir, f"{partition_column}={key}")
            os.makedirs(folder)
            path = os.path.join(folder, "part-0" + STAGED_SUFFIX)
            con.from_arrow(body.slice(start, end - start)).to_parquet(path)
            out.append(_staged(path, key))
    return out


def _stage_one_day(
    rel: duckdb.DuckDBPyRelation, staging_dir: str, partition_column: str, key: str, table: str
) -> list[StagedFile]:
    """The rows of a one-day output, streamed into one file; a row of another day (or none) fails the COPY."""
    day = duckdb.ColumnExpression(partition_column) == duckdb.ConstantExpression(dt.date.fromisoformat(key))
    refuse = duckdb.FunctionExpression(
        "error",
        duckdb.ConstantExpression(
            f"{table}: a {partition_column} value is null or outside the run's partitions {key} .. {key} (1 day(s))"
        ),
    ).cast(duckdb.sqltype("BOOLEAN"))
    guarded = rel.filter(duckdb.CaseExpression(day, duckdb.ConstantExpression(True)).otherwise(refuse))
    body = guarded.project(*[duckdb.ColumnExpression(c) for c in rel.columns if c != partition_column])
    folder = os.path.join(staging_dir, f"{partition_column}={key}")
    os.makedirs(folder)
    path = os.path.join(folder, "part-0" + STAGED_SUFFIX)
    body.to_parquet(path)
    staged = _staged(path, key)
    return [staged] if staged.rows else []


def _staged(path: str, key: str | None) -> StagedFile:
    return StagedFile(path, key, pq.read_metadata(path).num_rows, os.path.getsize(path))


def remove_staging(staging_dir: str) -> None:
    """Remove a staging folder and everything in it (best effort: a leftover is invisible to readers)."""
    shutil.rmtree(staging_dir, ignore_errors=True)


#: a staging folder untouched for this long belongs to a write that was killed (a write stages and commits within
#: one step; the 1M-note day's largest output is staged in seconds): the next write removes it
STALE_STAGING_SECONDS = 24 * 3600


def remove_stale_staging(root: str, older_than_s: float = STALE_STAGING_SECONDS, now: float | None = None) -> list[str]:
    """Remove the folders under ``root`` (the warehouse's ``.staging``) last modified more than ``older_than_s``
    seconds before ``now``: what killed writes left behind (invisible to readers, but disk space). A younger folder
    may be another process's write in progress and is left alone. Returns the removed paths."""
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return removed
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > older_than_s:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
        except FileNotFoundError:  # removed by another process meanwhile
            continue
    return removed
