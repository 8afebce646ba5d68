"""resources/allocator.py: freed large blocks stay in the process (glibc), and the IO manager switches it on."""

import platform
import subprocess
import sys
import textwrap

import dagster as dg
import pytest

from kol_pipeline.resources import allocator
from kol_pipeline.resources.warehouse import WarehouseIOManager

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# allocate and free a 64 MB array, then report glibc's view of the heap (mallinfo2, glibc >= 2.33)
PROBE = textwrap.dedent("""
    import ctypes, sys
    import numpy as np
    from kol_pipeline.resources.allocator import retain_freed_memory
    class MI2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MI2
    applied = retain_freed_memory() if sys.argv[1] == "retain" else False
    a = np.ones(8_000_000)
    live = libc.mallinfo2()
    del a
    freed = libc.mallinfo2()
    print(int(applied), live.hblkhd, freed.hblkhd, freed.fordblks)
""")


def _probe(mode: str) -> tuple[int, int, int, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    applied, live_mmapped, freed_mmapped, free_in_heap = map(int, out.stdout.split())
    return applied, live_mmapped, freed_mmapped, free_in_heap


@pytest.mark.skipif(not GLIBC, reason="mallopt tuning applies to glibc only")
def test_default_malloc_returns_a_freed_large_block_to_the_os():
    applied, live_mmapped, freed_mmapped, free_in_heap = _probe("default")
    assert applied == 0
    assert live_mmapped >= 64_000_000  # served by its own mmap ...
    assert live_mmapped - freed_mmapped >= 64_000_000  # ... and unmapped when freed
    assert free_in_heap < 64_000_000


@pytest.mark.skipif(not GLIBC, reason="mallopt tuning applies to glibc only")
def test_retained_malloc_keeps_a_freed_large_block_for_reuse():
    applied, live_mmapped, freed_mmapped, free_in_heap = _probe("retain")
    assert applied == 1
    assert live_mmapped < 64_000_000  # served from the heap
    assert free_in_heap >= 64_000_000  # and still there, free for the next allocation


def test_io_manager_switches_it_on_only_when_configured(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "retain_freed_memory", lambda: calls.append(1) or True)
    WarehouseIOManager.at(str(tmp_path)).create_io_manager(dg.build_init_resource_context())
    assert calls == []  # off by default
    WarehouseIOManager.at(str(tmp_path), retain_freed_memory=True).create_io_manager(dg.build_init_resource_context())
    assert calls == [1]


def test_not_glibc_is_a_no_op(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", False)
    monkeypatch.setattr(allocator.platform, "libc_ver", lambda: ("musl", "1.2"))
    assert allocator.retain_freed_memory() is False
