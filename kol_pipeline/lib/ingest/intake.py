"""MediaCrawler rows -> cleaned `notes`, `creators`, `comments` and `quarantine`, with exact row accounting.

Order of operations for every source file (files and database tables alike):
1. read records (lib/ingest/readers.py); unparseable records are problems -> quarantine;
2. parse ids, times and counts (in DuckDB SQL: lib/ingest/clean.py and its queries); the first failing rule is the
   row's quarantine reason;
3. each row belongs to the Asia/Shanghai day of its crawl time (`last_modify_ts`); rows whose crawl time is
   unusable are quarantined in the partition of the file name's date, else the file's most common crawl day;
4. rows outside the requested day range are not this run's business (not counted);
5. one row per (id, day): the latest crawl wins, ties broken by file and record order; the rest are duplicates.
For each file and day: read = kept + duplicates + quarantined.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from kol_pipeline.lib.ingest import parsing
from kol_pipeline.lib.ingest.clean import ID_COLUMN, IngestContext, IngestResult, connection
from kol_pipeline.lib.ingest.clean_run import ingest_raw
from kol_pipeline.lib.ingest.discovery import KINDS, discover
from kol_pipeline.lib.ingest.fastread import read_jsonl_fast
from kol_pipeline.lib.ingest.readers import FileRecords, read_records

__all__ = [
    "DB_TABLES",
    "ID_COLUMN",
    "IngestContext",
    "IngestResult",
    "connection",
    "crawl_days",
    "day_bounds_ms",
    "db_batches",
    "db_record_days",
    "file_batches",
    "ingest_batches",
    "landing_files",
    "numeric_crawl_time",
    "relative_name",
]

DB_TABLES = {"notes": "xhs_note", "comments": "xhs_note_comment", "creators": "xhs_creator"}


# ---------------------------------------------------------------- landing discovery


def landing_files(landing: Path) -> dict[str, list[Path]]:
    """MediaCrawler XHS files under landing/mediacrawler/** (or the landing folder itself when it has no
    `mediacrawler/` subfolder: a crawl's data folder can be pointed at directly), by kind, sorted by path. A
    workbook is listed under each kind it has a sheet for. What is not read is `discovery.discover(...).skipped`."""
    return discover(landing).files


def relative_name(path: Path, landing: Path) -> str:
    try:
        return path.relative_to(landing).as_posix()
    except ValueError:
        return path.as_posix()


# ---------------------------------------------------------------- cleaning (lib/ingest/clean.py)


def ingest_batches(
    batches: Iterable[tuple[str, FileRecords]],
    ctx: IngestContext,
    start: date | None = None,
    end: date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> IngestResult:
    """Clean batches of records (kind, FileRecords), keeping rows of days in [start, end]: in DuckDB SQL
    (lib/ingest/clean.py, clean_run.py). With ``con`` (from `connection()`), the cleaned tables are relations on
    it (valid while it is open: the ingest step's outputs, written by the IO manager); else Arrow tables."""
    return ingest_raw(batches, ctx, start, end, con)


# ---------------------------------------------------------------- sources


def file_batches(
    landing: Path, kinds: Sequence[str] = KINDS, files: Sequence[Path] | None = None, min_bytes: int | None = None
) -> list[tuple[str, FileRecords]]:
    """Read every MediaCrawler file of the landing folder (or the given subset). With `min_bytes`, JSON lines files
    of at least that size are read by the fast reader (lib/ingest/fastread.py: Arrow string columns, whose rows
    lib/ingest/raw.py takes as JSON for the SQL cleaning)."""
    by_kind = landing_files(landing)
    out: list[tuple[str, FileRecords]] = []
    wanted = set(files) if files is not None else None
    for kind in kinds:
        for p in by_kind[kind]:
            if wanted is not None and p not in wanted:
                continue
            name = relative_name(p, landing)
            out.append(
                (kind, read_records(p, name, kind) if min_bytes is None else read_jsonl_fast(p, name, kind, min_bytes))
            )
    return out


def day_bounds_ms(start: date, end: date) -> tuple[int, int]:
    """[start 00:00, end+1 00:00) Asia/Shanghai as epoch milliseconds."""
    lo = pd.Timestamp(start, tz=parsing.SHANGHAI)
    hi = pd.Timestamp(end + timedelta(days=1), tz=parsing.SHANGHAI)
    return int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)


# Table names are fixed here, never formatted from input; the bounds are bound parameters. A row is selected by its
# crawl time in epoch ms, or in epoch seconds (an export variant, scaled by parsing.parse_epoch_ms), or, when its
# crawl time is unusable (NULL, <= 0, beyond a timestamp), by its insert time `add_ts` (`db_record_days`).
_IN_RANGE = "(last_modify_ts >= :lo AND last_modify_ts < :hi) OR (last_modify_ts >= :lo_s AND last_modify_ts < :hi_s)"
_BY_ADD_TS = (
    "(last_modify_ts IS NULL OR last_modify_ts <= 0 OR last_modify_ts > :max_ms) AND add_ts >= :lo AND add_ts < :hi"
)
_DB_QUERIES = {kind: f"SELECT * FROM {table} WHERE {_IN_RANGE}" for kind, table in DB_TABLES.items()}
_DB_QUERIES_ADD_TS = {
    kind: f"SELECT * FROM {table} WHERE {_IN_RANGE} OR ({_BY_ADD_TS})" for kind, table in DB_TABLES.items()
}
_DB_QUERIES_ALL = {kind: f"SELECT * FROM {table}" for kind, table in DB_TABLES.items()}


def numeric_crawl_time(insp: Any, table: str) -> bool | None:
    """Whether `table`'s last_modify_ts is a number column (None: no such table or column). A text column (a table
    written from CSV) cannot be compared with numbers in SQL on every server: callers read it and parse it here."""
    import sqlalchemy as sa

    if not insp.has_table(table):
        return None
    types = {c["name"]: c["type"] for c in insp.get_columns(table)}
    col_type = types.get("last_modify_ts")
    if col_type is None:
        return None
    return isinstance(col_type, (sa.Integer, sa.Numeric)) and isinstance(
        types.get("add_ts", sa.Integer()), (sa.Integer, sa.Numeric)
    )


def db_record_days(last_modify_ts: Sequence[Any], add_ts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(day number of each database row, whether it came from `add_ts`): the Asia/Shanghai day of its crawl time,
    or, where that is unusable, of its insert time `add_ts` (MediaCrawler sets it when it stores the row), so that
    the row is quarantined in that day's partition instead of never being selected; -1 where neither is usable."""
    crawled, _ = parsing.parse_epoch_ms(pd.Series(list(last_modify_ts), dtype=object), "last_modify_ts")
    added, _ = parsing.parse_epoch_ms(pd.Series(list(add_ts), dtype=object), "add_ts")
    by_crawl = parsing.shanghai_day_numbers(crawled)
    by_add = parsing.shanghai_day_numbers(added)
    fallback = by_crawl < 0
    return np.where(fallback, by_add, by_crawl), fallback & (by_add >= 0)


def db_batches(engine: Any, start: date, end: date, kinds: Sequence[str] = KINDS) -> list[tuple[str, FileRecords]]:
    """Rows of MediaCrawler's db mode tables of the days [start, end] (Asia/Shanghai; `db_record_days`), read-only.
    Rows placed by their `add_ts` come as batches of their own whose `fallback_day` is that day."""
    import sqlalchemy as sa

    lo, hi = day_bounds_ms(start, end)
    params = {"lo": lo, "hi": hi, "lo_s": lo // 1000, "hi_s": -(-hi // 1000), "max_ms": parsing.MAX_EPOCH_MS}
    first = (start - date(1970, 1, 1)).days
    last = (end - date(1970, 1, 1)).days
    out: list[tuple[str, FileRecords]] = []
    insp = sa.inspect(engine)
    with engine.connect() as conn:
        for kind in kinds:
            table = DB_TABLES[kind]
            if not insp.has_table(table):
                continue
            numeric = numeric_crawl_time(insp, table)
            has_add = any(c["name"] == "add_ts" for c in insp.get_columns(table))
            if numeric:
                res = conn.execute(sa.text((_DB_QUERIES_ADD_TS if has_add else _DB_QUERIES)[kind]), params)
            else:
                # last_modify_ts is not a number column (e.g. a table written by pandas.to_sql from CSV: TEXT):
                # PostgreSQL cannot compare it with a number, so read the table and keep the range's rows here.
                res = conn.execute(sa.text(_DB_QUERIES_ALL[kind]))
            cols = list(res.keys())
            records, numbers = [], []
            for i, row in enumerate(res, start=1):
                rec = {c: (v.decode() if isinstance(v, bytes) else v) for c, v in zip(cols, row)}
                records.append(rec)
                numbers.append(int(rec["id"]) if rec.get("id") is not None and str(rec["id"]).isdigit() else i)
            days, by_add = db_record_days(
                [r.get("last_modify_ts") for r in records], [r.get("add_ts") for r in records]
            )
            keep = (days >= first) & (days <= last)
            main = FileRecords(path=f"db:{table}")
            placed: dict[int, FileRecords] = {}
            for rec, num, day, fb, k in zip(records, numbers, days, by_add, keep):
                if not k:
                    continue
                fr = (
                    main
                    if not fb
                    else placed.setdefault(
                        int(day),
                        FileRecords(path=f"db:{table}", fallback_day=date(1970, 1, 1) + timedelta(days=int(day))),
                    )
                )
                fr.records.append(rec)
                fr.record_numbers.append(num)
            out += [(kind, fr) for fr in (main, *placed.values())]
    return out


def crawl_days(batches: Iterable[tuple[str, FileRecords]]) -> dict[date, int]:
    """Rows per Asia/Shanghai crawl day over batches (unusable crawl times are left out): finds the partitions."""
    counts: dict[date, int] = {}
    for _, fr in batches:
        if not fr.records:
            continue
        ts, _ = parsing.parse_epoch_ms(
            pd.Series([r.get("last_modify_ts") for r in fr.records], dtype=object), "last_modify_ts"
        )
        days = parsing.shanghai_date(ts[ts.notna()])
        for d, n in days.value_counts().items():
            counts[d] = counts.get(d, 0) + int(n)
    return counts
