"""Where a step's time goes besides its own computation: the warehouse reads and writes between the assets and
the validation, timed in the benchmark worker by wrapping the functions every such call goes through (no change
to the pipeline; benchmarks/README.md "A run", item 6).

Each asset hands its table to the next through Parquet files (the IO manager, resources/io_manager.py): one
step's output is converted to Arrow and written, the next step reads the files and converts them to pandas. The
DuckDB reference reads the cleaned tables once and keeps everything else inside one SQL engine, so these costs
are what the asset graph adds over it, beside pandas' computation itself.

A category's seconds are those of its outermost calls on each thread (a call inside another call of the same
category is not counted twice); calls on threads other than the step's (the IO manager writes several days of a
ranged run on a thread pool) are counted too, so in a ranged run a category may add up to more than the step's
wall time. A daily run writes one day per table, on the step's own thread.
"""

from __future__ import annotations

import functools
import importlib
import threading
import time
from collections.abc import Callable

#: the clock of the spans (epoch seconds, as the event log's timestamps); a module attribute, read at each call, so
#: a test can give the recorder a clock of its own without replacing ``time.time`` for the whole process
_clock = time.time

#: category -> the (module, function) pairs whose calls it times
CATEGORIES: dict[str, tuple[tuple[str, str], ...]] = {
    "parquet_read": (("kol_pipeline.resources.table_io", "read_files"),),
    "to_pandas": (("kol_pipeline.resources.table_io", "to_pandas"),),
    "to_arrow": (("kol_pipeline.resources.table_io", "to_arrow"),),
    "parquet_write": (("kol_pipeline.resources.storage", "write_atomic"),),
    "validation": (("kol_pipeline.lib.quality.validation", "validate_table"),),
}


class SpanRecorder:
    """Records (category, start, end) of the wrapped functions' outermost calls, epoch seconds."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []
        self._depth = threading.local()
        self._lock = threading.Lock()
        self._undo: list[tuple[object, str, Callable]] = []

    def _wrap(self, category: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            depth = getattr(self._depth, category, 0)
            setattr(self._depth, category, depth + 1)
            t0 = _clock() if depth == 0 else 0.0
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self._depth, category, depth)
                if depth == 0:
                    t1 = _clock()
                    with self._lock:
                        self.spans.append((category, t0, t1))

        return timed

    def install(self, categories: dict[str, tuple[tuple[str, str], ...]] = CATEGORIES) -> SpanRecorder:
        """Wrap the functions (module attributes: callers look them up at call time)."""
        for category, targets in categories.items():
            for module_name, attr in targets:
                module = importlib.import_module(module_name)
                original = getattr(module, attr)
                setattr(module, attr, self._wrap(category, original))
                self._undo.append((module, attr, original))
        return self

    def uninstall(self) -> None:
        for module, attr, original in reversed(self._undo):
            setattr(module, attr, original)
        self._undo.clear()

    def seconds_within(self, start: float, end: float) -> dict[str, float]:
        """Seconds per category of the calls inside [start, end] (a call's part outside is not counted)."""
        out = {c: 0.0 for c in CATEGORIES}
        with self._lock:
            spans = list(self.spans)
        for category, a, b in spans:
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                out[category] = out.get(category, 0.0) + (hi - lo)
        return out
