"""`lib.source_db`: the one line `kol-pipeline run` prints for an unusable KOL_SOURCE_DB_URL (issue #24 point 7),
with fake exceptions (the servers' real messages: integration/test_source_db_errors.py)."""

import importlib.util

import sqlalchemy as sa

from kol_pipeline.lib.ingest.source_db import check_source_db, describe_db_error, masked_url

URL = "postgresql+psycopg2://postgres:s3cret@db.example:5432/no_such_db_kol"


class FakeOperationalError(Exception):
    """Stands for psycopg2.OperationalError: a multi-line message."""


def test_dbapi_error_gives_its_first_line_and_a_masked_url():
    orig = FakeOperationalError(
        'connection to server at "db.example", port 5432 failed: FATAL:  database '
        '"no_such_db_kol" does not exist\n\nHINT: something\n'
    )
    exc = sa.exc.OperationalError("SELECT 1", {}, orig)
    assert describe_db_error(URL, exc) == (
        "source database (KOL_SOURCE_DB_URL) postgresql+psycopg2://postgres:***@db.example:5432/no_such_db_kol "
        'is not usable: connection to server at "db.example", port 5432 failed: FATAL:  database "no_such_db_kol" '
        "does not exist"
    )


def test_the_password_never_shows():
    # a message that (unusually) repeats the password, an unparseable URL, an exception without a message
    line = describe_db_error(URL, sa.exc.OperationalError("x", {}, FakeOperationalError("login s3cret refused")))
    assert "s3cret" not in line and line.endswith("is not usable: login *** refused")
    bad = "postgresql+psycopg2://postgres:s3cret@127.0.0.1:notaport/db"
    assert masked_url(bad) == "postgresql+psycopg2://postgres:***@127.0.0.1:notaport/db"
    line = describe_db_error(bad, ValueError("invalid literal for int() with base 10: 'notaport'"))
    assert "s3cret" not in line and "***" in line and line.endswith("'notaport'")
    assert describe_db_error("sqlite:///x.db", RuntimeError()).endswith("is not usable: RuntimeError")
    assert masked_url("not a url at all") == "not a url at all"


def test_check_source_db(tmp_path):
    assert check_source_db(None) is None and check_source_db("") is None
    assert check_source_db(f"sqlite:///{tmp_path / 'ok.db'}") is None
    line = check_source_db("nosuchdialect://u:s3cret@h/db")
    assert line == (
        "source database (KOL_SOURCE_DB_URL) nosuchdialect://u:***@h/db is not usable: "
        "Can't load plugin: sqlalchemy.dialects:nosuchdialect"
    )
    line = check_source_db(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    assert line is not None and line.endswith("is not usable: unable to open database file")
    line = check_source_db("mysql+mysqldb://root:s3cret@127.0.0.1/test")  # a driver not installed here
    if importlib.util.find_spec("MySQLdb") is None:
        assert line == (
            "source database (KOL_SOURCE_DB_URL) mysql+mysqldb://root:***@127.0.0.1/test is not usable: "
            "driver not installed: No module named 'MySQLdb'"
        )
