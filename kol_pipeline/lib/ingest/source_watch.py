"""What a MediaCrawler database holds per crawl day, cheaply enough for a sensor tick.

For each table (`xhs_note`, `xhs_note_comment`, `xhs_creator`) one grouped, read-only, parameterized query returns
per Asia/Shanghai day of `last_modify_ts`: the row count, the newest crawl time and a checksum of the crawl times.
A day's fingerprint changes when rows arrive on it, leave it (MediaCrawler updates a re-crawled row in place, which
moves it to the new crawl's day) or are re-crawled within it. The sensor compares fingerprints between ticks.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from kol_pipeline.lib.ingest import parsing
from kol_pipeline.lib.ingest.intake import DB_TABLES, KINDS, numeric_crawl_time

DAY_MS = 86_400_000
SHANGHAI_OFFSET_MS = 8 * 3_600_000  # Asia/Shanghai has had no DST since 1991
CHECKSUM_MOD = 1_000_003


def _day(day_start_ms: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day_start_ms) // DAY_MS)


def _numeric_query(table: str) -> sa.Select:
    """SELECT day, count, max, checksum GROUP BY day, portable across SQLite, PostgreSQL and MariaDB/MySQL.

    The day is computed without floor() or integer division (whose spelling differs by dialect): x - x % 86400000 is
    exact on all three for non-negative x. The offset is a bound parameter."""
    ts = sa.column("last_modify_ts")
    shifted = ts + sa.bindparam("offset", SHANGHAI_OFFSET_MS)
    day = (shifted - shifted % DAY_MS).label("day_ms")
    return (
        sa.select(
            day, sa.func.count().label("n"), sa.func.max(ts).label("mx"), sa.func.sum(ts % CHECKSUM_MOD).label("ck")
        )
        .select_from(sa.table(table))
        .where(ts.is_not(None))
        .group_by(day)
    )


def db_day_fingerprints(engine: Any, kinds: tuple[str, ...] = KINDS) -> dict[str, str]:
    """ISO day -> fingerprint of the MediaCrawler rows crawled that day (all tables present), read-only."""
    insp = sa.inspect(engine)
    parts: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for kind in kinds:
            table = DB_TABLES[kind]
            numeric = numeric_crawl_time(insp, table)
            if numeric is None:
                continue
            if numeric:
                rows = [(int(r.day_ms), int(r.n), int(r.mx), int(r.ck)) for r in conn.execute(_numeric_query(table))]
            else:  # a text column (a table written from CSV): parsed as the ingestion parses it
                rows = _group_text(
                    [v for (v,) in conn.execute(sa.select(sa.column("last_modify_ts")).select_from(sa.table(table)))]
                )
            for day_ms, n, mx, ck in rows:
                parts.setdefault(_day(day_ms).isoformat(), []).append(f"{table}:{n}:{mx}:{ck}")
    return {d: "|".join(sorted(v)) for d, v in sorted(parts.items())}


def _group_text(values: list[Any]) -> list[tuple[int, int, int, int]]:
    """(day start ms, count, newest ms, checksum) per Asia/Shanghai day, with lib.parsing's epoch rules (the ones
    db_batches applies to a text column); unusable crawl times belong to no day (the ingestion quarantines them)."""
    ts, _ = parsing.parse_epoch_ms(pd.Series(values, dtype=object), "last_modify_ts")
    ms = pd.Series(ts.dropna().astype("int64") // 1000, dtype="int64")  # datetime64[us] -> epoch ms
    if ms.empty:
        return []
    shifted = ms + SHANGHAI_OFFSET_MS
    frame = pd.DataFrame({"day": shifted - shifted % DAY_MS, "ms": ms, "ck": ms % CHECKSUM_MOD})
    g = frame.groupby("day").agg(n=("ms", "size"), mx=("ms", "max"), ck=("ck", "sum"))
    return [(int(d), int(r.n), int(r.mx), int(r.ck)) for d, r in g.iterrows()]


def changed_days(previous: dict[str, str], current: dict[str, str]) -> dict[str, str]:
    """Days whose fingerprint differs (new, changed or gone) -> the current fingerprint ('' when gone)."""
    return {d: current.get(d, "") for d in sorted(set(previous) | set(current)) if previous.get(d) != current.get(d)}
