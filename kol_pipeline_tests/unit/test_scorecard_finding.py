"""creator_scorecard's columns of CONTRACT.md "Finding the right creators" (issue #26) on hand-built frames, each
expectation computed by hand: sponsored vs organic counts, medians and ratio; search appearances and keywords of
the trailing 30 days; content style (description length in code points, video share, tags) from note_state; the
er_7d and save_to_like percentiles within tier x primary_category."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql
from kol_pipeline.lib.state import note_state as NS

D = date(2025, 6, 30)
MICRO = 50_000.0  # followers of every creator here: the micro tier
NO_STATS = pd.DataFrame(columns=["snapshot_date", "user_id", *scorecard_sql.COMMENT_STATS_COLUMNS])


def note(uid, nid, *, day=D, pub_days_ago=10, er=None, stl=None, cat=None, sponsored=False):
    """A note_metrics row of ``day`` (NOTE_COLUMNS) of a note published ``pub_days_ago`` days before it."""
    return dict(
        snapshot_date=day,
        note_id=nid,
        user_id=uid,
        published_date=day - timedelta(days=pub_days_ago),
        crawled_at=pd.Timestamp(day, tz="Asia/Shanghai").tz_convert("UTC") + pd.Timedelta(hours=10),
        er_7d=er,
        save_to_like=stl,
        half_life_days=None,
        eng_30d=None,
        comments=1,
        likes=10,
        category=cat,
        is_sponsored=sponsored,
        is_disclosed=False,
        is_evergreen=None,
    )


def state(uids, day=D, followers=MICRO):
    return pd.DataFrame(
        [
            dict(snapshot_date=day, user_id=u, nickname=u, followers_by_day=[followers] + [None] * 124)
            for u in sorted(set(uids))
        ]
    )


def scorecard(notes, *, days=(D,), facts=None, rankings=None, followers=MICRO):
    nm = pd.DataFrame(notes)
    st = pd.concat([state(nm.loc[nm["snapshot_date"] == d, "user_id"], d, followers) for d in days])
    with duck.connect() as con:
        out = scorecard_sql.creator_scorecard(
            con,
            nm,
            st,
            NO_STATS,
            None,
            list(days),
            note_facts=pd.DataFrame(facts) if facts is not None else None,
            search_rankings=pd.DataFrame(rankings) if rankings is not None else None,
        )
    return out


def of(out, uid, day=D):
    r = out[(out["user_id"] == uid) & (out["snapshot_date"] == day)]
    assert len(r) == 1, (uid, day)
    return r.iloc[0]


def isnull(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


# ---------------------------------------------------------------------------------- sponsored vs organic


def test_sponsored_and_organic_counts_medians_and_ratio():
    notes = [
        # a: 3 sponsored (median 0.02), 2 organic (median 0.05), a sponsored note older than 90 days ignored
        note("a", "a1", er=0.01, sponsored=True),
        note("a", "a2", er=0.02, sponsored=True),
        note("a", "a3", er=0.06, sponsored=True),
        note("a", "a4", er=0.04),
        note("a", "a5", er=0.06),
        note("a", "a6", er=0.90, sponsored=True, pub_days_ago=90),
        # b: 2 sponsored, only one with an er_7d (fewer than 2: null); 3 organic
        note("b", "b1", er=0.05, sponsored=True),
        note("b", "b2", er=None, sponsored=True),
        note("b", "b3", er=0.01),
        note("b", "b4", er=0.02),
        note("b", "b5", er=0.03),
        # c: organic median 0: the ratio is null, both medians are shown
        note("c", "c1", er=0.02, sponsored=True),
        note("c", "c2", er=0.04, sponsored=True),
        note("c", "c3", er=0.0),
        note("c", "c4", er=0.0),
        # d: organic only; e: two sponsored and one organic
        note("d", "d1", er=0.02),
        note("d", "d2", er=0.03),
        note("e", "e1", er=0.02, sponsored=True),
        note("e", "e2", er=0.03, sponsored=True),
        note("e", "e3", er=0.05),
    ]
    out = scorecard(notes)
    a = of(out, "a")
    assert (a["sponsored_notes_90d"], a["organic_notes_90d"]) == (3, 2)
    assert a["median_er_7d_sponsored"] == pytest.approx(0.02)
    assert a["median_er_7d_organic"] == pytest.approx(0.05)
    assert a["sponsored_er_ratio"] == pytest.approx(0.4)
    b = of(out, "b")
    assert (b["sponsored_notes_90d"], b["organic_notes_90d"]) == (2, 3)
    assert isnull(b["median_er_7d_sponsored"]) and b["median_er_7d_organic"] == pytest.approx(0.02)
    assert isnull(b["sponsored_er_ratio"])
    c = of(out, "c")
    assert c["median_er_7d_sponsored"] == pytest.approx(0.03) and c["median_er_7d_organic"] == 0.0
    assert isnull(c["sponsored_er_ratio"])
    d = of(out, "d")
    assert (d["sponsored_notes_90d"], d["organic_notes_90d"]) == (0, 2)
    assert isnull(d["median_er_7d_sponsored"]) and isnull(d["sponsored_er_ratio"])
    e = of(out, "e")
    assert e["median_er_7d_sponsored"] == pytest.approx(0.025)
    assert isnull(e["median_er_7d_organic"]) and isnull(e["sponsored_er_ratio"])  # one organic note


def test_a_creator_without_notes_counts_zero_notes_of_each_kind():
    nm = pd.DataFrame([note("a", "a1", er=0.02)])
    st = state(["a", "lonely"])
    with duck.connect() as con:
        out = scorecard_sql.creator_scorecard(con, nm, st, NO_STATS, None, [D])
    lonely = of(out, "lonely")
    assert (lonely["sponsored_notes_90d"], lonely["organic_notes_90d"]) == (0, 0)
    assert isnull(lonely["median_er_7d_organic"]) and isnull(lonely["sponsored_er_ratio"])


# ----------------------------------------------------------------------------------------- search


def rk(day, keyword, rank, note_id):
    return dict(snapshot_date=day, keyword=keyword, rank=rank, note_id=note_id)


def fact(uid, nid, day=D, chars=None, kind=None, tags=None):
    return dict(snapshot_date=day, note_id=nid, user_id=uid, desc_chars=chars, note_type=kind, tag_count=tags)


def test_search_appearances_and_keywords_of_the_trailing_30_days():
    D1 = D + timedelta(days=1)
    notes = [note("a", "a1"), note("b", "b1"), note("c", "c1")]
    notes += [note("a", "a1", day=D1), note("b", "b1", day=D1), note("c", "c1", day=D1)]
    facts = [fact("a", "a1"), fact("b", "b1"), fact("c", "c1")]
    # x is b's, but its first crawl is on D + 1: on D its author is unknown
    facts += [fact("a", "a1", D1), fact("b", "b1", D1), fact("c", "c1", D1), fact("b", "x", D1)]
    rankings = [
        rk(D, "防晒", 3, "a1"),
        rk(D, "防晒", 4, "a1"),  # listed twice under one keyword on one day: one result
        rk(D - timedelta(days=5), "防晒", 15, "a1"),
        rk(D - timedelta(days=1), "防晒", 21, "a1"),  # below the top 20
        rk(D - timedelta(days=29), "面霜", 20, "a1"),  # the window's first day
        rk(D - timedelta(days=30), "面霜", 1, "a1"),  # before it
        rk(D, "面霜", 1, "x"),
        rk(D - timedelta(days=3), "防晒", 2, "x"),
        rk(D, "面霜", 2, None),
        rk(D, "面霜", 5, "never_crawled"),
    ]
    out = scorecard(notes, days=(D, D1), facts=facts, rankings=rankings)
    a = of(out, "a")
    assert a["search_appearances_30d"] == 3 and a["search_keywords_30d"] == ["防晒", "面霜"]
    b = of(out, "b")
    assert b["search_appearances_30d"] == 0 and b["search_keywords_30d"] == []
    # D + 1: the rank-1 面霜 result of D - 30 is still outside; a's D - 29 result falls out of the window
    a1, b1 = of(out, "a", D1), of(out, "b", D1)
    assert a1["search_appearances_30d"] == 2 and a1["search_keywords_30d"] == ["防晒"]
    assert b1["search_appearances_30d"] == 2 and b1["search_keywords_30d"] == ["防晒", "面霜"]
    assert of(out, "c", D1)["search_appearances_30d"] == 0
    # a one-day run of D + 1 (its inputs only: the rankings of its window, its own note_state) gives the same rows
    alone = scorecard(
        [n for n in notes if n["snapshot_date"] == D1],
        days=(D1,),
        facts=[f for f in facts if f["snapshot_date"] == D1],
        rankings=[r for r in rankings if r["snapshot_date"] >= D1 - timedelta(days=29)],
    )
    pd.testing.assert_frame_equal(out[out["snapshot_date"] == D1].reset_index(drop=True), alone)


def test_search_columns_are_null_without_any_ranking_in_the_window():
    notes = [note("a", "a1")]
    out = scorecard(notes, facts=[fact("a", "a1")], rankings=[rk(D - timedelta(days=30), "防晒", 1, "a1")])
    assert isnull(of(out, "a")["search_appearances_30d"]) and of(out, "a")["search_keywords_30d"] is None
    out = scorecard(notes, facts=[fact("a", "a1")])
    assert isnull(of(out, "a")["search_appearances_30d"])


# ---------------------------------------------------------------------------------------- content style


def test_content_style_medians_and_video_share_over_the_90_day_notes():
    notes = [note("a", f"a{i}") for i in range(4)] + [note("a", "old", pub_days_ago=90)]
    facts = [
        fact("a", "a0", chars=10, kind="video", tags=1),
        fact("a", "a1", chars=20, kind="normal", tags=2),
        fact("a", "a2", chars=40, kind=None, tags=4),
        fact("a", "a3", chars=None, kind="video", tags=0),
        fact("a", "old", chars=1000, kind="normal", tags=50),  # published 90 days ago: not a 90-day note
    ]
    a = of(scorecard(notes, facts=facts), "a")
    assert a["median_desc_chars"] == 20.0  # of 10, 20, 40 (the unknown length left out)
    assert a["video_share"] == pytest.approx(2 / 3)  # 2 video of the 3 with a known type
    assert a["median_tags"] == 1.5  # of 0, 1, 2, 4: pandas' interpolated median


def test_note_state_carries_the_latest_crawls_content_style_in_code_points():
    def crawl(day, desc, kind, tags):
        return dict(
            note_id="n1",
            user_id="a",
            published_at=pd.Timestamp("2025-06-01 10:00", tz="UTC"),
            crawled_at=pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=3),
            likes=1,
            saves=0,
            comments=0,
            shares=0,
            engagements=1,
            category=None,
            brands=[],
            is_disclosed=False,
            note_type=kind,
            description=desc,
            tags=tags,
        )

    text = "笔记🙂é👍🏽\n#防晒"  # a skin-tone emoji is 2 code points (1 grapheme); é precomposed is 1
    assert len(text) == 10
    with duck.connect() as con:
        s1 = NS.note_state_day(con, None, pd.DataFrame([crawl("2025-06-02", text, "video", ["a", "b"])]), D)
        s2 = NS.note_state_day(con, s1, None, D + timedelta(days=1))  # not crawled: kept
        s3 = NS.note_state_day(con, s2, pd.DataFrame([crawl("2025-07-02", "", "normal", [])]), D + timedelta(days=2))
    got = [s.select(["desc_chars", "note_type", "tag_count"]).to_pylist()[0] for s in (s1, s2, s3)]
    assert got[0] == got[1] == {"desc_chars": 10, "note_type": "video", "tag_count": 2}
    assert got[2] == {"desc_chars": 0, "note_type": "normal", "tag_count": 0}


# ------------------------------------------------------------------------------------------ percentiles


def test_percentiles_within_tier_and_category_with_ties_and_small_groups():
    ers = {"p1": 0.01, "p2": 0.02, "p3": 0.02, "p4": 0.03, "p5": 0.05, "p6": None}
    notes = [note(u, f"{u}_n", er=e, stl=0.2, cat="beauty") for u, e in ers.items()]
    notes += [note(f"f{i}", f"f{i}_n", er=0.01 * i, stl=0.1 * i, cat="food") for i in range(4)]  # 4 peers
    notes += [note("nocat", "nocat_n", er=0.02, stl=0.2)]  # no category: no primary_category
    out = scorecard(notes)
    pct = {u: of(out, u)["er_7d_percentile"] for u in ers}
    # n = 5 with a value: (lower + 0.5 x equal others) / (n - 1)
    assert pct["p1"] == 0.0 and pct["p5"] == 1.0
    assert pct["p2"] == pct["p3"] == pytest.approx((1 + 0.5) / 4)
    assert pct["p4"] == pytest.approx(3 / 4)
    assert isnull(pct["p6"])  # no value
    # save_to_like: all six equal (p6 has one): (0 + 0.5 x 5) / 5
    assert all(of(out, u)["save_to_like_percentile"] == pytest.approx(0.5) for u in ers)
    for u in ["f0", "f1", "f2", "f3", "nocat"]:
        assert isnull(of(out, u)["er_7d_percentile"]) and isnull(of(out, u)["save_to_like_percentile"])


def test_percentiles_compare_within_one_tier_only():
    # the same five values; one creator of another tier leaves four micro peers: null for all
    notes = [note(f"m{i}", f"m{i}_n", er=0.01 * (i + 1), cat="beauty") for i in range(5)]
    nm = pd.DataFrame(notes)
    st = pd.concat([state([f"m{i}" for i in range(4)]), state(["m4"], followers=600_000.0)])
    with duck.connect() as con:
        out = scorecard_sql.creator_scorecard(con, nm, st, NO_STATS, None, [D])
    assert of(out, "m4")["tier"] == "macro"
    assert all(isnull(v) for v in out["er_7d_percentile"])
