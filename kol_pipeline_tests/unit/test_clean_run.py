"""lib/ingest/clean_run.py: a run on a connection leaves only its kept tables there, and the relations over them
give the same tables as a run without a connection (Arrow), on every day of the bundled sample; a batch's raw rows
as insert_raw adds them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest import raw as raw_lib
from kol_pipeline.lib.ingest.brand import read_brand_table
from kol_pipeline.lib.ingest.fastread import FIELDS, ColumnarRecords, read_jsonl_fast
from kol_pipeline.lib.ingest.landing import batches_for_days, landing_days
from kol_pipeline.lib.ingest.readers import FileRecords, read_records

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_a_run_on_a_connection_gives_the_arrow_run_and_keeps_only_its_kept_tables():
    days = sorted(landing_days(SAMPLE))
    start, end = days[0], days[-1]
    ctx = ingest.IngestContext(
        categories=read_brand_table(SAMPLE, "categories").frame, brands=read_brand_table(SAMPLE, "brands").frame
    )
    plain = ingest.ingest_batches(batches_for_days(SAMPLE, start, end), ctx, start, end)
    con = ingest.connection()
    try:
        on_con = ingest.ingest_batches(batches_for_days(SAMPLE, start, end), ctx, start, end, con)
        temp = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
        assert temp == {"ingest_kept_notes", "ingest_kept_creators", "ingest_kept_comments"}
        for kind in ("notes", "creators", "comments"):
            got, want = on_con.table(kind), plain.table(kind)
            assert len(want) > 1000 if kind != "comments" else len(want) > 500
            pd.testing.assert_frame_equal(got, want, obj=kind)
            # the warehouse's order: by id, then day
            keys = list(zip(want[ingest.ID_COLUMN[kind]], want["snapshot_date"]))
            assert keys == sorted(keys)
    finally:
        con.close()
    pd.testing.assert_frame_equal(on_con.quarantine, plain.quarantine)
    pd.testing.assert_frame_equal(on_con.accounting, plain.accounting)
    assert len(plain.quarantine) > 0
    acc = plain.accounting
    assert (acc["read"] == acc["kept"] + acc["duplicates"] + acc["quarantined"]).all()
    # the comment classes and sentiment come from clean_comments.sql
    classes = set(plain.comments["comment_class"].astype(object))
    assert {"purchase_intent", "question", "low_effort", "other"} <= classes
    assert (plain.comments["is_substantive"] == (plain.comments["comment_class"] != "low_effort")).all()


def test_insert_raw_numbers_rows_in_record_order_with_the_readers_values(tmp_path: Path):
    """A fast-read batch has frame rows (read again by DuckDB into the table) and Python rows (a suspect line, a
    line that is not an object): insert_raw gives every row `_seq` = start + its place in record order, and each
    field the JSON of the value Python reads, SQL NULL for an absent key; a batch with no rows adds nothing."""
    lines = [
        {"comment_id": "c1", "note_id": "n1", "content": "a", "like_count": 3},
        {"comment_id": "c2", "note_id": "n1", "content": "x", "like_count": 1.5},  # a float: Python reads it
        {"comment_id": "c3", "note_id": "n2", "content": None},
        {"comment_id": "c4", "note_id": "n2", "content": '":t', "sub_comment_count": "2"},  # a false alarm
    ]
    text = [json.dumps(r, ensure_ascii=False) for r in lines]
    path = tmp_path / "comments.jsonl"
    path.write_text("\n".join([text[0], text[1], "[1, 2]", text[2], text[3]]) + "\n", encoding="utf-8")
    fr = read_jsonl_fast(path, "comments.jsonl", "comments", min_bytes=0)
    assert isinstance(fr, ColumnarRecords) and list(fr.frame["_record"]) == [1, 4, 5] and fr.record_numbers == [2]
    want = {n: r for n, r in zip(read_records(path, "x", "comments").record_numbers, lines)}
    con = ingest.connection()
    try:
        raw_lib.create_raw(con, "raw_c", "comments")
        assert raw_lib.insert_raw(con, "raw_c", "comments", FileRecords(path="empty.jsonl"), 0, None) == 0
        assert raw_lib.insert_raw(con, "raw_c", "comments", fr, 10, date(2025, 3, 12)) == 4
        got = con.sql("SELECT * FROM raw_c ORDER BY _seq").fetchall()
        cols = [c[0] for c in con.sql("SELECT * FROM raw_c").description]
    finally:
        con.close()
    rows = [dict(zip(cols, r)) for r in got]
    assert [r["_seq"] for r in rows] == [10, 11, 12, 13] and [r["_record"] for r in rows] == [1, 2, 4, 5]
    assert {r["_hint"] for r in rows} == {date(2025, 3, 12)} and {r["_file"] for r in rows} == {"comments.jsonl"}
    for r in rows:
        record = want[r["_record"]]
        for f in FIELDS["comments"]:
            expected = raw_lib.json_value(record[f]) if f in record else None
            assert (None if r[f] is None else json.loads(r[f])) == (None if expected is None else json.loads(expected))
            assert (r[f] is None) == (f not in record), (r["_record"], f)
