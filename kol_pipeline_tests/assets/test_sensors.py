"""Sensors of kol_pipeline/defs/sensors.py on a tmp landing folder, the notes freshness check, the run-failure alert."""

import json
import os
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kol_pipeline.defs import sensors
from kol_pipeline.resources.settings import KolSettings
from kol_pipeline.resources.warehouse import Warehouse


def _ms(y, mo, d, h, mi=0) -> int:
    """Epoch ms of a UTC wall time."""
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp() * 1000)


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _note(nid: str, ts: int) -> dict:
    return {
        "note_id": nid,
        "user_id": "u1",
        "title": "t",
        "liked_count": "1",
        "collected_count": "0",
        "comment_count": "0",
        "share_count": "0",
        "time": ts - 3_600_000,
        "last_modify_ts": ts,
    }


@pytest.fixture()
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    mc = root / "mediacrawler" / "crawler_a"
    # 2025-03-01 04:00 UTC = 12:00 Shanghai (03-01); 2025-03-01 16:30 UTC = 00:30 Shanghai on 03-02
    _write(
        mc / "creator_contents_2025-03-01.jsonl",
        [_note("n1", _ms(2025, 3, 1, 4)), _note("n2", _ms(2025, 3, 1, 16, 30))],
    )
    _write(
        mc / "creator_creator_2025-03-05.jsonl",
        [{"user_id": "u1", "nickname": "a", "fans": "100", "last_modify_ts": _ms(2025, 3, 5, 2)}],
    )
    (root / "brand").mkdir()
    (root / "brand" / "search_rankings_2025-03-07.csv").write_text(
        "keyword,rank,note_id\n面霜,1,n1\n", encoding="utf-8"
    )
    return root


def _tick(landing: Path, cursor: str | None, tmp_path: Path):
    ctx = dg.build_sensor_context(
        cursor=cursor,
        resources={
            "settings": KolSettings(landing_dir=str(landing)),
            "warehouse": Warehouse(base_path=str(tmp_path / "wh")),
        },
    )
    res = sensors.landing_sensor(ctx)
    return res, res.cursor


def _days(res) -> list[str]:
    return sorted(r.partition_key for r in (res.run_requests or []))


def test_landing_sensor_requests_exactly_the_changed_days(landing, tmp_path):
    res, cur = _tick(landing, None, tmp_path)
    # first tick: every day found (Shanghai days of the records, the search_rankings file's day)
    assert _days(res) == ["2025-03-01", "2025-03-02", "2025-03-05", "2025-03-07"]
    assert all(r.job_name in (None, "daily_job") for r in res.run_requests)
    keys = {r.partition_key: r.run_key for r in res.run_requests}
    assert all(k.startswith(d + ":") for d, k in keys.items())
    files = json.loads(cur)["files"]
    assert set(files) == {
        "mediacrawler/crawler_a/creator_contents_2025-03-01.jsonl",
        "mediacrawler/crawler_a/creator_creator_2025-03-05.jsonl",
        "brand/search_rankings_2025-03-07.csv",
    }
    assert files["mediacrawler/crawler_a/creator_contents_2025-03-01.jsonl"][3] == ["2025-03-01", "2025-03-02"]

    # nothing changed: nothing requested
    res2, cur2 = _tick(landing, cur, tmp_path)
    assert not res2.run_requests and cur2 == cur

    # the same content delivered again (new mtime): the cursor moves, nothing is re-run
    p = landing / "mediacrawler" / "crawler_a" / "creator_contents_2025-03-01.jsonl"
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    res3, cur3 = _tick(landing, cur2, tmp_path)
    assert not res3.run_requests
    assert json.loads(cur3)["files"][p.relative_to(landing).as_posix()][1] == st.st_mtime_ns + 5_000_000_000

    # a new file for a new day: exactly that day
    _write(
        landing / "mediacrawler" / "crawler_b" / "creator_contents_2025-03-10.jsonl", [_note("n9", _ms(2025, 3, 10, 3))]
    )
    res4, cur4 = _tick(landing, cur3, tmp_path)
    assert _days(res4) == ["2025-03-10"]

    # a changed file: the days of its old and new content, with new run keys
    _write(p, [_note("n1", _ms(2025, 3, 1, 4)), _note("n3", _ms(2025, 3, 3, 1))])  # 03-02's record gone, 03-03 new
    res5, cur5 = _tick(landing, cur4, tmp_path)
    assert _days(res5) == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert {r.partition_key: r.run_key for r in res5.run_requests}["2025-03-01"] != keys["2025-03-01"]

    # a deleted file: the days it had
    (landing / "brand" / "search_rankings_2025-03-07.csv").unlink()
    res6, _ = _tick(landing, cur5, tmp_path)
    assert _days(res6) == ["2025-03-07"]


def test_run_keys_are_deterministic(landing, tmp_path):
    a, _ = _tick(landing, None, tmp_path)
    b, _ = _tick(landing, None, tmp_path)
    assert [r.run_key for r in a.run_requests] == [r.run_key for r in b.run_requests]
    assert len({r.run_key for r in a.run_requests}) == 4


def test_first_tick_is_capped_to_the_newest_30_days(tmp_path):
    root = tmp_path / "landing"
    start = date(2025, 1, 1)
    for k in range(35):
        d = start + timedelta(days=k)
        _write(root / "mediacrawler" / f"creator_contents_{d}.jsonl", [_note(f"n{k}", _ms(d.year, d.month, d.day, 3))])
    res, cur = _tick(root, None, tmp_path)
    assert _days(res) == [(start + timedelta(days=k)).isoformat() for k in range(5, 35)]
    assert len(json.loads(cur)["files"]) == 35  # every file is in the cursor: the older days are not requested later
    res2, _ = _tick(root, cur, tmp_path)
    assert not res2.run_requests


def test_missing_landing_folder_skips(tmp_path):
    res, _ = _tick(tmp_path / "nope", None, tmp_path)
    assert not res.run_requests and "does not exist" in str(res.skip_reason)


# ------------------------------------------------------------------------------------------------- freshness


def _notes_partition(wh: Path, day: date) -> None:
    d = wh / "notes" / f"snapshot_date={day.isoformat()}"
    d.mkdir(parents=True)
    pq.write_table(pa.table({"note_id": ["n1"]}), d / "part-0.parquet")


def test_freshness_result_boundaries():
    # partition 2025-03-01 ends 2025-03-02 00:00 Shanghai = 2025-03-01 16:00 UTC; 36 h later = 03-03 04:00 UTC
    at = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)
    ok = sensors.freshness_result(["2025-02-20", "2025-03-01"], at)
    assert (
        ok.passed and ok.metadata["newest_partition"].value == "2025-03-01" and ok.metadata["age_hours"].value == 36.0
    )
    late = sensors.freshness_result(["2025-03-01"], at + timedelta(minutes=1))
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    assert not sensors.freshness_result([], at).passed


def test_notes_freshness_check_warns_on_stale_and_passes_fresh(tmp_path):
    today = datetime.now(UTC).astimezone(sensors.SHANGHAI).date()
    for name, day, expect in (("stale", today - timedelta(days=3), False), ("fresh", today, True)):
        wh = tmp_path / name
        _notes_partition(wh, day - timedelta(days=10))
        _notes_partition(wh, day)
        warehouse = Warehouse(base_path=str(wh))
        res = sensors.notes_freshness(dg.build_asset_check_context(resources={"warehouse": warehouse}))
        assert res.passed is expect, name
        assert res.metadata["newest_partition"].value == day.isoformat()
        assert res.severity == dg.AssetCheckSeverity.WARN


def test_freshness_sensor_reports_the_check_without_a_run(tmp_path):
    wh = tmp_path / "wh"
    _notes_partition(wh, date(2025, 3, 1))
    ctx = dg.build_sensor_context(resources={"warehouse": Warehouse(base_path=str(wh))})
    res = sensors.notes_freshness_sensor(ctx)
    (ev,) = res.asset_events
    assert isinstance(ev, dg.AssetCheckEvaluation)
    assert ev.check_name == "notes_freshness" and ev.asset_key == dg.AssetKey("notes") and ev.passed is False
    assert res.cursor == "fail" and not res.run_requests


# ------------------------------------------------------------------------------------------------ run failure


def test_run_failure_sensor_logs_and_posts(monkeypatch, caplog):
    received: list[dict] = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setenv("KOL_ALERT_WEBHOOK", f"http://127.0.0.1:{srv.server_port}/hook?token=s3cret")

    @dg.op
    def fine():
        return 1

    @dg.op
    def explode(x):
        raise ValueError(f"bad input {x} from postgresql://kol:pw123@db/mc")

    @dg.job
    def failing():
        explode(fine())

    instance = dg.DagsterInstance.ephemeral()
    result = failing.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = [
        e.dagster_event
        for e in instance.all_logs(result.run_id)
        if e.dagster_event is not None and e.dagster_event.event_type == dg.DagsterEventType.RUN_FAILURE
    ][0]
    ctx = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=failure, dagster_instance=instance, dagster_run=run
    ).for_run_failure()
    try:
        alert = sensors.alert_for_failure(ctx)
        assert alert.run_id == result.run_id and alert.job_name == "failing"
        assert alert.failed_steps == ("explode",)
        assert "ValueError" in alert.error and "bad input 1" in alert.error and "pw123" not in alert.error
        with caplog.at_level("INFO"):
            assert sensors.send_alert(alert, __import__("logging").getLogger("t")) is True
    finally:
        srv.shutdown()
        srv.server_close()
    assert received == [alert.payload()]
    assert "s3cret" not in caplog.text and "pw123" not in caplog.text and result.run_id in caplog.text


def test_first_tick_leaves_out_days_already_in_the_warehouse(landing, tmp_path):
    """After `kol-pipeline run` or a backfill, turning the sensor on does not re-run what the warehouse holds."""
    wh = tmp_path / "wh"
    _notes_partition(wh, date(2025, 3, 1))
    d = wh / "search_rankings" / "snapshot_date=2025-03-07"
    d.mkdir(parents=True)
    pq.write_table(pa.table({"keyword": ["面霜"]}), d / "part-0.parquet")
    res, cur = _tick(landing, None, tmp_path)
    assert _days(res) == ["2025-03-02", "2025-03-05"]
    res2, _ = _tick(landing, cur, tmp_path)  # the skipped days are in the cursor: not requested later either
    assert not res2.run_requests


def test_landing_sensor_watches_the_mediacrawler_database(tmp_path, monkeypatch):
    import sqlalchemy as sa

    from kol_pipeline_tests.fixtures.mediacrawler_schema import build_metadata, tables_by_kind

    url = f"sqlite:///{tmp_path / 'mc.db'}"
    engine = sa.create_engine(url)
    md = build_metadata(strict=False)
    md.create_all(engine)
    note = tables_by_kind(md)["notes"]
    monkeypatch.setenv("KOL_SOURCE_DB_URL", url)
    landing = tmp_path / "landing"
    _write(landing / "mediacrawler" / "creator_contents_2025-03-01.jsonl", [_note("n1", _ms(2025, 3, 1, 4))])

    res, cur = _tick(landing, None, tmp_path)
    assert _days(res) == ["2025-03-01"] and json.loads(cur)["db"] == {}

    def add(nid: str, ts: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                note.insert(),
                [{"note_id": nid, "user_id": "u1", "time": ts - 3_600_000, "last_modify_ts": ts, "liked_count": "1"}],
            )

    add("n2", _ms(2025, 3, 3, 2))  # rows arrive in the database for 03-03 only
    res2, cur2 = _tick(landing, cur, tmp_path)
    assert _days(res2) == ["2025-03-03"]
    assert list(json.loads(cur2)["db"]) == ["2025-03-03"]
    res3, cur3 = _tick(landing, cur2, tmp_path)  # nothing new
    assert not res3.run_requests
    add("n3", _ms(2025, 3, 3, 5))  # more rows on the same day: re-run it, with a new run key
    res4, _ = _tick(landing, cur3, tmp_path)
    assert _days(res4) == ["2025-03-03"] and res4.run_requests[0].run_key != res2.run_requests[0].run_key
    engine.dispose()
    # the URL (which may hold a password) is never in the cursor or the run requests
    assert url not in cur3 and all(url not in str(r.tags) for r in res4.run_requests)


def test_db_fingerprints_parse_a_text_crawl_time_like_the_ingestion(tmp_path):
    """A text last_modify_ts (a table loaded from CSV) goes through lib.parsing's epoch rules: seconds are scaled,
    unusable values belong to no day."""
    import sqlalchemy as sa

    from kol_pipeline.lib.ingest import source_watch

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'mc.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE xhs_note (note_id TEXT, last_modify_ts TEXT)"))
        conn.execute(
            sa.text("INSERT INTO xhs_note VALUES (:n, :t)"),
            [
                {"n": "a", "t": str(_ms(2025, 3, 1, 4))},
                {"n": "b", "t": str(_ms(2025, 3, 1, 5) // 1000)},
                {"n": "c", "t": "not a time"},
                {"n": "d", "t": str(_ms(2025, 3, 1, 16, 30))},
            ],
        )
    fps = source_watch.db_day_fingerprints(engine)
    engine.dispose()
    assert sorted(fps) == ["2025-03-01", "2025-03-02"]
    assert fps["2025-03-01"].split(":")[:3] == ["xhs_note", "2", str(_ms(2025, 3, 1, 5))]
