"""The fast ingestion path (lib/ingest/fastread.py + lib/ingest/fastclean.py + the one-pass matchers of lib/ingest/text.py) gives exactly
what the reference code gives: the matchers against `categorize`/`brands_mentioned`/`disclosed` on the sample, the
real crawl and edge cases; `ingest_batches` with the fast path on and off on data/sample, every ingest case of the
bad-input corpus, and the real crawl written as JSON lines; the landing index with and without columnar files."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from kol_pipeline.lib import schemas
from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import fastread, landing, text
from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest.fastread import ColumnarRecords
from kol_pipeline.lib.settings import load_lexicon

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
CORPUS = ROOT / "kol_pipeline_tests" / "fixtures" / "bad_inputs"
REAL = Path("/work/shared/real/mediacrawler_mf_koc")
NOW = datetime.fromisoformat("2025-07-01T00:00:00+00:00")
TABLES = ("notes", "creators", "comments", "quarantine", "accounting")


def _reference_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (brand_lib.read_brand_table(SAMPLE, "categories").frame, brand_lib.read_brand_table(SAMPLE, "brands").frame)


def _assert_same(a: ingest.IngestResult, b: ingest.IngestResult, label: str) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=f"{label}: {name}")
    assert a.file_notes == b.file_notes, label


def _fast_rows(batches: list) -> int:
    return sum(len(fr.frame) for _, fr in batches if isinstance(fr, ColumnarRecords) and fr.frame is not None)


def _both(folder: Path, ctx: ingest.IngestContext, start: date | None = None, end: date | None = None):
    ref = ingest.ingest_batches(ingest.file_batches(folder), ctx, start, end)
    batches = ingest.file_batches(folder, min_bytes=0)
    return ref, ingest.ingest_batches(batches, ctx, start, end), _fast_rows(batches)


# ---------------------------------------------------------------- matchers


def _check_text(notes: pd.DataFrame, cats: pd.DataFrame, brands: pd.DataFrame, label: str) -> None:
    body = text.note_text(notes["title"], notes["description"], notes["tags"])
    a = text.categorize(notes["title"], notes["description"], notes["tags"], cats)
    b = text.categorize_fast(notes["title"], notes["description"], notes["tags"], cats)
    pd.testing.assert_series_equal(a, b, obj=f"{label}: category")
    assert a.notna().sum() > 0
    markers = load_lexicon().disclosure_markers
    pd.testing.assert_series_equal(
        text.disclosed(body, markers), text.disclosed_fast(body, markers), obj=f"{label}: disclosed"
    )
    pd.testing.assert_series_equal(
        text.brands_mentioned(body, brands),
        pd.Series(text.brands_column(body, brands).tolist(), index=body.index, dtype=object),
        obj=f"{label}: brands",
    )
    # the fast path's forms: each text lower-cased once for all matchers, the brands as an Arrow list column
    low = (text.lowered(notes["title"]), text.lowered(notes["description"]))
    pd.testing.assert_series_equal(text.note_text_lowered(*low, notes["tags"]), body, obj=f"{label}: body")
    pd.testing.assert_series_equal(
        text.categorize_fast(notes["title"], notes["description"], notes["tags"], cats, low),
        a,
        obj=f"{label}: category from lowered texts",
    )
    column = text.brands_column(body, brands)
    assert column.dtype == schemas.TEXT_LIST and column.index.equals(body.index)
    assert column.tolist() == text.brands_mentioned(body, brands).tolist(), label


def test_matchers_equal_reference_on_sample() -> None:
    cats, brands = _reference_tables()
    res = ingest.ingest_batches(
        ingest.file_batches(SAMPLE), ingest.IngestContext(categories=cats, brands=brands, now=NOW)
    )
    assert len(res.notes) == 6399
    _check_text(res.notes, cats, brands, "sample")


@pytest.mark.slow
def test_matchers_equal_reference_on_real_crawl() -> None:
    if not (REAL / "SOURCE.md").is_file():
        pytest.skip(f"real MediaCrawler crawl not present at {REAL}")
    cats, brands = _reference_tables()
    res = ingest.ingest_batches(ingest.file_batches(REAL), ingest.IngestContext())
    assert len(res.notes) == 16_236
    _check_text(res.notes, cats, brands, "real crawl")


def test_matchers_edge_cases() -> None:
    notes = pd.DataFrame(
        {
            "title": [
                "护肤品测评",
                "#AD 合作",
                "adidas #adidas",
                "Sponsored",
                "",
                "面霜面霜",
                "RUNJI新品",
                "xrunji",
                None,
            ],
            "description": ["护肤", "sponsored\n", "#ad", "", "无关", "精华", "润肌", "#ad1", "口红"],
            "tags": [["护肤", "护肤"], [], ["美妆", "AD"], ["美食"], [], ["面霜分享"], [], ["彩妆"], ["口红", "口红"]],
        }
    )
    cats = pd.DataFrame(
        {
            "keyword": ["护肤", "护肤品", "面霜", "美食", " 口红 ", "护肤", "AD", "", "彩妆"],
            "category": ["skincare", "skincare", "skincare", "food", "beauty", "beauty", "beauty", "food", "beauty"],
        }
    )
    brands = pd.DataFrame(
        {"brand": ["润肌坊", "Adidas", "花西里", "润肌坊"], "aliases": [["RUNJI", "润肌"], ["#adidas"], [], ["润肌"]]}
    )
    _check_text(notes, cats, brands, "edge cases")
    body = text.note_text(notes["title"], notes["description"], notes["tags"])
    assert text.brands_column(body, brands).tolist()[6] == ["润肌坊", "润肌坊"]  # a brand listed twice
    assert text.brands_column(body, brands).tolist()[7] == []  # RUNJI inside xrunji is not a word
    assert text.disclosed_fast(body, ["#ad"]).tolist()[:4] == [False, True, True, False]
    assert text.disclosed_fast(body, ["", "x"]).all()  # an empty marker matches everything, as its regex does
    assert text.categorize_fast(notes["title"], notes["description"], notes["tags"], cats).tolist()[0] == "skincare"
    assert text.brands_column(body, brands).tolist()[6] == ["润肌坊", "润肌坊"]
    assert text.brands_column(body, brands.iloc[:0]).tolist() == [[]] * len(body)  # no brand file: empty lists
    assert text.brands_column(body.iloc[:0], brands).tolist() == []


# ---------------------------------------------------------------- ingest_batches, fast path on and off


@pytest.mark.slow
def test_ingest_fast_equals_reference_on_sample() -> None:
    cats, brands = _reference_tables()
    ref, fast, n_fast = _both(SAMPLE, ingest.IngestContext(categories=cats, brands=brands, now=NOW))
    assert n_fast > 1000  # the sample's JSON lines files went through the fast path
    assert len(fast.notes) == 6399 and len(fast.quarantine) == 9
    _assert_same(ref, fast, "sample")


def test_ingest_fast_equals_reference_on_bad_input_corpus() -> None:
    cases = [c for c in json.loads((CORPUS / "cases.json").read_text(encoding="utf-8")) if c["runner"] == "ingest"]
    assert len(cases) >= 30
    total_fast = 0
    for case in cases:
        now = (
            datetime.fromisoformat(case["now"])
            if "now" in case
            else datetime.fromisoformat("2025-03-13T04:00:00+00:00")
        )
        ref, fast, n_fast = _both(CORPUS / case["id"], ingest.IngestContext(now=now))
        total_fast += n_fast
        _assert_same(ref, fast, case["id"])
    assert total_fast > 50


@pytest.mark.slow
def test_ingest_fast_equals_reference_on_real_crawl_as_jsonl(tmp_path: Path) -> None:
    if not (REAL / "SOURCE.md").is_file():
        pytest.skip(f"real MediaCrawler crawl not present at {REAL}")
    for p in sorted(REAL.rglob("*.json")):  # the same records, one per line (written to tmp only)
        out = tmp_path / p.relative_to(REAL).with_suffix(".jsonl")
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = json.loads(p.read_text(encoding="utf-8"))
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    cats, brands = _reference_tables()
    ref, fast, n_fast = _both(tmp_path, ingest.IngestContext(categories=cats, brands=brands, now=NOW))
    assert n_fast > 16_000
    acc = fast.accounting.groupby("kind")[["read", "kept", "duplicates", "quarantined"]].sum()
    assert acc.loc["notes"].to_dict() == {"read": 16_339, "kept": 16_236, "duplicates": 102, "quarantined": 1}
    assert acc.loc["creators"].to_dict() == {"read": 114, "kept": 106, "duplicates": 8, "quarantined": 0}
    assert fast.quarantine["reason"].tolist() == ["published_at is after crawled_at"]
    _assert_same(ref, fast, "real crawl as JSON lines")


def test_landing_index_with_columnar_files(monkeypatch) -> None:
    """The landing index (days per file, batches of a day range) is the same when every JSON lines file of the
    sample is held as columns."""
    cats, brands = _reference_tables()
    ctx = ingest.IngestContext(categories=cats, brands=brands, now=NOW)
    start, end = date(2025, 3, 1), date(2025, 3, 20)
    landing._CACHE.clear()
    ref_days = landing.landing_days(SAMPLE)
    ref = ingest.ingest_batches(landing.batches_for_days(SAMPLE, start, end), ctx, start, end)
    landing._CACHE.clear()
    monkeypatch.setattr(fastread, "FAST_MIN_BYTES", 0)
    try:
        assert landing.landing_days(SAMPLE) == ref_days
        batches = landing.batches_for_days(SAMPLE, start, end)
        assert _fast_rows(batches) > 300
        fast = ingest.ingest_batches(batches, ctx, start, end)
    finally:
        landing._CACHE.clear()
    assert len(ref.notes) > 0
    _assert_same(ref, fast, "landing")


@pytest.mark.parametrize("with_slow_row", [False, True], ids=["only-fast-rows", "fast-and-python-rows"])
def test_comments_on_uncrawled_notes_are_kept_by_both_paths(tmp_path: Path, with_slow_row: bool) -> None:
    """Comments on notes nobody crawled (a comments-only crawl) are valid rows (contract section 2): the fast
    path keeps them as the reference reader does, whether or not the batch also has rows cleaned by Python."""
    folder = tmp_path / "landing" / "xhs" / "json"
    folder.mkdir(parents=True)
    base = 1_751_000_000_000
    records = [
        {
            "comment_id": f"c{i:04d}",
            "note_id": f"n{i % 3}",
            "user_id": f"u{i}",
            "content": f"好看 {i}",
            "create_time": base,
            "last_modify_ts": base + 1000,
            "like_count": str(i),
            "sub_comment_count": "0",
            "parent_comment_id": "0",
        }
        for i in range(40)
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    if with_slow_row:
        lines[7] = lines[7].replace('"like_count": "7"', '"like_count": 7.5')  # a float: cleaned by Python
    (folder / "search_comments_2025-06-27.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx = ingest.IngestContext(now=NOW)
    ref, fast, n_fast = _both(tmp_path / "landing", ctx)
    assert n_fast == 40 - with_slow_row  # a row holding a float is read by Python
    _assert_same(ref, fast, "uncrawled notes")
    assert fast.quarantine.empty and ref.quarantine.empty
    assert sorted(fast.comments["comment_id"]) == [f"c{i:04d}" for i in range(40)]
    assert sorted(set(fast.comments["note_id"])) == ["n0", "n1", "n2"]


def test_categorize_fast_with_odd_tags() -> None:
    """Tags as lists, tuples or numpy arrays, with None and NaN tags (skipped), a number (as its text), a missing
    tag list (None or NaN), and no tag at all: categorize_fast equals categorize note by note."""
    import numpy as np

    notes = pd.DataFrame(
        {
            "title": ["a", "b", "c", "d", "e", "f", "g"],
            "description": ["", "", "", "", "", "", ""],
            "tags": [
                ["护肤", None],
                ("面霜", float("nan"), "护肤"),
                np.array(["口红", "护肤"], dtype=object),
                None,
                float("nan"),
                [],
                [42, "美食"],
            ],
        }
    )
    cats = pd.DataFrame(
        {
            "keyword": ["护肤", "面霜", "口红", "美食", "42"],
            "category": ["skincare", "skincare", "beauty", "food", "food"],
        }
    )
    want = text.categorize(notes["title"], notes["description"], notes["tags"], cats)
    got = text.categorize_fast(notes["title"], notes["description"], notes["tags"], cats)
    pd.testing.assert_series_equal(got, want)
    assert got.tolist() == ["skincare", "skincare", "skincare", None, None, None, "food"]  # a tie: the first listed


def test_note_text_is_the_series_definition() -> None:
    """`text.note_text` (one pass per note) against its definition by Series operations: nulls as "", non-text
    titles as their str, tags as lists, tuples or arrays joined by spaces (anything else as ""), and lower-casing of
    the whole text (final sigma, dotted I, full-width letters)."""
    import numpy as np

    def definition(title: pd.Series, description: pd.Series, tags: pd.Series) -> pd.Series:
        tag_text = tags.map(lambda t: " ".join(t) if isinstance(t, (list, tuple, np.ndarray)) else "")
        return (title.fillna("").astype(str) + "\n" + description.fillna("").astype(str) + "\n" + tag_text).str.lower()

    title = pd.Series(
        ["ΟΔΟΣ Σ", None, "İstanbul ＡＢＣ", 12, float("nan"), "珀莱雅 PROYA", ""], dtype=object, index=range(10, 17)
    )
    desc = pd.Series(["ΣΑΣ", "x", None, "Ünïcode", "y", "#AD", pd.NA], dtype=object, index=range(10, 17))
    tags = pd.Series(
        [["A", "Σ"], ("B",), np.array(["C", "d"], dtype=object), None, [], "not a list", float("nan")],
        dtype=object,
        index=range(10, 17),
    )
    got = text.note_text(title, desc, tags)
    pd.testing.assert_series_equal(got, definition(title, desc, tags))
    assert got.iloc[0] == "οδος σ\nσας\na σ"
    low = (text.lowered(title), text.lowered(desc))
    pd.testing.assert_series_equal(text.note_text_lowered(*low, tags), got)  # parts lowered one by one
    # Arrow text with nulls (how the fast path holds it) gives the same Python strings as the object column
    arrow = pd.Series(title.map(lambda v: v if isinstance(v, str) else None).astype(schemas.TEXT))
    assert text.texts_of(arrow) == arrow.astype(object).fillna("").astype(str).tolist()
    assert (
        text.lowered(arrow)[2] == "İstanbul ＡＢＣ".lower() == "i\u0307stanbul ａｂｃ" and text.lowered(arrow)[1] == ""
    )
    pd.testing.assert_series_equal(
        text.note_text(title.iloc[:0], desc.iloc[:0], tags.iloc[:0]),
        definition(title.iloc[:0], desc.iloc[:0], tags.iloc[:0]),
        check_dtype=False,
    )


def test_ingest_lets_go_of_each_kind_before_building_the_next(tmp_path: Path, monkeypatch) -> None:
    """Memory of the 1M day (issue #6): once the notes table is built, the reader's notes batch and the notes'
    cleaned per-file frames are freed, and so are the comments' per-file frames once concatenated, before the
    comments table is built (it is built while the notes' text would otherwise still be held: 1.1 GB of the
    1M day's peak). Checked through weak references when the comments table's rows are chosen."""
    import gc
    import weakref

    from kol_pipeline.lib.ingest import fastclean

    folder = tmp_path / "landing" / "xhs" / "json"
    folder.mkdir(parents=True)
    base = 1_751_000_000_000
    notes = [
        {
            "note_id": f"n{i}",
            "user_id": f"u{i}",
            "type": "normal",
            "title": f"护肤 {i}",
            "desc": "面霜",
            "time": base,
            "last_modify_ts": base + 1000,
            "liked_count": str(i),
            "collected_count": "1",
            "comment_count": "0",
            "share_count": "0",
            "tag_list": "护肤",
            "nickname": f"nick{i}",
        }
        for i in range(30)
    ]
    comments = [
        {
            "comment_id": f"c{i:04d}",
            "note_id": f"n{i % 40}",
            "user_id": f"v{i}",
            "content": f"好看 {i}",
            "create_time": base,
            "last_modify_ts": base + 1000,
            "like_count": str(i),
            "sub_comment_count": "0",
            "parent_comment_id": "0",
        }
        for i in range(60)
    ]
    for name, rows in (("search_contents_2025-06-27.jsonl", notes), ("search_comments_2025-06-27.jsonl", comments)):
        (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    cleaned: dict[str, list[weakref.ref]] = {"notes": [], "comments": []}
    clean_fast = fastclean.clean_fast

    def recording(kind, frame, *args, **kw):
        out = clean_fast(kind, frame, *args, **kw)
        cleaned[kind].append(weakref.ref(out[0]))
        return out

    monkeypatch.setattr(fastclean, "clean_fast", recording)
    read: dict[str, list[weakref.ref]] = {"notes": [], "comments": []}

    def batches():
        items = ingest.file_batches(tmp_path / "landing", min_bytes=0)
        while items:
            kind, fr = items.pop(0)
            assert isinstance(fr, ColumnarRecords)
            read[kind].append(weakref.ref(fr.frame))
            yield kind, fr

    alive_when_building: list[dict[str, int]] = []
    latest = ingest.latest_positions

    def recording_latest(frame, *args, **kw):
        if "comment_id" in frame.columns:
            gc.collect()
            alive_when_building.append(
                {
                    f"{where} {kind}": sum(r() is not None for r in refs)
                    for where, by_kind in (("read", read), ("cleaned", cleaned))
                    for kind, refs in by_kind.items()
                }
            )
        return latest(frame, *args, **kw)

    monkeypatch.setattr(ingest, "latest_positions", recording_latest)
    res = ingest.ingest_batches(batches(), ingest.IngestContext(now=NOW))
    assert [len(v) for v in (read["notes"], read["comments"], cleaned["notes"], cleaned["comments"])] == [1, 1, 1, 1]
    # while the comments table was built, nothing of the notes' batch, nor the comments' per-file frame, was alive
    assert alive_when_building == [{"read notes": 0, "read comments": 0, "cleaned notes": 0, "cleaned comments": 0}]
    # and the results are whole: 30 notes; every comment kept, those on never-crawled n30..n39 too
    assert len(res.notes) == 30
    assert sorted(set(res.comments["note_id"])) == sorted(f"n{i}" for i in range(40))
    assert len(res.comments) == 60 and res.quarantine.empty
