"""Parsing of values as found in the wild: epoch times, ids, money, dates (the brand files, the database's and the
landing index's day rules). The MediaCrawler tables' counts and tag lists are parsed in SQL (lib/ingest/
ingest_macros.sql).

Every parser is vectorized over a pandas Series and returns the parsed values plus, where a value is not
acceptable, a reason string (None where the value is fine), so callers can quarantine the row with a clear message.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

SHANGHAI = "Asia/Shanghai"

# The last epoch ms a pandas timestamp holds (datetime64[ns] ends 2262-04-11): a time beyond it (epoch microseconds,
# 1e30, inf) is a reason, never an error
MAX_EPOCH_MS = pd.Timestamp.max.value // 1_000_000


def _show(value: object, limit: int = 80) -> str:
    """A value as a reason quotes it: its repr, cut to `limit` characters (the whole record is in `raw`)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
