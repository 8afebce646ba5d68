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
null), floats are ``float64`` with NaN for null. A spec's ``arrow_lists`` (creator_state's ``followers_by_day``) are read as Arrow list
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
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from kol_pipeline.lib import duck as duck_lib
from kol_pipeline.lib.schemas import TABLES, TableSpec
from kol_pipeline.resources import allocator, duck_write, storage, table_io
from kol_pipeline.resources.partitioned_input import PartitionedInput, empty_arrow
from kol_pipeline.resources.storage import (
    PART_FILE,
    PARTITION_COLUMN,
    PARTITION_PREFIX,
    STAGING_DIR,
    WRITE_THREADS,
    Listing,
    check_day_key,
    commit,
    fs_path,
    is_local,
    is_object_store,
    make_base_path,
    remove_quietly,
)
from kol_pipeline.resources.table_io import (
    IdsIn,
    ListNotEmpty,
    day_groups,
    empty_partitioned,
    list_partitions,
    order_columns,
    partition_rows,
    present_values,
    read_column,
    read_partitioned,
    read_single,
    read_table,
)

#: the IO manager's module is where callers find the warehouse's public API (names re-exported from storage.py,
#: table_io.py and partitioned_input.py)
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

_PREVIEW_ROWS = 5


_PREVIEW_CELL = 40


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
        storage.write_atomic(self.fs, table_io.to_arrow(obj, table), fs_path(path))

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        table = context.asset_key.path[-1] if context.has_asset_key else path.stem
        return read_single(self.fs, fs_path(path), table)

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
        table_dir = fs_path(self.table_dir(table))
        listing = Listing(fs, table_dir)
        arrow = table_io.to_arrow(obj, table)
        column_schema = _column_schema(table, arrow.schema)
        if context.has_asset_partitions:
            written, empty, nbytes = self._write_partitions(context, obj, arrow, table, listing)
        else:
            final = posixpath.join(table_dir, f"{table}.parquet")
            nbytes = storage.write_atomic(fs, arrow, final, table)
            # drop anything else in the folder (e.g. hive folders of a formerly partitioned version)
            stale = [p for p in listing.top_level if p.rstrip("/") != final]
            remove_quietly(fs, stale, recursive=True)
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
        listing: Listing,
    ) -> tuple[int, int, int]:
        fs = self.fs
        run_keys = [check_day_key(k) for k in context.asset_partition_keys]
        run_set = set(run_keys)
        if len(obj) and PARTITION_COLUMN not in obj.columns:
            raise ValueError(
                f"{table}: a partitioned output needs a {PARTITION_COLUMN!r} column to say which day each row "
                f"belongs to (run partitions {run_keys[0]} .. {run_keys[-1]})"
            )
        day_keys, order, sizes = day_groups(obj[PARTITION_COLUMN]) if len(obj) else ([], np.array([]), [])
        outside = sorted(set(day_keys) - run_set)
        if outside:
            raise ValueError(
                f"{table}: {len(outside)} {PARTITION_COLUMN} value(s) outside the run's partitions "
                f"{min(run_keys)} .. {max(run_keys)} ({len(run_keys)} day(s)): {outside[:5]}"
            )
        body = arrow.drop_columns([PARTITION_COLUMN]) if PARTITION_COLUMN in arrow.column_names else arrow
        table_dir = listing.table_dir
        # a formerly unpartitioned version of the table would be read alongside the hive folders
        remove_quietly(fs, [p for p in listing.top_level if posixpath.basename(p) == f"{table}.parquet"])
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)

        def write_day(i: int) -> int:
            key = day_keys[i]
            rows = body if order is None else body.take(pa.array(order[offsets[i] : offsets[i + 1]]))
            final = posixpath.join(table_dir, PARTITION_PREFIX + key, PART_FILE)
            size = storage.write_atomic(fs, rows, final, table)
            stale = [p for p in listing.partition_files.get(key, []) if posixpath.basename(p) != PART_FILE]
            remove_quietly(fs, stale)
            return size

        if len(day_keys) <= 1:
            sizes_written = [write_day(i) for i in range(len(day_keys))]
        else:  # parquet encoding releases the GIL and object-store PUTs are latency bound: write days in parallel
            with ThreadPoolExecutor(max_workers=min(WRITE_THREADS, len(day_keys))) as pool:
                sizes_written = list(pool.map(write_day, range(len(day_keys))))
        written, nbytes = len(sizes_written), int(sum(sizes_written))
        empty_keys = run_set - set(day_keys)
        gone = [posixpath.join(table_dir, PARTITION_PREFIX + k) for k in sorted(empty_keys & listing.partition_dirs)]
        remove_quietly(fs, gone, recursive=True)
        return written, len(empty_keys), nbytes

    # --- output written by DuckDB (Arrow tables, DuckDB relations) ----------------------------------------
    def _handle_duck_output(self, context: dg.OutputContext, obj: DuckOutput) -> None:
        """An Arrow table, record batch stream or DuckDB relation, written by DuckDB (``duck_write.py``) into the
        same layout, types and metadata as a pandas output: staged (``duck_write.stage``), checked (every row's day among the run's), then each day's file committed over the old one
        (``os.replace`` locally; one upload per file on an object store)."""
        table = context.asset_key.path[-1]
        fs = self.fs
        table_dir = fs_path(self.table_dir(table))
        listing = Listing(fs, table_dir)
        partitioned = context.has_asset_partitions
        run_keys = [check_day_key(k) for k in context.asset_partition_keys] if partitioned else []
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
                schema = pq.read_schema(staged[0].path) if staged else empty_arrow(table, None).schema
                preview = _staged_preview(staged[0], table) if staged else _preview_markdown(empty_partitioned(table))
                if partitioned:
                    written, empty, nbytes = self._commit_days(table_dir, table, staged, run_keys, listing)
                else:
                    final = posixpath.join(table_dir, f"{table}.parquet")
                    self._commit_file(staged[0].path, final)
                    remove_quietly(fs, [p for p in listing.top_level if p.rstrip("/") != final], recursive=True)
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
        files; the commit uploads them). Folders a killed write left there more than a day ago are removed
        first (``duck_write.remove_stale_staging``)."""
        name = f"{table}-{uuid.uuid4().hex}"
        if is_local(self.fs):
            root = os.path.join(fs_path(self._base_path), STAGING_DIR)
            os.makedirs(root, exist_ok=True)
            duck_write.remove_stale_staging(root)
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
        if is_local(fs):
            os.makedirs(folder, exist_ok=True)
            os.replace(staged, final)
            return
        if is_object_store(fs):
            fs.put_file(staged, final)
            return
        fs.makedirs(folder, exist_ok=True)
        tmp = posixpath.join(folder, f".{posixpath.basename(final)}.tmp-{uuid.uuid4().hex}")
        fs.put_file(staged, tmp)
        commit(fs, tmp, final)

    def _commit_days(
        self, table_dir: str, table: str, staged: Sequence[duck_write.StagedFile], run_keys: Sequence[str], listing
    ) -> tuple[int, int, int]:
        """Commit each staged day over its partition (days in parallel on a remote filesystem), remove the files
        the new version does not have, and the folders of the run's days without rows."""
        fs = self.fs
        remove_quietly(fs, [p for p in listing.top_level if posixpath.basename(p) == f"{table}.parquet"])

        def commit(f: duck_write.StagedFile) -> None:
            self._commit_file(f.path, posixpath.join(table_dir, PARTITION_PREFIX + str(f.key), PART_FILE))
            stale = [p for p in listing.partition_files.get(str(f.key), []) if posixpath.basename(p) != PART_FILE]
            remove_quietly(fs, stale)

        if is_local(fs) or len(staged) <= 1:
            for f in staged:
                commit(f)
        else:
            with ThreadPoolExecutor(max_workers=min(WRITE_THREADS, len(staged))) as pool:
                list(pool.map(commit, staged))
        empty_keys = set(run_keys) - {str(f.key) for f in staged}
        gone = [posixpath.join(table_dir, PARTITION_PREFIX + k) for k in sorted(empty_keys & listing.partition_dirs)]
        remove_quietly(fs, gone, recursive=True)
        return len(staged), len(empty_keys), int(sum(f.size for f in staged))

    # --- input -------------------------------------------------------------------------------------------
    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        if not context.has_asset_key:
            return super().load_input(context)
        table = context.asset_key.path[-1]
        table_dir = fs_path(self.table_dir(table))
        meta = context.definition_metadata or {}
        columns = meta.get("columns")
        if context.has_asset_partitions:
            keys = context.asset_partition_keys
            if meta.get("lazy"):
                return PartitionedInput(self.fs, table_dir, table, keys, duck=self.duck)
            if not keys:
                return empty_partitioned(table)
            listing = Listing(self.fs, table_dir)
            return read_partitioned(self.fs, listing, table, keys, columns=columns, duck=self.duck)
        df = read_single(self.fs, posixpath.join(table_dir, f"{table}.parquet"), table)
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
    return _preview_markdown(table_io.to_pandas(order_columns(head, table), table))


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
