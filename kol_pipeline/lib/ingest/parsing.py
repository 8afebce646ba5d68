"""Parsing of MediaCrawler values as found in the wild: abbreviated counts, epoch times, tag lists, money.

Every parser is vectorized over a pandas Series and returns the parsed values plus, where a value is not
acceptable, a reason string (None where the value is fine), so callers can quarantine the row with a clear message.
"""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import pandas as pd

SHANGHAI = "Asia/Shanghai"

_COUNT_RE = re.compile(
    r"^\s*(?P<sign>[-+]?)\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>万|w|W|千|k|K|亿)?\s*(?P<plus>\+)?\s*$"
)
# The last epoch ms a pandas timestamp holds (datetime64[ns] ends 2262-04-11): a time beyond it (epoch microseconds,
# 1e30, inf) is a reason, never an error
MAX_EPOCH_MS = pd.Timestamp.max.value // 1_000_000
# Above this a count is not a crawl's count (and would not fit int64 exactly): a bad value, not a wrapped number.
_MAX_COUNT = 10**15


def _show(value: object, limit: int = 80) -> str:
    """A value as a reason quotes it: its repr, cut to `limit` characters (the whole record is in `raw`)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Counts that mean 0: MediaCrawler writes "" for a zero count (2026 crawls), and XHS shows the action's name
# instead of a 0 (CONTRACT.md section 2).
ZERO_LABELS = ("", "赞", "点赞", "收藏", "评论", "分享")
_UNITS = {"": 1, "万": 10_000, "w": 10_000, "W": 10_000, "千": 1_000, "k": 1_000, "K": 1_000, "亿": 100_000_000}


def parse_counts(values: pd.Series, field: str) -> tuple[pd.Series, pd.Series]:
    """Parse XHS counts: "35", "1.1万" (11000), "10万+" (100000, a lower bound), "2.3w", "1.2k", "1亿", "1,234".

    An empty string and XHS's zero labels (`ZERO_LABELS`: the page shows the word where the count is 0) are 0.
    Returns (Int64 counts, reasons). A reason is set for an absent/null, non-numeric or negative count.
    """
    s = values.astype("string").str.replace(",", "", regex=False).str.replace("，", "", regex=False)
    s = s.mask(s.str.strip(" \t\r\n").isin(ZERO_LABELS).fillna(False).astype(bool), "0")
    ext = s.str.extract(_COUNT_RE)
    num = pd.to_numeric(ext["num"], errors="coerce")
    mult = ext["unit"].fillna("").map(_UNITS).astype("float64")
    parsed = (num * mult).round()
    neg = ext["sign"].eq("-").fillna(False).astype(bool) & num.gt(0).fillna(False).astype(bool)
    missing = values.isna()
    bad = num.isna() & ~missing
    reasons = pd.Series(None, index=values.index, dtype=object)
    reasons[missing.to_numpy()] = f"missing count {field}"
    reasons[bad.to_numpy()] = [f"{field} is not a number: {_show(v)}" for v in values[bad.to_numpy()]]
    reasons[neg.to_numpy()] = [f"{field} is negative: {_show(v)}" for v in values[neg.to_numpy()]]
    huge = (reasons.isna() & parsed.gt(_MAX_COUNT).fillna(False).astype(bool)).to_numpy()
    reasons[huge] = [f"{field} is out of range: {_show(v)}" for v in values[huge]]
    out = parsed.where(reasons.isna()).astype("Int64")
    return out, reasons


def parse_epoch_ms(values: pd.Series, field: str) -> tuple[pd.Series, pd.Series]:
    """Epoch milliseconds (int or numeric string) to UTC timestamps.

    Values below 1e11 are taken as epoch seconds (a known export variant) and scaled; documented in
    docs/ingestion.md. Missing or non-numeric values give a reason.
    """
    num = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    missing = values.isna() | values.astype("string").str.strip().fillna("").eq("")
    bad = num.isna() & ~missing
    nonpos = num.le(0).fillna(False).astype(bool)
    ms = num.where(num >= 1e11, num * 1000)
    reasons = pd.Series(None, index=values.index, dtype=object)
    reasons[missing.to_numpy()] = f"missing {field}"
    reasons[bad.to_numpy()] = [f"{field} is not an epoch time: {_show(v)}" for v in values[bad.to_numpy()]]
    reasons[nonpos.to_numpy()] = [f"{field} is not a valid epoch time: {_show(v)}" for v in values[nonpos.to_numpy()]]
    ok = reasons.isna()
    # Not pd.to_datetime(floats, unit="ms"): on a float array holding NaN (any batch with one bad time) pandas 2.x
    # rounds uninitialized memory at the NaN positions under np.errstate(over="raise") and raises
    # FloatingPointError now and then (pandas-dev/pandas#58419, fixed in 3.0). Whole microseconds as int64
    # instead (|ms| <= MAX_EPOCH_MS, so they fit), NaT where there is no valid time.
    vals = ms.where(ok).astype("float64").to_numpy()
    good = ~np.isnan(vals) & (np.abs(np.nan_to_num(vals)) <= MAX_EPOCH_MS)  # what to_datetime held (ns)
    us = np.full(len(vals), np.iinfo(np.int64).min, dtype=np.int64)  # int64 min is NaT
    us[good] = np.round(vals[good] * 1000.0).astype(np.int64)
    ts = pd.Series(us.view("datetime64[us]"), index=values.index).dt.tz_localize("UTC")
    # beyond pandas' range (e.g. epoch microseconds read as milliseconds) gives NaT: never without a reason
    lost = (ok & ts.isna()).to_numpy()
    reasons[lost] = [f"{field} is out of range for an epoch time: {_show(v)}" for v in values[lost]]
    return ts, reasons


def shanghai_day_numbers(ts: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of the Asia/Shanghai calendar date of UTC timestamps, -1 where the time is missing
    (NaT: note that `pd.NaT` passes `isinstance(x, datetime.date)`, so a day must never be tested that way)."""
    idx = pd.DatetimeIndex(ts)
    local = idx.tz_convert(SHANGHAI).tz_localize(None).as_unit("us")
    days = local.asi8 // 86_400_000_000
    return np.where(idx.isna(), -1, days).astype(np.int64)


def shanghai_date(ts: pd.Series) -> pd.Series:
    """Asia/Shanghai calendar date (python date objects) of UTC timestamps."""
    local = ts.dt.tz_convert(SHANGHAI)
    return pd.Series(local.dt.date, index=ts.index, dtype=object)


def split_tags(values: pd.Series) -> pd.Series:
    """Notes' tag_list: a comma-joined string ("达拉斯,达拉斯美食"); also accepts JSON lists. Empty -> []."""

    def one(v: object) -> list[str]:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return []
        if isinstance(v, (list, tuple)):
            return [str(x).strip() for x in v if str(x).strip()]
        text = str(v).strip()
        if text.startswith("["):
            try:
                return [str(x).strip() for x in json.loads(text) if str(x).strip()]
            except ValueError:
                pass
        return [t.strip() for t in re.split(r"[,，]", text) if t.strip()]

    return values.map(one)


_ID_RE = r"^[0-9A-Za-z_\-]{1,64}$"


def check_ids(values: pd.Series, field: str) -> pd.Series:
    """Reason for a missing or malformed id (XHS ids are 24 hex characters; any short token without spaces passes)."""
    s = values.astype("string").str.strip()
    missing = values.isna() | s.fillna("").eq("")
    bad = ~s.fillna("").str.match(_ID_RE) & ~missing
    reasons = pd.Series(None, index=values.index, dtype=object)
    reasons[missing.to_numpy()] = f"missing {field}"
    reasons[bad.to_numpy()] = [f"bad {field}: {_show(v)}" for v in values[bad.to_numpy()]]
    return reasons


_MONEY_RE = re.compile(r"^\s*[¥￥]?\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>万|w|W|k|K|元)?\s*$")


def parse_money(values: pd.Series, field: str) -> tuple[pd.Series, pd.Series]:
    """CNY amounts: "1200", "¥1,200", "1.2万", "800元". Returns (float64, reasons)."""
    s = values.astype("string").str.replace(",", "", regex=False).str.replace("，", "", regex=False)
    ext = s.str.extract(_MONEY_RE)
    unit = ext["unit"].fillna("").map({"": 1, "元": 1, "万": 10_000, "w": 10_000, "W": 10_000, "k": 1000, "K": 1000})
    num = pd.to_numeric(ext["num"], errors="coerce") * unit.astype("float64")
    missing = values.isna() | s.str.strip().fillna("").eq("")
    bad = num.isna() & ~missing
    reasons = pd.Series(None, index=values.index, dtype=object)
    reasons[missing.to_numpy()] = f"missing {field}"
    reasons[bad.to_numpy()] = [f"{field} is not an amount: {_show(v)}" for v in values[bad.to_numpy()]]
    return num.where(reasons.isna()).astype("float64"), reasons


def parse_dates(values: pd.Series, field: str) -> tuple[pd.Series, pd.Series]:
    """ISO dates (YYYY-MM-DD, also YYYY/MM/DD) to python dates; reasons for missing or unparseable ones."""
    s = values.astype("string").str.strip().str.replace("/", "-", regex=False)
    parsed = pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")
    missing = values.isna() | s.fillna("").eq("")
    bad = parsed.isna() & ~missing
    reasons = pd.Series(None, index=values.index, dtype=object)
    reasons[missing.to_numpy()] = f"missing {field}"
    reasons[bad.to_numpy()] = [f"{field} is not a date: {_show(v)}" for v in values[bad.to_numpy()]]
    out = pd.Series([d.date() if not pd.isna(d) else None for d in parsed], index=values.index, dtype=object)
    return out, reasons


def date_from_name(name: str) -> date | None:
    """The YYYY-MM-DD found in a file name (MediaCrawler's `{crawler}_{item}_{YYYY-MM-DD}`), a hint only."""
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", name)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def first_reason(*reason_series: pd.Series) -> pd.Series:
    """Row-wise the first non-null reason of several reason series (same index)."""
    out = pd.Series(None, index=reason_series[0].index, dtype=object)
    for r in reason_series:
        out = out.where(out.notna(), r)
    return out
