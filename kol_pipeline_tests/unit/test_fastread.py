"""The fast JSON lines reader (lib/ingest/fastread.py) against the reference reader (lib/ingest/readers.read_records): the same
records (by value, as cleaning reads them), record numbers and problems, on the sample, the bad-input corpus and
hand-made edge cases; files it cannot read exactly fall back to the reference reader whole."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from kol_pipeline.lib.ingest import fastread
from kol_pipeline.lib.ingest.readers import kind_of, read_records

ROOT = Path(__file__).resolve().parents[2]
JSONL = sorted(
    p
    for p in [
        *(ROOT / "data/sample").rglob("*.jsonl"),
        *(ROOT / "kol_pipeline_tests/fixtures/bad_inputs").rglob("*.jsonl"),
    ]
    if kind_of(p)
)


def _text(v: object) -> str | None:
    """A value as the fast reader renders it (strings as is, integers as digits)."""
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def assert_same(path: Path, kind: str, fast: bool = True) -> fastread.ColumnarRecords:
    ref = read_records(path, path.name)
    got = fastread.read_jsonl_fast(path, path.name, kind, min_bytes=0)
    if not fast and not isinstance(got, fastread.ColumnarRecords):  # read by the reference reader whole
        assert (got.records, got.record_numbers, got.problems, got.notes) == (
            ref.records,
            ref.record_numbers,
            ref.problems,
            ref.notes,
        )
        return got
    assert isinstance(got, fastread.ColumnarRecords), path
    assert [(q.record_number, q.reason, q.raw) for q in got.problems] == [
        (q.record_number, q.reason, q.raw) for q in ref.problems
    ]
    assert got.rows_read == ref.rows_read
    # every reference record is either a Python record of the fast reader (same dict) or a row of its frame
    py = dict(zip(got.record_numbers, got.records))
    frame = got.frame.set_index("_record")
    assert set(py) | set(frame.index) == set(ref.record_numbers) and not set(py) & set(frame.index)
    fields = fastread.FIELDS[kind]
    for n, rec in zip(ref.record_numbers, ref.records):
        if n in py:
            assert py[n] == rec
        else:
            row = frame.loc[n]
            assert {f: (None if pd.isna(row[f]) else row[f]) for f in fields} == {f: _text(rec.get(f)) for f in fields}
    # rows re-read from the file (quarantine raw, Python cleaning) are the reference records
    some = list(frame.index[:3])
    assert got.load_records(some) == {n: rec for n, rec in zip(ref.record_numbers, ref.records) if n in some}
    return got


@pytest.mark.parametrize("path", JSONL, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_sample_and_corpus_jsonl(path: Path) -> None:
    fallback = {"binary_junk"}  # not text: the reference reader reports it (record 0)
    assert_same(path, kind_of(path), fast=not fallback & set(path.parts))


def test_edge_lines(tmp_path: Path) -> None:
    good = {"note_id": "n1", "title": "a\u2028b", "liked_count": "1.1万", "last_modify_ts": 1741761793312}
    lines = [
        json.dumps(good, ensure_ascii=False),  # U+2028 inside a string: one record, not two
        "",  # blank: not a record, not counted
        "   ",
        '{"note_id": "n2", "title": "x",}',  # trailing comma: DuckDB accepts it, Python does not
        "[1, 2]",  # not an object
        '  {"note_id": "n3"}',  # leading spaces: read by Python
        '{"note_id": "n4", "liked_count": 12.5, "title": true}',  # non-string values keep their Python value
        '{"note_id": "n5", "title": ["a"], "desc": {"x": 1}}',
        '{"note_id": "n6", "title": "[测评] 面霜", "time": -5}',
        '{"note_id": "n7", "liked_count": NaN}',
        '{"broken": ',
        json.dumps({"note_id": "n8", "title": "末行"}, ensure_ascii=False),
    ]
    p = tmp_path / "search_contents_2025-03-12.jsonl"
    p.write_text("\n".join(lines), encoding="utf-8")  # no newline at the end
    got = assert_same(p, "notes")
    assert got.record_numbers == [6, 7, 8, 10]  # read by Python
    assert list(got.frame["_record"]) == [1, 9, 12]
    assert [(q.record_number, q.reason.split(":")[0]) for q in got.problems] == [
        (4, "malformed JSON line"),
        (5, "record is not a JSON object"),
        (11, "malformed JSON line"),
    ]


def test_one_malformed_line_among_good_ones(tmp_path: Path) -> None:
    recs = [{"note_id": f"n{i}", "liked_count": str(i), "last_modify_ts": 1741761793312 + i} for i in range(1, 2001)]
    lines = [json.dumps(r) for r in recs]
    lines.insert(1000, '{"note_id": "n-bad", "liked_count": ')
    p = tmp_path / "search_contents_2025-03-12.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = assert_same(p, "notes")
    assert [(q.record_number, q.reason) for q in got.problems] == [(1001, "malformed JSON line: Expecting value")]
    assert len(got.frame) == 2000 and got.rows_read == 2001


@pytest.mark.parametrize(
    "content",
    [b"", b'{"a": "x"}\r\n{"a": "y"}\r\n', '{"a": "面霜"}\n'.encode("gbk"), b'{"a": "x\x00"}\n', b'{"a": "\x01"}\n'],
    ids=["empty", "crlf", "gbk", "nul", "delimiter_byte"],
)
@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_falls_back_to_the_reference_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, chunk: int
) -> None:
    """The byte that sends a file to the reference reader is found in any block of the first pass, not only the
    first (a 5-byte block puts it in a later one)."""
    monkeypatch.setattr(fastread, "_CHUNK", chunk)
    p = tmp_path / "search_contents_2025-03-12.jsonl"
    p.write_bytes(content)
    got = fastread.read_jsonl_fast(p, p.name, "notes", min_bytes=0)
    ref = read_records(p, p.name)
    assert not isinstance(got, fastread.ColumnarRecords)
    assert (got.records, got.record_numbers, got.problems, got.notes) == (
        ref.records,
        ref.record_numbers,
        ref.problems,
        ref.notes,
    )


def test_small_files_use_the_reference_reader(tmp_path: Path) -> None:
    p = tmp_path / "search_contents_2025-03-12.jsonl"
    p.write_text('{"note_id": "n1"}\n', encoding="utf-8")
    assert not isinstance(fastread.read_jsonl_fast(p, p.name, "notes"), fastread.ColumnarRecords)


def test_bom_is_dropped_like_the_reference(tmp_path: Path) -> None:
    p = tmp_path / "search_contents_2025-03-12.jsonl"
    p.write_bytes("\ufeff".encode() + b'{"note_id": "n1"}\n{"note_id": "n2"}\n')
    got = assert_same(p, "notes")
    assert list(got.frame["note_id"]) == ["n1", "n2"]


def test_values_that_only_look_like_floats_stay_on_the_fast_path(tmp_path: Path) -> None:
    """Hex ids such as '53724e000000000000045774' look like a float's text but are JSON strings: the rows stay in
    the frame. A real float, true/false, a list, a literal DuckDB accepts and Python refuses (Inf, nan, -nan; under
    any key, extracted or not), and a key repeated with a non-string value go to Python's reading. A string holding
    `":` and a letter (escaped JSON, as MediaCrawler's creator tag_list) is a suspect that Python's reading keeps."""
    base = {"note_id": "n1", "create_time": 1751000000000, "last_modify_ts": 1751000001000}
    rows = [
        {"comment_id": "68624057000000097040e000", "user_id": "53724e000000000000045774", "content": "1e5", **base},
        {"comment_id": "c2", "user_id": "u2", "content": "ok", "like_count": 1e5, **base},
        {"comment_id": "c3", "user_id": "u3", "content": "true", "like_count": True, **base},
        {"comment_id": "c4", "user_id": "u4", "content": "[1]", "sub_comment_count": [1], **base},
        {
            "comment_id": "c5e1",
            "user_id": "u5",
            "content": 'x":y "a": [1] \\":n',
            "pictures": '{"info":null,"k":"v"}',
            **base,
        },
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    lines.append(
        '{"comment_id": 1.5, "comment_id": "c6", "note_id": "n1", "create_time": 1751000000000, '
        '"last_modify_ts": 1751000001000}'
    )
    tail = '"note_id": "n1", "create_time": 1751000000000, "last_modify_ts": 1751000001000}'
    lines += [
        '{"comment_id": "c7", "like_count": Inf, ' + tail,
        '{"comment_id": "c8", "pictures": nan, ' + tail,
        '{"comment_id": "c9", "pictures" :  -nan, ' + tail,
        '{"comment_id": "c10", "like_count": -12, "pictures": null, ' + tail,
        '{"comment_id": "c11", "pictures": {"a": 1}, ' + tail,
    ]
    p = tmp_path / "search_comments_2025-06-27.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = assert_same(p, "comments")
    # 11: an object under a key the cleaning does not read; Python reads the same fields, so the row stays
    assert list(got.frame["_record"]) == [1, 5, 10, 11]
    assert got.record_numbers == [2, 3, 4, 6]  # read by Python
    assert [(q.record_number, q.reason.split(":")[0]) for q in got.problems] == [
        (7, "malformed JSON line"),
        (8, "malformed JSON line"),
        (9, "malformed JSON line"),
    ]
    assert got.frame["user_id"].iloc[0] == "53724e000000000000045774" and got.frame["content"].iloc[0] == "1e5"
    assert got.frame["like_count"].iloc[2] == "-12"
    assert got.records[3]["comment_id"] == "c6"  # Python's reading: the last of the repeated keys


@pytest.mark.parametrize(
    ("line", "suspect"),
    [
        ('{"a": "x", "b": 12, "c": null, "d": -3}', False),
        ('{"a":"53724e000000000000045774","b":"1.5"}', False),
        ('{"t": "{\\"info\\":null,\\"p\\":\\"美食\\"}"}', False),
        ('{"a": 1.5}', True),
        ('{"a": 1e5}', True),
        ('{"a": true}', True),
        ('{"a": false}', True),
        ('{"a": [1]}', True),
        ('{"a": {}}', True),
        ('{"a": NaN}', True),
        ('{"a": nan}', True),
        ('{"a": Inf}', True),
        ('{"a": -Infinity}', True),
        ('{"a" : 2E3}', True),
        ('{"a":\t1.0}', True),
        ('{"a": "x",}', True),
        ('{"a": "he said \\":ok"}', True),  # a false alarm: Python's reading decides
    ],
)
def test_suspect_patterns(line: str, suspect: bool) -> None:
    """The line-level patterns of the reader flag every non-string, non-integer value and nothing in plain rows,
    evaluated by DuckDB's regexp_matches (RE2) as the reader's query evaluates them, and by Python's re."""
    import re

    import duckdb

    got = (
        duckdb.connect()
        .execute(
            "SELECT regexp_matches($l, $t) OR regexp_matches($l, $s)",
            {"l": line, "t": fastread.TRAILING_COMMA_RE, "s": fastread.SUSPECT_RE},
        )
        .fetchall()
    )
    assert got == [(suspect,)]
    assert bool(re.search(fastread.SUSPECT_RE, line) or re.search(fastread.TRAILING_COMMA_RE, line)) is suspect


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_load_lines_by_offsets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """`load_lines` gives each line's text as a line-by-line pass gives it (BOM dropped on line 1, blank lines,
    multi-byte text across block boundaries, a last line without newline), ignores numbers outside the file, and
    reads the offsets once per file (a subset shares them)."""
    monkeypatch.setattr(fastread, "_CHUNK", chunk)
    lines = ['\ufeff{"a": 1}', "", '{"t": "面霜 ' + "é" * 40 + '"}', "   ", '{"b": "末"}', "no newline at the end"]
    p = tmp_path / "x.jsonl"
    p.write_text("\n".join(lines), encoding="utf-8")
    rec = fastread.ColumnarRecords(path="x.jsonl", source=p)
    got = rec.load_lines([6, 1, 3, 3, 0, 7, 2, 5, 4])
    assert got == {1: '{"a": 1}', 2: "", 3: lines[2], 4: "   ", 5: lines[4], 6: lines[5]}
    starts = rec._starts
    assert starts is not None and starts[-1] == p.stat().st_size
    assert rec.subset(None, None, True)._starts is starts
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")  # ends with a newline: no seventh line
    assert fastread.ColumnarRecords(path="x.jsonl", source=p).load_lines([6, 7]) == {6: lines[5]}


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_reader_hands_over_the_line_offsets_of_its_first_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The reader's first pass (the check for bytes it cannot take, the line count) finds the line offsets, so
    reading a quarantined or Python-read line again costs no second pass: they are the offsets a line-by-line pass
    gives, and `load_lines` gives those lines' text."""
    monkeypatch.setattr(fastread, "_CHUNK", chunk)
    lines = ['{"note_id": "a1", "title": "面霜"}', '{"note_id": 1.5}', "", "not json", '{"note_id": "末"}']
    p = tmp_path / "search_contents_2025-03-12.jsonl"
    p.write_text("\n".join(lines), encoding="utf-8")  # no newline at the end
    got = fastread.read_jsonl_fast(p, p.name, "notes", min_bytes=0)
    assert isinstance(got, fastread.ColumnarRecords) and got._starts is not None
    want, pos = [0], 0
    for line in lines:
        pos += len(line.encode("utf-8")) + 1
        want.append(pos)
    want[-1] -= 1  # the last line has no newline: the file's size
    assert got._starts.tolist() == want
    assert got.load_lines([2, 4]) == {2: lines[1], 4: lines[3]}
    assert got.frame["_record"].tolist() == [1, 5] and got.record_numbers == [2] and len(got.problems) == 1
