"""The production instance config (deploy/dagster.yaml): Dagster's run and event storage on PostgreSQL."""

import os
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from kol_pipeline.lib.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("KOL_TEST_PG_URL")


@pytest.fixture
def pg_database():
    if not PG:
        pytest.skip(
            "KOL_TEST_PG_URL is not set (a PostgreSQL server URL, e.g. postgresql+psycopg2://postgres@127.0.0.1:5432/test)"
        )
    import sqlalchemy as sa

    name = f"kol_dagster_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))  # name is generated here, not input
    url = sa.engine.make_url(PG).set(database=name, drivername="postgresql")
    yield url.render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_pipeline_runs_land_in_postgres_storage(tmp_path, pg_database):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    landing, wh = tmp_path / "landing", tmp_path / "wh"
    simulate(landing, creators=5, days=14, seed=2, end_date=date(2025, 4, 30), brand_files=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOL_")}
    env.update(DAGSTER_HOME=str(home), KOL_DAGSTER_PG_URL=pg_database)
    p = subprocess.run(
        [sys.executable, "-m", "kol_pipeline.cli", "run", "--landing", str(landing), "--warehouse", str(wh)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert pg_database.split("@")[-1] not in p.stdout  # the URL (credentials) is never printed

    import dagster as dg

    os.environ["KOL_DAGSTER_PG_URL"] = pg_database
    try:
        with dg.DagsterInstance.from_config(str(home)) as inst:
            assert type(inst.run_storage).__name__ == "PostgresRunStorage"
            assert type(inst.event_log_storage).__name__ == "PostgresEventLogStorage"
            runs = inst.get_runs()
            assert {r.job_name for r in runs} == {"brand_job", "ingest_job", "downstream_job"}
            assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
            mats = inst.fetch_materializations(dg.AssetKey("notes"), limit=100).records
            assert len(mats) >= 14
    finally:
        del os.environ["KOL_DAGSTER_PG_URL"]
    # and no local SQLite storage was created (home/storage holds only captured compute logs)
    assert not list(home.rglob("*.db")) and not (home / "history").exists()
