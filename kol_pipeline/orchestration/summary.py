"""What `kol-pipeline run` prints at the end: rows per table (from Parquet footers), rows read / kept /
duplicates / quarantined per ingested kind, the landing files not read, the checks that failed or warned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import dagster as dg

from kol_pipeline.lib.schemas import summary_tables


@dataclass
class RunSummary:
    days: list[date] = field(default_factory=list)
    runs: int = 0
    failed_runs: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    blocked_days: list[date] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    # per ingested kind: rows read / kept / duplicates / quarantined over the run's days (the ingest assets'
    # accounting metadata), and the landing files not read, with why
    accounting: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # wall seconds per phase (brand files, ingestion runs, downstream runs): where a long run spends its time
    phase_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if (self.failed_runs or self.failed_checks) else 0

    def render(self, seconds: float) -> str:
        lines = [
            f"done in {seconds:.1f}s: {len(self.days)} daily partitions materialized (days with data and the empty "
            f"days inside ranged runs), {self.runs} Dagster runs"
            + (
                " (" + ", ".join(f"{k} {v:.1f}s" for k, v in self.phase_seconds.items()) + ")"
                if self.phase_seconds
                else ""
            ),
            "rows: " + ", ".join(f"{t} {n:,}" for t, n in self.rows.items()),
            f"quarantined rows: {self.quarantined:,}",
        ]
        for kind, acc in self.accounting.items():
            lines.append(
                f"  {kind}: read {acc['read']:,} / kept {acc['kept']:,} / duplicates {acc['duplicates']:,} / "
                f"quarantined {acc['quarantined']:,}"
            )
        lines += render_skipped(self.skipped)
        if self.warned_checks:
            counts: dict[str, int] = {}
            for w in self.warned_checks:
                counts[w] = counts.get(w, 0) + 1
            lines.append(
                "check warnings (runs): "
                + "; ".join(f"{w} ({n})" for w, n in sorted(counts.items()))
                + " - see the check metadata in the UI"
            )
        if self.failed_checks:
            lines.append(f"FAILED blocking checks ({len(self.failed_checks)}): " + "; ".join(self.failed_checks))
            lines.append("downstream assets skipped for: " + ", ".join(d.isoformat() for d in self.blocked_days))
        if self.failed_runs:
            lines.append("FAILED runs: " + "; ".join(self.failed_runs))
        lines.append("exit " + str(self.exit_code))
        return "\n".join(lines)


ACCOUNTED = ("read", "kept", "duplicates", "quarantined")


def render_skipped(skipped: Sequence[tuple[str, str]], examples: int = 5) -> list[str]:
    """Summary lines for the files not read, grouped by reason, with up to `examples` names each (a MediaCrawler
    data folder can hold thousands of other platforms' files)."""
    if not skipped:
        return []
    by_reason: dict[str, list[str]] = {}
    for name, reason in skipped:
        by_reason.setdefault(reason, []).append(name)
    lines = [f"skipped files ({len(skipped):,}), not read:"]
    for reason, names in sorted(by_reason.items()):
        more = f", and {len(names) - examples:,} more" if len(names) > examples else ""
        lines.append(f"  {reason} ({len(names):,}): " + ", ".join(names[:examples]) + more)
    return lines


def add_accounting(total: dict[str, dict[str, int]], result: dg.JobExecutionResult) -> None:
    """Add an ingest run's rows read / kept / duplicates / quarantined per kind (its assets' `rows_*` metadata) to
    `total`. A ranged run records one materialization per day with the range's metadata: counted once per run."""
    seen: set[str] = set()
    for ev in result.get_asset_materialization_events():
        mat = ev.materialization
        name = mat.asset_key.to_user_string() if mat is not None else ""
        meta = mat.metadata if mat is not None else {}
        if name in seen or f"rows_{ACCOUNTED[0]}" not in meta:
            continue
        seen.add(name)
        acc = total.setdefault(name, dict.fromkeys(ACCOUNTED, 0))
        for k in ACCOUNTED:
            value = meta.get(f"rows_{k}")
            acc[k] += int(value.value) if value is not None else 0


SUMMARY_TABLES = summary_tables()


def partition_counts(
    warehouse: str, start: date, end: date, tables: Sequence[str] = SUMMARY_TABLES
) -> dict[str, dict[str, int]]:
    """Rows per day and table for the days start..end, from Parquet footers (no data read; only those days'
    folders are looked at, so a long history costs nothing here)."""
    import pyarrow.parquet as pq

    from kol_pipeline.resources.io_manager import PART_FILE, make_base_path

    base = make_base_path(warehouse)
    fs = base.fs
    out: dict[str, dict[str, int]] = {}
    days = [(start + timedelta(days=k)).isoformat() for k in range((end - start).days + 1)]
    for table in tables:
        for day in days:
            part = base / table / f"snapshot_date={day}" / PART_FILE
            path = part.path
            if not fs.exists(path):
                continue
            with fs.open(path, "rb") as fh:
                out.setdefault(day, {})[table] = pq.ParquetFile(fh).metadata.num_rows
    return out


def table_totals(warehouse: str, days: Sequence[date]) -> dict[str, int]:
    if not days:
        return {}
    counts = partition_counts(warehouse, min(days), max(days))
    wanted = {d.isoformat() for d in days}
    totals: dict[str, int] = {t: 0 for t in SUMMARY_TABLES}
    for day, per in counts.items():
        if day in wanted:
            for t, n in per.items():
                totals[t] += n
    return totals
