"""The database path (issue 2): MediaCrawler's db-mode tables read through SQLAlchemy give the same warehouse rows
as MediaCrawler's files.

The bundled sample's MediaCrawler records (data/sample/mediacrawler/**) are written into `xhs_note`,
`xhs_note_comment`, `xhs_creator` (kol_pipeline_tests/fixtures/mediacrawler_schema.py, MediaCrawler's DDL) on
SQLite, PostgreSQL (KOL_TEST_PG_URL) and MariaDB/MySQL (KOL_TEST_MYSQL_URL), then ingested with
`ingest.db_batches` + `ingest_batches` and compared with the files ingested by `landing.batches_for_days` +
`ingest_batches`: every column but `source_file` (`db:<table>` instead of the file name) must be equal.

A record MediaCrawler's DDL cannot hold (the sample has one: a note without a `note_id` key, NOT NULL in the
table) is refused by the writer; the tests check that each refused record is one the file path quarantines, and
take it out of the file path's quarantine and accounting before comparing those.

Known limitation (not a crash, documented here): a database row whose `last_modify_ts` is NULL or not a number
has no crawl day, so the range query never selects it and it is neither kept nor quarantined; the files path
would quarantine such a row under its file's date, which a table does not have.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from kol_pipeline.lib.ingest import brand, landing, parsing
from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest.readers import FileRecords
from kol_pipeline_tests.integration.conftest import ALL_DAYS, BACKENDS, SAMPLE, SourceDB

pytestmark = pytest.mark.integration

START, END = date(2025, 3, 9), date(2025, 3, 11)  # holds a quarantined note (published after crawl) and comment
NOW = datetime(2025, 7, 15, tzinfo=UTC)
KEY = {
    "notes": ["note_id", "snapshot_date"],
    "creators": ["user_id", "snapshot_date"],
    "comments": ["comment_id", "snapshot_date"],
}


@pytest.fixture(scope="module")
def ctx() -> ingest.IngestContext:
    return ingest.IngestContext(
        categories=brand.read_brand_table(SAMPLE, "categories").frame,
        brands=brand.read_brand_table(SAMPLE, "brands").frame,
        now=NOW,
    )


@pytest.fixture(scope="module")
def files_range(ctx) -> ingest.IngestResult:
    return ingest.ingest_batches(landing.batches_for_days(SAMPLE, START, END), ctx, START, END)


def _rows(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    return df.drop(columns=["source_file"]).sort_values(KEY[kind], kind="mergesort").reset_index(drop=True)


def _refused_keys(db: SourceDB) -> set[tuple[str, int]]:
    return {(r.source_file, r.record_number) for r in db.report.refused}


# ---------------------------------------------------------------- the sample, three databases


def test_sample_rows_fit_mediacrawler_ddl(sample_db: SourceDB, sample_batches) -> None:
    """Every sample record is stored but the note without a note_id key (NOT NULL in MediaCrawler's DDL)."""
    read = {k: 0 for k in ingest.KINDS}
    for kind, fr in sample_batches:
        read[kind] += len(fr.records)
    refused = sample_db.report.refused
    assert [(r.kind, r.reason) for r in refused] == [("notes", "note_id is NULL in a NOT NULL column")]
    assert sample_db.report.written == {k: read[k] - sum(r.kind == k for r in refused) for k in ingest.KINDS}
    assert sample_db.report.dropped_keys == {}
    with sample_db.engine.connect() as conn:
        for kind, table in sample_db.tables.items():
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == read[kind] - sum(
                r.kind == kind for r in refused
            )


def test_db_rows_equal_file_rows(sample_db: SourceDB, ctx, files_range) -> None:
    batches = ingest.db_batches(sample_db.engine, START, END)
    assert [(k, fr.path) for k, fr in batches] == [(k, f"db:{ingest.DB_TABLES[k]}") for k in ingest.KINDS]
    db = ingest.ingest_batches(batches, ctx, START, END)
    for kind in ingest.KINDS:
        got, want = db.table(kind), files_range.table(kind)
        assert len(want) > 0, kind
        assert set(got["source_file"]) == {f"db:{ingest.DB_TABLES[kind]}"}
        assert set(want["source_file"]) != set(got["source_file"])
        assert set(got["snapshot_date"]) == set(want["snapshot_date"])
        if kind != "comments":  # comments are crawled on fewer days
            assert set(want["snapshot_date"]) == {START, date(2025, 3, 10), END}
        pd.testing.assert_frame_equal(_rows(got, kind), _rows(want, kind), check_exact=True, obj=kind)

    # quarantine: the same rows for the same reasons on the same days (source_file / record_number differ)
    refused = _refused_keys(sample_db)
    fq = files_range.quarantine
    fq = fq[[(f, n) not in refused for f, n in zip(fq["source_file"], fq["record_number"])]]
    cols = ["source", "reason", "snapshot_date"]
    assert len(fq) >= 2
    assert sorted(map(tuple, db.quarantine[cols].to_numpy())) == sorted(map(tuple, fq[cols].to_numpy()))
    assert set(db.quarantine["source_file"]) <= {f"db:{t}" for t in ingest.DB_TABLES.values()}
    # a db quarantine row's record_number is the table's id: that row holds the raw values shown
    with sample_db.engine.connect() as conn:
        for _, q in db.quarantine.iterrows():
            table = sample_db.tables[q["source"]]
            row = (
                conn.execute(sa.select(table).where(table.c.id == sa.bindparam("i")), {"i": int(q["record_number"])})
                .mappings()
                .one()
            )
            id_col = ingest.ID_COLUMN[q["source"]]
            assert f'"{id_col}": "{row[id_col]}"' in q["raw"]

    # accounting per kind and day: read = kept + duplicates + quarantined, equal to the files'
    def totals(acc: pd.DataFrame) -> pd.DataFrame:
        return acc.groupby(["kind", "snapshot_date"])[["read", "kept", "duplicates", "quarantined"]].sum().sort_index()

    fa = files_range.accounting
    assert not any(f in set(fa["source_file"]) for f, _ in refused)  # the refused note is not in this range
    pd.testing.assert_frame_equal(totals(db.accounting), totals(fa))


def test_whole_sample_notes(sample_db: SourceDB, ctx, sample_batches) -> None:
    """All 4+ months: the same notes per day (and the same rows) from the database as from the files."""
    notes_only = ("notes",)
    files = ingest.ingest_batches(landing.batches_for_days(SAMPLE, *ALL_DAYS, kinds=notes_only), ctx, *ALL_DAYS)
    db = ingest.ingest_batches(ingest.db_batches(sample_db.engine, *ALL_DAYS, kinds=notes_only), ctx, *ALL_DAYS)
    per_day_files = files.notes.groupby("snapshot_date").size()
    per_day_db = db.notes.groupby("snapshot_date").size()
    assert len(per_day_files) > 100 and per_day_files.sum() > 5000
    pd.testing.assert_series_equal(per_day_db, per_day_files)
    pd.testing.assert_frame_equal(_rows(db.notes, "notes"), _rows(files.notes, "notes"), check_exact=True)
    # the refused record is one the files path quarantines too
    fq = files.quarantine
    for r in sample_db.report.refused:
        hit = fq[(fq["source_file"] == r.source_file) & (fq["record_number"] == r.record_number)]
        assert list(hit["reason"]) == ["missing note_id"], r
    assert len(db.quarantine) == len(fq) - len(sample_db.report.refused)


# ---------------------------------------------------------------- how the reader talks to the database


def test_reader_only_selects_with_bound_parameters(sample_db: SourceDB) -> None:
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append((statement, parameters))

    sa.event.listen(sample_db.engine, "before_cursor_execute", capture)
    try:
        batches = ingest.db_batches(sample_db.engine, START, END)
    finally:
        sa.event.remove(sample_db.engine, "before_cursor_execute", capture)
    lo, hi = ingest.day_bounds_ms(START, END)
    data = [(s, p) for s, p in seen if any(t in s for t in ingest.DB_TABLES.values()) and "last_modify_ts" in s]
    assert len(data) == 3, seen
    for statement, params in data:
        assert statement.lstrip().upper().startswith("SELECT "), statement
        assert str(lo) not in statement and str(hi) not in statement, statement  # bounds are bound, not inlined
        values = list(params.values()) if isinstance(params, dict) else list(params)
        # the day in epoch ms, in epoch seconds, and the bound beyond which a crawl time is unusable (add_ts's day)
        assert set(values) == {lo, hi, lo // 1000, -(-hi // 1000), parsing.MAX_EPOCH_MS}, (statement, params)
    # anything else is the dialect's own table lookup: read-only catalogue queries
    for statement, _ in seen:
        head = statement.lstrip().split(None, 1)[0].upper()
        assert head in {"SELECT", "PRAGMA", "DESCRIBE", "SHOW"}, statement
        if head == "PRAGMA":  # SQLite's table lookups only
            assert re.match(r"PRAGMA \w+\.table_x?info\(", statement.strip()), statement
        if head == "SHOW":  # MySQL's column lookup: SHOW CREATE TABLE / SHOW FULL COLUMNS
            assert re.match(r"SHOW (CREATE TABLE|FULL COLUMNS|VARIABLES|COLUMNS)\b", statement.strip()), statement
    assert sum(len(fr.records) for _, fr in batches) > 0


def test_reader_works_on_a_read_only_sqlite_connection(sqlite_sample_db: SourceDB) -> None:
    """No write, not even a temporary one: a read-only SQLite URI gives the same records."""
    path = sqlite_sample_db.engine.url.database
    ro = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        got = ingest.db_batches(ro, START, END)
    finally:
        ro.dispose()
    want = ingest.db_batches(sqlite_sample_db.engine, START, END)
    assert [(k, fr.records) for k, fr in got] == [(k, fr.records) for k, fr in want]
    assert all(fr.records for _, fr in got)


# ---------------------------------------------------------------- awkward rows


NOTE_DAY_MS = 1741572000000  # 2025-03-10 10:00 Asia/Shanghai
TITLE = "春日穿搭🌸分享 ✨第2弹"
DESC = "真的好用😭 #穿搭[话题]# 𠀀 (a 4-byte CJK ideograph) and 👩‍👩‍👧 (a ZWJ sequence)"


def _note(note_id: str, last_modify_ts: object, title: str = "t") -> dict:
    return {
        "note_id": note_id,
        "user_id": "5a0ced91ba31c45346d82e41",
        "nickname": "不加糖的Momo🍬",
        "type": "normal",
        "title": title,
        "desc": DESC,
        "time": NOTE_DAY_MS - 3_600_000,
        "last_update_time": NOTE_DAY_MS - 3_600_000,
        "liked_count": "1.1万",
        "collected_count": "10万+",
        "comment_count": "2.3w",
        "share_count": "1.2k",
        "tag_list": "穿搭,春日",
        "last_modify_ts": last_modify_ts,
        "add_ts": NOTE_DAY_MS,
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_null_crawl_time_and_utf8mb4(backend: str, make_source_db, ctx) -> None:
    """A row with a NULL last_modify_ts (allowed by MediaCrawler's ORM models) is filed under the day of its
    add_ts and quarantined there (it was never selected before: dropped without a trace); Chinese text and 4-byte
    emoji come back unchanged (utf8mb4 on MariaDB)."""
    from kol_pipeline.orchestration import planning

    db = make_source_db(backend, strict=False)
    ok_id, null_id = "67cea45700000008a3f0f496", "67cea45700000008a3f0f497"
    day = date(2025, 3, 10)
    lo, hi = ingest.day_bounds_ms(day, day)  # 2025-03-10 00:00 and 2025-03-11 00:00 Asia/Shanghai
    edges = {"ed01": lo - 1, "ed02": lo, "ed03": hi - 1, "ed04": hi}  # the day is [lo, hi)
    with db.engine.begin() as conn:
        conn.execute(db.tables["notes"].insert(), [_note(ok_id, NOTE_DAY_MS, TITLE), _note(null_id, None)])
        conn.execute(db.tables["notes"].insert(), [_note(k, v) | {"time": lo - 7_200_000} for k, v in edges.items()])
    batches = ingest.db_batches(db.engine, day, day)
    notes_batch = [fr for k, fr in batches if k == "notes"]
    assert [r["note_id"] for r in notes_batch[0].records] == [ok_id, "ed02", "ed03"]
    assert [[r["note_id"] for r in fr.records] for fr in notes_batch[1:]] == [[null_id]]
    assert notes_batch[1].fallback_day == day
    assert [fr.records for k, fr in batches if k != "notes"] == [[], []]
    res = ingest.ingest_batches(batches, ctx, day, day)
    assert list(res.notes["note_id"]) == [ok_id, "ed02", "ed03"]
    n = res.notes.iloc[0]
    assert (n["title"], n["description"], n["nickname"]) == (TITLE, DESC, "不加糖的Momo🍬")
    assert (n["likes"], n["saves"], n["comments"], n["shares"]) == (11000, 100000, 23000, 1200)
    assert set(res.notes["snapshot_date"]) == {day}
    q = res.quarantine
    assert list(zip(q["source_file"], q["reason"], q["snapshot_date"])) == [
        ("db:xhs_note", "missing last_modify_ts", day)
    ]
    assert f'"note_id": "{null_id}"' in q["raw"].iloc[0]
    assert planning.db_crawl_days(db.engine) == {day - timedelta(days=1), day, day + timedelta(days=1)}


def test_text_crawl_time_on_sqlite(make_source_db, ctx) -> None:
    """SQLite stores a non-numeric string even in a BIGINT column: such rows, like NULL ones, are filed under their
    add_ts's day and quarantined with the reason (the partition finder finds that day)."""
    from kol_pipeline.orchestration import planning

    db = make_source_db("sqlite", strict=False)
    rows = [
        _note("aa01", NOTE_DAY_MS),
        _note("aa02", "not a time"),
        _note("aa03", ""),
        _note("aa04", None),
        _note("aa05", str(NOTE_DAY_MS + 1000)),
    ]  # a numeric string becomes an integer (column affinity)
    with db.engine.begin() as conn:
        for r in rows:  # raw values, not the writer's coercion
            conn.execute(db.tables["notes"].insert(), r)
        stored = conn.execute(sa.text("SELECT note_id, typeof(last_modify_ts) FROM xhs_note ORDER BY id")).all()
    assert stored == [("aa01", "integer"), ("aa02", "text"), ("aa03", "text"), ("aa04", "null"), ("aa05", "integer")]
    day = date(2025, 3, 10)
    batches = ingest.db_batches(db.engine, day, day)
    res = ingest.ingest_batches(batches, ctx, day, day)
    assert sorted(res.notes["note_id"]) == ["aa01", "aa05"]
    notes = [fr for k, fr in batches if k == "notes"]
    assert [int(r["last_modify_ts"]) for r in notes[0].records] == [NOTE_DAY_MS, NOTE_DAY_MS + 1000]
    assert [(r["note_id"], fr.fallback_day) for fr in notes[1:] for r in fr.records] == [
        ("aa02", day),
        ("aa03", day),
        ("aa04", day),
    ]
    q = res.quarantine.sort_values("record_number")
    assert list(zip(q["record_number"], q["reason"])) == [
        (2, "last_modify_ts is not an epoch time: 'not a time'"),
        (3, "missing last_modify_ts"),
        (4, "missing last_modify_ts"),
    ]
    assert planning.db_crawl_days(db.engine) == {day}


@pytest.mark.parametrize("backend", BACKENDS)
def test_text_crawl_time_column(backend: str, make_source_db, ctx) -> None:
    """A table whose columns are all text (MediaCrawler CSV loaded with pandas.to_sql): PostgreSQL cannot compare
    TEXT with a number, so the reader filters such a table's rows by parsed crawl day instead of crashing."""
    from kol_pipeline.orchestration import planning

    db = make_source_db(backend, strict=False)
    day = date(2025, 3, 10)
    rows = [
        _note("bb01", str(NOTE_DAY_MS), TITLE),
        _note("bb02", "not a time"),
        _note("bb03", ""),
        _note("bb04", None),
        _note("bb05", str(NOTE_DAY_MS + 86_400_000)),  # the next day: not this run's
        _note("bb06", str(NOTE_DAY_MS // 1000 + 60)),
    ]  # epoch seconds, read as such (as in files)
    frame = pd.DataFrame([{k: (None if v is None else str(v)) for k, v in r.items()} for r in rows])
    frame.insert(0, "id", range(1, len(frame) + 1))
    with db.engine.begin() as conn:
        db.tables["notes"].drop(conn)
    frame.to_sql("xhs_note", db.engine, index=False, dtype={c: sa.Text() for c in frame.columns if c != "id"})
    insp = sa.inspect(db.engine)
    assert not isinstance({c["name"]: c["type"] for c in insp.get_columns("xhs_note")}["last_modify_ts"], sa.Integer)

    batches = ingest.db_batches(db.engine, day, day)
    notes = [fr for k, fr in batches if k == "notes"][0]
    assert [r["note_id"] for r in notes.records] == ["bb01", "bb06"]
    assert notes.record_numbers == [1, 6]
    placed = [fr for k, fr in batches if k == "notes"][1:]  # unusable crawl times: add_ts's day
    assert [(n, fr.fallback_day) for fr in placed for n in fr.record_numbers] == [(2, day), (3, day), (4, day)]
    res = ingest.ingest_batches(batches, ctx, day, day)
    assert sorted(res.notes["note_id"]) == ["bb01", "bb06"]
    assert sorted(res.quarantine["record_number"]) == [2, 3, 4]
    assert res.notes.set_index("note_id").loc["bb01", "title"] == TITLE
    assert planning.db_crawl_days(db.engine) == {day, day + timedelta(days=1)}


# ---------------------------------------------------------------- end to end through Dagster


def test_dagster_ingest_from_database(sqlite_sample_db: SourceDB, tmp_path: Path, monkeypatch, ctx) -> None:
    """KOL_SOURCE_DB_URL set, a landing folder without MediaCrawler files: `run_pipeline` ingests the database's
    rows of two days into the warehouse `notes`, equal to ingesting the files of those days."""
    import dagster as dg

    from kol_pipeline.orchestration import planning, running
    from kol_pipeline.resources.io_manager import read_table

    land, wh = tmp_path / "landing", tmp_path / "warehouse"
    for rel in ("brand/brands.csv", "reference/categories.csv"):
        (land / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, land / rel)
    wh.mkdir()
    monkeypatch.setenv("KOL_SOURCE_DB_URL", sqlite_sample_db.url)
    monkeypatch.setenv("KOL_LANDING_DIR", str(land))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(wh))

    found = planning.find_partition_days(land)
    assert found == set(landing.landing_days(SAMPLE))  # every crawl day of the sample, from the database alone

    start, end = date(2025, 3, 10), date(2025, 3, 11)
    lines: list[str] = []
    summary = running.run_pipeline(
        [(start, end)],
        str(wh),
        progress=lines.append,
        instance=dg.DagsterInstance.ephemeral(),
        downstream_days=set(),
        landing=land,
    )
    assert summary.failed_runs == [], lines

    got = read_table(str(wh), "notes", start.isoformat(), end.isoformat())
    want = ingest.ingest_batches(landing.batches_for_days(SAMPLE, start, end), ctx, start, end).notes
    assert len(want) > 20
    assert set(got["source_file"]) == {"db:xhs_note"}
    assert summary.rows["notes"] == len(want)
    assert _canonical(got) == _canonical(want)


def _canonical(df: pd.DataFrame) -> list[tuple]:
    """Rows as plain Python values (lists as tuples, nulls as None, times as ISO strings), sorted; no source_file."""
    from kol_pipeline.lib.schemas import NOTES

    def cell(v: object) -> object:
        if (
            isinstance(v, (list, tuple))
            or hasattr(v, "tolist")
            and not isinstance(v, (str, bytes))
            and not pd.api.types.is_scalar(v)
        ):
            return tuple(v.tolist() if hasattr(v, "tolist") else v)
        if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
            return None
        if isinstance(v, pd.Timestamp):
            return v.isoformat()
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        if hasattr(v, "item"):
            return v.item()
        return v

    cols = [c for c in NOTES.column_names if c != "source_file"]
    return sorted((tuple(cell(v) for v in row) for row in df[cols].itertuples(index=False, name=None)), key=repr)


# ---------------------------------------------------------------- the landing sensor's view of the database


def test_db_day_fingerprints_count_every_crawl_day(sample_db: SourceDB, sample_batches) -> None:
    """One grouped query per table gives per Asia/Shanghai day the rows it holds: the same days and counts as the
    crawl days of the rows written (every written row has a numeric crawl time in MediaCrawler's DDL)."""
    from kol_pipeline.lib.ingest import source_watch

    seen: list[str] = []

    def capture(conn, cursor, statement, *args):  # noqa: ANN001
        seen.append(statement)

    sa.event.listen(sample_db.engine, "before_cursor_execute", capture)
    try:
        fps = source_watch.db_day_fingerprints(sample_db.engine)
    finally:
        sa.event.remove(sample_db.engine, "before_cursor_execute", capture)
    written = [
        (
            k,
            FileRecords(
                path=fr.path,
                records=[
                    r for r, n in zip(fr.records, fr.record_numbers) if (fr.path, n) not in _refused_keys(sample_db)
                ],
            ),
        )
        for k, fr in sample_batches
    ]
    expected = ingest.crawl_days(written)
    assert set(fps) == {d.isoformat() for d in expected}
    counts = {d: sum(int(part.split(":")[1]) for part in fp.split("|")) for d, fp in fps.items()}
    assert counts == {d.isoformat(): n for d, n in expected.items()}
    assert all(st.lstrip().upper().startswith(("SELECT", "PRAGMA", "SHOW", "DESCRIBE")) for st in seen)


@pytest.mark.parametrize("backend", BACKENDS)
def test_db_fingerprint_changes_only_on_the_day_that_changed(backend: str, make_source_db) -> None:
    from kol_pipeline.lib.ingest import source_watch

    db = make_source_db(backend, strict=False)
    note = db.tables["notes"]
    base = {
        "note_id": "n1",
        "user_id": "u1",
        "title": "t",
        "liked_count": "1",
        "collected_count": "0",
        "comment_count": "0",
        "share_count": "0",
        "type": "normal",
    }
    day1 = int(datetime(2025, 3, 1, 4, tzinfo=UTC).timestamp() * 1000)  # 12:00 Shanghai, 03-01
    day2 = int(datetime(2025, 3, 1, 16, 30, tzinfo=UTC).timestamp() * 1000)  # 00:30 Shanghai, 03-02
    cols = {c.name for c in note.columns}
    with db.engine.begin() as conn:
        conn.execute(
            note.insert(),
            [
                {
                    k: v
                    for k, v in {**base, "time": day1 - 3_600_000, "last_modify_ts": day1, "add_ts": day1}.items()
                    if k in cols
                },
                {
                    k: v
                    for k, v in {
                        **base,
                        "note_id": "n2",
                        "time": day2 - 3_600_000,
                        "last_modify_ts": day2,
                        "add_ts": day2,
                    }.items()
                    if k in cols
                },
            ],
        )
    first = source_watch.db_day_fingerprints(db.engine)
    assert sorted(first) == ["2025-03-01", "2025-03-02"]
    with db.engine.begin() as conn:  # a re-crawl of n2 later on 03-02 (MediaCrawler updates the row in place)
        conn.execute(note.update().where(note.c.note_id == "n2").values(last_modify_ts=day2 + 60_000))
    second = source_watch.db_day_fingerprints(db.engine)
    assert source_watch.changed_days(first, second) == {"2025-03-02": second["2025-03-02"]}
    with db.engine.begin() as conn:  # n1 re-crawled on 03-02: it leaves 03-01
        conn.execute(note.update().where(note.c.note_id == "n1").values(last_modify_ts=day2 + 120_000))
    third = source_watch.db_day_fingerprints(db.engine)
    assert source_watch.changed_days(second, third) == {"2025-03-01": "", "2025-03-02": third["2025-03-02"]}
