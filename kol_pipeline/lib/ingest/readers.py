"""Reading landing files record by record, keeping every record's number and never losing one silently.

A file yields `FileRecords`: the parsed records (dicts) with their 1-based record numbers, and `problems`,
records (or the rest of a file) that could not be parsed, each with a reason. Formats: JSON array (salvaging the
records before a truncation), JSONL, CSV (UTF-8 with or without BOM, GBK/GB18030 exports).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# `{crawler}_{item}[_{suffix}].{ext}`, also as older numbered exports (`1_search_comments_2025-02-27.csv`), with a
# platform prefix (`xhs_search_contents.json`) and as copies (`search_contents_2026-06-02 copy.json`, `... (1).json`)
MEDIACRAWLER_RE = re.compile(
    r"^(?:\d+_)?(?P<crawler>[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*?)_(?P<item>contents|comments|creator|creators)"
    r"(?:[_ .(-](?P<suffix>.*))?\.(?P<ext>json|jsonl|csv)$",
    re.IGNORECASE,
)
XLSX_EXT = ".xlsx"
# MediaCrawler's excel store: one sheet per kind (store/excel_store_base.py names them Contents, Comments, Creators)
XLSX_SHEETS = {
    "contents": "notes",
    "notes": "notes",
    "comments": "comments",
    "creators": "creators",
    "creator": "creators",
}
# MediaCrawler descriptions can exceed the csv module's default 128 KiB field limit (a csv.Error otherwise)
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

ITEM_KIND = {"contents": "notes", "comments": "comments", "creator": "creators", "creators": "creators"}


@dataclass
class Problem:
    record_number: int
    reason: str
    raw: str


@dataclass
class FileRecords:
    path: str
    records: list[dict] = field(default_factory=list)
    record_numbers: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    # day for records without a usable crawl time, when known for the whole file (see lib/ingest/landing.py)
    fallback_day: date | None = None

    @property
    def rows_read(self) -> int:
        return len(self.records) + len(self.problems)


def kind_of(path: Path) -> str | None:
    """notes|comments|creators for a MediaCrawler file name, else None."""
    m = MEDIACRAWLER_RE.match(path.name)
    return ITEM_KIND[m.group("item").lower()] if m else None


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (BOM stripped) or, failing that, GB18030 (a superset of GBK). Raises UnicodeDecodeError otherwise."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "gb18030"


def decode_head(data: bytes) -> str | None:
    """The start of a file as text (UTF-8 or GB18030, a character cut at the end tolerated), None if neither."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 4:  # only the last, cut character is incomplete
                return data[: exc.start].decode(enc, errors="ignore")
    return None


def xlsx_kinds(path: Path) -> tuple[list[str], str | None]:
    """(kinds of the workbook's MediaCrawler sheets, in sheet order; the reason it cannot be opened, or None)."""
    try:
        wb = _open_workbook(path)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a damaged or foreign file
        return [], f"not an xlsx workbook ({type(exc).__name__}: {exc})"
    try:
        kinds = [XLSX_SHEETS[n.strip().lower()] for n in wb.sheetnames if n.strip().lower() in XLSX_SHEETS]
    finally:
        wb.close()
    return list(dict.fromkeys(kinds)), None


def _open_workbook(path: Path):
    import openpyxl  # imported when a workbook is found: most landing folders have none

    return openpyxl.load_workbook(path, read_only=True, data_only=True)


def _cell(value: object) -> object:
    """A cell as a record value: numbers, text and None as they are; a date or time as ISO text (not epoch ms, so
    a crawl time typed as a date by a spreadsheet program is a reason, never a guess)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _xlsx(path: Path, kind: str | None, out: FileRecords) -> None:
    """The rows of the workbook's sheet for `kind`: the first row is the header, record number = row - 1; a blank
    row is not a record; a row with values beyond the header is one problem; an empty cell is ""."""
    try:
        wb = _open_workbook(path)
    except Exception as exc:  # noqa: BLE001
        out.problems.append(Problem(0, f"unreadable file: not an xlsx workbook ({type(exc).__name__}: {exc})", ""))
        return
    try:
        names = [n for n in wb.sheetnames if XLSX_SHEETS.get(n.strip().lower()) == kind]
        if not names:
            out.notes.append(f"no sheet for {kind}")
            return
        out.path = f"{out.path}#{names[0]}"
        rows = wb[names[0]].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        while header and header[-1] == "":
            header.pop()
        for i, row in enumerate(rows, start=1):
            values = [_cell(v) for v in row]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            extra = [v for v in values[len(header) :] if v is not None and v != ""]
            if extra:
                raw = json.dumps(values, ensure_ascii=False, default=str)
                out.problems.append(Problem(i, f"xlsx row has values beyond the header's {len(header)} columns", raw))
                continue
            # an empty cell is "": MediaCrawler's excel store writes None as "", and a cell cannot tell them apart
            values = ["" if v is None else v for v in values] + [""] * (len(header) - len(values))
            out.records.append({h: v for h, v in zip(header, values) if h})
            out.record_numbers.append(i)
    finally:
        wb.close()


def _json_array(text: str, out: FileRecords) -> None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
        _salvage_array(text, out)
    if value is None:
        return
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items, start=1):
        if isinstance(item, dict):
            out.records.append(item)
            out.record_numbers.append(i)
        else:
            out.problems.append(Problem(i, "record is not a JSON object", json.dumps(item, ensure_ascii=False)))


def _salvage_array(text: str, out: FileRecords) -> None:
    """Parse a damaged JSON array element by element; what follows the first bad element becomes one problem."""
    dec = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    n = 0
    if text.startswith("{", pos):
        # JSON lines saved with a .json name: read line by line rather than losing every record
        out.notes.append("not a JSON array: read as JSON lines")
        _jsonl(text, out)
        return
    if not text.startswith("[", pos):
        out.problems.append(Problem(1, "malformed JSON: not an array or object", text[:500]))
        return
    pos += 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            out.problems.append(Problem(n + 1, f"truncated JSON: the array ends after record {n}", ""))
            return
        if text[pos] == "]":
            return
        try:
            value, end = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            out.problems.append(
                Problem(n + 1, f"malformed or truncated JSON at record {n + 1}: {exc.msg}", text[pos : pos + 500])
            )
            return
        n += 1
        if isinstance(value, dict):
            out.records.append(value)
            out.record_numbers.append(n)
        else:
            out.problems.append(Problem(n, "record is not a JSON object", json.dumps(value, ensure_ascii=False)))
        pos = end


def jsonl_line(i: int, line: str, out: FileRecords) -> None:
    """One line of a JSON lines file: a record, a problem, or nothing (a blank line is not a record)."""
    if not line.strip():
        return
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        out.problems.append(Problem(i, f"malformed JSON line: {exc.msg}", line[:2000]))
        return
    if isinstance(value, dict):
        out.records.append(value)
        out.record_numbers.append(i)
    else:
        out.problems.append(Problem(i, "record is not a JSON object", line[:2000]))


def _jsonl(text: str, out: FileRecords) -> None:
    # Lines end at "\n" only (a "\r" before it is dropped: CRLF files), as CONTRACT section 2 says and as DuckDB's
    # line reader counts them (lib/ingest/fastread.py). Not str.splitlines(): it also splits at "\r", U+2028, U+2029,
    # U+0085 and a few control characters; JSON allows U+2028, U+2029 and U+0085 unescaped inside strings, and
    # MediaCrawler (ensure_ascii=False) writes them so, which broke a valid record in two malformed lines.
    for i, line in enumerate(text.split("\n"), start=1):
        jsonl_line(i, line.removesuffix("\r"), out)


def _csv(text: str, out: FileRecords) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    i = 0
    try:
        for i, row in enumerate(reader, start=1):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raw = json.dumps(row, ensure_ascii=False)
                out.problems.append(Problem(i, f"CSV row has {len(row)} fields, the header has {len(header)}", raw))
                continue
            out.records.append(dict(zip(header, row)))
            out.record_numbers.append(i)
    except csv.Error as exc:  # the rest of the file cannot be split into rows: one problem, like a truncated JSON
        out.problems.append(Problem(i + 1, f"malformed CSV at record {i + 1}: {exc}", ""))


def read_records(path: Path, display_name: str | None = None, kind: str | None = None) -> FileRecords:
    """All records of one landing file (of a workbook: the sheet of `kind`, its name appended to the file's as
    `file.xlsx#Sheet`). Never raises for bad content: problems are returned with reasons."""
    out = FileRecords(path=display_name or str(path))
    if path.suffix.lower() == XLSX_EXT:
        _xlsx(path, kind, out)
        return out
    data = path.read_bytes()
    if not data.strip():
        out.notes.append("empty file")
        return out
    if b"\x00" in data:
        # UTF-16 without a BOM (or binary content) may decode as UTF-8 with NUL characters: say so instead of
        # reporting a confusing JSON/CSV syntax error
        out.problems.append(Problem(0, "unreadable file: NUL bytes in the text (UTF-16 or binary content?)", ""))
        return out
    try:
        text, out.encoding = decode(data)
    except UnicodeDecodeError as exc:
        out.problems.append(Problem(0, f"unreadable file: not UTF-8 nor GBK ({exc.reason} at byte {exc.start})", ""))
        return out
    if out.encoding != "utf-8":
        out.notes.append(f"decoded as {out.encoding}")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        _jsonl(text, out)
    elif suffix == ".json":
        _json_array(text, out)
    elif suffix == ".csv":
        _csv(text, out)
    else:
        out.problems.append(Problem(0, f"unsupported file type {suffix}", ""))
    return out
