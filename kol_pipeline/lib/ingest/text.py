"""Text enrichment of notes: category (contract scoring), brands mentioned, disclosure markers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa


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


# ---------------------------------------------------------------- fast equivalents (one pass over all texts)
# The functions above state the rules; the ones below give the same results at scale: every term of a list is found
# in one Aho-Corasick pass over all texts joined by a separator that no term contains (so no match spans two
# texts), instead of one scan per term. kol_pipeline_tests/unit/test_textfast.py checks they are equal.


def _separator(terms: Sequence[str]) -> str:
    for sep in ("\x00", "\x01", "\uffff", "\ufffe"):
        if not any(sep in t for t in terms):
            return sep
    raise ValueError("no separator character free of every term")


def texts_of(values: pd.Series) -> list[str]:
    """`values.fillna("").astype(str)` as a list of Python strings. An Arrow text column (the fast path's title
    and description) is converted directly: half the time of `astype(str)` (0.54 s against 1.12 s per 1M texts,
    measured alone)."""
    if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_string(values.dtype.pyarrow_dtype):
        return [v if v is not None else "" for v in pa.array(values.array).to_pylist()]
    return values.fillna("").astype(str).tolist()


def lowered(values: pd.Series) -> list[str]:
    """`texts_of(values)` lower-cased: what `categorize` searches a title or a description in."""
    return [v.lower() for v in texts_of(values)]


def note_text_lowered(title_lower: Sequence[str], description_lower: Sequence[str], tags: pd.Series) -> pd.Series:
    """`note_text` from the lower-cased titles and descriptions (`lowered`), so that the fast path converts and
    lower-cases each text once for the category, brand and disclosure matchers together (before, `note_text` took
    4.1 s of the 1M-note day in cProfile, and `categorize_fast` converted and lower-cased the same texts again in
    2.0 s). Equal to `note_text`: lower-casing text joined by newlines or spaces is lower-casing each part
    (neither is cased or case-ignorable, so the final-sigma rule stops at them)."""
    seq = (list, tuple, np.ndarray)
    body = [
        f"{a}\n{b}\n{' '.join(g).lower() if isinstance(g, seq) else ''}"
        for a, b, g in zip(title_lower, description_lower, tags.tolist())
    ]
    return pd.Series(body, index=tags.index, dtype=object)


def _occurrences(texts: Sequence[str], terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Every occurrence of every (non-empty) term in the texts, overlapping ones included:
    (text index, term index, end position in the joined text (inclusive), the joined text)."""
    import ahocorasick

    empty = np.zeros(0, dtype=np.int64)
    needles = [t for t in terms if t]
    if not texts or not needles:
        return empty, empty, empty, ""
    auto = ahocorasick.Automaton()
    for i, t in enumerate(terms):
        if t:
            auto.add_word(t, i)
    auto.make_automaton()
    sep = _separator(needles)
    big = sep.join(texts)
    found = list(auto.iter(big))
    if not found:
        return empty, empty, empty, big
    arr = np.asarray(found, dtype=np.int64)
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    starts[1:] = np.cumsum(lens[:-1] + len(sep))
    rows = np.searchsorted(starts, arr[:, 0], side="right") - 1
    return rows, arr[:, 1], arr[:, 0], big


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _term_hits(text: pd.Series, terms: Sequence[str]) -> np.ndarray:
    """Boolean matrix (texts x terms): term_pattern(term) matches the text (text already lower-cased)."""
    values = text.tolist()
    needles = [t.lower() for t in terms]
    out = np.zeros((len(values), len(terms)), dtype=bool)
    for j, n in enumerate(needles):
        if n == "":  # an empty pattern matches every text
            out[:, j] = True
    rows, idx, ends, big = _occurrences(values, needles)
    if len(rows) == 0:
        return out
    word = np.array([_is_ascii_word(t) for t in terms], dtype=bool)
    plain = ~word[idx]
    out[rows[plain], idx[plain]] = True
    for r, j, e in zip(rows[~plain].tolist(), idx[~plain].tolist(), ends[~plain].tolist()):
        if out[r, j]:
            continue
        s = e - len(needles[j]) + 1
        if (s == 0 or big[s - 1] not in _WORD_CHARS) and (e + 1 >= len(big) or big[e + 1] not in _WORD_CHARS):
            out[r, j] = True
    return out


def disclosed_fast(text: pd.Series, markers: Sequence[str]) -> pd.Series:
    """Same as `disclosed`."""
    if not markers or text.empty:
        return pd.Series(False, index=text.index, dtype=bool)
    hits = _term_hits(text, list(markers))
    return pd.Series(hits.any(axis=1), index=text.index, dtype=bool)


def _brand_pairs(text: pd.Series, brands: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(text position, brand position) of every brand whose name or alias `brands_mentioned` finds, ordered by
    text, then by the brand's row in the brand file (a brand listed twice is two rows)."""
    terms: list[str] = []
    owner: list[int] = []
    for b, (brand, aliases) in enumerate(zip(brands["brand"], brands["aliases"])):
        names = [brand, *[a for a in (aliases if aliases is not None else []) if a]]
        for n in names:
            if str(n).strip():
                terms.append(str(n))
                owner.append(b)
    hits = _term_hits(text, terms)
    owner_arr = np.asarray(owner, dtype=np.int64)
    per_brand = np.zeros((len(text), len(brands)), dtype=bool)
    for b in range(len(brands)):
        cols = np.flatnonzero(owner_arr == b)
        if len(cols):
            per_brand[:, b] = hits[:, cols].any(axis=1)
    rows, cols = np.nonzero(per_brand)  # row-major: brands in file order per text
    return rows, cols


def brands_column(text: pd.Series, brands: pd.DataFrame) -> pd.Series:
    """Same as `brands_mentioned`, as an Arrow list<string> column (how the cleaned notes hold it), built from the
    (text, brand) pairs: no Python list per note (at 1M notes the lists and their conversion cost 2.1 s in
    cProfile)."""
    n = len(text)
    counts = np.zeros(n, dtype=np.int64)
    values = pa.array([], type=pa.string())
    if brands is not None and not brands.empty and n:
        rows, cols = _brand_pairs(text, brands)
        counts = np.bincount(rows, minlength=n)
        values = pa.array([str(b) for b in brands["brand"]], type=pa.string()).take(pa.array(cols))
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    column = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([column])), index=text.index)


def categorize_fast(
    title: pd.Series,
    description: pd.Series,
    tags: pd.Series,
    categories: pd.DataFrame,
    lowered_texts: tuple[Sequence[str], Sequence[str]] | None = None,
) -> pd.Series:
    """Same as `categorize`: every keyword found in one pass per field; tags scored once per distinct tag.
    `lowered_texts`: (`lowered(title)`, `lowered(description)`) when the caller has them already."""
    n = len(title)
    if categories is None or categories.empty or n == 0:
        return pd.Series([None] * n, index=title.index, dtype=object)
    order = list(dict.fromkeys(categories["category"].tolist()))
    cat_pos = {c: j for j, c in enumerate(order)}
    kw_index: dict[str, int] = {}
    weights: list[np.ndarray] = []
    for cat, kw in zip(categories["category"], categories["keyword"].astype(str)):
        k = kw.lower().strip()
        if not k:
            continue
        if k not in kw_index:
            kw_index[k] = len(kw_index)
            weights.append(np.zeros(len(order), dtype=np.int64))
        weights[kw_index[k]][cat_pos[cat]] += 1  # a keyword listed twice counts twice, as in `categorize`
    if not kw_index:
        return pd.Series([None] * n, index=title.index, dtype=object)
    terms = list(kw_index)
    w = np.vstack(weights)
    scores = np.zeros((n, len(order)), dtype=np.int64)

    def field_hits(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
        rows, idx, _, _ = _occurrences(values, terms)
        if len(rows) == 0:
            return rows, idx
        pair = pd.unique(rows * len(terms) + idx)  # contains: once per (text, keyword); a hash, not a sort
        return pair // len(terms), pair % len(terms)

    t, d = lowered_texts if lowered_texts is not None else (lowered(title), lowered(description))
    for values, coef in ((t, 2), (d, 1)):
        rows, idx = field_hits(values)
        if len(rows):
            np.add.at(scores, rows, coef * w[idx])
    # tags: each distinct tag is searched once; a note scores 3 per tag containing the keyword
    items = [x if isinstance(x, (list, tuple, np.ndarray)) else () for x in tags.tolist()]
    lens = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    flat_all = np.fromiter(itertools.chain.from_iterable(items), dtype=object, count=int(lens.sum()))
    if pd.api.types.infer_dtype(flat_all, skipna=False) in ("string", "empty"):
        # every tag is text (the usual case): flattened in C, no per-tag test (5M tags in the 1M-note day)
        flat: list[str] | np.ndarray = flat_all
        owner: list[int] | np.ndarray = np.repeat(np.arange(len(items), dtype=np.int64), lens)
    else:
        owner, flat = [], []
        for i, x in enumerate(items):
            for tag in x:
                if tag is not None and not (isinstance(tag, float) and np.isnan(tag)):
                    flat.append(tag if isinstance(tag, str) else str(tag))
                    owner.append(i)
    if len(flat):
        codes, uniq = pd.factorize(pd.Series(flat, dtype=object))
        rows, idx = field_hits([str(u).lower() for u in uniq])
        tag_scores = np.zeros((len(uniq), len(order)), dtype=np.int64)
        if len(rows):
            np.add.at(tag_scores, rows, w[idx])
        np.add.at(scores, np.asarray(owner, dtype=np.int64), 3 * tag_scores[codes])
    best = scores.argmax(axis=1)
    cats = np.asarray(order, dtype=object)[best]
    cats[scores.max(axis=1) == 0] = None
    return pd.Series(cats, index=title.index, dtype=object)
