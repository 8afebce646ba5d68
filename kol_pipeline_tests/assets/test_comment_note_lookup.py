"""A comment's note must be known: from the same run's notes, or from the warehouse's notes of the 120 days
before the run (looked up only for the note ids the run does not hold itself). Two one-day runs through Dagster:
the second day's comment on a note crawled only the day before is kept, one on a never-crawled note is
quarantined, one on a note crawled only 121+ days before is quarantined too."""

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg

from kol_pipeline.orchestrate import run_pipeline
from kol_pipeline.resources.io_manager import read_table

SH = timezone(timedelta(hours=8))
OLD, D1, D2 = date(2025, 3, 1), date(2025, 7, 1), date(2025, 7, 2)


def _ms(d: date, hour: int = 12) -> int:
    return int(datetime(d.year, d.month, d.day, hour, tzinfo=SH).timestamp() * 1000)


def _note(nid: str, d: date) -> dict:
    return {"note_id": nid, "user_id": "5f00000000000000000000a1", "type": "normal", "title": "t", "desc": "d",
            "time": _ms(d, 8), "last_modify_ts": _ms(d), "liked_count": "10", "collected_count": "1",
            "comment_count": "0", "share_count": "0", "tag_list": "a,b"}


def _comment(cid: str, nid: str, d: date) -> dict:
    return {"comment_id": cid, "note_id": nid, "content": "好用吗", "create_time": _ms(d, 9),
            "last_modify_ts": _ms(d), "user_id": "u1", "like_count": "1", "sub_comment_count": "0"}


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")


def test_comment_notes_looked_up_in_the_warehouse_window(tmp_path, monkeypatch):
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    mc = landing / "mediacrawler"
    _write(mc / f"search_contents_{OLD}.jsonl", [_note("n_old", OLD)])
    _write(mc / f"search_contents_{D1}.jsonl", [_note("n1", D1)])
    _write(mc / f"search_contents_{D2}.jsonl", [_note("n2", D2)])
    _write(mc / f"search_comments_{D2}.jsonl", [_comment("c1", "n1", D2), _comment("c2", "n2", D2),
                                                _comment("c3", "n9", D2), _comment("c4", "n_old", D2)])
    monkeypatch.setenv("KOL_LANDING_DIR", str(landing))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(wh))
    monkeypatch.delenv("KOL_SOURCE_DB_URL", raising=False)
    instance = dg.DagsterInstance.ephemeral()
    for d in (OLD, D1, D2):  # one run per day: D2's run holds only n2 itself
        s = run_pipeline([(d, d)], str(wh), progress=lambda m: None, instance=instance, landing=landing,
                         downstream_days=set())
        assert s.exit_code == 0, s.render(0)
    comments = read_table(str(wh), "comments")
    assert sorted(comments["comment_id"]) == ["c1", "c2"]
    q = read_table(str(wh), "quarantine")
    q = q[q["source_file"].str.contains("comments")]
    assert sorted(zip(q["record_number"], q["reason"])) == [(3, "comment on unknown note"),
                                                           (4, "comment on unknown note")]
