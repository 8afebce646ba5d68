"""Real crawls as they come (issue #24): MediaCrawler's whole data folder, file names and shapes seen in the wild,
the excel store, JSON lines split at "\\n" only, and the landing scan on records with a null or huge crawl time."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from kol_pipeline.lib.ingest import discovery, landing, readers
from kol_pipeline.lib.ingest import intake as ingest

CRAWL = 1_750_003_600_000  # 2025-06-16 00:06:40 Asia/Shanghai
DAY = date(2025, 6, 16)


def note(i: int, **over: object) -> dict:
    base = {
        "note_id": f"65f0c0ffee00000000000{i:03d}",
        "user_id": "5b0c0ffee000000000000001",
        "type": "normal",
        "title": "t",
        "desc": "d",
        "time": CRAWL - 86_400_000,
        "last_modify_ts": CRAWL,
        "liked_count": "12",
        "collected_count": "3",
        "comment_count": "1",
        "share_count": "0",
        "tag_list": "a,b",
        "nickname": "x",
    }
    return {**base, **over}


def comment(i: int, **over: object) -> dict:
    base = {
        "comment_id": f"c{i}",
        "note_id": "65f0c0ffee00000000000001",
        "content": "好用",
        "user_id": "u9",
        "create_time": CRAWL - 3_600_000,
        "last_modify_ts": CRAWL,
        "like_count": "",
        "sub_comment_count": "0",
        "parent_comment_id": "0",
    }
    return {**base, **over}


def write_json(path: Path, value: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def write_workbook(path: Path, sheets: dict[str, list[dict]]) -> Path:
    """A workbook as MediaCrawler's excel store writes it: one sheet per kind, header row, None as ""."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        header = list(rows[0])
        ws.append(header)
        for r in rows:
            ws.append(["" if r.get(h) is None else r.get(h) for h in header])
    wb.save(path)
    return path


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("search_contents_2025-03-12.json", "notes"),
        ("creator_creator_2025-03-12.jsonl", "creators"),
        ("detail_comments.csv", "comments"),
        ("1_search_comments_2025-02-27.csv", "comments"),  # older numbered exports
        ("12_creator_contents_2025-02-27.json", "notes"),
        ("search_contents_2026-06-02 copy.json", "notes"),  # copies
        ("search_contents_2026-06-02 (1).jsonl", "notes"),
        ("search_contents copy.json", "notes"),
        ("xhs_search_contents_2025-03-12.json", "notes"),  # a platform prefix
        ("Search_Contents_2025-03-12.JSON", "notes"),
        ("search_contents_2025-03-12.txt", None),
        ("xhs_koc_list_xinhong.csv", None),
        ("contents.json", None),
    ],
)
def test_mediacrawler_file_names(name: str, kind: str | None) -> None:
    assert readers.kind_of(Path(name)) == kind


def test_derived_crawler_files_are_read_by_their_fields(tmp_path: Path) -> None:
    a = write_json(tmp_path / "dump_2025.json", [note(1)])
    b = tmp_path / "my_comments.jsonl"
    b.write_text(json.dumps(comment(1), ensure_ascii=False) + "\n", encoding="utf-8")
    c = tmp_path / "fans.csv"
    c.write_text(
        "user_id,nickname,fans,follows,interaction,last_modify_ts\nu1,a,10,1,5,1750003600000\n", encoding="utf-8-sig"
    )
    d = tmp_path / "koc_list.csv"  # a third-party list: other field names
    d.write_text("Name,user_id,fans count\nx,u1,10\n", encoding="utf-8")
    assert [discovery.sniff_kind(p) for p in (a, b, c, d)] == ["notes", "comments", "creators", None]


# ---------------------------------------------------------------- MediaCrawler's data folder


def test_mediacrawler_data_folder_reads_xhs_only_and_names_what_it_skips(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for platform in ("xhs", "douyin", "weibo", "bili", "ks", "tieba", "zhihu"):
        write_json(data / platform / "json" / "search_contents_2025-06-16.json", [note(1)])
    write_json(data / "xhs" / "jsonl" / "search_comments_2025-06-16.json", [comment(1)])
    write_workbook(data / "xhs" / "xhs_search_20250616_101500.xlsx", {"Contents": [note(2)], "Comments": [comment(2)]})
    write_workbook(data / "douyin" / "dy_search_20250616_101500.xlsx", {"Contents": [note(3)]})
    write_workbook(data / "ks_search_20250616_101500.xlsx", {"Contents": [note(4)]})
    write_workbook(data / "xhs" / "summary.xlsx", {"Pivot": [{"a": 1}]})
    (data / "xhs" / "broken_1.xlsx").write_bytes(b"PK not really")
    (data / "xhs" / "readme.txt").write_text("notes", encoding="utf-8")

    found = discovery.discover(data)
    rel = {k: [p.relative_to(data).as_posix() for p in v] for k, v in found.files.items()}
    assert rel == {
        "notes": ["xhs/json/search_contents_2025-06-16.json", "xhs/xhs_search_20250616_101500.xlsx"],
        "comments": ["xhs/jsonl/search_comments_2025-06-16.json", "xhs/xhs_search_20250616_101500.xlsx"],
        "creators": [],
    }
    skipped = {s.path.relative_to(data).as_posix(): s.reason for s in found.skipped}
    assert {k: v for k, v in skipped.items() if "unreadable" not in v} == {
        "bili/json/search_contents_2025-06-16.json": "other platform (bili)",
        "douyin/dy_search_20250616_101500.xlsx": "other platform (douyin)",
        "douyin/json/search_contents_2025-06-16.json": "other platform (douyin)",
        "ks/json/search_contents_2025-06-16.json": "other platform (ks)",
        "ks_search_20250616_101500.xlsx": "other platform (ks)",
        "tieba/json/search_contents_2025-06-16.json": "other platform (tieba)",
        "weibo/json/search_contents_2025-06-16.json": "other platform (weibo)",
        "zhihu/json/search_contents_2025-06-16.json": "other platform (zhihu)",
        "xhs/summary.xlsx": "not a MediaCrawler workbook (no Contents, Comments or Creators sheet)",
        "xhs/readme.txt": "not a MediaCrawler file name",
    }
    assert skipped["xhs/broken_1.xlsx"].startswith("unreadable: not an xlsx workbook")
    # the landing scan and the summary's list agree; no other platform's row is read
    assert landing.landing_days(data) == {DAY: 4}
    assert [n for n, _ in landing.skipped_files(data)] == sorted(skipped)


def test_brand_and_reference_folders_of_a_landing_without_mediacrawler_are_not_skipped_files(tmp_path: Path) -> None:
    write_json(tmp_path / "xhs" / "json" / "search_contents_2025-06-16.json", [note(1)])
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand" / "brands.csv").write_text("brand,aliases\nA,a\n", encoding="utf-8")
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "categories.csv").write_text("keyword,category\na,food\n", encoding="utf-8")
    assert discovery.discover(tmp_path).skipped == []


# ---------------------------------------------------------------- the excel store


def test_workbook_sheets_are_read_as_their_kinds_with_row_numbers(tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "xhs_search_20250616_101500.xlsx",
        {
            "Contents": [note(1, collected_count=""), note(2, last_modify_ts=None)],
            "Comments": [comment(1)],
            "Creators": [
                {"user_id": "u1", "fans": "1.2万", "follows": "3", "interaction": "", "last_modify_ts": CRAWL}
            ],
        },
    )
    ws = openpyxl.load_workbook(path)["Contents"]
    ws.insert_rows(3)  # a blank row between the records: not a record, the numbering follows the sheet's rows
    ws.parent.save(path)
    notes = readers.read_records(path, "x.xlsx", "notes")
    assert notes.path == "x.xlsx#Contents"
    assert notes.record_numbers == [1, 3] and notes.problems == []
    assert notes.records[0]["collected_count"] == "" and notes.records[0]["last_modify_ts"] == CRAWL
    assert notes.records[1]["last_modify_ts"] == ""
    assert readers.read_records(path, "x.xlsx", "creators").records[0]["fans"] == "1.2万"

    res = ingest.ingest_batches(ingest.file_batches(tmp_path), ingest.IngestContext(), DAY, DAY)
    assert res.notes["saves"].tolist() == [0]  # "" is MediaCrawler's zero
    assert res.creators["followers"].tolist() == [12_000] and res.creators["likes_and_saves_total"].tolist() == [0]
    q = res.quarantine
    assert list(zip(q["source_file"], q["record_number"], q["reason"])) == [
        ("xhs_search_20250616_101500.xlsx#Contents", 3, "missing last_modify_ts")
    ]
    acc = res.accounting.groupby("source_file")[["read", "kept", "duplicates", "quarantined"]].sum()
    assert acc.loc["xhs_search_20250616_101500.xlsx#Contents"].tolist() == [2, 1, 0, 1]


def test_workbook_row_beyond_its_header_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "xhs_detail_1.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Contents"
    ws.append(["note_id", "last_modify_ts"])
    ws.append(["n1", CRAWL, "stray"])
    wb.save(path)
    fr = readers.read_records(path, "w.xlsx", "notes")
    assert fr.records == [] and [(p.record_number, p.reason) for p in fr.problems] == [
        (1, "xlsx row has values beyond the header's 2 columns")
    ]


# ---------------------------------------------------------------- JSON lines end at "\n" only


def test_json_lines_split_at_newline_only(tmp_path: Path) -> None:
    text = "\u2028 \u0085 \u2029"
    lines = [
        json.dumps(note(1, desc=f"a{text}b"), ensure_ascii=False),
        json.dumps(note(2), ensure_ascii=False) + '\r{"note_id": "x"}',  # a lone \r is no line end
        json.dumps(note(3), ensure_ascii=False) + "\r",
    ]  # CRLF
    path = tmp_path / "search_contents_2025-06-16.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fr = readers.read_records(path, "f.jsonl")
    assert fr.record_numbers == [1, 3]
    assert fr.records[0]["desc"] == f"a{text}b"
    assert [(p.record_number, p.reason.split(":")[0]) for p in fr.problems] == [(2, "malformed JSON line")]


# ---------------------------------------------------------------- the landing scan never stops a run


def test_landing_scan_files_bad_crawl_times_instead_of_raising(tmp_path: Path) -> None:
    """`"last_modify_ts": null` (pd.NaT minus the epoch raised TypeError) and `"time": 1e30` (OverflowError) stopped
    `kol-pipeline run` in the landing scan, before anything was ingested."""
    root = tmp_path / "mediacrawler" / "json"
    write_json(
        root / "search_contents_2025-06-16.json",
        [
            note(1),
            note(2, last_modify_ts=None),
            note(3, time=1e30),
            note(4, last_modify_ts=1e30),
            note(5, last_modify_ts="abc"),
        ],
    )
    assert landing.landing_days(tmp_path) == {DAY: 5}  # the bad ones are filed under the name's day
    res = ingest.ingest_batches(landing.batches_for_days(tmp_path, DAY, DAY), ingest.IngestContext(), DAY, DAY)
    assert res.notes["note_id"].tolist() == [note(1)["note_id"]]
    assert sorted(zip(res.quarantine["record_number"], res.quarantine["reason"])) == [
        (2, "missing last_modify_ts"),
        (3, "time is out of range for an epoch time: 1e+30"),
        (4, "last_modify_ts is out of range for an epoch time: 1e+30"),
        (5, "last_modify_ts is not an epoch time: 'abc'"),
    ]


def test_short_platform_codes_name_workbooks_not_folders(tmp_path: Path) -> None:
    """`dy_search_<time>.xlsx` is the excel store's douyin workbook, but a user's own crawl folder may be called
    `dy` or `wb` (the real crawl's folders are people's names): its XHS files are read."""
    write_json(tmp_path / "dy" / "search_contents_2025-06-16.json", [note(1)])
    write_workbook(tmp_path / "dy" / "dy_search_20250616_101500.xlsx", {"Contents": [note(2)]})
    found = discovery.discover(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found.files["notes"]] == ["dy/search_contents_2025-06-16.json"]
    assert [(s.path.name, s.reason) for s in found.skipped] == [
        ("dy_search_20250616_101500.xlsx", "other platform (dy)")
    ]
