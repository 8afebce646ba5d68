"""The search_rankings row-count rule of ingest_check_results: it applies only to the days given as days with a
rankings file. The asset used to pass every crawl day there, which blocked daily_job of a day crawled without a
rankings file; that wiring is covered end to end by integration/test_ui_operations.py (the late crawl file)."""

from datetime import date

import pandas as pd

from kol_pipeline.defs.validate.checks import ingest_check_results
from kol_pipeline.lib.quality import validation as val
from kol_pipeline.lib.schemas import TABLES

D = date(2025, 7, 1)


def _results(input_days: set[date]) -> dict[str, object]:
    tables = {t: TABLES[t].empty_frame() for t in ("notes", "creators", "comments", "search_rankings", "quarantine")}
    previous = {"notes": None, "creators": None, "comments": None, "search_rankings": 168, "quarantine": None}
    acc = pd.DataFrame(columns=["kind", "source_file", "snapshot_date", "read", "kept", "duplicates", "quarantined"])
    return {
        r.check_name: r
        for r in ingest_check_results(
            [D],
            tables,
            acc,
            input_days,
            previous,
            pd.DataFrame({"keyword": [], "category": []}),
            val.ValidationSettings(),
        )
    }


def test_no_rankings_file_that_day_is_not_an_empty_partition():
    res = _results(set())
    assert res["search_rankings_suite"].passed


def test_an_empty_rankings_file_after_a_day_with_rows_blocks():
    res = _results({D})
    r = res["search_rankings_suite"]
    assert not r.passed and r.metadata["blocked_partitions"].value == [D.isoformat()]
