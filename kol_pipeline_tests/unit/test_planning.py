"""How `kol-pipeline run` groups days into ranged runs (kol_pipeline/orchestration/planning.py): days at most
``max_gap`` apart share a run, and a blocked day splits its range into the runs of consecutive days around it."""

from __future__ import annotations

from datetime import date, timedelta

from kol_pipeline.orchestration.planning import merge_gap, plan_runs, split_around

D = date(2025, 6, 1)


def _d(k: int) -> date:
    return D + timedelta(days=k)


def test_days_within_the_gap_share_a_run():
    days = [_d(k) for k in (0, 1, 2, 5, 6, 20)]
    assert plan_runs(days, max_gap=1) == [(_d(0), _d(2)), (_d(5), _d(6)), (_d(20), _d(20))]
    assert plan_runs(days, max_gap=3) == [(_d(0), _d(6)), (_d(20), _d(20))]
    assert plan_runs(list(reversed(days)) + days, max_gap=14) == [(_d(0), _d(20))]  # sorted, duplicates once
    assert plan_runs([], max_gap=3) == []


def test_a_blocked_day_splits_its_range_into_the_consecutive_days_around_it():
    rng = (_d(0), _d(13))
    assert split_around(rng, {_d(10)}) == [(_d(0), _d(9)), (_d(11), _d(13))]
    assert split_around(rng, {_d(0), _d(13)}) == [(_d(1), _d(12))]
    assert split_around(rng, {_d(4), _d(5), _d(9)}) == [(_d(0), _d(3)), (_d(6), _d(8)), (_d(10), _d(13))]
    assert split_around(rng, {_d(30)}) == [rng]  # a blocked day outside the range changes nothing
    assert split_around((_d(3), _d(3)), {_d(3)}) == []


def test_merge_gap_grows_as_a_day_of_the_run_costs_less():
    assert merge_gap(3) >= merge_gap(20) >= 0
