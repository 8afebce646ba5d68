"""creator_scorecard's comment counts alone (lib/state/creator_comment_stats.sql over the comment view), on a
warehouse the harness kept (``benchmarks.harness --keep``: ``<data-dir>/runs/<run>_wh``), as the asset reads it:
the stored comment_state partitions of the creator window and the day's note_metrics owners, as DuckDB relations.

    .venv/bin/python benchmarks/comment_stats_query.py --warehouse WH --day 2025-06-30 [--window-days 90]
        [--bucket-rows N] [--memory-limit 1GB] [--threads 2]

Run as a file, so that ``PYTHONPATH=<a worktree>`` measures another commit's code on the same warehouse. Prints
the seconds, the buckets, the process's peak RSS and a digest of the rows (the same digest: the same counts)."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import resource
import time
from pathlib import Path

from kol_pipeline.lib import duck
from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql
from kol_pipeline.lib.settings import MetricSettings
from kol_pipeline.lib.state import comment_state as comment_lib
from kol_pipeline.lib.state import comment_view as comment_view_lib
from kol_pipeline.resources.partitioned_input import PartitionedInput
from kol_pipeline.resources.storage import make_base_path

WINDOW_DAYS = MetricSettings().creator_window_days  # the scorecard's default creator window


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--day", type=dt.date.fromisoformat, required=True)
    ap.add_argument(
        "--window-days", type=int, default=WINDOW_DAYS, help="the creator window (a smaller one: fewer rows)"
    )
    ap.add_argument("--bucket-rows", type=int, default=None, help="view rows a bucket (default: STATS_BUCKET_ROWS)")
    ap.add_argument("--memory-limit", default="1GB")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    if a.bucket_rows is not None:
        comment_view_lib.STATS_BUCKET_ROWS = a.bucket_rows
    base = make_base_path(a.warehouse)
    since = a.day - dt.timedelta(days=a.window_days - 1)
    keys = [(since + dt.timedelta(days=i)).isoformat() for i in range((a.day - since).days + 1)]
    comments = PartitionedInput(base.fs, str(base / "comment_state"), "comment_state", keys)
    note_metrics = PartitionedInput(base.fs, str(base / "note_metrics"), "note_metrics", [a.day.isoformat()])
    settings = duck.DuckSettings(
        memory_limit=a.memory_limit, threads=a.threads, temp_directory=str(a.warehouse.parent / "spill")
    )
    with duck.connect(settings) as con:
        comment_view_lib.use_stored(con, comments.relation(con, columns=comment_lib.STORED_COLUMNS))
        owners = note_metrics.relation(con, ["note_id", "user_id"]).df()
        t = time.perf_counter()
        buckets = comment_view_lib.stats_buckets(con, a.day, a.window_days)
        out = scorecard_sql.comment_stats(con, owners, [a.day], a.window_days)
        seconds = time.perf_counter() - t
    rows = out.sort_values("user_id").to_csv(index=False).encode()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(
        f"creator comment stats of {a.day} ({a.window_days}-day window): {len(owners):,} notes asked, {buckets} bucket(s): {len(out):,} rows "
        f"in {seconds:.1f}s, peak RSS {peak:.2f} GB, rows digest {hashlib.sha1(rows).hexdigest()[:12]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
