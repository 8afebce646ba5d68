"""The landing folder as an index: which Asia/Shanghai day each MediaCrawler record belongs to.

A ranged run only cleans the records of its days, and a file is parsed once per process however many runs read
it (`kol-pipeline run` over a sparse crawl makes many small runs). The index also tells the CLI and the sensor
which partitions a folder holds. Cache entries are keyed by (path, size, mtime), so a rewritten file is re-read.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from kol_pipeline.lib import parsing
from kol_pipeline.lib.ingest import KINDS, landing_files, relative_name
from kol_pipeline.lib.readers import FileRecords, read_records

# Keep at most this many parsed records in memory (oldest files are dropped first).
MAX_CACHED_RECORDS = 3_000_000


@dataclass
class IndexedFile:
    kind: str
    path: Path
    records: FileRecords
    days: np.ndarray  # day (datetime.date) of each parsed record, after the fallback rule
    problem_day: date | None  # the day unparseable content of the file is filed under

    @property
    def all_days(self) -> set[date]:
        out = {d for d in self.days if d is not None}
        if self.records.problems and self.problem_day is not None:
            out.add(self.problem_day)
        return out


_CACHE: OrderedDict[tuple[str, int, int], IndexedFile] = OrderedDict()


def _index(kind: str, path: Path, landing: Path) -> IndexedFile:
    fr = read_records(path, relative_name(path, landing))
    ts, _ = parsing.parse_epoch_ms(pd.Series([r.get("last_modify_ts") for r in fr.records], dtype=object), "last_modify_ts")
    days = parsing.shanghai_date(ts).where(ts.notna(), None) if len(ts) else pd.Series([], dtype=object)
    hint = parsing.date_from_name(path.name)
    if hint is None:
        valid = days.dropna()
        hint = valid.mode().iloc[0] if len(valid) else None
    filled = days.where(days.notna(), hint) if len(days) else days
    return IndexedFile(kind, path, fr, np.asarray(filled.to_numpy(), dtype=object), hint)


def index_landing(landing: Path) -> list[IndexedFile]:
    """Every MediaCrawler file of the landing folder, parsed once per (path, size, mtime) and process."""
    out: list[IndexedFile] = []
    for kind, paths in landing_files(landing).items():
        for p in paths:
            st = p.stat()
            key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
            hit = _CACHE.get(key)
            if hit is None:
                hit = _index(kind, p, landing)
                _CACHE[key] = hit
                _trim()
            else:
                _CACHE.move_to_end(key)
            out.append(hit)
    return out


def _trim() -> None:
    total = sum(len(f.records.records) for f in _CACHE.values())
    while total > MAX_CACHED_RECORDS and len(_CACHE) > 1:
        _, old = _CACHE.popitem(last=False)
        total -= len(old.records.records)


def landing_days(landing: Path) -> dict[date, int]:
    """Records per day over the landing folder's MediaCrawler files (what partitions it holds)."""
    counts: dict[date, int] = {}
    for f in index_landing(landing):
        for d, n in pd.Series(f.days, dtype=object).dropna().value_counts().items():
            counts[d] = counts.get(d, 0) + int(n)
        if f.records.problems and f.problem_day is not None:
            counts[f.problem_day] = counts.get(f.problem_day, 0) + len(f.records.problems)
    return counts


def batches_for_days(landing: Path, start: date, end: date, kinds: tuple[str, ...] = KINDS) -> list[tuple[str, FileRecords]]:
    """The records of days start..end only, per file (problems of a file filed under a day in range come along;
    problems of a file with no day at all come with every range, so they are never lost)."""
    out: list[tuple[str, FileRecords]] = []
    for f in index_landing(landing):
        if f.kind not in kinds:
            continue
        sel = np.fromiter(((d is not None and start <= d <= end) for d in f.days), dtype=bool, count=len(f.days))
        take_problems = f.records.problems and (f.problem_day is None or start <= f.problem_day <= end)
        if not sel.any() and not take_problems:
            continue
        fr = FileRecords(
            path=f.records.path,
            records=[r for r, k in zip(f.records.records, sel) if k],
            record_numbers=[n for n, k in zip(f.records.record_numbers, sel) if k],
            problems=list(f.records.problems) if take_problems else [],
            encoding=f.records.encoding,
            notes=list(f.records.notes),
            fallback_day=f.problem_day,
        )
        out.append((f.kind, fr))
    return out


def kinds_present(landing: Path) -> set[str]:
    return {f.kind for f in index_landing(landing) if f.records.records or f.records.problems}
