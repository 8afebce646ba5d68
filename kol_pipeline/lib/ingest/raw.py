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

`raw_table(kind, fr)` builds the relation (as Arrow) from today's readers' `FileRecords` (and from the fast
reader's `ColumnarRecords`, whose ordinary rows are taken from the file again by DuckDB, as JSON);
`problems_table(kind, fr)` builds the problems. The cleaning (lib/ingest/clean.py) reads only these.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from kol_pipeline.lib.ingest.fastread import FIELDS, ColumnarRecords
from kol_pipeline.lib.ingest.readers import FileRecords

__all__ = ["FIELDS", "RAW_META", "PROBLEM_COLUMNS", "raw_schema", "raw_table", "problems_table", "json_value"]

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


def _columnar_rows(kind: str, fr: ColumnarRecords) -> pa.Table:
    """The frame rows of a `ColumnarRecords` batch as raw rows: their lines are read again from the file by DuckDB
    (the same line reader as lib/ingest/fastread.py) and each field taken as JSON (`json_extract`: SQL NULL for an
    absent key, JSON null for a null). Only lines DuckDB parsed as objects holding strings, integers and nulls
    are in the frame (fastread's suspects went to Python), so DuckDB's JSON of them is Python's."""
    from kol_pipeline.lib import duck

    fields = FIELDS[kind]
    numbers = pa.table({"n": pa.array(fr.frame["_record"].to_numpy(dtype="int64"))})
    # one parse per line: json_extract with the list of paths (names: FIELDS constants, never input)
    paths = "[" + ", ".join(f"'$.\"{f}\"'" for f in fields) + "]"
    cols = ", ".join(f'v[{i + 1}] AS "{f}"' for i, f in enumerate(fields))
    sql = f"""
        WITH src AS (
            SELECT row_number() OVER () AS n, line
            FROM read_csv($path, columns={{'line': 'VARCHAR'}}, delim='\x01', quote='', escape='', header=false,
                          auto_detect=false, strict_mode=false, max_line_size=2147483647, new_line='\\n')
        )
        SELECT $name AS _file, n::BIGINT AS _record, {cols}
        FROM (SELECT src.n, json_extract(src.line, {paths}) AS v FROM src JOIN numbers USING (n))
        ORDER BY n
    """
    con = duck.connect()
    try:
        con.register("numbers", numbers)
        table = con.sql(sql, params={"path": str(fr.source), "name": fr.path}).to_arrow_table()
    finally:
        con.close()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    return table.cast(raw_schema(kind))


def raw_table(kind: str, fr: FileRecords) -> pa.Table:
    """The raw relation of one batch, rows in record-number order."""
    schema = raw_schema(kind)
    cols = _dict_columns(kind, fr.records)
    table = pa.table({"_file": [fr.path] * len(fr.records), "_record": list(fr.record_numbers), **cols}, schema=schema)
    if isinstance(fr, ColumnarRecords) and fr.frame is not None and len(fr.frame):
        table = pa.concat_tables([table, _columnar_rows(kind, fr)])
        order = pa.compute.sort_indices(table, [("_record", "ascending")])
        table = table.take(order)
    return table


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
