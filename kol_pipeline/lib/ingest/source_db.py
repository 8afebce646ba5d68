"""Is the MediaCrawler source database (KOL_SOURCE_DB_URL) usable? One line saying why not.

`kol-pipeline run` checks the URL before it plans any run: a database that does not exist, a wrong host, port
or password, an unparseable URL or a missing driver is unusable input (exit 2, one line), not a 40-line
SQLAlchemy traceback. The line names the URL with its password masked and the database's own message (the first
line of the DBAPI error); it never holds the password.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

#: seconds to wait for a server that does not answer (psycopg2 waits for the OS otherwise; pymysql's default is 10)
CONNECT_TIMEOUT = 10

_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def masked_url(url: str) -> str:
    """The URL with its password shown as ***: SQLAlchemy's rendering, or, for a URL it cannot parse, the text
    with whatever stands between `user:` and `@` masked."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: mask by its shape
        return _PASSWORD.sub(r"\1***@", url)


def _password(url: str) -> str | None:
    try:
        return sa.engine.make_url(url).password
    except Exception:
        m = re.search(r"://[^:/@\s]*:([^@\s]*)@", url)
        return m.group(1) if m else None


def describe_db_error(url: str, exc: BaseException) -> str:
    """One line: the masked URL and the first line of the database's (DBAPI's) message, else of the exception."""
    orig = getattr(exc, "orig", None)  # sa.exc.DBAPIError wraps the driver's exception
    source = orig if isinstance(orig, BaseException) else exc
    lines = [x.strip() for x in str(source).splitlines() if x.strip()]
    message = lines[0] if lines else type(source).__name__
    if isinstance(exc, ImportError):
        message = f"driver not installed: {message}"
    pw = _password(url)
    if pw:
        message = message.replace(pw, "***")
    return f"source database (KOL_SOURCE_DB_URL) {masked_url(url)} is not usable: {message}"


def check_source_db(url: str | None) -> str | None:
    """None when `url` is unset or a connection to it works; else the one-line reason (`describe_db_error`)."""
    if not url:
        return None
    try:
        parsed = sa.engine.make_url(url)
        connect_args = {}
        if parsed.get_driver_name() == "psycopg2" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
        engine = sa.create_engine(parsed, connect_args=connect_args)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except (sa.exc.SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        return describe_db_error(url, exc)
    return None
