"""The Python regex form of the comment classes and the duplicate-detection text: kol_pipeline's implementation
until the rules moved into DuckDB macros (lib/ingest/comment_text.sql), kept here as the independent reference the
SQL is compared with (unit/test_comment_text_sql.py). Python's re and str.lower() on one side, RE2 and DuckDB's
lower() on the other."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from kol_pipeline.lib.settings import Lexicon, load_lexicon

COMMENT_CLASSES: tuple[str, ...] = ("purchase_intent", "question", "tag_friend", "experience", "low_effort", "other")

# XHS emoji codes as they appear in crawled text: [笑哭R], [赞R], [哭惹R], [话题] ... (a short bracketed word).
EMOJI_CODE_RE = re.compile(r"\[[^\[\]\s]{1,12}\]")
# Unicode pictographs (and their joiners / variation selectors) count as emoji as well.
UNICODE_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U00002b00-\U00002bff\U0000fe0f\U0000200d\U0001f3fb-\U0001f3ff]"
)
# An @mention runs from @ to the next whitespace or @ (XHS inserts a space after the nickname).
MENTION_RE = re.compile(r"@[^\s@]{1,30}")
# Everything that is not a letter, digit or CJK character: punctuation, symbols, emoji, whitespace, '_'.
NON_MEANINGFUL_RE = re.compile(r"[\W_]+")


def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the words (longest first, regex-escaped), or None for an empty list."""
    words = tuple(sorted({w.lower() for w in words if w}, key=len, reverse=True))
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words))


def _split_words(words: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(words made only of meaningful characters, words that contain punctuation such as '?')."""
    plain = tuple(w for w in words if w and not NON_MEANINGFUL_RE.search(w))
    marks = tuple(w for w in words if w and NON_MEANINGFUL_RE.search(w))
    return plain, marks


def _compiled(lexicon: Lexicon) -> dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]]:
    key = tuple(sorted((k, tuple(v)) for k, v in lexicon.comment_classes.items()))
    return _compiled_for(key)


@lru_cache(maxsize=16)
def _compiled_for(
    classes: tuple[tuple[str, tuple[str, ...]], ...],
) -> dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]]:
    words = dict(classes)
    out: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]] = {}
    for cls in ("purchase_intent", "question", "experience"):
        plain, marks = _split_words(words.get(cls, ()))
        out[cls] = (_word_pattern(plain), _word_pattern(marks))
    fillers = tuple(NON_MEANINGFUL_RE.sub("", w.lower()) for w in words.get("low_effort_fillers", ()))
    fp = _word_pattern(fillers)
    out["low_effort_fillers"] = (re.compile(f"(?:{fp.pattern})+") if fp is not None else None, None)
    return out


def _as_text(content: pd.Series) -> pd.Series:
    return content.astype("string").fillna("")


def _strip_codes_and_mentions(text: pd.Series) -> pd.Series:
    return (
        text.str.replace(EMOJI_CODE_RE, " ", regex=True)
        .str.replace(MENTION_RE, " ", regex=True)
        .str.replace(UNICODE_EMOJI_RE, " ", regex=True)
    )


def normalize_comment(content: pd.Series) -> pd.Series:
    """Text used to detect duplicate comments: XHS emoji codes, @mentions, punctuation, symbols and whitespace
    removed, lower-cased. Null content gives ""."""
    text = _as_text(content)
    return _strip_codes_and_mentions(text).str.replace(NON_MEANINGFUL_RE, "", regex=True).str.lower()


def _contains(text: pd.Series, pattern: re.Pattern[str] | None) -> np.ndarray:
    if pattern is None:
        return np.zeros(len(text), dtype=bool)
    return text.str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)


def classify_comments(content: pd.Series, lexicon: Lexicon | None = None) -> pd.Series:
    """Comment class per CONTRACT.md, the first that applies in this order:
    purchase_intent, question, tag_friend, experience, low_effort, other.

    Words are matched (case-insensitively) on the text with XHS emoji codes, unicode emoji and @mentions removed;
    words made of letters/digits/CJK only are matched after punctuation is removed too, words that contain
    punctuation (the question marks ``?``/``？``) on the text that still has its punctuation.
    ``tag_friend``: an @mention and at most ``lexicon.tag_friend_max_chars`` meaningful characters besides.
    ``low_effort``: fewer than ``lexicon.low_effort_min_chars`` meaningful characters (emoji-only and empty
    comments included), or a text made only of filler words (``low_effort_fillers``, repeated or combined).
    Null content is classified low_effort (nothing was said, e.g. a picture-only comment).
    """
    lex = lexicon if lexicon is not None else load_lexicon()
    pats = _compiled(lex)
    raw = _as_text(content)
    with_punct = _strip_codes_and_mentions(raw).str.lower()
    meaningful = with_punct.str.replace(NON_MEANINGFUL_RE, "", regex=True)
    n_chars = meaningful.str.len().fillna(0).to_numpy(dtype="int64")
    has_mention = _contains(raw, MENTION_RE)

    def hit(cls: str) -> np.ndarray:
        plain, marks = pats[cls]
        return _contains(meaningful, plain) | _contains(with_punct, marks)

    filler_re = pats["low_effort_fillers"][0]
    filler_only = (
        meaningful.str.fullmatch(filler_re).fillna(False).to_numpy(dtype=bool)
        if filler_re is not None
        else np.zeros(len(raw), dtype=bool)
    )
    conditions = [
        hit("purchase_intent"),
        hit("question"),
        has_mention & (n_chars <= lex.tag_friend_max_chars),
        hit("experience"),
        (n_chars < lex.low_effort_min_chars) | filler_only,
    ]
    out = np.select(conditions, list(COMMENT_CLASSES[:-1]), default="other")
    return pd.Series(out, index=content.index, dtype=object, name="comment_class")


def is_substantive(comment_class: pd.Series) -> pd.Series:
    """``is_substantive`` = the class is not low_effort (null class gives null)."""
    out = (comment_class != "low_effort").astype("boolean")
    out[comment_class.isna()] = pd.NA
    return out
