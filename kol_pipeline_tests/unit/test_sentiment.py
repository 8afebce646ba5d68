"""comments.sentiment and the two net sentiment ratios (issue #26, CONTRACT.md "Finding the right creators").

The macro (lib/ingest/sentiment.sql) on hand-written texts: every word of each list of the lexicon, negation by
each negator, emoji codes and @mentions set aside, empty text, configurable lists; the column from ingestion on both
cleaning paths; the comment state's lt_sent; note_metrics' and creator_scorecard's NSR with their thresholds
(3 and 5 positive + negative comments) on hand-built comments and comment counts.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest.fastread import ColumnarRecords
from kol_pipeline.lib.ingest.sentiment import classify_sentiment
from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql
from kol_pipeline.lib.schemas import TABLES
from kol_pipeline.lib.settings import MetricSettings, load_lexicon
from kol_pipeline.lib.state import comment_state as Q
from kol_pipeline.lib.state import comment_view as CV

LEX = load_lexicon()


def _s(texts, lexicon=LEX) -> list[str]:
    return list(classify_sentiment(pd.Series(texts, dtype=object), lexicon).astype(object))


def test_default_lists_are_the_contracts() -> None:
    s = LEX.sentiment
    assert s["negative"] == tuple(
        "难用 难吃 难喝 踩雷 避雷 过敏 失望 退货 差评 智商税 翻车 烂脸 后悔 垃圾 不值".split()
    )
    assert s["positive"] == tuple("好用 喜欢 推荐 爱了 绝了 回购 不错 好吃 好喝 惊艳 宝藏 值得 有效 效果好".split())
    assert s["negators"] == ("不", "没", "别")


def test_every_word_of_every_list() -> None:
    neg, pos, negators = LEX.sentiment["negative"], LEX.sentiment["positive"], LEX.sentiment["negators"]
    assert _s([f"这个{w}啊" for w in neg]) == ["negative"] * len(neg)
    assert _s([f"这个{w}啊" for w in pos]) == ["positive"] * len(pos)
    negated = [f"真的{n}{w}" for n in negators for w in pos]
    assert _s(negated) == ["negative"] * len(negated)
    # a negative word wins over a positive one in the same text
    assert _s(["好用但是过敏", "喜欢，就是有点后悔"]) == ["negative", "negative"]


def test_negation_examples() -> None:
    # 不推荐, 不好用; 没有效果: 有效 after 没; 别买: 买 is no positive word, and 别买 is in no list (neutral)
    assert _s(["不推荐", "不好用", "没有效果", "别买", "别买了，踩雷", "别推荐了"]) == [
        "negative",
        "negative",
        "negative",
        "neutral",
        "negative",
        "negative",
    ]
    # only directly preceded: a character or a punctuation mark between them is no negation
    assert _s(["不太推荐", "不，推荐！", "不 推荐"]) == ["positive", "positive", "positive"]
    # 不错 is itself a positive word (its 不 negates nothing), 不值 a negative one
    assert _s(["很不错", "不值得"]) == ["positive", "negative"]


def test_not_negations_are_configurable() -> None:
    # the default is the contract's literal rule: a positive word right after 不/没/别 is negative, also inside
    # 特别 / 不得不 (docs/metrics.md "Comment sentiment")
    texts = ["特别喜欢", "不得不推荐", "不要太好用", "特别不推荐"]
    assert _s(texts) == ["negative", "negative", "positive", "negative"]
    # a lexicon may list compounds whose last character only looks like a negator
    lenient = replace(LEX, sentiment={**LEX.sentiment, "not_negations": ("特别", "不得不", "不要太")})
    assert _s(texts, lenient) == ["positive", "positive", "positive", "negative"]


def test_emoji_codes_mentions_and_empty_text_are_set_aside() -> None:
    assert _s(["[喜欢R][赞R]", "@推荐官小王 看看", "@好用君", "[笑哭R]好用", "@小王 好用", "😍喜欢"]) == [
        "neutral",
        "neutral",
        "neutral",
        "positive",
        "positive",
        "positive",
    ]
    # a code or a mention between a negator and a word is a space: no longer directly preceded
    assert _s(["不[哭惹R]推荐", "不@小王 推荐"]) == ["positive", "positive"]
    assert _s(["", None, "   ", "[赞R]", "哈哈哈"]) == ["neutral"] * 5


def test_case_and_regex_characters_in_words() -> None:
    lex = replace(
        LEX, sentiment={"negative": ("a+b", "Bad"), "positive": ("(ok)",), "negators": ("no",), "not_negations": ()}
    )
    assert _s(["xa+by", "aab", "so BAD", "(OK)", "ok", "no(ok)", "", None], lex) == [
        "negative",
        "neutral",
        "negative",
        "positive",
        "neutral",
        "negative",
        "neutral",
        "neutral",
    ]
    empty = replace(LEX, sentiment={"negative": (), "positive": (), "negators": (), "not_negations": ()})
    assert _s(["难用", "好用", "不推荐"], empty) == ["neutral"] * 3


def test_a_lexicon_file_without_sentiment_takes_the_default_lists(tmp_path: Path) -> None:
    raw = json.loads((Path(__file__).resolve().parents[2] / "data/reference/lexicon.json").read_text("utf-8"))
    del raw["sentiment"]
    p = tmp_path / "lexicon.json"
    p.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    assert load_lexicon(p).sentiment == LEX.sentiment


# ---------------------------------------------------------------- ingestion: both cleaning paths give the column
NOW = pd.Timestamp("2025-06-28", tz="UTC").to_pydatetime()


def test_ingestion_sets_sentiment_on_both_paths(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "xhs" / "json"
    folder.mkdir(parents=True)
    base = 1_751_000_000_000
    texts = ["不推荐", "好用[赞R]", "@推荐官 来看", "没有效果", "", "特别喜欢", "踩雷了"]
    want = ["negative", "positive", "neutral", "negative", "neutral", "negative", "negative"]  # 别喜欢: literal rule
    records = [
        {
            "comment_id": f"c{i:04d}",
            "note_id": "n1",
            "user_id": f"u{i}",
            "content": t,
            "create_time": base,
            "last_modify_ts": base + 1000,
            "like_count": "1",
            "sub_comment_count": "0",
            "parent_comment_id": "0",
        }
        for i, t in enumerate(texts)
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines[3] = lines[3].replace('"like_count": "1"', '"like_count": 1.5')  # a float: this row is cleaned by Python
    (folder / "search_comments_2025-06-27.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx = ingest.IngestContext(now=NOW)
    ref = ingest.ingest_batches(ingest.file_batches(tmp_path / "landing"), ctx)
    batches = ingest.file_batches(tmp_path / "landing", min_bytes=0)
    assert any(isinstance(fr, ColumnarRecords) for _, fr in batches)
    fast = ingest.ingest_batches(batches, ctx)
    for res in (ref, fast):
        got = res.comments.set_index("comment_id")["sentiment"].astype(object)
        assert [got[f"c{i:04d}"] for i in range(len(texts))] == want
        assert list(res.comments.columns) == [c.name for c in TABLES["comments"].columns]
    pd.testing.assert_frame_equal(ref.comments, fast.comments)


# ---------------------------------------------------------------- comment state and the NSR of notes and creators
D = date(2025, 3, 1)


def _comments(rows: list[tuple]) -> pd.DataFrame:
    """rows: (comment_id, note_id, parent_comment_id, content)."""
    return pd.DataFrame(
        {
            "comment_id": [r[0] for r in rows],
            "note_id": [r[1] for r in rows],
            "parent_comment_id": pd.Series([r[2] for r in rows], dtype=object),
            "content": [r[3] for r in rows],
            "is_substantive": pd.array([True] * len(rows), dtype="boolean"),
            "crawled_at": [pd.Timestamp(D, tz="UTC")] * len(rows),
        }
    )


def _note_rows() -> list[tuple]:
    rows = []
    # n3: 2 positive + 1 negative top-level -> (2 - 1) / 3; replies (negative) do not count
    rows += [
        ("a1", "n3", None, "好用"),
        ("a2", "n3", "0", "喜欢"),
        ("a3", "n3", "", "踩雷"),
        ("a4", "n3", "a1", "难用"),
    ]
    rows += [("a5", "n3", "a1", "失望"), ("a6", "n3", None, "哈哈哈")]
    # n2: 1 positive + 1 negative (2 < 3: null) and neutral ones
    rows += [
        ("b1", "n2", None, "不推荐"),
        ("b2", "n2", None, "推荐"),
        ("b3", "n2", None, "打卡"),
        ("b4", "n2", None, ""),
    ]
    # nneg: 3 negative -> -1; npos: 4 positive -> 1
    rows += [(f"c{i}", "nneg", None, t) for i, t in enumerate(["没有效果", "别推荐", "智商税"])]
    rows += [(f"d{i}", "npos", None, t) for i, t in enumerate(["回购", "宝藏", "绝了", "超喜欢"])]
    return rows


def test_comment_state_carries_the_latest_top_level_sentiment() -> None:
    with duck.connect() as con:
        CV.use_stored(con, None)
        parts = list(Q.state_partitions(con, [D], lambda d: _comments(_note_rows())))
        ((_, rows, base),) = parts
        st = rows.to_pandas().set_index("comment_id")
        assert st.loc["a1", "lt_sent"] == "positive" and st.loc["a3", "lt_sent"] == "negative"
        assert st.loc["a6", "lt_sent"] == "neutral" and pd.isna(st.loc["a4", "lt_sent"])  # a reply: never top-level
        assert st.loc["c1", "lt_sent"] == "negative" and st.loc["d3", "lt_sent"] == "positive"

        share = CV.note_comment_share(con, ["n3", "n2", "nneg", "npos", "none"], D).set_index("note_id")
        nsr = share["comment_sentiment"]
        assert nsr["n3"] == pytest.approx(1 / 3) and nsr["nneg"] == -1.0 and nsr["npos"] == 1.0
        assert pd.isna(nsr["n2"]) and pd.isna(nsr["none"])
        # the threshold is a setting: with 2, n2's one positive and one negative give 0
        two = CV.note_comment_share(con, ["n2"], D, min_sentiment_comments=2).set_index("note_id")
        assert two.loc["n2", "comment_sentiment"] == 0.0

        owners = pd.DataFrame({"note_id": ["n3", "n2", "nneg", "npos"], "user_id": ["u1", "u1", "u2", "u3"]})
        stats = CV.creator_comment_stats(con, owners, D, 90).set_index("user_id")
        assert stats.loc["u1", ["n_pos", "n_neg"]].tolist() == [3.0, 2.0]
        assert stats.loc["u2", ["n_pos", "n_neg"]].tolist() == [0.0, 3.0]
        assert stats.loc["u3", ["n_pos", "n_neg"]].tolist() == [4.0, 0.0]


def test_an_old_comment_state_without_lt_sent_reads_as_unknown() -> None:
    """A stored state written before lt_sent existed: its comments have no known sentiment and count in no NSR
    (the asset rebuilds such a state instead: kol_pipeline_tests/assets/test_state_assets.py)."""
    with duck.connect() as con:
        CV.use_stored(con, None)
        ((_, rows, _),) = list(Q.state_partitions(con, [D], lambda d: _comments(_note_rows())))
        old = rows.drop_columns(["lt_sent"]).to_pandas().assign(snapshot_date=D, base=True)
        CV.use_stored(con, old)
        share = CV.note_comment_share(con, ["n3", "nneg"], D).set_index("note_id")
        assert share["comment_sentiment"].isna().all() and share["comment_share"].notna().all()


def _scorecard(stats: pd.DataFrame, users: list[str]) -> pd.DataFrame:
    nm = pd.DataFrame(
        {
            "snapshot_date": [D] * len(users),
            "note_id": [f"n_{u}" for u in users],
            "user_id": users,
            "published_date": [D] * len(users),
            "crawled_at": pd.Series([pd.Timestamp(D, tz="UTC")] * len(users)),
            "er_7d": [0.05] * len(users),
            "save_to_like": [0.1] * len(users),
            "half_life_days": [2.0] * len(users),
            "eng_30d": [100.0] * len(users),
            "comments": [10] * len(users),
            "likes": [50] * len(users),
            "category": ["food"] * len(users),
            "is_sponsored": pd.array([False] * len(users), dtype="boolean"),
            "is_disclosed": pd.array([False] * len(users), dtype="boolean"),
            "is_evergreen": pd.array([None] * len(users), dtype="boolean"),
        }
    )
    state = pd.DataFrame(
        {
            "snapshot_date": [D] * len(users),
            "user_id": users,
            "nickname": "nick",
            "followers_by_day": [[5000.0] + [None] * 124] * len(users),
        }
    )
    with duck.connect() as con:
        got = scorecard_sql.creator_scorecard(con, nm, state, stats, None, [D], MetricSettings())
    return got.set_index("user_id")


def test_scorecard_comment_sentiment_needs_five() -> None:
    counts = {"p5": (5, 0), "n5": (0, 5), "mix": (3, 2), "four": (2, 2), "neg": (1, 4), "none": (0, 0)}
    stats = pd.DataFrame(
        {
            "snapshot_date": [D] * len(counts),
            "user_id": list(counts),
            "n_all": [10.0] * len(counts),
            "n_dup": [0.0] * len(counts),
            "n_top": [10.0] * len(counts),
            "n_top_sub": [5.0] * len(counts),
            "n_pos": [float(p) for p, _ in counts.values()],
            "n_neg": [float(n) for _, n in counts.values()],
        }
    )
    got = _scorecard(stats, [*counts, "nostats"])["comment_sentiment"]
    assert got["p5"] == 1.0 and got["n5"] == -1.0 and got["mix"] == pytest.approx(0.2) and got["neg"] == -0.6
    assert pd.isna(got["four"]) and pd.isna(got["none"]) and pd.isna(got["nostats"])
    assert str(got.dtype) == "Float64"
