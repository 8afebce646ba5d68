"""E(h) interpolation and half-life on hand-computed curves (CONTRACT.md "Note engagement curve and longevity")."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kol_pipeline.lib.metrics.longevity import engagement_curve, half_life_days, interpolate_at


def _obs(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["note_id", "age_days", "engagements"])


def _E(rows, horizons, gap=2.0):
    return interpolate_at(engagement_curve(_obs(rows)), horizons, gap)


def test_interpolates_between_observations_on_both_sides():
    # 6.5 d -> 100, 7.5 d -> 120: E(7) = 110
    e = _E([("a", 6.5, 100), ("a", 7.5, 120)], [7])
    assert e.loc["a", "eng_7d"] == pytest.approx(110.0)


def test_observation_exactly_at_h_gives_its_value_even_far_from_the_previous_one():
    # the previous point is (0, 0) 7 days away, but an observation exactly at h gives E_i
    e = _E([("a", 7.0, 55)], [7])
    assert e.loc["a", "eng_7d"] == pytest.approx(55.0)


def test_gap_rule_on_either_side():
    # below side too far: nearest at or below 7 is 4.5 (2.5 d away)
    e = _E([("a", 4.5, 50), ("a", 7.5, 80)], [7])
    assert math.isnan(e.loc["a", "eng_7d"])
    # above side too far: nearest at or above 7 is 9.5
    e = _E([("b", 6.0, 50), ("b", 9.5, 80)], [7])
    assert math.isnan(e.loc["b", "eng_7d"])
    # both exactly 2 days away is allowed: (5, 40) .. (9, 80) -> E(7) = 60
    e = _E([("c", 5.0, 40), ("c", 9.0, 80)], [7])
    assert e.loc["c", "eng_7d"] == pytest.approx(60.0)


def test_no_observation_at_or_above_h_is_null():
    e = _E([("a", 1.0, 10), ("a", 6.9, 70)], [7])
    assert math.isnan(e.loc["a", "eng_7d"])


def test_publish_instant_counts_as_zero_zero():
    # only one observation at 3.5 d: E(2) = 2/3.5 * 70 = 40 (the (0,0) anchor is 2 days below 2)
    e = _E([("a", 3.5, 70)], [2])
    assert e.loc["a", "eng_2d"] == pytest.approx(40.0)
    # at 4.5 d the above side is 2.5 days away: null
    e = _E([("b", 4.5, 70)], [2])
    assert math.isnan(e.loc["b", "eng_2d"])


def test_running_maximum_when_a_count_drops():
    # 150 at 2 d, then a crawl shows 140 at 3 d (deleted likes): the curve keeps 150
    cur = engagement_curve(_obs([("a", 2.0, 150), ("a", 3.0, 140), ("a", 4.0, 200)]))
    assert cur["E"].tolist() == [0.0, 150.0, 150.0, 200.0]
    e = interpolate_at(cur, [2.5, 3.5])
    assert e.loc["a", "eng_2.5d"] == pytest.approx(150.0)
    assert e.loc["a", "eng_3.5d"] == pytest.approx(175.0)


def test_many_notes_at_once_and_carry_of_the_known_day():
    obs = pd.DataFrame(
        {
            "note_id": ["b", "a", "b", "a", "c"],
            "age_days": [1.0, 29.0, 2.5, 31.0, 0.5],
            "engagements": [10, 400, 30, 420, 5],
            "sd": pd.to_datetime(["2025-01-02", "2025-01-30", "2025-01-03", "2025-02-01", "2025-01-01"]),
        }
    )
    cur = engagement_curve(obs, carry=("sd",))
    e = interpolate_at(cur, [2, 30], carry="sd")
    assert e.loc["a", "eng_30d"] == pytest.approx(410.0)
    assert e.loc["a", "eng_30d_sd"] == pd.Timestamp("2025-02-01")  # known once the 31-day crawl exists
    assert e.loc["b", "eng_2d"] == pytest.approx(10 + (30 - 10) * (1 / 1.5))
    assert e.loc["b", "eng_2d_sd"] == pd.Timestamp("2025-01-03")
    assert math.isnan(e.loc["c", "eng_2d"]) and pd.isna(e.loc["c", "eng_2d_sd"])
    assert math.isnan(e.loc["a", "eng_2d"])  # (0,0) and 29 d bracket 2 d: the upper one is 27 days away


def test_negative_ages_are_left_out_of_the_curve():
    cur = engagement_curve(_obs([("a", -0.2, 30), ("a", 1.0, 10)]))
    assert cur["age_days"].tolist() == [0.0, 1.0]


def test_half_life_solved_on_the_crossing_piece():
    # (0,0) (1,100) (2,150) (3,140->150) (4,300) ... eng_30d = 400 -> target 200 between (3,150) and (4,300)
    rows = [("a", 1, 100), ("a", 2, 150), ("a", 3, 140), ("a", 4, 300), ("a", 29, 390), ("a", 31, 410)]
    cur = engagement_curve(_obs(rows))
    e = interpolate_at(cur, [30])
    assert e.loc["a", "eng_30d"] == pytest.approx(400.0)
    hl = half_life_days(cur, e["eng_30d"])
    assert hl.loc["a"] == pytest.approx(3 + (200 - 150) / (300 - 150) * 1)


def test_half_life_on_an_observation_and_on_the_first_piece():
    cur = engagement_curve(_obs([("a", 1.5, 50), ("a", 30, 100), ("b", 1, 30), ("b", 30, 100)]))
    eng = pd.Series({"a": 100.0, "b": 100.0})
    hl = half_life_days(cur, eng)
    assert hl.loc["a"] == pytest.approx(1.5)  # reached exactly at the 1.5-day observation
    # b: target 50 between (1, 30) and (30, 100): t = 1 + 20/70*29 = 9.29, 8.3 days from the crawl at 1 -> null
    assert math.isnan(hl.loc["b"])


def test_half_life_crossing_piece_within_the_gap_is_kept():
    # target 50 on the piece (0,0)-(3,90): t = 50/90*3 = 1.667, 1.667 from 0 and 1.333 from 3 -> kept
    cur = engagement_curve(_obs([("a", 3, 90), ("a", 30, 100)]))
    hl = half_life_days(cur, pd.Series({"a": 100.0}))
    assert hl.loc["a"] == pytest.approx(50 / 90 * 3)


def test_half_life_null_when_eng_30d_null_or_zero():
    cur = engagement_curve(_obs([("a", 1, 0), ("a", 30, 0), ("b", 1, 5)]))
    hl = half_life_days(cur, pd.Series({"a": 0.0, "b": float("nan")}))
    assert hl.isna().all()
