"""Fast, exact reading of large JSON lines files: DuckDB splits the file into lines and extracts the fields the
cleaning needs as strings; Python sees only the lines it must (see docs/ingestion.md "Fast path").

Exactness: the result carries the same records, record numbers and problems as `readers.read_records`, only
stored differently (`ColumnarRecords`): the ordinary rows as string columns, the rest as Python dicts/problems.
- Every line is one row of DuckDB's line reader (an empty line is a NULL row), so a row's position + 1 is its line
  number; the row count is checked against the file's newline count, else the file is read the reference way.
- A line goes to the Python reader (`readers.jsonl_line`: the same reasons) when DuckDB finds it invalid or when
  it does not start with `{`.
- The fields come as DuckDB renders them as text: a string as itself, an integer as its digits (as Python's str).
  A line that may hold any other value under any key (true/false, a float, a list, an object, or a literal that
  DuckDB accepts and Python refuses, such as Inf or nan; `SUSPECT_RE`), or a comma before `}`/`]` (DuckDB
  tolerates it, Python does not; `TRAILING_COMMA_RE`), is a suspect: Python reads it (`_confirm_suspects`), and
  it stays in the frame only when Python reads the same strings, integers and nulls.
- Not detected (docs/ingestion.md): a key repeated in one line, where DuckDB reads the first value and Python
  the last, unless the line is a suspect for another reason; checking (json_keys) costs more than the whole read.
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
import pyarrow.compute as pc

from kol_pipeline.lib.ingest.readers import FileRecords, jsonl_line, read_records

# Fields the cleaning reads, per kind (lib/ingest/intake.clean).
FIELDS: dict[str, tuple[str, ...]] = {
    "notes": (
        "note_id",
        "user_id",
        "nickname",
        "type",
        "title",
        "desc",
        "tag_list",
        "time",
        "last_modify_ts",
        "liked_count",
        "collected_count",
        "comment_count",
        "share_count",
    ),
    "creators": ("user_id", "nickname", "gender", "fans", "follows", "interaction", "last_modify_ts"),
    "comments": (
        "comment_id",
        "note_id",
        "user_id",
        "parent_comment_id",
        "content",
        "create_time",
        "last_modify_ts",
        "like_count",
        "sub_comment_count",
    ),
}
# Files smaller than this are read by readers.read_records (the fast path pays off on large files).
FAST_MIN_BYTES = 8 << 20
_CHUNK = 64 << 20
_DELIM = "\x01"
_DELIM_BYTE = _DELIM.encode()


@dataclass
class ColumnarRecords(FileRecords):
    """FileRecords whose ordinary rows are string columns (`frame`, with `_record`) instead of dicts.

    `records`/`record_numbers` hold the rows that were read by Python (see the module doc)."""

    frame: pd.DataFrame | None = None
    source: Path | None = None
    kind: str = ""
    _starts: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def rows_read(self) -> int:
        return len(self.records) + len(self.problems) + (len(self.frame) if self.frame is not None else 0)

    def load_lines(self, numbers: Iterable[int]) -> dict[int, str]:
        """The text of the given lines, read again from the file (only rows that are quarantined or need Python's
        reading come here): each line by its byte offset (`_line_starts`, found once per file)."""
        wanted = sorted(set(int(n) for n in numbers))
        out: dict[int, str] = {}
        if not wanted or self.source is None:
            return out
        starts = self._line_starts()
        with self.source.open("rb") as fh:
            for n in wanted:
                if n < 1 or n >= len(starts):
                    continue
                fh.seek(int(starts[n - 1]))
                raw = fh.read(int(starts[n] - starts[n - 1])).removesuffix(b"\n")
                text = raw.decode("utf-8")
                out[n] = text.removeprefix("\ufeff") if n == 1 else text
        return out

    def _line_starts(self) -> np.ndarray:
        """Byte offset of the start of every line, then the file's size (`_line_offsets`): found by the reader's
        first pass over the file, or here once when a batch lacks them, and kept for the next call."""
        if self._starts is None:
            assert self.source is not None
            self._starts = _line_offsets(self.source)
        return self._starts

    def load_records(self, numbers: Iterable[int]) -> dict[int, dict]:
        """The original records (as Python's json reads them) of the given record numbers."""
        return {n: json.loads(t) for n, t in self.load_lines(numbers).items()}

    def subset(
        self, frame_mask: np.ndarray | None, record_mask: Sequence[bool] | None, problems: bool
    ) -> ColumnarRecords:
        """The same file restricted to some rows (lib/ingest/landing.py's selection of days)."""
        return ColumnarRecords(
            path=self.path,
            records=list(self.records) if record_mask is None else [r for r, k in zip(self.records, record_mask) if k],
            record_numbers=list(self.record_numbers)
            if record_mask is None
            else [n for n, k in zip(self.record_numbers, record_mask) if k],
            problems=list(self.problems) if problems else [],
            encoding=self.encoding,
            notes=list(self.notes),
            fallback_day=self.fallback_day,
            frame=self.frame
            if frame_mask is None or self.frame is None
            else self.frame[frame_mask].reset_index(drop=True),
            source=self.source,
            kind=self.kind,
            _starts=self._starts,
        )


def _line_offsets(path: Path, check: bool = False) -> np.ndarray | None:
    """Byte offset of the start of every line, then the file's size: line n is bytes [starts[n-1], starts[n]),
    and len(starts) - 1 is the number of lines DuckDB's line reader returns. One pass in 64 MiB blocks (numpy finds
    the newlines). With `check`, None when the file must be read the reference way: it is empty, or holds a NUL
    byte, a carriage return or the delimiter byte 0x01. The reader's check and the offsets by which the lines
    Python must read are found again were two passes over each file (0.5 s and 0.4 s per 400 MB file, measured
    alone); this is one."""
    parts = [np.zeros(1, dtype=np.int64)]
    buf = bytearray(_CHUNK)
    pos = 0
    with path.open("rb", buffering=0) as fh:
        while True:
            k = fh.readinto(buf)
            if not k:
                break
            if check and (
                buf.find(b"\x00", 0, k) >= 0 or buf.find(b"\r", 0, k) >= 0 or buf.find(_DELIM_BYTE, 0, k) >= 0
            ):
                return None
            parts.append(np.flatnonzero(np.frombuffer(buf, dtype=np.uint8, count=k) == 10).astype(np.int64) + (pos + 1))
            pos += k
    if check and pos == 0:
        return None  # an empty file: the reference reader notes it
    starts = np.concatenate(parts)
    return starts if starts[-1] == pos else np.append(starts, pos)  # a last line without a newline


# A line whose text may hold a value that is not a string, an integer or null, for any key (DuckDB renders such
# a value as text, and accepts some that Python refuses: Inf, nan, -nan). After a key's closing quote and colon
# the value starts with something else than a quote, `null` or an integer that ends at `,`/`}`/a blank: true,
# false, a list, an object, a number with a fraction or an exponent, or a non-standard literal. A string holding
# `":` followed by such a character is a false alarm, decided by Python's reading (`_confirm_suspects`).
# The second pattern is a comma before `}`/`]`, which DuckDB tolerates and Python does not.
SUSPECT_RE = r'"[ \t]*:[ \t]*(?:[^"n0-9\- \t\\]|n[^u]|-[^0-9]|-?[0-9]+[^0-9,} \t])'
TRAILING_COMMA_RE = r",[ \t]*[}\]]"


def _python_text(v: object) -> str | None | bool:
    """A JSON value as the fast path holds it (a string as itself, an integer as its digits, null/absent as None);
    False for any other value (a float, true/false, a list, an object), which only Python's reading renders."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return False


def _confirm_suspects(
    frame: pd.DataFrame, suspect: np.ndarray, lines: Sequence[str], fields: Sequence[str], out: ColumnarRecords
) -> np.ndarray:
    """Decide the suspect rows (`lines`: their text, in row order) with Python's own reading: a row stays on the
    fast path when every field, as `json.loads` reads it, is a string, an integer or null and equals the fast path's
    value; the other rows go to `out` as Python records or problems (`jsonl_line`) and stay True in the returned
    mask. Most suspects in MediaCrawler output are false alarms: a string holding `":` and a letter."""
    idx = np.flatnonzero(suspect)
    numbers = frame["_record"].to_numpy(dtype="int64")[idx]
    fast_values = {f: frame[f].iloc[idx].tolist() for f in fields}
    still = suspect.copy()
    for j, (i, n, line) in enumerate(zip(idx, numbers, lines)):
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
    # Field names are constants of this module (FIELDS), never input; the file path and the patterns are bound
    # parameters. `fast`: DuckDB parsed the line as an object; `suspect`: Python must confirm it (SUSPECT_RE,
    # TRAILING_COMMA_RE); `pyline`: the text of every line Python reads or confirms.
    struct = "{" + ", ".join(f'"{f}": "VARCHAR"' for f in fields) + "}"
    values = ", ".join(f'CASE WHEN fast THEN v."{f}" END AS "{f}"' for f in fields)
    return f"""
    WITH src AS (
        SELECT line FROM read_csv($path, columns={{'line': 'VARCHAR'}}, delim={_sql_string(_DELIM)}, quote='',
                                  escape='', header=false, auto_detect=false, strict_mode=false,
                                  max_line_size=2147483647, new_line='\\n')
    ), parsed AS (
        SELECT line, CASE WHEN starts_with(line, '{{') THEN try(from_json(line, {_sql_string(struct)})) END AS v
        FROM src
    ), flagged AS (
        SELECT line, v, v IS NOT NULL AS fast,
               v IS NOT NULL AND (regexp_matches(line, $trailing) OR regexp_matches(line, $suspect)) AS suspect
        FROM parsed
    )
    SELECT fast, suspect, CASE WHEN (suspect OR NOT fast) AND line IS NOT NULL THEN line END AS pyline, {values}
    FROM flagged
    """


def read_jsonl_fast(path: Path, display_name: str, kind: str, min_bytes: int = FAST_MIN_BYTES) -> FileRecords:
    """Records of a JSON lines file, fast when it is large and exact always (falls back to read_records)."""
    if path.suffix.lower() != ".jsonl" or kind not in FIELDS or path.stat().st_size < min_bytes:
        return read_records(path, display_name, kind)
    starts = _line_offsets(path, check=True)
    if starts is None:
        return read_records(path, display_name, kind)
    expected = len(starts) - 1
    import duckdb

    from kol_pipeline.lib import duck

    fields = FIELDS[kind]
    con = duck.connect()  # bounded by KOL_DUCKDB_*; keeps insertion order (the record numbers rely on it)
    try:
        table = con.sql(
            _query(fields), params={"path": str(path), "trailing": TRAILING_COMMA_RE, "suspect": SUSPECT_RE}
        ).to_arrow_table()
    except duckdb.Error:
        return read_records(path, display_name, kind)
    finally:
        con.close()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    if table.num_rows != expected:
        return read_records(path, display_name, kind)
    out = ColumnarRecords(path=display_name, source=path, kind=kind, _starts=starts)
    fast = table.column("fast").to_numpy(zero_copy_only=False).astype(bool)
    py_idx = np.flatnonzero(~fast)
    if len(py_idx):
        pylines = table.column("pyline").take(pa.array(py_idx)).to_pylist()
        for i, line in zip(py_idx, pylines):
            if line is not None:  # NULL: an empty line
                jsonl_line(int(i) + 1, line, out)
    keep = np.flatnonzero(fast)
    sub = table.select(["suspect", "pyline", *fields])
    sub = sub.take(pa.array(keep)) if len(keep) < table.num_rows else sub
    frame = pd.DataFrame({f: pd.Series(pd.arrays.ArrowExtensionArray(sub.column(f))) for f in fields})
    frame["_record"] = (keep + 1).astype("int64")
    suspect = np.asarray(pc.fill_null(sub.column("suspect"), False).to_numpy(zero_copy_only=False), dtype=bool)
    if suspect.any():  # values DuckDB may render otherwise than Python: these rows are read by Python
        lines = sub.column("pyline").take(pa.array(np.flatnonzero(suspect))).to_pylist()
        suspect = _confirm_suspects(frame, suspect, lines, fields, out)
        frame = frame[~suspect].reset_index(drop=True)
        order = np.argsort(out.record_numbers, kind="stable")
        out.records = [out.records[i] for i in order]
        out.record_numbers = [out.record_numbers[i] for i in order]
        out.problems.sort(key=lambda q: q.record_number)
    out.frame = frame
    return out
