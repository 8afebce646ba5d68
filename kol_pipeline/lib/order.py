"""Ordering frames without pandas' sort of object strings, and renumbering them without a copy (lib/ingest,
kol_pipeline_tests/reference_metrics.py, lib/ingest/intake.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def sort_key(s: pd.Series) -> np.ndarray:
    """An array that sorts like ``s`` (nulls last): text and dates ranked through their distinct values (hashed
    once; only the distinct values are sorted, by Arrow: UTF-8 bytes sort like code points), timestamps as
    integers."""
    is_dt = s.dtype.kind == "M" or isinstance(s.dtype, pd.DatetimeTZDtype)
    if s.dtype == object or (isinstance(s.dtype, pd.api.extensions.ExtensionDtype) and not is_dt):
        codes, uniq = pd.factorize(s, use_na_sentinel=True)
        rank = np.empty(len(uniq), dtype=np.int64)
        # Arrow text (the cleaned tables' text columns): the distinct values are sorted as they are, not converted
        values = (
            uniq.array._pa_array
            if hasattr(uniq.array, "_pa_array")
            else pa.array(np.asarray(uniq, dtype=object), from_pandas=True)
        )
        rank[pc.sort_indices(values).to_numpy()] = np.arange(len(uniq))
        return np.where(codes < 0, len(uniq), rank[np.maximum(codes, 0)] if len(uniq) else 0)
    if is_dt:
        i8 = (
            s.to_numpy(dtype="datetime64[ns]")
            if s.dtype.kind == "M"
            else s.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
        )
        v = i8.view("int64")
        return np.where(np.isnat(i8), np.iinfo(np.int64).max, v)
    return s.to_numpy()


def stable_order(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Positions that sort ``frame`` by ``columns`` ascending, nulls last, ties in frame order: the order of
    ``sort_values(columns, kind="mergesort")``, without pandas' sort of every object string (11 s for the 1M-note
    benchmark's ids): one stable lexsort of integer keys (``sort_key``)."""
    try:
        keys = [sort_key(frame[c]) for c in columns]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeEncodeError):
        positions = pd.Series(np.arange(len(frame)), index=frame.index)  # mixed types: pandas decides
        return positions.reindex(frame.sort_values(list(columns), kind="mergesort").index).to_numpy()
    return np.lexsort(keys[::-1]) if len(frame) else np.zeros(0, dtype=np.int64)


def renumbered(df: pd.DataFrame) -> pd.DataFrame:
    """A frame just made by a selection or a take (a copy nobody else holds), numbered 0..n-1 without copying its
    columns again: `reset_index(drop=True)` copied every column once more (2 s per note_state step of the 1M
    benchmark's cProfile). The result shares the frame's columns and is not marked as a slice of another frame."""
    return df.set_axis(pd.RangeIndex(len(df)), axis=0, copy=False)
