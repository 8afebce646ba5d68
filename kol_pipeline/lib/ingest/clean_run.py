"""The run of the cleaning (issue #25 points 1 and 5): a run's batches -> the cleaned tables, the quarantine and
the row accounting, with every large intermediate held by DuckDB (within its memory limit, spilling) rather than
by Python. The SQL is lib/ingest/clean.py's list of queries; this module moves the rows between them:

1. each batch's raw relation (lib/ingest/raw.py) is inserted into the kind's temporary table as it arrives, with
   `_seq` (its position among the kind's raw rows), so a run never holds more than one batch as Arrow;
2. `clean_<kind>.sql` turns it into the kind's cleaned table; the raw table is dropped;
3. the keys of every cleaned row (`ingest_rows`), with the problems, give each row's day and fate
   (ingest_days.sql, ingest_dedup.sql: one small Arrow table of keys) and the accounting;
4. per kind, the quarantined rows (`ingest_rejected.sql`, few) and the kept rows (`ingest_kept.sql`, into a
   temporary table, in the warehouse's order); the cleaned table is dropped.

`ingest_raw(batches, ctx, start, end, con)` leaves the kept tables on `con` and gives relations over them (the
ingest step hands those to the IO manager, which writes them with DuckDB's COPY); without `con` they come back
as Arrow tables and the connection it opened is closed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest import comments as comments_lib
from kol_pipeline.lib.ingest import raw as raw_lib
from kol_pipeline.lib.ingest import sentiment as sentiment_lib
from kol_pipeline.lib.ingest.clean import (
    CLEAN_ORDER,
    FUTURE_TOLERANCE,
    ID_COLUMN,
    IngestContext,
    IngestResult,
    brand_term_table,
    connection,
    keyword_table,
    marker_table,
)
from kol_pipeline.lib.ingest.discovery import KINDS
from kol_pipeline.lib.ingest.fastread import ColumnarRecords
from kol_pipeline.lib.ingest.readers import FileRecords
from kol_pipeline.lib.schemas import QUARANTINE, TABLES
from kol_pipeline.lib.settings import TIER_NAMES

__all__ = ["ingest_raw", "kept_table"]

# the temporary tables of a run (names from the code, never from data)
_RAW = {k: f"ingest_raw_{k}" for k in KINDS}
_CLEANED = {k: f"ingest_cleaned_{k}" for k in KINDS}
_KEPT = {k: f"ingest_kept_{k}" for k in KINDS}
_ROWS = "ingest_rows"
_DATED = "ingest_dated"
_FATES = "ingest_fates"


def kept_table(kind: str) -> str:
    """The temporary table of ``kind``'s kept rows on the connection ``ingest_raw`` was given."""
    return _KEPT[kind]


@dataclass
class _Batches:
    """The raw tables of a run by kind (on the connection), the problems, and where each raw row's record can be
    found again."""

    con: duckdb.DuckDBPyConnection
    sources: dict[str, list[tuple[int, FileRecords]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    rows: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    problems: list[tuple[str, FileRecords]] = field(default_factory=list)
    hints: dict[str, date] = field(default_factory=dict)
    file_notes: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, fr: FileRecords) -> None:
        if fr.notes:
            self.file_notes[fr.path] = list(fr.notes)
        if fr.fallback_day is not None:
            self.hints[fr.path] = fr.fallback_day
        start = self.rows[kind]
        if start == 0:
            raw_lib.create_raw(self.con, _RAW[kind], kind)
        n = raw_lib.insert_raw(self.con, _RAW[kind], kind, fr, start, fr.fallback_day)
        if n:
            # kept to find a rejected row's record again; a columnar batch without its frame (the raw table has
            # the rows; a record is read again from the file by its number)
            keep = dataclasses.replace(fr, frame=None) if isinstance(fr, ColumnarRecords) else fr
            self.sources[kind].append((start, keep))
            self.rows[kind] += n
        if fr.problems:
            self.problems.append((kind, fr))

    def record(self, kind: str, seq: int, number: int) -> Any:
        """The record of raw row `seq` (record `number` of its batch), as the reader gave it."""
        starts = [s for s, _ in self.sources[kind]]
        fr = self.sources[kind][int(np.searchsorted(starts, seq, side="right")) - 1][1]
        if isinstance(fr, ColumnarRecords) and number not in fr.record_numbers:
            return fr.load_records([number])[number]
        return fr.records[fr.record_numbers.index(number)]

    def problem_table(self) -> pa.Table:
        kinds, files, numbers, reasons, raws, hints = [], [], [], [], [], []
        for kind, fr in self.problems:
            for p in fr.problems:
                kinds.append(kind)
                files.append(fr.path)
                numbers.append(p.record_number)
                reasons.append(p.reason)
                raws.append(p.raw)
                hints.append(self.hints.get(fr.path))
        return pa.table(
            {
                "kind": pa.array(kinds, pa.string()),
                "_pseq": pa.array(np.arange(len(kinds), dtype=np.int64)),
                "_file": pa.array(files, pa.string()),
                "record_number": pa.array(numbers, pa.int64()),
                "_hint": pa.array(hints, pa.date32()),
                "reason": pa.array(reasons, pa.string()),
                "raw": pa.array(raws, pa.string()),
            }
        )


def _raw_json(d: Any) -> str:
    try:
        return json.dumps(d, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(d)


def _clean(con: duckdb.DuckDBPyConnection, run: _Batches, ctx: IngestContext, now: datetime) -> list[str]:
    """Each kind's raw table -> its cleaned table (clean_<kind>.sql); the kinds that had rows."""
    refs = {
        "kw": keyword_table(ctx.categories),
        "brand_terms": brand_term_table(ctx.brands),
        "markers": marker_table(ctx.lexicon.disclosure_markers),
    }
    done = []
    for kind in CLEAN_ORDER:
        if not run.rows[kind]:
            con.execute(f"DROP TABLE IF EXISTS {_RAW[kind]}")  # created by a batch that had no rows
            continue
        params: dict[str, object] = {"now_limit": now + FUTURE_TOLERANCE}
        inputs: dict[str, object] = {"raw": con.table(_RAW[kind])}
        if kind == "notes":
            inputs.update(refs)
        if kind == "creators":
            params.update(tier_bounds=list(ctx.tier_bounds), tier_names=list(TIER_NAMES))
        if kind == "comments":
            params.update(comments_lib.params(ctx.lexicon), **sentiment_lib.params(ctx.lexicon))
        duck.create_table_as(con, _CLEANED[kind], f"clean_{kind}", inputs, params)
        con.execute(f"DROP TABLE {_RAW[kind]}")
        done.append(kind)
    return done


def _row_keys(con: duckdb.DuckDBPyConnection, kinds: list[str]) -> duckdb.DuckDBPyRelation:
    """The keys of every cleaned row (the input `rows` of ingest_days.sql), in a temporary table."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_ROWS} (_seq BIGINT, _file VARCHAR, _record BIGINT, _hint DATE, "
        "crawl_day DATE, id VARCHAR, crawled_at TIMESTAMPTZ, kind VARCHAR, kind_pos INTEGER, bad BOOLEAN)"
    )
    for kind in kinds:
        con.execute(
            f"INSERT INTO {_ROWS} SELECT _seq, _file, _record, _hint, crawl_day, {ID_COLUMN[kind]}, crawled_at, "
            f"$kind, $pos, reason IS NOT NULL FROM {_CLEANED[kind]}",
            {"kind": kind, "pos": CLEAN_ORDER.index(kind)},
        )
    return con.table(_ROWS)


def ingest_raw(
    batches: Iterable[tuple[str, FileRecords]],
    ctx: IngestContext,
    start: date | None = None,
    end: date | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> IngestResult:
    """Clean batches of records (kind, FileRecords) in DuckDB, keeping rows of days in [start, end]
    (`ingest_batches`' contract: lib/ingest/intake.py). With ``con`` (from `clean.connection()`), the result's
    tables are relations over temporary tables of it, valid while it is open; else Arrow tables."""
    now = ctx.now or datetime.now(UTC)
    own = con is None
    con = connection() if con is None else con
    try:
        run = _Batches(con)
        for kind, fr in batches:
            run.add(kind, fr)
        kinds = _clean(con, run, ctx, now)
        problems = run.problem_table()
        problem_keys = problems.select(["kind", "_pseq", "_file", "record_number", "_hint"])
        duck.create_table_as(
            con,
            _DATED,
            "ingest_days",
            {"rows": _row_keys(con, kinds), "problems": problem_keys},
            {"start": start, "end": end},
        )
        con.execute(f"DROP TABLE {_ROWS}")
        fates = duck.create_table_as(con, _FATES, "ingest_dedup", {"dated": con.table(_DATED)})
        con.execute(f"DROP TABLE {_DATED}")
        accounting = duck.run_query(con, "ingest_accounting", {"fates": fates})
        result = _result(con, run, kinds, problems, fates, accounting)
        con.execute(f"DROP TABLE {_FATES}")
        if own:
            result.tables = {k: _arrow(t) for k, t in result.tables.items()}
        return result
    finally:
        if own:
            con.close()


def _arrow(table: pa.Table | duckdb.DuckDBPyRelation) -> pa.Table:
    if isinstance(table, pa.Table):
        return table
    got = table.to_arrow_table()
    return got.read_all() if isinstance(got, pa.RecordBatchReader) else got


def _result(
    con: duckdb.DuckDBPyConnection,
    run: _Batches,
    kinds_cleaned: list[str],
    problems: pa.Table,
    fates: duckdb.DuckDBPyRelation,
    accounting: pa.Table,
) -> IngestResult:
    """The quarantine (rejected rows with their records, unreadable records), the notes about undated rows and the
    kept tables, from each row's fate (``fates``: ingest_dedup.sql's table, ordered by is_problem, kind, seq)."""
    file_notes = run.file_notes
    # rows without a usable crawl time and no date to file them under (few): a note per file, by kind
    undated = fates.filter("NOT is_problem AND undated").select("kind, _file, snapshot_date, kind_pos, seq")
    undated = undated.order("kind_pos, seq").fetchall()
    for kind in KINDS:
        of_kind = [(f, d) for k, f, d, _, _ in undated if k == kind]
        for f in dict.fromkeys(f for f, _ in of_kind):
            file_notes.setdefault(f, []).append(
                f"rows without a usable crawl time and no date to file them under: quarantined under {of_kind[0][1]}"
            )
    tables: dict[str, pa.Table | duckdb.DuckDBPyRelation] = {}
    quarantine: list[dict[str, Any]] = []
    for kind in CLEAN_ORDER:
        if kind not in kinds_cleaned:
            tables[kind] = TABLES[kind].schema.empty_table()
            continue
        inputs = {"cleaned": con.table(_CLEANED[kind]), "fates": fates}
        for r in duck.run_query(con, "ingest_rejected", inputs, {"kind": kind}).to_pylist():
            quarantine.append(
                {
                    "source": kind,
                    "source_file": r["_file"],
                    "record_number": r["_record"],
                    "reason": r["reason"],
                    "raw": _raw_json(run.record(kind, r["_seq"], r["_record"])),
                    "snapshot_date": r["snapshot_date"],
                }
            )
        duck.create_table_as(con, _KEPT[kind], "ingest_kept", inputs, {"kind": kind})
        con.execute(f"DROP TABLE {_CLEANED[kind]}")
        tables[kind] = con.table(_KEPT[kind]).select(*TABLES[kind].column_names)
    # the unreadable records (problems), in the order of the problems table (seq = _pseq)
    fated = fates.filter("is_problem").select("status, snapshot_date, undated, seq").order("seq").fetchall()
    for f in dict.fromkeys(f for f, (_, _, und, _) in zip(problems.column("_file").to_pylist(), fated) if und):
        file_notes.setdefault(f, []).append(
            "unreadable content and no date to file it under (no date in the file name, no valid row): "
            "quarantined under the run's first day"
        )
    for r, (status, day, _, _) in zip(problems.to_pylist(), fated):
        if status == "quarantined":
            quarantine.append(
                {
                    "source": r["kind"],
                    "source_file": r["_file"],
                    "record_number": r["record_number"],
                    "reason": r["reason"],
                    "raw": r["raw"],
                    "snapshot_date": day,
                }
            )
    q = pd.DataFrame(quarantine, columns=QUARANTINE.column_names) if quarantine else QUARANTINE.empty_frame()
    if len(q):
        q["record_number"] = q["record_number"].astype("int64")
        q = q.sort_values(["snapshot_date", "source_file", "record_number"], kind="mergesort").reset_index(drop=True)
    return IngestResult(tables=tables, quarantine=q, accounting=_accounting_frame(accounting), file_notes=file_notes)


def _accounting_frame(accounting: pa.Table) -> pd.DataFrame:
    acc_cols = ["source_file", "kind", "snapshot_date", "read", "kept", "duplicates", "quarantined"]
    if accounting.num_rows == 0:
        return pd.DataFrame(columns=acc_cols)
    return pd.DataFrame(
        {
            "source_file": pd.Series(accounting.column("source_file").to_pylist(), dtype=object),
            "kind": pd.Series(accounting.column("kind").to_pylist(), dtype=object),
            "snapshot_date": pd.Series(accounting.column("snapshot_date").to_pylist(), dtype=object),
            **{
                c: accounting.column(c).to_numpy().astype("int64")
                for c in ("read", "kept", "duplicates", "quarantined")
            },
        }
    )
