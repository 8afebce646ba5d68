"""The marts read only the rows they use of their trailing windows (defs/marts/assets.py: campaign_reads,
share_of_voice_reads, filtered by the Arrow scanner) and give exactly the rows of the full read they replaced
(the window's partitions, only the mart's columns) on every day of the bundled sample, and on a ranged run. Also:
the campaign_posts check finds the same never-crawled posts as a scan of every note id. (brand_creator_relationships
reads its window through DuckDB: test_relationships_sql.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from kol_pipeline.defs.marts import assets as A
from kol_pipeline.lib import marts as M
from kol_pipeline.lib.brand import read_search_rankings
from kol_pipeline.resources.io_manager import (
    PartitionedInput,
    _to_arrow,
    make_base_path,
    present_values,
    read_column,
)
from kol_pipeline_tests.planted import planted_world

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
            t = _to_arrow(part, table)
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


def _marts(w, wh, sr, nm, first: date, last: date, filtered: bool) -> dict[str, pd.DataFrame]:
    """The two marts of the run first .. last, from filtered reads (new) or full window reads (before)."""
    b, s = w.brand, w.settings
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    notes = _handle(wh, "notes", first, last, NOTE_BACK)
    creators = _handle(wh, "creators", first, last, NOTE_BACK)
    sr_d, nm_d = _of(sr, days), _of(nm, days)
    if filtered:
        cn, cc = A.campaign_reads(notes, creators, b["campaign_posts"], nm_d)
        sn, sc = A.share_of_voice_reads(notes, creators, sr_d, b["campaign_posts"])
    else:
        cn, cc = notes.read(columns=A.CAMPAIGN_NOTE_COLUMNS), creators.read(columns=A.CREATOR_TIER_COLUMNS)
        sn, sc = notes.read(columns=A.SOV_NOTE_COLUMNS), creators.read(columns=A.CREATOR_TIER_COLUMNS)
    return {
        "campaign_performance": M.campaign_performance(b["campaigns"], b["campaign_posts"], nm_d, cn, cc, days, s),
        "keyword_share_of_voice": M.keyword_share_of_voice(
            sr_d, sn, b["campaign_posts"], b["campaigns"], b["brands"], sc, days, s
        ),
    }


def _assert_same(old: dict, new: dict, what: str) -> None:
    for name in old:
        pd.testing.assert_frame_equal(old[name], new[name], check_exact=True, obj=f"{name} {what}")


def _day_rows(df: pd.DataFrame, d: date) -> pd.DataFrame:
    return df[df["snapshot_date"] == d].reset_index(drop=True) if len(df) else df


def test_filtered_reads_give_the_full_reads_marts_on_every_sample_day(sample):
    """Each day's marts from that day's filtered reads (a daily run) equal that day's rows of the marts of one
    call over the whole sample from full reads, on every calendar day of the sample, crawled or not. The
    reference is one ranged call, so this also holds that a ranged call gives each day the rows of a call of that
    day alone. (A full-read call per day, 130 reads of 121 partitions per mart, took most of the suite's time for
    this file.)"""
    w, wh, sr, nm = sample
    old = _marts(w, wh, sr, nm, w.days[0], w.days[-1], filtered=False)
    rows = {k: 0 for k in old}
    every_day = [w.days[0] + timedelta(days=i) for i in range((w.days[-1] - w.days[0]).days + 1)]
    assert len(every_day) > len(w.days)  # days without a crawl too (the sample has two)
    for d in every_day:
        new = _marts(w, wh, sr, nm, d, d, filtered=True)
        _assert_same({k: _day_rows(v, d) for k, v in old.items()}, new, str(d))
        for k in rows:
            rows[k] += len(new[k])
    # the comparison is not vacuous: every mart has rows on many days, and the reference has no day the daily
    # runs lack
    assert all(n > 100 for n in rows.values()), rows
    assert {k: len(v) for k, v in old.items()} == rows


def test_filtered_reads_on_a_ranged_run(sample):
    w, wh, sr, nm = sample
    first, last = w.days[-20], w.days[-1]
    _assert_same(_marts(w, wh, sr, nm, first, last, False), _marts(w, wh, sr, nm, first, last, True), "range")


def test_filtered_reads_read_fewer_rows(sample):
    w, wh, sr, nm = sample
    d = w.days[-1]
    notes = _handle(wh, "notes", d, d, NOTE_BACK)
    creators = _handle(wh, "creators", d, d, NOTE_BACK)
    full = notes.read(columns=["note_id"])
    got, _ = A.campaign_reads(notes, creators, w.brand["campaign_posts"], _of(nm, [d]))
    assert 0 < len(got) < len(full)
    # every crawl of a campaign post's note in the window is there
    kept = full[full["note_id"].isin(set(w.brand["campaign_posts"]["note_id"]))]
    assert len(kept) == len(got)


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
