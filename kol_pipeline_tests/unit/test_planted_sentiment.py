"""Planted negative comment waves (issue #26): notes of a product whose comments turned negative get a negative
net sentiment ratio in note_metrics, the other notes do not (docs/simulator.md "Negative comment waves")."""

from __future__ import annotations

import pandas as pd

from kol_pipeline.lib.ingest.comments import classify_comments
from kol_pipeline.lib.simulate import NEGATIVE_WAVE_TEMPLATES, simulate
from kol_pipeline_tests.planted import planted_world


def test_wave_templates_have_their_class_and_are_negative() -> None:
    from kol_pipeline.lib.ingest.sentiment import classify_sentiment

    texts = pd.Series([t.format(n=3, kw="面霜") for t, _ in NEGATIVE_WAVE_TEMPLATES], dtype=object)
    assert list(classify_comments(texts)) == [c for _, c in NEGATIVE_WAVE_TEMPLATES]
    assert set(classify_sentiment(texts).astype(object)) == {"negative"}


def test_planted_negative_waves_give_negative_nsr(tmp_path) -> None:
    simulate(tmp_path, creators=40, days=60, seed=3, negative_waves=2)
    world = planted_world(tmp_path)
    waves = world.truth["negative_waves"]
    assert waves["brand"].nunique() == 2 and len(waves) >= 10
    # the planted comment classes are what the pipeline finds
    got_cls = world.ingest.comments.set_index("comment_id")["comment_class"].astype(object)
    truth = world.truth["comments"].set_index("comment_id")["planted_class"]
    assert (got_cls.reindex(truth.index) == truth).all()
    nm = world.note_metrics([world.last_day]).set_index("note_id")
    wave = nm.loc[nm.index.isin(set(waves["note_id"])), "comment_sentiment"]
    others = nm.loc[~nm.index.isin(set(waves["note_id"])), "comment_sentiment"]
    assert len(wave) == len(waves) and (wave == -1.0).all(), wave.describe()
    assert others.notna().sum() >= 1, others.describe()  # another note has a measured NSR too (seed 3: one, 1/3) ...
    assert not (others.dropna() < 0).any(), others[others < 0]  # ... and none is negative


def test_negative_waves_with_the_shared_audience_plant(tmp_path) -> None:
    """Both plants at once (they used to fail: a wave rewrote a shared-audience comment, which has no row in the
    comments' truth): every top-level comment a wave note gets in its wave is negative, in the files and in the
    truth, the audience's fans on brand notes included."""
    simulate(tmp_path, creators=40, days=60, seed=11, negative_waves=2, shared_audience=True)
    world = planted_world(tmp_path)
    waves = world.truth["negative_waves"]
    audience = pd.read_csv(tmp_path / "truth" / "audience.csv")
    assert waves["brand"].nunique() == 2 and len(audience) > 0
    truth = world.truth["comments"].set_index("comment_id")
    got = world.ingest.comments
    on_waves = got[got["note_id"].isin(set(waves["note_id"]))]
    assert on_waves["comment_id"].isin(truth.index).all()
    got_cls = got.set_index("comment_id")["comment_class"].astype(object)
    assert (got_cls.reindex(truth.index) == truth["planted_class"]).all()
    nm = world.note_metrics([world.last_day]).set_index("note_id")
    wave = nm.loc[nm.index.isin(set(waves["note_id"])), "comment_sentiment"]
    assert len(wave) == len(waves) and (wave == -1.0).all(), wave.describe()
