"""The SQL comment state against the numpy state it replaced, on the bundled sample: the former
``state._note_comment_share`` and ``state._creator_comment_stats_state`` (64-bit keys) gave the fixtures
``note_comment_share_sample.csv.gz`` (every non-null share of every note on every day) and
``creator_comment_stats_sample.csv.gz`` (every creator with a comment in the 90-day window, owners = each note's
last crawl). Before the deletion they were compared on every day of the sample (127 days with comments: 36,322
shares and 10,160 creator rows), on simulate(creators=150, days=200, seed=11) (98,303 and 29,550) and on 12
random histories with re-sightings: equal, exactly. Here: the state carried from the first day (slow), and the
state bootstrapped for single days, give the fixtures' rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.state import comment_state as Q
from kol_pipeline.lib.state import comment_view as CV
from kol_pipeline_tests.planted import planted_world

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def sample():
    w = planted_world()
    com = w.ingest.table("comments").copy()
    com["snapshot_date"] = pd.to_datetime(com["snapshot_date"]).dt.date
    notes = w.ingest.table("notes")
    owner = notes.drop_duplicates("note_id", keep="last")[["note_id", "user_id"]].reset_index(drop=True)
    note_ids = pd.Series(sorted(set(owner["note_id"]) | set(com["note_id"].dropna())), dtype=object)
    share = pd.read_csv(FIXTURES / "note_comment_share_sample.csv.gz", parse_dates=["snapshot_date"])
    share["snapshot_date"] = share["snapshot_date"].dt.date
    stats = pd.read_csv(FIXTURES / "creator_comment_stats_sample.csv.gz", parse_dates=["snapshot_date"])
    stats["snapshot_date"] = stats["snapshot_date"].dt.date
    return com, owner, note_ids, share, stats


def _check_day(con, d, owner, note_ids, share, stats) -> int:
    got = CV.note_comment_share(con, note_ids, d)
    got = got[got["comment_share"].notna()].sort_values("note_id").reset_index(drop=True)
    want = share[share["snapshot_date"] == d].sort_values("note_id").reset_index(drop=True)
    assert got["note_id"].tolist() == want["note_id"].tolist(), d
    np.testing.assert_allclose(got["comment_share"], want["comment_share"], rtol=1e-15, atol=0)
    gs = CV.creator_comment_stats(con, owner, d, 90)
    gs = gs[gs["n_all"] > 0].sort_values("user_id").reset_index(drop=True)
    ws = stats[stats["snapshot_date"] == d].sort_values("user_id").reset_index(drop=True)
    assert gs["user_id"].tolist() == ws["user_id"].tolist(), d
    cols = ["n_all", "n_dup", "n_top", "n_top_sub"]
    np.testing.assert_array_equal(gs[cols].to_numpy(), ws[cols].to_numpy(dtype="float64"))
    return len(want) + len(ws)


def test_bootstrapped_days_give_the_former_numbers(sample):
    com, owner, note_ids, share, stats = sample
    days = sorted(set(com["snapshot_date"]))
    checked = 0
    for d in days[::15] + [days[-1]]:
        boot = com[(com["snapshot_date"] < d) & (com["snapshot_date"] >= d - timedelta(days=121))]
        with duck.connect() as con:
            CV.use_stored(con, None)
            ((_, rows, base),) = Q.state_partitions(
                con, [d], lambda x: com[com["snapshot_date"] == x].drop(columns="snapshot_date"), boot=boot
            )
            assert base
            checked += _check_day(con, d, owner, note_ids, share, stats)
    assert checked > 500


@pytest.mark.slow
def test_the_state_carried_from_the_first_day_gives_the_former_numbers(sample):
    com, owner, note_ids, share, stats = sample
    first, last = min(com["snapshot_date"]), max(share["snapshot_date"])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by_day = {d: g.drop(columns="snapshot_date") for d, g in com.groupby("snapshot_date")}
    with duck.connect() as con:
        CV.use_stored(con, None)
        bases = [base for _, _, base in Q.state_partitions(con, days, by_day.get, base_first=True)]
        assert bases[0] and not any(bases[1:])  # the sample's comments are crawled once: deltas only
        checked = sum(_check_day(con, d, owner, note_ids, share, stats) for d in days)
    assert checked == len(share) + len(stats)
