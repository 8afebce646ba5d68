"""The landing folder as an index: which Asia/Shanghai day each MediaCrawler record belongs to.

A ranged run only cleans the records of its days, and a file is parsed once per process however many runs read
it (`kol-pipeline run` over a sparse crawl makes many small runs). The index also tells the CLI and the sensor
which partitions a folder holds. Cache entries are keyed by (path, kind, size,
mtime), so a rewritten file is re-read (and a workbook's sheets are entries of their own).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from kol_pipeline.lib.ingest import fastread, parsing
from kol_pipeline.lib.ingest.clean import crawl_day_numbers
from kol_pipeline.lib.ingest.discovery import discover
from kol_pipeline.lib.ingest.fastread import ColumnarRecords, read_jsonl_fast
from kol_pipeline.lib.ingest.intake import KINDS, landing_files, relative_name
from kol_pipeline.lib.ingest.readers import FileRecords

# Keep at most this many parsed records in memory (oldest files are dropped first).
MAX_CACHED_RECORDS = 3_000_000
_EPOCH = date(1970, 1, 1)
_NO_DAY = -1


@dataclass
class IndexedFile:
    kind: str
    path: Path
    records: FileRecords  # a fastread.ColumnarRecords for large JSON lines files (string columns, not dicts)
    record_days: np.ndarray  # day number (days since 1970-01-01) of each record of `records.records`, -1: none
    frame_days: np.ndarray  # the same for the rows of `records.frame` (ColumnarRecords only)
    problem_day: date | None  # the day unparseable content of the file is filed under

    @property
    def all_days(self) -> set[date]:
        nums = np.unique(np.concatenate([self.record_days, self.frame_days]))
        out = {_EPOCH + timedelta(days=int(d)) for d in nums if d != _NO_DAY}
        if self.records.problems and self.problem_day is not None:
            out.add(self.problem_day)
        return out

    def day_counts(self) -> dict[date, int]:
        nums, counts = np.unique(np.concatenate([self.record_days, self.frame_days]), return_counts=True)
        return {_EPOCH + timedelta(days=int(d)): int(n) for d, n in zip(nums, counts) if d != _NO_DAY}


_CACHE: OrderedDict[tuple[str, str, int, int], IndexedFile] = OrderedDict()


def _record_days(fr: FileRecords) -> np.ndarray:
    if not fr.records:
        return np.zeros(0, dtype=np.int64)
    ts, _ = parsing.parse_epoch_ms(
        pd.Series([r.get("last_modify_ts") for r in fr.records], dtype=object), "last_modify_ts"
    )
    return parsing.shanghai_day_numbers(ts)


def index_file(kind: str, path: Path, landing: Path) -> IndexedFile:
    """One landing file of ``kind`` parsed and indexed by crawl day (no cache: `iter_index` caches)."""
    fr = read_jsonl_fast(path, relative_name(path, landing), kind, fastread.FAST_MIN_BYTES)
    record_days = _record_days(fr)
    frame = fr.frame if isinstance(fr, ColumnarRecords) else None
    if frame is not None and len(frame):
        frame_days = (
            crawl_day_numbers(frame["last_modify_ts"])
            if "last_modify_ts" in frame.columns
            else np.full(len(frame), _NO_DAY, dtype=np.int64)
        )
    else:
        frame_days = np.zeros(0, dtype=np.int64)
    hint = parsing.date_from_name(path.name)
    if hint is None:  # the file's most common crawl day (the earliest of equally common ones, as Series.mode)
        nums, counts = np.unique(np.concatenate([record_days, frame_days]), return_counts=True)
        valid = nums != _NO_DAY
        if valid.any():
            nums, counts = nums[valid], counts[valid]
            hint = _EPOCH + timedelta(days=int(nums[counts == counts.max()].min()))
    if hint is not None:
        fill = (hint - _EPOCH).days
        record_days = np.where(record_days == _NO_DAY, fill, record_days)
        frame_days = np.where(frame_days == _NO_DAY, fill, frame_days)
    return IndexedFile(kind, path, fr, record_days, frame_days, hint)


def index_landing(landing: Path) -> list[IndexedFile]:
    """Every MediaCrawler file of the landing folder, parsed once per (path, kind, size, mtime) and process."""
    return list(iter_index(landing))


def clear_cache() -> None:
    """Forget every parsed file of the process (`index_landing`'s cache)."""
    _CACHE.clear()


def cached_files() -> int:
    """How many parsed files the process's cache holds."""
    return len(_CACHE)


def iter_index(landing: Path, cache: bool = True) -> Iterator[IndexedFile]:
    """`index_landing` one file at a time, reading ahead: while the caller works on a file, the next file not
    cached is read in a background thread (one at a time, in order). DuckDB's query, most of a large file's
    reading, releases the GIL, so the reading of the next file runs on the second core while the caller cleans
    the current one (lib/ingest/intake.ingest_batches; docs/ingestion.md "Reading ahead").

    ``cache=False``: files already cached are used, files read now are not kept (each is freed once the caller
    is done with it). For a process that reads the folder once, such as a run worker's ingest step: the cache
    kept up to MAX_CACHED_RECORDS raw records through the step and the rest of the run (BENCHMARKS.md,
    fourteenth session)."""
    todo = []
    for kind, paths in landing_files(landing).items():
        for p in paths:
            st = p.stat()
            todo.append((kind, p, (str(p.resolve()), kind, st.st_size, st.st_mtime_ns)))  # a workbook: per sheet
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kol-read-ahead")
    pending: dict[int, Future[IndexedFile]] = {}

    def ahead(i: int) -> None:
        if i < len(todo) and todo[i][2] not in _CACHE:
            pending[i] = pool.submit(index_file, todo[i][0], todo[i][1], landing)

    try:
        ahead(0)
        for i, (kind, p, key) in enumerate(todo):
            ahead(i + 1)  # queued behind file i: the worker reads one file at a time
            fut = pending.pop(i, None)
            hit = _CACHE.get(key)
            if hit is None:
                hit = fut.result() if fut is not None else index_file(kind, p, landing)
                if cache:
                    _CACHE[key] = hit
                    _trim()
            else:
                _CACHE.move_to_end(key)
            yield hit
    finally:  # the caller stopped (an error, or it had enough): a read not yet started is dropped
        pool.shutdown(wait=True, cancel_futures=True)


def _trim() -> None:
    total = sum(f.records.rows_read for f in _CACHE.values())
    while total > MAX_CACHED_RECORDS and len(_CACHE) > 1:
        _, old = _CACHE.popitem(last=False)
        total -= old.records.rows_read


def landing_days(landing: Path) -> dict[date, int]:
    """Records per day over the landing folder's MediaCrawler files (what partitions it holds)."""
    counts: dict[date, int] = {}
    for f in index_landing(landing):
        for d, n in f.day_counts().items():
            counts[d] = counts.get(d, 0) + n
        if f.records.problems and f.problem_day is not None:
            counts[f.problem_day] = counts.get(f.problem_day, 0) + len(f.records.problems)
    return counts


def batches_for_days(
    landing: Path, start: date, end: date, kinds: tuple[str, ...] = KINDS
) -> list[tuple[str, FileRecords]]:
    """The records of days start..end only, per file (problems of a file filed under a day in range come along;
    problems of a file with no day at all come with every range, so they are never lost)."""
    return list(iter_batches_for_days(landing, start, end, kinds))


def iter_batches_for_days(
    landing: Path, start: date, end: date, kinds: tuple[str, ...] = KINDS, cache: bool = True
) -> Iterator[tuple[str, FileRecords]]:
    """`batches_for_days` one file at a time, the next file read ahead while the caller cleans this one
    (`iter_index`; ``cache``: keep the files read in the process's cache)."""
    lo, hi = (start - _EPOCH).days, (end - _EPOCH).days
    for f in iter_index(landing, cache):
        if f.kind not in kinds:
            continue
        rec_sel = (f.record_days >= lo) & (f.record_days <= hi)
        frame_sel = (f.frame_days >= lo) & (f.frame_days <= hi)
        take_problems = bool(f.records.problems) and (f.problem_day is None or start <= f.problem_day <= end)
        if not rec_sel.any() and not frame_sel.any() and not take_problems:
            continue
        if isinstance(f.records, ColumnarRecords):
            fr: FileRecords = f.records.subset(None if frame_sel.all() else frame_sel, rec_sel.tolist(), take_problems)
            fr.fallback_day = f.problem_day
        else:
            fr = FileRecords(
                path=f.records.path,
                records=[r for r, k in zip(f.records.records, rec_sel) if k],
                record_numbers=[n for n, k in zip(f.records.record_numbers, rec_sel) if k],
                problems=list(f.records.problems) if take_problems else [],
                encoding=f.records.encoding,
                notes=list(f.records.notes),
                fallback_day=f.problem_day,
            )
        yield f.kind, fr


def skipped_files(landing: Path) -> list[tuple[str, str]]:
    """(file relative to the landing folder, why) for every file under the crawl root that is not read: another
    platform's, not a MediaCrawler file, a workbook that cannot be opened (`discovery.discover`), or a file whose
    whole content is unreadable (its record-0 problem, which is also in `quarantine`)."""
    out = [(relative_name(s.path, landing), s.reason) for s in discover(landing).skipped]
    for f in index_landing(landing):
        whole = [p.reason for p in f.records.problems if p.record_number == 0]
        if whole:
            out.append((f.records.path, whole[0]))
    return sorted(out)


def kinds_present(landing: Path) -> set[str]:
    return {f.kind for f in index_landing(landing) if f.records.rows_read}
