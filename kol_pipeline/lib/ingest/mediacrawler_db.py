"""Writing MediaCrawler records (as read from its files) into MediaCrawler's db-mode tables.

Used by the integration tests of the database source (kol_pipeline_tests/integration/test_db_source.py) and
handy for a demo database: the same rows the files hold, stored the way MediaCrawler's db mode stores them. The
tables are passed in (any SQLAlchemy Table with MediaCrawler's column names, e.g.
kol_pipeline_tests/fixtures/mediacrawler_schema.py), so this module knows no DDL.

A record becomes a row of the table's columns: integer columns get ints (numeric strings such as CSV values are
converted), text columns get strings (lists and dicts as JSON), keys the table has no column for are dropped,
`add_ts` defaults to the record's crawl time. A record the table cannot hold (a missing value in a NOT NULL
column, a non-integer in an integer column, a string longer than its VARCHAR) is refused with a reason rather than
stored differently on each database (SQLite would accept most of them, PostgreSQL and MySQL strict mode would not).
Rows are inserted in order of (source path, record number), so the `id` order equals the files' record order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from kol_pipeline.lib.ingest.readers import FileRecords

CHUNK = 1000


@dataclass
class Refused:
    kind: str
    source_file: str
    record_number: int
    reason: str


@dataclass
class WriteReport:
    written: dict[str, int] = field(default_factory=dict)
    refused: list[Refused] = field(default_factory=list)
    dropped_keys: dict[str, set[str]] = field(default_factory=dict)  # record keys without a column, per kind


_INT64 = (-(2**63), 2**63 - 1)  # what a BIGINT column holds on every database


def _to_int(value: Any) -> tuple[int | None, bool]:
    """(integer, ok): None/"" -> (None, True); 12, "12", " 12 ", 12.0, "12.0" -> (12, True); else (None, False),
    also for an integer a BIGINT cannot hold (10**30, 1e30: the driver raised OverflowError)."""
    value, ok = _parse_int(value)
    if value is not None and not _INT64[0] <= value <= _INT64[1]:
        return None, False
    return value, ok


def _parse_int(value: Any) -> tuple[int | None, bool]:
    if value is None or isinstance(value, bool):
        return None, value is None
    if isinstance(value, int):
        return value, True
    if isinstance(value, float):
        return (int(value), True) if value.is_integer() else (None, False)
    s = str(value).strip()
    if s == "":
        return None, True
    try:
        return int(s), True
    except ValueError:
        try:
            f = float(s)
        except ValueError:
            return None, False
        return (int(f), True) if f.is_integer() else (None, False)


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_row(table: sa.Table, record: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """(row for the table, None) or (None, reason the table cannot hold the record)."""
    row: dict[str, Any] = {}
    for col in table.columns:
        if col.primary_key and col.autoincrement is not False and col.name not in record:
            continue
        name = col.name
        raw = record.get(name)
        if name == "add_ts" and raw is None:
            raw = record.get("last_modify_ts")
        if isinstance(col.type, sa.Integer):
            value, ok = _to_int(raw)
            if not ok:
                return None, f"{name} is not an integer a BIGINT holds: {raw!r}"
        else:
            value = _to_text(raw)
            length = getattr(col.type, "length", None)
            if value is not None and length is not None and len(value) > length:
                return None, f"{name} longer than {length} characters"
        if value is None and not col.nullable:
            return None, f"{name} is NULL in a NOT NULL column"
        row[name] = value
    return row, None


def write_records(
    engine: sa.Engine,
    tables: Mapping[str, sa.Table],
    batches: Iterable[tuple[str, FileRecords]],
) -> WriteReport:
    """Insert the records of (kind, FileRecords) batches into tables[kind], in one transaction.

    Unparseable records of a batch (its `problems`) have no values and are not written."""
    report = WriteReport()
    ordered = sorted(((k, fr) for k, fr in batches if k in tables), key=lambda b: (b[1].path, b[0]))
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in tables}
    for kind, fr in ordered:
        table = tables[kind]
        names = {c.name for c in table.columns}
        for rec, num in sorted(zip(fr.records, fr.record_numbers), key=lambda p: p[1]):
            extra = set(rec) - names
            if extra:
                report.dropped_keys.setdefault(kind, set()).update(extra)
            row, why = to_row(table, rec)
            if row is None:
                report.refused.append(Refused(kind, fr.path, num, why or ""))
            else:
                rows[kind].append(row)
    with engine.begin() as conn:
        for kind, table in tables.items():
            todo = rows[kind]
            for i in range(0, len(todo), CHUNK):  # every row has every column: one executemany shape
                conn.execute(table.insert(), todo[i : i + CHUNK])
            report.written[kind] = len(todo)
    return report
