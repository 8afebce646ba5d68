"""A ranged run gives each day the rows of a one-day run of that day (docs/engine.md section 4), for the marts that
read trailing windows (campaign_performance, keyword_share_of_voice, brand_creator_relationships), and for
tier_comparison and creator_shortlist over them.

A run of days F .. L gets the notes and creators partitions F - NOTE_WINDOW .. L (the assets' window_mapping), a
one-day run of D only D - NOTE_WINDOW .. D. The world below plants crawls and creator snapshots that a ranged run's
wider window holds but the one-day windows of its late days do not: each day must see only its own window's rows.
The inputs are given to the queries as the IO manager gives them (each run's partitions of each table), so the
test is the same as two runs of the assets, without Dagster."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import dagster as dg
import pandas as pd
import pytest

from kol_pipeline.defs.marts import assets as A
from kol_pipeline.defs.shared import day_window
from kol_pipeline.lib import duck
from kol_pipeline.lib.marts import brand_creator_relationships as BCR
from kol_pipeline.lib.marts import campaign_performance as CP
from kol_pipeline.lib.marts import creator_shortlist as CS
from kol_pipeline.lib.marts import keyword_share_of_voice as SV
from kol_pipeline.lib.marts import tier_comparison as TC
from kol_pipeline.lib.settings import NOTE_WINDOW, MetricSettings

D = dt.date
FIRST, LAST = D(2025, 4, 20), D(2025, 5, 15)  # the ranged run; its notes window starts 2024-12-20
OLD = D(2025, 1, 2)  # the planted crawls and snapshots: in the range's window, not in a one-day window from 05-04
EARLY = D(2024, 11, 1)  # a crawl in the range's relationship window, not in a one-day one from 05-01
LATE_DAY = D(2025, 5, 10)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _utc(d: dt.date) -> pd.Timestamp:
    return pd.Timestamp(d).tz_localize("Asia/Shanghai").tz_convert("UTC") + pd.Timedelta(hours=10)


def _note(note_id: str, user_id: str, day: dt.date, published: dt.date, eng: int, brands=(), title="") -> dict:
    return {
        "note_id": note_id,
        "user_id": user_id,
        "title": title,
        "description": "",
        "tags": [],
        "published_at": _utc(published),
        "crawled_at": _utc(day),
        "engagements": eng,
        "saves": eng // 10,
        "brands": list(brands),
        "is_disclosed": True,
        "snapshot_date": day,
    }


@pytest.fixture(scope="module")
def world() -> dict[str, pd.DataFrame]:
    brands = pd.DataFrame([{"brand": "Glow", "category": "skincare"}, {"brand": "Lumi", "category": "food"}])
    campaigns = pd.DataFrame(
        [
            {
                "campaign_id": "C1",
                "brand": "Glow",
                "phase": "launch",
                "start_date": D(2024, 12, 1),
                "target_keywords": ["serum"],
            }
        ]
    )
    posts = pd.DataFrame(
        [
            {"campaign_id": "C1", "note_id": "n1", "user_id": "u1", "fee_cny": 100.0, "posted_date": OLD},
            {"campaign_id": "C1", "note_id": "n2", "user_id": "u2", "fee_cny": 200.0, "posted_date": OLD},
            # crawled once, long before the date the brand file gives it (a late-filed post)
            {"campaign_id": "C1", "note_id": "n9", "user_id": "u9", "fee_cny": 50.0, "posted_date": D(2025, 4, 1)},
        ]
    )
    notes = pd.DataFrame(
        [
            # n1: crawled only on OLD (in the range's window, outside the one-day windows from 05-04)
            _note("n1", "u1", OLD, OLD, 50, ["Glow"], "serum"),
            # n2: crawled on OLD and again on 05-10
            _note("n2", "u2", OLD, OLD, 80, ["Glow"]),
            _note("n2", "u2", LATE_DAY, OLD, 90, ["Glow"], "serum"),
            # n3: not a campaign post; mentions Glow on its only crawl, OLD
            _note("n3", "u3", OLD, OLD, 30, ["Glow"]),
            # n4: crawled every 10 days, always in every window
            *[
                _note("n4", "u4", d, D(2025, 3, 1), 10 + i, ["Lumi"])
                for i, d in enumerate(_days(D(2025, 3, 1), LAST)[::10])
            ],
            # n9: crawled once on EARLY by another account than the brand file's
            _note("n9", "u9x", EARLY, EARLY, 5, ["Glow"]),
        ]
    )
    creators = pd.DataFrame(
        [
            {"user_id": u, "followers": f, "tier": None, "crawled_at": _utc(d), "snapshot_date": d}
            for u, d, f in [
                ("u1", OLD, 20_000),  # micro on the publish day, in the range's window only
                ("u1", D(2025, 5, 6), 5_000),  # nano later
                ("u2", OLD, 150_000),  # mid, never again: unknown once OLD leaves the window
                ("u3", OLD, 600_000),
                ("u4", D(2025, 3, 1), 3_000),
                ("u4", D(2025, 5, 8), 30_000),
            ]
        ]
    )
    note_metrics = pd.DataFrame(columns=[*CP.NOTE_METRICS_COLUMNS, "snapshot_date"])  # every note outside its window
    rankings = pd.DataFrame(
        [
            {"keyword": "serum", "rank": r, "note_id": n, "snapshot_date": d}
            for d in _days(FIRST, LAST)
            for r, n in ((1, "n1"), (2, "n2"), (3, "n3"), (4, "n4"), (5, "n9"))
        ]
    )
    scorecard = pd.DataFrame(
        [
            {
                "user_id": u,
                "nickname": u,
                "followers": 20_000 + i,
                "tier": "micro",
                "primary_category": "skincare",
                "score": (i * 7 + k * 3) % 11 / 10,
                "authenticity_flags": [],
                "median_er_7d": 0.01 * (k + 1),
                "snapshot_date": d,
            }
            for i, d in enumerate(_days(FIRST, LAST))
            for k, u in enumerate(("u1", "u2", "u4"))
        ]
    )
    return {
        "brands": brands,
        "campaigns": campaigns,
        "campaign_posts": posts,
        "notes": notes,
        "creators": creators,
        "note_metrics": note_metrics,
        "search_rankings": rankings,
        "creator_scorecard": scorecard,
    }


def _partitions(df: pd.DataFrame, first: dt.date, last: dt.date) -> pd.DataFrame:
    """The rows of partitions first .. last, as the IO manager gives a run its input."""
    return df[(df["snapshot_date"] >= first) & (df["snapshot_date"] <= last)].reset_index(drop=True)


def _run(w: dict[str, pd.DataFrame], days: list[dt.date]) -> dict[str, pd.DataFrame]:
    """The marts of one run of ``days``, each input restricted to the partitions the asset's mapping gives it."""
    first, last = days[0], days[-1]
    notes = _partitions(w["notes"], *day_window(days, NOTE_WINDOW))
    creators = _partitions(w["creators"], *day_window(days, NOTE_WINDOW))
    rel_notes = _partitions(w["notes"], *day_window(days, BCR.RELATIONSHIP_WINDOW_DAYS))
    settings = MetricSettings()
    out = {}
    with duck.connect() as con:
        out["campaign_performance"] = CP.campaign_performance(
            con,
            w["campaigns"],
            w["campaign_posts"],
            _partitions(w["note_metrics"], first, last),
            notes,
            creators,
            days,
            settings,
            window_days=NOTE_WINDOW,
        )
        out["keyword_share_of_voice"] = SV.keyword_share_of_voice(
            con,
            _partitions(w["search_rankings"], first, last),
            notes,
            w["campaign_posts"],
            w["campaigns"],
            w["brands"],
            creators,
            days,
            settings,
            window_days=NOTE_WINDOW,
        )
        out["brand_creator_relationships"] = BCR.brand_creator_relationships(
            con,
            rel_notes,
            w["campaign_posts"],
            w["campaigns"],
            w["brands"],
            days,
            window_days=BCR.RELATIONSHIP_WINDOW_DAYS,
        )
        out["tier_comparison"] = TC.tier_comparison(
            con, out["campaign_performance"], out["keyword_share_of_voice"], w["campaigns"]
        )
        out["creator_shortlist"] = CS.creator_shortlist(
            con, _partitions(w["creator_scorecard"], first, last), w["brands"], days
        )
    return out


def test_the_test_uses_the_assets_windows():
    """The one-day windows above are the assets' own (window_mapping(NOTE_WINDOW), (RELATIONSHIP_WINDOW_DAYS))."""
    for asset, window in (
        (A.campaign_performance, NOTE_WINDOW),
        (A.keyword_share_of_voice, NOTE_WINDOW),
        (A.brand_creator_relationships, BCR.RELATIONSHIP_WINDOW_DAYS),
    ):
        for upstream in ("notes", "creators") if window == NOTE_WINDOW else ("notes",):
            mapping = asset.get_partition_mapping(dg.AssetKey(upstream))
            assert (mapping.start_offset, mapping.end_offset) == (-window, 0), (asset.key, upstream)


def test_a_ranged_run_gives_each_day_the_rows_of_its_one_day_run(world):
    days = _days(FIRST, LAST)
    ranged = _run(world, days)
    alone = [_run(world, [d]) for d in days]
    for name, got in ranged.items():
        expected = pd.concat([a[name] for a in alone], ignore_index=True)
        assert got["snapshot_date"].nunique() == len(days), name  # not vacuous: rows on every day
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True, obj=name)

    # the planted rows did make a difference: the late days no longer see the crawls and snapshots of OLD / EARLY
    cp = ranged["campaign_performance"].set_index(["snapshot_date", "tier"])
    assert cp.loc[(D(2025, 5, 3), "micro"), "notes"] == 1  # n1 by u1, micro on its publish day (OLD in window)
    assert cp.loc[(D(2025, 5, 3), "all"), "engagements"] == 50 + 80
    # OLD out of the window: u1 and u2 without a snapshot, as u9 (n9's crawl of EARLY is out of every window here)
    assert cp.loc[(D(2025, 5, 4), "unknown"), "notes"] == 3
    assert cp.loc[(D(2025, 5, 4), "all"), "notes_measured"] == 0
    assert cp.loc[(D(2025, 5, 6), "nano"), "notes"] == 1  # u1's snapshot of 05-06
    assert cp.loc[(LATE_DAY, "all"), "engagements"] == 90  # n2's crawl of 05-10; n1 unmeasured
    sov = ranged["keyword_share_of_voice"].set_index(["snapshot_date", "brand"])
    assert sov.loc[(D(2025, 5, 3), "Glow"), "brand_results"] == 4  # n1, n2 (posts), n3 (crawl), n9 (post)
    assert sov.loc[(D(2025, 5, 4), "Glow"), "brand_results"] == 3  # n3's crawl of OLD is out of the window
    assert sov.loc[(D(2025, 5, 3), "Glow"), "brand_results_macro"] == 1  # u3 (600k) on OLD
    assert sov.loc[(D(2025, 5, 4), "Glow"), "brand_results_macro"] == 0
    rel = ranged["brand_creator_relationships"]
    n9 = rel[(rel["brand"] == "Glow") & (rel["user_id"].isin(["u9", "u9x"]))].set_index("snapshot_date")["user_id"]
    # until 04-29 n9 counts with its crawl of EARLY (author u9x, published EARLY, in the 180 days); on 04-30 the crawl
    # is still D's but published 181 days before; from 05-01 the crawl is out of D's window (D - 180 .. D) and the
    # post counts with the brand file's author and date, as in a one-day run of the day
    assert n9.to_dict() == {
        **{d: "u9x" for d in _days(FIRST, D(2025, 4, 29))},
        **{d: "u9" for d in _days(D(2025, 5, 1), LAST)},
    }
