"""One daily partition through the public Dagster definitions, in this (fresh) process; the harness runs it as a
subprocess and reads the JSON it writes.

    python -m benchmarks.run_partition --landing DIR --warehouse DIR --day YYYY-MM-DD --out result.json [--warmup]

- Environment: KOL_LANDING_DIR / KOL_WAREHOUSE_DIR are set before kol_pipeline is imported (the resources read
  them); the Dagster instance is ephemeral (nothing is written to DAGSTER_HOME).
- The run: ``daily_job`` (the whole graph: brand files, ingest with its checks, validation, metrics, marts,
  reporting) for ``day``, through ``orchestration.running.run_job`` (dg.execute_job, in process, no output kept). Whatever
  assets the graph holds are materialized, so a new asset (e.g. a per-note state) is timed without a change here.
  When the definitions have no ``daily_job``, the implicit global asset job is used.
- ``--warmup``: first, untimed, the non-ingest assets for the day before (for assets that carry state from the
  previous partition); ingestion of that day is not re-run (the history already holds its cleaned tables).
  ``--warmup-only`` does only that and exits: the harness runs it in a process of its own before the timed run,
  so that the timed process's memory is the day's alone (Python does not give freed memory back to the system).
- Timings: STEP_START and STEP_SUCCESS/STEP_FAILURE timestamps of the run's event log. A step's stage is the group
  of the assets it materializes (``ingest``, ``metrics``, ``marts``, ``reporting``, ...); a step that only evaluates
  asset checks is ``validation`` (the ingest step's own checks run inside it and count as ingest).
- Where the time goes: the seconds of each step spent in the warehouse's Parquet reads and writes, the
  Arrow/pandas conversions around them and the validations (``io`` per step and stage; benchmarks/io_time.py).
- Memory: a thread samples this process's resident set size (/proc/self/statm) every 20 ms; a stage's peak is the
  largest sample inside its steps' time spans (it includes what earlier stages still hold). The process's overall
  peak is its ``VmHWM`` (/proc/self/status), written into the result as ``vm_hwm``: not ``ru_maxrss``, which
  Linux carries over from the parent that spawned the process (the harness, holding GBs after a DuckDB reference).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


class RssSampler(threading.Thread):
    def __init__(self, interval: float = 0.02):
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        with open("/proc/self/statm") as fh:
            while not self._halt.is_set():
                fh.seek(0)
                rss = int(fh.read().split()[1]) * _PAGE
                self.samples.append((time.time(), rss))
                self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, spans: list[tuple[float, float]]) -> int:
        best = 0
        for t, r in self.samples:
            if r > best and any(a - self.interval <= t <= b + self.interval for a, b in spans):
                best = r
        return best


class ProgressWriter(threading.Thread):
    """Every second, the step start/end times of the newest run so far, with the RSS samples' peak, to ``path``:
    when the harness kills the process (timeout, memory limit), it still knows which steps ran and how long."""

    def __init__(self, instance, sampler: RssSampler, path: Path, interval: float = 1.0):
        super().__init__(daemon=True)
        self.instance, self.sampler, self.path, self.interval = instance, sampler, path, interval
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            try:
                runs = self.instance.get_runs(limit=1)
                if not runs:
                    continue
                steps: dict[str, dict] = {}
                for entry in self.instance.all_logs(runs[0].run_id):
                    ev = entry.dagster_event
                    if ev is None or ev.step_key is None:
                        continue
                    st = steps.setdefault(ev.step_key, {"step": ev.step_key})
                    if ev.event_type_value == "STEP_START":
                        st["start"] = entry.timestamp
                    elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                        st["end"] = entry.timestamp
                now = time.time()
                rows = []
                for st in steps.values():
                    if "start" in st:
                        end = st.get("end", now)
                        rows.append(
                            {
                                "step": st["step"],
                                "seconds": end - st["start"],
                                "running": "end" not in st,
                                "peak_rss": self.sampler.peak([(st["start"], end)]),
                            }
                        )
                rss = self.sampler.samples[-1][1] if self.sampler.samples else 0
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"run_id": runs[0].run_id, "steps": rows, "rss_now": rss}))
                os.replace(tmp, self.path)
            except Exception:  # noqa: BLE001 - progress is best effort
                pass

    def stop(self) -> None:
        self._halt.set()


def _job(defs, name: str):
    try:
        return defs.resolve_job_def(name)
    except Exception:  # noqa: BLE001 - definitions without that job: fall back to the whole graph
        return defs.resolve_implicit_global_asset_job_def()


def _stage_of_assets(defs) -> dict:
    return {spec.key: (spec.group_name or "default") for spec in defs.resolve_all_asset_specs()}


def vm_hwm() -> int | None:
    """This process's peak resident set size in bytes (``VmHWM``; None where /proc does not give it). Unlike
    ``ru_maxrss`` it starts afresh at exec: it is this program's own, not the spawning process's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--landing", type=Path, required=True)
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--day", type=date.fromisoformat, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--warmup", action="store_true")
    ap.add_argument("--warmup-only", action="store_true", help="only the warm-up (untimed), then exit")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the timed run here")
    a = ap.parse_args(argv)

    sampler = RssSampler()
    sampler.start()
    os.environ["KOL_LANDING_DIR"] = str(a.landing.resolve())
    os.environ["KOL_WAREHOUSE_DIR"] = str(a.warehouse.resolve())
    t0 = time.perf_counter()
    import dagster as dg

    from kol_pipeline.definitions import defs as defs_obj
    from kol_pipeline.orchestration.running import run_job

    defs = defs_obj() if callable(defs_obj) else defs_obj
    import great_expectations  # noqa: F401  - imported lazily by the checks; counted with the imports here

    import_s = time.perf_counter() - t0
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    instance = dg.DagsterInstance.ephemeral()
    group_of = _stage_of_assets(defs)
    progress = ProgressWriter(instance, sampler, a.out.with_suffix(".progress.json"))
    progress.start()
    job = _job(defs, "daily_job")
    warm_s = None
    if a.warmup or a.warmup_only:
        tw = time.perf_counter()
        with run_job("brand_job", instance, run_config=quiet):
            pass
        keys = {k for k, g in group_of.items() if g != "ingest"}
        with run_job(
            job.name,
            instance,
            run_config=quiet,
            asset_selection=keys,
            tags={"dagster/partition": (a.day - timedelta(days=1)).isoformat()},
        ):
            pass
        warm_s = time.perf_counter() - tw
        if a.warmup_only:
            progress.stop()
            sampler.stop()
            a.out.write_text(json.dumps({"warmup_seconds": warm_s, "import_seconds": import_s, "vm_hwm": vm_hwm()}))
            return 0

    # the warehouse reads/writes and validations of the timed run, per step (benchmarks/io_time.py)
    from benchmarks.io_time import SpanRecorder

    spans = SpanRecorder().install()
    prof = None
    if a.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t_run = time.time()
    with run_job(job.name, instance, run_config=quiet, tags={"dagster/partition": a.day.isoformat()}) as res:
        success, run_id = res.success, res.run_id
    run_wall = time.time() - t_run
    if prof is not None:
        prof.disable()
        prof.dump_stats(str(a.profile))

    steps: dict[str, dict] = {}
    meta: dict[str, dict] = {}
    checks = []
    for entry in instance.all_logs(run_id):
        ev = entry.dagster_event
        if ev is None or ev.step_key is None:
            continue
        st = steps.setdefault(ev.step_key, {"step": ev.step_key, "assets": [], "checks": 0})
        et = ev.event_type_value
        if et == "STEP_START":
            st["start"] = entry.timestamp
        elif et in ("STEP_SUCCESS", "STEP_FAILURE"):
            st["end"] = entry.timestamp
            st["status"] = "ok" if et == "STEP_SUCCESS" else "FAILED"
        elif et == "ASSET_MATERIALIZATION":
            mat = ev.event_specific_data.materialization
            key = mat.asset_key
            st["assets"].append(key.to_user_string())
            md = {k: getattr(v, "value", v) for k, v in (mat.metadata or {}).items()}
            meta[key.to_user_string()] = {k: v for k, v in md.items() if isinstance(v, (int, float, bool))}
        elif et == "ASSET_CHECK_EVALUATION":
            st["checks"] += 1
            e = ev.event_specific_data
            checks.append(
                {
                    "check": f"{e.asset_key.to_user_string()}:{e.check_name}",
                    "passed": bool(e.passed),
                    "severity": str(getattr(e, "severity", "")),
                }
            )
    progress.stop()
    sampler.stop()
    spans.uninstall()
    out_steps = []
    for st in steps.values():
        if "start" not in st:
            continue
        groups = {group_of.get(dg.AssetKey.from_user_string(k), "default") for k in st["assets"]}
        if groups:
            stage = sorted(groups)[0] if len(groups) == 1 else "+".join(sorted(groups))
        else:
            stage = "validation" if st["checks"] else "other"
        end = st.get("end", st["start"])
        out_steps.append(
            {
                **st,
                "stage": stage,
                "seconds": end - st["start"],
                "peak_rss": sampler.peak([(st["start"], end)]),
                "io": spans.seconds_within(st["start"], end),
            }
        )
    out_steps.sort(key=lambda s: s["start"])
    stages: dict[str, dict] = {}
    for s in out_steps:
        g = stages.setdefault(s["stage"], {"seconds": 0.0, "spans": [], "steps": [], "io": {}})
        g["seconds"] += s["seconds"]
        for c, v in s["io"].items():
            g["io"][c] = g["io"].get(c, 0.0) + v
        g["spans"].append((s["start"], s["start"] + s["seconds"]))
        g["steps"].append(s["step"])
    for g in stages.values():
        g["peak_rss"] = sampler.peak(g["spans"])
        del g["spans"]
    rows_read = sum(int(meta.get(t, {}).get("rows_read", 0)) for t in ("notes", "comments", "creators"))
    accounting = {
        t: {
            k: meta.get(t, {}).get(k)
            for k in ("rows_read", "rows_kept", "rows_duplicates", "rows_quarantined", "accounting_holds")
        }
        for t in ("notes", "comments", "creators")
    }
    result = {
        "success": bool(success),
        "run_id": run_id,
        "day": a.day.isoformat(),
        "import_seconds": import_s,
        "warmup_seconds": warm_s,
        "run_wall_seconds": run_wall,
        "steps": out_steps,
        "stages": stages,
        "rows_read": rows_read,
        "accounting": accounting,
        "checks": checks,
        "row_counts": {k: v.get("dagster/row_count") for k, v in meta.items() if "dagster/row_count" in v},
        "failed_steps": [s["step"] for s in out_steps if s.get("status") != "ok"],
        "python": sys.version.split()[0],
        "vm_hwm": vm_hwm(),
    }
    a.out.write_text(json.dumps(result, indent=1, default=str))
    return 0 if success else 1


if __name__ == "__main__":
    raise SystemExit(main())
