"""Fixtures for the database-source tests: fresh MediaCrawler databases on SQLite, PostgreSQL and MariaDB.

PostgreSQL and MariaDB come from KOL_TEST_PG_URL (e.g. postgresql+psycopg2://postgres@127.0.0.1:5432/test) and
KOL_TEST_MYSQL_URL (mysql+pymysql://root@127.0.0.1:3306/test); a test needing one skips, naming the variable, when
it is unset. Each fixture works in a database of its own, made for the test session and dropped afterwards: a
schema `kol_test_<random>` on PostgreSQL (search_path points at it), a database `kol_test_<random>` (utf8mb4) on
MariaDB/MySQL, a file under tmp_path on SQLite. So concurrent sessions (pytest-xdist workers, CI jobs sharing a
server) never see each other's tables, and the URLs' own databases are left untouched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from kol_pipeline.lib.ingest import landing
from kol_pipeline.lib.ingest.mediacrawler_db import WriteReport, write_records
from kol_pipeline.lib.ingest.readers import FileRecords
from kol_pipeline_tests.fixtures.mediacrawler_schema import build_metadata, tables_by_kind

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
ALL_DAYS = (date(2000, 1, 1), date(2100, 1, 1))
BACKENDS = ("sqlite", "postgresql", "mariadb")
URL_VARS = {"postgresql": "KOL_TEST_PG_URL", "mariadb": "KOL_TEST_MYSQL_URL"}


@dataclass
class SourceDB:
    """A fresh MediaCrawler database: its engine, a URL for KOL_SOURCE_DB_URL (sqlite only), its tables."""

    backend: str
    engine: sa.Engine
    tables: dict[str, sa.Table]
    url: str | None = None
    report: WriteReport | None = None


def _server_url(backend: str) -> sa.URL:
    var = URL_VARS[backend]
    raw = os.environ.get(var)
    if not raw:
        pytest.skip(
            f"{var} is not set: no {backend} server to test against (e.g. {var}="
            + (
                "postgresql+psycopg2://postgres@127.0.0.1:5432/test)"
                if backend == "postgresql"
                else "mysql+pymysql://root@127.0.0.1:3306/test)"
            )
        )
    return sa.make_url(raw)


def _fresh(backend: str, tmp_dir: Path, cleanups: list[Callable[[], None]]) -> tuple[sa.Engine, str | None]:
    name = f"kol_test_{uuid.uuid4().hex[:12]}"  # generated here: safe as an identifier (DDL takes no parameters)
    if backend == "sqlite":
        path = tmp_dir / f"{name}.db"
        url = f"sqlite:///{path}"
        engine = sa.create_engine(url)
        cleanups.append(engine.dispose)
        return engine, url
    url = _server_url(backend)
    admin = sa.create_engine(url)
    q = admin.dialect.identifier_preparer.quote(name)
    if backend == "postgresql":
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {q}"))
        engine = sa.create_engine(url, connect_args={"options": f"-csearch_path={name}"})
        drop = f"DROP SCHEMA IF EXISTS {q} CASCADE"
    else:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {q} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        engine = sa.create_engine(url.set(database=name).update_query_dict({"charset": "utf8mb4"}))
        drop = f"DROP DATABASE IF EXISTS {q}"

    def cleanup() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(drop))
        admin.dispose()

    cleanups.append(cleanup)
    return engine, None


@pytest.fixture(scope="session")
def make_source_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SourceDB]]:
    """make_source_db(backend, strict=True) -> an empty SourceDB with MediaCrawler's three tables."""
    cleanups: list[Callable[[], None]] = []
    tmp_dir = tmp_path_factory.mktemp("source_db")

    def make(backend: str, strict: bool = True) -> SourceDB:
        engine, url = _fresh(backend, tmp_dir, cleanups)
        md = build_metadata(strict=strict)
        md.create_all(engine)
        return SourceDB(backend, engine, tables_by_kind(md), url)

    yield make
    for fn in reversed(cleanups):
        fn()


@pytest.fixture(scope="session")
def sample_batches() -> list[tuple[str, FileRecords]]:
    """Every MediaCrawler record of the bundled sample, per file (parsed once per process by lib.landing)."""
    return landing.batches_for_days(SAMPLE, *ALL_DAYS)


@pytest.fixture(scope="session", params=BACKENDS)
def sample_db(request: pytest.FixtureRequest, make_source_db, sample_batches) -> SourceDB:
    """The bundled sample's MediaCrawler rows in a fresh database, one per backend (MediaCrawler's strict DDL)."""
    db = make_source_db(request.param)
    db.report = write_records(db.engine, db.tables, sample_batches)
    return db


@pytest.fixture(scope="session")
def sqlite_sample_db(make_source_db, sample_batches) -> SourceDB:
    """The sample in a SQLite file, for runs that take the database from KOL_SOURCE_DB_URL."""
    db = make_source_db("sqlite")
    db.report = write_records(db.engine, db.tables, sample_batches)
    return db
