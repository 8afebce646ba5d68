"""lib/schemas.conform: a frame in table order (converted as it is) and the same frame in another order
(reordered, then cast) give the same Arrow table, without pandas' metadata."""

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib.schemas import TABLES, conform


def _comment_state_frame(n: int = 5) -> pd.DataFrame:
    spec = TABLES["comment_state"]
    out = {}
    for col in spec.columns:
        if pa.types.is_date(col.type):
            out[col.name] = pd.Series([pd.Timestamp("2025-06-30").date()] * n, dtype=object)
        elif pa.types.is_timestamp(col.type):
            out[col.name] = pd.Series(pd.date_range("2025-06-01", periods=n), dtype="datetime64[ns]")
        elif pa.types.is_integer(col.type):
            out[col.name] = np.arange(n, dtype="int64") * 7 - 3
        else:
            out[col.name] = np.linspace(0.0, 1.0, n)
    return pd.DataFrame(out)[spec.column_names]


def test_in_order_and_reordered_frames_give_the_same_table():
    spec = TABLES["comment_state"]
    df = _comment_state_frame()
    in_order = conform(df, spec)
    shuffled = conform(df[list(reversed(spec.column_names))], spec)
    assert in_order.equals(shuffled)
    assert in_order.schema.equals(spec.schema) and in_order.schema.metadata is None and shuffled.schema.metadata is None
    assert in_order.column("comment_key").to_pylist() == [-3, 4, 11, 18, 25]


def test_a_frame_of_other_dtypes_is_cast_to_the_schema():
    spec = TABLES["comment_state"]
    df = _comment_state_frame()
    df["comment_key"] = df["comment_key"].astype("int32")  # in order, but not the table's type
    table = conform(df, spec)
    assert table.schema.field("comment_key").type == pa.int64() and table.schema.metadata is None
