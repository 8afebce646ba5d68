"""Comment classes and normalized text on real-looking XHS comments (CONTRACT.md "Comments")."""

from __future__ import annotations

import pandas as pd
import pytest

from kol_pipeline.lib.ingest.comments import classify_comments, is_substantive, normalize_comment
from kol_pipeline.lib.settings import Lexicon, load_lexicon

CASES = [
    # purchase intent (first in order, wins over a question mark)
    ("求链接[赞R][赞R]", "purchase_intent"),
    ("姐妹这个在哪买呀？", "purchase_intent"),
    ("已购，坐等到货[害羞R]", "purchase_intent"),
    ("@小红薯6A3F 多少钱", "purchase_intent"),
    # question
    ("这个敏感肌能用吗", "question"),
    ("油皮适合吗?", "question"),
    ("请问是什么色号呀[哭惹R]", "question"),
    ("真的有效？", "question"),
    # tag friend: a mention and little else
    ("@小美 ", "tag_friend"),
    ("@橙子汽水 快看[偷笑R]", "tag_friend"),
    ("@阿花 @兔兔 冲", "tag_friend"),
    # experience
    ("我用了一个月，痘痘少了好多", "experience"),
    ("亲测好用，回头客了", "experience"),
    ("我家宝宝也爱吃这个", "experience"),
    # low effort
    ("[赞R][赞R][赞R]", "low_effort"),
    ("沙发", "low_effort"),
    ("哈哈哈哈哈哈", "low_effort"),
    ("前排打卡！", "low_effort"),
    ("好看", "low_effort"),
    ("👍👍", "low_effort"),
    ("", "low_effort"),
    # other: says something, none of the above
    ("写得太详细了，收藏慢慢看", "other"),
    ("@闺蜜 这家店我们下次一起去吧，看起来很好吃", "other"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_comment_class(text, expected):
    assert classify_comments(pd.Series([text])).iloc[0] == expected


def test_vectorized_keeps_index_and_null_is_low_effort():
    s = pd.Series(["求链接", None, "这个好用吗"], index=[10, 11, 12])
    out = classify_comments(s)
    assert list(out.index) == [10, 11, 12]
    assert out.tolist() == ["purchase_intent", "low_effort", "question"]


def test_mention_text_does_not_trigger_words():
    # the nickname contains 哪 (a question word) and 链接 (purchase): only the mention carries them
    out = classify_comments(pd.Series(["@哪吒链接 这篇笔记写得真好我很喜欢"]))
    assert out.iloc[0] == "other"


def test_emoji_codes_do_not_count_as_meaningful_characters():
    # 3 meaningful characters and emoji codes -> low_effort; 4 -> other
    out = classify_comments(pd.Series(["太美了[赞R][赞R][赞R][赞R]", "太美了呢[赞R]"]))
    assert out.tolist() == ["low_effort", "other"]


def test_word_lists_come_from_the_lexicon():
    base = load_lexicon()
    custom = Lexicon(
        disclosure_markers=base.disclosure_markers,
        comment_classes={**base.comment_classes, "purchase_intent": ("想要同款",)},
        low_effort_min_chars=2,
        tag_friend_max_chars=0,
    )
    s = pd.Series(["想要同款的衣服", "求链接", "好的", "@小美 快看"])
    out = classify_comments(s, custom)
    # 求链接 is no longer a purchase word; 好的 (2 chars) is only a filler; tag_friend allows no other text now
    assert out.tolist() == ["purchase_intent", "other", "low_effort", "other"]


def test_is_substantive():
    out = is_substantive(pd.Series(["low_effort", "question", None]))
    assert out.tolist()[:2] == [False, True] and out.isna().tolist() == [False, False, True]


def test_normalize_comment():
    s = pd.Series(["好用！！[赞R] @小美 ", "好用[赞R][赞R]", "  Nice， 好用~ ", None])
    assert normalize_comment(s).tolist() == ["好用", "好用", "nice好用", ""]
