"""comments.sentiment (CONTRACT.md "Finding the right creators"): the DuckDB macros of ``sentiment.sql`` beside
this file, with the word lists of the lexicon (``data/reference/lexicon.json`` key "sentiment", loaded by
``settings.load_lexicon``) as query parameters. docs/metrics.md "Comment sentiment" documents the rule.

``define(con)`` creates the macros on a connection; ``params(lexicon)`` gives the parameters a query calling
``comment_sentiment(content, $sentiment_negative, $sentiment_positive, $sentiment_negators,
$sentiment_not_negations)`` binds; ``classify_sentiment(content)`` runs it over a column of texts.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.settings import SENTIMENT_LISTS, Lexicon, load_lexicon

SENTIMENTS: tuple[str, ...] = ("positive", "negative", "neutral")
#: the call of the macro with the lexicon's lists as parameters (``params``), for queries over a ``content`` column
SENTIMENT_CALL = (
    "comment_sentiment({content}, $sentiment_negative, $sentiment_positive, $sentiment_negators, "
    "$sentiment_not_negations)"
)


def define(con: duckdb.DuckDBPyConnection) -> None:
    """Create the sentiment macros (sentiment.sql) on ``con``."""
    con.execute(duck.query_text("sentiment"))


def params(lexicon: Lexicon | None = None) -> dict[str, list[str]]:
    """The word lists as the parameters ``$sentiment_<list>`` of a query that calls the macro."""
    lex = lexicon if lexicon is not None else load_lexicon()
    return {f"sentiment_{k}": [str(w) for w in lex.sentiment.get(k, ())] for k in SENTIMENT_LISTS}


def classify_sentiment(
    content: pd.Series, lexicon: Lexicon | None = None, con: duckdb.DuckDBPyConnection | None = None
) -> pd.Series:
    """'positive' | 'negative' | 'neutral' for each text of ``content`` (null gives neutral), as Arrow strings with
    the index of ``content``. Runs on ``con`` (a new bounded connection when None)."""
    texts = pa.Table.from_pandas(pd.DataFrame({"content": content.reset_index(drop=True)}), preserve_index=False)
    if texts.schema.field("content").type != pa.string():
        texts = texts.set_column(0, "content", texts.column("content").cast(pa.string()))
    own = con is None
    c: Any = duck.connect() if own else con
    try:
        define(c)
        c.register("sentiment_texts", texts)
        try:
            sql = (
                f"SELECT {SENTIMENT_CALL.format(content='content')} AS sentiment "
                "FROM sentiment_texts ORDER BY row_number() OVER ()"
            )
            got = c.sql(sql, params=params(lexicon)).to_arrow_table()
        finally:
            c.unregister("sentiment_texts")
    finally:
        if own:
            c.close()
    if isinstance(got, pa.RecordBatchReader):
        got = got.read_all()
    arr = got.column("sentiment").cast(pa.string())
    return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=content.index, name="sentiment")
