"""Credentials come only from environment variables and never reach logs, metadata, run records, captured output or
the warehouse: a run with a password in KOL_SOURCE_DB_URL (PostgreSQL, trust auth accepts any password) and a run
whose database is unreachable, then every byte Dagster stored and printed is searched for the password."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from kol_pipeline.lib.ingest import landing as landing_lib
from kol_pipeline.lib.ingest.mediacrawler_db import write_records
from kol_pipeline_tests.integration.conftest import SAMPLE

ROOT = Path(__file__).resolve().parents[2]
START, END = date(2025, 6, 10), date(2025, 6, 11)

pytestmark = pytest.mark.integration


def _files_containing(root: Path, secret: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


def _landing(tmp_path: Path) -> Path:
    """The sample's brand and reference files, no MediaCrawler files: notes come from the database only."""
    out = tmp_path / "landing"
    if not out.exists():
        (out / "mediacrawler").mkdir(parents=True)
        for sub in ("brand", "reference"):
            (out / sub).symlink_to(SAMPLE / sub)
    return out


def _run(url: str, tmp_path: Path, name: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
    home, wh = tmp_path / f"home_{name}", tmp_path / f"wh_{name}"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOL_")}
    env.update(DAGSTER_HOME=str(home), KOL_SOURCE_DB_URL=url)
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "kol_pipeline.cli",
            "run",
            "--landing",
            str(_landing(tmp_path)),
            "--warehouse",
            str(wh),
            "--start",
            START.isoformat(),
            "--end",
            END.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=900,
    )
    return p, home, wh


def test_database_password_never_stored_or_printed(make_source_db, tmp_path):
    db = make_source_db("postgresql")  # skips, naming KOL_TEST_PG_URL, when unset
    write_records(db.engine, db.tables, landing_lib.batches_for_days(SAMPLE, START, END))
    with db.engine.connect() as c:
        schema = c.execute(sa.text("SELECT current_schema()")).scalar_one()
    secret = f"pw-{uuid.uuid4().hex}"
    url = db.engine.url.set(password=secret).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    assert secret in url_text

    ok, home, wh = _run(url_text, tmp_path, "ok")
    assert ok.returncode == 0, (ok.stdout + ok.stderr).decode(errors="replace")[-3000:]
    # the database rows were really read: their source_file is the table, not a landing file
    import pandas as pd

    notes = pd.read_parquet(wh / "notes")
    assert len(notes) > 100 and (notes["source_file"] == "db:xhs_note").all()

    # unreachable server (port 1): the run fails, and its error, retries and alert do not carry the password
    bad_url = url.set(port=1).render_as_string(hide_password=False)
    bad, bad_home, bad_wh = _run(bad_url, tmp_path, "bad")
    assert bad.returncode != 0
    out = (bad.stdout + bad.stderr).decode(errors="replace")
    assert "mediacrawler_snapshot" in out or "failed" in out.lower()

    for proc in (ok, bad):
        assert secret.encode() not in proc.stdout + proc.stderr
    for root in (home, wh, bad_home, bad_wh):
        assert _files_containing(root, secret.encode()) == [], root
    control = tmp_path / "control" / "x.bin"  # the search itself finds a planted copy
    control.parent.mkdir()
    control.write_bytes(b"\x00" + secret.encode() + b"\x00")
    assert _files_containing(tmp_path / "control", secret.encode()) == [str(control)]
    # the stored event logs were searched above as bytes (SQLite files); they do hold run and step records
    assert any(home.rglob("*.db"))
