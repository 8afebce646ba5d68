"""Keep freed memory in the process instead of handing it back to the operating system (glibc only).

Why: glibc serves every allocation above its mmap threshold (128 KiB .. 32 MiB) with a fresh ``mmap`` and returns
it with ``munmap`` when freed. A daily run allocates and frees gigabytes in large numpy arrays (a 24 M-row state
column is 192 MB), so each such array is faulted in page by page again. On a virtual machine whose host reclaims
freed guest memory (balloon free-page reporting, as on the benchmark machine) a fault on reclaimed memory costs
~2.5 s per GB instead of ~0.15 s: measured with ``benchmarks/alloc_probe.py`` (a round allocates and fills 2 GB,
computes ``a + 1`` and frees both), 7.6-7.7 s a round with the default settings against 0.8 s once freed memory is
kept (BENCHMARKS.md, "Allocator").

What: ``mallopt(M_MMAP_MAX, 0)`` serves large blocks from the heap and ``mallopt(M_TRIM_THRESHOLD, -1)`` never
shrinks it, so a freed block is reused by the next allocation of the process. The cost: the process keeps its
peak heap until it exits (a run worker exits after its run), and the peak itself may grow where freed blocks are
too fragmented for a larger request. Arrow's own pool (mimalloc) is not affected; it is the subject of
``release_arrow_memory`` (below), which the IO manager calls after every large read and write.

It is switched on by ``WarehouseIOManager(retain_freed_memory=True)``, so it applies in every process that
executes steps (the run worker of ``dagster dev``/the daemon, each step process of a multiprocess executor, the
CLI, the benchmark harness) and never at import. **Off by default**: on the 100k benchmark day (BENCHMARKS.md,
"Allocator") it gave 53.6 s / 5.06 GB against 57.2 s / 4.63 GB without, and the untimed warm-up 267 s / 7.68 GB
against 241 s / 5.68 GB: a few seconds, within the run-to-run noise, for more memory. Turn it on where time
matters more than peak memory. No-op (returns False) where the C library is not glibc. Pure ctypes, no dagster
import.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_MMAP_MAX = -4

_applied = False


def retain_freed_memory() -> bool:
    """Switch glibc's malloc to keep freed memory for reuse (idempotent). True when the settings are in effect."""
    global _applied
    if _applied:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; -1 for M_TRIM_THRESHOLD means "never trim" (mallopt(3))
    _applied = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, -1))
    return _applied


#: reads and writes of at least this many bytes hand Arrow's freed memory back (``release_arrow_memory``)
ARROW_RELEASE_MIN_BYTES = 64 * 1024 * 1024


def release_arrow_memory(nbytes: int) -> None:
    """Hand back to the operating system the memory Arrow's pool (mimalloc) holds free after a read or write of
    ``nbytes`` (nothing below ``ARROW_RELEASE_MIN_BYTES``).

    Why: a warehouse read converts Arrow tables to pandas and drops them; mimalloc keeps the freed pages for
    Arrow's next allocation, and numpy (glibc's malloc) cannot use them, so the two pools' peaks add up. On the
    100k benchmark day 120, creator_scorecard's read of 24 M rows of comment state left ~1.0 GB free in Arrow's
    pool (2.21 GB resident after ``malloc_trim``, 1.23 GB after this), and the step's aggregation then peaked at
    3.30 GB instead of 2.31 GB (BENCHMARKS.md, fifteenth session)."""
    if nbytes < ARROW_RELEASE_MIN_BYTES:
        return
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
