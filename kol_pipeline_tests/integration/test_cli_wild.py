"""`kol-pipeline run` on MediaCrawler's whole data folder as a user has it (issue #24): every platform's folder, the
excel store, a numbered CSV export with a BOM, a copy, a bad record; exit 0 and the summary's exact figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kol_pipeline.resources.io_manager import read_table
from kol_pipeline_tests.integration.test_cli import kol
from kol_pipeline_tests.unit.test_discovery import CRAWL, comment, note, write_json, write_workbook

pytestmark = pytest.mark.integration


def test_run_on_a_mediacrawler_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for platform in ("douyin", "weibo", "bili"):
        write_json(data / platform / "json" / "search_contents_2025-06-16.json", [note(90), note(91)])
    # notes: 3 in the JSON file (one with a null crawl time), 1 in its copy (note 1 crawled a minute earlier: a
    # duplicate), 2 in the workbook ("" counts are 0; a negative count is a bad row)
    write_json(
        data / "xhs" / "json" / "search_contents_2025-06-16.json",
        [note(1), note(2, last_modify_ts=None), note(3, liked_count="", collected_count="赞")],
    )
    write_json(data / "xhs" / "json" / "search_contents_2025-06-16 copy.json", [note(1, last_modify_ts=CRAWL - 60_000)])
    write_workbook(
        data / "xhs" / "xhs_search_20250616_101500.xlsx",
        {"Contents": [note(4, collected_count=""), note(5, share_count=-1)], "Comments": [comment(7)]},
    )
    csv = data / "xhs" / "csv" / "1_search_comments_2025-06-16.csv"
    csv.parent.mkdir(parents=True)
    fields = ["comment_id", "note_id", "content", "create_time", "last_modify_ts", "like_count"]
    rows = [comment(1), comment(2, content="好\u2028用"), comment(1)]
    csv.write_text(
        ",".join(fields)
        + "\n"
        + "".join(",".join(json.dumps(str(r[f]), ensure_ascii=False) for f in fields) + "\n" for r in rows),
        encoding="utf-8-sig",
    )
    (data / "xhs" / "crawl.log").write_text("log", encoding="utf-8")

    wh, home = tmp_path / "wh", tmp_path / "home"
    p = kol(
        "run", "--landing", str(data), "--warehouse", str(wh), "--ingest-only", home=home
    )  # the intake is what is tested
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "Traceback" not in out
    assert "  notes: read 6 / kept 3 / duplicates 1 / quarantined 2" in p.stdout
    assert "  comments: read 4 / kept 3 / duplicates 1 / quarantined 0" in p.stdout
    assert "skipped files (4), not read:" in p.stdout
    assert "  other platform (douyin) (1): douyin/json/search_contents_2025-06-16.json" in p.stdout
    assert "  not a MediaCrawler file name (1): xhs/crawl.log" in p.stdout

    notes = read_table(str(wh), "notes").set_index("note_id")
    assert sorted(notes.index) == [note(i)["note_id"] for i in (1, 3, 4)]
    assert notes.loc[note(3)["note_id"], ["likes", "saves"]].tolist() == [0, 0]
    assert notes.loc[note(4)["note_id"], "saves"] == 0
    q = read_table(str(wh), "quarantine")
    assert sorted(zip(q["source_file"], q["record_number"], q["reason"])) == [
        ("xhs/json/search_contents_2025-06-16.json", 2, "missing last_modify_ts"),
        ("xhs/xhs_search_20250616_101500.xlsx#Contents", 2, "share_count is negative: -1"),
    ]
