"""`kol-pipeline` command: run the pipeline through Dagster, simulate landing data, query the warehouse."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LANDING = PROJECT_ROOT / "data" / "sample"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse"
DEFAULT_HOME = PROJECT_ROOT / ".dagster_home"


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME from the environment, else the project's .dagster_home (created, telemetry off)."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _day(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from exc


def _locations(args: argparse.Namespace) -> tuple[Path, str]:
    """Absolute landing folder and warehouse (a folder or an fsspec URL), exported as KOL_LANDING_DIR and
    KOL_WAREHOUSE_DIR for the Dagster resources of this process and of `dagster dev`."""
    landing = Path(args.landing).resolve()
    warehouse = str(args.warehouse if "://" in str(args.warehouse) else Path(args.warehouse).resolve())
    os.environ["KOL_LANDING_DIR"] = str(landing)
    os.environ["KOL_WAREHOUSE_DIR"] = warehouse
    return landing, warehouse


def _print(msg: str) -> None:
    print(msg, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    landing, warehouse = _locations(args)
    if not landing.is_dir():
        _print(f"error: landing folder {landing} does not exist")
        return 2
    from kol_pipeline.lib.ingest.source_db import check_source_db

    if (db_problem := check_source_db(os.environ.get("KOL_SOURCE_DB_URL"))) is not None:
        _print(f"error: {db_problem}")
        return 2
    home = ensure_dagster_home()
    from kol_pipeline.orchestration.planning import find_partition_days, ingest_selection, merge_gap, plan_runs
    from kol_pipeline.orchestration.running import run_pipeline

    t0 = time.monotonic()
    if args.start or args.end:
        found = find_partition_days(landing)
        start = args.start or (min(found) if found else None)
        end = args.end or (max(found) if found else None)
        if start is None or end is None:
            _print("error: no crawl data found and no complete --start/--end range given")
            return 2
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    else:
        days = sorted(find_partition_days(landing))
    if not days:
        from kol_pipeline.lib.ingest.landing import skipped_files
        from kol_pipeline.orchestration.summary import render_skipped

        _print(f"error: no MediaCrawler XHS rows with a usable crawl time under {landing}")
        for line in render_skipped(skipped_files(landing)):
            _print(line)
        return 2
    if args.ingest_only:
        downstream: set = set()
    elif args.start or args.end or args.metrics_days <= 0:
        downstream = set(days)
    else:
        newest = days[-1]
        downstream = {d for d in days if (newest - d).days < args.metrics_days}
    if args.resume:
        import dagster as dg

        from kol_pipeline.orchestration.planning import completed_days

        with dg.DagsterInstance.get() as instance:
            done = completed_days(instance, days, downstream, landing)
        _print(
            f"resume: {len(done)} of {len(days)} partitions already complete in the Dagster instance; "
            f"running the other {len(days) - len(done)}"
        )
        days = [d for d in days if d not in done]
        downstream -= done
        if not days:
            _print("nothing to do")
            return 0
    ranges = plan_runs(days, merge_gap(len(ingest_selection(landing))))
    _print(
        f"kol-pipeline: {len(days)} partitions ({days[0]}..{days[-1]}) ingested in {len(ranges)} ranged run(s), "
        f"metrics and marts for {len(downstream)} of them; landing {landing}; warehouse {warehouse}; "
        f"DAGSTER_HOME {home}"
    )
    from kol_pipeline.lib.ingest.landing import skipped_files

    skipped = skipped_files(landing)  # the landing index is cached: this reads no file again
    summary = run_pipeline(
        ranges,
        warehouse,
        progress=_print,
        downstream_days=downstream,
        landing=landing,
        compact_planned_events=not args.per_day_planned_events,
    )
    summary.skipped = skipped
    _print(summary.render(time.monotonic() - t0))
    return summary.exit_code


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def ui_command(host: str, port: int) -> list[str]:
    """`dagster dev` on the project's workspace (webserver, daemon and code server), bound to host:port."""
    dagster = Path(sys.executable).parent / "dagster"
    return [str(dagster), "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", host, "-p", str(port)]


def cmd_ui(args: argparse.Namespace) -> int:
    """Run `dagster dev` under a supervisor (`supervise_dev`): Ctrl-C, or SIGTERM to this process or its process
    group, shuts it down in Dagster's own order and leaves no process behind."""
    landing, warehouse = _locations(args)
    home = ensure_dagster_home()
    if args.host not in LOOPBACK:
        _print(
            f"warning: the Dagster UI has no authentication; binding to {args.host} lets anyone who can reach "
            f"port {args.port} launch runs. The default is 127.0.0.1."
        )
    _print(
        f"Dagster UI on http://{args.host}:{args.port} (landing {landing}, warehouse {warehouse}, DAGSTER_HOME {home})"
    )
    from kol_pipeline.supervisor import supervise_dev

    return supervise_dev(ui_command(args.host, args.port), cwd=PROJECT_ROOT)


def cmd_simulate(args: argparse.Namespace) -> int:
    from kol_pipeline.lib.simulate import simulate

    out = Path(args.out)
    result = simulate(out, creators=args.creators, days=args.days, seed=args.seed, shared_audience=args.shared_audience)
    _print(f"wrote landing data to {out}: {result}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from kol_pipeline.lib.sql import run_sql

    return run_sql(args.query, str(args.warehouse), out=args.out, max_rows=args.max_rows)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kol-pipeline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="materialize every asset for the partitions found in the landing folder")
    r.add_argument("--landing", default=os.environ.get("KOL_LANDING_DIR", str(DEFAULT_LANDING)))
    r.add_argument("--warehouse", default=os.environ.get("KOL_WAREHOUSE_DIR", str(DEFAULT_WAREHOUSE)))
    r.add_argument("--start", type=_day, help="first day (YYYY-MM-DD, Asia/Shanghai)")
    r.add_argument("--end", type=_day, help="last day (inclusive)")
    r.add_argument(
        "--metrics-days",
        type=int,
        default=150,
        help="without --start/--end: materialize metrics, marts and reports for the found days of this many days "
        "up to the newest one (older days are ingested and validated only); 0 = every day",
    )
    r.add_argument(
        "--resume",
        action="store_true",
        help="skip the partitions whose every asset already has a materialization in the Dagster instance (after a "
        "failed or interrupted run: re-runs only the days that did not complete)",
    )
    r.add_argument(
        "--ingest-only",
        action="store_true",
        help="brand files, ingestion and its checks only (no metrics, marts or reports): e.g. loading a long history "
        "first and computing the metrics of the recent days afterwards",
    )
    r.add_argument(
        "--per-day-planned-events",
        action="store_true",
        help="store Dagster's planned-materialization event per asset and day, as UI-launched runs do, instead of "
        "one per asset and run: the UI's partition bar then shows the days of a failed run as failed rather than "
        "missing; costs ~10 ms per asset and day (a minute more on a sparse multi-year history)",
    )
    r.set_defaults(func=cmd_run)
    u = sub.add_parser("ui", help="open the Dagster UI (dagster dev) on the same data and instance, on 127.0.0.1")
    u.add_argument("--landing", default=os.environ.get("KOL_LANDING_DIR", str(DEFAULT_LANDING)))
    u.add_argument("--warehouse", default=os.environ.get("KOL_WAREHOUSE_DIR", str(DEFAULT_WAREHOUSE)))
    u.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=cmd_ui)
    s = sub.add_parser("simulate", help="write deterministic landing data (MediaCrawler + brand files)")
    s.add_argument("--creators", type=int, default=80)
    s.add_argument("--days", type=int, default=130)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--out", required=True)
    s.add_argument(
        "--shared-audience",
        action="store_true",
        help="plant commenters shared between brands' notes and some creators (brand_audience_affinity's known "
        "answer, docs/simulator.md); off by default, as in the bundled sample",
    )
    s.set_defaults(func=cmd_simulate)
    q = sub.add_parser("sql", help="run DuckDB SQL over the warehouse tables (each table is a view)")
    q.add_argument("query")
    q.add_argument("--warehouse", default=os.environ.get("KOL_WAREHOUSE_DIR", str(DEFAULT_WAREHOUSE)))
    q.add_argument("--out", help="write the result to a .csv or .parquet file instead of printing it")
    q.add_argument("--max-rows", type=int, default=50)
    q.set_defaults(func=cmd_sql)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
