"""comment_state in DuckDB SQL: the daily fold, the bootstrap and the rows a run stores (the formulas are in
``comment_state.sql`` and ``comment_state_bootstrap.sql`` beside this file; docs/metrics.md "How comment_state is
stored"). Reading the stored state (the view of a day) and the metrics' two comment inputs are in
``comment_view.py``; what both use (the state's columns and window, the run rows' names) in ``comment_common.py``.

The state is keyed by the real ids: comment_id, the note_id of its first snapshot, its normalized text (null when
empty) and the note_id of its latest top-level snapshot. Each day stores the comments seen that day (a delta);
the state of a day is the view over the trailing 122 partitions from the latest base on (comment_view.sql). A
base (the whole state) is stored when the state of the day before could not be read from stored partitions
(bootstrapped from the cleaned comments) or when the partitions the view reads hold more superseded rows than
live ones (comments re-crawled day after day).

Usage: ``comment_view.use_stored(con, stored)`` makes the view read the stored partitions (a DuckDB relation, or a
frame in tests) plus the rows this connection adds; then ``fold_days`` or ``state_partitions`` (the asset) run on
``con``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest import comments as comments_lib
from kol_pipeline.lib.ingest import sentiment as sentiment_lib
from kol_pipeline.lib.settings import Lexicon
from kol_pipeline.lib.state.comment_common import (
    KEEP_DAYS,
    RUN,
    RUN_ROWS,
    STATE_TYPES,
    columns_of,
    register,
    typed,
)
from kol_pipeline.lib.state.comment_view import view_cost

#: the cleaned comments' columns the state reads
COMMENT_COLUMNS = ["comment_id", "note_id", "parent_comment_id", "content", "is_substantive", "crawled_at"]
#: the state's columns (each stored partition has them, plus snapshot_date and base)
STATE_COLUMNS = list(STATE_TYPES)
STORED_COLUMNS = ["snapshot_date", *STATE_COLUMNS, "base"]
_FILES = "comment_state_run_files"  # the folders of a bootstrapped base's files (``release`` removes them)
_NORMS = "comment_state_boot_norms"  # the normalized texts and sentiments of a day or bootstrap (``_norms_table``)
BOOT_BUCKET_ROWS = 10_000_000  # comment rows a bootstrap's query takes at a time (``_bootstrap_inputs``)
_DAY_TYPES = {
    "comment_id": "VARCHAR",
    "note_id": "VARCHAR",
    "parent_comment_id": "VARCHAR",
    "content": "VARCHAR",
    "is_substantive": "BOOLEAN",
    "crawled_at": "TIMESTAMPTZ",
}


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the files of a bootstrapped base (``fold_days``) from DuckDB's temp directory, once the run rows are
    written; the connection's run rows no longer include them. Safe to call on any connection, more than once."""
    try:
        folders = [r[0] for r in con.sql(f"SELECT folder FROM {_FILES}").fetchall()]
    except duckdb.Error:  # no bootstrap wrote files on this connection
        return
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {RUN_ROWS} AS SELECT * FROM {RUN}")
    except duckdb.Error:
        pass
    con.execute(f"DROP TABLE IF EXISTS {_FILES}")
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def _norms_table(
    con: duckdb.DuckDBPyConnection,
    contents: duckdb.DuckDBPyRelation | pa.Array | pa.ChunkedArray,
    lexicon: Lexicon | None,
) -> duckdb.DuckDBPyRelation:
    """content -> norm_text and sentiment for each distinct text of ``contents`` (a relation with one column,
    content, or an Arrow column of texts), in a temporary table of ``con``: comment_text.sql's
    ``comment_norm_text`` (null when empty) and sentiment.sql with ``lexicon``'s lists (the default lexicon when
    None). The sentiment is computed from the content, not read from comments.sentiment, so that cleaned
    partitions written before that column existed give it too (a state rebuilt from them). A bootstrap's window
    holds tens of millions of distinct texts at scale: they stay in DuckDB, within its memory limit."""
    comments_lib.define(con)
    sentiment_lib.define(con)
    if isinstance(contents, duckdb.DuckDBPyRelation):
        contents.create_view(f"{_NORMS}_src", replace=True)
    else:
        con.register(f"{_NORMS}_src", pa.table({"content": contents}))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_NORMS} AS "
            "SELECT content, nullif(comment_norm_text(content), '') AS norm_text, "
            f"{sentiment_lib.SENTIMENT_CALL.format(content='content')} AS sentiment "
            f"FROM (SELECT DISTINCT content FROM {_NORMS}_src)",
            sentiment_lib.params(lexicon),
        )
    finally:
        if isinstance(contents, duckdb.DuckDBPyRelation):
            con.execute(f"DROP VIEW IF EXISTS {_NORMS}_src")
        else:
            con.unregister(f"{_NORMS}_src")
    return con.table(_NORMS)


def _day_table(con: duckdb.DuckDBPyConnection, comments) -> pa.Table | None:
    """One day's cleaned comments (frame, Arrow table or relation) as the step reads them: typed, with ``seq``
    (the row's position). None when there is no row."""
    if comments is None:
        return None
    if isinstance(comments, pd.DataFrame):
        if len(comments) == 0:
            return None
        comments = pa.Table.from_pandas(comments.reset_index(drop=True), preserve_index=False)
    elif isinstance(comments, duckdb.DuckDBPyRelation):
        comments = comments.to_arrow_table()
        if isinstance(comments, pa.RecordBatchReader):
            comments = comments.read_all()
    if comments.num_rows == 0:
        return None
    con.register("comment_state_day_in", comments)
    try:
        sql = typed("comment_state_day_in", _DAY_TYPES, comments.column_names, ", row_number() OVER () AS seq")
        out = con.sql(sql).to_arrow_table()
    finally:
        con.unregister("comment_state_day_in")
    return out.read_all() if isinstance(out, pa.RecordBatchReader) else out


def comment_state_delta(
    con: duckdb.DuckDBPyConnection,
    comments_day,
    day: date,
    keep_days: int = KEEP_DAYS,
    lexicon: Lexicon | None = None,
) -> pa.Table | None:
    """The rows of the comment state of ``day`` of the comments seen that day (comment_state.sql), from the
    state of the day before (the view ``use_stored`` set up) and the day's cleaned comments. None: no comment."""
    tbl = _day_table(con, comments_day)
    if tbl is None:
        return None
    try:
        return duck.run_query(
            con,
            "comment_state",
            {"day_comments": tbl, "norms": _norms_table(con, tbl["content"], lexicon)},
            {"day": day, "keep_days": int(keep_days)},
        )
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_NORMS}")


def bootstrap_state(
    con: duckdb.DuckDBPyConnection, comments, day: date, keep_days: int = KEEP_DAYS, lexicon: Lexicon | None = None
) -> pa.Table:
    """The comment state of ``day`` from cleaned comments of at most keep_days + 1 days up to it (a relation or
    frame with snapshot_date; comment_state_bootstrap.sql), as Arrow."""
    params = {"day": day, "keep_days": int(keep_days)}
    with _bootstrap_inputs(con, comments, lexicon) as buckets:
        parts = [duck.run_query(con, "comment_state_bootstrap", inputs(), params) for inputs in buckets]
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]


def _bootstrap_base(
    con: duckdb.DuckDBPyConnection, comments, first_day, day: date, keep_days: int, lexicon: Lexicon | None
) -> int:
    """The state of ``day`` bootstrapped from ``comments`` (the days before it, with snapshot_date) and
    ``first_day`` (its own comments), as the base of ``day`` among the connection's run rows; its row count.

    One bucket goes into the run table. Buckets (a window of more than ``BOOT_BUCKET_ROWS`` rows: the base is
    the whole state, 238 M rows at the 1M benchmark) are each written as a Parquet file in DuckDB's temp
    directory, which the run rows and the view read until ``release``: in the run table they would be held
    uncompressed (spilled, ~150 bytes a row) and then copied once more by the IO manager."""
    params = {"day": day, "keep_days": int(keep_days)}
    select = f"$day AS snapshot_date, {', '.join(STATE_COLUMNS)}, true AS base"
    with _bootstrap_inputs(con, comments, lexicon, first_day, day) as buckets:
        if len(buckets) == 1:
            duck.insert_query(con, RUN, select, "comment_state_bootstrap", buckets[0](), params)
            return _count(con, day)
        folder = duck.temp_folder(con, "comment_state_base")
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_FILES} (folder VARCHAR)")
        con.execute(f"INSERT INTO {_FILES} VALUES ($folder)", {"folder": str(folder)})
        for b, inputs in enumerate(buckets):
            path = folder / f"part-{b:04d}.parquet"
            duck.copy_query(con, str(path), select, "comment_state_bootstrap", inputs(), params)
    base = con.read_parquet(str(folder / "*.parquet"))
    base.create_view(f"{RUN_ROWS}_base", replace=True)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {RUN_ROWS} AS SELECT * FROM {RUN} UNION ALL BY NAME SELECT * FROM {RUN_ROWS}_base"
    )
    return _count(con, day)


@contextmanager
def _bootstrap_inputs(
    con: duckdb.DuckDBPyConnection, comments, lexicon: Lexicon | None, first_day=None, day: date | None = None
) -> Iterator[list[Callable[[], dict]]]:
    """The inputs of comment_state_bootstrap.sql (``boot_comments``, ``norms``) for each bucket of ``comments``
    (with snapshot_date) and ``first_day`` (the comments of ``day``, without it; None: none), as functions that
    make them: one bucket up to ``BOOT_BUCKET_ROWS`` rows (read when called), else that many rows a bucket or
    fewer, by a hash of comment_id. The query's windows and groups are per comment, so the buckets' results are
    disjoint and together the whole state; one query over 238 M rows (119 days at 2 M comments a day) ran out of
    DuckDB's 1 GB (BENCHMARKS.md). The buckets are written once as Parquet files in DuckDB's temp directory (their
    rows typed and numbered first, so ``seq`` is the row's position in all of them) and each read back alone."""
    register(con, "comment_state_boot_in", comments)
    folder: Path | None = None
    try:
        types = {"snapshot_date": "DATE", **_DAY_TYPES}
        rows = int(con.sql("SELECT count(*) FROM comment_state_boot_in").fetchall()[0][0])
        # each side numbered on its own: a window over a UNION is not streamed (DuckDB materializes its input)
        sql = f"SELECT *, row_number() OVER () AS seq FROM ({typed('comment_state_boot_in', types, columns_of(comments))})"
        params: dict = {}
        if first_day is not None and (not isinstance(first_day, pd.DataFrame) or len(first_day)):
            register(con, "comment_state_boot_day", first_day)
            day_sql = typed("comment_state_boot_day", _DAY_TYPES, columns_of(first_day))
            sql += (
                " UNION ALL SELECT CAST($day AS DATE) AS snapshot_date, *, $offset + row_number() OVER () AS seq"
                f" FROM ({day_sql})"
            )
            params = {"day": day, "offset": rows}
            rows += int(con.sql("SELECT count(*) FROM comment_state_boot_day").fetchall()[0][0])
        boot = con.sql(sql, params=params)
        norms = _norms_table(con, boot.project("content"), lexicon)
        n = duck.bucket_count(rows, BOOT_BUCKET_ROWS)
        if n == 1:
            yield [lambda: {"boot_comments": boot, "norms": norms}]
            return
        folder = duck.temp_folder(con, "comment_state_boot")
        boot.create_view("comment_state_boot_typed", replace=True)
        bucketed = con.sql("SELECT *, hash(comment_id) % $n AS bucket FROM comment_state_boot_typed", params={"n": n})
        written = duck.write_buckets(con, bucketed, folder)
        yield [lambda rel=rel: {"boot_comments": rel, "norms": norms} for rel in written]
    finally:
        for drop in (
            "DROP VIEW IF EXISTS comment_state_boot_typed",
            "DROP VIEW IF EXISTS comment_state_boot_in",
            "DROP VIEW IF EXISTS comment_state_boot_day",
            f"DROP TABLE IF EXISTS {_NORMS}",
        ):
            try:
                con.execute(drop)
            except duckdb.Error:
                pass
        for name in ("comment_state_boot_in", "comment_state_boot_day"):
            try:
                con.unregister(name)
            except duckdb.Error:
                pass
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _add(con: duckdb.DuckDBPyConnection, rows: pa.Table, day: date, base: bool) -> None:
    con.register("comment_state_add", rows)
    try:
        cols = ", ".join(STATE_COLUMNS)
        con.execute(
            f"INSERT INTO {RUN} SELECT $day, {cols}, $base FROM comment_state_add",
            {"day": day, "base": base},
        )
    finally:
        con.unregister("comment_state_add")


def fold_days(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[date],
    read: Callable[[date], object],
    boot: object | None = None,
    base_first: bool = False,
    keep_days: int = KEEP_DAYS,
    lexicon: Lexicon | None = None,
) -> Iterator[tuple[date, int, bool]]:
    """The comment_state partitions to store for ``days`` (consecutive), continuing from the view ``use_stored``
    set up (the state of the day before the first), or, with ``boot`` (cleaned comments of the days before the
    first, with snapshot_date), the first day's state bootstrapped in one query from them and the first day's
    own comments. ``read(day)``: the day's cleaned comments (None: none). Each day's partition is a delta (the
    comments seen that day), or the whole state of the day when ``base_first`` or ``boot`` (first day only), or
    when the view would read more superseded rows than live ones. It is kept in the connection's run rows
    (``run_rows``; what the view reads for the next day), never as Arrow in Python: a base holds tens of millions
    of rows at scale (a large bootstrapped one as files: call ``release`` once the rows are written). Yields
    (day, rows, is_base). ``lexicon``: the word lists of the comments' sentiment (None: the default lexicon)."""
    rest = list(days)
    if boot is not None and rest:
        d = rest.pop(0)
        yield d, _bootstrap_base(con, boot, read(d), d, keep_days, lexicon), True
    for d in rest:
        delta = comment_state_delta(con, read(d), d, keep_days, lexicon)
        if delta is not None:
            _add(con, delta, d, False)
        rows_read, superseded = view_cost(con, d, keep_days)
        if base_first or superseded > rows_read - superseded:
            # the view of d (which reads d's delta) becomes d's partition, in place of the delta
            params = {"day": d, "since": d - timedelta(days=keep_days)}
            cols = ", ".join(STATE_COLUMNS)
            con.execute(f"INSERT INTO {RUN} SELECT $day, {cols}, true FROM comment_view($day, $since)", params)
            con.execute(f"DELETE FROM {RUN} WHERE snapshot_date = $day AND NOT base", {"day": d})
            base_first = False
            yield d, _count(con, d), True
        else:
            yield d, delta.num_rows if delta is not None else 0, False


def run_rows(con: duckdb.DuckDBPyConnection, first: date, last: date) -> duckdb.DuckDBPyRelation:
    """The partitions ``fold_days`` kept for the days ``first`` .. ``last`` (the columns of a stored partition:
    snapshot_date, the state's columns, base), day after day, each day's rows in their order: a lazy relation
    on ``con``, for the IO manager to write with DuckDB."""
    return con.sql(
        f"SELECT {', '.join(STORED_COLUMNS)} FROM {RUN_ROWS} WHERE snapshot_date BETWEEN $first AND $last",
        params={"first": first, "last": last},
    )


def state_partitions(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[date],
    read: Callable[[date], object],
    boot: object | None = None,
    base_first: bool = False,
    keep_days: int = KEEP_DAYS,
    lexicon: Lexicon | None = None,
) -> Iterator[tuple[date, pa.Table, bool]]:
    """``fold_days`` with each day's partition as Arrow (the state's columns): (day, rows, is_base); the files
    of a bootstrapped base are released at the end."""
    try:
        for d, n, base in fold_days(con, days, read, boot, base_first, keep_days, lexicon):
            if not n:
                yield d, _empty(), base
                continue
            out = con.sql(
                f"SELECT {', '.join(STATE_COLUMNS)} FROM {RUN_ROWS} WHERE snapshot_date = $day", params={"day": d}
            ).to_arrow_table()
            yield d, out.read_all() if isinstance(out, pa.RecordBatchReader) else out, base
    finally:
        release(con)


def _count(con: duckdb.DuckDBPyConnection, day: date) -> int:
    sql = f"SELECT count(*) FROM {RUN_ROWS} WHERE snapshot_date = $day"
    return int(con.sql(sql, params={"day": day}).fetchall()[0][0])


def _empty() -> pa.Table:
    types = {"VARCHAR": pa.string(), "DATE": pa.date32(), "BOOLEAN": pa.bool_()}
    return pa.schema([(c, types[t]) for c, t in STATE_TYPES.items()]).empty_table()
