"""The SQL matchers (category, brands, disclosure of lib/ingest/clean_notes.sql) give exactly what the pandas
reference (kol_pipeline_tests/reference_ingest.py, formerly lib/ingest/text.py) gives, on the sample, the real crawl
and edge cases; `ingest_batches` with the fast reader (lib/ingest/fastread.py) on and off gives the same tables on
data/sample, every ingest case of the bad-input corpus, and the real crawl written as JSON lines; the landing index
with and without columnar files."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import fastread, landing
from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest.fastread import ColumnarRecords
from kol_pipeline.lib.settings import load_lexicon
from kol_pipeline_tests import ingest_sql
from kol_pipeline_tests import reference_ingest as text

pytestmark = pytest.mark.heavy(55)

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


def _sql(notes: pd.DataFrame, cats: pd.DataFrame | None, brands: pd.DataFrame | None, markers=()) -> pd.DataFrame:
    """category, brands and is_disclosed as clean_notes.sql computes them for notes of these titles, descriptions
    and tags (tags given as a JSON list)."""
    t = ingest_sql.clean_notes(
        notes["title"].tolist(),
        notes["description"].tolist(),
        [list(x) if isinstance(x, (list, tuple)) else x for x in notes["tags"].tolist()],
        cats,
        brands,
        markers,
    )
    return pd.DataFrame(
        {
            "category": pd.Series(t.column("category").to_pylist(), index=notes.index, dtype=object),
            "brands": pd.Series(t.column("brands").to_pylist(), index=notes.index, dtype=object),
            "is_disclosed": pd.Series(t.column("is_disclosed").to_pylist(), index=notes.index, dtype=bool),
        }
    )


def _check_text(notes: pd.DataFrame, cats: pd.DataFrame, brands: pd.DataFrame, label: str) -> None:
    body = text.note_text(notes["title"], notes["description"], notes["tags"])
    a = text.categorize(notes["title"], notes["description"], notes["tags"], cats)
    markers = load_lexicon().disclosure_markers
    got = _sql(notes, cats, brands, markers)
    pd.testing.assert_series_equal(a, got["category"], obj=f"{label}: category", check_names=False)
    assert a.notna().sum() > 0
    pd.testing.assert_series_equal(
        text.disclosed(body, markers), got["is_disclosed"], obj=f"{label}: disclosed", check_names=False
    )
    pd.testing.assert_series_equal(
        text.brands_mentioned(body, brands), got["brands"], obj=f"{label}: brands", check_names=False
    )


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
    got = _sql(notes, cats, brands)
    assert got["brands"].tolist()[6] == ["润肌坊", "润肌坊"]  # a brand listed twice
    assert got["brands"].tolist()[7] == []  # RUNJI inside xrunji is not a word
    assert _sql(notes, cats, brands, ["#ad"])["is_disclosed"].tolist()[:4] == [False, True, True, False]
    assert _sql(notes, cats, brands, ["", "x"])["is_disclosed"].all()  # an empty marker matches everything
    assert got["category"].tolist()[0] == "skincare"
    assert _sql(notes, cats, brands.iloc[:0])["brands"].tolist() == [[]] * len(notes)  # no brand file: empty lists
    assert _sql(notes.iloc[:0], cats, brands)["brands"].tolist() == []


# ---------------------------------------------------------------- ingest_batches, fast path on and off


@pytest.mark.slow
def test_ingest_fast_equals_reference_on_sample() -> None:
    cats, brands = _reference_tables()
    ref, fast, n_fast = _both(SAMPLE, ingest.IngestContext(categories=cats, brands=brands, now=NOW))
    assert n_fast > 1000  # the sample's JSON lines files went through the fast path
    assert len(fast.notes) == 6399 and len(fast.quarantine) == 9
    _assert_same(ref, fast, "sample")


def test_ingest_fast_equals_reference_on_bad_input_corpus() -> None:
    """The cases with a JSON lines file, read by the fast reader and by read_records. In the other cases (JSON
    arrays, CSV) both readings are read_records (read_jsonl_fast reads only `.jsonl`), and unit/test_bad_inputs.py
    checks each case's result."""
    cases = [c for c in json.loads((CORPUS / "cases.json").read_text(encoding="utf-8")) if c["runner"] == "ingest"]
    assert len(cases) >= 30
    cases = [c for c in cases if any(p.suffix.lower() == ".jsonl" for p in (CORPUS / c["id"]).rglob("*"))]
    assert len(cases) >= 4
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
    start, end = date(2025, 3, 1), date(2025, 3, 8)  # 8 of the 20 days it once took: the same paths, less CI time
    landing.clear_cache()
    ref_days = landing.landing_days(SAMPLE)
    ref = ingest.ingest_batches(landing.batches_for_days(SAMPLE, start, end), ctx, start, end)
    landing.clear_cache()
    monkeypatch.setattr(fastread, "FAST_MIN_BYTES", 0)
    try:
        assert landing.landing_days(SAMPLE) == ref_days
        batches = landing.batches_for_days(SAMPLE, start, end)
        assert _fast_rows(batches) > 100
        fast = ingest.ingest_batches(batches, ctx, start, end)
    finally:
        landing.clear_cache()
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


def test_categorize_with_odd_tags() -> None:
    """Tag lists with None and NaN tags, a number, a missing tag list (None or NaN), and no tag at all: the SQL
    (tags made of tag_list: a None element is the tag 'None', a NaN 'nan', a number its text) gives the reference's
    category note by note."""
    notes = pd.DataFrame(
        {
            "title": ["a", "b", "c", "d", "e", "f", "g"],
            "description": ["", "", "", "", "", "", ""],
            "tags": [
                ["护肤", None],
                ("面霜", float("nan"), "护肤"),
                ["口红", "护肤"],
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
    got = _sql(notes, cats, None)["category"]
    pd.testing.assert_series_equal(got, want, check_names=False)
    assert got.tolist() == ["skincare", "skincare", "skincare", None, None, None, "food"]  # a tie: the first listed


def test_note_text_is_the_series_definition() -> None:
    """The reference `note_text` (one pass per note) against its definition by Series operations: nulls as "",
    non-text titles as their str, tags as lists, tuples or arrays joined by spaces (anything else as ""), and
    lower-casing of the whole text (final sigma, dotted I, full-width letters)."""
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
    pd.testing.assert_series_equal(
        text.note_text(title.iloc[:0], desc.iloc[:0], tags.iloc[:0]),
        definition(title.iloc[:0], desc.iloc[:0], tags.iloc[:0]),
        check_dtype=False,
    )


def test_sql_lower_differs_from_python_only_on_dotted_capital_i_and_final_sigma() -> None:
    """DuckDB's lower() maps each character alone: it equals Python's str.lower() on every code point but U+0130
    (İ: Python gives 'i' + U+0307, DuckDB 'i'), and it has no final-sigma rule (Python lower-cases a word-final Σ to
    ς, DuckDB to σ). docs/ingestion.md "Values" says what it changes: nothing on the sample or the real crawl."""
    from kol_pipeline.lib.ingest import clean

    con = clean.connection()
    try:
        chars = [chr(i) for i in range(0x110000) if not 0xD800 <= i <= 0xDFFF]
        got = [r[0] for r in con.execute("SELECT lower(unnest(?))", [chars]).fetchall()]
        assert [c for c, g in zip(chars, got) if c.lower() != g] == ["\u0130"]
        assert con.execute("SELECT lower('ΟΔΟΣ')").fetchone()[0] == "οδοσ" != "ΟΔΟΣ".lower()
    finally:
        con.close()
