"""The benchmark harness (benchmarks/, issue #6) at a tiny size: it runs one daily partition through the Dagster
assets and its DuckDB SQL reference agrees with the pipeline. No timing is asserted (speed goals live in
BENCHMARKS.md)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.integration


def test_harness_tiny_run_agrees_with_reference(tmp_path):
    from benchmarks import harness, io_time

    out = tmp_path / "results.json"
    code = harness.main(
        [
            "--size",
            "2000",
            "--days-history",
            "10",
            "--no-sweep",
            "--no-growth",
            "--warmup",
            "--late-history",
            "13",
            "--keep",
            "--data-dir",
            str(tmp_path / "data"),
            "--json",
            str(out),
            "--timeout",
            "300",
        ]
    )
    res = json.loads(out.read_text())
    main = res["main"]
    assert main["ended"] == "ok" and main["success"] is True, main.get("stderr_tail")
    assert code == 0
    # the peak is the worker's own: its high-water mark when it wrote its result, or the harness's sample of its RSS
    # after that (its shutdown), which may be a few pages more
    assert main["peak_rss_source"] == "VmHWM"
    assert 0 < main["vm_hwm"] <= main["process_peak_rss"] < main["vm_hwm"] + 100e6
    # the warm-up ran in a process of its own before the timed one, which continued from its states
    assert main["warmup_seconds"] > 0 and main["warmup_peak_rss"] > 0
    day = date.fromisoformat(main["day"])
    wh = tmp_path / "data" / "runs" / "n2000_day120_wh"
    for state in ("note_state", "creator_state", "comment_state"):
        stored = sorted(p.name for p in (wh / state).iterdir())
        assert stored == [f"snapshot_date={day - timedelta(days=1)}", f"snapshot_date={day}"], (state, stored)
    # every stage of the graph ran and was timed
    assert {"ingest", "validation", "metrics", "marts", "reporting"} <= set(main["stages"])
    assert main["rows_read"] > 2000
    # where the time goes: the ingest step writes its tables, the metrics read theirs and convert them, the checks
    # validate; no category of a stage exceeds the stage (one day: every write on the step's own thread)
    st = main["stages"]
    assert st["ingest"]["io"]["parquet_write"] > 0 and st["ingest"]["io"]["to_arrow"] > 0
    assert st["ingest"]["io"]["validation"] > 0  # the ingest step's own checks
    assert st["metrics"]["io"]["parquet_read"] > 0 and st["metrics"]["io"]["to_pandas"] > 0
    assert st["validation"]["io"]["validation"] > 0
    for name, stage in st.items():
        assert set(stage["io"]) == set(io_time.CATEGORIES), name
        assert sum(stage["io"].values()) <= stage["seconds"] + 1e-3, (name, stage)
    split = {row[0]: row for row in harness.time_split(main)}
    assert split["steps total"][1] == pytest.approx(sum(s["seconds"] for s in st.values()))
    assert split["metrics"][3] == pytest.approx(st["metrics"]["seconds"] - sum(st["metrics"]["io"].values()))
    # the planted malformed records were quarantined and the accounting holds per table
    for table in ("notes", "comments", "creators"):
        acc = main["accounting"][table]
        assert acc["rows_read"] == acc["rows_kept"] + acc["rows_duplicates"] + acc["rows_quarantined"]
        assert acc["rows_quarantined"] >= 2
    assert main["accounting"]["notes"]["rows_duplicates"] > 0
    # the reference agrees on a non-empty set of values for each compared table
    comps = {c["table"]: c for c in main["comparison"]}
    assert set(comps) == {"note_metrics", "creator_scorecard", "tier_benchmarks"}
    for c in comps.values():
        assert c["agree"], c
        assert c["compared_rows"] > 0 and c["non_null_values"] > 0, c
        assert sum(c["mismatches"].values()) == 0
    assert comps["note_metrics"]["compared_rows"] == comps["note_metrics"]["keys_pipeline"]
    # --late-history: the same day after 13 history days (its own data set), run, checked and set against the main day
    late = res["growth"]["late"]
    assert late["ended"] == "ok" and late["history_days_before"] == 13 and late["day"] == main["day"]
    assert late["comparison"] and all(c["agree"] and c["compared_rows"] > 0 for c in late["comparison"])
    assert res["growth"]["day120"]["label"] == main["label"] and "day10" not in res["growth"]
    line = next(t for t in res["targets"] if t[0].startswith("day 14 <= 1.1x day 11 "))
    assert line[1] == f"{late['run_wall_seconds'] / main['run_wall_seconds']:.2f}x" and line[2] in ("met", "MISSED")


def test_reference_detects_a_wrong_value(tmp_path):
    """The comparison can fail: a changed pipeline value is reported as a mismatch."""
    import pandas as pd

    from benchmarks.reference import _compare_frame

    ref = pd.DataFrame({"note_id": ["a", "b", "c"], "x": [1.0, None, 3.0]})
    same = _compare_frame("t", ref, ref.copy(), ["note_id"], ["x"])
    assert same["agree"] and same["compared_rows"] == 3
    wrong = ref.copy()
    wrong.loc[2, "x"] = 3.0 + 1e-6
    res = _compare_frame("t", ref, wrong, ["note_id"], ["x"])
    assert not res["agree"] and res["mismatches"] == {"x": 1}
    missing = _compare_frame("t", ref, ref.iloc[:2], ["note_id"], ["x"])
    assert not missing["agree"] and missing["only_in_reference"] == 1


def test_a_runs_peak_is_its_own_not_the_harness(tmp_path):
    """The harness's peak RSS of a run is the worker's own (VmHWM), not wait4's ru_maxrss, which Linux starts at
    the spawning process's resident size: while this process holds 600 MB, a worker of ~30 MB reports ~30 MB."""
    import sys

    import numpy as np

    from benchmarks import harness

    out = tmp_path / "w.json"
    code = (
        "import json, sys; from benchmarks.run_partition import vm_hwm; "
        "open(sys.argv[1], 'w').write(json.dumps({'vm_hwm': vm_hwm()}))"
    )
    held = np.ones(75_000_000)  # 600 MB resident in the spawning process
    res = harness.watch([sys.executable, "-c", code, str(out)], out, timeout=120, mem_limit=4e9)
    assert held.sum() == 75_000_000
    assert res["ended"] == "ok" and res["peak_rss_source"] == "VmHWM"
    assert 5e6 < res["process_peak_rss"] < 300e6, res["process_peak_rss"]


def test_span_recorder_counts_outermost_calls_within_a_span(monkeypatch):
    import sys
    import threading
    import types

    from benchmarks import io_time

    mod = types.ModuleType("kol_fake_io")
    clock = iter([10.0, 14.0, 20.0, 23.0])  # the outer call's start and end (an inner call reads no clock), a 2nd call
    monkeypatch.setattr(io_time, "_clock", lambda: next(clock))

    def read(depth: int) -> int:
        return mod.read(depth - 1) + 1 if depth else 0  # calls itself through the module: the wrapped function

    mod.read = read
    monkeypatch.setitem(sys.modules, "kol_fake_io", mod)
    rec = io_time.SpanRecorder().install({"parquet_read": (("kol_fake_io", "read"),)})
    assert mod.read is not read
    assert mod.read(1) == 1  # an outer call (10 .. 14) holding an inner one: counted once
    assert mod.read(0) == 0  # 20 .. 23
    assert rec.spans == [("parquet_read", 10.0, 14.0), ("parquet_read", 20.0, 23.0)]
    got = rec.seconds_within(12.0, 21.0)  # clipped: 12 .. 14 and 20 .. 21
    assert got["parquet_read"] == pytest.approx(3.0) and got["parquet_write"] == 0.0
    # another thread's calls are its own outermost calls (the depth is per thread)
    clock2 = iter([30.0, 31.0])
    monkeypatch.setattr(io_time, "_clock", lambda: next(clock2))
    t = threading.Thread(target=mod.read, args=(0,))
    t.start()
    t.join()
    assert rec.spans[-1] == ("parquet_read", 30.0, 31.0)
    rec.uninstall()
    assert mod.read is read
