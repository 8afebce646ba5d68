"""Fast, exact reading of large JSON lines files: DuckDB splits the file into lines and extracts the fields the
cleaning needs as strings; Python sees only the lines it must (see docs/ingestion.md "Fast path").

Exactness: the result carries the same records, record numbers and problems as `readers.read_records`, only
stored differently (`ColumnarRecords`): the ordinary rows as string columns, the rest as Python dicts/problems.
- Every line is one row of DuckDB's line reader (an empty line is a NULL row), so a row's position + 1 is its line
  number; the row count is checked against the file's newline count, else the file is read the reference way.
- A line goes to the Python reader (`readers.jsonl_line`: the same reasons) when DuckDB finds it invalid, when it
  does not start with `{`, or when it has a comma before `}`/`]` (DuckDB tolerates it, Python does not).
- The fields come as DuckDB renders them as text: a string as itself, an integer as its digits (as Python's str),
  other values as JSON text. lib/ingest.clean_fast sends a row to Python's reading whenever a value could be
  such a non-string (true/false, a float, a list or an object), see `suspect_values`.
- Not detected (docs/ingestion.md): a key repeated in one line, where DuckDB reads the first value and Python
  the last; checking (json_keys) costs more than the whole read.
- Files with NUL bytes, carriage returns or the delimiter byte 0x01, and anything DuckDB refuses (e.g. text that
  is not UTF-8), are read by `readers.read_records` whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib.readers import FileRecords, jsonl_line, read_records

# Fields the cleaning reads, per kind (lib/ingest.clean).
FIELDS: dict[str, tuple[str, ...]] = {
    "notes": ("note_id", "user_id", "nickname", "type", "title", "desc", "tag_list", "time", "last_modify_ts",
              "liked_count", "collected_count", "comment_count", "share_count"),
    "creators": ("user_id", "nickname", "gender", "fans", "follows", "interaction", "last_modify_ts"),
    "comments": ("comment_id", "note_id", "user_id", "parent_comment_id", "content", "create_time", "last_modify_ts",
                 "like_count", "sub_comment_count"),
}
# Files smaller than this are read by readers.read_records (the fast path pays off on large files).
FAST_MIN_BYTES = 8 << 20
_CHUNK = 64 << 20
_DELIM = "\x01"


@dataclass
class ColumnarRecords(FileRecords):
    """FileRecords whose ordinary rows are string columns (`frame`, with `_record`) instead of dicts.

    `records`/`record_numbers` hold the rows that were read by Python (see the module doc)."""

    frame: pd.DataFrame | None = None
    source: Path | None = None
    kind: str = ""

    @property
    def rows_read(self) -> int:
        return len(self.records) + len(self.problems) + (len(self.frame) if self.frame is not None else 0)

    def load_lines(self, numbers: Iterable[int]) -> dict[int, str]:
        """The text of the given lines, read again from the file (only rows that are quarantined or need Python's
        reading come here; one pass over the file, stopping at the last one wanted)."""
        wanted = set(int(n) for n in numbers)
        out: dict[int, str] = {}
        if not wanted or self.source is None:
            return out
        last = max(wanted)
        with self.source.open("rb") as fh:
            for i, raw in enumerate(fh, start=1):
                if i in wanted:
                    text = raw.decode("utf-8").removesuffix("\n")
                    out[i] = text.removeprefix("\ufeff") if i == 1 else text
                if i >= last:
                    break
        return out

    def load_records(self, numbers: Iterable[int]) -> dict[int, dict]:
        """The original records (as Python's json reads them) of the given record numbers."""
        return {n: json.loads(t) for n, t in self.load_lines(numbers).items()}

    def subset(self, frame_mask: np.ndarray | None, record_mask: Sequence[bool] | None, problems: bool) -> "ColumnarRecords":
        """The same file restricted to some rows (lib/landing.py's selection of days)."""
        return ColumnarRecords(
            path=self.path,
            records=list(self.records) if record_mask is None else [r for r, k in zip(self.records, record_mask) if k],
            record_numbers=list(self.record_numbers) if record_mask is None else
            [n for n, k in zip(self.record_numbers, record_mask) if k],
            problems=list(self.problems) if problems else [],
            encoding=self.encoding,
            notes=list(self.notes),
            fallback_day=self.fallback_day,
            frame=self.frame if frame_mask is None or self.frame is None else self.frame[frame_mask].reset_index(drop=True),
            source=self.source,
            kind=self.kind,
        )


def _prescan(path: Path) -> int | None:
    """Number of lines DuckDB's line reader should return, or None when the file must be read the reference way."""
    newlines = 0
    last = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            if b"\x00" in chunk or b"\r" in chunk or _DELIM.encode() in chunk:
                return None
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    if newlines == 0 and not last:
        return None  # empty file: the reference reader notes it
    return newlines + (0 if last == b"\n" else 1)


_FLOATISH = r"^-?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|NaN|Infinity)$"


def suspect_values(values: pd.Series) -> np.ndarray:
    """True where a text value may be DuckDB's rendering of a JSON value that is not a string or an integer (which
    Python would turn into another text): true/false, a float, a JSON list or object. False alarms only cost a
    Python read of the row."""
    s = values.astype(pd.ArrowDtype(pa.string())) if not isinstance(values.dtype, pd.ArrowDtype) else values
    arr = pa.chunked_array(s.array._pa_array) if hasattr(s.array, "_pa_array") else pa.chunked_array([pa.array(s)])
    import pyarrow.compute as pc

    flag = pc.is_in(arr, value_set=pa.array(["true", "false"]))
    floatish = pc.and_(pc.match_substring_regex(arr, _FLOATISH), pc.invert(pc.match_substring_regex(arr, r"^-?[0-9]+$")))
    flag = pc.or_(flag, floatish)
    bracket = pc.or_(pc.starts_with(arr, "["), pc.starts_with(arr, "{"))
    out = np.asarray(pc.fill_null(flag, False).to_numpy(zero_copy_only=False), dtype=bool)
    cand = np.flatnonzero(np.asarray(pc.fill_null(bracket, False).to_numpy(zero_copy_only=False), dtype=bool))
    if len(cand):
        texts = arr.take(pa.array(cand)).to_pylist()
        for i, t in zip(cand, texts):
            try:
                json.loads(t)
                out[i] = True
            except ValueError:
                pass
    return out


def _python_text(v: object) -> str | None | bool:
    """A JSON value as the fast path holds it (a string as itself, an integer as its digits, null/absent as None);
    False for any other value (a float, true/false, a list, an object), which only Python's reading renders."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return False


def _confirm_suspects(frame: pd.DataFrame, suspect: np.ndarray, lines: dict[int, str], fields: Sequence[str],
                      out: ColumnarRecords) -> np.ndarray:
    """Decide the suspect rows with Python's own reading of their lines: a row stays on the fast path when every
    field, as `json.loads` reads it, is a string, an integer or null and equals the fast path's value; the other
    rows go to `out` as Python records (`jsonl_line`) and stay True in the returned mask.

    Most suspects are false alarms: a hex id such as '53724e000000000000045774' looks like a float's text (about
    150,000 of the 1M-note day's 3.2 M rows, which cost 6 s in the Python cleaning). A key repeated in a line with
    different values (DuckDB keeps the first, Python the last) no longer matches and is read by Python."""
    idx = np.flatnonzero(suspect)
    numbers = frame["_record"].to_numpy(dtype="int64")[idx]
    fast_values = {f: frame[f].iloc[idx].tolist() for f in fields}
    still = suspect.copy()
    for j, (i, n) in enumerate(zip(idx, numbers)):
        line = lines[int(n)]
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and all(
            _python_text(record.get(f)) == (None if pd.isna(fast_values[f][j]) else fast_values[f][j]) for f in fields
        ):
            still[i] = False
        else:
            jsonl_line(int(n), line, out)
    return still


def _sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _query(fields: Sequence[str]) -> str:
    # Field names are constants of this module (FIELDS), never input; the file path is a bound parameter.
    struct = "{" + ", ".join(f'"{f}": "VARCHAR"' for f in fields) + "}"
    values = ", ".join(f'CASE WHEN fast THEN v."{f}" END AS "{f}"' for f in fields)
    return f"""
    WITH src AS (
        SELECT line FROM read_csv($path, columns={{'line': 'VARCHAR'}}, delim={_sql_string(_DELIM)}, quote='',
                                  escape='', header=false, auto_detect=false, strict_mode=false,
                                  max_line_size=2147483647, new_line='\\n')
    ), parsed AS (
        SELECT line,
               CASE WHEN starts_with(line, '{{') AND NOT regexp_matches(line, ',[ \t]*[}}\]]')
                    THEN try(from_json(line, {_sql_string(struct)})) END AS v
        FROM src
    ), flagged AS (
        SELECT line, v, v IS NOT NULL AS fast FROM parsed
    )
    SELECT fast, CASE WHEN NOT fast AND line IS NOT NULL THEN line END AS pyline, {values}
    FROM flagged
    """


def read_jsonl_fast(path: Path, display_name: str, kind: str, min_bytes: int = FAST_MIN_BYTES) -> FileRecords:
    """Records of a JSON lines file, fast when it is large and exact always (falls back to read_records)."""
    if path.suffix.lower() != ".jsonl" or kind not in FIELDS or path.stat().st_size < min_bytes:
        return read_records(path, display_name)
    expected = _prescan(path)
    if expected is None:
        return read_records(path, display_name)
    import duckdb

    fields = FIELDS[kind]
    con = duckdb.connect()
    try:
        table = con.sql(_query(fields), params={"path": str(path)}).to_arrow_table()
    except duckdb.Error:
        return read_records(path, display_name)
    finally:
        con.close()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    if table.num_rows != expected:
        return read_records(path, display_name)
    out = ColumnarRecords(path=display_name, source=path, kind=kind)
    fast = table.column("fast").to_numpy(zero_copy_only=False).astype(bool)
    py_idx = np.flatnonzero(~fast)
    if len(py_idx):
        pylines = table.column("pyline").take(pa.array(py_idx)).to_pylist()
        for i, line in zip(py_idx, pylines):
            if line is not None:  # NULL: an empty line
                jsonl_line(int(i) + 1, line, out)
    keep = np.flatnonzero(fast)
    sub = table.select(list(fields)).take(pa.array(keep)) if len(keep) < table.num_rows else table.select(list(fields))
    frame = pd.DataFrame({f: pd.Series(pd.arrays.ArrowExtensionArray(sub.column(f))) for f in fields})
    frame["_record"] = (keep + 1).astype("int64")
    suspect = np.zeros(len(frame), dtype=bool)
    for f in fields:
        suspect |= suspect_values(frame[f])
    if suspect.any():  # values DuckDB may render otherwise than Python: these rows are read by Python
        suspect = _confirm_suspects(frame, suspect, out.load_lines(frame["_record"][suspect]), fields, out)
        frame = frame[~suspect].reset_index(drop=True)
        order = np.argsort(out.record_numbers, kind="stable")
        out.records = [out.records[i] for i in order]
        out.record_numbers = [out.record_numbers[i] for i in order]
    out.frame = frame
    return out
