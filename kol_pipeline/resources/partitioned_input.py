"""The lazy input of an asset that declared a trailing window (``dg.AssetIn(metadata={"lazy": True})``): a handle
on exactly the declared partitions, read as pandas (``read``) or as a DuckDB relation (``relation``) only when the
asset asks, and only the days and columns it asks for (docs/engine.md, "The input as a relation")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
from fsspec import AbstractFileSystem

from kol_pipeline.lib import duck as duck_lib
from kol_pipeline.lib.schemas import TABLES
from kol_pipeline.resources.storage import PARTITION_COLUMN, Listing, is_local
from kol_pipeline.resources.table_io import RowFilter, check_range, read_partitioned


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
        self._listing: Listing | None = None

    @property
    def duck_settings(self) -> duck_lib.DuckSettings | None:
        """The DuckDB bounds the warehouse IO manager was configured with (its ``duckdb_config``): open the
        connection for ``relation`` with ``lib.duck.connect(handle.duck_settings)``."""
        return self._duck

    def _list(self) -> Listing:
        if self._listing is None:
            self._listing = Listing(self._fs, self._table_dir)
        return self._listing

    def files(self) -> list[str]:
        """The readable Parquet files of the declared partitions, partition by partition (what a read scans)."""
        stored = self._list().readable_partitions()
        return [path for k in self.keys for path in stored.get(k, [])]

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
        return read_partitioned(
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
        check_range(start, end)
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
            return con.from_arrow(empty_arrow(self.table, names))
        if not is_local(self._fs):
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


def empty_arrow(table: str, columns: Sequence[str] | None) -> pa.Table:
    """No rows, with the columns a stored partition of ``table`` would give (and snapshot_date as date32)."""
    spec = TABLES.get(table)
    schema = spec.schema if spec is not None else pa.schema([])
    fields = [f for f in schema if f.name != PARTITION_COLUMN] + [pa.field(PARTITION_COLUMN, pa.date32())]
    if columns is not None:
        by_name = {f.name: f for f in fields}
        fields = [by_name.get(c, pa.field(c, pa.null())) for c in columns]
    return pa.schema(fields).empty_table()
