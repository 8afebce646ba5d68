"""lib/schemas.conform: a frame in table order (converted as it is) and the same frame in another order
(reordered, then cast) give the same Arrow table, without pandas' metadata."""

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import schemas as sch
from kol_pipeline.lib.schemas import conform

# a table of fixed-width columns (the shape comment_state had while it held 64-bit keys)
_SPEC = sch.TableSpec(
    "conform_probe",
    "ints, day numbers, flags and a date",
    sch.make_columns(
        sch.SNAPSHOT,
        ("comment_key", sch.I64, ""),
        ("note_key", sch.I64, ""),
        ("first_sd", sch.DAY_NO, ""),
        ("top_first", sch.FLAG, ""),
    ),
    keys=("comment_key", "snapshot_date"),
    layer="state",
)


def _comment_state_frame(n: int = 5) -> pd.DataFrame:
    spec = _SPEC
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
    spec = _SPEC
    df = _comment_state_frame()
    in_order = conform(df, spec)
    shuffled = conform(df[list(reversed(spec.column_names))], spec)
    assert in_order.equals(shuffled)
    assert in_order.schema.equals(spec.schema) and in_order.schema.metadata is None and shuffled.schema.metadata is None
    assert in_order.column("comment_key").to_pylist() == [-3, 4, 11, 18, 25]


def test_a_frame_of_other_dtypes_is_cast_to_the_schema():
    spec = _SPEC
    df = _comment_state_frame()
    df["comment_key"] = df["comment_key"].astype("int32")  # in order, but not the table's type
    table = conform(df, spec)
    assert table.schema.field("comment_key").type == pa.int64() and table.schema.metadata is None


def test_arrow_text_converts_the_text_columns_only():
    """`arrow_text`: the table's text columns as Arrow strings (None and NaN become null), other columns and a
    column holding anything but text as they are, the caller's frame unchanged; the written table is the same."""
    from kol_pipeline.lib.schemas import CREATORS, TEXT, arrow_text

    df = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3"],
            "nickname": ["甲", None, np.nan],
            "gender": [1, "f", None],  # not text: left as it is
            "followers": pd.array([10, None, 3], dtype="Int64"),
            "tier": ["nano", "nano", None],
            "extra": ["x", "y", "z"],  # not a column of the table
        }
    )
    before = df.copy()
    out = arrow_text(df, CREATORS)
    pd.testing.assert_frame_equal(df, before)
    assert [c for c in out.columns if out[c].dtype == TEXT] == ["user_id", "nickname", "tier"]
    assert out["nickname"].isna().tolist() == [False, True, True] and out["nickname"].iloc[0] == "甲"
    assert out["gender"].dtype == object and out["gender"].tolist() == [1, "f", None]
    assert out["followers"].dtype == "Int64" and out["extra"].dtype == object
    assert arrow_text(out, CREATORS) is out  # nothing left to convert
    ok = df.drop(columns="gender").assign(
        gender=["m", None, "f"],
        following=pd.array([1, 2, 3], dtype="Int64"),
        likes_and_saves_total=pd.array([4, 5, None], dtype="Int64"),
        crawled_at=pd.Series(pd.date_range("2025-06-30", periods=3, tz="UTC")).astype("datetime64[us, UTC]"),
        source_file=["a.jsonl", "a.jsonl", "b.jsonl"],
        snapshot_date=[pd.Timestamp("2025-06-30").date()] * 3,
    )
    assert conform(arrow_text(ok, CREATORS), CREATORS).equals(conform(ok, CREATORS))


def test_arrow_text_converts_lists_of_text():
    """Lists of text (tags, brands) become Arrow lists; a list holding a number is left as it is."""
    from kol_pipeline.lib.schemas import NOTES, TEXT, TEXT_LIST, arrow_text

    df = pd.DataFrame({"note_id": ["n1", "n2", "n3"], "tags": [["面霜", "b"], [], None], "brands": [["X"], [1], []]})
    out = arrow_text(df, NOTES)
    assert out["note_id"].dtype == TEXT and out["tags"].dtype == TEXT_LIST
    assert out["tags"].iloc[0] == ["面霜", "b"] and out["tags"].iloc[1] == [] and pd.isna(out["tags"].iloc[2])
    assert out["brands"].dtype == object and out["brands"].tolist() == [["X"], [1], []]
