"""Warehouse tables between Parquet, Arrow and pandas: the registry's types on write (``to_arrow``) and on read
(``to_pandas``), the reads of partitioned tables (whole, some columns, filtered rows, first rows) and the helpers
that read the warehouse outside Dagster (``read_table``, ``list_partitions``, ``partition_rows``, ``read_column``,
``present_values``). The pandas types on read and the reading decisions are described in ``io_manager.py``'s
docstring."""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem

from kol_pipeline.lib import duck as duck_lib
from kol_pipeline.lib.schemas import TABLES, conform
from kol_pipeline.resources import allocator
from kol_pipeline.resources.storage import (
    PARTITION_COLUMN,
    Listing,
    check_day_key,
    fs_path,
    is_local,
    make_base_path,
)

_PANDAS_TYPES: dict[pa.DataType, Any] = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def to_arrow(df: pd.DataFrame, table: str) -> pa.Table:
    spec = TABLES.get(table)
    if spec is not None:
        if df.shape[1] == 0 and df.empty:
            return spec.schema.empty_table()
        return conform(df, spec)
    return pa.Table.from_pandas(df, preserve_index=False)


def day_groups(values: pd.Series) -> tuple[list[str], np.ndarray | None, np.ndarray]:
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


def read_filtered_duckdb(
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
        if is_local(fs) and len(paths) > 1:
            tables = read_filtered_duckdb(paths, columns, row_filter, duck)
            if tables is not None:
                return tables
        row_filter = row_filter.expression()
    fmt = pads.ParquetFileFormat()
    local = pafs.LocalFileSystem() if is_local(fs) else None
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
        with open(p, "rb") if is_local(fs) else fs.open(p, "rb") as fh:
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


def read_files(
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
    if is_local(fs):
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


def to_pandas(table: pa.Table, name: str | None = None, distinct: Sequence[str] = ()) -> pd.DataFrame:
    """A warehouse table as pandas. ``distinct``: text columns whose values are known to be distinct (a partition's
    own id): converted without pyarrow's de-duplication of equal strings, which hashes every value to share the
    objects of equal ones and, on distinct ids, only costs: 0.09 s against 0.31 s per 1M note ids (measured
    alone). Repeated text (user ids in notes, categories) keeps it, so equal strings stay one object."""
    spec = TABLES.get(name) if name else None
    options: dict[str, Any] = {"types_mapper": _PANDAS_TYPES.get, "date_as_object": True}
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


def empty_partitioned(table: str) -> pd.DataFrame:
    spec = TABLES.get(table)
    if spec is not None:
        return to_pandas(spec.schema.empty_table(), table)
    return pd.DataFrame({PARTITION_COLUMN: pd.Series([], dtype=object)})


def _column_order(names: Sequence[str], table: str) -> list[str]:
    """``names`` in the order of the table's schema, columns it does not know at the end."""
    spec = TABLES.get(table)
    if spec is None:
        return list(names)
    present = set(names)
    first = [c for c in spec.column_names if c in present]
    return first + [c for c in names if c not in set(first)]


def order_columns(table: pa.Table, name: str) -> pa.Table:
    order = _column_order(table.column_names, name)
    return table if order == table.column_names else table.select(order)


def read_partitioned(
    fs: AbstractFileSystem,
    listing: Listing,
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
    parts = read_files(fs, paths, columns, row_filter, limit, duck)
    parts = [t.drop_columns([PARTITION_COLUMN]) if PARTITION_COLUMN in t.column_names else t for t in parts]
    if not parts or sum(t.num_rows for t in parts) == 0:
        if columns is not None:
            empty = empty_partitioned(table)
            return empty[[c for c in empty.columns if c in set(columns) or c == PARTITION_COLUMN]]
        if TABLES.get(table) is None and available:
            # an unknown table: take its columns from any stored partition rather than returning no columns
            sample = parts[0] if parts else read_files(fs, available[max(available)][:1])[0]
            sample = sample.drop_columns([c for c in sample.column_names if c == PARTITION_COLUMN])
            empty = sample.schema.empty_table().append_column(
                pa.field(PARTITION_COLUMN, pa.date32()), pa.array([], type=pa.date32())
            )
            return to_pandas(empty)
        return empty_partitioned(table)
    combined = order_columns(pa.concat_tables(parts, promote_options="permissive"), table)
    df = to_pandas(combined, table, _distinct_columns(table, len(wanted)))
    # snapshot_date as date objects, one per partition shared by its rows (Arrow would make a Python object per
    # row: millions of them for one day of a large table)
    counts = [t.num_rows for t in parts]
    values = np.repeat(np.array([dt.date.fromisoformat(k) for k in owners], dtype=object), counts)
    names = _column_order(combined.column_names + [PARTITION_COLUMN], table)
    df.insert(names.index(PARTITION_COLUMN), PARTITION_COLUMN, values)
    nbytes = combined.nbytes
    del parts, combined  # the Arrow tables read: freed, then their pages handed back (allocator.py)
    allocator.release_arrow_memory(nbytes)
    return df


def read_single(fs: AbstractFileSystem, path: str, table: str) -> pd.DataFrame:
    """Read one Parquet file; a missing file of a known table is its empty frame (brand files are optional)."""
    if not fs.exists(path):
        spec = TABLES.get(table)
        if spec is not None:
            return to_pandas(spec.schema.empty_table(), table)
        raise FileNotFoundError(f"warehouse table {table!r} has no file at {path}")
    (arrow,) = read_files(fs, [path])
    return to_pandas(order_columns(arrow, table), table)


def check_range(start: str | None, end: str | None) -> None:
    for v in (start, end):
        if v is not None:
            check_day_key(v)
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
    check_range(start, end)
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    table_dir = fs_path(base / table)
    listing = Listing(fs, table_dir)
    spec = TABLES.get(table)
    partitioned = spec.partitioned if spec is not None else bool(listing.partition_dirs)
    if partitioned:
        if spec is None and not listing.exists:
            raise FileNotFoundError(f"warehouse table {table!r} not found at {table_dir}")
        return read_partitioned(fs, listing, table, None, start, end)
    return read_single(fs, posixpath.join(table_dir, f"{table}.parquet"), table)


def list_partitions(base_path: str, table: str, storage_options: dict | None = None) -> list[str]:
    """Sorted partition keys (``YYYY-MM-DD``) of a table that hold at least one Parquet file."""
    base = make_base_path(base_path, storage_options)
    return sorted(Listing(base.fs, fs_path(base / table)).readable_partitions())


def partition_rows(base_path: str, table: str, key: str, storage_options: dict | None = None) -> int:
    """Rows of one partition from the Parquet footers (no data read); 0 when the partition has no file."""
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    paths = Listing(fs, fs_path(base / table)).readable_partitions().get(check_day_key(key), [])
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
    check_range(start, end)
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    available = Listing(fs, fs_path(base / table)).readable_partitions()
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
    check_range(start, end)
    missing = {v for v in values if not pd.isna(v)}
    found: set = set()
    if not missing:
        return found
    base = make_base_path(base_path, storage_options)
    fs = base.fs
    available = Listing(fs, fs_path(base / table)).readable_partitions()
    keys = [k for k in available if (start is None or k >= start) and (end is None or k <= end)]
    for k in sorted(keys, reverse=True):
        for t in read_files(fs, available[k], [column], pc.field(column).isin(sorted(missing))):
            hit = set(t.column(column).to_pylist())
            found |= hit
            missing -= hit
        if not missing:
            break
    return found
