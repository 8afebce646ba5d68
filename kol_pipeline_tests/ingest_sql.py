"""The SQL value rules of ingestion (lib/ingest/ingest_macros.sql, clean_notes.sql) called on Python values, with
the signatures of the pandas functions they replaced (parsing.parse_counts, parsing.split_tags, text.categorize,
text.disclosed, text.brands_mentioned), so that the hand-computed cases of test_parsing.py keep their assertions.
The category, brands and disclosure go through the whole clean_notes query (one synthetic note per value)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest import clean
from kol_pipeline.lib.ingest.raw import json_value, raw_schema

_NOW = datetime(2025, 3, 13, tzinfo=UTC)


def _json_column(values: pd.Series) -> pa.Array:
    return pa.array([None if v is None else json_value(v) for v in values.tolist()], pa.string())


def parse_counts(values: pd.Series, field: str) -> tuple[pd.Series, pd.Series]:
    """(Int64 counts, reasons) of the SQL count rule (count_parts/count_value/count_reason) over `values`."""
    con = clean.connection()
    try:
        con.register("v", pa.table({"j": _json_column(values)}))
        out = con.sql(
            "WITH s AS (SELECT j, py_str(j::JSON) AS s FROM v), p AS (SELECT *, count_parts(s) AS p FROM s) "
            "SELECT count_value(s, p) AS value, count_reason(count_status(s, p), $field, j::JSON) AS reason FROM p",
            params={"field": field},
        ).to_df()
    finally:
        con.close()
    return (
        pd.Series(out["value"].tolist(), index=values.index, dtype="Int64"),
        pd.Series(out["reason"].tolist(), index=values.index, dtype=object),
    )


def _notes(titles: Sequence[str], descs: Sequence[str], tags: Sequence[object], tag_json: bool = True) -> pa.Table:
    n = len(titles)
    ms = json.dumps(int(_NOW.timestamp() * 1000) - 3_600_000)
    cols = {
        "_file": ["t.jsonl"] * n,
        "_record": list(range(1, n + 1)),
        "note_id": [json.dumps(f"n{i}") for i in range(n)],
        "user_id": [json.dumps("u")] * n,
        "nickname": [None] * n,
        "type": [None] * n,
        "title": [json_value(t) for t in titles],
        "desc": [json_value(d) for d in descs],
        "tag_list": [json_value(t) if tag_json else t for t in tags],
        "time": [ms] * n,
        "last_modify_ts": [ms] * n,
        **{c: [json.dumps("0")] * n for c in ("liked_count", "collected_count", "comment_count", "share_count")},
    }
    table = pa.table(cols, schema=raw_schema("notes"))
    return table.append_column("_hint", pa.nulls(n, pa.date32())).append_column("_seq", pa.array(range(n), pa.int64()))


def clean_notes(
    titles: Sequence[str],
    descs: Sequence[str],
    tags: Sequence[object],
    categories: pd.DataFrame | None = None,
    brands: pd.DataFrame | None = None,
    markers: Sequence[str] = (),
    tag_json: bool = True,
) -> pa.Table:
    """clean_notes.sql over one synthetic, valid note per (title, description, tag_list value)."""
    con = clean.connection()
    try:
        return duck.run_query(
            con,
            "clean_notes",
            {
                "raw": _notes(titles, descs, tags, tag_json),
                "kw": clean.keyword_table(categories),
                "brand_terms": clean.brand_term_table(brands),
                "markers": clean.marker_table(markers),
            },
            {"now_limit": _NOW},
        )
    finally:
        con.close()


def split_tags(values: pd.Series) -> pd.Series:
    """The notes' tags the SQL makes of tag_list values (py_tags): an absent value is given as None."""
    t = clean_notes([""] * len(values), [""] * len(values), values.tolist())
    return pd.Series(t.column("tags").to_pylist(), index=values.index, dtype=object)


def categorize(title: pd.Series, description: pd.Series, tags: pd.Series, categories: pd.DataFrame | None):
    t = clean_notes(title.tolist(), description.tolist(), [list(x) for x in tags.tolist()], categories)
    return pd.Series(t.column("category").to_pylist(), index=title.index, dtype=object)


def disclosed(text: pd.Series, markers: Sequence[str]) -> pd.Series:
    """Whether the SQL finds a disclosure marker in a note whose title is the text."""
    t = clean_notes(text.tolist(), [""] * len(text), [[]] * len(text), markers=markers)
    return pd.Series(t.column("is_disclosed").to_pylist(), index=text.index, dtype=bool)


def brands_mentioned(text: pd.Series, brands: pd.DataFrame) -> pd.Series:
    """The brands the SQL finds in a note whose title is the text."""
    t = clean_notes(text.tolist(), [""] * len(text), [[]] * len(text), brands=brands)
    return pd.Series(t.column("brands").to_pylist(), index=text.index, dtype=object)


def note_text(title: pd.Series, description: pd.Series, tags: pd.Series) -> pd.Series:
    """title, description and tags (joined by spaces) on three lines (as the SQL's note text before lower-casing:
    the brand and marker tests give it as a title, where the SQL lower-cases it)."""
    seq = (list, tuple)
    return pd.Series(
        [
            f"{a}\n{b}\n{' '.join(g) if isinstance(g, seq) else ''}"
            for a, b, g in zip(title.tolist(), description.tolist(), tags.tolist())
        ],
        index=title.index,
        dtype=object,
    )


# ---------------------------------------------------------------- de-duplication and the run's range


def _fates(frame: pd.DataFrame, id_col: str, bad: Sequence[bool] | None = None) -> list[str | None]:
    """ingest_dedup.sql's status of each row of a frame (id_col, snapshot_date, crawled_at, _file, _record), all in
    range; `bad` rows are quarantined (they take no part in the de-duplication)."""
    n = len(frame)
    dated = pa.table(
        {
            "kind": pa.array(["notes"] * n, pa.string()),
            "kind_pos": pa.array([0] * n, pa.int32()),
            "is_problem": pa.array([False] * n),
            "seq": pa.array(range(n), pa.int64()),
            "_file": pa.array(frame["_file"].tolist(), pa.string()),
            "_record": pa.array(frame["_record"].tolist(), pa.int64()),
            "snapshot_date": pa.array(frame["snapshot_date"].tolist(), pa.date32()),
            "undated": pa.array([False] * n),
            "id": pa.array(frame[id_col].tolist(), pa.string()),
            "crawled_at": pa.array(frame["crawled_at"], pa.timestamp("us", tz="UTC")),
            "bad": pa.array(list(bad) if bad is not None else [False] * n, pa.bool_()),
            "in_range": pa.array([True] * n),
        }
    )
    con = clean.connection()
    try:
        return duck.run_query(con, "ingest_dedup", {"dated": dated}).column("status").to_pylist()
    finally:
        con.close()


def dedupe(frame: pd.DataFrame, id_col: str) -> tuple[pd.DataFrame, pd.Series]:
    """(the rows ingest_dedup.sql keeps, in frame order; the duplicate mask)."""
    status = _fates(frame, id_col)
    dup = pd.Series([s == "duplicate" for s in status], index=frame.index)
    return frame[[s == "kept" for s in status]], dup


def latest_positions(frame: pd.DataFrame, id_col: str, rows, order: Sequence[str] = ()):
    """Among the frame positions `rows` (the others as quarantined rows), the positions kept (in frame order, or in
    the order clean.py puts a table in: by `order`, Arrow's stable sort, nulls last) and the duplicate mask."""
    import numpy as np
    import pyarrow.compute as pc

    chosen = np.zeros(len(frame), dtype=bool)
    chosen[np.asarray(rows, dtype=np.int64)] = True
    status = _fates(frame, id_col, bad=~chosen)
    kept = np.flatnonzero([s == "kept" for s in status])
    dup = np.asarray([s == "duplicate" for s in status], dtype=bool)
    if order:
        sub = pa.table({c: pa.array(frame[c].iloc[kept].tolist()) for c in order})
        kept = kept[np.asarray(pc.sort_indices(sub, [(c, "ascending") for c in order]))]
    return kept, dup


def in_range(days: pd.Series, start, end) -> pd.Series:
    """The in_range macro (ingest_days.sql) over days."""
    con = clean.connection()
    try:
        con.register("d", pa.table({"d": pa.array(days.tolist(), pa.date32())}))
        got = con.sql("SELECT in_range(d, $lo, $hi) AS r FROM d", params={"lo": start, "hi": end}).fetchall()
    finally:
        con.close()
    return pd.Series([bool(r[0]) for r in got], index=days.index, dtype=bool)
