"""The table registry's core: the Arrow types, the layers and sources, ``Column`` and ``TableSpec``, the registry
``TABLES`` with ``register``, the lists of table names derived from it (job selections, checks, sensors, the CLI
summary: ``tables_in`` and friends below) and the frame conversions (``conform``, ``arrow_text``).

The specs themselves live beside each layer's SQL: lib/ingest/specs.py (cleaned daily tables, brand and reference
tables), lib/metrics/specs.py, lib/state/specs.py, lib/marts/specs.py. They import only this module;
kol_pipeline.lib.schemas imports them and fills ``TABLES`` in registry order (the order of the job selections,
docs/tables.md and the summaries). Import table names from kol_pipeline.lib.schemas: this module alone holds an
empty registry until schemas is imported.

Adding a table = its spec in its layer's specs.py (with its layer), listed in that module's ``SPECS`` + its asset +
its test; then ``make docs``.

Names, types and meanings follow ../shared/CONTRACT.md section 3; extra columns are documented in the specs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

UTC_TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
I64 = pa.int64()
F64 = pa.float64()
BOOL = pa.bool_()
DATE = pa.date32()
STR_LIST = pa.list_(pa.string())

TIERS: tuple[str, ...] = ("nano", "micro", "mid", "macro", "top")


@dataclass(frozen=True)
class Layer:
    title: str  # its section of docs/tables.md
    group: str  # the Dagster asset group (``group_name``) of its assets


#: Layers, in the order docs/tables.md lists them.
LAYERS: dict[str, Layer] = {
    "ingest": Layer("Cleaned daily tables (ingestion)", "ingest"),
    "brand": Layer("Brand and reference tables (brand/*.csv, reference/categories.csv)", "ingest"),
    "metrics": Layer("Metrics", "metrics"),
    "marts": Layer("Brand and campaign marts", "marts"),
    "state": Layer(
        "Internal state of the metrics (incremental, read by the metrics assets; docs/metrics.md)", "metrics"
    ),
}
#: Sources of an input table (``TableSpec.source``): a MediaCrawler kind (its JSON/JSONL/CSV/xlsx files or its database
#: table), or a CSV file of the landing folder (brand/, reference/, search rankings). A table without a source is
#: computed from other tables; the input tables are the values of ``quarantine.source``.
MEDIACRAWLER = "mediacrawler"
LANDING_CSV = "landing_csv"
SOURCES = ("", MEDIACRAWLER, LANDING_CSV)


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    partitioned: bool = True
    keys: tuple[str, ...] = field(default_factory=tuple)
    # Storage hint (the warehouse IO manager; it changes no value or type). ``arrow_lists``: list columns read as Arrow lists (``pd.ArrowDtype``), not as an object array holding a numpy
    # array per row, for a state whose lists are used as one matrix (creator_state's followers_by_day: 200,000 x
    # 125 at 1M notes a day, lib/state/days.py ``followers_matrix``).
    arrow_lists: tuple[str, ...] = ()
    # Registry: ``layer`` (a key of LAYERS), ``source`` (one of SOURCES), ``summary``: its rows per day are printed by
    # `kol-pipeline run` (orchestration/running.py).
    layer: str = field(kw_only=True)
    source: str = field(default="", kw_only=True)
    summary: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        if self.layer not in LAYERS or self.source not in SOURCES:
            raise ValueError(f"table {self.name}: unknown layer {self.layer!r} or source {self.source!r}")

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type) for c in self.columns])

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def empty_frame(self) -> pd.DataFrame:
        return self.schema.empty_table().to_pandas()


def make_columns(*items: tuple[str, pa.DataType, str]) -> tuple[Column, ...]:
    """Columns from (name, Arrow type, description) triples."""
    return tuple(Column(n, t, d) for n, t, d in items)


SNAPSHOT = ("snapshot_date", DATE, "Asia/Shanghai calendar day of the crawl (the partition)")

#: The registry: every warehouse table's spec by name, in registry order. Filled by kol_pipeline.lib.schemas (the
#: layer spec modules' ``SPECS``, in layer order), then by ``register``.
TABLES: dict[str, TableSpec] = {}


def register(spec: TableSpec) -> TableSpec:
    """Add a table spec defined elsewhere to the registry (before the code location is loaded: the lists below are
    read when the defs modules are imported)."""
    TABLES[spec.name] = spec
    return spec


# ---- Lists of table names, in registry order (the order of TABLES) ----


def tables_in(*layers: str) -> tuple[str, ...]:
    """The tables of these layers."""
    return tuple(n for n, s in TABLES.items() if s.layer in layers)


def daily_tables(*layers: str) -> tuple[str, ...]:
    """The tables of these layers partitioned by snapshot_date."""
    return tuple(n for n in tables_in(*layers) if TABLES[n].partitioned)


def unpartitioned_tables() -> tuple[str, ...]:
    """The tables that are one file replaced whole on each run (the brand job's selection)."""
    return tuple(n for n, s in TABLES.items() if not s.partitioned)


def input_tables(*sources: str) -> tuple[str, ...]:
    """The tables read from an input (of these sources; of any source when none is given)."""
    return tuple(n for n, s in TABLES.items() if s.source and (not sources or s.source in sources))


def summary_tables() -> tuple[str, ...]:
    """The tables whose rows per day `kol-pipeline run` prints."""
    return tuple(n for n, s in TABLES.items() if s.summary)


def conform(df: pd.DataFrame, spec: TableSpec) -> pa.Table:
    """Order and cast a frame to the table's schema (extra columns are kept at the end)."""
    missing = [c for c in spec.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"{spec.name}: missing columns {missing}")
    extra = [c for c in df.columns if c not in spec.column_names]
    order = spec.column_names + extra
    # a frame already in table order is converted as it is (reordering copies every column: 0.4 s for the
    # 2.4 M-row comment_state of the 10k benchmark)
    ordered = df if list(df.columns) == order else df[order]
    table = pa.Table.from_pandas(ordered, preserve_index=False)
    fields = [pa.field(c.name, c.type) for c in spec.columns] + [table.schema.field(n) for n in extra]
    target = pa.schema(fields)
    # as cast() would: the table's own schema, without pandas' metadata (readers must not rebuild pandas dtypes
    # or an index from it)
    return table.replace_schema_metadata(None) if table.schema.equals(target) else table.cast(target)


TEXT = pd.ArrowDtype(pa.string())
TEXT_LIST = pd.ArrowDtype(STR_LIST)
_ARROW = {STR: TEXT, STR_LIST: TEXT_LIST}


def arrow_text(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """The frame with the table's text columns (schema type string) as Arrow strings (`TEXT`), and its lists of
    text (tags, brands) as Arrow lists (`TEXT_LIST`): how lib/ingest/'s cleaned tables hold them, whichever way a
    row was cleaned (lib/ingest/fastclean keeps the reader's Arrow strings). The checks and the writer then work without
    a Python object per value: at 1M notes and 2M comments a day, converting object text to Arrow for the Parquet
    files cost 5.3 s, and Great Expectations' null and uniqueness tests of object columns 7 s more. A column
    holding anything else (a number, a list holding a number) is left as it is (the writer's schema cast reports
    it). The frame itself is not changed."""
    out = frame
    for col in spec.columns:
        if (
            col.type not in (STR, STR_LIST)
            or col.name not in frame.columns
            or frame[col.name].dtype == _ARROW[col.type]
        ):
            continue
        try:
            arr = pa.array(frame[col.name].to_numpy(dtype=object), type=col.type, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        if out is frame:
            out = frame.copy(deep=False)
        out[col.name] = pd.Series(pd.arrays.ArrowExtensionArray(arr), index=frame.index)
    return out
