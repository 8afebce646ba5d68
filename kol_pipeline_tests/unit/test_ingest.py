"""Readers (every landing format) and ingest_batches (partitioning, dedup, quarantine, accounting) on files written to
tmp_path, and the real MediaCrawler crawl in /work/shared/real/mediacrawler_mf_koc checked against plain json+pandas."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest.readers import kind_of, read_records
from kol_pipeline.lib.order import stable_order
from kol_pipeline.lib.schemas import TEXT

SH = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 20, tzinfo=UTC)
REAL = Path("/work/shared/real/mediacrawler_mf_koc")


def ms(y: int, mo: int, d: int, h: int = 12, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=SH).timestamp() * 1000)


def note(nid: str, crawl: int, likes: str = "10", **over: object) -> dict:
    rec = {
        "note_id": nid,
        "user_id": "5f00000000000000000000a1",
        "type": "normal",
        "title": "t",
        "desc": "d",
        "time": ms(2025, 3, 10),
        "last_modify_ts": crawl,
        "liked_count": likes,
        "collected_count": "1",
        "comment_count": "0",
        "share_count": "0",
        "tag_list": "a,b",
    }
    rec.update(over)
    return rec


def comment(cid: str, nid: str, crawl: int, **over: object) -> dict:
    rec = {
        "comment_id": cid,
        "note_id": nid,
        "content": "好用吗",
        "create_time": ms(2025, 3, 11),
        "last_modify_ts": crawl,
        "user_id": "u1",
        "like_count": "1",
        "sub_comment_count": "0",
    }
    rec.update(over)
    return rec


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(landing: Path, start: date | None = None, end: date | None = None, **ctx: object) -> ingest.IngestResult:
    return ingest.ingest_batches(ingest.file_batches(landing), ingest.IngestContext(now=NOW, **ctx), start, end)


def per_file(res: ingest.IngestResult) -> dict[str, dict[str, int]]:
    g = res.accounting.groupby("source_file")[["read", "kept", "duplicates", "quarantined"]].sum()
    return {f: {k: int(v) for k, v in row.items()} for f, row in g.iterrows()}


# ---------------------------------------------------------------- readers


def test_read_json_array(tmp_path: Path) -> None:
    p = write(tmp_path / "search_contents_2025-03-12.json", json.dumps([{"a": 1}, {"a": 2}]))
    fr = read_records(p)
    assert fr.records == [{"a": 1}, {"a": 2}] and fr.record_numbers == [1, 2] and fr.problems == []


def test_read_jsonl(tmp_path: Path) -> None:
    p = write(tmp_path / "x_comments.jsonl", '{"a": 1}\n\n{"a": 2}\n{"a": \n')
    fr = read_records(p)
    assert fr.records == [{"a": 1}, {"a": 2}] and fr.record_numbers == [1, 3]
    assert [(q.record_number, q.reason.split(":")[0]) for q in fr.problems] == [(4, "malformed JSON line")]
    assert fr.rows_read == 3


def test_read_csv_with_bom(tmp_path: Path) -> None:
    p = write(tmp_path / "x_contents.csv", '\ufeffnote_id,title\nn1,"a, quoted\ntitle"\nn2,面霜\n'.encode())
    fr = read_records(p)
    assert fr.records == [{"note_id": "n1", "title": "a, quoted\ntitle"}, {"note_id": "n2", "title": "面霜"}]
    assert fr.encoding == "utf-8" and fr.notes == []


def test_read_gbk_csv(tmp_path: Path) -> None:
    p = tmp_path / "x_contents.csv"
    p.write_text("note_id,title\nn1,冬季面霜推荐\n", encoding="gbk")
    fr = read_records(p)
    assert fr.records == [{"note_id": "n1", "title": "冬季面霜推荐"}]
    assert fr.encoding == "gb18030" and fr.notes == ["decoded as gb18030"]


def test_read_truncated_json_array(tmp_path: Path) -> None:
    text = json.dumps([{"n": 1}, {"n": 2}, {"n": 3, "t": "long text"}])
    p = write(tmp_path / "x_contents.json", text[: text.index("long") + 2])
    fr = read_records(p)
    assert fr.records == [{"n": 1}, {"n": 2}] and fr.record_numbers == [1, 2]
    assert len(fr.problems) == 1 and fr.problems[0].record_number == 3
    assert fr.problems[0].reason.startswith("malformed or truncated JSON at record 3")
    assert fr.problems[0].raw.startswith('{"n": 3')
    assert fr.rows_read == 3


def test_kind_of() -> None:
    assert kind_of(Path("creator_contents_2025-03-12.json")) == "notes"
    assert kind_of(Path("search_comments.jsonl")) == "comments"
    assert kind_of(Path("creator_creator_xena.json")) == "creators"
    assert kind_of(Path("detail_contents_2025-03-12.txt")) is None
    assert kind_of(Path("xhs_koc_list_xinhong.csv")) is None


def test_landing_files_both_layouts(tmp_path: Path) -> None:
    write(tmp_path / "land" / "mediacrawler" / "a" / "search_contents_1.json", "[]")
    write(tmp_path / "land" / "other" / "search_contents_2.json", "[]")  # outside mediacrawler/: ignored
    assert [p.name for p in ingest.landing_files(tmp_path / "land")["notes"]] == ["search_contents_1.json"]
    write(tmp_path / "crawl" / "Ning" / "creator_contents_extension.json", "[]")
    assert [p.name for p in ingest.landing_files(tmp_path / "crawl")["notes"]] == ["creator_contents_extension.json"]


# ---------------------------------------------------------------- ingest_batches


def test_partition_by_crawl_time_not_file_name(tmp_path: Path) -> None:
    f = "mediacrawler/search_contents_2025-03-01.json"
    write(tmp_path / f, json.dumps([note("n1", ms(2025, 3, 12, 23, 30)), note("n2", ms(2025, 3, 13, 0, 10))]))
    res = run(tmp_path)
    assert dict(zip(res.notes["note_id"], res.notes["snapshot_date"])) == {
        "n1": date(2025, 3, 12),
        "n2": date(2025, 3, 13),
    }
    # a range keeps only its days' rows and does not count the others
    res12 = run(tmp_path, date(2025, 3, 12), date(2025, 3, 12))
    assert list(res12.notes["note_id"]) == ["n1"]
    assert per_file(res12) == {f: {"read": 1, "kept": 1, "duplicates": 0, "quarantined": 0}}


def test_latest_crawl_wins_per_id_and_day(tmp_path: Path) -> None:
    a, b = "mediacrawler/a/search_contents_x.json", "mediacrawler/b/search_contents_y.json"
    write(tmp_path / a, json.dumps([note("n1", ms(2025, 3, 12, 9), "10"), note("n1", ms(2025, 3, 13, 9), "30")]))
    write(tmp_path / b, json.dumps([note("n1", ms(2025, 3, 12, 20), "20"), note("n1", ms(2025, 3, 12, 8), "5")]))
    res = run(tmp_path)
    got = {(r.note_id, r.snapshot_date): r.likes for r in res.notes.itertuples()}
    assert got == {("n1", date(2025, 3, 12)): 20, ("n1", date(2025, 3, 13)): 30}
    assert per_file(res) == {
        a: {"read": 2, "kept": 1, "duplicates": 1, "quarantined": 0},
        b: {"read": 2, "kept": 1, "duplicates": 1, "quarantined": 0},
    }
    assert res.notes.loc[res.notes["likes"] == 20, "crawled_at"].iloc[0] == pd.Timestamp("2025-03-12 12:00", tz="UTC")


def test_quarantine_rows_and_accounting(tmp_path: Path) -> None:
    f = "mediacrawler/search_contents_2025-03-12.json"
    recs = [
        note("n1", ms(2025, 3, 12)),
        note("n2", ms(2025, 3, 12), likes="abc"),
        note("n1", ms(2025, 3, 12, 8)),
        [1, 2],
    ]
    write(tmp_path / f, json.dumps(recs, ensure_ascii=False))
    res = run(tmp_path)
    q = res.quarantine
    assert list(zip(q["source"], q["source_file"], q["record_number"], q["reason"])) == [
        ("notes", f, 2, "liked_count is not a number: 'abc'"),
        ("notes", f, 4, "record is not a JSON object"),
    ]
    assert json.loads(q["raw"].iloc[0]) == recs[1]  # the original record, as JSON text
    assert json.loads(q["raw"].iloc[1]) == [1, 2]
    assert list(q["snapshot_date"]) == [date(2025, 3, 12)] * 2
    assert per_file(res) == {f: {"read": 4, "kept": 1, "duplicates": 1, "quarantined": 2}}


def test_comments_unknown_note_and_parent_forms(tmp_path: Path) -> None:
    """A comment whose note was never crawled is a valid row (contract section 2): kept, like the others; the
    comments_note_crawled check (lib/quality/rules.py) counts them."""
    day = ms(2025, 3, 12)
    write(tmp_path / "mediacrawler/search_contents_2025-03-12.json", json.dumps([note("n1", day)]))
    c = [
        comment("c1", "n1", day, parent_comment_id="0"),
        comment("c2", "n1", day, parent_comment_id=""),
        comment("c3", "n1", day),
        comment("c4", "n1", day, parent_comment_id="c1"),
        comment("c5", "n9", day),
        comment("c6", "old", day),
    ]
    assert "parent_comment_id" not in c[2]  # missing altogether
    f = "mediacrawler/search_comments_2025-03-12.jsonl"
    write(tmp_path / f, "\n".join(json.dumps(x) for x in c))
    res = run(tmp_path)
    # text columns are Arrow strings (schemas.arrow_text): a null is pd.NA
    assert res.comments["parent_comment_id"].dtype == TEXT and res.comments["comment_id"].dtype == TEXT
    parents = {
        c: (None if pd.isna(p) else p) for c, p in zip(res.comments["comment_id"], res.comments["parent_comment_id"])
    }
    assert parents == {"c1": None, "c2": None, "c3": None, "c4": "c1", "c5": None, "c6": None}
    assert dict(zip(res.comments["comment_id"], res.comments["note_id"]))["c5"] == "n9"
    assert res.quarantine.empty
    assert per_file(res)[f] == {"read": 6, "kept": 6, "duplicates": 0, "quarantined": 0}
    # the same through the fast path (Arrow text)
    fast = ingest.ingest_batches(ingest.file_batches(tmp_path, min_bytes=0), ingest.IngestContext(now=NOW))
    assert fast.comments["comment_id"].dtype == TEXT
    assert sorted(fast.comments["comment_id"]) == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert fast.quarantine.empty


def test_comment_on_quarantined_note_is_kept(tmp_path: Path) -> None:
    """The note is quarantined, its comment is kept (as a comment on a never-crawled note)."""
    day = ms(2025, 3, 12)
    write(tmp_path / "mediacrawler/search_contents_2025-03-12.json", json.dumps([note("n1", day, likes="-5")]))
    write(tmp_path / "mediacrawler/search_comments_2025-03-12.json", json.dumps([comment("c1", "n1", day)]))
    res = run(tmp_path)
    assert sorted(res.quarantine["reason"]) == ["liked_count is negative: '-5'"]
    assert res.notes.empty and list(res.comments["comment_id"]) == ["c1"]


def test_creators_tier_and_dedup(tmp_path: Path) -> None:
    rows = [
        {
            "user_id": "u1",
            "nickname": "a",
            "fans": "10万+",
            "follows": "3",
            "interaction": "1.1万",
            "tag_list": '{"profession": "x"}',
            "last_modify_ts": ms(2025, 3, 12, 8),
        },
        {
            "user_id": "u1",
            "nickname": "a",
            "fans": "9999",
            "follows": "3",
            "interaction": "5",
            "tag_list": "",
            "last_modify_ts": ms(2025, 3, 12, 7),
        },
        {
            "user_id": "u2",
            "nickname": "b",
            "fans": "1.2k",
            "follows": "0",
            "interaction": "0",
            "last_modify_ts": ms(2025, 3, 12),
        },
    ]
    write(tmp_path / "mediacrawler/creator_creator_2025-03-12.json", json.dumps(rows))
    res = run(tmp_path)
    c = res.creators.set_index("user_id")
    assert c.loc["u1", "followers"] == 100_000 and c.loc["u1", "tier"] == "mid"
    assert c.loc["u1", "likes_and_saves_total"] == 11_000
    assert c.loc["u2", "followers"] == 1_200 and c.loc["u2", "tier"] == "nano"
    assert int(res.accounting["duplicates"].sum()) == 1


def test_enrichment_in_ingest(tmp_path: Path) -> None:
    cats = pd.DataFrame({"keyword": ["面霜"], "category": ["skincare"]})
    brands = pd.DataFrame(
        {"brand": ["Proya"], "aliases": [["珀莱雅"]], "category": ["skincare"], "control_keyword": [None]}
    )
    write(
        tmp_path / "mediacrawler/search_contents_2025-03-12.json",
        json.dumps(
            [
                note("n1", ms(2025, 3, 12), title="珀莱雅面霜", desc="#广告", tag_list="面霜,护肤"),
                note("n2", ms(2025, 3, 12), title="#adidas", desc="", tag_list=""),
            ],
            ensure_ascii=False,
        ),
    )
    res = run(tmp_path, categories=cats, brands=brands)
    n = res.notes.set_index("note_id")
    assert n.loc["n1", "category"] == "skincare" and list(n.loc["n1", "brands"]) == ["Proya"]
    assert list(n.loc["n1", "tags"]) == ["面霜", "护肤"]
    assert bool(n.loc["n1", "is_disclosed"]) and not bool(n.loc["n2", "is_disclosed"])
    assert pd.isna(n.loc["n2", "category"]) and list(n.loc["n2", "brands"]) == []
    assert n.loc["n1", "engagements"] == 10 + 1 + 0 + 0


def test_day_bounds_ms() -> None:
    lo, hi = ingest.day_bounds_ms(date(2025, 3, 12), date(2025, 3, 12))
    assert (lo, hi) == (ms(2025, 3, 12, 0, 0), ms(2025, 3, 13, 0, 0))


# ---------------------------------------------------------------- the real crawl


@pytest.fixture(scope="module")
def real() -> tuple[ingest.IngestResult, list]:
    if not (REAL / "SOURCE.md").is_file():
        pytest.skip(f"real MediaCrawler crawl not present at {REAL}")
    batches = ingest.file_batches(REAL)  # a folder without mediacrawler/ is the MediaCrawler folder itself
    return ingest.ingest_batches(batches, ingest.IngestContext()), batches


@pytest.fixture(scope="module")
def plain() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same crawl read with json + pandas only (no project code)."""
    if not (REAL / "SOURCE.md").is_file():
        pytest.skip(f"real MediaCrawler crawl not present at {REAL}")
    frames = {"contents": [], "creator": []}
    for p in sorted(REAL.rglob("*.json")):
        item = "contents" if "_contents" in p.name else "creator"
        frames[item].append(
            pd.DataFrame(json.loads(p.read_text(encoding="utf-8"))).assign(_file=p.relative_to(REAL).as_posix())
        )
    return pd.concat(frames["contents"], ignore_index=True), pd.concat(frames["creator"], ignore_index=True)


def _day(ms_col: pd.Series) -> pd.Series:
    return pd.to_datetime(ms_col, unit="ms", utc=True).dt.tz_convert("Asia/Shanghai").dt.date


def test_real_crawl_accounting(real, plain) -> None:
    res, _ = real
    notes_raw, creators_raw = plain
    acc = res.accounting.groupby("kind")[["read", "kept", "duplicates", "quarantined"]].sum()
    assert acc.loc["notes"].to_dict() == {"read": 16_339, "kept": 16_236, "duplicates": 102, "quarantined": 1}
    assert acc.loc["creators"].to_dict() == {"read": 114, "kept": 106, "duplicates": 8, "quarantined": 0}
    # independently: rows, the one note published after its crawl, distinct (id, crawl day)
    assert len(notes_raw) == 16_339 and len(creators_raw) == 114
    late = notes_raw[notes_raw["time"] > notes_raw["last_modify_ts"]]
    assert list(late["note_id"]) == ["64a47bc0000000002f0284c9"]
    good = notes_raw.drop(late.index)
    assert good.assign(d=_day(good["last_modify_ts"])).drop_duplicates(["note_id", "d"]).shape[0] == 16_236
    assert creators_raw.assign(d=_day(creators_raw["last_modify_ts"])).drop_duplicates(["user_id", "d"]).shape[0] == 106
    q = res.quarantine
    assert len(q) == 1
    assert (q["source_file"].iloc[0], q["reason"].iloc[0]) == (
        "Ning/creator_contents_extension.json",
        "published_at is after crawled_at",
    )
    assert json.loads(q["raw"].iloc[0])["note_id"] == "64a47bc0000000002f0284c9"
    ext = notes_raw[notes_raw["_file"] == "Ning/creator_contents_extension.json"].reset_index(drop=True)
    assert q["record_number"].iloc[0] == int(ext.index[ext["note_id"] == "64a47bc0000000002f0284c9"][0]) + 1
    g = res.accounting.groupby("source_file")[["read", "kept", "duplicates", "quarantined"]].sum()
    assert (g["read"] == g["kept"] + g["duplicates"] + g["quarantined"]).all()
    assert (
        len(g) == len(list(REAL.rglob("*.json"))) == 57 and not res.file_notes
    )  # every JSON file (not the third-party CSV)


def test_real_crawl_values(real, plain) -> None:
    res, _ = real
    notes_raw, _ = plain
    n, c = res.notes, res.creators
    assert n["note_id"].nunique() == 16_004 and c["user_id"].nunique() == 103
    assert set(c["tier"]) == {"nano"} and (c["followers"].min(), c["followers"].max()) == (69, 8_955)
    # abbreviated likes, found by their raw values
    for raw, want in (("1.1万", 11_000), ("4.5万", 45_000)):
        rec = notes_raw[notes_raw["liked_count"] == raw].iloc[0]
        day = _day(pd.Series([rec["last_modify_ts"]])).iloc[0]
        row = n[(n["note_id"] == rec["note_id"]) & (n["snapshot_date"] == day)]
        assert list(row["likes"]) == [want]
    rec = notes_raw[notes_raw["share_count"] == "1.5万"].iloc[0]
    assert 15_000 in set(n.loc[n["note_id"] == rec["note_id"], "shares"])
    days = set(n["snapshot_date"]) | set(res.quarantine["snapshot_date"])
    assert len(days) == 517 == _day(notes_raw["last_modify_ts"]).nunique()
    assert (n["engagements"] == n["likes"] + n["saves"] + n["comments"] + n["shares"]).all()
    assert n["note_type"].value_counts().to_dict().keys() == {"normal", "video"}
    assert len(n[n["title"] == ""]) > 0  # empty titles are kept


def test_stable_order_is_pandas_mergesort() -> None:
    """ingest.stable_order (Arrow's stable sort) gives the row order of sort_values(kind="mergesort"): text ids
    by code point (non-ASCII included), dates and timestamps with nulls last, ties in frame order."""
    rng = np.random.default_rng(1)
    ids = [f"n{x}" for x in rng.integers(0, 300, 2000)] + ["é", "z", "Z", "中", "a\u00e9", "😀"] * 10
    m = len(ids)
    f = pd.DataFrame(
        {
            "note_id": pd.Series(ids, dtype=object),
            "snapshot_date": rng.choice(np.array([date(2025, 1, 1), date(2025, 1, 2), None], dtype=object), m),
            "crawled_at": pd.Series(pd.to_datetime(rng.integers(0, 10**6, m), unit="s", utc=True)).where(
                rng.random(m) > 0.05
            ),
            "_file": rng.choice(np.array(["b", "a", "c"], dtype=object), m),
            "_record": rng.integers(0, 50, m),
        },
        index=rng.permutation(m) + 5,
    )
    for cols in (["note_id", "snapshot_date"], ["crawled_at", "_file", "_record"]):
        got = f.take(stable_order(f, cols)).index
        assert list(got) == list(f.sort_values(cols, kind="mergesort").index), cols
    first = list(dict.fromkeys(f.take(stable_order(f, ["note_id"]))["note_id"]))[:3]
    assert first == ["Z", "a\u00e9", "n0"]


@pytest.mark.parametrize("seed", range(5))
def test_dedupe_equals_sorting_the_frame(seed: int) -> None:
    """`dedupe` (key codes in crawl order) against its definition: the frame sorted by crawl time, file and
    record (stable), the last of each (id, day) kept; with ties, null crawl times, several days and files."""
    from kol_pipeline_tests.ingest_sql import dedupe

    rng = np.random.default_rng(seed)
    n = 3_000
    frame = pd.DataFrame(
        {
            "note_id": rng.choice([f"n{i}" for i in range(400)], n).astype(object),
            "snapshot_date": rng.choice([date(2025, 6, 1), date(2025, 6, 2)], n).astype(object),
            "crawled_at": pd.to_datetime(rng.integers(0, 50, n), unit="h", utc=True),
            "_file": rng.choice(["a.jsonl", "b.jsonl"], n).astype(object),
            "_record": rng.integers(1, 100, n),
            "likes": rng.integers(0, 10, n),
        },
        index=rng.permutation(n) + 10,
    )
    frame.loc[frame.index[:40], "crawled_at"] = pd.NaT
    order = frame.take(stable_order(frame, ["crawled_at", "_file", "_record"]))
    want = order.duplicated(["note_id", "snapshot_date"], keep="last").reindex(frame.index)
    kept, dup = dedupe(frame, "note_id")
    pd.testing.assert_series_equal(dup, want, check_names=False)
    pd.testing.assert_frame_equal(kept, frame[~want])
    assert 0 < dup.sum() < n
    alone = frame.drop_duplicates(["note_id", "snapshot_date"])
    kept, dup = dedupe(alone, "note_id")
    assert not dup.any() and kept.equals(alone)


@pytest.mark.parametrize("seed", range(3))
def test_latest_positions_on_a_subset_in_table_order(seed: int) -> None:
    """`latest_positions` (what ingest_batches takes the tables with): among some rows of the frame, the rows
    `dedupe` keeps, put in (id, day) order by `stable_order`; the duplicate mask covers only those rows."""
    from kol_pipeline_tests.ingest_sql import dedupe, latest_positions

    rng = np.random.default_rng(seed)
    n = 2_000
    frame = pd.DataFrame(
        {
            "note_id": rng.choice([f"n{i}" for i in range(300)] + ["中", "Z"], n).astype(object),
            "snapshot_date": rng.choice([date(2025, 6, 2), date(2025, 6, 1), None], n).astype(object),
            "crawled_at": pd.to_datetime(rng.integers(0, 30, n), unit="h", utc=True),
            "_file": rng.choice(["b.jsonl", "a.jsonl"], n).astype(object),
            "_record": rng.integers(1, 60, n),
        }
    )
    frame.loc[frame.index[:25], "crawled_at"] = pd.NaT
    rows = np.flatnonzero(rng.random(n) < 0.7)
    kept_pos, dup = latest_positions(frame, "note_id", rows, order=["note_id", "snapshot_date"])
    sub = frame.iloc[rows]
    want_kept, want_dup = dedupe(sub, "note_id")
    want = want_kept.take(stable_order(want_kept, ["note_id", "snapshot_date"]))
    assert list(kept_pos) == list(want.index)
    assert list(np.flatnonzero(dup)) == list(want_dup.index[want_dup.to_numpy()])
    assert 0 < dup.sum() and not dup[np.setdiff1d(np.arange(n), rows)].any()
    kept_any, _ = latest_positions(frame, "note_id", rows)
    assert list(kept_any) == sorted(kept_pos)  # without `order`: frame order


def test_in_range_per_distinct_day() -> None:
    """`_in_range` decides per distinct day what the per-row rule gives: not null and within each given bound."""
    from kol_pipeline_tests.ingest_sql import in_range as _in_range

    days = pd.Series([date(2025, 6, d) for d in (1, 2, 3, 2, 5)] + [None], index=list("abcdef"), dtype=object)
    for start, end in (
        (None, None),
        (date(2025, 6, 2), None),
        (None, date(2025, 6, 2)),
        (date(2025, 6, 2), date(2025, 6, 3)),
        (date(2025, 7, 1), None),
    ):
        want = [d is not None and (start is None or d >= start) and (end is None or d <= end) for d in days]
        if start is None and end is None:
            want = [True] * len(days)  # no bounds: every row, as before
        got = _in_range(days, start, end)
        assert got.tolist() == want and list(got.index) == list(days.index) and got.dtype == bool
    assert _in_range(pd.Series([], dtype=object), date(2025, 6, 1), None).tolist() == []
