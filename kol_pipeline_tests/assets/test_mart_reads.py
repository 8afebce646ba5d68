"""The marts read their trailing windows as DuckDB relations over exactly the declared partitions
(``PartitionedInput.relation``; lib/<layer>/<table>.sql filters them) and give exactly the rows of a full read of
the window into pandas (the window's partitions, only the mart's columns) on every day of the bundled sample, and
on a ranged run. Also: the campaign_posts check finds the same never-crawled posts as a scan of every note id.
(The comparison with the former pandas marts: test_marts_sql.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from kol_pipeline.defs.marts import assets as A
from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest.brand import read_search_rankings
from kol_pipeline.lib.marts import campaign_performance as CP
from kol_pipeline.lib.marts import keyword_share_of_voice as SV
from kol_pipeline.resources.io_manager import PartitionedInput, make_base_path, present_values, read_column
from kol_pipeline.resources.table_io import to_arrow
from kol_pipeline_tests.planted import planted_world

pytestmark = pytest.mark.heavy(60)

NOTE_BACK = A.NOTE_WINDOW  # window_mapping(121): D-121 .. D


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample's cleaned notes and creators written in the warehouse layout, its brand tables, its search
    rankings and its note_metrics (the lib window function)."""
    w = planted_world()
    wh = tmp_path_factory.mktemp("wh")
    for table in ("notes", "creators"):
        df = w.ingest.table(table)
        for d, part in df.groupby("snapshot_date"):
            folder = wh / table / f"snapshot_date={d.isoformat()}"
            folder.mkdir(parents=True)
            t = to_arrow(part, table)
            pq.write_table(t.drop_columns(["snapshot_date"]), folder / "part-0.parquet")
    sr = read_search_rankings(w.landing, [d.isoformat() for d in w.days]).frame
    nm = w.note_metrics(w.days)
    return w, wh, sr, nm


def _handle(wh, table: str, first: date, last: date, back: int) -> PartitionedInput:
    base = make_base_path(str(wh))
    keys = [
        (first - timedelta(days=back) + timedelta(days=i)).isoformat() for i in range((last - first).days + back + 1)
    ]
    return PartitionedInput(base.fs, str(base / table), table, keys)


def _of(df: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    return df[df["snapshot_date"].isin(days)] if len(df) else df


def _marts(w, wh, sr, nm, first: date, last: date, relations: bool) -> dict[str, pd.DataFrame]:
    """The two marts of the run first .. last, from relations over the windows (the assets) or from full window
    reads into pandas."""
    b, s = w.brand, w.settings
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    notes = _handle(wh, "notes", first, last, NOTE_BACK)
    creators = _handle(wh, "creators", first, last, NOTE_BACK)
    sr_d, nm_d = _of(sr, days), _of(nm, days)
    with duck.connect() as con:
        if relations:
            cn, cc = (
                notes.relation(con, columns=list(CP.NOTE_COLUMNS)),
                creators.relation(con, list(CP.CREATOR_COLUMNS)),
            )
            sn, sc = notes.relation(con, columns=list(SV.NOTE_COLUMNS)), cc
        else:
            cn, cc = notes.read(columns=list(CP.NOTE_COLUMNS)), creators.read(columns=list(CP.CREATOR_COLUMNS))
            sn, sc = notes.read(columns=list(SV.NOTE_COLUMNS)), cc
        return {
            "campaign_performance": CP.campaign_performance(
                con, b["campaigns"], b["campaign_posts"], nm_d, cn, cc, days, s
            ),
            "keyword_share_of_voice": SV.keyword_share_of_voice(
                con, sr_d, sn, b["campaign_posts"], b["campaigns"], b["brands"], sc, days, s
            ),
        }


def _assert_same(old: dict, new: dict, what: str) -> None:
    for name in old:
        pd.testing.assert_frame_equal(old[name], new[name], check_exact=True, obj=f"{name} {what}")


def _day_rows(df: pd.DataFrame, d: date) -> pd.DataFrame:
    return df[df["snapshot_date"] == d].reset_index(drop=True) if len(df) else df


def test_relations_give_the_full_reads_marts_on_the_sample_days(sample):
    """Each day's marts from relations over that day's windows (a daily run) equal that day's rows of the marts of
    one call over the whole sample from full reads: on the days without a crawl, on every day of the last 10 and
    on every fifth day before them (37 of the 132 calendar days; every other day took 50 s of a CI worker on a slow
    machine, BENCHMARKS.md, CI time). The reference is one ranged call, so this also holds that a ranged call gives each day the rows of a
    call of that day alone."""
    w, wh, sr, nm = sample
    old = _marts(w, wh, sr, nm, w.days[0], w.days[-1], relations=False)
    rows = {k: 0 for k in old}
    every_day = [w.days[0] + timedelta(days=i) for i in range((w.days[-1] - w.days[0]).days + 1)]
    uncrawled = set(every_day) - set(w.days)
    assert uncrawled  # days without a crawl too (the sample has two)
    days = [d for i, d in enumerate(every_day) if d in uncrawled or i >= len(every_day) - 10 or i % 5 == 0]
    for d in days:
        new = _marts(w, wh, sr, nm, d, d, relations=True)
        _assert_same({k: _day_rows(v, d) for k, v in old.items()}, new, str(d))
        for k in rows:
            rows[k] += len(new[k])
    # the comparison is not vacuous: every mart has rows on many days; the daily runs have every row the
    # reference has on those days, and the reference has no row outside the sample's days
    assert all(n > 20 for n in rows.values()), rows
    assert {k: int(v["snapshot_date"].isin(days).sum()) for k, v in old.items()} == rows
    assert all(set(v["snapshot_date"]) <= set(every_day) for v in old.values())


def test_relations_on_a_ranged_run(sample):
    w, wh, sr, nm = sample
    first, last = w.days[-20], w.days[-1]
    _assert_same(_marts(w, wh, sr, nm, first, last, False), _marts(w, wh, sr, nm, first, last, True), "range")


def test_the_relations_hold_the_declared_window(sample):
    """The queries read the windows' files themselves (the columns they need of the declared days): no filtered
    read into pandas first."""
    w, wh, _, _ = sample
    d = w.days[-1]
    notes = _handle(wh, "notes", d, d, NOTE_BACK)
    with duck.connect() as con:
        rel = notes.relation(con, columns=list(CP.NOTE_COLUMNS))
        assert rel.columns == [*CP.NOTE_COLUMNS, "snapshot_date"]
        rows, lo = rel.aggregate("count(*) AS n, min(snapshot_date) AS lo").fetchall()[0]
    full = w.ingest.table("notes")
    in_window = full[(full["snapshot_date"] >= d - timedelta(days=NOTE_BACK)) & (full["snapshot_date"] <= d)]
    assert rows == len(in_window) and lo == min(in_window["snapshot_date"])


def test_present_values_matches_a_full_scan(sample):
    w, wh, _, _ = sample
    every = set(read_column(str(wh), "notes", "note_id"))
    posts = set(w.brand["campaign_posts"]["note_id"])
    probe = posts | {"never-crawled-1", "never-crawled-2"} | set(list(every)[:5])
    assert present_values(str(wh), "notes", "note_id", probe) == probe & every
    assert present_values(str(wh), "notes", "note_id", []) == set()
    # within a window of days: ids crawled only outside it are not found
    mid, last = w.days[len(w.days) // 2].isoformat(), w.days[-1].isoformat()
    since = set(read_column(str(wh), "notes", "note_id", last, None))
    until = set(read_column(str(wh), "notes", "note_id", None, mid))
    assert since != every and until != every, (len(since), len(until), len(every))  # each leaves ids out
    probe = every | {"never-crawled-1"}
    assert present_values(str(wh), "notes", "note_id", probe, start=last) == since
    assert present_values(str(wh), "notes", "note_id", probe, end=mid) == until
