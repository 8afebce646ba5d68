"""lib/ingest/clean_run.py: a run on a connection leaves only its kept tables there, and the relations over them
give the same tables as a run without a connection (Arrow), on every day of the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest.brand import read_brand_table
from kol_pipeline.lib.ingest.landing import batches_for_days, landing_days

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
