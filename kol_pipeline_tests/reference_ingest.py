"""The pandas reference of ingestion's text rules (formerly lib/ingest/text.py; not product code): category
(contract scoring), brands mentioned, disclosure markers. The product computes them in SQL (lib/ingest/
clean_notes.sql); test_fastclean.py checks the SQL against these on data/sample, the real crawl and edge cases."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd


def _is_ascii_word(s: str) -> bool:
    return bool(re.fullmatch(r"[#A-Za-z0-9 _\-]+", s))


def term_pattern(term: str) -> str:
    """Regex for a term: Latin terms match as whole words (so `#ad` does not fire in `#adidas`), others as substrings."""
    esc = re.escape(term.lower())
    if _is_ascii_word(term):
        return rf"(?<![a-z0-9]){esc}(?![a-z0-9])"
    return esc


def note_text(title: pd.Series, description: pd.Series, tags: pd.Series) -> pd.Series:
    """title, description and tags (joined by spaces) on three lines, lower-cased: the text brands and disclosure
    markers are searched in. One pass per note (the Series additions and `.str.lower` made four passes over 1M
    notes)."""
    t = title.fillna("").astype(str).tolist()
    d = description.fillna("").astype(str).tolist()
    seq = (list, tuple, np.ndarray)
    body = [f"{a}\n{b}\n{' '.join(g) if isinstance(g, seq) else ''}".lower() for a, b, g in zip(t, d, tags.tolist())]
    return pd.Series(body, index=title.index, dtype=object)


def disclosed(text: pd.Series, markers: Sequence[str]) -> pd.Series:
    """True where the (lower-cased) note text carries a disclosure marker."""
    if not markers or text.empty:
        return pd.Series(False, index=text.index, dtype=bool)
    pat = "|".join(term_pattern(m) for m in markers)
    return text.str.contains(pat, regex=True, na=False)


def brands_mentioned(text: pd.Series, brands: pd.DataFrame) -> pd.Series:
    """List of brands whose name or alias appears (case-insensitively) in the lower-cased note text."""
    result: list[list[str]] = [[] for _ in range(len(text))]
    if brands is None or brands.empty or text.empty:
        return pd.Series(result, index=text.index, dtype=object)
    for brand, aliases in zip(brands["brand"], brands["aliases"]):
        names = [brand, *[a for a in (aliases if aliases is not None else []) if a]]
        pat = "|".join(term_pattern(str(n)) for n in names if str(n).strip())
        hit = text.str.contains(pat, regex=True, na=False).to_numpy()
        for i in np.flatnonzero(hit):
            result[i].append(brand)
    return pd.Series(result, index=text.index, dtype=object)


def categorize(title: pd.Series, description: pd.Series, tags: pd.Series, categories: pd.DataFrame) -> pd.Series:
    """Contract scoring: for each category, each keyword scores 3 per tag containing it, 2 if the title contains it,
    1 if the description does; highest total wins, ties go to the category listed first in categories.csv,
    all-zero gives null. Matching is case-insensitive substring matching."""
    n = len(title)
    if categories is None or categories.empty or n == 0:
        return pd.Series([None] * n, index=title.index, dtype=object)
    order = list(dict.fromkeys(categories["category"].tolist()))
    t = title.fillna("").astype(str).str.lower()
    d = description.fillna("").astype(str).str.lower()
    # explode tags once so "3 per tag containing it" is a vectorized count
    tag_frame = tags.map(lambda x: list(x) if isinstance(x, (list, tuple, np.ndarray)) else []).explode()
    tag_frame = tag_frame.dropna().astype(str).str.lower()
    scores = np.zeros((n, len(order)), dtype=np.int64)
    pos = pd.Series(np.arange(n), index=title.index)
    tag_pos = pos.reindex(tag_frame.index).to_numpy()
    for j, cat in enumerate(order):
        for kw in categories.loc[categories["category"] == cat, "keyword"].astype(str):
            k = kw.lower().strip()
            if not k:
                continue
            scores[:, j] += 2 * t.str.contains(k, regex=False).to_numpy() + d.str.contains(k, regex=False).to_numpy()
            if len(tag_frame):
                hits = tag_frame.str.contains(k, regex=False).to_numpy()
                if hits.any():
                    scores[:, j] += 3 * np.bincount(tag_pos[hits], minlength=n)
    best = scores.argmax(axis=1)  # first max = first listed category on a tie
    cats = np.asarray(order, dtype=object)[best]
    cats[scores.max(axis=1) == 0] = None
    return pd.Series(cats, index=title.index, dtype=object)
