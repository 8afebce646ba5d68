"""Test ordering for the two xdist workers (`make test`: ``-n 2 --dist loadfile --no-loadscope-reorder``).

A module marked ``pytest.mark.heavy(seconds)`` (its measured time on an idle 2-core machine, BENCHMARKS.md "CI
time") is sent to a worker before the light ones, the longest first: with xdist's default order (modules with the
most tests first) the few-test, long modules came last and one worker ran alone for minutes at the end. The
estimates only order the modules; nothing depends on them being exact.
"""

from __future__ import annotations

import pytest


def _weight(item: pytest.Item) -> float:
    mark = item.get_closest_marker("heavy")
    return float(mark.args[0]) if mark and mark.args else 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # a stable sort: the tests of a module stay together and in their order
    items.sort(key=lambda item: -_weight(item))
