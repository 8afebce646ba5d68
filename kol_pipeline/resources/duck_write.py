"""Warehouse writes by DuckDB: an asset's Arrow table or DuckDB relation becomes Parquet through DuckDB's
``COPY ... TO`` (``DuckDBPyRelation.to_parquet``), never through pandas.

The warehouse IO manager (``io_manager.py``) calls ``stage`` and then commits the staged files into the
warehouse layout itself (one ``part-0.parquet`` per hive folder, moved over the old one: a partition is replaced
whole and a killed write leaves the previous version readable). This module only knows DuckDB and files:

- ``conform_relation`` casts the relation to the table's registry schema (``schemas.TABLES``), as ``conform``
  does for pandas frames: the spec's columns first, in its order, each cast to its Arrow type's DuckDB type
  (which DuckDB writes back as exactly that Arrow type), unknown columns kept at the end as they are; a missing
  column is an error. ``snapshot_date`` (the hive column) is cast to DATE.
- ``stage`` runs the relation once: ``COPY (...) TO '<staging>' (FORMAT parquet, PARTITION_BY (snapshot_date))``
  for a partitioned table, so a ranged output is one query writing one file per day, or one file for an
  unpartitioned one. The staging folder is the IO manager's choice (a hidden ``.staging`` folder of a local
  warehouse, outside every table's folder; a local temporary folder for object stores), and the staged files are
  renamed to end in ``.parquet.tmp`` as soon as DuckDB is done.

Values never go into SQL text: the casts are DuckDB expression objects, the paths are arguments of
``to_parquet``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from kol_pipeline.lib import duck as duck_lib
from kol_pipeline.lib.schemas import TableSpec

__all__ = ["STAGED_SUFFIX", "StagedFile", "conform_relation", "duck_type", "remove_staging", "stage"]

#: what staged files end with: ``part-0.parquet.tmp`` (invisible to ``*.parquet`` readers)
STAGED_SUFFIX = ".parquet.tmp"
_NULL_KEY = "NULL"  # DuckDB's hive folder value for a null partition key

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
    """One file ``stage`` wrote: its path, the partition key (``YYYY-MM-DD``, ``"NULL"`` for rows without a date,
    None for an unpartitioned table), its rows and bytes."""

    path: str
    key: str | None
    rows: int
    size: int


def stage(
    rel: duckdb.DuckDBPyRelation,
    staging_dir: str,
    partition_column: str | None,
    duck: duck_lib.DuckSettings | None = None,
) -> list[StagedFile]:
    """Write ``rel`` (run once) as Parquet under ``staging_dir`` (a local folder, created; it must not exist):
    one file per value of ``partition_column`` in ``<staging_dir>/<column>=<value>/`` (the column itself is not
    written: the folder names it), or one file ``<staging_dir>/part-0.parquet.tmp`` when it is None. Returns the
    files with their row counts from the footers. A partition that DuckDB split over several files (it may, when
    more partitions are open at once than its ``partitioned_write_max_open_files``) is merged into one, so that
    the commit can replace it whole (on a connection bounded by ``duck``)."""
    if partition_column is None:
        os.makedirs(staging_dir)
        path = os.path.join(staging_dir, "part-0" + STAGED_SUFFIX)
        rel.to_parquet(path)
        return [_staged(path, None)]
    # FILENAME_PATTERN gives part-0.parquet; renamed to .parquet.tmp right below, before anything is committed
    rel.to_parquet(staging_dir, partition_by=[partition_column], filename_pattern="part-{i}")
    out = []
    prefix = partition_column + "="
    for folder in sorted(os.listdir(staging_dir)) if os.path.isdir(staging_dir) else []:
        if not folder.startswith(prefix):
            continue
        key = folder[len(prefix) :]
        here = os.path.join(staging_dir, folder)
        files = sorted(os.path.join(here, f) for f in os.listdir(here) if f.endswith(".parquet"))
        if not files:
            continue
        target = os.path.join(here, "part-0" + STAGED_SUFFIX)
        if len(files) == 1:
            os.replace(files[0], target)
        else:
            _merge(files, target, duck)
        out.append(_staged(target, key))
    return out


def _merge(files: list[str], target: str, duck: duck_lib.DuckSettings | None) -> None:
    """Several staged files of one partition as one file (rare: see ``stage``), streamed by DuckDB."""
    with duck_lib.connect(duck) as con:
        con.read_parquet(files, hive_partitioning=False).to_parquet(target)
    for f in files:
        os.remove(f)


def _staged(path: str, key: str | None) -> StagedFile:
    return StagedFile(path, key, pq.read_metadata(path).num_rows, os.path.getsize(path))


def remove_staging(staging_dir: str) -> None:
    """Remove a staging folder and everything in it (best effort: a leftover is invisible to readers)."""
    shutil.rmtree(staging_dir, ignore_errors=True)
