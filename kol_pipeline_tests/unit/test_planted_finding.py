"""Issue #26's planted truths in the scorecard: a simulation with search-surfacing and flat-sponsored creators
(``simulate(..., search_surfacing=4, flat_sponsored=4)``, listed in truth/planted_finding.csv), ingested and
measured by the pipeline's lib (kol_pipeline_tests/planted.py), and the scorecard of its last day with the note
facts of note_state and the rankings of its last 30 days, as the creator_scorecard asset reads them."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest.brand import read_search_rankings
from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql
from kol_pipeline.lib.simulate import simulate
from kol_pipeline.resources.io_manager import PartitionedInput, make_base_path
from kol_pipeline_tests.planted import SAMPLE_ARGS, planted_world

# about 21 s: sent to a worker early, and left to the main suite by CI's second Python (.ci/run)
pytestmark = pytest.mark.heavy(21)

PLANTED = 4


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    land = tmp_path_factory.mktemp("finding")
    simulate(land, **SAMPLE_ARGS, search_surfacing=PLANTED, flat_sponsored=PLANTED)
    w = planted_world(land)
    d = w.last_day
    nm = w.note_metrics([d])
    ranks = read_search_rankings(land, [(d - timedelta(days=i)).isoformat() for i in range(30)]).frame
    base = make_base_path(str(w.states))
    stored = {t: PartitionedInput(base.fs, str(base / t), t, [d.isoformat()]) for t in ("note_state", "creator_state")}
    no_stats = pd.DataFrame(columns=["snapshot_date", "user_id", *scorecard_sql.COMMENT_STATS_COLUMNS])
    with duck.connect() as con:
        sc = scorecard_sql.creator_scorecard(
            con,
            nm,
            stored["creator_state"].relation(con, scorecard_sql.STATE_COLUMNS),
            no_stats,
            None,
            [d],
            w.settings,
            note_facts=stored["note_state"].relation(con, scorecard_sql.NOTE_FACT_COLUMNS),
            search_rankings=ranks,
        )
    planted = w.truth["planted_finding"]
    return sc.set_index("user_id"), {p: set(g["user_id"]) for p, g in planted.groupby("plant")}


@pytest.mark.slow
def test_planted_search_surfacing_creators_have_the_most_appearances(scored):
    sc, planted = scored
    surfacing = planted["search_surfacing"]
    assert len(surfacing) == PLANTED
    top = sc["search_appearances_30d"].astype("float64").sort_values(ascending=False, kind="stable")
    assert set(top.index[:PLANTED]) == surfacing
    assert top.iloc[PLANTED - 1] > top.iloc[PLANTED]  # not a tie with an unplanted creator
    # each ranks under its category's word (search_rankings tracks the campaign brands' categories)
    assert all(len(sc.loc[u, "search_keywords_30d"]) >= 2 for u in surfacing)


@pytest.mark.slow
def test_planted_flat_sponsored_creators_have_a_ratio_below_1(scored):
    sc, planted = scored
    flat = planted["flat_sponsored"]
    assert len(flat) == PLANTED
    ratio = sc["sponsored_er_ratio"].astype("float64")
    assert ratio[list(flat)].notna().all()
    assert (ratio[list(flat)] < 1).all()
    # the others' sponsored notes engage at 0.9 x their organic ones (docs/simulator.md): well above the planted
    others = ratio.drop(index=list(flat)).dropna()
    assert len(others) >= 5 and ratio[list(flat)].max() < others.median()
