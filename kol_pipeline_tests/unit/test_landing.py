"""The landing index read ahead (lib/ingest/landing.py `iter_index`): the same files, in the same order, with the same
content as one file after the other; the next file is read in the background while the caller works on the
current one, one file ahead and no more; cached files are not read again; a failed read reaches the caller."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest import landing

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
NOW = pd.Timestamp("2025-07-01T00:00:00+00:00").to_pydatetime()


@pytest.fixture(autouse=True)
def _empty_cache():
    landing.clear_cache()
    yield
    landing.clear_cache()


def _sequential(folder: Path) -> list[landing.IndexedFile]:
    return [landing.index_file(kind, p, folder) for kind, paths in ingest.landing_files(folder).items() for p in paths]


def _same_file(a: landing.IndexedFile, b: landing.IndexedFile) -> None:
    assert (a.kind, a.path, a.problem_day) == (b.kind, b.path, b.problem_day)
    assert a.records.records == b.records.records and a.records.record_numbers == b.records.record_numbers
    assert a.record_days.tolist() == b.record_days.tolist() and a.frame_days.tolist() == b.frame_days.tolist()


def test_read_ahead_gives_the_sequential_index() -> None:
    want = _sequential(SAMPLE)
    assert len(want) >= 5
    landing.clear_cache()
    got = list(landing.iter_index(SAMPLE))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        _same_file(a, b)
    start, end = date(2025, 3, 1), date(2025, 3, 20)
    ctx = ingest.IngestContext(now=NOW)
    lazy = ingest.ingest_batches(landing.iter_batches_for_days(SAMPLE, start, end), ctx, start, end)
    landing.clear_cache()
    listed = ingest.ingest_batches(landing.batches_for_days(SAMPLE, start, end), ctx, start, end)
    assert len(lazy.notes) > 0
    for name in ("notes", "creators", "comments", "quarantine", "accounting"):
        pd.testing.assert_frame_equal(getattr(lazy, name), getattr(listed, name), obj=name)


def test_the_next_file_is_read_in_the_background_one_ahead(monkeypatch) -> None:
    reads: list[tuple[str, str]] = []
    second_started = threading.Event()
    real = landing.index_file

    def spy(kind, path, folder):
        reads.append((path.name, threading.current_thread().name))
        if len(reads) == 2:
            second_started.set()
        return real(kind, path, folder)

    monkeypatch.setattr(landing, "index_file", spy)
    names = [p.name for paths in ingest.landing_files(SAMPLE).values() for p in paths]
    it = landing.iter_index(SAMPLE)
    first = next(it)
    assert first.path.name == names[0]
    # the caller holds the first file: the second is being read, and nothing beyond it
    assert second_started.wait(30)
    assert [n for n, _ in reads] == names[:2]
    rest = list(it)
    assert [f.path.name for f in [first, *rest]] == names
    assert [n for n, _ in reads] == names  # each file read once, in order
    assert all(t.startswith("kol-read-ahead") for _, t in reads)

    reads.clear()  # every file is cached now: none is read again
    assert [f.path.name for f in landing.iter_index(SAMPLE)] == names
    assert reads == []


def test_a_failed_read_ahead_reaches_the_caller(monkeypatch) -> None:
    real = landing.index_file
    names = [p.name for paths in ingest.landing_files(SAMPLE).values() for p in paths]

    def failing(kind, path, folder):
        if path.name == names[2]:
            raise OSError(f"cannot read {path.name}")
        return real(kind, path, folder)

    monkeypatch.setattr(landing, "index_file", failing)
    got = []
    with pytest.raises(OSError, match=names[2]):
        for f in landing.iter_index(SAMPLE):
            got.append(f.path.name)
    assert got == names[:2]


def test_a_caller_that_stops_early_leaves_no_read_running(monkeypatch) -> None:
    """Closing the iteration after the first file (an error in the caller, or a caller that had enough) waits for
    the read under way and starts no other: at most the file after the first was read."""
    reads: list[str] = []
    real = landing.index_file

    def spy(kind, path, folder):
        reads.append(path.name)
        return real(kind, path, folder)

    monkeypatch.setattr(landing, "index_file", spy)
    names = [p.name for paths in ingest.landing_files(SAMPLE).values() for p in paths]
    it = landing.iter_index(SAMPLE)
    assert next(it).path.name == names[0]
    it.close()
    assert reads in (names[:1], names[:2])
    assert [t.name for t in threading.enumerate() if t.name.startswith("kol-read-ahead")] == []


def test_crawl_day_numbers_of_the_fast_reader_equal_the_record_reader_s() -> None:
    """The landing index files a large file's rows by `clean.crawl_day_numbers` (SQL over text columns) and a small
    file's records by `parsing.parse_epoch_ms` (pandas): the same day for every kind of crawl time, -1 where it is
    unusable. (The query now computes each value's number once, as a column: inlined, it took 11x as long;
    BENCHMARKS.md, twenty-third session. Its speed is not asserted here, its days are.)"""
    import numpy as np

    from kol_pipeline.lib.ingest import parsing
    from kol_pipeline.lib.ingest.clean import crawl_day_numbers

    texts = [
        "1751241600000",  # 2025-06-30 08:00 Shanghai, in ms
        "1751212799999",  # the last ms of 2025-06-29 in Shanghai
        "1751212800000",  # its first of 2025-06-30
        "1751241600",  # seconds (an export variant)
        " 1751241600000 ",
        "\u30001751241600000\u3000",  # ideographic spaces, as Python's strip() removes them
        "1751241600000.0",
        "1.7512416e12",
        "586396800000",  # 1988-08-01: Shanghai kept daylight saving time then
        "",
        "   ",
        None,
        "nan",
        "inf",
        "-5",
        "0",
        "1_751_241_600_000",
        "abc",
        "1e30",
    ]
    got = crawl_day_numbers(pa.array(texts, pa.string()))
    ts, _ = parsing.parse_epoch_ms(pd.Series(texts, dtype=object), "last_modify_ts")
    want = parsing.shanghai_day_numbers(ts)
    assert got.tolist() == want.tolist()
    day = (date(2025, 6, 30) - date(1970, 1, 1)).days
    assert got[:8].tolist() == [day, day - 1, day, day, day, day, day, day]
    assert (got[9:] == -1).all() and np.issubdtype(got.dtype, np.int64)
