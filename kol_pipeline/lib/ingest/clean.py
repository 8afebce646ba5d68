"""Cleaning, partitioning, de-duplication and accounting of MediaCrawler records in DuckDB SQL (issue #25 point 1).

From the raw relations (lib/ingest/raw.py: one row per parsed record, one JSON column per field) and the files'
problems to the cleaned `notes`, `creators`, `comments`, the `quarantine` and the row accounting:

- ingest_macros.sql: the value rules (counts, epoch times, the Asia/Shanghai day, ids, tags, terms) as macros;
- clean_notes.sql, clean_creators.sql, clean_comments.sql: one query per kind, the first failing rule of a row as
  its reason (the texts of docs/ingestion.md "Quarantine reasons"), category, brands and disclosure for notes;
- ingest_days.sql: each row's and each problem's day (the partition rule) and whether it is in the run's range;
- ingest_dedup.sql: each row's fate (kept, duplicate, quarantined; out of range: NULL);
- ingest_accounting.sql: read = kept + duplicates + quarantined per file, kind and day.

Left in Python: the repr of a rejected value in a reason (`show_value`, registered as the SQL function py_show and
called only for rejected rows), str() of a list or dict value (py_container_str), the quarantine's `raw` (the
whole record as JSON, taken from the batch for the rejected rows only). The kept comments' classes and sentiment
are the macros of comment_text.sql and sentiment.sql (lib/ingest/comments.comment_columns).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest import raw as raw_lib
from kol_pipeline.lib.ingest.comments import comment_columns
from kol_pipeline.lib.ingest.discovery import KINDS
from kol_pipeline.lib.ingest.fastread import ColumnarRecords
from kol_pipeline.lib.ingest.readers import FileRecords
from kol_pipeline.lib.schemas import QUARANTINE, STR, STR_LIST, TABLES
from kol_pipeline.lib.settings import DEFAULT_TIER_BOUNDS, TIER_NAMES, Lexicon, load_lexicon

__all__ = [
    "IngestContext",
    "IngestResult",
    "ID_COLUMN",
    "FUTURE_TOLERANCE",
    "connection",
    "crawl_day_numbers",
    "ingest_raw",
    "show_value",
]

ID_COLUMN = {"notes": "note_id", "comments": "comment_id", "creators": "user_id"}
FUTURE_TOLERANCE = timedelta(days=1)
# what Python's str.strip() and re's \s take for whitespace (str.isspace)
PY_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
# the blanks around a zero label (parsing's old str.strip(" \t\r\n"))
ASCII_BLANKS = " \t\r\n"
# the order kinds are cleaned and quarantined in (ties of the quarantine's order keep it)
CLEAN_ORDER = ("notes", "creators", "comments")


@dataclass
class IngestContext:
    """What cleaning needs besides the rows: reference data and configuration."""

    categories: pd.DataFrame | None = None
    brands: pd.DataFrame | None = None
    lexicon: Lexicon = field(default_factory=load_lexicon)
    tier_bounds: tuple[int, int, int, int] = DEFAULT_TIER_BOUNDS
    now: datetime | None = None


@dataclass
class IngestResult:
    """The cleaned tables as Arrow (``arrow``: notes, creators, comments with the schema's columns, in the order
    the warehouse stores them: by id, then day), the quarantined rows, the row accounting per file and day, and
    notes per file. ``notes``, ``creators``, ``comments`` and ``table(kind)`` give a cleaned table as a pandas
    frame (text and text lists as Arrow columns, see `schemas.arrow_text`), converted on each access: the ingest
    step hands the Arrow tables to the IO manager and converts one table at a time for its checks."""

    arrow: dict[str, pa.Table]
    quarantine: pd.DataFrame
    accounting: pd.DataFrame  # source_file, kind, snapshot_date, read, kept, duplicates, quarantined
    file_notes: dict[str, list[str]]

    @property
    def notes(self) -> pd.DataFrame:
        return self.table("notes")

    @property
    def creators(self) -> pd.DataFrame:
        return self.table("creators")

    @property
    def comments(self) -> pd.DataFrame:
        return self.table("comments")

    def table(self, kind: str) -> pd.DataFrame:
        table = self.arrow[kind]
        return frame(table, kind) if table.num_rows else TABLES[kind].empty_frame()


# ---------------------------------------------------------------- the Python side of the macros


def show_value(value: object, limit: int = 80) -> str:
    """A value as a reason quotes it: its repr, cut to `limit` characters (the whole record is in `raw`)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _py_show(text: str) -> str:
    return show_value(json.loads(text))


def _py_container_str(text: str) -> str:
    return str(json.loads(text))


def _is_ascii_word(s: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "#_- ") for c in s) and bool(s)


def connection() -> duckdb.DuckDBPyConnection:
    """A bounded connection (lib/duck.py) with UTC as its time zone and the ingestion macros created."""
    con = duck.connect()
    con.execute("SET TimeZone = 'UTC'")
    varchar = duckdb.sqltype("VARCHAR")
    con.create_function("py_show", _py_show, [varchar], varchar, side_effects=False)
    con.create_function("py_container_str", _py_container_str, [varchar], varchar, side_effects=False)
    # the whitespace sets as string constants (code constants, not data: the only values formatted into SQL here)
    con.execute(f"CREATE OR REPLACE MACRO py_ws() AS {_literal(PY_WHITESPACE)}")
    con.execute(f"CREATE OR REPLACE MACRO ascii_ws() AS {_literal(ASCII_BLANKS)}")
    con.execute(duck.query_text("ingest_macros"))
    return con


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def crawl_day_numbers(values: pd.Series | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Day number (days since 1970-01-01, Asia/Shanghai) of each crawl time given as text (a string as the JSON
    string, an integer as its digits: the fast reader's columns), -1 where it is unusable: the SQL's own rule
    (epoch_status/epoch_ts, shanghai_day), so the landing index files a row where the cleaning does."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(values.dtype, pd.ArrowDtype):
        arr = pa.array(values.array)
    else:
        arr = pa.array([None if v is None or v != v else str(v) for v in values.tolist()], pa.string())
    arr = arr.cast(pa.string())
    con = connection()
    try:
        con.register("crawl", pa.table({"s": arr}))
        # n computed once as a column, as the macros expect (ingest_macros.sql): passed inline, epoch_num(s) is
        # expanded at each of epoch_ts's uses of n, and the query took 11x as long (4.9 s against 0.43 s for
        # 300,000 rows)
        out = con.sql(
            "SELECT coalesce(shanghai_day(epoch_ts(s, n)) - DATE '1970-01-01', -1)::BIGINT AS d "
            "FROM (SELECT s, epoch_num(s) AS n FROM crawl)"
        ).fetchnumpy()["d"]
    finally:
        con.close()
    return np.asarray(out, dtype=np.int64)


# ---------------------------------------------------------------- reference data as small tables


def keyword_table(categories: pd.DataFrame | None) -> pa.Table:
    """categories.csv as (cat_pos, category, keyword): the keyword lower-cased and stripped, blanks left out; a
    category's position is its first row (ties of the scoring go to the category listed first)."""
    rows: list[tuple[int, str, str]] = []
    if categories is not None and not categories.empty:
        order = {c: i for i, c in enumerate(dict.fromkeys(categories["category"].tolist()))}
        for cat, kw in zip(categories["category"], categories["keyword"].astype(str)):
            k = kw.lower().strip()
            if k:
                rows.append((order[cat], str(cat), k))
    return pa.table(
        {
            "cat_pos": pa.array([r[0] for r in rows], pa.int32()),
            "category": pa.array([r[1] for r in rows], pa.string()),
            "keyword": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def brand_term_table(brands: pd.DataFrame | None) -> pa.Table:
    """Every brand name and alias (lower-cased; blanks left out) with its brand's row and whether it is a Latin word
    (matched as a whole word)."""
    rows: list[tuple[int, str, str, bool]] = []
    if brands is not None and not brands.empty:
        for b, (brand, aliases) in enumerate(zip(brands["brand"], brands["aliases"])):
            for n in [brand, *[a for a in (aliases if aliases is not None else []) if a]]:
                if str(n).strip():
                    rows.append((b, str(brand), str(n).lower(), _is_ascii_word(str(n))))
    return pa.table(
        {
            "brand_pos": pa.array([r[0] for r in rows], pa.int32()),
            "brand": pa.array([r[1] for r in rows], pa.string()),
            "term": pa.array([r[2] for r in rows], pa.string()),
            "is_word": pa.array([r[3] for r in rows], pa.bool_()),
        }
    )


def marker_table(markers: Iterable[str]) -> pa.Table:
    ms = [str(m) for m in markers]
    return pa.table(
        {
            "term": pa.array([m.lower() for m in ms], pa.string()),
            "is_word": pa.array([_is_ascii_word(m) for m in ms], pa.bool_()),
        }
    )


# ---------------------------------------------------------------- the run


@dataclass
class _Batches:
    """The raw relations of a run by kind, the problems, and where each raw row's record can be found again."""

    raw: dict[str, list[pa.Table]] = field(default_factory=lambda: {k: [] for k in KINDS})
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
        table = raw_lib.raw_table(kind, fr)
        if table.num_rows:
            table = table.append_column("_hint", pa.array([fr.fallback_day] * table.num_rows, pa.date32()))
            # kept to find a rejected row's record again; a columnar batch without its frame (the raw table has
            # the rows; a record is read again from the file by its number)
            keep = dataclasses.replace(fr, frame=None) if isinstance(fr, ColumnarRecords) else fr
            self.sources[kind].append((self.rows[kind], keep))
            self.raw[kind].append(table)
            self.rows[kind] += table.num_rows
        if fr.problems:
            self.problems.append((kind, fr))

    def relation(self, kind: str) -> pa.Table:
        parts = self.raw[kind]
        table = pa.concat_tables(parts) if parts else None
        self.raw[kind] = []
        assert table is not None
        return table.append_column("_seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))

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


def frame(table: pa.Table, kind: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A cleaned table (Arrow) as the pandas frames of the ingest step hold it (the schema's ``columns``, default
    all): text and text lists as Arrow columns, counts Int64, times datetime64[us, UTC], days as Python dates."""
    wanted = set(columns) if columns is not None else None
    out: dict[str, Any] = {}
    for col in TABLES[kind].columns:
        if wanted is not None and col.name not in wanted:
            continue
        arr = table.column(col.name)
        if col.type == STR or col.type == STR_LIST:
            out[col.name] = pd.Series(pd.arrays.ArrowExtensionArray(arr.cast(col.type)))
        elif pa.types.is_timestamp(arr.type):
            out[col.name] = pd.Series(arr.cast(pa.timestamp("us", tz="UTC")).to_pandas(), dtype="datetime64[us, UTC]")
        elif pa.types.is_integer(arr.type):
            out[col.name] = pd.Series(arr.to_pandas(integer_object_nulls=False), dtype="Int64")
        elif pa.types.is_date(arr.type):
            out[col.name] = pd.Series(arr.to_pandas(date_as_object=True).to_numpy(), dtype=object)  # datetime.date
        elif pa.types.is_boolean(arr.type):
            out[col.name] = pd.Series(arr.to_numpy(zero_copy_only=False), dtype=bool)
        else:
            out[col.name] = arr.to_pandas()
    return pd.DataFrame(out, index=pd.RangeIndex(table.num_rows))


def ingest_raw(
    batches: Iterable[tuple[str, FileRecords]],
    ctx: IngestContext,
    start: date | None = None,
    end: date | None = None,
) -> IngestResult:
    """Clean batches of records (kind, FileRecords) in DuckDB, keeping rows of days in [start, end]
    (`ingest_batches`' contract: lib/ingest/intake.py)."""
    now = ctx.now or datetime.now(UTC)
    run = _Batches()
    for kind, fr in batches:
        run.add(kind, fr)
    con = connection()
    try:
        cleaned: dict[str, pa.Table] = {}
        refs = {
            "kw": keyword_table(ctx.categories),
            "brand_terms": brand_term_table(ctx.brands),
            "markers": marker_table(ctx.lexicon.disclosure_markers),
        }
        for kind in CLEAN_ORDER:
            if not run.rows[kind]:
                continue
            params: dict[str, object] = {"now_limit": now + FUTURE_TOLERANCE}
            inputs: dict[str, object] = {"raw": run.relation(kind)}
            if kind == "notes":
                inputs.update(refs)
            if kind == "creators":
                params.update(tier_bounds=list(ctx.tier_bounds), tier_names=list(TIER_NAMES))
            cleaned[kind] = duck.run_query(con, f"clean_{kind}", inputs, params)
        rows = [
            cleaned[k]
            .select(["_seq", "_file", "_record", "_hint", "crawl_day", ID_COLUMN[k], "crawled_at"])
            .rename_columns(["_seq", "_file", "_record", "_hint", "crawl_day", "id", "crawled_at"])
            .append_column("kind", pa.array([k] * cleaned[k].num_rows, pa.string()))
            .append_column("kind_pos", pa.array([CLEAN_ORDER.index(k)] * cleaned[k].num_rows, pa.int32()))
            .append_column("bad", pc.is_valid(cleaned[k].column("reason")))
            for k in CLEAN_ORDER
            if k in cleaned
        ]
        schema = pa.schema(
            [
                ("_seq", pa.int64()),
                ("_file", pa.string()),
                ("_record", pa.int64()),
                ("_hint", pa.date32()),
                ("crawl_day", pa.date32()),
                ("id", pa.string()),
                ("crawled_at", pa.timestamp("us", tz="UTC")),
                ("kind", pa.string()),
                ("kind_pos", pa.int32()),
                ("bad", pa.bool_()),
            ]
        )
        all_rows = pa.concat_tables([r.cast(schema) for r in rows]) if rows else schema.empty_table()
        problems = run.problem_table()
        dated = duck.run_query(
            con,
            "ingest_days",
            {"rows": all_rows, "problems": problems.select(["kind", "_pseq", "_file", "record_number", "_hint"])},
            {"start": start, "end": end},
        )
        fates = duck.run_query(con, "ingest_dedup", {"dated": dated})
        accounting = duck.run_query(con, "ingest_accounting", {"fates": fates})
        del rows, all_rows, dated  # they hold columns of the cleaned tables, which _result frees a kind at a time
        return _result(con, run, cleaned, problems, fates, accounting, ctx)
    finally:
        con.close()


def _result(
    con: duckdb.DuckDBPyConnection,
    run: _Batches,
    cleaned: dict[str, pa.Table],
    problems: pa.Table,
    fates: pa.Table,
    accounting: pa.Table,
    ctx: IngestContext,
) -> IngestResult:
    file_notes = run.file_notes
    is_problem = fates.column("is_problem").to_numpy(zero_copy_only=False)
    kinds = fates.column("kind").to_numpy(zero_copy_only=False)
    status = fates.column("status").to_numpy(zero_copy_only=False)
    undated = fates.column("undated").to_numpy(zero_copy_only=False)
    days = fates.column("snapshot_date")
    files = fates.column("_file").to_numpy(zero_copy_only=False)
    arrow: dict[str, pa.Table] = {}
    quarantine: list[dict[str, Any]] = []
    for kind in KINDS:  # the notes about undated rows in the order of the pandas implementation
        sel = ~is_problem & (kinds == kind) & undated
        if sel.any():
            day = days.filter(pa.array(sel))[0].as_py()
            for f in dict.fromkeys(files[sel]):
                file_notes.setdefault(f, []).append(
                    f"rows without a usable crawl time and no date to file them under: quarantined under {day}"
                )
    for kind in CLEAN_ORDER:
        if kind not in cleaned:
            arrow[kind] = TABLES[kind].schema.empty_table()
            continue
        sel = ~is_problem & (kinds == kind)
        bad = np.flatnonzero(status[sel] == "quarantined")
        if len(bad):
            q = (
                cleaned[kind]
                .take(pa.array(bad))
                .select(["_seq", "_file", "_record", "reason"])
                .append_column("snapshot_date", days.filter(pa.array(sel)).take(pa.array(bad)))
                .to_pylist()
            )
            for r in q:
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
        # the kept rows by id and day, in DuckDB (ingest_kept.sql); the kind's cleaned rows are freed after it
        kept = duck.run_query(con, "ingest_kept", {"cleaned": cleaned.pop(kind), "fates": fates}, {"kind": kind})
        if kind == "comments":  # the macros of comment_text.sql and sentiment.sql
            extra = comment_columns(con, kept.column("content"), ctx.lexicon)
            for name in extra.column_names:
                kept = kept.append_column(name, extra.column(name))
        arrow[kind] = kept.select(TABLES[kind].column_names)
    psel = is_problem
    if psel.any():
        pst = status[psel]
        pdays = days.filter(pa.array(psel)).to_pylist()
        pundated = undated[psel]
        for f in dict.fromkeys(np.asarray(problems.column("_file").to_pylist(), dtype=object)[pundated]):
            file_notes.setdefault(f, []).append(
                "unreadable content and no date to file it under (no date in the file name, no valid row): "
                "quarantined under the run's first day"
            )
        for i, r in enumerate(problems.to_pylist()):
            if pst[i] == "quarantined":
                quarantine.append(
                    {
                        "source": r["kind"],
                        "source_file": r["_file"],
                        "record_number": r["record_number"],
                        "reason": r["reason"],
                        "raw": r["raw"],
                        "snapshot_date": pdays[i],
                    }
                )
    q = pd.DataFrame(quarantine, columns=QUARANTINE.column_names) if quarantine else QUARANTINE.empty_frame()
    if len(q):
        q["record_number"] = q["record_number"].astype("int64")
        q = q.sort_values(["snapshot_date", "source_file", "record_number"], kind="mergesort").reset_index(drop=True)
    acc_cols = ["source_file", "kind", "snapshot_date", "read", "kept", "duplicates", "quarantined"]
    acc = (
        pd.DataFrame(columns=acc_cols)
        if accounting.num_rows == 0
        else pd.DataFrame(
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
    )
    return IngestResult(
        arrow=arrow,
        quarantine=q,
        accounting=acc,
        file_notes=file_notes,
    )
