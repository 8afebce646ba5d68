"""Sensors and the freshness check: landing-folder changes -> daily_job runs of exactly the affected days, a
freshness warning on `notes`, and an alert (log + optional webhook) when a run fails. docs/automation.md."""

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from kol_pipeline.defs.automation import daily_job
from kol_pipeline.defs.shared import DAILY
from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import intake as ingest_lib
from kol_pipeline.lib.ingest import landing as landing_lib
from kol_pipeline.lib.ingest import source_watch
from kol_pipeline.lib.quality import alerts
from kol_pipeline.lib.schemas import daily_tables, input_tables
from kol_pipeline.resources.settings import KolSettings
from kol_pipeline.resources.warehouse import Warehouse

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The first evaluation (no cursor) backfills at most this many days: the newest days found in the folder.
FIRST_TICK_MAX_DAYS = 30
FRESHNESS_MAX_AGE = timedelta(hours=36)
WEBHOOK_ENV = "KOL_ALERT_WEBHOOK"

log = logging.getLogger("kol_pipeline.alerts")


# ---------------------------------------------------------------------------------------------- landing sensor


@dataclass(frozen=True)
class FileState:
    size: int
    mtime_ns: int
    sha256: str
    days: tuple[str, ...]

    def to_json(self) -> list:
        return [self.size, self.mtime_ns, self.sha256, list(self.days)]

    @staticmethod
    def from_json(v: list) -> "FileState":
        return FileState(int(v[0]), int(v[1]), str(v[2]), tuple(v[3]))


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def watched_files(landing: Path) -> dict[str, Path]:
    """Relative path -> file of every input that belongs to days: MediaCrawler files and search_rankings files."""
    out = {ingest_lib.relative_name(p, landing): p for ps in ingest_lib.landing_files(landing).values() for p in ps}
    out |= {ingest_lib.relative_name(p, landing): p for p in brand_lib.search_ranking_files(landing).values()}
    return out


def _file_days(landing: Path, changed: dict[str, Path]) -> dict[str, tuple[str, ...]]:
    """Asia/Shanghai days each changed file's records belong to (lib.landing's rule; search_rankings: its name)."""
    out: dict[str, tuple[str, ...]] = {}
    wanted = {str(p.resolve()): rel for rel, p in changed.items()}
    rankings = {str(p.resolve()) for p in brand_lib.search_ranking_files(landing).values()}
    if any(str(p.resolve()) not in rankings for p in changed.values()):
        for f in landing_lib.index_landing(landing):
            rel = wanted.get(str(f.path.resolve()))
            if rel is not None:
                # a workbook is indexed once per sheet: its days are those of all its sheets
                out[rel] = tuple(sorted(set(out.get(rel, ())) | {d.isoformat() for d in f.all_days}))
    for day, p in brand_lib.search_ranking_files(landing).items():
        rel = wanted.get(str(p.resolve()))
        if rel is not None:
            out[rel] = (day,)
    return out


def load_cursor(cursor: str | None) -> dict[str, FileState] | None:
    if not cursor:
        return None
    data = json.loads(cursor)
    return {rel: FileState.from_json(v) for rel, v in data.get("files", {}).items()}


def load_db_cursor(cursor: str | None) -> dict[str, str] | None:
    """Day -> fingerprint of the MediaCrawler database at the last tick (None: never seen)."""
    if not cursor:
        return None
    db = json.loads(cursor).get("db")
    return None if db is None else {str(k): str(v) for k, v in db.items()}


def dump_cursor(files: dict[str, FileState], db: dict[str, str] | None = None) -> str:
    data: dict = {"files": {rel: s.to_json() for rel, s in sorted(files.items())}}
    if db is not None:
        data["db"] = dict(sorted(db.items()))
    return json.dumps(data, separators=(",", ":"))


#: the daily tables read from an input (the quarantine is not: a day of rejected rows only is not ingested)
INGESTED_TABLES = tuple(t for t in daily_tables("ingest") if t in input_tables())


def ingested_days(warehouse: Warehouse) -> set[str]:
    """Days with a partition of any cleaned daily table in the warehouse."""
    out: set[str] = set()
    for t in INGESTED_TABLES:
        out |= set(warehouse.list_partitions(t))
    return out


def valid_day(day: str, now: datetime) -> bool:
    """A key of the DAILY partitions (2015-01-01 .. tomorrow in Asia/Shanghai, end_offset=1)."""
    last = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    return DAILY.start.date().isoformat() <= day <= last.isoformat()


def landing_changes(
    landing: Path, previous: dict[str, FileState] | None, now: datetime
) -> tuple[dict[str, FileState], dict[str, list[str]]]:
    """(new cursor state, day -> sorted fingerprints of the changed files touching that day).

    A file whose size and mtime are unchanged is not read. A file with a new size or mtime is hashed: identical
    content (a re-delivered or touched file) only updates the cursor. A changed file affects the days of its old and
    its new content; a deleted file the days it had. With no previous state every day found is affected (the sensor
    then applies `first_tick`)."""
    files = watched_files(landing)
    prev = previous or {}
    state: dict[str, FileState] = {}
    stale: dict[str, tuple[Path, int, int, str]] = {}
    for rel, p in files.items():
        st = p.stat()
        old = prev.get(rel)
        if old is not None and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            state[rel] = old
            continue
        digest = _sha256(p)
        if old is not None and old.sha256 == digest:
            state[rel] = FileState(st.st_size, st.st_mtime_ns, digest, old.days)
            continue
        stale[rel] = (p, st.st_size, st.st_mtime_ns, digest)
    days_of = _file_days(landing, {rel: v[0] for rel, v in stale.items()})
    affected: dict[str, set[str]] = {}
    for rel, (_, size, mtime_ns, digest) in stale.items():
        new = FileState(size, mtime_ns, digest, days_of.get(rel, ()))
        state[rel] = new
        old_days = prev[rel].days if rel in prev else ()
        for d in set(new.days) | set(old_days):
            affected.setdefault(d, set()).add(f"{rel}:{digest}")
    for rel in set(prev) - set(files):  # deleted: its days lost input
        for d in prev[rel].days:
            affected.setdefault(d, set()).add(f"{rel}:deleted")
    affected = {d: v for d, v in affected.items() if valid_day(d, now)}
    return state, {d: sorted(v) for d, v in sorted(affected.items())}


def first_tick(affected: dict[str, set[str]], already: set[str] = frozenset()) -> dict[str, set[str]]:
    """A first tick requests the newest FIRST_TICK_MAX_DAYS days found, leaving out days already in the warehouse."""
    keep = sorted(d for d in affected if d not in already)[-FIRST_TICK_MAX_DAYS:]
    return {d: affected[d] for d in keep}


def db_changes(engine, previous: dict[str, str] | None, now: datetime) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(new database cursor, day -> {fingerprint}) for the days whose rows in the MediaCrawler database changed."""
    current = source_watch.db_day_fingerprints(engine)
    changed = source_watch.changed_days(previous or {}, current)
    affected = {
        d: {f"db:{hashlib.sha256(fp.encode()).hexdigest()[:16]}"} for d, fp in changed.items() if valid_day(d, now)
    }
    return current, affected


def run_key(day: str, fingerprints: list[str]) -> str:
    return f"{day}:{hashlib.sha256('|'.join(fingerprints).encode()).hexdigest()[:16]}"


@dg.sensor(
    job=daily_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Watches KOL_LANDING_DIR (MediaCrawler files, brand/search_rankings_*.csv) and runs daily_job for "
    "exactly the Asia/Shanghai days whose input changed. Run key = day + hash of the changed files' content, so a "
    "re-delivered identical file is not re-run. With KOL_SOURCE_DB_URL set it also compares per-day fingerprints "
    "(row count, newest and checksum of crawl times) of MediaCrawler's database tables. First tick: the newest 30 "
    "days found that are not in the warehouse yet.",
)
def landing_sensor(context: dg.SensorEvaluationContext, settings: KolSettings, warehouse: Warehouse) -> dg.SensorResult:
    landing = settings.landing
    now = datetime.now(UTC)
    engine = settings.source_engine()
    if not landing.is_dir() and engine is None:
        return dg.SensorResult(skip_reason=f"landing folder {landing} does not exist")
    previous = load_cursor(context.cursor)
    if landing.is_dir():
        state, affected = landing_changes(landing, previous, now)
    else:
        state, affected = {}, {}
    db_state = None
    if engine is not None:
        db_previous = load_db_cursor(context.cursor)
        try:
            db_state, db_affected = db_changes(engine, db_previous, now)
        finally:
            engine.dispose()
        if db_previous is None and previous is not None:  # the database was configured after the first tick
            db_affected = first_tick(db_affected, ingested_days(warehouse))
        for d, fps in db_affected.items():
            affected.setdefault(d, []).extend(sorted(fps))
    if previous is None:
        affected = first_tick(affected, ingested_days(warehouse))
    cursor = dump_cursor(state, db_state)
    if not affected:
        return dg.SensorResult(skip_reason="no landing file or database day changed", cursor=cursor)
    requests = [
        dg.RunRequest(
            run_key=run_key(day, fps),
            partition_key=day,
            tags={"kol/launched_by": "landing_sensor", "kol/changed_files": str(len(fps))},
        )
        for day, fps in affected.items()
    ]
    context.log.info(f"{len(requests)} day(s) changed: {', '.join(affected)}")
    return dg.SensorResult(run_requests=requests, cursor=cursor)


# --------------------------------------------------------------------------------------------------- freshness


def partition_age(newest: str, now: datetime) -> timedelta:
    """Time since the end of the partition day (midnight Asia/Shanghai after `newest`)."""
    end = datetime.combine(date.fromisoformat(newest) + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    return now - end


def freshness_result(
    partitions: list[str], now: datetime, max_age: timedelta = FRESHNESS_MAX_AGE
) -> dg.AssetCheckResult:
    """WARN when `notes` has no partition or its newest partition day ended more than `max_age` ago."""
    if not partitions:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="notes has no partition yet",
            metadata={"newest_partition": "", "max_age_hours": max_age.total_seconds() / 3600},
        )
    newest = max(partitions)
    age = partition_age(newest, now)
    hours = round(age.total_seconds() / 3600, 1)
    passed = age <= max_age
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"newest partition {newest} ended {hours} h ago"
            + ("" if passed else f" (> {max_age.total_seconds() / 3600:g} h)")
        ),
        metadata={"newest_partition": newest, "age_hours": hours, "max_age_hours": max_age.total_seconds() / 3600},
    )


@dg.asset_check(
    asset="notes",
    name="notes_freshness",
    blocking=False,
    description="Warns when the newest `notes` partition (an Asia/Shanghai day) ended more than 36 hours ago. "
    "Evaluated by notes_freshness_sensor (hourly) and whenever it is run.",
)
def notes_freshness(warehouse: Warehouse) -> dg.AssetCheckResult:
    return freshness_result(warehouse.list_partitions("notes"), datetime.now(UTC))


@dg.sensor(
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Hourly: records the notes_freshness check result (no run needed) and, when it turns from passing "
    "to failing, posts an alert to KOL_ALERT_WEBHOOK if set.",
)
def notes_freshness_sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult:
    res = freshness_result(warehouse.list_partitions("notes"), datetime.now(UTC))
    ev = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("notes"),
        check_name="notes_freshness",
        passed=res.passed,
        severity=res.severity,
        description=res.description,
        metadata=res.metadata,
    )
    state = "pass" if res.passed else "fail"
    if state == "fail" and context.cursor != "fail":
        context.log.warning(f"notes is stale: {res.description}")
        url = os.environ.get(WEBHOOK_ENV)
        if url:
            ok, detail = alerts.post_json(url, {"text": f"kol_pipeline: notes is stale: {res.description}"})
            context.log.info(f"alert webhook {'delivered' if ok else 'NOT delivered'}: {detail}")
    return dg.SensorResult(asset_events=[ev], cursor=state)


# -------------------------------------------------------------------------------------------------- run failure


def alert_for_failure(context: dg.RunFailureSensorContext) -> alerts.Alert:
    run = context.dagster_run
    steps = [ev.step_key for ev in context.get_step_failure_events() if ev.step_key]
    errors = []
    for ev in context.get_step_failure_events():
        err = getattr(ev.event_specific_data, "error", None)
        if err is not None:
            while err.cause is not None:  # the user's exception, not Dagster's step-error wrapper
                err = err.cause
            errors.append(f"{ev.step_key}: {err.message.strip()}")
    if not errors:
        errors.append(context.failure_event.message or "")
    return alerts.format_run_failure(
        run.run_id, run.job_name, steps, "\n".join(errors), partition=run.tags.get("dagster/partition")
    )


def send_alert(alert: alerts.Alert, logger) -> bool:
    """Log the alert; POST it when KOL_ALERT_WEBHOOK is set (the URL is logged redacted). True when delivered."""
    logger.error(alert.text)
    url = os.environ.get(WEBHOOK_ENV)
    if not url:
        return False
    ok, detail = alerts.post_json(url, alert.payload())
    (logger.info if ok else logger.warning)(f"alert webhook {'delivered' if ok else 'NOT delivered'}: {detail}")
    return ok


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="On a failed run of this code location: logs the run id, job, failed steps and error, and posts them "
    "as JSON to KOL_ALERT_WEBHOOK when set (never raises; the URL is only logged redacted).",
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    send_alert(alert_for_failure(context), context.log)
