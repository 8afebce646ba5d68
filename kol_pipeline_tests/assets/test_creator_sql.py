"""creator_state and creator_scorecard by SQL (lib/state/creator_state.sql, creator_scorecard.sql), checked
against the output of the pandas/numpy code they replaced, kept as fixtures from the bundled sample (every
calendar day 2025-02-21 .. 2025-06-30, the former pipeline's warehouse):

- ``creator_state_sample.parquet``: the former creator_state on 14 of those days (every tenth and the last);
- ``creator_scorecard_sample.csv.gz``: the former creator_scorecard, every day (10,400 rows; flags joined by |);
- ``creator_scorecard_notes_sample.parquet`` and ``creator_scorecard_comment_stats_sample.csv.gz``: its inputs
  besides the state (note_metrics' columns the query reads; the comment counts of ``comment_stats`` over the
  former comment_state).

Before the pandas code was deleted both ran on the same inputs and gave the same rows: creator_state equal
(followers_by_day element by element) on the sample's 130 days (10,400 rows) and on simulate(creators=150,
days=200, seed=11); creator_scorecard equal on both, strings, ints, dates and flags exactly, floats within
1.3e-16 relative (docs/engine.md). The hand-computed cases stay in unit/test_metrics.py and unit/test_state.py.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql
from kol_pipeline.lib.state import creator_state as state_sql
from kol_pipeline.lib.state import days as S
from kol_pipeline.resources.io_manager import _to_pandas
from kol_pipeline_tests.planted import planted_world

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIRST, LAST = dt.date(2025, 2, 21), dt.date(2025, 6, 30)
DAYS = S.day_range(FIRST, LAST)
SETTINGS = duck.DuckSettings(memory_limit="512MB", threads=2)


@pytest.fixture(scope="module")
def world():
    return planted_world()


@pytest.fixture(scope="module")
def sql_states(world):
    """The SQL creator_state of every sample day, folded one day at a time from the first (a ranged run)."""
    creators = world.ingest.table("creators")
    by_day = {d: part for d, part in creators.groupby("snapshot_date")}
    with duck.connect(SETTINGS) as con:
        states = state_sql.creator_states(con, DAYS, by_day.get)
    return creators, states


def _sd(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.astype(object)).dt.date


def _same_states(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a.sort_values(["snapshot_date", "user_id"]).reset_index(drop=True)
    b = b.sort_values(["snapshot_date", "user_id"]).reset_index(drop=True)
    assert len(a) == len(b)
    assert (_sd(a["snapshot_date"]) == _sd(b["snapshot_date"])).all()
    assert (a["user_id"].astype(str) == b["user_id"].astype(str)).all()
    assert (a["nickname"].fillna("\0").astype(str) == b["nickname"].fillna("\0").astype(str)).all()
    assert (pd.to_datetime(a["latest_sd"]) == pd.to_datetime(b["latest_sd"])).all()
    np.testing.assert_array_equal(S._matrix(a), S._matrix(b))  # NaN == NaN here, element by element


def test_creator_state_sql_gives_the_former_states(sql_states):
    _, states = sql_states
    want = _to_pandas(pq.read_table(FIXTURES / "creator_state_sample.parquet"), "creator_state")
    days = set(_sd(want["snapshot_date"]))
    assert len(days) == 14 and len(want) == 1120  # not vacuous
    _same_states(want, states[_sd(states["snapshot_date"]).isin(days)])
    assert len(states) == 10400
    lists = states["followers_by_day"].array._pa_array.combine_chunks()
    assert set(pd.Series(lists.value_lengths().to_numpy()).unique()) == {state_sql.CREATOR_DAYS}


def test_creator_state_from_the_window_in_one_step_equals_the_fold(sql_states):
    """The first state of a warehouse (no stored state of the day before): one step from an empty state over the
    creators partitions of its whole window gives the state the daily steps carried."""
    creators, states = sql_states
    days = [dt.date(2025, 3, 1), dt.date(2025, 6, 30)]
    with duck.connect(SETTINGS) as con:
        for d in days:
            window = creators[(_sd(creators["snapshot_date"]) > d - timedelta(days=125)).to_numpy()]
            got = state_sql.creator_states(con, [d], lambda _d, w=window: w)
            _same_states(states[_sd(states["snapshot_date"]) == d], got)
        # a stored state continued over 5 days without creators: shifted by 5 days, emptied rows dropped
        prev = states[_sd(states["snapshot_date"]) == days[0]].sort_values("user_id").reset_index(drop=True)
        got = state_sql.creator_states(con, [days[0] + timedelta(days=5)], lambda _d: None, prev, days[0])
    m = S._matrix(prev)
    shifted = np.full_like(m, np.nan)
    shifted[:, 5:] = m[:, :-5]
    keep = ~np.isnan(shifted).all(axis=1)
    assert 0 < keep.sum() < len(prev) or keep.all()
    assert list(got["user_id"]) == list(prev["user_id"][keep])
    np.testing.assert_array_equal(S._matrix(got), shifted[keep])


def _scorecard_fixture() -> pd.DataFrame:
    g = pd.read_csv(FIXTURES / "creator_scorecard_sample.csv.gz", dtype={"user_id": object, "nickname": object})
    g["snapshot_date"] = pd.Series([dt.date.fromisoformat(v) for v in g["snapshot_date"]], dtype=object)
    g["authenticity_flags"] = g["authenticity_flags"].map(lambda v: v.split("|") if isinstance(v, str) else [])
    return g


def _inputs():
    nm = _to_pandas(pq.read_table(FIXTURES / "creator_scorecard_notes_sample.parquet"), "note_metrics")
    stats = pd.read_csv(FIXTURES / "creator_scorecard_comment_stats_sample.csv.gz", dtype={"user_id": object})
    stats["snapshot_date"] = pd.Series([dt.date.fromisoformat(v) for v in stats["snapshot_date"]], dtype=object)
    return nm, stats


def _assert_scorecards_equal(got: pd.DataFrame, want: pd.DataFrame) -> tuple[int, float]:
    """Rows by (snapshot_date, user_id): text, ints, dates and flags exactly; floats within 1e-9 relative.
    Returns (rows, largest relative difference)."""
    got = got.sort_values(["snapshot_date", "user_id"]).reset_index(drop=True)
    want = want.sort_values(["snapshot_date", "user_id"]).reset_index(drop=True)
    assert list(got.columns) == list(scorecard_sql.empty_scorecard().columns)
    assert len(got) == len(want)
    worst = 0.0
    # comment_sentiment (issue #26) came after the former implementation: tested in unit/test_sentiment.py
    assert [c for c in got.columns if c not in want.columns] == ["comment_sentiment"]
    for c in want.columns:
        a, b = got[c], want[c]
        if c == "authenticity_flags":
            assert [list(x) for x in a] == [list(x) for x in b]
            continue
        assert (a.isna().to_numpy() == b.isna().to_numpy()).all(), c
        ok = a.notna().to_numpy()
        if str(a.dtype) == "Float64":
            x, y = a[ok].astype("float64").to_numpy(), b[ok].astype("float64").to_numpy()
            rel = np.abs(x - y) / np.maximum(np.abs(y), 1e-300)
            worst = max(worst, float(rel.max()) if len(rel) else 0.0)
            assert (np.abs(x - y) <= 1e-9 * np.maximum(np.abs(y), 1.0)).all(), c
        elif str(a.dtype) == "Int64":
            assert (a[ok].astype("int64").to_numpy() == b[ok].astype("int64").to_numpy()).all(), c
        else:
            assert (a[ok].astype(str).to_numpy() == b[ok].astype(str).to_numpy()).all(), c
    return len(got), worst


def test_creator_scorecard_sql_gives_the_former_rows_on_every_sample_day(world, sql_states):
    _, states = sql_states
    nm, stats = _inputs()
    want = _scorecard_fixture()
    assert len(want) == 10400 and want["snapshot_date"].nunique() == 130  # not vacuous
    assert want["authenticity_flags"].map(len).sum() > 0 and want["follower_growth_30d"].notna().any()
    with duck.connect(SETTINGS) as con:
        got = scorecard_sql.creator_scorecard(con, nm, states, stats, world.brand["rate_card"], DAYS)
    rows, worst = _assert_scorecards_equal(got, want)
    assert rows == 10400 and worst < 1e-12


def test_a_ranged_scorecard_gives_each_day_the_rows_of_a_one_day_query(world, sql_states):
    _, states = sql_states
    nm, stats = _inputs()
    rc = world.brand["rate_card"]
    some = DAYS[40::30]
    with duck.connect(SETTINGS) as con:
        ranged = scorecard_sql.creator_scorecard(con, nm, states, stats, rc, some)
        for d in some:
            alone = scorecard_sql.creator_scorecard(con, nm, states, stats, rc, [d])
            of_day = ranged[ranged["snapshot_date"] == d].reset_index(drop=True)
            assert len(alone) > 0
            pd.testing.assert_frame_equal(of_day, alone, check_exact=True)
