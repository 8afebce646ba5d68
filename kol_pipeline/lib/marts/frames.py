"""Typing a query's inputs: a DuckDB relation is passed as it is; a pandas frame (the small brand tables, or a
test's hand-made rows) becomes an Arrow table with the warehouse types of its table (lib/schemas.py), so that
the SQL sees the same types from a test's frame as from the Parquet files. A column the frame lacks is null.

Also the pandas helpers of the marts computed or checked in pandas (brand_search_lift.py, checks.py): ``to_day``
(dates to midnight datetime64), ``div`` (a ratio, null on a zero or missing side) and ``finalize`` (a frame with
its spec's columns and nullable dtypes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib.schemas import TABLES, TableSpec

__all__ = ["as_input", "day_list", "div", "finalize", "result_frame", "to_day", "typed_table"]

PARTITION_COLUMN = "snapshot_date"


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (list, tuple, np.ndarray, dict)):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _day(v: Any) -> dt.date | None:
    if _missing(v):
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    t = pd.Timestamp(v)
    return None if pd.isna(t) else t.date()


def _array(values: pd.Series, type_: pa.DataType) -> pa.Array:
    if pa.types.is_date32(type_):
        return pa.array([_day(v) for v in values], type=type_)
    if pa.types.is_timestamp(type_):
        ts = pd.to_datetime(values, errors="coerce", utc=True)
        return pa.array(ts, type=type_, from_pandas=True)
    if pa.types.is_int64(type_) or pa.types.is_floating(type_):
        num = pd.to_numeric(values, errors="coerce")
        if pa.types.is_int64(type_):
            num = num.astype("Float64").round().astype("Int64")
        return pa.array(num, type=type_, from_pandas=True)
    if pa.types.is_boolean(type_):
        return pa.array([None if _missing(v) else bool(v) for v in values], type=type_)
    if pa.types.is_list(type_):
        return pa.array([list(v) if isinstance(v, (list, tuple, np.ndarray)) else None for v in values], type=type_)
    return pa.array([None if _missing(v) else str(v) for v in values], type=type_)


def typed_table(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> pa.Table:
    """``columns`` of ``frame`` as an Arrow table with the types of ``table``'s spec (snapshot_date: date32);
    absent columns are null."""
    spec = TABLES[table]
    types = {c.name: c.type for c in spec.columns}
    types[PARTITION_COLUMN] = pa.date32()
    arrays = {}
    for c in columns:
        values = frame[c] if c in frame.columns else pd.Series([None] * len(frame), dtype=object)
        arrays[c] = _array(values.reset_index(drop=True), types[c])
    return pa.table(arrays, schema=pa.schema([pa.field(c, types[c]) for c in columns]))


def as_input(obj: Any, table: str, columns: Sequence[str]) -> Any:
    """A DuckDB relation as it is (it already has ``columns``: ``PartitionedInput.relation``); a pandas frame as
    ``typed_table``."""
    if isinstance(obj, duckdb.DuckDBPyRelation):
        return obj
    return typed_table(obj, table, columns)


def day_list(days: Sequence[Any]) -> list[dt.date]:
    """The run's days, distinct and sorted, as dates (the queries' ``$days``)."""
    return sorted({d for d in (_day(v) for v in days) if d is not None})


def result_frame(table: pa.Table, spec: TableSpec) -> pd.DataFrame:
    """A query's Arrow result as the frame the IO manager and the checks expect: the spec's columns in order,
    nullable dtypes (Int64, Float64, boolean), dates as ``datetime.date``, text as object, null never NaN."""
    types = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}
    table = table.select(spec.column_names).cast(spec.schema)
    df = table.to_pandas(types_mapper=types.get, date_as_object=True)
    for col in spec.columns:
        if pa.types.is_string(col.type):
            s = df[col.name]
            df[col.name] = s.astype(object).where(s.notna(), None)
    return df


def to_day(values: Any) -> pd.Series:
    """Dates (date objects, strings, datetime64, tz-aware timestamps) -> naive datetime64 at midnight."""
    s = pd.Series(values) if not isinstance(values, pd.Series) else values
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    return pd.to_datetime(s, errors="coerce").dt.normalize()


def div(num: Any, den: Any) -> np.ndarray:
    """num / den as float64, NaN (-> null) when den is 0 or either side is missing."""
    n = pd.to_numeric(pd.Series(num), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    d = pd.to_numeric(pd.Series(den), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((d == 0) | np.isnan(d) | np.isnan(n), np.nan, n / np.where(d == 0, 1.0, d))
    return out


def finalize(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Columns of the spec in order (extras after), cast to nullable dtypes; NaN/inf become null."""
    import pyarrow as pa

    out = df.copy()
    for col in spec.columns:
        if col.name not in out.columns:
            out[col.name] = None
        s = out[col.name]
        t = col.type
        if pa.types.is_int64(t):
            out[col.name] = pd.to_numeric(s, errors="coerce").astype("Float64").round().astype("Int64")
        elif pa.types.is_floating(t):
            f = pd.to_numeric(s, errors="coerce").astype("float64").replace([np.inf, -np.inf], np.nan)
            out[col.name] = f.astype("Float64")
        elif pa.types.is_boolean(t):
            out[col.name] = s.astype("boolean")
        elif pa.types.is_date32(t):
            d = to_day(s)
            out[col.name] = pd.Series([x.date() if pd.notna(x) else None for x in d], index=out.index, dtype=object)
        else:
            out[col.name] = s.astype(object).where(s.notna(), None)
    extra = [c for c in out.columns if c not in spec.column_names]
    return out[spec.column_names + extra].reset_index(drop=True)
