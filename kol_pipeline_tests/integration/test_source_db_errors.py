"""Issue #24 point 7: `kol-pipeline run` with an unusable KOL_SOURCE_DB_URL (a database that does not exist, a
wrong port, an unparseable URL, a missing driver) prints one line naming the URL with its password masked and the
database's own message, and exits 2 (unusable input), without a traceback.

PostgreSQL and MariaDB come from KOL_TEST_PG_URL / KOL_TEST_MYSQL_URL (only their host and port are used: the
database named is one that does not exist); the tests needing one skip, naming the variable, when it is unset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


def _server(var: str) -> sa.URL:
    raw = os.environ.get(var)
    if not raw:
        pytest.skip(f"{var} is not set: no server to point a wrong KOL_SOURCE_DB_URL at")
    return sa.make_url(raw)


def _run(url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOL_")}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    env["KOL_SOURCE_DB_URL"] = url
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kol_pipeline.cli",
            "run",
            "--landing",
            str(SAMPLE),
            "--warehouse",
            str(tmp_path / "wh"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_error_line(p: subprocess.CompletedProcess, masked: str, own_message: str) -> str:
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    assert "Traceback" not in out and "s3cret" not in out, out
    lines = [x for x in out.splitlines() if x.strip()]
    errors = [x for x in lines if "error:" in x]
    assert len(errors) == 1 and len(lines) == 1, out
    line = errors[0]
    assert line.startswith("error: ") and masked in line and "***" in line, line
    assert own_message in line, line
    return line


def test_postgres_database_that_does_not_exist(tmp_path):
    srv = _server("KOL_TEST_PG_URL")
    url = f"postgresql+psycopg2://postgres:s3cret@{srv.host}:{srv.port or 5432}/no_such_db_kol"
    _one_error_line(
        _run(url, tmp_path),
        f"postgresql+psycopg2://postgres:***@{srv.host}:{srv.port or 5432}/no_such_db_kol",
        'database "no_such_db_kol" does not exist',
    )


def test_postgres_wrong_port(tmp_path):
    srv = _server("KOL_TEST_PG_URL")
    url = f"postgresql+psycopg2://postgres:s3cret@{srv.host}:1/test"
    _one_error_line(_run(url, tmp_path), f"postgresql+psycopg2://postgres:***@{srv.host}:1/test", "Connection refused")


def test_mariadb_database_that_does_not_exist(tmp_path):
    srv = _server("KOL_TEST_MYSQL_URL")
    url = f"mysql+pymysql://root:s3cret@{srv.host}:{srv.port or 3306}/no_such_db_kol"
    line = _one_error_line(
        _run(url, tmp_path), f"mysql+pymysql://root:***@{srv.host}:{srv.port or 3306}/no_such_db_kol", ""
    )
    # root with a password it does not have: the server refuses the login before it looks at the database
    assert "Access denied" in line or "Unknown database 'no_such_db_kol'" in line, line


def test_mariadb_unknown_database_without_password(tmp_path):
    srv = _server("KOL_TEST_MYSQL_URL")
    user = srv.username or "root"
    url = f"mysql+pymysql://{user}@{srv.host}:{srv.port or 3306}/no_such_db_kol"
    p = _run(url, tmp_path)
    out = p.stdout + p.stderr
    assert p.returncode == 2 and "Traceback" not in out, out
    assert [x for x in out.splitlines() if x.strip()] == [
        f"error: source database (KOL_SOURCE_DB_URL) {url} is not usable: (1049, \"Unknown database 'no_such_db_kol'\")"
    ]


def test_mariadb_wrong_port(tmp_path):
    srv = _server("KOL_TEST_MYSQL_URL")
    url = f"mysql+pymysql://root:s3cret@{srv.host}:1/test"
    _one_error_line(_run(url, tmp_path), f"mysql+pymysql://root:***@{srv.host}:1/test", "Can't connect to MySQL server")


def test_unparseable_url_and_missing_driver(tmp_path):
    """No server needed: the URL is refused before any connection."""
    _one_error_line(
        _run("postgresql+psycopg2://postgres:s3cret@127.0.0.1:notaport/db", tmp_path),
        "postgresql+psycopg2://postgres:***@127.0.0.1:notaport/db",
        "",
    )
    _one_error_line(
        _run("nosuchdialect://u:s3cret@h/db", tmp_path),
        "nosuchdialect://u:***@h/db",
        "Can't load plugin: sqlalchemy.dialects:nosuchdialect",
    )
    _one_error_line(
        _run("postgresql+nosuchdriver://u:s3cret@h/db", tmp_path),
        "postgresql+nosuchdriver://u:***@h/db",
        "Can't load plugin: sqlalchemy.dialects:postgresql.nosuchdriver",
    )
