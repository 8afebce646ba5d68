"""Value parsers (lib/ingest/parsing.py; counts and tag lists: the SQL macros of lib/ingest/ingest_macros.sql) and
text enrichment (clean_notes.sql, through kol_pipeline_tests/ingest_sql.py) on hand-computed cases."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from kol_pipeline.lib.ingest import parsing
from kol_pipeline_tests import ingest_sql


def _s(values: list) -> pd.Series:
    return pd.Series(values, dtype=object)


def _r(reasons: pd.Series) -> list:
    """Reasons as a list with None where the value is fine (the parsers leave None or NaN there)."""
    return [None if pd.isna(r) else r for r in reasons]


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("35", 35),
        ("1.1万", 11_000),
        ("4.5万", 45_000),
        ("10万+", 100_000),
        ("2.3w", 23_000),
        ("2.3W", 23_000),
        ("1.2k", 1_200),
        ("1亿", 100_000_000),
        ("1,234", 1_234),
        ("1.2万+", 12_000),
        (" 7 ", 7),
        (0, 0),
        (42, 42),
        # CONTRACT section 2: an empty count and XHS's zero labels are 0 (2026 crawls write "" for zero counts)
        ("", 0),
        ("   ", 0),
        ("赞", 0),
        ("点赞", 0),
        ("收藏", 0),
        ("评论", 0),
        (" 分享 ", 0),
    ],
)
def test_parse_counts_values(raw: object, want: int) -> None:
    out, why = ingest_sql.parse_counts(_s([raw]), "liked_count")
    assert out.dtype == "Int64"
    assert out.iloc[0] == want
    assert _r(why) == [None]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc", "liked_count is not a number: 'abc'"),
        ("-5", "liked_count is negative: '-5'"),
        (None, "missing count liked_count"),
        (float("nan"), "missing count liked_count"),
        ("1.2.3", "liked_count is not a number: '1.2.3'"),
        ("万", "liked_count is not a number: '万'"),
        ("赞赞", "liked_count is not a number: '赞赞'"),
        ("\u2028", "liked_count is not a number: '\\u2028'"),
        ("１２", "liked_count is not a number: '１２'"),
        ([1], "liked_count is not a number: [1]"),
        ({"a": 1}, "liked_count is not a number: {'a': 1}"),
        (1e30, "liked_count is not a number: 1e+30"),
        ("99999999999999999999999", "liked_count is out of range: '99999999999999999999999'"),
        ("9" * 200, "liked_count is out of range: '" + "9" * 76 + "..."),
    ],
)
def test_parse_counts_reasons(raw: object, reason: str) -> None:
    out, why = ingest_sql.parse_counts(_s([raw]), "liked_count")
    assert pd.isna(out.iloc[0])
    assert _r(why) == [reason]


def test_parse_counts_vectorized_keeps_index() -> None:
    out, why = ingest_sql.parse_counts(pd.Series(["3", "x", "1万"], index=[10, 20, 30], dtype=object), "c")
    assert list(out.index) == [10, 20, 30] and out[10] == 3 and pd.isna(out[20]) and out[30] == 10_000
    assert _r(why) == [None, "c is not a number: 'x'", None] and list(why.index) == [10, 20, 30]


# ---------------------------------------------------------------- epoch times


def test_parse_epoch_ms() -> None:
    # 1741752000000 ms = 2025-03-12 04:00:00 UTC = 12:00 Asia/Shanghai
    ts, why = parsing.parse_epoch_ms(
        _s([1741752000000, "1741752000000", 1741752000, "1741752000", "junk", None, 0, -3, 1741752000000 * 1000]),
        "last_modify_ts",
    )
    want = pd.Timestamp("2025-03-12 04:00:00", tz="UTC")
    assert list(ts.iloc[:4]) == [want] * 4  # seconds are scaled to milliseconds
    assert str(ts.dtype) == "datetime64[us, UTC]"
    assert ts.iloc[4:].isna().all()
    assert _r(why) == [
        None,
        None,
        None,
        None,
        "last_modify_ts is not an epoch time: 'junk'",
        "missing last_modify_ts",
        "last_modify_ts is not a valid epoch time: 0",
        "last_modify_ts is not a valid epoch time: -3",
        "last_modify_ts is out of range for an epoch time: 1741752000000000",
    ]


def test_parse_epoch_ms_never_hands_pandas_floats_with_nan(monkeypatch) -> None:
    """pandas 2.x's to_datetime(float array with NaN, unit=...) rounds uninitialized memory at the NaN positions
    under np.errstate(over="raise") and raises FloatingPointError now and then (pandas-dev/pandas#58419): the
    intake fuzz (test_intake_fuzz.py) crashed landing_days with it on a file with one null crawl time. The crash
    depends on memory contents, so this checks the cause: no such call, and the same values as before."""
    import numpy as np

    real = pd.to_datetime

    def guarded(arg, *args, **kwargs):
        arr = np.asarray(getattr(arg, "to_numpy", lambda: arg)())
        assert not (kwargs.get("unit") and arr.dtype.kind == "f" and np.isnan(arr).any()), "float NaN to to_datetime"
        return real(arg, *args, **kwargs)

    monkeypatch.setattr(pd, "to_datetime", guarded)
    ts, why = parsing.parse_epoch_ms(pd.Series([None, "1741744800000", 1741744800.5, "abc", 12.0], dtype=object), "t")
    assert str(ts.dtype) == "datetime64[us, UTC]"
    assert ts.isna().tolist() == [True, False, False, True, False]
    assert ts[1] == pd.Timestamp("2025-03-12 02:00:00", tz="UTC")
    assert ts[2] == pd.Timestamp("2025-03-12 02:00:00.500", tz="UTC")  # seconds with a fraction, scaled
    assert ts[4] == pd.Timestamp("1970-01-01 00:00:12", tz="UTC")
    assert why[0] == "missing t" and why[3].startswith("t is not an epoch time") and why[[1, 2, 4]].isna().all()


def test_parse_epoch_ms_huge_values_are_reasons_not_errors() -> None:
    # 1e30 made pd.to_datetime raise OverflowError and stopped the whole run (issue #24)
    ts, why = parsing.parse_epoch_ms(_s([1e30, "1e30", float("inf"), "-inf", 9.1e15, 1741752000000]), "time")
    assert ts.isna().tolist() == [True] * 5 + [False]
    assert _r(why) == [
        "time is out of range for an epoch time: 1e+30",
        "time is out of range for an epoch time: '1e30'",
        "time is out of range for an epoch time: inf",
        "time is not a valid epoch time: '-inf'",
        "time is out of range for an epoch time: 9100000000000000.0",
        None,
    ]


def test_shanghai_day_numbers_missing_times_are_minus_one() -> None:
    # pd.NaT passes isinstance(x, datetime.date): the landing index computed (NaT - epoch) and raised (issue #24)
    ts, _ = parsing.parse_epoch_ms(_s([1741752000000, None, 1741795200000, "x"]), "last_modify_ts")
    days = parsing.shanghai_day_numbers(ts)
    epoch = date(1970, 1, 1)
    assert days.tolist() == [(date(2025, 3, 12) - epoch).days, -1, (date(2025, 3, 13) - epoch).days, -1]


def test_shanghai_date_boundaries() -> None:
    ts = pd.Series(pd.to_datetime(["2025-03-12 15:59:59", "2025-03-12 16:00:00"], utc=True))
    assert list(parsing.shanghai_date(ts)) == [date(2025, 3, 12), date(2025, 3, 13)]


# ---------------------------------------------------------------- ids, tags, money, dates


def test_check_ids() -> None:
    why = parsing.check_ids(
        _s(["65f0a0000000000000000001", "not-hex_token", " padded ", "has space", "", None, "é", 123]), "note_id"
    )
    assert _r(why) == [
        None,
        None,
        None,
        "bad note_id: 'has space'",
        "missing note_id",
        "missing note_id",
        "bad note_id: 'é'",
        None,
    ]


def test_py_strip_is_python_strip() -> None:
    """py_strip (ingest_macros.sql) trims only values that start or end with whitespace: it must still be Python's
    str.strip() on every kind of edge, Unicode blanks and combining marks included."""
    from kol_pipeline.lib.ingest import clean

    blanks = [c for c in clean.PY_WHITESPACE]
    texts = [
        "",
        "a",
        "abc",
        " a",
        "a ",
        " a ",
        "\u3000中文\u3000",
        "\x85x",
        "x\x1f",
        " \u0301a",
        "a\u0301 ",
        "\u0301",
        "é",
        "a b",
        "\t\n\r",
        "\u200b x \u200b",
        "\ufeffx",
        "x\u00a0",
        *blanks,
        *(b + "mid dle" + b for b in blanks),
        *(b * 3 for b in blanks[::5]),
    ]
    con = clean.connection()
    try:
        got = con.execute("SELECT py_strip(unnest($t))", {"t": texts}).fetchall()
        assert con.execute("SELECT py_strip(NULL)").fetchall() == [(None,)]
    finally:
        con.close()
    assert [g for (g,) in got] == [t.strip() for t in texts]


def test_split_tags() -> None:
    out = ingest_sql.split_tags(
        _s(["达拉斯,达拉斯美食", "a， b ,,", "", None, '["x", " y "]', ["p", " "], "[not json"])
    )
    assert list(out) == [["达拉斯", "达拉斯美食"], ["a", "b"], [], [], ["x", "y"], ["p"], ["[not json"]]


def test_parse_money() -> None:
    out, why = parsing.parse_money(
        _s(["¥1,200", "1.2万", "800元", "￥ 99.5", "1200", "abc", "", None, "-5"]), "fee_cny"
    )
    assert list(out.iloc[:5]) == [1200.0, 12000.0, 800.0, 99.5, 1200.0]
    assert out.iloc[5:].isna().all()
    assert _r(why) == [None] * 5 + [
        "fee_cny is not an amount: 'abc'",
        "missing fee_cny",
        "missing fee_cny",
        "fee_cny is not an amount: '-5'",
    ]


def test_parse_dates() -> None:
    out, why = parsing.parse_dates(
        _s(["2025-03-12", "2025/03/13", "2025-02-30", "12.03.2025", "", None]), "posted_date"
    )
    assert list(out) == [date(2025, 3, 12), date(2025, 3, 13), None, None, None, None]
    assert _r(why) == [
        None,
        None,
        "posted_date is not a date: '2025-02-30'",
        "posted_date is not a date: '12.03.2025'",
        "missing posted_date",
        "missing posted_date",
    ]


def test_date_from_name() -> None:
    assert parsing.date_from_name("creator_contents_2025-03-12.json") == date(2025, 3, 12)
    assert parsing.date_from_name("search_rankings_2025-02-30.csv") is None
    assert parsing.date_from_name("creator_contents_extension.json") is None


def test_first_reason() -> None:
    a, b = _s([None, "a1", None]), _s(["b0", "b1", None])
    assert _r(parsing.first_reason(a, b)) == ["b0", "a1", None]


# ---------------------------------------------------------------- category, disclosure, brands

CATS = pd.DataFrame(
    {
        "keyword": ["面霜", "护肤", "口红", "美食", "火锅"],
        "category": ["skincare", "skincare", "beauty", "food", "food"],
    }
)


def _cat(title: str, desc: str, tags: list[str], cats: pd.DataFrame = CATS) -> object:
    return ingest_sql.categorize(_s([title]), _s([desc]), pd.Series([tags], dtype=object), cats).iloc[0]


def test_categorize_exact_scores() -> None:
    # beauty: title 2 + desc 1 = 3; skincare: one tag 3 -> tie 3:3 -> first listed category (skincare)
    assert _cat("口红试色", "口红", ["面霜"]) == "skincare"
    # two tags containing 面霜: 3 + 3 = 6 > beauty title 2 + desc 1 = 3
    assert _cat("口红", "口红", ["面霜推荐", "好用面霜"]) == "skincare"
    # food: 火锅 in title (2) + 美食 in desc (1) + 美食 tag (3) = 6 vs skincare 护肤 tag 3 + 面霜 title 2 = 5
    assert _cat("面霜 火锅", "美食", ["美食探店", "护肤"]) == "food"
    # one keyword in two tags counts twice: beauty 3 + 3 = 6 beats food title + desc (2 + 1 = 3)
    assert _cat("火锅", "火锅", ["口红", "口红色号"]) == "beauty"
    # a tag containing two keywords of one category scores for both: 护肤面霜 -> 3 + 3 = 6 > food 2 + 2 + 1 = 5
    assert _cat("火锅美食", "火锅", ["护肤面霜"]) == "skincare"
    # case-insensitive substring matching
    cats = pd.DataFrame({"keyword": ["OOTD"], "category": ["fashion"]})
    assert _cat("my ootd today", "", [], cats) == "fashion"


def test_categorize_tie_goes_to_first_listed() -> None:
    cats_b_first = pd.DataFrame({"keyword": ["口红", "面霜"], "category": ["beauty", "skincare"]})
    assert _cat("口红 面霜", "", [], CATS) == "skincare"  # 2:2, skincare listed first in CATS
    assert _cat("口红 面霜", "", [], cats_b_first) == "beauty"  # 2:2, beauty listed first here


def test_categorize_no_match_is_null() -> None:
    assert _cat("旅行日记", "", ["风景"]) is None
    assert _cat("", "", []) is None
    out = ingest_sql.categorize(_s(["面霜"]), _s([""]), pd.Series([[]], dtype=object), None)
    assert out.iloc[0] is None


def test_disclosed() -> None:
    markers = ["#广告", "广告", "赞助", "品牌合作", "合作", "#ad", "sponsored"]
    body = pd.Series(
        [
            "新品试用 #广告",
            "#adidas 新鞋",
            "thanks #ad",
            "Sponsored by x".lower(),
            "普通分享",
            "#ad,#ootd",
            "品牌合作款",
        ],
        dtype=object,
    )
    assert list(ingest_sql.disclosed(body, markers)) == [True, False, True, True, False, True, True]
    assert list(ingest_sql.disclosed(body, [])) == [False] * 7


def test_brands_mentioned() -> None:
    brands = pd.DataFrame({"brand": ["Proya", "完美日记"], "aliases": [["珀莱雅", "PROYA"], ["Perfect Diary"]]})
    body = ingest_sql.note_text(
        _s(["珀莱雅精华", "perfect diary 口红", "proyal 不是", "无品牌", "PROYA和完美日记"]),
        _s(["", "", "", "", ""]),
        pd.Series([[], [], [], [], []], dtype=object),
    )
    out = ingest_sql.brands_mentioned(body, brands)
    assert list(out) == [["Proya"], ["完美日记"], [], [], ["Proya", "完美日记"]]
