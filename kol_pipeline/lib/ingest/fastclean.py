"""Vectorized cleaning of the ordinary rows of a large JSON lines file (`fastread.ColumnarRecords.frame`).

`clean_fast(kind, frame, ...)` returns the cleaned rows that are certainly fine, with the same values and dtypes
as `ingest.clean` followed by `schemas.arrow_text` would give them (text as Arrow strings), and a mask of the
other rows: those go through `ingest.clean` on their dicts, so every quarantine reason and raw text is the
reference's by construction. A row is cleaned here when its ids match the id rule, its times are plain epoch
milliseconds (12-13 digits, 1973..2096), it is not from the future, it was not published/created after its
crawl, and every count parses without a reason. Values with few distinct
values (counts, note types, tag lists, comment texts) are computed by the reference functions once per distinct
value; categories, brands and disclosure by the one-pass matchers of lib/ingest/text.py. docs/ingestion.md "Fast path".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib.ingest import parsing, text
from kol_pipeline.lib.ingest.comments import classify_comments
from kol_pipeline.lib.schemas import TABLES, arrow_text
from kol_pipeline.lib.settings import tier_of

_ID_RE = r"^[0-9A-Za-z_\-]{1,64}$"  # parsing._ID_RE on an unstripped value: strip would change nothing
_TIME_RE = r"^[1-9][0-9]{11,12}$"
_TIME_MIN, _TIME_MAX = 100_000_000_000, 4_000_000_000_000  # epoch ms taken as is by parse_epoch_ms, far in range
_EPOCH = date(1970, 1, 1)


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    arr = s.array
    if hasattr(arr, "_pa_array"):
        return arr._pa_array
    return pa.chunked_array([pa.array(s.tolist(), type=pa.string())])


def _matches(s: pd.Series, pattern: str) -> np.ndarray:
    return np.asarray(
        pc.fill_null(pc.match_substring_regex(_arrow(s), pattern), False).to_numpy(zero_copy_only=False), dtype=bool
    )


def _text(s: pd.Series) -> pd.Series:
    """The reader's text column as the cleaned tables hold text: Arrow strings, not converted to Python objects
    (at 1M notes that conversion took 1.4 s in cProfile, and the one back to Arrow for the Parquet files 4.9 s
    with the lists, measured alone)."""
    arr = _arrow(s)
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    return pd.Series(pd.arrays.ArrowExtensionArray(arr))


def _constant_text(value: str, n: int) -> pd.Series:
    """`value` n times as an Arrow text column (a take of one value: no Python object per row)."""
    return pd.Series(
        pd.arrays.ArrowExtensionArray(
            pa.chunked_array([pc.take(pa.array([value], type=pa.string()), pa.array(np.zeros(n, dtype=np.int32)))])
        )
    )


def _objects(s: pd.Series) -> np.ndarray:
    """Python str / None per value (what ingest._str gives for JSON strings and integers rendered as text)."""
    return _arrow(s).to_numpy(zero_copy_only=False).astype(object)


def _epoch_ms(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    ok = _matches(s, _TIME_RE)
    ms = np.zeros(len(s), dtype=np.int64)
    if ok.any():
        vals = pc.cast(pc.if_else(pa.array(ok), _arrow(s).combine_chunks(), pa.scalar("0")), pa.int64())
        ms = np.asarray(vals.to_numpy(zero_copy_only=False), dtype=np.int64)
        ok &= (ms >= _TIME_MIN) & (ms <= _TIME_MAX)
    return ms, ok


def _distinct(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(the position of each row's value among the distinct values, the distinct values as Python objects with a
    None last, where the null rows point)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    values = pd.Series([*_objects(pd.Series(uniques)), None], dtype=object)
    return np.where(codes < 0, len(values) - 1, codes), values


def by_value(s: pd.Series, fn: Callable[[pd.Series], pd.Series | tuple[pd.Series, pd.Series]]):
    """fn (a reference function over an object Series) computed once per distinct value, spread to every row."""
    codes, values = _distinct(s)
    res = fn(values)
    if isinstance(res, tuple):
        return tuple(r.iloc[codes].reset_index(drop=True) for r in res)
    return res.iloc[codes].reset_index(drop=True)


def _tag_lists(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(`parsing.split_tags` per row as Python lists shared by the rows of one distinct value, the same lists as an
    Arrow list<string> column)."""
    codes, values = _distinct(s)
    lists = parsing.split_tags(values)
    arr = pa.array(lists.tolist(), type=pa.list_(pa.string()))
    column = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([arr.take(pa.array(codes))])))
    return lists.iloc[codes].reset_index(drop=True), column


def _timestamps(ms: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True)).astype("datetime64[us, UTC]")


def _days(ms: np.ndarray) -> pd.Series:
    """Asia/Shanghai calendar date (python date objects) of epoch ms (as parsing.shanghai_date)."""
    local = pd.DatetimeIndex(pd.to_datetime(ms, unit="ms", utc=True)).tz_convert(parsing.SHANGHAI).tz_localize(None)
    day_no = (
        local.asi8 // 86_400_000_000_000
        if local.dtype == "datetime64[ns]"
        else local.as_unit("ns").asi8 // 86_400_000_000_000
    )
    uniq, inv = np.unique(day_no, return_inverse=True)
    objs = np.array([_EPOCH + timedelta(days=int(d)) for d in uniq], dtype=object)
    return pd.Series(objs[inv], dtype=object)


def crawl_days(values: pd.Series) -> pd.Series:
    """Day number (days since 1970-01-01, Asia/Shanghai) of each crawl time, -1 where unusable: the fast values
    vectorized, the others by parsing.parse_epoch_ms (values as the frame holds them: text)."""
    ms, ok = _epoch_ms(values)
    out = np.full(len(values), -1, dtype=np.int64)
    if ok.any():
        local = (
            pd.DatetimeIndex(pd.to_datetime(ms[ok], unit="ms", utc=True)).tz_convert(parsing.SHANGHAI).tz_localize(None)
        )
        out[ok] = local.as_unit("ns").asi8 // 86_400_000_000_000
    rest = np.flatnonzero(~ok)
    if len(rest):
        sub = pd.Series(_objects(values)[rest], dtype=object)
        ts, _ = parsing.parse_epoch_ms(sub, "last_modify_ts")
        out[rest] = parsing.shanghai_day_numbers(ts)
    return pd.Series(out)


def _counts(frame: pd.DataFrame, col: str, default_zero: bool = False) -> tuple[pd.Series, np.ndarray]:
    def ref(v: pd.Series) -> tuple[pd.Series, pd.Series]:
        if default_zero:  # comments' like_count/sub_comment_count: missing or empty means 0 (ingest.clean)
            v = v.where(v.notna() & (v.astype(str) != ""), "0")
        return parsing.parse_counts(v, col)

    if col not in frame.columns:
        return pd.Series(pd.array([pd.NA] * len(frame), dtype="Int64")), np.zeros(len(frame), dtype=bool)
    val, why = by_value(frame[col], ref)
    return val.astype("Int64"), why.isna().to_numpy()


def _null_text(n: int) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([pa.nulls(n, type=pa.string())])))


def clean_fast(
    kind: str, frame: pd.DataFrame, source_file: str, ctx, now: pd.Timestamp
) -> tuple[pd.DataFrame, np.ndarray]:
    """(cleaned rows, as ingest.clean gives them, for the rows that are fine; mask of the rows left to ingest.clean)."""
    n = len(frame)
    ok = np.ones(n, dtype=bool)
    horizon = int((now + timedelta(days=1)).timestamp() * 1000)

    def need(col: str) -> pd.Series:
        return frame[col] if col in frame.columns else _null_text(n)

    crawled, ok_c = _epoch_ms(need("last_modify_ts"))
    ok &= ok_c & (crawled <= horizon)
    counts: dict[str, pd.Series] = {}
    if kind == "notes":
        ok &= _matches(need("note_id"), _ID_RE) & _matches(need("user_id"), _ID_RE)
        published, ok_p = _epoch_ms(need("time"))
        ok &= ok_p & (published <= crawled)
        for src, dst in (
            ("liked_count", "likes"),
            ("collected_count", "saves"),
            ("comment_count", "comments"),
            ("share_count", "shares"),
        ):
            counts[dst], good = _counts(frame, src)
            ok &= good
    elif kind == "creators":
        ok &= _matches(need("user_id"), _ID_RE)
        for src, dst in (("fans", "followers"), ("follows", "following"), ("interaction", "likes_and_saves_total")):
            counts[dst], good = _counts(frame, src)
            ok &= good
    elif kind == "comments":
        ok &= _matches(need("comment_id"), _ID_RE) & _matches(need("note_id"), _ID_RE)
        created, ok_cr = _epoch_ms(need("create_time"))
        ok &= ok_cr & (created <= crawled)
        for col in ("like_count", "sub_comment_count"):
            counts[col], good = _counts(frame, col, default_zero=True)
            ok &= good
    else:
        raise ValueError(kind)

    keep = np.flatnonzero(ok)
    m = len(keep)
    every = m == n

    def kept(s: pd.Series) -> pd.Series:
        """The kept rows of a column of `frame` (or of a column computed over its rows), renumbered. A boolean filter,
        not `iloc[keep]`: Arrow filters in order, and only the columns used are filtered (an `iloc` of the whole
        frame took every column: 1.6 s of the 1M-note day in cProfile)."""
        return s.reset_index(drop=True) if every else s[ok].reset_index(drop=True)

    def text_of(col: str) -> pd.Series:
        return _text(kept(frame[col])) if col in frame.columns else _null_text(m)

    out = pd.DataFrame(index=pd.RangeIndex(m))
    if kind == "notes":
        out["note_id"] = text_of("note_id")
        out["user_id"] = text_of("user_id")
        out["nickname"] = text_of("nickname")
        out["note_type"] = by_value(kept(need("type")), _note_type) if m else pd.Series([], dtype=object)
        out["title"] = _text(kept(frame["title"]).fillna("")) if "title" in frame.columns else _constant_text("", m)
        out["description"] = _text(kept(frame["desc"]).fillna("")) if "desc" in frame.columns else _constant_text("", m)
        # tags: one list per distinct tag_list (shared by its rows: the matchers below only read them), stored as an
        # Arrow list column taken from the distinct lists (a Python list per row, then its conversion for the
        # Parquet file, cost 1.4 s of the 1M-note day)
        tags, out["tags"] = _tag_lists(kept(need("tag_list")))
        out["published_at"] = _timestamps(published[keep])
        out["crawled_at"] = _timestamps(crawled[keep])
        for k, v in counts.items():
            out[k] = kept(v)
        out["engagements"] = out["likes"] + out["saves"] + out["comments"] + out["shares"]
        # each title and description converted to a Python string and lower-cased once for the three matchers
        low = (text.lowered(out["title"]), text.lowered(out["description"]))
        body = text.note_text_lowered(*low, tags)
        out["category"] = text.categorize_fast(out["title"], out["description"], tags, ctx.categories, low)
        out["brands"] = text.brands_column(body, ctx.brands)
        out["is_disclosed"] = text.disclosed_fast(body, ctx.lexicon.disclosure_markers)
    elif kind == "creators":
        out["user_id"] = text_of("user_id")
        out["nickname"] = text_of("nickname")
        out["gender"] = text_of("gender")
        for k, v in counts.items():
            out[k] = kept(v)
        out["tier"] = tier_of(out["followers"], ctx.tier_bounds)
        out["crawled_at"] = _timestamps(crawled[keep])
    else:
        out["comment_id"] = text_of("comment_id")
        out["note_id"] = text_of("note_id")
        out["user_id"] = text_of("user_id")
        out["parent_comment_id"] = (
            by_value(kept(need("parent_comment_id")), _parent) if m else pd.Series([], dtype=object)
        )
        content = kept(need("content"))
        out["content"] = _text(content.fillna(""))
        out["created_at"] = _timestamps(created[keep])
        out["like_count"] = kept(counts["like_count"])
        out["sub_comment_count"] = kept(counts["sub_comment_count"])
        out["comment_class"] = (
            by_value(content, lambda v: classify_comments(v.fillna(""), ctx.lexicon))
            if m
            else pd.Series([], dtype=object)
        )
        out["is_substantive"] = out["comment_class"] != "low_effort"
        out["crawled_at"] = _timestamps(crawled[keep])
    out["source_file"] = _constant_text(source_file, m)
    out["snapshot_date"] = _days(crawled[keep]) if m else pd.Series([], dtype=object)
    out["_file"] = source_file
    out["_record"] = frame["_record"].to_numpy(dtype="int64")[keep]
    # no `_rawdict` column: a fast row is never quarantined (every reason is decided here or sends the row to
    # ingest.clean). An all-None column here made pd.concat with the Python-cleaned rows test each of its values
    # for NA (2.7 s at 1M rows)
    # the few-valued text columns (note_type, category, parent_comment_id, comment_class, tier) as Arrow too
    return arrow_text(out, TABLES[kind]), ~ok


def _note_type(v: pd.Series) -> pd.Series:
    # ingest.clean: _str(type).fillna("normal").str.strip().str.lower(), anything else than normal/video -> normal
    ntype = v.fillna("normal").astype(str).str.strip().str.lower()
    return ntype.where(ntype.isin(["normal", "video"]), "normal").astype(object)


def _parent(v: pd.Series) -> pd.Series:
    parent = v.astype(object).str.strip()
    return parent.where(~parent.isin(["", "0", "None", "null"]) & parent.notna(), None).astype(object)
