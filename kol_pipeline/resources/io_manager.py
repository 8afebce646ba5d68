"""Warehouse IO manager: every asset output is a Parquet table under ``<base>/<table>/``.

Layout (../shared/CONTRACT.md section 3):

- ``table`` is the last component of the asset key (key prefixes are not folders);
- a daily-partitioned table has one hive folder per Asia/Shanghai day,
  ``<base>/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet``; the file carries no ``snapshot_date`` column (the
  folder name does), so ``duckdb.read_parquet('<base>/<table>/**/*.parquet', hive_partitioning=true)`` and
  ``pyarrow.dataset(..., partitioning='hive')`` read it without a duplicate column;
- an unpartitioned table is one file, ``<base>/<table>/<table>.parquet``;
- a missing partition folder means "no rows that day": a day with zero rows is not written (its old folder, if
  any, is removed), because sparse ranges would otherwise leave thousands of empty files.

Writes replace a partition whole (never append) and are crash-safe: the bytes go to a hidden temporary file in the
same folder (``.part-0.parquet.tmp-<uuid>``, which neither ``*.parquet`` globs nor pyarrow datasets see), then are
moved over the final name (``os.replace`` locally; ``fs.mv`` on other fsspec filesystems); on object stores
(S3, GCS, Azure) the final object is written with one PUT, which is atomic there. Files left over in a written
partition folder (an older writer's stale temporaries) are removed after the move.

An asset may also return an Arrow table (or record batch reader) or a DuckDB relation (a query's result, still
lazy): DuckDB writes it (``duck_write.py``), never pandas. It is cast to the registry's schema (the same Arrow types
as a pandas output's ``conform``; a missing column is an error, unknown columns are kept), run ONCE and written
with ``COPY (...) TO '<file>' (FORMAT parquet)`` into a staging folder (``<base>/.staging/`` locally, outside
every table's folder so that no glob sees a half-written file; a local temporary folder for any other
filesystem), in the relation's row order within each day (a one-day output streams into its file; a ranged one is
materialized as Arrow and written day by day), checked (every row's day among the run's, no null day: else
nothing is committed), then each
day's file is committed over ``part-0.parquet`` (``os.replace``; on an object store one upload per file, which
becomes visible whole) and the staging folder removed. A failed or killed write leaves the previous partitions
readable. COPY straight to ``s3://`` through the fsspec filesystem registered on DuckDB works, but a failing COPY
would then close (and so publish) a partial object; staging locally and uploading costs a copy and avoids that.
A relation is executed on its own connection, which must stay open until the output is handled (return it from
an asset without closing its connection; the IO manager does not close it). The metadata is the same as for a
pandas output (row count, column schema and a preview read from the written file); a ranged output also records
each day's ``dagster/row_count`` on its own partition.

A run may cover a range of daily partitions (single-run backfill policy): ``handle_output`` splits the frame by its
``snapshot_date`` column and ``load_input`` returns all requested upstream partitions as ONE DataFrame with a
``snapshot_date`` column (python ``date`` objects), whatever the number of partitions.

Pandas types on read: strings are ``object``, list columns hold numpy arrays, timestamps are tz-aware
(``datetime64[us, UTC]``), dates are ``datetime.date`` objects, every int64 column is the nullable ``Int64`` and
every bool column the nullable ``boolean`` (so the dtype does not depend on whether a partition happens to hold a
null), floats are ``float64`` with NaN for null. Exception: a table whose spec sets ``numpy_ints`` (the internal
``comment_state``, whose integer columns are never null) reads its integer columns as plain numpy integers, without
the copy and mask of the nullable type, one pandas block per column (no copy into 2-D blocks; a column may then
be Arrow's own read-only memory), and its ``snapshot_date`` as a Categorical of date objects
(``day_categorical``). A spec's ``arrow_lists`` (creator_state's ``followers_by_day``) are read as Arrow list
columns (``pd.ArrowDtype``) instead of an object column holding a numpy array per row. The rows of one partition
share one ``snapshot_date`` object. Empty results
use the same conversion on the table's schema (so they differ from ``TableSpec.empty_frame()`` only by those
nullable dtypes).

Decisions where the contract is silent:
- Asset key prefixes are ignored: ``["kol", "notes"]`` and ``["notes"]`` are both ``<base>/notes``.
- Types follow ``schemas.TABLES`` (``conform``) for known tables; other tables are written with
  ``pa.Table.from_pandas``. Pandas schema metadata is not stored in the files.
- Rows whose ``snapshot_date`` is null or outside the run's partitions fail the whole output before anything is
  written. An empty output (zero rows) of a partitioned asset may lack the ``snapshot_date`` column.
- A spec's ``plain_columns`` are written without Parquet dictionary encoding (high-cardinality keys; every other
  column keeps pyarrow's default dictionary encoding).
- No per-file fsync locally: a killed process cannot expose a partial file (the rename is atomic); fsync made a
  365-day backfill several times slower. Days of a multi-day output are written by up to 8 threads.
- An unknown partitioned table with no rows in the requested days is returned with the columns of a stored
  partition (plus ``snapshot_date``); if nothing is stored at all, with ``snapshot_date`` only.
- ``read_table`` and ``load_input`` list the table folder once (one recursive ``find``) and read only folders that
  hold a visible ``*.parquet`` file; missing days are skipped silently.
- Metadata of a multi-day output (attached by Dagster to each day's materialization) is run totals: row count,
  column schema, a 5-row preview, table folder, days written / empty, bytes. One log line per output.
- Input metadata (``dg.AssetIn(metadata=...)``), both optional: ``columns`` (a list) reads only those columns
  (plus ``snapshot_date``) of each upstream file; ``lazy: True`` returns a ``PartitionedInput`` handle instead
  of a frame, so that an asset that declares a trailing window (for lineage and for a rare bootstrap) reads only
  the days and columns it needs (``handle.read(keys, columns)``). Inputs without this metadata load as before.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem
from upath import UPath

from kol_pipeline.lib import duck as duck_lib
from kol_pipeline.lib.schemas import TABLES, TableSpec, conform
from kol_pipeline.resources import allocator, duck_write

__all__ = [
    "IdsIn",
    "ListNotEmpty",
    "PARTITION_COLUMN",
    "PART_FILE",
    "STAGING_DIR",
    "PartitionedInput",
    "ParquetIOManager",
    "list_partitions",
    "make_base_path",
    "partition_rows",
    "present_values",
    "read_column",
    "read_table",
]

PARTITION_COLUMN = "snapshot_date"
PART_FILE = "part-0.parquet"
#: the hidden folder of the warehouse root where DuckDB stages its writes before they are committed
STAGING_DIR = ".staging"
_PREFIX = f"{PARTITION_COLUMN}="
_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "oss", "r2"})
_PREVIEW_ROWS = 5
_WRITE_THREADS = 8
_PREVIEW_CELL = 40
_PANDAS_TYPES: dict[pa.DataType, Any] = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
_NUMPY_INT_TYPES: dict[pa.DataType, Any] = {pa.bool_(): pd.BooleanDtype()}  # TableSpec.numpy_ints


# --------------------------------------------------------------------------------------------- paths & filesystems


def make_base_path(base_path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> UPath:
    """The warehouse root as a UPath: a local folder (made absolute) or any fsspec URL (``memory://wh``,
    ``s3://bucket/prefix``, ``file:///...``) opened with ``storage_options`` (e.g. ``endpoint_url``)."""
    text = os.fspath(base_path)
    if "://" not in text:
        return UPath(Path(text).expanduser().resolve())
    return UPath(text, **dict(storage_options or {}))


def _protocols(fs: AbstractFileSystem) -> set[str]:
    proto = fs.protocol
    return {proto} if isinstance(proto, str) else set(proto)


def _is_local(fs: AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


def _is_object_store(fs: AbstractFileSystem) -> bool:
    return bool(_protocols(fs) & _OBJECT_STORES)


def _fs_path(path: UPath) -> str:
    """The path string the UPath's own fsspec filesystem understands (no protocol)."""
    return path.path.rstrip("/") or "/"


def _partition_key(folder_name: str) -> str | None:
    """``snapshot_date=2025-01-03`` -> ``2025-01-03``; anything else -> None."""
    if not folder_name.startswith(_PREFIX):
        return None
    key = folder_name[len(_PREFIX) :]
    try:
        dt.date.fromisoformat(key)
    except ValueError:
        return None
    return key


def _check_day_key(key: str) -> str:
    try:
        dt.date.fromisoformat(key)
    except (TypeError, ValueError):
        raise ValueError(
            f"partition key {key!r} is not a YYYY-MM-DD day; the warehouse stores daily partitions only"
        ) from None
    return key


class _Listing:
    """One recursive listing of a table folder (a single call, also on object stores)."""

    def __init__(self, fs: AbstractFileSystem, table_dir: str):
        self.table_dir = table_dir
        try:
            entries = fs.find(table_dir, withdirs=True, detail=True)
        except FileNotFoundError:
            entries = {}
        self.exists = bool(entries)
        #: partition key -> files in its folder (any name)
        self.partition_files: dict[str, list[str]] = {}
        #: partition keys whose folder exists (even empty)
        self.partition_dirs: set[str] = set()
        #: entries directly in the table folder (files and folders)
        self.top_level: list[str] = []
        root = table_dir.rstrip("/")
        for name, info in entries.items():
            name = name.rstrip("/")
            if name == root or not name.startswith(root + "/"):
                continue
            rel = name[len(root) + 1 :].split("/")
            if len(rel) == 1:
                self.top_level.append(name)
            key = _partition_key(rel[0])
            if key is None:
                continue
            self.partition_dirs.add(key)
            if len(rel) == 2 and info.get("type") != "directory":
                self.partition_files.setdefault(key, []).append(name)

    def readable_partitions(self) -> dict[str, list[str]]:
        """Partition key -> its Parquet files, skipping hidden/temporary files (what ``*.parquet`` readers see)."""
        out: dict[str, list[str]] = {}
        for key, files in self.partition_files.items():
            data = sorted(f for f in files if _is_data_file(f))
            if data:
                out[key] = data
        return out


def _is_data_file(path: str) -> bool:
    base = posixpath.basename(path)
    return base.endswith(".parquet") and not base.startswith((".", "_"))


# ----------------------------------------------------------------------------------------------------- writing


def _serialize(table: pa.Table, name: str | None = None) -> pa.Buffer:
    spec = TABLES.get(name) if name else None
    plain = set(spec.plain_columns) if spec is not None else set()
    dictionary: bool | list[str] = [c for c in table.column_names if c not in plain] if plain else True
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(None), sink, use_dictionary=dictionary)
    return sink.getvalue()


def _commit(fs: AbstractFileSystem, tmp: str, final: str) -> None:
    """Move a fully written temporary file over its final name (atomic on local filesystems)."""
    if _is_local(fs):
        os.replace(tmp, final)
    else:
        fs.mv(tmp, final)


def _write_atomic(fs: AbstractFileSystem, table: pa.Table, final: str, name: str | None = None) -> int:
    """Write ``table`` (of warehouse table ``name``, for its storage hints) as Parquet at ``final`` so that readers
    see either the old or the new file, never a partial one. Returns the bytes written."""
    data = _serialize(table, name)
    folder = posixpath.dirname(final)
    if _is_object_store(fs):
        fs.pipe_file(final, data.to_pybytes())  # a single PUT: atomic on object stores
        return data.size
    fs.makedirs(folder, exist_ok=True)
    tmp = posixpath.join(folder, f".{posixpath.basename(final)}.tmp-{uuid.uuid4().hex}")
    try:
        if _is_local(fs):
            # no fsync: a killed process cannot leave a partial file behind (the rename is atomic), and a per-file
            # fsync made a 365-day backfill several times slower
            with open(tmp, "wb") as fh:
                fh.write(memoryview(data))  # no copy of the Arrow buffer
        else:
            fs.pipe_file(tmp, data.to_pybytes())
        _commit(fs, tmp, final)
    except Exception:
        try:
            if fs.exists(tmp):
                fs.rm_file(tmp)
        except Exception:  # pragma: no cover - best effort; a leftover temp file is invisible to readers
            pass
        raise
    return data.size


def _remove_quietly(fs: AbstractFileSystem, paths: Iterable[str], recursive: bool = False) -> None:
    for path in paths:
        try:
            fs.rm(path, recursive=recursive)
        except FileNotFoundError:
            pass


def _to_arrow(df: pd.DataFrame, table: str) -> pa.Table:
    spec = TABLES.get(table)
    if spec is not None:
        if df.shape[1] == 0 and df.empty:
            return spec.schema.empty_table()
        return conform(df, spec)
    return pa.Table.from_pandas(df, preserve_index=False)


def _day_groups(values: pd.Series) -> tuple[list[str], np.ndarray | None, np.ndarray]:
    """Group rows by the day of their snapshot_date: (day keys, row order, group sizes); the order is None when
    all rows belong to one day (the rows are written as they are). Null dates raise. The values are hashed once
    and only the distinct ones are parsed (a state partition holds millions of rows of one date)."""
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    ts = pd.to_datetime(pd.Series(uniques, dtype=object if len(uniques) == 0 else None), errors="coerce")
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)
    days = ts.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    bad = (codes < 0) | np.isnat(days)[np.maximum(codes, 0)] if len(days) else codes < 0
    if bad.any():
        examples = list(pd.Series(values)[bad].astype(str).unique()[:5])
        raise ValueError(f"{int(bad.sum())} rows have a null or unparseable {PARTITION_COLUMN}: {examples}")
    uniq, inv_u = np.unique(days, return_inverse=True)
    if len(uniq) == 1:
        return [str(uniq[0])], None, np.array([len(codes)])
    inverse = np.asarray(inv_u).reshape(-1)[codes]
    order = np.argsort(inverse, kind="stable")
    sizes = np.bincount(inverse, minlength=len(uniq))
    return [str(d) for d in uniq], order, sizes


# ----------------------------------------------------------------------------------------------------- reading


def _project(columns: Sequence[str] | None, names: Sequence[str]) -> list[str] | None:
    """The requested columns a file has (None = all)."""
    return None if columns is None else [c for c in names if c in set(columns)]


@dataclass(frozen=True)
class IdsIn:
    """Row filter: the string column ``column`` is one of ``values`` (a null never matches). Build it with
    ``IdsIn.of(column, values)``, which drops nulls and duplicates and takes any values as strings."""

    column: str
    values: tuple[str, ...]

    @classmethod
    def of(cls, column: str, values: Iterable) -> IdsIn:
        ids = pd.Series(list(values), dtype=object).dropna().astype(str).unique().tolist()
        return cls(column, tuple(sorted(ids)))

    def expression(self) -> pc.Expression:
        """The same filter as a pyarrow compute expression."""
        return pc.field(self.column).isin(pa.array(self.values, type=pa.string()))


@dataclass(frozen=True)
class ListNotEmpty:
    """Row filter: the list column ``column`` holds at least one element (a null list never matches)."""

    column: str

    def expression(self) -> pc.Expression:
        """The same filter as a pyarrow compute expression."""
        return pc.list_value_length(pc.field(self.column)) > 0


#: what ``PartitionedInput.read`` takes as ``row_filter``: any pyarrow compute expression, or one of the two
#: filters the marts use, which local warehouses evaluate with DuckDB (a 2-3x faster scan over many partitions)
RowFilter = pc.Expression | IdsIn | ListNotEmpty

_FILE_COLUMNS = ("filename", "file_row_number")


def _read_filtered_duckdb(
    paths: Sequence[str],
    columns: Sequence[str] | None,
    row_filter: IdsIn | ListNotEmpty,
    duck: duck_lib.DuckSettings | None = None,
) -> list[pa.Table] | None:
    """``_read_filtered`` of local files by DuckDB: one scan of all files on DuckDB's threads, the rows returned
    in file order and row order, split back into one table per file, each column cast to the Arrow type the
    pyarrow reader gives (the first file's type). None when DuckDB cannot read them (the caller falls back to
    pyarrow, which gives the same rows). The connection is bounded by ``duck`` (lib/duck.py)."""
    import duckdb

    con = duck_lib.connect(duck)
    try:
        rel = con.read_parquet(
            list(paths), filename=True, file_row_number=True, union_by_name=True, hive_partitioning=False
        )
        names = [c for c in rel.columns if c not in _FILE_COLUMNS]
        keep = names if columns is None else [c for c in names if c in set(columns)]
        if isinstance(row_filter, ListNotEmpty):
            length = duckdb.FunctionExpression("len", duckdb.ColumnExpression(row_filter.column))
            rel = rel.filter(length > duckdb.ConstantExpression(0))
        else:
            ids = con.from_arrow(pa.table({row_filter.column: pa.array(row_filter.values, type=pa.string())}))
            rel = rel.join(ids, row_filter.column, how="semi")
        got = rel.select(*[duckdb.ColumnExpression(c) for c in [*keep, *_FILE_COLUMNS]]).to_arrow_table()
    except duckdb.Error:
        return None
    finally:
        con.close()
    if isinstance(got, pa.RecordBatchReader):
        got = got.read_all()
    which = pc.index_in(got.column("filename"), value_set=pa.array(list(paths), type=pa.string()))
    if which.null_count:
        return None  # a file name DuckDB spelled differently: take the pyarrow path
    order = pc.sort_indices(
        pa.table({"f": which, "r": got.column("file_row_number")}), sort_keys=[("f", "ascending"), ("r", "ascending")]
    )
    got = got.drop_columns(list(_FILE_COLUMNS)).take(order)
    physical = pq.read_schema(paths[0])
    fields = [physical.field(c) if c in physical.names else got.schema.field(c) for c in got.column_names]
    got = got.cast(pa.schema(fields))
    counts = np.bincount(which.to_numpy(zero_copy_only=False), minlength=len(paths))
    starts = np.concatenate([[0], np.cumsum(counts)])
    return [got.slice(int(starts[i]), int(counts[i])) for i in range(len(paths))]


def _read_filtered(
    fs: AbstractFileSystem,
    paths: Sequence[str],
    columns: Sequence[str] | None,
    row_filter: RowFilter,
    duck: duck_lib.DuckSettings | None = None,
) -> list[pa.Table]:
    """Each file's rows that satisfy ``row_filter`` (a pyarrow compute expression over the file's columns, or an
    ``IdsIn``/``ListNotEmpty``), only ``columns`` of them: the filter is evaluated by the scanner batch by batch,
    so only the kept rows are materialized (the filter may use columns outside ``columns``). Local files with an
    ``IdsIn``/``ListNotEmpty`` are scanned by DuckDB, everything else by the Arrow scanner."""
    if isinstance(row_filter, (IdsIn, ListNotEmpty)):
        if _is_local(fs) and len(paths) > 1:
            tables = _read_filtered_duckdb(paths, columns, row_filter, duck)
            if tables is not None:
                return tables
        row_filter = row_filter.expression()
    fmt = pads.ParquetFileFormat()
    local = pafs.LocalFileSystem() if _is_local(fs) else None
    out = []
    for p in paths:
        if local is not None:
            frag = fmt.make_fragment(p, filesystem=local)
        else:
            frag = fmt.make_fragment(pa.BufferReader(fs.cat_file(p)))
        names = frag.physical_schema.names
        out.append(frag.to_table(columns=_project(columns, names) if columns is not None else names, filter=row_filter))
    return out


def _read_heads(
    fs: AbstractFileSystem, paths: Sequence[str], columns: Sequence[str] | None, limit: int
) -> list[pa.Table]:
    """The first ``limit`` rows of each file (only ``columns``): only the start of the first row group is decoded
    (a column that is constant per partition, such as comment_state's ``base_sd``, is then read in microseconds
    instead of decoding 24 M values)."""
    out = []
    for p in paths:
        with open(p, "rb") if _is_local(fs) else fs.open(p, "rb") as fh:
            f = pq.ParquetFile(fh)
            cols = _project(columns, f.schema_arrow.names)
            if cols == []:  # none of the columns asked for: the rows, without columns
                out.append(f.read(columns=[]).slice(0, limit))
                continue
            schema = f.schema_arrow if cols is None else pa.schema([f.schema_arrow.field(c) for c in cols])
            batch = next(f.iter_batches(batch_size=limit, columns=cols), None)
            out.append(
                schema.empty_table() if batch is None else pa.Table.from_batches([batch.slice(0, limit)], schema)
            )
    return out


def _read_files(
    fs: AbstractFileSystem,
    paths: Sequence[str],
    columns: Sequence[str] | None = None,
    row_filter: RowFilter | None = None,
    limit: int | None = None,
    duck: duck_lib.DuckSettings | None = None,
) -> list[pa.Table]:
    if not paths:
        return []
    if limit is not None:
        if row_filter is not None:
            raise ValueError("a read takes a row filter or a row limit, not both")
        return _read_heads(fs, paths, columns, limit)
    if row_filter is not None:
        return _read_filtered(fs, paths, columns, row_filter, duck)
    if _is_local(fs):
        if columns is None:
            return [pq.read_table(p, partitioning=None) for p in paths]
        out = []
        for p in paths:
            f = pq.ParquetFile(p)
            out.append(f.read(columns=_project(columns, f.schema_arrow.names)))
        return out
    blobs = fs.cat(list(paths)) if len(paths) > 1 else {paths[0]: fs.cat_file(paths[0])}
    by_name = {k.rstrip("/"): v for k, v in blobs.items()}
    out = []
    for p in paths:
        blob = by_name.get(p)
        if blob is None:  # some filesystems return names with their protocol
            blob = next(v for k, v in by_name.items() if k.endswith(p))
        if columns is None:
            out.append(pq.read_table(pa.BufferReader(blob)))
        else:
            f = pq.ParquetFile(pa.BufferReader(blob))
            out.append(f.read(columns=_project(columns, f.schema_arrow.names)))
    return out


def _to_pandas(table: pa.Table, name: str | None = None, distinct: Sequence[str] = ()) -> pd.DataFrame:
    """A warehouse table as pandas. ``distinct``: text columns whose values are known to be distinct (a partition's
    own id): converted without pyarrow's de-duplication of equal strings, which hashes every value to share the
    objects of equal ones and, on distinct ids, only costs: 0.09 s against 0.31 s per 1M note ids (measured
    alone). Repeated text (user ids in notes, categories) keeps it, so equal strings stay one object."""
    spec = TABLES.get(name) if name else None
    if spec is not None and spec.numpy_ints:
        # one block per column: the plain conversion copies the columns once more into 2-D blocks by dtype (0.58-
        # 0.79 s against 0.09-0.11 s for 24 M rows x 7 numeric columns, the comment state's reads). The arrays of
        # a single-chunk column may then be Arrow's own, read-only: the state code builds new arrays, never
        # writes into what it reads.
        options: dict[str, Any] = {"types_mapper": _NUMPY_INT_TYPES.get, "date_as_object": True, "split_blocks": True}
    else:
        options = {"types_mapper": _PANDAS_TYPES.get, "date_as_object": True}
    names = table.column_names
    distinct = [c for c in names if c in set(distinct) and pa.types.is_string(table.schema.field(c).type)]
    lists = [
        c for c in names if spec is not None and c in spec.arrow_lists and pa.types.is_list(table.schema.field(c).type)
    ]
    if not distinct and not lists:
        return table.to_pandas(**options)
    rest = table.drop_columns(distinct + lists)
    df = rest.to_pandas(**options) if rest.num_columns else pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    for c in names:  # in table order: each goes back to its own position
        if c in distinct:
            df.insert(names.index(c), c, table.column(c).to_pandas(deduplicate_objects=False).to_numpy())
        elif c in lists:  # the Arrow list as it is (TableSpec.arrow_lists): no numpy array per row
            df.insert(names.index(c), c, pd.Series(pd.arrays.ArrowExtensionArray(table.column(c)), index=df.index))
    return df


def _distinct_columns(table: str, partitions: int) -> list[str]:
    """The text column whose values are distinct within one partition of ``table``: its key besides snapshot_date
    (note_id of notes, note_state and note_metrics; comment_id of comments; user_id of creators). Only for a read
    of one partition: over several days the same id repeats, and sharing the equal strings saves memory."""
    spec = TABLES.get(table)
    if spec is None or partitions != 1:
        return []
    keys = [k for k in spec.keys if k != PARTITION_COLUMN]
    return keys if len(keys) == 1 else []


def _empty_partitioned(table: str) -> pd.DataFrame:
    spec = TABLES.get(table)
    if spec is not None:
        empty = _to_pandas(spec.schema.empty_table(), table)
        if spec.day_categorical and PARTITION_COLUMN in empty.columns:  # the dtype of a non-empty read
            empty[PARTITION_COLUMN] = pd.Categorical([], categories=pd.Index([], dtype=object))
        return empty
    return pd.DataFrame({PARTITION_COLUMN: pd.Series([], dtype=object)})


def _column_order(names: Sequence[str], table: str) -> list[str]:
    """``names`` in the order of the table's schema, columns it does not know at the end."""
    spec = TABLES.get(table)
    if spec is None:
        return list(names)
    present = set(names)
    first = [c for c in spec.column_names if c in present]
    return first + [c for c in names if c not in set(first)]


def _order_columns(table: pa.Table, name: str) -> pa.Table:
    order = _column_order(table.column_names, name)
    return table if order == table.column_names else table.select(order)


def _read_partitioned(
    fs: AbstractFileSystem,
    listing: _Listing,
    table: str,
    keys: Iterable[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    columns: Sequence[str] | None = None,
    row_filter: RowFilter | None = None,
    limit: int | None = None,
    duck: duck_lib.DuckSettings | None = None,
) -> pd.DataFrame:
    """Read the partitions of ``table`` that exist among ``keys`` (all when None) within [start, end] as one frame
    (only ``columns`` of each file, and snapshot_date, when given; only the rows satisfying ``row_filter``; only
    the first ``limit`` rows of each file)."""
    available = listing.readable_partitions()
    wanted = sorted(available if keys is None else set(keys) & available.keys())
    if start is not None:
        wanted = [k for k in wanted if k >= start]
    if end is not None:
        wanted = [k for k in wanted if k <= end]
    paths = [p for k in wanted for p in available[k]]
    owners = [k for k in wanted for _ in available[k]]
    parts = _read_files(fs, paths, columns, row_filter, limit, duck)
    parts = [t.drop_columns([PARTITION_COLUMN]) if PARTITION_COLUMN in t.column_names else t for t in parts]
    if not parts or sum(t.num_rows for t in parts) == 0:
        if columns is not None:
            empty = _empty_partitioned(table)
            return empty[[c for c in empty.columns if c in set(columns) or c == PARTITION_COLUMN]]
        if TABLES.get(table) is None and available:
            # an unknown table: take its columns from any stored partition rather than returning no columns
            sample = parts[0] if parts else _read_files(fs, available[max(available)][:1])[0]
            sample = sample.drop_columns([c for c in sample.column_names if c == PARTITION_COLUMN])
            empty = sample.schema.empty_table().append_column(
                pa.field(PARTITION_COLUMN, pa.date32()), pa.array([], type=pa.date32())
            )
            return _to_pandas(empty)
        return _empty_partitioned(table)
    combined = _order_columns(pa.concat_tables(parts, promote_options="permissive"), table)
    df = _to_pandas(combined, table, _distinct_columns(table, len(wanted)))
    # snapshot_date as date objects, one per partition shared by its rows (Arrow would make a Python object per
    # row: 24 M of them for one day of comment_state); a Categorical of them for a spec with `day_categorical`
    counts = [t.num_rows for t in parts]
    spec = TABLES.get(table)
    if spec is not None and spec.day_categorical:
        days = sorted(set(owners))
        code = {k: i for i, k in enumerate(days)}
        codes = np.repeat(np.array([code[k] for k in owners], dtype=np.int32), counts)
        values = pd.Categorical.from_codes(
            codes, categories=pd.Index([dt.date.fromisoformat(k) for k in days], dtype=object)
        )
    else:
        values = np.repeat(np.array([dt.date.fromisoformat(k) for k in owners], dtype=object), counts)
    names = _column_order(combined.column_names + [PARTITION_COLUMN], table)
    df.insert(names.index(PARTITION_COLUMN), PARTITION_COLUMN, values)
    nbytes = combined.nbytes
    del parts, combined  # the Arrow tables read: freed, then their pages handed back (allocator.py)
    allocator.release_arrow_memory(nbytes)
    return df


def _read_single(fs: AbstractFileSystem, path: str, table: str) -> pd.DataFrame:
    """Read one Parquet file; a missing file of a known table is its empty frame (brand files are optional)."""
    if not fs.exists(path):
        spec = TABLES.get(table)
        if spec is not None:
            return _to_pandas(spec.schema.empty_table(), table)
        raise FileNotFoundError(f"warehouse table {table!r} has no file at {path}")
    (arrow,) = _read_files(fs, [path])
    return _to_pandas(_order_columns(arrow, table), table)


def _check_range(start: str | None, end: str | None) -> None:
    for v in (start, end):
        if v is not None:
            _check_day_key(v)
    if start is not None and end is not None and start > end:
        raise ValueError(f"start {start} is after end {end}")


def read_table(
    base_path: str,
    table: str,
    start: str | None = None,
    end: str | None = None,
    storage_options: dict | None = None,
) -> pd.DataFrame:
    """Read a warehouse table outside Dagster, with the IO manager's own reading code.

    A partitioned table (known as such in ``TABLES``, or any table with ``snapshot_date=`` folders) is returned
    with its ``snapshot_date`` column, restricted to days in [start, end] (inclusive, ``YYYY-MM-DD``); no rows ->
    the table's empty frame. An unpartitioned table is ``<table>/<table>.parquet`` (start/end ignored); missing ->
    the empty frame of a known table, FileNotFoundError for an unknown one.
    """
    _check_range(start, end)
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    table_dir = _fs_path(base / table)
    listing = _Listing(fs, table_dir)
    spec = TABLES.get(table)
    partitioned = spec.partitioned if spec is not None else bool(listing.partition_dirs)
    if partitioned:
        if spec is None and not listing.exists:
            raise FileNotFoundError(f"warehouse table {table!r} not found at {table_dir}")
        return _read_partitioned(fs, listing, table, None, start, end)
    return _read_single(fs, posixpath.join(table_dir, f"{table}.parquet"), table)


def list_partitions(base_path: str, table: str, storage_options: dict | None = None) -> list[str]:
    """Sorted partition keys (``YYYY-MM-DD``) of a table that hold at least one Parquet file."""
    base = make_base_path(base_path, storage_options)
    return sorted(_Listing(base.fs, _fs_path(base / table)).readable_partitions())


def partition_rows(base_path: str, table: str, key: str, storage_options: dict | None = None) -> int:
    """Rows of one partition from the Parquet footers (no data read); 0 when the partition has no file."""
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    paths = _Listing(fs, _fs_path(base / table)).readable_partitions().get(_check_day_key(key), [])
    total = 0
    for path in paths:
        with fs.open(path, "rb") as fh:
            total += pq.ParquetFile(fh).metadata.num_rows
    return total


def read_column(
    base_path: str,
    table: str,
    column: str,
    start: str | None = None,
    end: str | None = None,
    storage_options: dict | None = None,
) -> pd.Series:
    """One column of a partitioned table over the days in [start, end] (all days when None), reading only that
    column of each file: for look-ups such as "which note ids are known"."""
    _check_range(start, end)
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    available = _Listing(fs, _fs_path(base / table)).readable_partitions()
    keys = [k for k in sorted(available) if (start is None or k >= start) and (end is None or k <= end)]
    arrays = []
    for k in keys:
        for path in available[k]:
            with fs.open(path, "rb") as fh:
                arrays.append(pq.read_table(fh, columns=[column]).column(column))
    if not arrays:
        return pd.Series([], dtype=object, name=column)
    return pd.Series(pa.chunked_array([c for a in arrays for c in a.chunks]).to_pylist(), dtype=object, name=column)


def present_values(
    base_path: str,
    table: str,
    column: str,
    values: Iterable[Any],
    storage_options: dict | None = None,
    start: str | None = None,
    end: str | None = None,
) -> set:
    """The subset of ``values`` that occur in ``column`` of a partitioned table (on the days in [start, end]; any
    day when None). Partitions are scanned newest first, only the rows holding one of the values still missing,
    and the scan stops as soon as every value was found: when they all occur recently (campaign notes are
    crawled), the cost does not grow with history."""
    _check_range(start, end)
    missing = {v for v in values if not pd.isna(v)}
    found: set = set()
    if not missing:
        return found
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    available = _Listing(fs, _fs_path(base / table)).readable_partitions()
    keys = [k for k in available if (start is None or k >= start) and (end is None or k <= end)]
    for k in sorted(keys, reverse=True):
        for t in _read_files(fs, available[k], [column], pc.field(column).isin(sorted(missing))):
            hit = set(t.column(column).to_pylist())
            found |= hit
            missing -= hit
        if not missing:
            break
    return found


# ---------------------------------------------------------------------------------------------------- metadata


def _column_schema(table: str, arrow_schema: pa.Schema) -> dg.TableSchema:
    spec: TableSpec | None = TABLES.get(table)
    if spec is not None:
        cols = [dg.TableColumn(c.name, str(c.type), description=c.description) for c in spec.columns]
        known = set(spec.column_names)
        cols += [dg.TableColumn(f.name, str(f.type)) for f in arrow_schema if f.name not in known]
    else:
        cols = [dg.TableColumn(f.name, str(f.type)) for f in arrow_schema]
    return dg.TableSchema(columns=cols)


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple, np.ndarray)):
        text = "[" + ", ".join(str(v) for v in value) + "]"
    elif value is None or (not isinstance(value, str) and pd.isna(value)):
        text = ""
    else:
        text = str(value)
    text = text.replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    return text if len(text) <= _PREVIEW_CELL else text[: _PREVIEW_CELL - 1] + "…"


def _preview_markdown(df: pd.DataFrame) -> str:
    head = df.head(_PREVIEW_ROWS)
    cols = [str(c).replace("|", "\\|") for c in head.columns]
    if not cols:
        return "(no columns)"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in head.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if head.empty:
        lines.append("| " + " | ".join("" for _ in cols) + " |  (no rows)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ lazy inputs


class PartitionedInput:
    """A lazy handle on the upstream partitions an asset declared (``AssetIn(metadata={"lazy": True})``): nothing
    is read until ``read`` (pandas) or ``relation`` (a DuckDB relation) is called, and then only the days and
    columns asked for. ``duck``: the bounds of the DuckDB connection ``read`` may open (lib/duck.py)."""

    def __init__(
        self,
        fs: AbstractFileSystem,
        table_dir: str,
        table: str,
        keys: Sequence[str],
        duck: duck_lib.DuckSettings | None = None,
    ):
        self._fs = fs
        self._duck = duck
        self._table_dir = table_dir
        self.table = table
        #: the partition keys the asset declared (its partition mapping), sorted
        self.keys: list[str] = sorted(keys)
        self._listing: _Listing | None = None

    @property
    def duck_settings(self) -> duck_lib.DuckSettings | None:
        """The DuckDB bounds the warehouse IO manager was configured with (its ``duckdb_config``): open the
        connection for ``relation`` with ``lib.duck.connect(handle.duck_settings)``."""
        return self._duck

    def _list(self) -> _Listing:
        if self._listing is None:
            self._listing = _Listing(self._fs, self._table_dir)
        return self._listing

    def available(self) -> list[str]:
        """The declared keys that hold a stored Parquet file, sorted."""
        stored = self._list().readable_partitions()
        return [k for k in self.keys if k in stored]

    def read(
        self,
        keys: Iterable[str] | None = None,
        columns: Sequence[str] | None = None,
        row_filter: RowFilter | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """The declared partitions among ``keys`` (all declared when None) as one frame with snapshot_date;
        only ``columns`` when given, only the rows satisfying ``row_filter`` when given: ``IdsIn.of("note_id",
        ids)``, ``ListNotEmpty("brands")`` (scanned by DuckDB in a local warehouse) or any ``pyarrow.compute``
        expression (the Arrow scanner). ``limit``: only the first ``limit`` rows of each partition file (not
        with a row filter). Keys outside the declaration are an error (lineage
        must stay true)."""
        wanted = self.keys if keys is None else sorted(set(keys))
        undeclared = sorted(set(wanted) - set(self.keys))
        if undeclared:
            raise KeyError(f"{self.table}: partitions {undeclared[:5]} are not among the declared upstream partitions")
        return _read_partitioned(
            self._fs,
            self._list(),
            self.table,
            wanted,
            columns=columns,
            row_filter=row_filter,
            limit=limit,
            duck=self._duck,
        )

    def relation(
        self, con: Any, columns: Sequence[str] | None = None, start: str | None = None, end: str | None = None
    ) -> Any:
        """The declared partitions within [start, end] (``YYYY-MM-DD``, inclusive; all declared when None) as a
        lazy DuckDB relation on ``con`` (a ``duckdb.DuckDBPyConnection``, best from ``lib/duck.connect``), with
        only ``columns`` (all when None) and ``snapshot_date`` (DATE, from the hive folder names). Nothing is read
        until the relation is queried; DuckDB then reads only those files and columns, and can skip row groups by
        the query's filters. The file list goes into the query as a parameter. A warehouse on another fsspec
        filesystem (``s3://``, ``memory://``) is read through that filesystem, registered on ``con``. No stored
        partition: an empty relation with the table's columns (known tables) and their types."""
        _check_range(start, end)
        keys = [k for k in self.keys if (start is None or k >= start) and (end is None or k <= end)]
        stored = self._list().readable_partitions()
        paths = [p for k in keys for p in stored.get(k, [])]
        spec = TABLES.get(self.table)
        if columns is not None and spec is not None:
            unknown = sorted(set(columns) - set(spec.column_names) - {PARTITION_COLUMN})
            if unknown:
                raise KeyError(f"{self.table}: no column(s) {unknown}")
        names = None if columns is None else [c for c in columns if c != PARTITION_COLUMN] + [PARTITION_COLUMN]
        if not paths:
            return con.from_arrow(_empty_arrow(self.table, names))
        if not _is_local(self._fs):
            duck_lib.register_filesystems(con, [self._fs])
            paths = [self._fs.unstrip_protocol(p) for p in paths]
        select = "*" if names is None else ", ".join(_quote_ident(c) for c in names)
        return con.sql(
            f"SELECT {select} FROM read_parquet($files, hive_partitioning = true, union_by_name = true, "
            f"hive_types = {{'{PARTITION_COLUMN}': DATE}})",
            params={"files": paths},
        )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_arrow(table: str, columns: Sequence[str] | None) -> pa.Table:
    """No rows, with the columns a stored partition of ``table`` would give (and snapshot_date as date32)."""
    spec = TABLES.get(table)
    schema = spec.schema if spec is not None else pa.schema([])
    fields = [f for f in schema if f.name != PARTITION_COLUMN] + [pa.field(PARTITION_COLUMN, pa.date32())]
    if columns is not None:
        by_name = {f.name: f for f in fields}
        fields = [by_name.get(c, pa.field(c, pa.null())) for c in columns]
    return pa.schema(fields).empty_table()


# -------------------------------------------------------------------------------------------------- IO manager


class ParquetIOManager(dg.UPathIOManager):
    """Stores asset outputs (pandas DataFrames; Arrow tables and DuckDB relations, written by DuckDB) as Parquet tables
    in the warehouse layout described above.

    Unlike the stock UPathIOManager it accepts outputs covering many daily partitions at once (single-run
    backfills) and loads any number of upstream partitions as one DataFrame (never a dict of partitions).
    """

    extension = ".parquet"

    def __init__(self, base_path: UPath | None = None, duck: duck_lib.DuckSettings | None = None):
        super().__init__(base_path=base_path if base_path is not None else make_base_path("."))
        #: bounds of the DuckDB connections the reads open (None: lib/duck.py's environment defaults)
        self.duck = duck

    # --- paths -------------------------------------------------------------------------------------------
    @property
    def base_path(self) -> UPath:
        return self._base_path

    def table_dir(self, table: str) -> UPath:
        """``<base>/<table>``."""
        return self._base_path / table

    def get_asset_relative_path(self, context: dg.InputContext | dg.OutputContext) -> UPath:
        table = context.asset_key.path[-1]
        return UPath(table, table)

    # --- single files (unpartitioned assets, op outputs) -------------------------------------------------
    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        table = context.asset_key.path[-1] if context.has_asset_key else path.stem
        _write_atomic(self.fs, _to_arrow(obj, table), _fs_path(path))

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        table = context.asset_key.path[-1] if context.has_asset_key else path.stem
        return _read_single(self.fs, _fs_path(path), table)

    # --- output ------------------------------------------------------------------------------------------
    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | DuckOutput) -> None:
        if not context.has_asset_key:
            super().handle_output(context, obj)
            return
        if isinstance(obj, (pa.Table, pa.RecordBatchReader, duckdb.DuckDBPyRelation)):
            self._handle_duck_output(context, obj)
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()}: the warehouse IO manager stores pandas DataFrames, Arrow "
                f"tables or DuckDB relations, got {type(obj).__name__}"
            )
        table = context.asset_key.path[-1]
        fs = self.fs
        table_dir = _fs_path(self.table_dir(table))
        listing = _Listing(fs, table_dir)
        arrow = _to_arrow(obj, table)
        column_schema = _column_schema(table, arrow.schema)
        if context.has_asset_partitions:
            written, empty, nbytes = self._write_partitions(context, obj, arrow, table, listing)
        else:
            final = posixpath.join(table_dir, f"{table}.parquet")
            nbytes = _write_atomic(fs, arrow, final, table)
            # drop anything else in the folder (e.g. hive folders of a formerly partitioned version)
            stale = [p for p in listing.top_level if p.rstrip("/") != final]
            _remove_quietly(fs, stale, recursive=True)
            written, empty = 1, 0
        arrow_bytes = arrow.nbytes
        del arrow  # the conversion written: freed, then its pages handed back (allocator.py)
        allocator.release_arrow_memory(arrow_bytes)
        context.log.info(
            f"{table}: wrote {len(obj)} rows to {str(self.table_dir(table))} "
            f"({written} file(s), {empty} empty partition(s) removed or skipped, {nbytes} bytes)"
        )
        metadata: dict[str, Any] = {
            "path": dg.MetadataValue.path(str(self.table_dir(table))),
            "partitions_written": dg.MetadataValue.int(written),
            "partitions_empty": dg.MetadataValue.int(empty),
            "bytes": dg.MetadataValue.int(nbytes),
        }
        # Dagster copies output metadata onto every partition's materialization event of a ranged run, and each
        # stored event costs time: the row count (which would be the whole range's), the schema and the preview
        # are only attached when the output is one partition or unpartitioned. Assets record per-partition row
        # counts themselves (context.add_asset_metadata(partition_key=...)); the schema is definition metadata.
        if not context.has_asset_partitions or len(context.asset_partition_keys) == 1:
            metadata.update(
                {
                    "dagster/row_count": dg.MetadataValue.int(len(obj)),
                    "dagster/column_schema": dg.MetadataValue.table_schema(column_schema),
                    "preview": dg.MetadataValue.md(_preview_markdown(obj)),
                }
            )
        context.add_output_metadata(metadata)

    def _write_partitions(
        self,
        context: dg.OutputContext,
        obj: pd.DataFrame,
        arrow: pa.Table,
        table: str,
        listing: _Listing,
    ) -> tuple[int, int, int]:
        fs = self.fs
        run_keys = [_check_day_key(k) for k in context.asset_partition_keys]
        run_set = set(run_keys)
        if len(obj) and PARTITION_COLUMN not in obj.columns:
            raise ValueError(
                f"{table}: a partitioned output needs a {PARTITION_COLUMN!r} column to say which day each row "
                f"belongs to (run partitions {run_keys[0]} .. {run_keys[-1]})"
            )
        day_keys, order, sizes = _day_groups(obj[PARTITION_COLUMN]) if len(obj) else ([], np.array([]), [])
        outside = sorted(set(day_keys) - run_set)
        if outside:
            raise ValueError(
                f"{table}: {len(outside)} {PARTITION_COLUMN} value(s) outside the run's partitions "
                f"{min(run_keys)} .. {max(run_keys)} ({len(run_keys)} day(s)): {outside[:5]}"
            )
        body = arrow.drop_columns([PARTITION_COLUMN]) if PARTITION_COLUMN in arrow.column_names else arrow
        table_dir = listing.table_dir
        # a formerly unpartitioned version of the table would be read alongside the hive folders
        _remove_quietly(fs, [p for p in listing.top_level if posixpath.basename(p) == f"{table}.parquet"])
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)

        def write_day(i: int) -> int:
            key = day_keys[i]
            rows = body if order is None else body.take(pa.array(order[offsets[i] : offsets[i + 1]]))
            final = posixpath.join(table_dir, _PREFIX + key, PART_FILE)
            size = _write_atomic(fs, rows, final, table)
            stale = [p for p in listing.partition_files.get(key, []) if posixpath.basename(p) != PART_FILE]
            _remove_quietly(fs, stale)
            return size

        if len(day_keys) <= 1:
            sizes_written = [write_day(i) for i in range(len(day_keys))]
        else:  # parquet encoding releases the GIL and object-store PUTs are latency bound: write days in parallel
            with ThreadPoolExecutor(max_workers=min(_WRITE_THREADS, len(day_keys))) as pool:
                sizes_written = list(pool.map(write_day, range(len(day_keys))))
        written, nbytes = len(sizes_written), int(sum(sizes_written))
        empty_keys = run_set - set(day_keys)
        gone = [posixpath.join(table_dir, _PREFIX + k) for k in sorted(empty_keys & listing.partition_dirs)]
        _remove_quietly(fs, gone, recursive=True)
        return written, len(empty_keys), nbytes

    # --- output written by DuckDB (Arrow tables, DuckDB relations) ----------------------------------------
    def _handle_duck_output(self, context: dg.OutputContext, obj: DuckOutput) -> None:
        """An Arrow table, record batch stream or DuckDB relation, written by DuckDB (``duck_write.py``) into the
        same layout, types and metadata as a pandas output: staged (``duck_write.stage``), checked (every row's day among the run's), then each day's file committed over the old one
        (``os.replace`` locally; one upload per file on an object store)."""
        table = context.asset_key.path[-1]
        fs = self.fs
        table_dir = _fs_path(self.table_dir(table))
        listing = _Listing(fs, table_dir)
        partitioned = context.has_asset_partitions
        run_keys = [_check_day_key(k) for k in context.asset_partition_keys] if partitioned else []
        con = None
        try:
            if isinstance(obj, duckdb.DuckDBPyRelation):
                rel = obj
            else:
                con = duck_lib.connect(self.duck)
                rel = con.from_arrow(obj)
            staging = self._staging_dir(table)
            try:
                try:
                    if partitioned and PARTITION_COLUMN not in rel.columns:
                        raise ValueError(
                            f"{table}: a partitioned output needs a {PARTITION_COLUMN!r} column to say which day "
                            f"each row belongs to (run partitions {run_keys[0]} .. {run_keys[-1]})"
                        )
                    rel = duck_write.conform_relation(rel, TABLES.get(table), PARTITION_COLUMN if partitioned else None)
                    staged = duck_write.stage(
                        rel, staging, PARTITION_COLUMN if partitioned else None, run_keys, self.duck, table
                    )
                except duckdb.ConnectionException as exc:
                    raise ValueError(
                        f"{table}: the DuckDB relation's connection was closed before the IO manager wrote it: return "
                        "the relation with its connection still open (no `with duck.connect(...)` around the return), "
                        "or return relation.to_arrow_table()"
                    ) from exc
                if partitioned:
                    _check_staged_days(table, staged, run_keys)
                schema = pq.read_schema(staged[0].path) if staged else _empty_arrow(table, None).schema
                preview = _staged_preview(staged[0], table) if staged else _preview_markdown(_empty_partitioned(table))
                if partitioned:
                    written, empty, nbytes = self._commit_days(table_dir, table, staged, run_keys, listing)
                else:
                    final = posixpath.join(table_dir, f"{table}.parquet")
                    self._commit_file(staged[0].path, final)
                    _remove_quietly(fs, [p for p in listing.top_level if p.rstrip("/") != final], recursive=True)
                    written, empty, nbytes = 1, 0, staged[0].size
            finally:
                duck_write.remove_staging(staging)
        finally:
            if con is not None:
                con.close()
        rows = sum(f.rows for f in staged)
        context.log.info(
            f"{table}: wrote {rows} rows to {str(self.table_dir(table))} by DuckDB "
            f"({written} file(s), {empty} empty partition(s) removed or skipped, {nbytes} bytes)"
        )
        metadata: dict[str, Any] = {
            "path": dg.MetadataValue.path(str(self.table_dir(table))),
            "partitions_written": dg.MetadataValue.int(written),
            "partitions_empty": dg.MetadataValue.int(empty),
            "bytes": dg.MetadataValue.int(nbytes),
        }
        if not partitioned or len(run_keys) == 1:
            metadata.update(
                {
                    "dagster/row_count": dg.MetadataValue.int(rows),
                    "dagster/column_schema": dg.MetadataValue.table_schema(_column_schema(table, schema)),
                    "preview": dg.MetadataValue.md(preview),
                }
            )
        else:  # a ranged output: each day's own row count, which a pandas asset records with per_partition_counts
            _record_day_counts(context, {f.key: f.rows for f in staged if f.key is not None})
        context.add_output_metadata(metadata)

    def _staging_dir(self, table: str) -> str:
        """Where DuckDB writes before the commit: locally ``<base>/.staging/<table>-<uuid>`` (the same filesystem,
        so the commit is a rename; outside the table's folder, so that no ``<table>/**/*.parquet`` glob sees a
        file DuckDB is still writing), for any other filesystem a local temporary folder (DuckDB writes local
        files; the commit uploads them)."""
        name = f"{table}-{uuid.uuid4().hex}"
        if _is_local(self.fs):
            root = os.path.join(_fs_path(self._base_path), STAGING_DIR)
            os.makedirs(root, exist_ok=True)
            return os.path.join(root, name)
        root = os.path.join(tempfile.gettempdir(), "kol_pipeline_staging")
        os.makedirs(root, exist_ok=True)
        return os.path.join(root, name)

    def _commit_file(self, staged: str, final: str) -> None:
        """Move or upload one staged local file over ``final`` so that readers see the old or the new file, never
        a part of one: ``os.replace`` locally; one PUT (or multipart upload, which completes atomically) on an
        object store; an upload to a hidden temporary name and a move on any other filesystem."""
        fs = self.fs
        folder = posixpath.dirname(final)
        if _is_local(fs):
            os.makedirs(folder, exist_ok=True)
            os.replace(staged, final)
            return
        if _is_object_store(fs):
            fs.put_file(staged, final)
            return
        fs.makedirs(folder, exist_ok=True)
        tmp = posixpath.join(folder, f".{posixpath.basename(final)}.tmp-{uuid.uuid4().hex}")
        fs.put_file(staged, tmp)
        _commit(fs, tmp, final)

    def _commit_days(
        self, table_dir: str, table: str, staged: Sequence[duck_write.StagedFile], run_keys: Sequence[str], listing
    ) -> tuple[int, int, int]:
        """Commit each staged day over its partition (days in parallel on a remote filesystem), remove the files
        the new version does not have, and the folders of the run's days without rows."""
        fs = self.fs
        _remove_quietly(fs, [p for p in listing.top_level if posixpath.basename(p) == f"{table}.parquet"])

        def commit(f: duck_write.StagedFile) -> None:
            self._commit_file(f.path, posixpath.join(table_dir, _PREFIX + str(f.key), PART_FILE))
            stale = [p for p in listing.partition_files.get(str(f.key), []) if posixpath.basename(p) != PART_FILE]
            _remove_quietly(fs, stale)

        if _is_local(fs) or len(staged) <= 1:
            for f in staged:
                commit(f)
        else:
            with ThreadPoolExecutor(max_workers=min(_WRITE_THREADS, len(staged))) as pool:
                list(pool.map(commit, staged))
        empty_keys = set(run_keys) - {str(f.key) for f in staged}
        gone = [posixpath.join(table_dir, _PREFIX + k) for k in sorted(empty_keys & listing.partition_dirs)]
        _remove_quietly(fs, gone, recursive=True)
        return len(staged), len(empty_keys), int(sum(f.size for f in staged))

    # --- input -------------------------------------------------------------------------------------------
    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        if not context.has_asset_key:
            return super().load_input(context)
        table = context.asset_key.path[-1]
        table_dir = _fs_path(self.table_dir(table))
        meta = context.definition_metadata or {}
        columns = meta.get("columns")
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            if meta.get("lazy"):
                return PartitionedInput(self.fs, table_dir, table, keys, duck=self.duck)
            if not keys:
                return _empty_partitioned(table)
            listing = _Listing(self.fs, table_dir)
            return _read_partitioned(self.fs, listing, table, keys, columns=columns, duck=self.duck)
        df = _read_single(self.fs, posixpath.join(table_dir, f"{table}.parquet"), table)
        return df if columns is None else df[[c for c in df.columns if c in set(columns)]]


#: what an asset may return to have DuckDB write it (besides a pandas DataFrame, written by pyarrow)
DuckOutput = pa.Table | pa.RecordBatchReader | duckdb.DuckDBPyRelation


def _check_staged_days(table: str, staged: Sequence[duck_write.StagedFile], run_keys: Sequence[str]) -> None:
    """The refusal of a pandas output, before anything is committed: rows of a day outside the run's partitions
    (``duck_write.stage`` refuses rows without a day)."""
    outside = sorted(str(f.key) for f in staged if f.key not in set(run_keys))
    if outside:
        raise ValueError(
            f"{table}: {len(outside)} {PARTITION_COLUMN} value(s) outside the run's partitions "
            f"{min(run_keys)} .. {max(run_keys)} ({len(run_keys)} day(s)): {outside[:5]}"
        )


def _staged_preview(staged: duck_write.StagedFile, table: str) -> str:
    """The preview of a DuckDB-written output: the first rows of its first file (with its snapshot_date)."""
    f = pq.ParquetFile(staged.path)
    batch = next(f.iter_batches(batch_size=_PREVIEW_ROWS), None)
    head = f.schema_arrow.empty_table() if batch is None else pa.Table.from_batches([batch.slice(0, _PREVIEW_ROWS)])
    if staged.key is not None:
        day = dt.date.fromisoformat(staged.key)
        head = head.append_column(pa.field(PARTITION_COLUMN, pa.date32()), pa.array([day] * head.num_rows, pa.date32()))
    return _preview_markdown(_to_pandas(_order_columns(head, table), table))


def _record_day_counts(context: dg.OutputContext, counts: Mapping[str, int]) -> None:
    """``dagster/row_count`` on each partition's own materialization of a ranged output: 0 for every day of the
    run, then each day's rows (what ``defs/metrics/assets.per_partition_counts`` records for a pandas asset).
    Partition-scoped asset metadata belongs to the step, which the output context exposes as ``step_context``;
    without one (an output context built in a test) nothing is recorded."""
    try:
        step = context.step_context
    except dg.DagsterInvariantViolationError:
        return
    step.add_asset_metadata({"dagster/row_count": 0}, asset_key=context.asset_key)
    for key, n in counts.items():
        if n:
            step.add_asset_metadata({"dagster/row_count": int(n)}, asset_key=context.asset_key, partition_key=key)
