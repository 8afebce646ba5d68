"""The seam between reading and cleaning (issue #25 point 1): the RAW RELATION of a kind and the file's problems.

A raw relation has one row per record that was parsed as a JSON object / CSV row / database row:

- `_file` VARCHAR: the file's display name (as `FileRecords.path`);
- `_record` BIGINT: the 1-based record number (as `FileRecords.record_numbers`);
- one column per field the cleaning reads (`FIELDS[kind]`), of DuckDB type JSON: SQL NULL when the record has no
  such key, else the JSON of the value as Python holds it (JSON null, a number, a string, a list ...). A CSV or
  xlsx cell is a JSON string or null as the readers give it; a database value is the JSON of what SQLAlchemy
  returns (text for a date or a decimal: `default=str`).

Beside it, per file: its PROBLEMS (records that could not be parsed: `_file`, `record_number`, `reason`, `raw`;
record 0 for a whole unreadable file), its notes and its fallback day (`FileRecords.notes`, `.fallback_day`).

`insert_raw(con, table, kind, fr, start, hint)` adds a batch's raw rows to the run's table of the kind
(lib/ingest/clean_run.py), with `_hint` and `_seq`: the records of today's readers' `FileRecords` as Arrow, and the
ordinary rows of the fast reader's `ColumnarRecords` taken from the file again by DuckDB on that connection, as
JSON, so that they never exist in Python as a second copy of the file. `problems_table(kind, fr)` builds the
problems. The cleaning (lib/ingest/clean.py) reads only these.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest.fastread import FIELDS, ColumnarRecords
from kol_pipeline.lib.ingest.readers import FileRecords

__all__ = [
    "FIELDS",
    "RAW_META",
    "PROBLEM_COLUMNS",
    "create_raw",
    "insert_raw",
    "raw_schema",
    "problems_table",
    "json_value",
]

# the two columns every raw relation starts with, then FIELDS[kind] (DuckDB JSON: Arrow strings holding JSON text)
RAW_META = (("_file", pa.string()), ("_record", pa.int64()))
PROBLEM_COLUMNS = ("_file", "record_number", "reason", "raw")


def raw_schema(kind: str) -> pa.Schema:
    """The Arrow schema of a kind's raw relation: `_file`, `_record`, then each field as JSON text."""
    return pa.schema([*RAW_META, *((f, pa.string()) for f in FIELDS[kind])])


def json_value(v: Any) -> str:
    """A Python value (as a reader gives it) as JSON text: ensure_ascii off (the text is kept as it is), non-JSON
    values (dates, decimals, bytes from a database) as their text (`default=str`), as the quarantine's `raw` does."""
    if isinstance(v, float) and not math.isfinite(v):
        return json.dumps(v)  # NaN / Infinity / -Infinity: Python's own spelling, parsed back by DuckDB's JSON
    return json.dumps(v, ensure_ascii=False, default=str)


def _dict_columns(kind: str, records: Sequence[dict]) -> dict[str, list[str | None]]:
    return {f: [json_value(r[f]) if f in r else None for r in records] for f in FIELDS[kind]}


def _columnar_sql(kind: str, target: str) -> str:
    """The INSERT into ``target`` of the frame rows of a `ColumnarRecords` batch as raw rows: their lines are read
    again from the file by DuckDB (the same line reader as lib/ingest/fastread.py, lines numbered in the file's
    order) and each field taken as JSON (`json_extract`: SQL NULL for an absent key, JSON null for a null), for the
    lines in the registered table `ingest_raw_numbers` (n, seq), with `_hint` ($hint) and `_seq` (seq). Only lines
    DuckDB parsed as objects holding strings, integers and nulls are in the frame (fastread's suspects went to
    Python), so DuckDB's JSON of them is Python's. Names: FIELDS constants and the run's table names, never input."""
    fields = FIELDS[kind]
    # one parse per line: json_extract with the list of paths
    paths = "[" + ", ".join(f"'$.\"{f}\"'" for f in fields) + "]"
    cols = ", ".join(f'v[{i + 1}] AS "{f}"' for i, f in enumerate(fields))
    return f"""
        INSERT INTO {target}
        WITH src AS (
            SELECT row_number() OVER () AS n, line
            FROM read_csv($path, columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='', header=false,
                          auto_detect=false, strict_mode=false, max_line_size=2147483647, new_line='\\n')
        )
        SELECT $name AS _file, n::BIGINT AS _record, {cols}, $hint::DATE AS _hint, seq AS _seq
        FROM (SELECT src.n, numbers.seq, json_extract(src.line, {paths}) AS v
              FROM src JOIN ingest_raw_numbers numbers USING (n))
    """


def _dict_table(kind: str, fr: FileRecords) -> pa.Table:
    cols = _dict_columns(kind, fr.records)
    return pa.table(
        {"_file": [fr.path] * len(fr.records), "_record": list(fr.record_numbers), **cols}, schema=raw_schema(kind)
    )


def _frame_numbers(fr: FileRecords) -> np.ndarray:
    if isinstance(fr, ColumnarRecords) and fr.frame is not None and len(fr.frame):
        return fr.frame["_record"].to_numpy(dtype="int64")
    return np.zeros(0, dtype=np.int64)


def create_raw(con: duckdb.DuckDBPyConnection, table: str, kind: str) -> None:
    """The run's (empty) temporary table of ``kind``'s raw rows: the raw relation's columns, `_hint`, `_seq`."""
    duck.create_table(
        con, table, raw_schema(kind).append(pa.field("_hint", pa.date32())).append(pa.field("_seq", pa.int64()))
    )


def insert_raw(
    con: duckdb.DuckDBPyConnection, table: str, kind: str, fr: FileRecords, start: int, hint: date | None
) -> int:
    """Add the raw rows of one batch to ``table`` (``create_raw``) on ``con``, each with ``hint`` as `_hint` and
    `_seq` = ``start`` + its position in the batch: record-number order when the batch has frame rows, the
    reader's order otherwise. The frame rows are read from the file by DuckDB on ``con`` (with insertion order
    kept, which numbers the lines) straight into the table. Returns the rows added."""
    dicts = _dict_table(kind, fr)
    numbers = _frame_numbers(fr)
    n = dicts.num_rows + len(numbers)
    if not n:
        return 0
    pos = np.arange(n, dtype=np.int64)
    if len(numbers):  # the position of each row in record-number order (dict rows first on a tie, as a stable sort)
        order = np.argsort(np.concatenate([np.asarray(fr.record_numbers, dtype=np.int64), numbers]), kind="stable")
        pos[order] = np.arange(n, dtype=np.int64)
    pos += start
    if dicts.num_rows:
        dicts = dicts.append_column("_hint", pa.array([hint] * dicts.num_rows, pa.date32()))
        dicts = dicts.append_column("_seq", pa.array(pos[: dicts.num_rows]))
        con.register("ingest_raw_batch", dicts)
        try:
            con.execute(f"INSERT INTO {table} SELECT * FROM ingest_raw_batch")
        finally:
            con.unregister("ingest_raw_batch")
    if len(numbers):
        con.register("ingest_raw_numbers", pa.table({"n": numbers, "seq": pos[dicts.num_rows :]}))
        try:
            with duck.setting(con, "preserve_insertion_order", True):
                con.execute(_columnar_sql(kind, table), {"path": str(fr.source), "name": fr.path, "hint": hint})
        finally:
            con.unregister("ingest_raw_numbers")
    return n


def problems_table(fr: FileRecords) -> pa.Table:
    """The problems of one batch: `_file`, `record_number`, `reason`, `raw`."""
    return pa.table(
        {
            "_file": pa.array([fr.path] * len(fr.problems), pa.string()),
            "record_number": pa.array([p.record_number for p in fr.problems], pa.int64()),
            "reason": pa.array([p.reason for p in fr.problems], pa.string()),
            "raw": pa.array([p.raw for p in fr.problems], pa.string()),
        }
    )
