"""note_metrics, creator_scorecard and tier_benchmarks on hand-computed cases (CONTRACT.md sections
"Note engagement curve and longevity" and "Creators")."""

from __future__ import annotations

import glob
import json
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib.schemas import CREATOR_SCORECARD, NOTE_METRICS, TIER_BENCHMARKS, conform
from kol_pipeline.lib.settings import MetricSettings
from kol_pipeline_tests.metric_states import note_metrics, tier_benchmarks  # the states, then the SQL
from kol_pipeline_tests.reference_metrics import creator_scorecard

# about 30 s: sent to a worker early, and left to the main suite by CI's second Python (.ci/run)
pytestmark = pytest.mark.heavy(30)

SH = "Asia/Shanghai"
REAL = Path("/work/shared/real/mediacrawler_mf_koc")


def ts(s: str) -> pd.Timestamp:
    """A Shanghai wall-clock time as a UTC instant."""
    return pd.Timestamp(s, tz=SH).tz_convert("UTC")


def d(s: str) -> date:
    return date.fromisoformat(s)


def days(start: str, end: str) -> list[date]:
    a, b = d(start), d(end)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def note_rows(note_id, user_id, published, crawls, category=None, disclosed=False, brands=()):
    """crawls: (Shanghai time, likes, saves, comments, shares)."""
    rows = []
    for when, likes, saves, comments, shares in crawls:
        c = ts(when)
        rows.append(
            dict(
                note_id=note_id,
                user_id=user_id,
                nickname=user_id,
                note_type="normal",
                title="t",
                description="",
                tags=[],
                published_at=ts(published),
                crawled_at=c,
                likes=likes,
                saves=saves,
                comments=comments,
                shares=shares,
                engagements=likes + saves + comments + shares,
                category=category,
                brands=list(brands),
                is_disclosed=disclosed,
                source_file="x.json",
                snapshot_date=c.tz_convert(SH).date(),
            )
        )
    return rows


def daily_crawls(published: str, ages: range, eng_of_age) -> list[tuple]:
    """One crawl per day at the publish wall-clock time; engagements all in likes (saves = comments = shares = 0)."""
    p = pd.Timestamp(published)
    return [(str(p + pd.Timedelta(days=a)), int(eng_of_age(a)), 0, 0, 0) for a in ages]


def creator_rows(user_id, snaps):
    return [
        dict(
            user_id=user_id,
            nickname=f"nick_{user_id}",
            gender="",
            followers=f,
            following=1,
            likes_and_saves_total=1,
            tier=None,
            crawled_at=ts(f"{s} 09:00"),
            source_file="c.json",
            snapshot_date=d(s),
        )
        for s, f in snaps
    ]


EMPTY_COMMENTS = pd.DataFrame(
    columns=[
        "comment_id",
        "note_id",
        "user_id",
        "parent_comment_id",
        "content",
        "created_at",
        "like_count",
        "comment_class",
        "is_substantive",
        "snapshot_date",
    ]
)
NO_POSTS = pd.DataFrame(columns=["campaign_id", "note_id", "user_id", "fee_cny", "posted_date"])


def row(df: pd.DataFrame, **eq) -> pd.Series:
    m = np.ones(len(df), dtype=bool)
    for k, v in eq.items():
        m &= (df[k] == v).to_numpy()
    sub = df[m]
    assert len(sub) == 1, f"{eq}: {len(sub)} rows"
    return sub.iloc[0]


def isnull(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


# ------------------------------------------------------------------------------------------------ note_metrics
@pytest.fixture(scope="module")
def linear_note():
    """n1 published 2025-03-01 10:00 (Shanghai), crawled daily at 10:00 at ages 1..32 with E = 10 x age."""
    notes = pd.DataFrame(
        note_rows(
            "n1",
            "u1",
            "2025-03-01 10:00",
            daily_crawls("2025-03-01 10:00", range(1, 33), lambda a: 10 * a),
            category="food",
        )
    )
    creators = pd.DataFrame(creator_rows("u1", [("2025-03-06", 1000), ("2025-03-10", 2000)]))
    return notes, creators


def test_horizons_are_null_until_the_observation_at_or_above_h_is_crawled(linear_note):
    notes, creators = linear_note
    out = note_metrics(notes, creators, EMPTY_COMMENTS, NO_POSTS, days("2025-03-01", "2025-04-05"))
    assert out.columns.tolist()[: len(NOTE_METRICS.column_names)] == NOTE_METRICS.column_names
    conform(out, NOTE_METRICS)  # types cast cleanly
    assert isnull(row(out, snapshot_date=d("2025-03-02"))["eng_2d"])
    assert row(out, snapshot_date=d("2025-03-03"))["eng_2d"] == pytest.approx(20.0)
    assert isnull(row(out, snapshot_date=d("2025-03-07"))["eng_7d"])
    r = row(out, snapshot_date=d("2025-03-08"))
    assert r["eng_7d"] == pytest.approx(70.0)
    # followers on the day the note reached age 7 (03-08): snapshots 03-06 and 03-10 are 2 days away -> earlier
    assert r["er_7d"] == pytest.approx(70 / 1000)
    assert isnull(row(out, snapshot_date=d("2025-03-30"))["eng_30d"])
    r = row(out, snapshot_date=d("2025-03-31"))
    assert r["eng_30d"] == pytest.approx(300.0)
    assert r["half_life_days"] == pytest.approx(15.0)
    assert r["share_after_48h"] == pytest.approx(1 - 20 / 300)
    assert isnull(r["eng_90d"]) and isnull(r["is_evergreen"])
    assert r["followers"] == 2000 and r["tier"] == "nano" and r["category"] == "food"
    assert r["age_days"] == pytest.approx(30.0) and r["engagements"] == 300
    # the crawl stops at age 32: on 04-05 the latest observation is the 04-02 one
    r = row(out, snapshot_date=d("2025-04-05"))
    assert r["engagements"] == 320 and r["age_days"] == pytest.approx(32.0)
    # nothing before the note was first observed
    assert out["snapshot_date"].min() == d("2025-03-02")


def test_rerunning_a_past_partition_gives_the_same_numbers(linear_note):
    notes, creators = linear_note
    full = note_metrics(notes, creators, EMPTY_COMMENTS, NO_POSTS, days("2025-03-01", "2025-04-05"))
    for day in (d("2025-03-08"), d("2025-03-31")):
        one = note_metrics(notes, creators, EMPTY_COMMENTS, NO_POSTS, [day])
        pd.testing.assert_frame_equal(
            one.reset_index(drop=True), full[full["snapshot_date"] == day].reset_index(drop=True)
        )


def test_er_7d_nearest_creator_snapshot():
    crawls = daily_crawls("2025-03-01 10:00", range(1, 12), lambda a: 10 * a)
    notes = pd.DataFrame(
        note_rows("a", "ua", "2025-03-01 10:00", crawls)
        + note_rows("b", "ub", "2025-03-01 10:00", crawls)
        + note_rows("c", "uc", "2025-03-01 10:00", crawls)
    )
    creators = pd.DataFrame(
        creator_rows("ua", [("2025-03-05", 500), ("2025-03-11", 4000)])  # 3 days each side: tie -> earlier
        + creator_rows("ub", [("2025-03-04", 1000), ("2025-03-12", 2000)])  # both 4 days away -> null
        + creator_rows("uc", [("2025-03-06", 1000), ("2025-03-09", 2000)])  # the nearer one appears on 03-09
    )
    out = note_metrics(notes, creators, EMPTY_COMMENTS, NO_POSTS, days("2025-03-08", "2025-03-12"))
    assert row(out, note_id="a", snapshot_date=d("2025-03-12"))["er_7d"] == pytest.approx(70 / 500)
    assert isnull(row(out, note_id="b", snapshot_date=d("2025-03-12"))["er_7d"])
    assert row(out, note_id="b", snapshot_date=d("2025-03-12"))["eng_7d"] == pytest.approx(70.0)
    # as of 03-08 only the 03-06 snapshot exists; from 03-09 the 1-day-away snapshot wins
    assert row(out, note_id="c", snapshot_date=d("2025-03-08"))["er_7d"] == pytest.approx(70 / 1000)
    assert row(out, note_id="c", snapshot_date=d("2025-03-09"))["er_7d"] == pytest.approx(70 / 2000)


def test_evergreen_and_share_after_48h():
    def crawls(e30, e90):
        return [
            ("2025-01-02 10:00", 5, 0, 0, 0),
            ("2025-01-03 10:00", 10, 0, 0, 0),
            ("2025-01-30 10:00", e30, 0, 0, 0),
            ("2025-02-01 10:00", e30, 0, 0, 0),
            ("2025-03-31 10:00", e90, 0, 0, 0),
            ("2025-04-02 10:00", e90, 0, 0, 0),
        ]

    notes = pd.DataFrame(
        note_rows("ever", "u", "2025-01-01 10:00", crawls(100, 200))
        + note_rows("flat", "u", "2025-01-01 10:00", crawls(100, 120))
    )
    out = note_metrics(notes, pd.DataFrame(creator_rows("u", [])), EMPTY_COMMENTS, NO_POSTS, [d("2025-04-02")])
    ever, flat = row(out, note_id="ever"), row(out, note_id="flat")
    assert ever["eng_30d"] == pytest.approx(100) and ever["eng_90d"] == pytest.approx(200)
    assert ever["is_evergreen"] == True  # noqa: E712  (200-100)/200 = 0.5
    assert flat["is_evergreen"] == False  # noqa: E712  (120-100)/120 = 0.17
    assert ever["eng_2d"] == pytest.approx(10.0)
    assert ever["share_after_48h"] == pytest.approx(0.9)
    # no creator snapshot at all: followers, tier and er_7d null
    assert isnull(ever["followers"]) and ever["tier"] is None and isnull(ever["er_7d"])


def test_viral_against_the_authors_trailing_median():
    rows = []
    for i, e in enumerate([100, 120, 90, 1500, 80]):  # median 100 -> threshold max(1000, 1000)
        rows += note_rows(f"a{i}", "ua", f"2025-03-{i + 1:02d} 10:00", [("2025-03-20 10:00", e, 0, 0, 0)])
    for i, e in enumerate([200, 1500, 150, 2500, 300]):  # median 300 -> threshold 3000
        rows += note_rows(f"b{i}", "ub", f"2025-03-{i + 1:02d} 10:00", [("2025-03-20 10:00", e, 0, 0, 0)])
    # an old note of ub (published 100 days before) is in the 120-day note window but not in the 90-day median
    rows += note_rows("b_old", "ub", "2024-12-10 10:00", [("2025-03-20 10:00", 100000, 0, 0, 0)])
    out = note_metrics(
        pd.DataFrame(rows), pd.DataFrame(creator_rows("ua", [])), EMPTY_COMMENTS, NO_POSTS, [d("2025-03-20")]
    )
    viral = out.set_index("note_id")["is_viral"]
    assert viral[["a0", "a1", "a2", "a3", "a4"]].tolist() == [False, False, False, True, False]
    assert viral[["b0", "b1", "b2", "b3", "b4"]].tolist() == [False] * 5
    assert viral["b_old"] == True  # noqa: E712  100000 >= 3000


def test_note_window_is_the_trailing_120_days_in_shanghai_time():
    rows = note_rows("in", "u", "2024-11-22 00:30", [("2025-03-20 10:00", 1, 1, 0, 0)])  # D-118
    rows += note_rows("edge", "u", "2024-11-21 08:00", [("2025-03-20 10:00", 1, 1, 0, 0)])  # D-119 (00:00 UTC)
    rows += note_rows("out", "u", "2024-11-20 23:59", [("2025-03-20 10:00", 1, 1, 0, 0)])  # D-120
    out = note_metrics(
        pd.DataFrame(rows), pd.DataFrame(creator_rows("u", [])), EMPTY_COMMENTS, NO_POSTS, [d("2025-03-20")]
    )
    assert sorted(out["note_id"]) == ["edge", "in"]
    assert row(out, note_id="edge")["published_date"] == d("2024-11-21")


def test_sponsored_and_save_to_like():
    rows = note_rows("paid", "u", "2025-03-01 10:00", [("2025-03-05 10:00", 40, 10, 0, 0)])
    rows += note_rows("disc", "u", "2025-03-01 10:00", [("2025-03-05 10:00", 0, 10, 0, 0)], disclosed=True)
    rows += note_rows("org", "u", "2025-03-01 10:00", [("2025-03-05 10:00", 8, 2, 0, 0)])
    posts = pd.DataFrame(
        {
            "campaign_id": ["c1"],
            "note_id": ["paid"],
            "user_id": ["u"],
            "fee_cny": [100.0],
            "posted_date": [d("2025-03-01")],
        }
    )
    out = note_metrics(
        pd.DataFrame(rows), pd.DataFrame(creator_rows("u", [])), EMPTY_COMMENTS, posts, [d("2025-03-05")]
    ).set_index("note_id")
    assert out.loc[["paid", "org", "disc"], "is_sponsored"].tolist() == [True, False, True]
    assert out.loc["paid", "save_to_like"] == pytest.approx(0.25)
    assert isnull(out.loc["disc", "save_to_like"])  # likes = 0


def test_substantive_comment_share_counts_top_level_comments_seen_so_far():
    notes = pd.DataFrame(note_rows("n", "u", "2025-03-01 10:00", [("2025-03-02 10:00", 5, 1, 4, 0)]))

    def c(cid, day, sub, parent=None):
        return dict(
            comment_id=cid,
            note_id="n",
            user_id="x",
            parent_comment_id=parent,
            content="",
            created_at=ts(f"{day} 08:00"),
            like_count=0,
            comment_class=None,
            is_substantive=sub,
            crawled_at=ts(f"{day} 10:00"),
            snapshot_date=d(day),
        )

    comments = pd.DataFrame(
        [
            c("c1", "2025-03-02", True),
            c("c2", "2025-03-02", False),
            c("c1", "2025-03-03", True),
            c("c2", "2025-03-03", False),  # seen again: counted once
            c("r1", "2025-03-03", True, parent="c1"),  # a reply: not top-level
            c("c3", "2025-03-05", True),
        ]
    )
    out = note_metrics(
        notes, pd.DataFrame(creator_rows("u", [])), comments, NO_POSTS, days("2025-03-02", "2025-03-05")
    ).set_index("snapshot_date")
    share = out["substantive_comment_share"]
    assert share[d("2025-03-02")] == pytest.approx(0.5)
    assert share[d("2025-03-04")] == pytest.approx(0.5)
    assert share[d("2025-03-05")] == pytest.approx(2 / 3)


def test_single_crawl_horizons_null_while_ratios_and_curve_are_filled():
    rows = []
    rows += note_rows("x1", "u1", "2025-01-10 10:00", [("2025-03-20 10:00", 80, 20, 10, 0)], category="food")
    rows += note_rows("x2", "u1", "2025-03-15 10:00", [("2025-03-20 10:00", 40, 40, 0, 0)], category="food")
    rows += note_rows("x3", "u2", "2025-03-19 22:00", [("2025-03-20 09:00", 5, 5, 0, 0)], category="travel")
    rows += note_rows("x4", "u2", "2024-10-01 10:00", [("2025-03-20 10:00", 300, 0, 0, 0)], category="travel")
    notes = pd.DataFrame(rows)
    creators = pd.DataFrame(creator_rows("u1", [("2025-03-20", 1000)]) + creator_rows("u2", [("2025-03-20", 500)]))
    day = [d("2025-03-20")]
    nm = note_metrics(notes, creators, EMPTY_COMMENTS, NO_POSTS, day)
    assert sorted(nm["note_id"]) == ["x1", "x2", "x3"]  # x4 is older than 120 days
    for col in ("eng_7d", "eng_30d", "eng_90d", "half_life_days", "er_7d", "share_after_48h", "is_evergreen"):
        assert nm[col].isna().all(), col
    # ages 69 and 5 days: the (0,0) anchor is too far from 2 d; x3 is 11 hours old: nothing at or above 2 d
    assert nm["eng_2d"].isna().all()
    assert nm.set_index("note_id")["save_to_like"].to_dict() == pytest.approx({"x1": 0.25, "x2": 1.0, "x3": 1.0})
    sc = creator_scorecard(nm, creators, EMPTY_COMMENTS, None, day)
    tb = tier_benchmarks(sc, nm, notes, creators, day)
    assert tb.columns.tolist() == TIER_BENCHMARKS.column_names
    conform(tb, TIER_BENCHMARKS)
    allrow = row(tb, tier="nano", category="all")
    assert allrow["creators"] == 2
    # engagements / followers: x3 (age 0.46 d) 10/500; x2 (5 d) 80/1000; x1 (69 d) 110/1000; x4 (170 d) 300/500
    assert allrow["curve_0_2d"] == pytest.approx(0.02)
    assert allrow["curve_3_7d"] == pytest.approx(0.08)
    assert isnull(allrow["curve_8_30d"])
    assert allrow["curve_31_90d"] == pytest.approx(0.11)
    assert allrow["curve_91d_plus"] == pytest.approx(0.6)
    assert allrow["save_to_like_median"] == pytest.approx((0.625 + 1.0) / 2)  # u1 median(0.25, 1), u2 1.0
    food = row(tb, tier="nano", category="food")
    assert food["creators"] == 1 and food["curve_3_7d"] == pytest.approx(0.08) and isnull(food["curve_0_2d"])
    assert isnull(allrow["er_7d_median"])


# ------------------------------------------------------------------------------------------------ scorecard
NM_DAY = d("2025-06-30")


def nm_rows(user_id, n, *, published="2025-06-01", **cols):
    """n note_metrics rows of one creator on NM_DAY; each keyword column may be a scalar or a list of n values."""
    out = []
    for i in range(n):
        r = dict(
            snapshot_date=NM_DAY,
            note_id=f"{user_id}_{i}",
            user_id=user_id,
            published_date=d(published) if isinstance(published, str) else published[i],
            age_days=20.0,
            engagements=100,
            likes=80,
            saves=10,
            comments=10,
            shares=0,
            followers=None,
            tier=None,
            category=None,
            brands=[],
            is_sponsored=False,
            is_disclosed=False,
            eng_2d=None,
            eng_7d=None,
            eng_30d=None,
            eng_90d=None,
            er_7d=None,
            save_to_like=None,
            share_after_48h=None,
            half_life_days=None,
            is_evergreen=None,
            is_viral=False,
            substantive_comment_share=None,
            crawled_at=ts(f"{NM_DAY} 10:00"),
        )
        for k, v in cols.items():
            r[k] = v[i] if isinstance(v, list) else v
        out.append(r)
    return out


def snapshots_flat(user_id, followers, start="2025-06-25", end="2025-06-30"):
    return creator_rows(user_id, [(str(x), followers) for x in days(start, end)])


def card(nm_list, creators_list, comments=None, rate_card=None, settings=MetricSettings()):
    nm = pd.DataFrame(nm_list)
    cr = pd.DataFrame(creators_list)
    out = creator_scorecard(nm, cr, comments if comments is not None else EMPTY_COMMENTS, rate_card, [NM_DAY], settings)
    assert out.columns.tolist()[: len(CREATOR_SCORECARD.column_names)] == CREATOR_SCORECARD.column_names
    conform(out, CREATOR_SCORECARD)
    return out.set_index("user_id")


def test_niche_hhi_primary_category_and_medians():
    nm = nm_rows(
        "spec",
        5,
        category=["food", "food", "food", "travel", None],
        er_7d=[0.1, 0.2, 0.3, 0.4, None],
        save_to_like=[0.1, 0.1, 0.5, 0.5, 0.5],
        half_life_days=[1.0, 2.0, None, None, None],
    )
    nm += nm_rows("tie", 2, category=["food", "travel"], published=[d("2025-06-01"), d("2025-06-10")])
    sc = card(nm, snapshots_flat("spec", 5000) + snapshots_flat("tie", 5000))
    assert sc.loc["spec", "niche_hhi"] == pytest.approx(0.75**2 + 0.25**2)
    assert sc.loc["spec", "primary_category"] == "food"
    assert sc.loc["spec", "notes_90d"] == 5
    assert sc.loc["spec", "median_er_7d"] == pytest.approx(0.25)
    assert sc.loc["spec", "median_save_to_like"] == pytest.approx(0.5)
    assert sc.loc["spec", "median_half_life_days"] == pytest.approx(1.5)
    # tie between food and travel: the category of the most recent note wins
    assert sc.loc["tie", "primary_category"] == "travel" and sc.loc["tie", "niche_hhi"] == pytest.approx(0.5)
    assert sc.loc["tie", "nickname"] == "nick_tie" and sc.loc["tie", "tier"] == "nano"


def test_notes_older_than_90_days_count_only_for_evergreen_share():
    nm = nm_rows(
        "u",
        3,
        published=[d("2025-06-20"), d("2025-03-20"), d("2025-03-25")],
        is_evergreen=[None, True, False],
        er_7d=[0.1, 0.9, 0.9],
    )
    sc = card(nm, snapshots_flat("u", 5000))
    assert sc.loc["u", "notes_90d"] == 1
    assert sc.loc["u", "median_er_7d"] == pytest.approx(0.1)
    assert sc.loc["u", "evergreen_share"] == pytest.approx(0.5)


def test_follower_growth_cpe_and_disclosure():
    nm = nm_rows(
        "g",
        4,
        eng_30d=[100.0, 200.0, 300.0, None],
        is_sponsored=[True, True, True, False],
        is_disclosed=[True, True, False, False],
    )
    nm += nm_rows("h", 1, eng_30d=0.0)
    cr = creator_rows("g", [("2025-05-30", 1000), ("2025-06-29", 1500)])  # D-31 and D-1
    cr += creator_rows("h", [("2025-05-27", 1000), ("2025-06-30", 1500)])  # D-34: too far
    rc = pd.DataFrame({"user_id": ["g", "h"], "image_price_cny": [3000.0, 500.0], "video_price_cny": [None, None]})
    sc = card(nm, cr, rate_card=rc)
    assert sc.loc["g", "follower_growth_30d"] == pytest.approx(0.5)
    assert isnull(sc.loc["h", "follower_growth_30d"])
    assert sc.loc["g", "est_cpe_cny"] == pytest.approx(3000 / 200)
    assert isnull(sc.loc["h", "est_cpe_cny"])  # median eng_30d is 0
    assert sc.loc["g", "disclosure_rate"] == pytest.approx(2 / 3)
    assert isnull(sc.loc["h", "disclosure_rate"])  # no sponsored note
    sc2 = card(nm, cr, rate_card=None)
    assert isnull(sc2.loc["g", "est_cpe_cny"])


def test_creator_seen_only_through_an_old_snapshot_is_dropped():
    cr = creator_rows("recent", [("2025-06-01", 5000)]) + creator_rows("gone", [("2025-03-01", 5000)])
    sc = card(nm_rows("recent", 1), cr)
    assert sc.index.tolist() == ["recent"]


def test_low_er_for_tier_flag():
    nm = []
    for u, er in (("a", 0.10), ("b", 0.12), ("c", 0.08), ("d", 0.01), ("e", 0.03)):
        nm += nm_rows(u, 2, er_7d=er)
    cr = sum((snapshots_flat(u, 5000) for u in "abcde"), [])
    cr += snapshots_flat("big", 200_000)  # another tier: not a peer
    nm += nm_rows("big", 2, er_7d=0.001)
    sc = card(nm, cr)
    # nano median of medians = 0.08 -> threshold 0.02: d flagged, e (0.03) not; big alone in its tier
    assert sc.loc["d", "authenticity_flags"] == ["low_er_for_tier"]
    assert sc.loc["e", "authenticity_flags"] == []
    assert sc.loc["big", "authenticity_flags"] == []
    assert sc.loc["d", "authenticity_score"] == pytest.approx(0.75)
    assert sc.loc["a", "authenticity_score"] == pytest.approx(1.0)


def test_low_comment_to_like_flag():
    nm = []
    for u, com in (("a", 10), ("b", 10), ("c", 10), ("d", 1), ("e", 3)):
        nm += nm_rows(u, 2, likes=100, comments=com)
    cr = sum((snapshots_flat(u, 5000) for u in "abcde"), [])
    sc = card(nm, cr)
    # ratios 0.1 0.1 0.1 0.01 0.03 -> tier median 0.1 -> threshold 0.02
    assert sc.loc["d", "authenticity_flags"] == ["low_comment_to_like"]
    assert sc.loc["e", "authenticity_flags"] == [] and sc.loc["a", "authenticity_flags"] == []


def test_follower_spike_flag():
    nm = nm_rows("explained", 1, published=[d("2025-06-19")])  # published the day before its spike
    cr = []
    spike = [("2025-06-18", 5000), ("2025-06-19", 5000), ("2025-06-20", 8000), ("2025-06-21", 8000)]
    cr += creator_rows("bot", spike)  # +60 %, +3000, no note -> flagged
    cr += creator_rows("explained", spike)
    cr += creator_rows("small", [("2025-06-19", 5000), ("2025-06-20", 5900)])  # +18 %
    cr += creator_rows("tiny", [("2025-06-19", 2000), ("2025-06-20", 2900)])  # +45 % but +900
    cr += creator_rows("old", [("2025-03-01", 1000), ("2025-03-02", 9000), ("2025-06-30", 9000)])  # spike > 90 d ago
    sc = card(nm, cr)
    assert sc.loc["bot", "authenticity_flags"] == ["follower_spike"]
    for u in ("explained", "small", "tiny", "old"):
        assert sc.loc[u, "authenticity_flags"] == [], u


def test_duplicate_comments_flag():
    def comments_for(user, n_total, n_dup):
        rows = []
        for i in range(n_total):
            text = (
                ["好用好用！[赞R]", "好用 好用", "@小美 好用好用"][i % 3] if i < n_dup else f"第{i}条不一样的评论内容"
            )
            rows.append(
                dict(
                    comment_id=f"{user}_c{i}",
                    note_id=f"{user}_0",
                    user_id=f"v{i}",
                    parent_comment_id=None,
                    content=text,
                    created_at=ts("2025-06-20 10:00"),
                    like_count=0,
                    comment_class="other",
                    is_substantive=True,
                    crawled_at=ts("2025-06-20 10:00"),
                    snapshot_date=d("2025-06-20"),
                )
            )
        return rows

    comments = pd.DataFrame(comments_for("dup", 20, 8) + comments_for("few", 19, 10) + comments_for("edge", 20, 6))
    nm = nm_rows("dup", 1) + nm_rows("few", 1) + nm_rows("edge", 1)
    cr = snapshots_flat("dup", 5000) + snapshots_flat("few", 5000) + snapshots_flat("edge", 5000)
    sc = card(nm, cr, comments=comments)
    assert sc.loc["dup", "authenticity_flags"] == ["duplicate_comments"]  # 8/20 = 0.4 > 0.3
    assert sc.loc["few", "authenticity_flags"] == []  # 19 < 20 comments
    assert sc.loc["edge", "authenticity_flags"] == []  # 6/20 = 0.3, not above
    assert sc.loc["dup", "comments_90d"] == 20
    assert sc.loc["dup", "substantive_comment_share"] == pytest.approx(1.0)


def test_score_and_rank_within_tier_and_category():
    nm = []
    for u, er, s2l in (("best", 0.3, 0.9), ("mid", 0.2, 0.5), ("low", 0.1, 0.1)):
        nm += nm_rows(u, 2, er_7d=er, save_to_like=s2l, category="food")
    nm += nm_rows("other_cat", 2, er_7d=0.05, save_to_like=0.05, category="travel")
    cr = sum((snapshots_flat(u, 5000) for u in ("best", "mid", "low", "other_cat")), [])
    sc = card(nm, cr)
    assert sc.loc["best", "score"] > sc.loc["mid", "score"] > sc.loc["low", "score"]
    assert [sc.loc[u, "rank_in_tier_category"] for u in ("best", "mid", "low", "other_cat")] == [1, 2, 3, 1]
    # components present: er (0.35) save_to_like (0.20) authenticity (0.10); percentile ranks within nano:
    # best er 4/4, s2l 4/4, authenticity ties (all 1.0) -> 2.5/4
    assert sc.loc["best", "score"] == pytest.approx((0.35 * 1 + 0.20 * 1 + 0.10 * 0.625) / 0.65)


# ------------------------------------------------------------------------------------------------ benchmarks
def test_tier_benchmark_quantiles_per_tier_and_category():
    nm = []
    for u, er, cat in (("a", 0.1, "food"), ("b", 0.2, "food"), ("c", 0.3, "food"), ("e", 0.5, "travel")):
        nm += nm_rows(u, 1, er_7d=er, category=cat)
    cr = sum((snapshots_flat(u, 5000) for u in "abce"), [])
    sc = creator_scorecard(pd.DataFrame(nm), pd.DataFrame(cr), EMPTY_COMMENTS, None, [NM_DAY])
    tb = tier_benchmarks(sc, pd.DataFrame(nm), None, pd.DataFrame(cr), [NM_DAY])
    food = row(tb, tier="nano", category="food")
    assert food["creators"] == 3
    assert (food["er_7d_p25"], food["er_7d_median"], food["er_7d_p75"]) == pytest.approx((0.15, 0.2, 0.25))
    alls = row(tb, tier="nano", category="all")
    assert alls["creators"] == 4 and alls["er_7d_median"] == pytest.approx(0.25)
    assert row(tb, tier="nano", category="travel")["creators"] == 1


# ------------------------------------------------------------------------------------------------ real crawl
def _read_real_notes() -> pd.DataFrame:
    def count(s: pd.Series) -> pd.Series:
        s = s.astype(str).str.strip().str.replace("+", "", regex=False)
        mult = np.where(
            s.str.endswith("万") | s.str.lower().str.endswith("w"),
            10_000,
            np.where(s.str.lower().str.endswith("k"), 1_000, 1),
        )
        num = pd.to_numeric(s.str.rstrip("万wWkK"), errors="coerce")
        return (num * mult).round().astype("Int64")

    rows = []
    for f in sorted(glob.glob(str(REAL / "*" / "*contents*.json"))):
        rows += json.loads(Path(f).read_text(encoding="utf-8"))
    df = pd.DataFrame(rows)
    out = pd.DataFrame(
        {
            "note_id": df["note_id"],
            "user_id": df["user_id"],
            "published_at": pd.to_datetime(pd.to_numeric(df["time"]), unit="ms", utc=True),
            "crawled_at": pd.to_datetime(pd.to_numeric(df["last_modify_ts"]), unit="ms", utc=True),
            "likes": count(df["liked_count"]),
            "saves": count(df["collected_count"]),
            "comments": count(df["comment_count"]),
            "shares": count(df["share_count"]),
        }
    )
    out["engagements"] = out["likes"] + out["saves"] + out["comments"] + out["shares"]
    out["category"] = None
    out["brands"] = [[] for _ in range(len(out))]
    out["is_disclosed"] = False
    out["snapshot_date"] = out["crawled_at"].dt.tz_convert(SH).dt.date
    return out.sort_values("crawled_at").drop_duplicates(["note_id", "snapshot_date"], keep="last")


@pytest.mark.skipif(not REAL.is_dir(), reason=f"real MediaCrawler crawl not present at {REAL}")
def test_real_single_crawl_data():
    notes = _read_real_notes()
    dates = sorted(notes["snapshot_date"].unique())
    main = [x for x in dates if d("2025-03-11") <= x <= d("2025-03-22")]
    out = note_metrics(notes, pd.DataFrame(creator_rows("none", [])), EMPTY_COMMENTS, NO_POSTS, main)
    assert len(out) > 100
    for col in ("eng_7d", "eng_30d", "eng_90d", "half_life_days", "share_after_48h", "is_evergreen", "er_7d"):
        assert out[col].isna().all(), col
    # E(2) exists only where the contract allows it with one crawl: the (0,0) publish instant is 2 days below 2 d,
    # so a note crawled at an age of 2 to 4 days gets E(2) = 2 / age x E; every other note has a null eng_2d.
    fresh = out["age_days"].between(2.0, 4.0).to_numpy()
    assert out.loc[~fresh, "eng_2d"].isna().all()
    got = out.loc[fresh, "eng_2d"].to_numpy(dtype="float64")
    want = (2.0 / out.loc[fresh, "age_days"] * out.loc[fresh, "engagements"]).to_numpy(dtype="float64")
    np.testing.assert_allclose(got, want)
    filled = out["save_to_like"].notna()
    assert filled.mean() > 0.9  # null only where likes = 0
    assert (out.loc[~filled, "likes"] == 0).all()


def _float_by_objects(x):
    """The former `float_array`: every value through an object array and to_numeric."""
    a = pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce").to_numpy(dtype="float64")
    return pd.array(np.where(np.isfinite(a), a, np.nan), dtype="Float64")


def _int_by_objects(x):
    return pd.array(pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce"), dtype="Int64")


@pytest.mark.parametrize(
    "values",
    [
        np.array([1.5, np.nan, np.inf, -np.inf, 0.0]),
        np.array([1, 2, 3]),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([1.5, None, 2.0], dtype="Float64"),
        pd.Series([1.0, np.nan, 3.0]),
        pd.array([4, None], dtype="Int64"),
        np.array(["1", "x", None], dtype=object),
        pd.Series([True, False]),
        pd.Series(["2", None], dtype=object),
        np.array([2.0, np.nan]),
    ],
    ids=lambda v: f"{type(v).__name__}-{getattr(v, 'dtype', '')}",
)
def test_float_and_int_convert_numbers_directly(values):
    """`float_array`/`int_array` take numbers without the object round trip; the result (or the error) is the one of the
    conversion through objects, for numpy, nullable and object inputs."""
    from kol_pipeline_tests.reference_metrics import float_array, int_array

    assert float_array(values).equals(_float_by_objects(values))
    try:
        want, want_err = _int_by_objects(values), None
    except (TypeError, ValueError, OverflowError) as exc:
        want, want_err = None, type(exc)
    if want_err is None:
        assert int_array(values).equals(want)
    else:
        with pytest.raises(want_err):
            int_array(values)


def _former_note_aggregates(nm: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """finish_scorecard's note aggregates as they were computed before the integer pair keys: groupby and join on
    (user_id, D)."""
    n90 = nm[nm["in90"]].copy()
    for col in ("er_7d", "save_to_like", "half_life_days", "eng_30d", "comments", "likes"):
        n90[col] = pd.to_numeric(n90[col], errors="coerce").astype("float64")
    n90["spons"] = n90["is_sponsored"].astype("boolean").fillna(False).astype(bool)
    n90["disc"] = n90["spons"] & n90["is_disclosed"].astype("boolean").fillna(False).astype(bool)
    g = n90.groupby(["user_id", "D"])
    agg = pd.DataFrame(
        {
            "notes_90d": g.size(),
            "median_er_7d": g["er_7d"].median(),
            "median_half_life_days": g["half_life_days"].median(),
            "med_eng_30d": g["eng_30d"].median(),
            "sum_likes": g["likes"].sum(min_count=1),
            "n_spons": g["spons"].sum(),
            "n_disc": g["disc"].sum(),
        }
    )
    ev_rows = nm[nm["is_evergreen"].notna()]
    ev_share = (
        ev_rows.assign(ev=ev_rows["is_evergreen"].astype(bool).astype("float64"))
        .groupby(["user_id", "D"])["ev"]
        .mean()
        .rename("evergreen_share")
    )
    cat = n90[n90["category"].notna()]
    cc = cat.groupby(["user_id", "D", "category"]).agg(n=("note_id", "size"), last_pub=("pub", "max")).reset_index()
    cc["share"] = cc["n"] / cc.groupby(["user_id", "D"])["n"].transform("sum")
    hhi = (cc["share"] ** 2).groupby([cc["user_id"], cc["D"]]).sum().rename("niche_hhi")
    prim = (
        cc.sort_values(
            ["user_id", "D", "n", "last_pub", "category"], ascending=[True, True, False, False, True], kind="mergesort"
        )
        .drop_duplicates(["user_id", "D"])
        .set_index(["user_id", "D"])["category"]
        .rename("primary_category")
    )
    return (
        pairs[["user_id", "D"]]
        .join(agg, on=["user_id", "D"])
        .join(ev_share, on=["user_id", "D"])
        .join(hhi, on=["user_id", "D"])
        .join(prim, on=["user_id", "D"])
    )


def test_note_aggregates_of_the_sql_equal_the_former_join():
    """The scorecard's note aggregates (lib/metrics/creator_scorecard.sql) equal the former pandas groupby/join on
    (user_id, D) on random notes: ties on count and last publish day, non-ASCII categories, null categories and
    evergreen flags, notes of creators the compared pairs do not hold, null user ids."""
    from kol_pipeline.lib import duck
    from kol_pipeline.lib.metrics import creator_scorecard as scorecard_sql

    rng = np.random.default_rng(7)
    n = 3000
    days_ = pd.to_datetime(["2025-06-28", "2025-06-29", "2025-06-30"]).to_numpy(dtype="datetime64[ns]")
    users = np.array([f"u{i}" for i in range(60)] + ["é", "Z", "z"], dtype=object)
    nm = pd.DataFrame(
        {
            "note_id": [f"n{i}" for i in range(n)],
            "user_id": pd.Series(rng.choice(users, n), dtype=object).where(rng.random(n) > 0.02, None),
            "D": days_[rng.integers(0, 3, n)],
            "in90": rng.random(n) > 0.2,
            "pub": pd.to_datetime("2025-06-01") + pd.to_timedelta(rng.integers(0, 6, n), unit="D"),
            "category": pd.Series(rng.choice(["food", "travel", "美妆", "Beauty", "beauty"], n), dtype=object).where(
                rng.random(n) > 0.2, None
            ),
            "er_7d": np.where(rng.random(n) > 0.3, rng.random(n), np.nan),
            "save_to_like": rng.random(n),
            "half_life_days": np.where(rng.random(n) > 0.5, rng.random(n) * 9, np.nan),
            "eng_30d": rng.integers(0, 500, n).astype(float),
            "comments": rng.integers(0, 50, n),
            "likes": rng.integers(0, 900, n),
            "is_sponsored": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
            "is_disclosed": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
            "is_evergreen": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
        }
    )
    scored = np.concatenate([users[:-5], [f"quiet{i}" for i in range(4)]])  # creators without notes too
    pairs = pd.DataFrame({"user_id": np.repeat(scored, 3), "D": np.tile(days_, len(scored))})
    pairs = pairs.sample(frac=1.0, random_state=3).reset_index(drop=True)  # not in any particular order

    # the query derives in90 from the publish day: the notes outside it published 100 days earlier
    nm["pub"] = nm["pub"].where(nm["in90"], nm["pub"] - pd.Timedelta(days=100))
    sql_nm = nm.assign(snapshot_date=nm["D"].dt.date, published_date=nm["pub"].dt.date, crawled_at=pd.NaT).drop(
        columns=["D", "in90", "pub"]
    )
    # every compared creator with a snapshot of 5,000 followers on each day
    state = pairs.assign(
        snapshot_date=pairs["D"].dt.date,
        nickname="nick",
        followers_by_day=[[5000.0] + [None] * 124] * len(pairs),
    )
    empty_stats = pd.DataFrame(columns=["snapshot_date", "user_id", "n_all", "n_dup", "n_top", "n_top_sub"])
    with duck.connect() as con:
        got = scorecard_sql.creator_scorecard(
            con, sql_nm, state, empty_stats, None, sorted(set(sql_nm["snapshot_date"])), MetricSettings()
        )
    k = len(pairs)
    # the query also scores the notes' other authors (creators seen by their notes): compare the pairs
    got = got[got["user_id"].isin(set(pairs["user_id"]))]
    want = _former_note_aggregates(nm, pairs)
    got = got.assign(D=pd.to_datetime(got["snapshot_date"])).set_index(["user_id", "D"]).sort_index()
    want = want.set_index(["user_id", "D"]).sort_index()
    assert len(got) == len(want) == k
    assert want["primary_category"].notna().sum() > 100 and want["primary_category"].isna().sum() > 0
    want["primary_category"] = want["primary_category"].astype(object).where(want["primary_category"].notna(), None)
    for col in ("median_er_7d", "median_half_life_days", "niche_hhi", "evergreen_share", "primary_category"):
        pd.testing.assert_series_equal(
            got[col].astype(object if col == "primary_category" else "float64"), want[col], check_names=False, obj=col
        )
    assert (got["notes_90d"].to_numpy() == want["notes_90d"].fillna(0).to_numpy()).all()
    want_disc = np.where(want["n_spons"] > 0, want["n_disc"] / want["n_spons"].where(want["n_spons"] > 0, 1), np.nan)
    np.testing.assert_allclose(got["disclosure_rate"].to_numpy(dtype=float), want_disc)


def test_float_columns_are_nullable_with_nan_and_inf_as_null():
    """`float_array` (every float column of the metric tables): numbers, nullable numbers and other values; NaN, inf and
    non-numbers become <NA>; the result equals pandas' own Float64 conversion."""
    from kol_pipeline_tests.reference_metrics import float_array

    values = [1.5, np.nan, np.inf, -np.inf, 0.0, -2.25]
    want = pd.array([1.5, None, None, None, 0.0, -2.25], dtype="Float64")
    for x in (
        np.array(values),
        pd.Series(values),
        pd.Series(pd.array([1.5, None, None, None, 0.0, -2.25], dtype="Float64")),
        pd.Series(["1.5", None, "x", float("inf"), 0, "-2.25"], dtype=object),
    ):
        got = float_array(x)
        assert got.dtype == "Float64" and got.isna().tolist() == [False, True, True, True, False, False]
        pd.testing.assert_extension_array_equal(got, want)
    assert len(float_array(np.array([], dtype=float))) == 0
