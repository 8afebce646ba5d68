"""Table validation's entry point and the rules evaluated in pandas: :func:`validate_table` runs a table's suite
(through GX, on a copy of the frame without list columns and with the helper columns) together with the table-level
rules (required columns, row count against the previous partition, quarantine share) into one report; the comments
on notes not crawled by the comment's day and their warn rule; the list-column detection; and the per-day
quarantine summary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib.quality.expectations import (
    BLOCKING,
    MAX_UNEXPECTED_VALUES,
    WARN,
    ExpectationDef,
    ExpectationOutcome,
    Severity,
    ValidationReport,
    ValidationSettings,
)
from kol_pipeline.lib.quality.gx_runner import build_data_docs, gx_friendly, outcome_from_gx, run_gx
from kol_pipeline.lib.quality.suites import HELPERS, SUITES
from kol_pipeline.lib.schemas import TABLES

# --------------------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------------------


def _skipped(d: ExpectationDef, why: str) -> ExpectationOutcome:
    return ExpectationOutcome(d.name, d.expectation_type, d.columns, d.severity, True, None, [], {"skipped": why})


def row_count_rules(
    table: str, rows: int, previous: int | None, settings: ValidationSettings
) -> list[ExpectationOutcome]:
    if previous is None:
        return []
    empty_fail = rows == 0 and previous > 0
    out = [
        ExpectationOutcome(
            "not_empty_after_rows",
            "rule:row_count_not_zero_after_nonzero",
            (),
            BLOCKING,
            not empty_fail,
            observed={"rows": rows, "previous_rows": previous},
        )
    ]
    if previous > 0 and rows > 0:
        change = (rows - previous) / previous
        ok = abs(change) <= settings.max_row_change
        observed: dict[str, Any] = {"rows": rows, "previous_rows": previous, "change": round(change, 4)}
    else:
        ok, observed = True, {"rows": rows, "previous_rows": previous, "skipped": "previous or current partition empty"}
    observed["max_row_change"] = settings.max_row_change
    out.append(ExpectationOutcome("row_count_change", "rule:row_count_change_within", (), WARN, ok, observed=observed))
    return out


def quarantine_rule(
    rows_read: int | None, rows_quarantined: int | None, settings: ValidationSettings
) -> list[ExpectationOutcome]:
    if rows_read is None or rows_quarantined is None:
        return []
    share = rows_quarantined / rows_read if rows_read > 0 else 0.0
    severity: Severity = BLOCKING if rows_read >= settings.min_rows_for_quarantine_block else WARN
    return [
        ExpectationOutcome(
            "quarantine_share",
            "rule:quarantine_share_at_most",
            (),
            severity,
            share <= settings.max_quarantine_share,
            unexpected_count=int(rows_quarantined),
            observed={
                "rows_read": int(rows_read),
                "rows_quarantined": int(rows_quarantined),
                "share": round(share, 6),
                "max_quarantine_share": settings.max_quarantine_share,
                "min_rows_for_quarantine_block": settings.min_rows_for_quarantine_block,
            },
        )
    ]


def _is_in(values: pd.Series, ids: pd.Series) -> np.ndarray:
    """Which values occur among ``ids`` (nulls never do): Arrow's hash lookup (2M comments' note ids against 1M
    notes in well under a second), on Arrow or object text alike."""
    if len(values) == 0 or len(ids) == 0:
        return np.zeros(len(values), dtype=bool)
    hit = pc.is_in(_arrow_strings(values), value_set=pc.unique(_arrow_strings(ids)), skip_nulls=True)
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def _arrow_strings(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as Arrow strings (without a copy when it already is one; ids that are not text as str)."""
    arr = getattr(values.array, "_pa_array", None)
    if arr is not None and pa.types.is_string(arr.type):
        return arr
    obj = values.to_numpy(dtype=object)
    return pa.array(
        [v if v is None or isinstance(v, str) else (None if pd.isna(v) else str(v)) for v in obj], type=pa.string()
    )


def comments_on_uncrawled_notes(
    comments: pd.DataFrame, notes: pd.DataFrame, known_before: Callable[[set[str]], set[str]] | None = None
) -> pd.DataFrame:
    """The comments (note_id, snapshot_date rows of ``comments``) whose note was not crawled by the comment's day:
    not in ``notes`` (the same run's notes) on that day or an earlier one, nor among the ids that
    ``known_before`` (note ids -> those known before the run, e.g. from the warehouse) returns. ``known_before`` is
    asked once, only for the note ids the run's notes do not hold. Comments without a note_id are not counted
    (``note_id_not_null`` warns about them). Such comments are valid rows (contract section 2): this only counts."""
    c = comments.loc[comments["note_id"].notna(), ["note_id", "snapshot_date"]] if len(comments) else comments
    if len(c) == 0:
        return pd.DataFrame({"note_id": pd.Series([], dtype=object), "snapshot_date": pd.Series([], dtype=object)})
    hit = _is_in(c["note_id"], notes["note_id"]) if len(notes) else np.zeros(len(c), dtype=bool)
    if hit.any():
        # a note first crawled after the comment's day was not crawled by then
        rows = np.flatnonzero(hit)
        note_days = pd.to_datetime(notes["snapshot_date"])
        if note_days.nunique() == 1:  # a one-day run: no per-note look-up
            first_day = np.full(len(rows), note_days.iloc[0].to_datetime64())
        else:
            first = note_days.groupby(notes["note_id"].astype(object).to_numpy()).min()
            first_day = pd.to_datetime(c["note_id"].iloc[rows].astype(object).map(first)).to_numpy()
        hit[rows] = first_day <= pd.to_datetime(c["snapshot_date"].iloc[rows]).to_numpy()
    lacking = c[~hit]
    if len(lacking) and known_before is not None:
        found = known_before({str(v) for v in lacking["note_id"].unique()})
        if found:
            lacking = lacking[~_is_in(lacking["note_id"], pd.Series(sorted(found), dtype=object))]
    return lacking.reset_index(drop=True)


def note_crawled_rule(uncrawled: pd.DataFrame) -> ExpectationOutcome:
    """Warn-severity outcome over the result of :func:`comments_on_uncrawled_notes`: ``unexpected_count`` = the
    comments, ``unexpected_values`` = the first note ids (sorted), ``observed`` = comments, distinct notes, and
    comments per day."""
    ids = sorted({str(v) for v in uncrawled["note_id"].unique()}) if len(uncrawled) else []
    by_day = uncrawled.groupby("snapshot_date").size() if len(uncrawled) else pd.Series([], dtype="int64")
    return ExpectationOutcome(
        "comment_note_crawled",
        "rule:comment_note_in_notes",
        ("note_id",),
        WARN,
        not len(uncrawled),
        unexpected_count=int(len(uncrawled)),
        unexpected_values=ids[:MAX_UNEXPECTED_VALUES],
        observed={
            "comments": int(len(uncrawled)),
            "notes": len(ids),
            "by_day": {str(d): int(n) for d, n in by_day.items()},
        },
    )


def list_columns(df: pd.DataFrame, table: str) -> list[str]:
    """Columns holding lists (tags, brands, ...): from the schema, plus object columns whose first value is a list."""
    import pyarrow as pa

    out: list[str] = []
    spec = TABLES.get(table)
    if spec is not None:
        out = [c.name for c in spec.columns if pa.types.is_list(c.type) or pa.types.is_large_list(c.type)]
    for c in df.columns:
        if c in out or df[c].dtype != object:
            continue
        if isinstance(first_non_null(df[c].to_numpy()), (list, tuple, np.ndarray, dict, set)):
            out.append(c)
    return [c for c in out if c in df.columns]


def first_non_null(values: np.ndarray, chunk: int = 4096) -> Any:
    """The first value that is not null (None if there is none), looking at `chunk` values at a time: a column's
    `dropna()` tested and copied every value (1.8 s over the 1M-row day's tables)."""
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        ok = pd.notna(part)
        if ok.any():
            return part[int(ok.argmax())]
    return None


def validate_table(
    table: str,
    df: pd.DataFrame,
    *,
    previous_row_count: int | None = None,
    rows_read: int | None = None,
    rows_quarantined: int | None = None,
    allowed_categories: Sequence[str] | None = None,
    settings: ValidationSettings = ValidationSettings(),
) -> ValidationReport:
    """Validate one partition (or whole unpartitioned table) of ``table``.

    - ``previous_row_count``: rows of the previous partition (row-count rules; None = not checked);
    - ``rows_read`` / ``rows_quarantined``: input rows of the ingest step for this partition (quarantine share rule);
    - ``allowed_categories``: the categories of reference/categories.csv (None = category check skipped).

    GX expectations run on a copy without list columns and with helper columns; an empty frame skips GX (every
    expectation is reported as skipped) and only the table-level rules are evaluated.
    """
    if table not in SUITES:
        raise KeyError(f"no validation suite for table {table!r}; known: {sorted(SUITES)}")
    defs = SUITES[table]
    rows = int(len(df))
    params: dict[str, Any] = {}
    if allowed_categories is not None:
        params["allowed_categories"] = tuple(str(c) for c in allowed_categories)

    results: list[ExpectationOutcome] = []

    # required columns (schema): missing ones are blocking and their expectations cannot run
    spec = TABLES.get(table)
    required = spec.column_names if spec is not None else []
    missing = [c for c in required if c not in df.columns]
    if spec is not None:
        results.append(
            ExpectationOutcome(
                "required_columns_present",
                "rule:required_columns_present",
                (),
                BLOCKING,
                not missing,
                unexpected_count=len(missing),
                unexpected_values=missing[:MAX_UNEXPECTED_VALUES],
            )
        )

    # build the frame GX sees: no list columns, plus helper columns whose inputs are present
    helpers = HELPERS.get(table, {})
    runnable: list[ExpectationDef] = []
    skipped: dict[str, ExpectationOutcome] = {}
    for d in defs:
        cols_needed: list[str] = []
        for c in d.columns:
            cols_needed.extend(helpers[c][0] if c in helpers else [c])
        absent = [c for c in cols_needed if c not in df.columns]
        if absent:
            skipped[d.name] = ExpectationOutcome(
                d.name,
                d.expectation_type,
                d.columns,
                d.severity,
                False,
                None,
                [],
                {"error": f"missing columns {absent}"},
            )
        elif d.param is not None and d.param not in params:
            skipped[d.name] = _skipped(d, f"no {d.param} given")
        elif rows == 0:
            skipped[d.name] = _skipped(d, "empty frame")
        else:
            runnable.append(d)

    gx_results: dict[str, Any] = {}
    if runnable:
        used = {c for d in runnable for c in d.columns}
        list_cols = set(list_columns(df, table))
        keep = [c for c in df.columns if c in used and c not in list_cols and c not in helpers]
        columns: dict[str, Any] = {c: df[c].array for c in keep}
        for name, (_, fn) in helpers.items():
            if name in used:
                columns[name] = fn(df, settings).array
        frame = pd.DataFrame({c: gx_friendly(a) for c, a in columns.items()})  # RangeIndex; caller's frame untouched
        gx_results = run_gx(table, frame, runnable, params)
        if settings.docs_dir is not None:
            build_data_docs(settings.docs_dir, table)

    for d in defs:
        if d.name in skipped:
            results.append(skipped[d.name])
        else:
            results.append(outcome_from_gx(d, gx_results[d.name]))

    results.extend(row_count_rules(table, rows, previous_row_count, settings))
    results.extend(quarantine_rule(rows_read, rows_quarantined, settings))
    return ValidationReport(table=table, row_count=rows, results=results)


def summarize_quarantine(quarantine_df: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows counted per (snapshot_date, source, reason), most frequent first within a day.

    Columns: ``snapshot_date, source, reason, rows, files`` (distinct source files). A frame without
    ``snapshot_date`` (e.g. one partition read on its own) is grouped by source and reason only.
    """
    keys = [c for c in ("snapshot_date", "source", "reason") if c in quarantine_df.columns]
    cols = keys + ["rows", "files"]
    if quarantine_df.empty or not keys:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("rows", "files") else object) for c in cols})
    files = (
        quarantine_df["source_file"]
        if "source_file" in quarantine_df.columns
        else pd.Series(pd.NA, index=quarantine_df.index)
    )
    g = quarantine_df.assign(_file=files).groupby(keys, dropna=False, sort=False)
    out = g.agg(rows=("_file", "size"), files=("_file", "nunique")).reset_index()
    order = [k for k in ("snapshot_date",) if k in keys]
    out = out.sort_values(
        order + ["rows"] + [k for k in ("source", "reason") if k in keys],
        ascending=[True] * len(order) + [False] + [True] * (len(keys) - len(order)),
        kind="mergesort",
    ).reset_index(drop=True)
    out["rows"] = out["rows"].astype("int64")
    out["files"] = out["files"].astype("int64")
    return out[cols]
