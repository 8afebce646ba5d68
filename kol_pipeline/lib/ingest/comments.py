"""Comment classes and duplicate-detection text (CONTRACT.md "Comments"): the DuckDB macros of ``comment_text.sql``
beside this file, with the lexicon's word lists (data/reference/lexicon.json through ``settings.load_lexicon``,
never from code) as query parameters. docs/metrics.md documents the rules and the choices made where the contract
is silent.

Ingestion calls the macros in clean_comments.sql. ``define(con)`` creates them on a connection; ``params(lexicon)``
gives the parameters of ``CLASS_CALL``; ``classify_comments`` and ``normalize_comment`` run them over a pandas
Series (tests, the benchmark's generator).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.settings import Lexicon, load_lexicon

COMMENT_CLASSES: tuple[str, ...] = ("purchase_intent", "question", "tag_friend", "experience", "low_effort", "other")
#: the word lists of the lexicon's "comment_classes" the class macro takes, as ``$class_<list>`` parameters
CLASS_LISTS: tuple[str, ...] = ("purchase_intent", "question", "experience", "low_effort_fillers")
#: the call of the class macro over the columns ``content``, ``with_punct`` and ``meaningful`` of ``TEXTS``
CLASS_CALL = (
    "comment_class(content, with_punct, meaningful, $class_purchase_intent, $class_question, $class_experience, "
    "$class_low_effort_fillers, $tag_friend_max, $low_effort_min)"
)
#: the columns the class macro needs, from a relation with a ``content`` column (one evaluation per row)
TEXTS = (
    "SELECT *, comment_meaningful(with_punct) AS meaningful "
    "FROM (SELECT *, lower(comment_stripped(content)) AS with_punct FROM {source})"
)


def define(con: duckdb.DuckDBPyConnection) -> None:
    """Create the comment macros (comment_text.sql) on ``con``."""
    con.execute(duck.query_text("comment_text"))


def params(lexicon: Lexicon | None = None) -> dict[str, Any]:
    """The lexicon's word lists and limits as the parameters of ``CLASS_CALL``."""
    lex = lexicon if lexicon is not None else load_lexicon()
    out: dict[str, Any] = {f"class_{k}": [str(w) for w in lex.comment_classes.get(k, ())] for k in CLASS_LISTS}
    out.update(tag_friend_max=int(lex.tag_friend_max_chars), low_effort_min=int(lex.low_effort_min_chars))
    return out


def _texts(content: pd.Series) -> pa.Array:
    values = [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v) for v in content]
    return pa.array(values, pa.string())


def classify_comments(content: pd.Series, lexicon: Lexicon | None = None) -> pd.Series:
    """Comment class per CONTRACT.md, the first that applies in this order: purchase_intent, question, tag_friend,
    experience, low_effort, other (comment_text.sql). Null content is classified low_effort (nothing was said, e.g.
    a picture-only comment). Keeps ``content``'s index."""
    texts = _texts(content)
    con = duck.connect()
    try:
        define(con)
        con.register("comment_texts", pa.table({"content": texts, "i": pa.array(np.arange(len(texts)))}))
        sql = f"SELECT {CLASS_CALL} AS comment_class FROM ({TEXTS.format(source='comment_texts')}) ORDER BY i"
        got = con.sql(sql, params=params(lexicon)).fetchnumpy()["comment_class"]
    finally:
        con.close()
    out = np.asarray(got, dtype=object)
    return pd.Series(out, index=content.index, dtype=object, name="comment_class")


def normalize_comment(content: pd.Series) -> pd.Series:
    """Text used to detect duplicate comments (comment_text.sql ``comment_norm_text``): XHS emoji codes,
    @mentions, punctuation, symbols and white space removed, lower-cased. Null content gives ""."""
    con = duck.connect()
    try:
        define(con)
        texts = _texts(content)
        con.register("comment_texts", pa.table({"content": texts, "i": pa.array(np.arange(len(texts)))}))
        got = con.sql("SELECT comment_norm_text(content) AS t FROM comment_texts ORDER BY i").fetchnumpy()["t"]
    finally:
        con.close()
    return pd.Series(np.asarray(got, dtype=object), index=content.index, dtype="string")


def is_substantive(comment_class: pd.Series) -> pd.Series:
    """``is_substantive`` = the class is not low_effort (null class gives null)."""
    out = (comment_class != "low_effort").astype("boolean")
    out[comment_class.isna()] = pd.NA
    return out
