"""The comment classes and duplicate-detection text of lib/ingest/comment_text.sql against their former Python
regex form (kol_pipeline_tests/python_comments.py): the same result on the bundled sample's comments, on the real
crawl's note texts (titles and descriptions: real XHS text, emoji codes, hashtags, mentions) and on random texts
built from the characters the rules treat specially (white space of every kind, brackets, @, pictographs, digits
of other scripts, fullwidth forms, marks, '_')."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from kol_pipeline.lib.ingest.comments import classify_comments, normalize_comment
from kol_pipeline.lib.settings import load_lexicon
from kol_pipeline_tests import python_comments

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "mediacrawler"
REAL = Path("/work/shared/real/mediacrawler_mf_koc")

# what the rules look at: white space (Python's str.isspace set, not only ASCII), brackets of emoji codes, @,
# pictographs, joiners, punctuation, '_', letters and digits of several scripts
PIECES = [
    " ",
    "\t",
    "\n",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\xa0",
    "\u1680",
    "\u2003",
    "\u2028",
    "\u202f",
    "\u3000",
    "[",
    "]",
    "[赞R]",
    "[笑哭R]",
    "[话题]#",
    "[]",
    "[" + "很" * 12 + "]",
    "[" + "很" * 13 + "]",
    "@",
    "@小美",
    "@a@b",
    "👍",
    "🏻",
    "\u200d",
    "\ufe0f",
    "☀",
    "⬛",
    "?",
    "？",
    "!",
    "，",
    "。",
    "_",
    "-",
    "#",
    "~",
    "…",
    "求链接",
    "在哪买",
    "吗",
    "怎么",
    "我用",
    "亲测",
    "沙发",
    "哈哈",
    "哈",
    "打卡",
    "mark",
    "MARK",
    "h",
    "6",
    "赞",
    "好用",
    "不",
    "Ａ",
    "ｂ",
    "１",
    "٣",
    "Ⅷ",
    "½",
    "é",
    "e\u0301",
    "Σ",
    "ß",
    "ǅ",
    "x",
    "Q",
    "9",
    "好",
    "的",
    "看",
]
LISTS = ["purchase_intent", "question", "experience", "low_effort_fillers"]


def _random_texts(n: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = [None, ""]
    for _ in range(n):
        out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8))))
    return out


def _sample_texts() -> list[str]:
    texts = []
    for p in sorted(SAMPLE.rglob("*comments*.jsonl")):
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("content"), str):
                texts.append(rec["content"])
    return texts


def _real_texts() -> list[str]:
    texts = []
    for p in sorted(REAL.rglob("creator_contents_*.json")):
        try:
            records = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        for rec in records if isinstance(records, list) else []:
            for key in ("title", "desc"):
                if isinstance(rec, dict) and isinstance(rec.get(key), str):
                    texts.append(rec[key])
    return texts


def _context_cased(text: str | None) -> bool:
    return text is not None and ("Σ" in text or "İ" in text)


def test_lower_case_of_sigma_and_dotted_i():
    assert normalize_comment(pd.Series(["ΜΑΡΚΣ", "İyi"])).tolist() == ["μαρκσ", "iyi"]


def _same(texts: list[str | None]) -> None:
    s = pd.Series(texts, dtype=object)
    want, got = python_comments.classify_comments(s), classify_comments(s)
    diff = [(t, w, g) for t, w, g in zip(texts, want, got) if w != g]
    assert not diff, f"{len(diff)} of {len(texts)} classes differ, e.g. {diff[:5]}"
    want_n, got_n = python_comments.normalize_comment(s), normalize_comment(s)
    # the two letters whose lower case Python's str.lower() takes from their context or expands: a word-final Σ
    # (ς in Python, σ in DuckDB) and İ (i + combining dot in Python, i in DuckDB); docs/metrics.md says so
    diff = [(t, w, g) for t, w, g in zip(texts, want_n, got_n) if w != g and not _context_cased(t)]
    assert not diff, f"{len(diff)} of {len(texts)} normalized texts differ, e.g. {diff[:5]}"


def test_sample_comments_same_as_python():
    texts = _sample_texts()
    assert len(texts) > 500
    classes = set(python_comments.classify_comments(pd.Series(texts)))
    assert classes == set(python_comments.COMMENT_CLASSES)  # every class is exercised
    _same(texts)


def test_real_note_texts_same_as_python():
    if not (REAL / "SOURCE.md").is_file():
        pytest.skip(f"real MediaCrawler crawl not present at {REAL}")
    texts = _real_texts()
    assert len(texts) > 100
    _same(texts)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_texts_same_as_python(seed):
    _same(_random_texts(3000, seed))


def test_lexicon_lists_reach_the_macros():
    # every list and both limits changed: the SQL must follow the lexicon, not the default file
    base = load_lexicon()
    custom = type(base)(
        disclosure_markers=base.disclosure_markers,
        comment_classes={
            "purchase_intent": ("想要同款", "buy?"),
            "question": ("请问",),
            "experience": ("我试过",),
            "low_effort_fillers": ("好!", "OK"),
        },
        low_effort_min_chars=2,
        tag_friend_max_chars=0,
    )
    texts = ["想要同款", "能buy?吗", "请问", "我试过了", "好好ok", "@小美", "@小美 看", "吗", "x", "其他的话"]
    # 看, 吗 and x: one meaningful character, fewer than 2
    got = classify_comments(pd.Series(texts), custom).tolist()
    want = python_comments.classify_comments(pd.Series(texts), custom).tolist()
    assert got == want
    assert got == [
        "purchase_intent",
        "purchase_intent",
        "question",
        "experience",
        "low_effort",
        "tag_friend",
        "low_effort",
        "low_effort",
        "low_effort",
        "other",
    ]
