"""note_metrics and tier_benchmarks by SQL (lib/metrics/note_metrics.sql, tier_benchmarks.sql) over the states
stored in the warehouse layout and read as DuckDB relations, checked row by row against the pandas implementation
they replaced.

``fixtures/note_metrics_sample.csv.gz`` and ``fixtures/tier_benchmarks_sample.csv.gz`` are the outputs of the
former pandas functions (lib/state/days.py note_metrics_from_state, curve_points_from_state and
tier_benchmarks_from_states, a call per day as the former assets made them) on the bundled sample's states, every
calendar day 2025-02-21 .. 2025-06-30: tier_benchmarks whole (4,312 rows, 130 days), note_metrics on every fifth
day and the last (3,544 of its 16,922 rows, 26 days; the whole table is 1.6 MB as CSV). The SQL gave the same
16,922 and 4,312 rows, exactly (every value, null for null), in one ranged call before the pandas code was
deleted; and on a second world, simulate(creators=150, days=200, seed=11), built by the pipeline, the same rows
again (docs/engine.md). The hand-computed cases run the SQL in unit/test_metrics.py and unit/test_planted_truth.py
(through kol_pipeline_tests/metric_states.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib.schemas import NOTE_METRICS, TIER_BENCHMARKS, TableSpec
from kol_pipeline.lib.state import days as S
from kol_pipeline_tests import metric_states as MS
from kol_pipeline_tests.planted import planted_world

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FIRST, LAST = dt.date(2025, 2, 21), dt.date(2025, 6, 30)


NEWER_COLUMNS = {"comment_sentiment"}  # columns the pandas implementation the fixtures come from never had


def _golden(name: str, spec: TableSpec) -> pd.DataFrame:
    """A fixture as the table's frame (the dtypes the SQL's glue returns). A column added after the fixture was
    frozen (issue #26: note_metrics.comment_sentiment, tested in unit/test_sentiment.py and
    unit/test_planted_sentiment.py) is not in it."""
    g = pd.read_csv(FIXTURES / f"{name}_sample.csv.gz", dtype=str, keep_default_na=False, na_values=[""])
    out = {}
    for col in spec.columns:
        if col.name not in g.columns and col.name in NEWER_COLUMNS:
            continue
        s = g[col.name]
        t = str(col.type)
        if t == "date32[day]":
            out[col.name] = pd.Series([dt.date.fromisoformat(v) for v in s], dtype=object)
        elif t == "int64":
            out[col.name] = pd.to_numeric(s).astype("Int64")
        elif t == "double":
            out[col.name] = pd.Series([float(v) if isinstance(v, str) else None for v in s], dtype="Float64")
        elif t == "bool":
            out[col.name] = pd.Series([{"True": True, "False": False}.get(v) for v in s], dtype="boolean")
        elif t.startswith("timestamp"):
            out[col.name] = pd.to_datetime(s, utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
        elif t.startswith("list"):
            out[col.name] = pd.Series([json.loads(v) for v in s], dtype=object)
        else:
            out[col.name] = s.astype(object).where(s.notna(), None)
    return pd.DataFrame(out)


def _lists(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: list(v) if isinstance(v, (list, tuple, np.ndarray)) else v)
    return out


@pytest.fixture(scope="module")
def sample():
    """The bundled sample's three states of every day, stored in the warehouse layout."""
    w = planted_world()
    days = S.day_range(FIRST, LAST)
    assert w.days[0] == FIRST and w.last_day == LAST
    return w, w.states, days


@pytest.fixture(scope="module")
def ranged(sample):
    w, wh, days = sample
    return MS.note_metrics_of_warehouse(wh, w.brand["campaign_posts"], days, w.settings)


def test_note_metrics_sql_gives_the_pandas_rows_on_every_sample_day(sample, ranged):
    expected = _golden("note_metrics", NOTE_METRICS)
    assert len(ranged) == 16922 and ranged["snapshot_date"].nunique() == 129
    got = ranged[ranged["snapshot_date"].isin(set(expected["snapshot_date"]))].reset_index(drop=True)
    assert [c for c in got.columns if c not in expected.columns] == ["comment_sentiment"]
    got = got[list(expected.columns)]
    # not vacuous: every metric has values, the comment share included
    assert len(expected) == 3544 and expected["snapshot_date"].nunique() == 26
    assert expected["substantive_comment_share"].notna().sum() == 3432 and expected["er_7d"].notna().sum() == 3153
    assert int(expected["is_viral"].sum()) == 14 and int(expected["is_evergreen"].sum()) == 58
    assert expected["half_life_days"].notna().sum() == 1765 and expected["eng_90d"].notna().sum() == 211
    pd.testing.assert_frame_equal(_lists(got), _lists(expected), check_exact=True)


def test_tier_benchmarks_sql_gives_the_pandas_rows_on_every_sample_day(sample, ranged):
    w, wh, days = sample
    scorecard = w.creator_scorecard(ranged, days)
    got = MS.tier_benchmarks_of_warehouse(wh, scorecard, days, w.settings)
    expected = _golden("tier_benchmarks", TIER_BENCHMARKS)
    assert len(expected) == 4312 and expected["snapshot_date"].nunique() == 130
    assert expected["curve_91d_plus"].notna().sum() == 752 and expected["est_cpe_cny_p75"].notna().sum() == 2618
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_ranged_query_gives_each_day_the_rows_of_that_day_alone(sample, ranged):
    w, wh, _ = sample
    for d in (dt.date(2025, 4, 1), dt.date(2025, 5, 17), LAST):
        alone = MS.note_metrics_of_warehouse(wh, w.brand["campaign_posts"], [d], w.settings)
        assert len(alone) > 50
        want = ranged[ranged["snapshot_date"] == d].reset_index(drop=True)
        pd.testing.assert_frame_equal(_lists(alone), _lists(want), check_exact=True)
