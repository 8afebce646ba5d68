"""The warehouse as Dagster resources: ``Warehouse`` (where it is, how to reach it, the bounds of DuckDB) and the IO
manager built on it (``WarehouseIOManager``).

One ``Warehouse`` serves the IO manager, the asset checks, the sensors and the report (``definitions.py`` passes
the same configured object to all): the storage is configured once, and a warehouse on S3 with its
``storage_options`` (endpoint, credentials) is read by a check or a sensor exactly as the IO manager reads it.
The reading code itself is the IO manager's (``resources/io_manager.py`` and the modules it re-exports:
``storage.py``, ``table_io.py``, ``partitioned_input.py``); this module only binds it to a place.

(No ``from __future__ import annotations`` here: Dagster resolves the IO manager's ``warehouse`` field by its
annotation, and a postponed one made a warehouse configured at launch fail its validation.)
"""

from collections.abc import Iterable
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field
from upath import UPath

from kol_pipeline.lib.duck import DuckSettings
from kol_pipeline.resources import allocator, io_manager
from kol_pipeline.resources.settings import DuckDBConfig


class Warehouse(dg.ConfigurableResource):
    """Where the warehouse is: a local folder or an fsspec URL (``s3://bucket/prefix``, ``memory://wh``,
    ``file:///...``), the fsspec ``storage_options`` (e.g. ``{"endpoint_url": "http://minio:9000"}``) and the
    bounds of the DuckDB connections that read it (``DuckDBConfig``; unset fields from ``KOL_DUCKDB_*``)."""

    base_path: str = Field(description="Warehouse folder or fsspec URL (KOL_WAREHOUSE_DIR)")
    storage_options: dict = Field(default_factory=dict, description="fsspec options of the warehouse's filesystem")
    duckdb_config: DuckDBConfig = Field(
        default_factory=DuckDBConfig, description="bounds of the DuckDB connections that read the warehouse"
    )

    @property
    def root(self) -> UPath:
        """The warehouse folder as a UPath (its ``fs`` is the configured filesystem)."""
        return io_manager.make_base_path(self.base_path, self.storage_options)

    def duck_settings(self) -> DuckSettings:
        return self.duckdb_config.to_settings()

    def list_partitions(self, table: str) -> list[str]:
        """Sorted partition keys (``YYYY-MM-DD``) of ``table`` that hold at least one Parquet file."""
        return io_manager.list_partitions(self.base_path, table, self.storage_options)

    def partition_rows(self, table: str, key: str) -> int:
        """Rows of one partition, from the Parquet footers (0 when it has no file)."""
        return io_manager.partition_rows(self.base_path, table, key, self.storage_options)

    def read_table(self, table: str, start: str | None = None, end: str | None = None) -> pd.DataFrame:
        """A table (a partitioned one restricted to the days in [start, end]), as the IO manager reads it."""
        return io_manager.read_table(self.base_path, table, start, end, self.storage_options)

    def present_values(
        self, table: str, column: str, values: Iterable[Any], start: str | None = None, end: str | None = None
    ) -> set:
        """The subset of ``values`` found in ``column`` of a partitioned table (newest day first, stopping once all
        are found)."""
        return io_manager.present_values(self.base_path, table, column, values, self.storage_options, start, end)


class WarehouseIOManager(dg.ConfigurableIOManagerFactory):
    """The warehouse IO manager: every asset's output is Parquet under ``warehouse`` (one folder per table, one
    ``snapshot_date=`` folder per daily partition), written atomically; inputs are read back, lazily where the
    asset asks for it (``PartitionedInput``). ``retain_freed_memory``: tune glibc's malloc in the step process
    (``resources/allocator.py``; default off)."""

    warehouse: Warehouse
    retain_freed_memory: bool = Field(
        default=False,
        description="keep freed memory in the step process for reuse instead of returning it to the OS (glibc "
        "only; large arrays are then not faulted in again, at the price of a higher peak RSS: see "
        "kol_pipeline/resources/allocator.py)",
    )

    @classmethod
    def at(cls, base_path: str, storage_options: dict | None = None, **kwargs: Any) -> "WarehouseIOManager":
        """The IO manager of a warehouse at ``base_path`` (a shorthand for tests and scripts)."""
        return cls(warehouse=Warehouse(base_path=base_path, storage_options=storage_options or {}), **kwargs)

    def create_io_manager(self, context: dg.InitResourceContext) -> io_manager.ParquetIOManager:
        if self.retain_freed_memory:
            allocator.retain_freed_memory()
        return io_manager.ParquetIOManager(self.warehouse.root, duck=self.warehouse.duck_settings())
