"""The bad-input corpus (kol_pipeline_tests/fixtures/bad_inputs, listed in cases.json) through the real reading and
cleaning code: each case's expected outcome (quarantine reason, file note, value, failed check or error) and the
row accounting read = kept + duplicates + quarantined for every file.

docs/ingestion.md has the outcomes table; make_corpus.py in the fixture folder writes the files.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib.ingest import brand as brand_lib
from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.lib.ingest.readers import read_records
from kol_pipeline.lib.quality import validation as val

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad_inputs"
CASES: list[dict[str, Any]] = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
BY_RUNNER = {r: [c for c in CASES if c["runner"] == r] for r in {c["runner"] for c in CASES}}
NOW = datetime.fromisoformat("2025-03-13T04:00:00+00:00")  # the corpus' "today" unless a case says otherwise


def _plain(v: Any) -> Any:
    """A table value as the JSON-ish value cases.json states."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _check_values(frame: pd.DataFrame, values: list[dict], label: str) -> None:
    for v in values:
        sel = pd.Series(True, index=frame.index)
        for col, want in v["where"].items():
            sel &= frame[col].map(_plain) == want
        rows = frame[sel]
        assert len(rows) == 1, f"{label}: {v['where']} matches {len(rows)} rows"
        got = _plain(rows[v["column"]].iloc[0])
        assert got == v["equals"], f"{label}: {v['column']} of {v['where']} is {got!r}, expected {v['equals']!r}"


def _check_quarantine(q: pd.DataFrame, expected: list[dict], label: str, exact: bool = True) -> None:
    for e in expected:
        hit = q[(q["source_file"] == e["file"]) & (q["record_number"] == e["record_number"])]
        assert len(hit) == 1, f"{label}: no quarantine row for {e['file']} record {e['record_number']}:\n{q}"
        assert e["reason"] in hit["reason"].iloc[0], f"{label}: reason {hit['reason'].iloc[0]!r} lacks {e['reason']!r}"
    if exact:
        assert len(q) == len(expected), f"{label}: {len(q)} quarantine rows, expected {len(expected)}:\n{q}"


def _run_ingest(case: dict, batches: list, start: date | None = None, end: date | None = None) -> ingest.IngestResult:
    now = datetime.fromisoformat(case["now"]) if "now" in case else NOW
    return ingest.ingest_batches(batches, ingest.IngestContext(now=now), start, end)


def _check_ingest(case: dict, res: ingest.IngestResult, batches: list) -> None:
    label, exp = case["id"], case["expect"]
    acc = res.accounting
    per_file = acc.groupby("source_file")[["read", "kept", "duplicates", "quarantined"]].sum() if len(acc) else None
    # the identity, for every file of every case
    if per_file is not None:
        bad = per_file[per_file["read"] != per_file["kept"] + per_file["duplicates"] + per_file["quarantined"]]
        assert bad.empty, f"{label}: accounting does not add up:\n{bad}"
    readable = {fr.path: fr for _, fr in batches}
    for f, want in exp["files"].items():
        got = per_file.loc[f].to_dict() if per_file is not None and f in per_file.index else dict.fromkeys(want, 0)
        assert {k: int(v) for k, v in got.items()} == want, f"{label}: accounting of {f} is {got}, expected {want}"
        # rows read = records parsed + record-level problems (record 0 = a whole unreadable file, not a row)
        fr = readable[f]
        assert want["read"] == len(fr.records) + sum(p.record_number > 0 for p in fr.problems), label
        # the kept rows are really in the tables
        kept = sum(int((t["source_file"] == f).sum()) for t in (res.notes, res.creators) if len(t)) + (
            int(len(res.comments)) if f in set(acc.loc[acc["kind"] == "comments", "source_file"]) else 0
        )
        assert kept == want["kept"], f"{label}: {kept} rows of {f} in the tables, expected {want['kept']}"
    q = res.quarantine
    if "quarantine_count" in exp:
        assert len(q) == exp["quarantine_count"], label
        _check_quarantine(q, exp["quarantine"], label, exact=False)
    else:
        _check_quarantine(q, exp["quarantine"], label)
    for _, row in q.iterrows():  # every quarantine row is traceable: raw JSON (or empty for a whole file) and a day
        assert row["source"] in ("notes", "comments", "creators"), label
        if row["record_number"] > 0 and row["raw"]:
            if row["reason"].startswith(("malformed", "truncated")):
                continue  # the raw text of a damaged record is not JSON by definition
            json.loads(row["raw"])
        assert row["snapshot_date"] is not None, f"{label}: quarantine row without a day"
    for f, note in exp.get("file_notes", {}).items():
        assert any(note in n for n in res.file_notes.get(f, [])), f"{label}: file notes {res.file_notes}"
    for v in exp.get("values", []):
        _check_values(res.table(v["table"]), [v], label)
    for rule in exp.get("day_rules", []):
        day = date.fromisoformat(rule["day"])
        sub = acc[(acc["kind"] == rule["table"]) & (acc["snapshot_date"] == day)]
        outcome = val.quarantine_rule(int(sub["read"].sum()), int(sub["quarantined"].sum()), val.ValidationSettings())
        assert [(o.name, o.severity, o.success) for o in outcome] == [
            (rule["rule"], rule["severity"], rule["success"])
        ], label
    for v in exp.get("validation", []):
        frame = res.table(v["table"])
        if v.get("mutate") == "duplicate_first_row":
            frame = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
        report = val.validate_table(v["table"], frame)
        o = report.outcome(v["rule"])
        assert (o.severity, o.success) == (v["severity"], v["success"]), f"{label}: {o}"
        assert report.passed == v["success"], label


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 25
    assert len({c["id"] for c in CASES}) == len(CASES)
    for c in CASES:
        assert (CORPUS / c["id"]).is_dir(), c["id"]
        assert c["description"] and c["expect"], c["id"]


@pytest.mark.parametrize("case", BY_RUNNER["ingest"], ids=lambda c: c["id"])
def test_mediacrawler_case(case: dict) -> None:
    folder = CORPUS / case["id"]
    batches = ingest.file_batches(folder)
    assert batches, f"{case['id']}: no MediaCrawler file found"
    # read_records on each file gives the same records as the batch (file_batches is read_records per file)
    for kind, fr in batches:
        again = read_records(folder / fr.path, fr.path)
        assert (len(again.records), len(again.problems)) == (len(fr.records), len(fr.problems))
    _check_ingest(case, _run_ingest(case, batches), batches)


def test_mediacrawler_cases_in_one_run() -> None:
    """All the MediaCrawler cases together (as one landing folder would be): the totals are the sums of the cases,
    so one bad file never changes what happens to another file's rows (comments excepted: they need their notes,
    which their own case carries)."""
    batches, want = [], {"read": 0, "kept": 0, "duplicates": 0, "quarantined": 0}
    for case in BY_RUNNER["ingest"]:
        for kind, fr in ingest.file_batches(CORPUS / case["id"]):
            fr.path = f"{case['id']}/{fr.path}"
            batches.append((kind, fr))
        for a in case["expect"]["files"].values():
            for k in want:
                want[k] += a[k]
    res = _run_ingest({"now": "2025-03-12T04:00:00+00:00"}, batches)
    got = {k: int(res.accounting[k].sum()) for k in want}
    # the cases' notes share ids across folders: same (id, day) in two cases becomes a duplicate here
    assert got["read"] == want["read"] and got["quarantined"] == want["quarantined"]
    assert got["kept"] + got["duplicates"] == want["kept"] + want["duplicates"]
    assert got["kept"] == len(res.notes) + len(res.creators) + len(res.comments)


@pytest.mark.parametrize("case", BY_RUNNER["db"], ids=lambda c: c["id"])
def test_database_case(case: dict, tmp_path: Path) -> None:
    sa = pytest.importorskip("sqlalchemy")
    tables = json.loads((CORPUS / case["id"] / "db_rows.json").read_text(encoding="utf-8"))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'mediacrawler.db'}")
    for name, rows in tables.items():
        # MediaCrawler's schema: counts are varchar, times bigint
        pd.DataFrame(rows).to_sql(name, engine, index=False)
    start, end = date.fromisoformat(case["start"]), date.fromisoformat(case["end"])
    batches = ingest.db_batches(engine, start, end)
    engine.dispose()
    res = _run_ingest(case, batches, start, end)
    _check_ingest(case, res, batches)


@pytest.mark.parametrize("case", BY_RUNNER["brand"] + BY_RUNNER["search_rankings"], ids=lambda c: c["id"])
def test_brand_case(case: dict) -> None:
    folder, exp, label = CORPUS / case["id"], case["expect"], case["id"]
    if "error" in exp:
        with pytest.raises(ValueError, match=exp["error"]):
            brand_lib.read_brand_table(folder, case["table"])
        return
    if case["runner"] == "brand":
        t = brand_lib.read_brand_table(folder, case["table"])
    else:
        t = brand_lib.read_search_rankings(folder, case["days"])
    a = t.accounting
    assert a["read"] == a["kept"] + a["duplicates"] + a["quarantined"], label
    assert a == exp["accounting"], f"{label}: {a}"
    assert len(t.frame) == a["kept"]
    rej = t.rejects
    assert len(rej) == len(exp["rejects"]), f"{label}:\n{rej}"
    for e in exp["rejects"]:
        hit = rej[(rej["source_file"] == e["file"]) & (rej["record_number"] == e["record_number"])]
        assert len(hit) == 1 and e["reason"] in hit["reason"].iloc[0], f"{label}:\n{rej}"
        assert json.loads(hit["raw"].iloc[0])  # the original row as JSON
    _check_values(t.frame, exp.get("values", []), label)
    if "ranks" in exp:
        assert sorted(t.frame["rank"].astype(int).tolist()) == exp["ranks"]
    for v in exp.get("validation", []):
        o = val.validate_table(v["table"], t.frame).outcome(v["rule"])
        assert (o.severity, o.success) == (v["severity"], v["success"]), f"{label}: {o}"
