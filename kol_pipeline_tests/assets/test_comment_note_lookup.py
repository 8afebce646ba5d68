"""A comment whose note was never crawled is kept (contract section 2); the non-blocking check
`comments_note_crawled` counts them. A note counts as crawled for a comment of day D when the run holds it on D or
an earlier day, or the warehouse holds it on one of the 120 days before the run (looked up only for the note ids
the run does not hold itself). Two scenarios through Dagster: one-day runs where a comment's note was crawled only
the day before (known), never (counted) or 121+ days before (counted); and a comments-only crawl with one note,
run through every downstream asset."""

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg

from kol_pipeline.orchestration.running import run_pipeline
from kol_pipeline.resources.io_manager import read_table

SH = timezone(timedelta(hours=8))
OLD, D1, D2 = date(2025, 3, 1), date(2025, 7, 1), date(2025, 7, 2)
CHECK = "comments_note_crawled"


def _ms(d: date, hour: int = 12) -> int:
    return int(datetime(d.year, d.month, d.day, hour, tzinfo=SH).timestamp() * 1000)


def _note(nid: str, d: date) -> dict:
    return {
        "note_id": nid,
        "user_id": "5f00000000000000000000a1",
        "type": "normal",
        "title": "t",
        "desc": "d",
        "time": _ms(d, 8),
        "last_modify_ts": _ms(d),
        "liked_count": "10",
        "collected_count": "1",
        "comment_count": "0",
        "share_count": "0",
        "tag_list": "a,b",
    }


def _comment(cid: str, nid: str, d: date, content: str = "好用吗") -> dict:
    return {
        "comment_id": cid,
        "note_id": nid,
        "content": content,
        "create_time": _ms(d, 9),
        "last_modify_ts": _ms(d),
        "user_id": "u1",
        "like_count": "1",
        "sub_comment_count": "0",
    }


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")


def _evaluations(instance: dg.DagsterInstance, name: str) -> list:
    """The evaluations of check `name` (oldest first) recorded on the instance."""
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION), ascending=True
    )
    evs = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    return [e for e in evs if e.check_name == name]


def _env(monkeypatch, landing: Path, wh: Path) -> None:
    monkeypatch.setenv("KOL_LANDING_DIR", str(landing))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(wh))
    monkeypatch.delenv("KOL_SOURCE_DB_URL", raising=False)


def test_comment_notes_looked_up_in_the_warehouse_window(tmp_path, monkeypatch):
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    mc = landing / "mediacrawler"
    _write(mc / f"search_contents_{OLD}.jsonl", [_note("n_old", OLD)])
    _write(mc / f"search_contents_{D1}.jsonl", [_note("n1", D1)])
    _write(mc / f"search_contents_{D2}.jsonl", [_note("n2", D2)])
    _write(
        mc / f"search_comments_{D2}.jsonl",
        [_comment("c1", "n1", D2), _comment("c2", "n2", D2), _comment("c3", "n9", D2), _comment("c4", "n_old", D2)],
    )
    _env(monkeypatch, landing, wh)
    instance = dg.DagsterInstance.ephemeral()
    for d in (OLD, D1, D2):  # one run per day: D2's run holds only n2 itself
        s = run_pipeline(
            [(d, d)], str(wh), progress=lambda m: None, instance=instance, landing=landing, downstream_days=set()
        )
        assert s.exit_code == 0, s.render(0)
    comments = read_table(str(wh), "comments")
    assert sorted(comments["comment_id"]) == ["c1", "c2", "c3", "c4"]
    q = read_table(str(wh), "quarantine")
    assert len(q) == 0
    ev = _evaluations(instance, CHECK)[-1]  # D2's run (the only one with comments)
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.WARN
    assert ev.metadata["comments_on_uncrawled_notes"].value == 2
    assert ev.metadata["uncrawled_notes"].value == 2
    assert ev.metadata["example_note_ids"].value == "n9, n_old"
    assert s.warned_checks == [f"comments:{CHECK}"]


def test_comments_only_crawl_is_kept_and_counted(tmp_path, monkeypatch):
    """A comments-only file (5 comments on 3 never-crawled notes) beside one note with one comment of its own:
    every comment is kept, nothing is quarantined, the warn check counts 5 on 3 notes, and the whole pipeline
    (metrics, marts, reports) runs; the note's own comment alone makes its metrics."""
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    mc = landing / "mediacrawler"
    _write(mc / f"search_contents_{D1}.jsonl", [_note("n1", D1)])
    _write(mc / f"search_comments_{D1}.jsonl", [_comment("c0", "n1", D1, "我用了一个月，皮肤真的变好了")])
    _write(
        mc / f"detail_comments_{D1}.jsonl",
        [
            _comment("x1", "m1", D1),
            _comment("x2", "m1", D1, "沙发"),
            _comment("x3", "m2", D1),
            _comment("x4", "m3", D1),
            _comment("x5", "m3", D1, "求链接"),
        ],
    )
    _env(monkeypatch, landing, wh)
    instance = dg.DagsterInstance.ephemeral()
    s = run_pipeline([(D1, D1)], str(wh), progress=lambda m: None, instance=instance, landing=landing)
    assert s.exit_code == 0 and not s.failed_runs and not s.failed_checks, s.render(0)
    comments = read_table(str(wh), "comments")
    assert sorted(comments["comment_id"]) == ["c0", "x1", "x2", "x3", "x4", "x5"]
    q = read_table(str(wh), "quarantine")
    assert len(q) == 0
    ev = _evaluations(instance, CHECK)[-1]
    assert not ev.passed and ev.severity == dg.AssetCheckSeverity.WARN
    assert ev.metadata["comments_on_uncrawled_notes"].value == 5
    assert ev.metadata["uncrawled_notes"].value == 3
    assert ev.metadata["example_note_ids"].value == "m1, m2, m3"
    assert f"comments:{CHECK}" in s.warned_checks
    suite = _evaluations(instance, "comments_suite")[-1]
    assert suite.passed  # 6 read, 0 quarantined
    nm = read_table(str(wh), "note_metrics")
    assert list(nm["note_id"]) == ["n1"]
    assert nm["substantive_comment_share"].tolist() == [1.0]  # c0 only: the orphans' notes are not n1
    sc = read_table(str(wh), "creator_scorecard")
    assert list(sc["user_id"]) == ["5f00000000000000000000a1"]
    assert sc["comments_90d"].tolist() == [1]
