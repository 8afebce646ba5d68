"""Hand-computed cases for the brand and campaign marts (kol_pipeline/lib/marts/brand_search_lift.py, checks.py and
the SQL marts of kol_pipeline/lib/marts/, run here on the tiny frames). Expected numbers are worked out in the comments from the
tiny frames built here, never taken from the code's output."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts import brand_creator_relationships as bcr_query
from kol_pipeline.lib.marts import brand_search_lift as bsl_lib
from kol_pipeline.lib.marts import campaign_performance as cp_query
from kol_pipeline.lib.marts import checks
from kol_pipeline.lib.marts import creator_shortlist as cs_query
from kol_pipeline.lib.marts import keyword_share_of_voice as sov_query
from kol_pipeline.lib.marts import tier_comparison as tc_query
from kol_pipeline.lib.schemas import (
    BRAND_CREATOR_RELATIONSHIPS,
    BRAND_SEARCH_LIFT,
    CAMPAIGN_PERFORMANCE,
    CREATOR_SHORTLIST,
    KEYWORD_SHARE_OF_VOICE,
    TABLES,
    TIER_COMPARISON,
    conform,
)
from kol_pipeline.lib.settings import MetricSettings

# about 21 s: sent to a worker early, and left to the main suite by CI's second Python (.ci/run)
pytestmark = pytest.mark.heavy(21)

D = dt.date


def utc(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def notes_frame(rows: list[dict]) -> pd.DataFrame:
    base = {
        "user_id": None,
        "title": "",
        "description": "",
        "tags": [],
        "published_at": None,
        "crawled_at": None,
        "likes": 0,
        "saves": 0,
        "comments": 0,
        "shares": 0,
        "engagements": 0,
        "brands": [],
        "is_disclosed": False,
    }
    out = []
    for r in rows:
        x = {**base, **r}
        x["published_at"] = utc(x["published_at"])
        x["crawled_at"] = x["crawled_at"] or pd.Timestamp(x["snapshot_date"]).tz_localize("UTC")
        out.append(x)
    return pd.DataFrame(out)


def creators_frame(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"user_id": u, "snapshot_date": D.fromisoformat(d), "followers": f, "nickname": u} for u, d, f in rows]
    )


def campaign_performance(*args, **kw) -> pd.DataFrame:
    """The SQL mart (lib/marts/campaign_performance.sql) on the given frames, on a fresh DuckDB connection."""
    with duck.connect() as con:
        return cp_query.campaign_performance(con, *args, **kw)


def keyword_share_of_voice(*args, **kw) -> pd.DataFrame:
    with duck.connect() as con:
        return sov_query.keyword_share_of_voice(con, *args, **kw)


def tier_comparison(*args, **kw) -> pd.DataFrame:
    with duck.connect() as con:
        return tc_query.tier_comparison(con, *args, **kw)


def creator_shortlist(*args, **kw) -> pd.DataFrame:
    with duck.connect() as con:
        return cs_query.creator_shortlist(con, *args, **kw)


def row(df: pd.DataFrame, **keys) -> pd.Series:
    m = np.ones(len(df), dtype=bool)
    for k, v in keys.items():
        m &= (df[k] == v).to_numpy()
    assert m.sum() == 1, f"expected one row for {keys}, got {m.sum()}"
    return df[m].iloc[0]


# --------------------------------------------------------------------------------------------------------------
# campaign_performance
# --------------------------------------------------------------------------------------------------------------

D1 = D(2025, 3, 20)
D2 = D(2025, 4, 10)
D3, D4, D5 = D(2025, 4, 11), D(2025, 4, 12), D(2025, 4, 13)


@pytest.fixture()
def campaign_inputs():
    campaigns = pd.DataFrame(
        [
            {
                "campaign_id": "C1",
                "brand": "Glow",
                "phase": "launch",
                "start_date": D(2025, 3, 1),
                "end_date": D(2025, 3, 31),
                "target_keywords": ["serum", "精华液"],
                "budget_cny": 10000.0,
            },
            {
                "campaign_id": "C2",
                "brand": "Glow",
                "phase": "sustain",
                "start_date": D(2025, 3, 25),
                "end_date": D(2025, 4, 30),
                "target_keywords": ["面霜"],
                "budget_cny": 5000.0,
            },
        ]
    )
    posts = pd.DataFrame(
        [
            {"campaign_id": "C1", "note_id": "n1", "user_id": "u1", "fee_cny": 1000.0, "posted_date": D(2025, 3, 2)},
            {"campaign_id": "C1", "note_id": "n2", "user_id": "u2", "fee_cny": 3000.0, "posted_date": D(2025, 3, 19)},
            {"campaign_id": "C1", "note_id": "n3", "user_id": "u3", "fee_cny": 500.0, "posted_date": D(2025, 3, 5)},
            {"campaign_id": "C1", "note_id": "n4", "user_id": "u1", "fee_cny": 2000.0, "posted_date": D(2025, 3, 25)},
        ]
    )
    # n1: "serum" only in a tag, upper case -> keyword hit; disclosed. n2: no keyword, not disclosed.
    # n2 published 2025-03-18 17:00 UTC = 2025-03-19 01:00 Asia/Shanghai. n3, n4: never crawled.
    notes = notes_frame(
        [
            {
                "note_id": "n1",
                "user_id": "u1",
                "title": "新品测评",
                "description": "一周体验",
                "tags": ["SERUM", "护肤"],
                "published_at": "2025-03-02 02:00",
                "engagements": 800,
                "saves": 180,
                "is_disclosed": True,
                "brands": ["Glow"],
                "snapshot_date": D(2025, 3, 19),
            },
            {
                "note_id": "n1",
                "user_id": "u1",
                "title": "新品测评",
                "description": "一周体验",
                "tags": ["SERUM", "护肤"],
                "published_at": "2025-03-02 02:00",
                "engagements": 900,
                "saves": 200,
                "is_disclosed": True,
                "brands": ["Glow"],
                "snapshot_date": D(2025, 3, 20),
            },
            {
                "note_id": "n2",
                "user_id": "u2",
                "title": "日常分享",
                "description": "好用",
                "tags": ["面霜"],
                "published_at": "2025-03-18 17:00",
                "engagements": 150,
                "saves": 30,
                "is_disclosed": False,
                "brands": [],
                "snapshot_date": D(2025, 3, 20),
            },
        ]
    )
    nm_cols = [
        "snapshot_date",
        "note_id",
        "user_id",
        "published_date",
        "engagements",
        "saves",
        "eng_30d",
        "er_7d",
        "is_disclosed",
    ]
    note_metrics = pd.DataFrame(
        [
            # a stale day that must be ignored for D1
            (D(2025, 3, 19), "n1", "u1", D(2025, 3, 2), 800, 180, np.nan, 0.5, True),
            (D1, "n1", "u1", D(2025, 3, 2), 900, 200, np.nan, 0.10, True),
            (D1, "n2", "u2", D(2025, 3, 19), 150, 30, np.nan, np.nan, False),
            (D2, "n1", "u1", D(2025, 3, 2), 1700, 400, 1500.0, 0.10, True),
            (D2, "n2", "u2", D(2025, 3, 19), 300, 60, np.nan, 0.20, False),
        ],
        columns=nm_cols,
    )
    # u1: 5,000 on 03-01 (nano), 12,000 on 03-03 (micro): n1 published 03-02 is 1 day from both -> earlier -> nano.
    # u2: 200,000 on 03-10 (mid) and 600,000 on 03-21 (macro, after D1): n2 published 03-19 -> mid as of D1.
    # u3: no snapshot -> unknown.
    creators = creators_frame(
        [
            ("u1", "2025-03-01", 5000),
            ("u1", "2025-03-03", 12000),
            ("u2", "2025-03-10", 200000),
            ("u2", "2025-03-21", 600000),
        ]
    )
    return campaigns, posts, notes, note_metrics, creators


def test_campaign_performance_hand_computed(campaign_inputs):
    campaigns, posts, notes, nm, creators = campaign_inputs
    out = campaign_performance(campaigns, posts, nm, notes, creators, [D1], MetricSettings())
    assert list(out.columns[: len(CAMPAIGN_PERFORMANCE.columns)]) == CAMPAIGN_PERFORMANCE.column_names
    conform(out, CAMPAIGN_PERFORMANCE)  # casts to the Parquet schema
    # C2 starts after D1: absent. C1 rows: all, nano, mid, unknown (in that order).
    assert set(out["campaign_id"]) == {"C1"}
    assert out["tier"].tolist() == ["all", "nano", "mid", "unknown"]

    a = row(out, tier="all")
    assert a["brand"] == "Glow" and a["phase"] == "launch" and a["snapshot_date"] == D1
    assert a["creators"] == 3 and a["notes"] == 3  # n4 is posted after D1
    assert a["spend_cny"] == pytest.approx(4500.0)
    assert a["engagements"] == pytest.approx(1050.0)  # 900 (n1, no eng_30d yet) + 150 (n2); n3 unmeasured
    assert a["saves"] == pytest.approx(230.0)
    assert a["cpe_cny"] == pytest.approx(4500 / 1050)
    assert a["cost_per_save_cny"] == pytest.approx(4500 / 230)
    assert a["median_er_7d"] == pytest.approx(0.10)
    assert a["keyword_coverage"] == pytest.approx(0.5)  # n1 hits via tag, n2 does not; n3 has no text
    assert a["disclosure_rate"] == pytest.approx(0.5)
    assert a["density_ok"] is False or a["density_ok"] == False  # noqa: E712  3 creators < 15
    assert a["notes_measured"] == 2
    assert a["spend_measured_cny"] == pytest.approx(4000.0)
    assert a["matched_cpe_cny"] == pytest.approx(4000 / 1050)

    nano = row(out, tier="nano")  # n1: tie between 03-01 and 03-03 snapshots -> earlier -> nano
    assert (nano["creators"], nano["notes"]) == (1, 1)
    assert nano["spend_cny"] == pytest.approx(1000.0)
    assert nano["cpe_cny"] == pytest.approx(1000 / 900)
    assert nano["cost_per_save_cny"] == pytest.approx(5.0)
    assert nano["keyword_coverage"] == pytest.approx(1.0)
    assert nano["disclosure_rate"] == pytest.approx(1.0)
    assert pd.isna(nano["density_ok"])

    mid = row(out, tier="mid")  # snapshot of 03-21 is after D1 and must not be used
    assert mid["spend_cny"] == pytest.approx(3000.0)
    assert mid["cpe_cny"] == pytest.approx(20.0)
    assert mid["cost_per_save_cny"] == pytest.approx(100.0)
    assert pd.isna(mid["median_er_7d"])
    assert mid["keyword_coverage"] == pytest.approx(0.0)
    assert mid["disclosure_rate"] == pytest.approx(0.0)

    unk = row(out, tier="unknown")  # never crawled, author without snapshot
    assert unk["spend_cny"] == pytest.approx(500.0)
    for col in (
        "engagements",
        "saves",
        "cpe_cny",
        "cost_per_save_cny",
        "median_er_7d",
        "keyword_coverage",
        "disclosure_rate",
        "density_ok",
    ):
        assert pd.isna(unk[col]), col
    assert all(c.passed for c in checks.check_campaign_performance(out, posts)), checks.check_campaign_performance(
        out, posts
    )


def test_campaign_performance_second_day_uses_eng_30d_and_new_posts(campaign_inputs):
    campaigns, posts, notes, nm, creators = campaign_inputs
    out = campaign_performance(campaigns, posts, nm, notes, creators, [D2, D1], MetricSettings())
    assert sorted(set(out["snapshot_date"])) == [D1, D2]
    a = row(out, snapshot_date=D2, campaign_id="C1", tier="all")
    assert a["notes"] == 4 and a["creators"] == 3
    assert a["spend_cny"] == pytest.approx(6500.0)
    assert a["engagements"] == pytest.approx(1500.0 + 300.0)  # eng_30d of n1, latest of n2
    assert a["saves"] == pytest.approx(460.0)
    assert a["median_er_7d"] == pytest.approx(0.15)
    # n4 (posted 03-25, never crawled): u1's nearest snapshot to 03-25 is 03-03 (micro)
    micro = row(out, snapshot_date=D2, campaign_id="C1", tier="micro")
    assert micro["spend_cny"] == pytest.approx(2000.0) and pd.isna(micro["engagements"])
    # C2 started 03-25 without posts: an `all` row with zero notes and spend, null rates
    c2 = row(out, snapshot_date=D2, campaign_id="C2", tier="all")
    assert c2["notes"] == 0 and c2["creators"] == 0 and c2["spend_cny"] == 0.0
    assert pd.isna(c2["engagements"]) and pd.isna(c2["cpe_cny"]) and c2["density_ok"] == False  # noqa: E712
    assert c2["phase"] == "sustain"
    assert all(c.passed for c in checks.check_campaign_performance(out, posts))


@pytest.mark.parametrize("n_creators, expected", [(14, False), (15, True)])
def test_density_ok_threshold(n_creators, expected):
    campaigns = pd.DataFrame(
        [
            {
                "campaign_id": "C",
                "brand": "B",
                "phase": "launch",
                "start_date": D(2025, 1, 1),
                "end_date": D(2025, 2, 1),
                "target_keywords": ["x"],
                "budget_cny": 1.0,
            }
        ]
    )
    # n_creators creators, the first one posting twice (so notes != creators)
    posts = pd.DataFrame(
        [
            {"campaign_id": "C", "note_id": f"p{i}", "user_id": f"u{i}", "fee_cny": 100.0, "posted_date": D(2025, 1, 2)}
            for i in range(n_creators)
        ]
        + [{"campaign_id": "C", "note_id": "extra", "user_id": "u0", "fee_cny": 100.0, "posted_date": D(2025, 1, 3)}]
    )
    empty_nm = pd.DataFrame(
        columns=[
            "snapshot_date",
            "note_id",
            "user_id",
            "published_date",
            "engagements",
            "saves",
            "eng_30d",
            "er_7d",
            "is_disclosed",
        ]
    )
    empty_notes = notes_frame([]).reindex(
        columns=[
            "note_id",
            "user_id",
            "title",
            "description",
            "tags",
            "published_at",
            "crawled_at",
            "engagements",
            "saves",
            "brands",
            "is_disclosed",
            "snapshot_date",
        ]
    )
    creators = creators_frame([(f"u{i}", "2025-01-01", 20000) for i in range(n_creators)])
    out = campaign_performance(campaigns, posts, empty_nm, empty_notes, creators, [D(2025, 1, 10)])
    a = row(out, tier="all")
    assert a["creators"] == n_creators and a["notes"] == n_creators + 1
    assert bool(a["density_ok"]) is expected
    assert pd.isna(row(out, tier="micro")["density_ok"])
    assert pd.isna(a["engagements"]) and pd.isna(a["cpe_cny"])  # nothing crawled: null, not 0


def test_check_campaign_performance_catches_wrong_spend(campaign_inputs):
    campaigns, posts, notes, nm, creators = campaign_inputs
    out = campaign_performance(campaigns, posts, nm, notes, creators, [D1])
    bad = out.copy()
    bad.loc[bad["tier"] == "all", "spend_cny"] = 1.0
    bad.loc[bad["tier"] == "nano", "density_ok"] = True
    res = {c.name: c for c in checks.check_campaign_performance(bad, posts)}
    assert not res["spend_matches_campaign_posts"].passed
    assert res["spend_matches_campaign_posts"].details["count"] == 1
    assert not res["tiers_add_up_to_all"].passed
    assert not res["density_ok_on_all_rows"].passed
    assert res["unique_keys"].passed


# --------------------------------------------------------------------------------------------------------------
# keyword_share_of_voice
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture()
def sov_inputs():
    brands = pd.DataFrame(
        [
            {"brand": "Glow", "aliases": [], "category": "skincare", "control_keyword": None},
            {"brand": "Lumi", "aliases": [], "category": "food", "control_keyword": None},
        ]
    )
    campaigns = pd.DataFrame(
        [
            {
                "campaign_id": "C1",
                "brand": "Glow",
                "phase": "launch",
                "start_date": D(2025, 3, 1),
                "end_date": D(2025, 3, 31),
                "target_keywords": ["精华"],
                "budget_cny": 1.0,
            }
        ]
    )
    posts = pd.DataFrame(
        [{"campaign_id": "C1", "note_id": "n3", "user_id": "u3", "fee_cny": 10.0, "posted_date": D(2025, 3, 5)}]
    )
    notes = notes_frame(
        [
            {"note_id": "n1", "user_id": "u1", "published_at": "2025-03-02", "brands": ["Glow"], "snapshot_date": D1},
            {"note_id": "n2", "user_id": "u2", "published_at": "2025-03-02", "brands": [], "snapshot_date": D1},
            {
                "note_id": "n6",
                "user_id": "u2",
                "published_at": "2025-03-02",
                "brands": ["glow", "Lumi"],
                "snapshot_date": D1,
            },
            {"note_id": "n7", "user_id": "u1", "published_at": "2025-03-02", "brands": ["Glow"], "snapshot_date": D1},
            {"note_id": "n8", "user_id": "u4", "published_at": "2025-03-02", "brands": ["Lumi"], "snapshot_date": D1},
        ]
    )
    rk = [
        ("精华", 1, "n1"),
        ("精华", 2, "n2"),
        ("精华", 3, "n3"),  # never crawled, but a Glow campaign post (author u3, no snapshot -> unknown)
        ("精华", 3, "n5"),  # tie at rank 3; never crawled, in no campaign -> result without a mention
        ("精华", 5, "n6"),  # gap at 4
        ("精华", 6, "n1"),  # listed twice: counted once
        ("精华", 21, "n7"),  # outside the top 20
        ("面霜", 1, "n8"),
        ("面霜", 2, "n2"),
    ]
    rankings = pd.DataFrame([{"keyword": k, "rank": r, "note_id": n, "snapshot_date": D1} for k, r, n in rk])
    rankings = pd.concat(
        [rankings, pd.DataFrame([{"keyword": "精华", "rank": 1, "note_id": "n7", "snapshot_date": D(2025, 3, 19)}])]
    )
    creators = creators_frame(
        [
            ("u1", "2025-03-01", 5000),
            ("u1", "2025-03-03", 12000),
            ("u2", "2025-03-10", 200000),
            ("u2", "2025-03-21", 600000),
            ("u4", "2025-02-01", 3000),
        ]
    )
    return rankings, notes, posts, campaigns, brands, creators


def test_keyword_share_of_voice_hand_computed(sov_inputs):
    rankings, notes, posts, campaigns, brands, creators = sov_inputs
    out = keyword_share_of_voice(rankings, notes, posts, campaigns, brands, creators, [D1])
    assert list(out.columns[: len(KEYWORD_SHARE_OF_VOICE.columns)]) == KEYWORD_SHARE_OF_VOICE.column_names
    conform(out, KEYWORD_SHARE_OF_VOICE)
    assert len(out) == 4  # 2 keywords x 2 brands
    g = row(out, keyword="精华", brand="Glow")
    # results: n1, n2, n3, n5, n6 = 5 (n7 at 21 out, duplicate n1 once); Glow: n1 (u1 micro as of D1),
    # n3 (campaign post, unknown tier), n6 (u2 mid: the 03-21 snapshot is after D1)
    assert g["results"] == 5 and g["brand_results"] == 3
    assert g["share_of_voice"] == pytest.approx(0.6)
    assert (
        g["brand_results_nano"],
        g["brand_results_micro"],
        g["brand_results_mid"],
        g["brand_results_macro"],
        g["brand_results_top"],
        g["brand_results_unknown_tier"],
    ) == (0, 1, 1, 0, 0, 1)
    lu = row(out, keyword="精华", brand="Lumi")
    assert lu["brand_results"] == 1 and lu["share_of_voice"] == pytest.approx(0.2) and lu["brand_results_mid"] == 1
    m = row(out, keyword="面霜", brand="Glow")
    assert m["results"] == 2 and m["brand_results"] == 0 and m["share_of_voice"] == 0.0  # a real zero
    ml = row(out, keyword="面霜", brand="Lumi")
    assert ml["brand_results"] == 1 and ml["brand_results_nano"] == 1 and ml["share_of_voice"] == pytest.approx(0.5)
    assert all(c.passed for c in checks.check_keyword_share_of_voice(out))


def test_keyword_share_of_voice_other_day_and_check(sov_inputs):
    rankings, notes, posts, campaigns, brands, creators = sov_inputs
    out = keyword_share_of_voice(rankings, notes, posts, campaigns, brands, creators, [D(2025, 3, 19)])
    # on 03-19 only n7 is ranked, and the notes table has no crawl of n7 on or before 03-19
    g = row(out, keyword="精华", brand="Glow")
    assert g["results"] == 1 and g["brand_results"] == 0
    bad = out.copy()
    bad["share_of_voice"] = 1.5
    res = {c.name: c.passed for c in checks.check_keyword_share_of_voice(bad)}
    assert res["share_of_voice_in_unit_interval"] is False and res["share_is_ratio"] is False


# --------------------------------------------------------------------------------------------------------------
# brand_search_lift
# --------------------------------------------------------------------------------------------------------------


def _daily(keyword_col: str, key: str, start: str, days: int, values, value_col: str, skip=()) -> list[dict]:
    d0 = pd.Timestamp(start)
    vals = values if isinstance(values, list) else [values] * days
    return [
        {"date": (d0 + pd.Timedelta(days=i)).date(), keyword_col: key, value_col: float(vals[i])}
        for i in range(days)
        if i not in skip
    ]


def test_brand_search_lift_hand_computed():
    campaigns = pd.DataFrame(
        [
            {"campaign_id": "L1", "brand": "Glow", "start_date": D(2025, 3, 1)},
            {"campaign_id": "L2", "brand": "Lumi", "start_date": D(2025, 3, 1)},
        ]
    )
    brands = pd.DataFrame([{"brand": "Glow", "control_keyword": "面霜"}, {"brand": "Lumi", "control_keyword": None}])
    si = (
        # Glow pre window 02-01..02-28: alternating 90/110 -> mean 100; post 03-01..03-28: 21 of 28 days at 150
        _daily("keyword", "Glow", "2025-02-01", 28, [90, 110] * 14, "search_index")
        + _daily("keyword", "glow", "2025-03-01", 28, 150, "search_index", skip=range(21, 28))
        # outside both windows: must be ignored
        + [
            {"date": D(2025, 1, 31), "keyword": "Glow", "search_index": 10000.0},
            {"date": D(2025, 3, 29), "keyword": "Glow", "search_index": 10000.0},
        ]
        # control: 200 before, 220 after -> control_lift 0.1
        + _daily("keyword", "面霜", "2025-02-01", 28, 200, "search_index")
        + _daily("keyword", "面霜", "2025-03-01", 28, 220, "search_index")
        # Lumi: only 20 pre days (02-09..02-28) -> pre_mean null -> lift null
        + _daily("keyword", "Lumi", "2025-02-09", 20, 50, "search_index")
        + _daily("keyword", "Lumi", "2025-03-01", 28, 60, "search_index")
    )
    store = pd.DataFrame(
        _daily("brand", "Glow", "2025-02-01", 28, 10, "store_visits")
        + _daily("brand", "Glow", "2025-03-01", 28, 12, "store_visits", skip=range(21, 28))
    )
    out = bsl_lib.brand_search_lift(campaigns, brands, pd.DataFrame(si), store)
    assert list(out.columns[: len(BRAND_SEARCH_LIFT.columns)]) == BRAND_SEARCH_LIFT.column_names
    conform(out, BRAND_SEARCH_LIFT)
    g = row(out, campaign_id="L1")
    assert g["keyword"] == "Glow" and g["launch_date"] == D(2025, 3, 1)
    assert (g["pre_days"], g["post_days"]) == (28, 21)
    assert g["pre_mean"] == pytest.approx(100.0) and g["post_mean"] == pytest.approx(150.0)
    assert g["lift"] == pytest.approx(0.5)
    assert g["control_keyword"] == "面霜" and g["control_lift"] == pytest.approx(0.1)
    assert g["adjusted_lift"] == pytest.approx(1.5 / 1.1 - 1)  # 0.3636...
    assert g["store_pre_mean"] == pytest.approx(10.0) and g["store_post_mean"] == pytest.approx(12.0)
    assert g["store_lift"] == pytest.approx(0.2)
    lu = row(out, campaign_id="L2")
    assert (lu["pre_days"], lu["post_days"]) == (20, 28)
    assert pd.isna(lu["pre_mean"]) and lu["post_mean"] == pytest.approx(60.0)
    assert pd.isna(lu["lift"]) and pd.isna(lu["adjusted_lift"])
    assert pd.isna(lu["control_keyword"]) and pd.isna(lu["control_lift"])
    assert pd.isna(lu["store_lift"]) and pd.isna(lu["store_pre_mean"])
    assert all(c.passed for c in checks.check_brand_search_lift(out))
    bad = out.copy()
    bad.loc[bad["campaign_id"] == "L2", "lift"] = 0.2
    res = {c.name: c.passed for c in checks.check_brand_search_lift(bad)}
    assert res["lift_null_on_short_window"] is False


def test_brand_search_lift_without_store_file():
    campaigns = pd.DataFrame([{"campaign_id": "L1", "brand": "Glow", "start_date": D(2025, 3, 1)}])
    brands = pd.DataFrame([{"brand": "Glow", "control_keyword": "x"}])
    si = pd.DataFrame(_daily("keyword", "Glow", "2025-02-01", 56, 100, "search_index"))
    out = bsl_lib.brand_search_lift(campaigns, brands, si, None)
    g = row(out, campaign_id="L1")
    assert g["lift"] == pytest.approx(0.0)  # flat volume: a real zero
    assert pd.isna(g["control_lift"]) and pd.isna(g["adjusted_lift"])  # control keyword has no data
    assert pd.isna(g["store_lift"])


# --------------------------------------------------------------------------------------------------------------
# brand_creator_relationships
# --------------------------------------------------------------------------------------------------------------


def test_brand_creator_relationships_repeat_vs_one_off():
    notes = notes_frame(
        [
            # u1: ISO week 23 (Mon 06-02, Wed 06-04) and week 25 (06-15 17:00 UTC = Mon 06-16 Shanghai) -> repeat
            {
                "note_id": "a1",
                "user_id": "u1",
                "published_at": "2025-06-02 04:00",
                "brands": ["Glow"],
                "snapshot_date": D(2025, 6, 2),
            },
            {
                "note_id": "a2",
                "user_id": "u1",
                "published_at": "2025-06-04 04:00",
                "brands": ["Glow"],
                "is_disclosed": True,
                "snapshot_date": D(2025, 6, 4),
            },
            {
                "note_id": "a3",
                "user_id": "u1",
                "published_at": "2025-06-15 17:00",
                "brands": ["Glow"],
                "snapshot_date": D(2025, 6, 16),
            },
            # u2: two notes in the same ISO week -> one-off
            {
                "note_id": "b1",
                "user_id": "u2",
                "published_at": "2025-06-03 04:00",
                "brands": ["Glow"],
                "snapshot_date": D(2025, 6, 3),
            },
            {
                "note_id": "b2",
                "user_id": "u2",
                "published_at": "2025-06-05 04:00",
                "brands": ["Glow"],
                "snapshot_date": D(2025, 6, 5),
            },
            # u3: 2025-01-01 is outside the 180-day window of 06-30 (first day 2025-01-02), 01-02 is inside
            {
                "note_id": "c1",
                "user_id": "u3",
                "published_at": "2025-01-01 04:00",
                "brands": ["Glow"],
                "snapshot_date": D(2025, 1, 1),
            },
            {
                "note_id": "c2",
                "user_id": "u3",
                "published_at": "2025-01-02 04:00",
                "brands": ["Glow"],
                "snapshot_date": D(2025, 1, 2),
            },
            # u5 mentions Lumi only; n0 mentions nobody
            {
                "note_id": "d1",
                "user_id": "u5",
                "published_at": "2025-06-20 04:00",
                "brands": ["Lumi"],
                "snapshot_date": D(2025, 6, 20),
            },
            {
                "note_id": "n0",
                "user_id": "u5",
                "published_at": "2025-06-21 04:00",
                "brands": [],
                "snapshot_date": D(2025, 6, 21),
            },
        ]
    )
    campaigns = pd.DataFrame([{"campaign_id": "C1", "brand": "Glow"}])
    # b1 is a paid post (sponsored though not disclosed); p1 is a paid post never crawled (u4, posted 06-10)
    posts = pd.DataFrame(
        [
            {"campaign_id": "C1", "note_id": "b1", "user_id": "u2", "fee_cny": 1.0, "posted_date": D(2025, 6, 3)},
            {"campaign_id": "C1", "note_id": "p1", "user_id": "u4", "fee_cny": 1.0, "posted_date": D(2025, 6, 10)},
        ]
    )
    brands = pd.DataFrame([{"brand": "Glow"}, {"brand": "Lumi"}])
    # the SQL of lib/marts/brand_creator_relationships.sql, over the notes frame as a DuckDB input
    with duck.connect() as con:
        out = bcr_query.brand_creator_relationships(
            con, notes, posts, campaigns, brands, [D(2025, 6, 30), D(2025, 6, 3)]
        )
    assert list(out.columns[: len(BRAND_CREATOR_RELATIONSHIPS.columns)]) == BRAND_CREATOR_RELATIONSHIPS.column_names
    conform(out, BRAND_CREATOR_RELATIONSHIPS)
    d = D(2025, 6, 30)
    u1 = row(out, snapshot_date=d, brand="Glow", user_id="u1")
    assert (u1["notes"], u1["sponsored_notes"], u1["organic_notes"]) == (3, 1, 2)
    assert u1["first_mention_date"] == D(2025, 6, 2) and u1["last_mention_date"] == D(2025, 6, 16)
    assert u1["distinct_weeks"] == 2 and bool(u1["is_repeat"]) is True
    u2 = row(out, snapshot_date=d, brand="Glow", user_id="u2")
    assert (u2["notes"], u2["sponsored_notes"], u2["organic_notes"]) == (2, 1, 1)
    assert u2["distinct_weeks"] == 1 and bool(u2["is_repeat"]) is False
    u3 = row(out, snapshot_date=d, brand="Glow", user_id="u3")
    assert u3["notes"] == 1 and u3["first_mention_date"] == D(2025, 1, 2)
    u4 = row(out, snapshot_date=d, brand="Glow", user_id="u4")
    assert (u4["notes"], u4["sponsored_notes"]) == (1, 1) and u4["last_mention_date"] == D(2025, 6, 10)
    u5 = row(out, snapshot_date=d, brand="Lumi", user_id="u5")
    assert (u5["notes"], u5["organic_notes"]) == (1, 1)
    assert len(out[out["snapshot_date"] == d]) == 5
    # as of 06-03: only notes crawled by then; u3's 01-01 and 01-02 notes (same ISO week 2025-W01) both inside
    e = D(2025, 6, 3)
    assert row(out, snapshot_date=e, brand="Glow", user_id="u1")["notes"] == 1
    assert row(out, snapshot_date=e, brand="Glow", user_id="u2")["notes"] == 1
    u3e = row(out, snapshot_date=e, brand="Glow", user_id="u3")
    assert u3e["notes"] == 2 and u3e["distinct_weeks"] == 1 and bool(u3e["is_repeat"]) is False
    assert len(out[out["snapshot_date"] == e]) == 3  # u4's paid post is dated 06-10
    assert all(c.passed for c in checks.check_brand_creator_relationships(out))
    bad = out.copy()
    bad["is_repeat"] = True
    assert not {c.name: c.passed for c in checks.check_brand_creator_relationships(bad)}["repeat_is_two_weeks"]


# --------------------------------------------------------------------------------------------------------------
# tier_comparison
# --------------------------------------------------------------------------------------------------------------


def test_tier_comparison_hand_computed():
    cp = pd.DataFrame(
        [
            ("C1", "Glow", "all", 3, 4500.0, 1050.0, 230.0),
            ("C1", "Glow", "nano", 1, 1000.0, 900.0, 200.0),
            ("C1", "Glow", "mid", 1, 3000.0, 150.0, 30.0),
            ("C1", "Glow", "unknown", 1, 500.0, np.nan, np.nan),
            ("C2", "Lumi", "all", 2, 2000.0, 1000.0, 100.0),
            ("C2", "Lumi", "micro", 2, 2000.0, 1000.0, 100.0),
        ],
        columns=["campaign_id", "brand", "tier", "notes", "spend_cny", "engagements", "saves"],
    ).assign(snapshot_date=D1)
    tcols = [
        "brand_results_nano",
        "brand_results_micro",
        "brand_results_mid",
        "brand_results_macro",
        "brand_results_top",
        "brand_results_unknown_tier",
    ]
    sov = pd.DataFrame(
        [
            ("精华", "Glow", 5, 3, 0, 1, 1, 0, 0, 1),
            ("精华", "Lumi", 5, 1, 0, 0, 1, 0, 0, 0),
            ("面霜", "Glow", 2, 0, 0, 0, 0, 0, 0, 0),
            ("面霜", "Lumi", 2, 2, 2, 0, 0, 0, 0, 0),
        ],
        columns=["keyword", "brand", "results", "brand_results", *tcols],
    ).assign(snapshot_date=D1)
    campaigns = pd.DataFrame(
        [
            {"campaign_id": "C1", "brand": "Glow", "target_keywords": ["精华"]},
            {"campaign_id": "C2", "brand": "Lumi", "target_keywords": ["面霜"]},
        ]
    )
    out = tier_comparison(cp, sov, campaigns)
    assert list(out.columns[: len(TIER_COMPARISON.columns)]) == TIER_COMPARISON.column_names
    conform(out, TIER_COMPARISON)
    # 2 campaigns + 2 brands + overall, x 6 tiers (nano..top + unknown)
    assert len(out) == 5 * 6
    nano = row(out, campaign_id="C1", tier="nano")
    assert nano["spend_share"] == pytest.approx(1000 / 4500)
    assert nano["engagement_share"] == pytest.approx(900 / 1050)
    assert nano["save_share"] == pytest.approx(200 / 230)
    assert nano["cpe_cny"] == pytest.approx(1000 / 900) and nano["cost_per_save_cny"] == pytest.approx(5.0)
    assert nano["sov_contribution"] == 0.0 and nano["brand_results"] == 0
    micro = row(out, campaign_id="C1", tier="micro")  # no C1 note in micro: real zeros, CPE null
    assert micro["spend_cny"] == 0.0 and micro["spend_share"] == 0.0 and micro["engagement_share"] == 0.0
    assert pd.isna(micro["cpe_cny"])
    assert micro["sov_contribution"] == pytest.approx(1 / 3)
    unk = row(out, campaign_id="C1", tier="unknown")
    assert unk["spend_share"] == pytest.approx(500 / 4500) and pd.isna(unk["engagement_share"])
    assert unk["sov_contribution"] == pytest.approx(1 / 3)
    c2 = row(out, campaign_id="C2", tier="nano")
    assert c2["sov_contribution"] == pytest.approx(1.0) and c2["spend_share"] == 0.0
    assert row(out, campaign_id="C2", tier="micro")["cpe_cny"] == pytest.approx(2.0)
    # brand Lumi over every keyword: nano 2, mid 1
    assert row(out, campaign_id="all", brand="Lumi", tier="nano")["sov_contribution"] == pytest.approx(2 / 3)
    assert row(out, campaign_id="all", brand="Lumi", tier="mid")["sov_contribution"] == pytest.approx(1 / 3)
    # overall: spend nano 1000, micro 2000, mid 3000, unknown 500 of 6500; engagements 900+1000+150 = 2050
    om = row(out, campaign_id="all", brand="all", tier="micro")
    assert om["spend_share"] == pytest.approx(2000 / 6500)
    assert om["engagement_share"] == pytest.approx(1000 / 2050)
    assert om["cpe_cny"] == pytest.approx(2.0)
    assert om["sov_contribution"] == pytest.approx(1 / 6)  # nano 2, micro 1, mid 2, unknown 1
    assert row(out, campaign_id="all", brand="all", tier="mid")["sov_contribution"] == pytest.approx(2 / 6)
    assert row(out, campaign_id="all", brand="all", tier="top")["spend_share"] == 0.0
    assert all(c.passed for c in checks.check_tier_comparison(out))


def _tier_comparison_day_by_day(cp: pd.DataFrame, sov: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """What the tier_comparison asset did before it made one call over its run: a call per day, concatenated."""
    days = sorted(set(cp["snapshot_date"]) | set(sov["snapshot_date"]))
    parts = [tier_comparison(cp[cp["snapshot_date"] == d], sov[sov["snapshot_date"] == d], campaigns) for d in days]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def test_tier_comparison_over_days_equals_a_call_per_day():
    """A ranged run calls tier_comparison once over its days: each day gets the rows of a one-day call, `unknown`
    tier rows only on the days that have that tier (in a campaign note, or only in the rankings)."""
    cp_rows = [
        # day 1: a campaign note of unknown tier
        (D1, "C1", "Glow", "all", 2, 1500.0, 950.0, 210.0),
        (D1, "C1", "Glow", "nano", 1, 1000.0, 900.0, 200.0),
        (D1, "C1", "Glow", "unknown", 1, 500.0, np.nan, np.nan),
        # day 2: nothing unknown, and no rankings that day
        (D2, "C1", "Glow", "all", 1, 1000.0, 50.0, 5.0),
        (D2, "C1", "Glow", "micro", 1, 1000.0, 50.0, 5.0),
        # day 3: unknown only in the rankings; day 4: unknown nowhere (its rankings count 0 for it)
        (D3, "C1", "Glow", "all", 1, 800.0, 80.0, 8.0),
        (D3, "C1", "Glow", "mid", 1, 800.0, np.nan, np.nan),
        (D4, "C1", "Glow", "all", 1, 800.0, 80.0, 8.0),
        (D4, "C1", "Glow", "mid", 1, 800.0, 80.0, 8.0),
    ]
    cp = pd.DataFrame(
        cp_rows, columns=["snapshot_date", "campaign_id", "brand", "tier", "notes", "spend_cny", "engagements", "saves"]
    )
    tcols = [
        "brand_results_nano",
        "brand_results_micro",
        "brand_results_mid",
        "brand_results_macro",
        "brand_results_top",
        "brand_results_unknown_tier",
    ]
    sov = pd.DataFrame(
        [
            (D1, "精华", "Glow", 2, 2, 1, 0, 0, 0, 0, 1),
            (D3, "精华", "Glow", 3, 3, 0, 1, 1, 0, 0, 1),
            (D4, "精华", "Glow", 3, 2, 0, 0, 2, 0, 0, 0),
            (D5, "精华", "Glow", 1, 1, 1, 0, 0, 0, 0, 0),
        ],
        columns=["snapshot_date", "keyword", "brand", "results", "brand_results", *tcols],
    )
    campaigns = pd.DataFrame([{"campaign_id": "C1", "brand": "Glow", "target_keywords": ["精华"]}])
    out = tier_comparison(cp, sov, campaigns)
    pd.testing.assert_frame_equal(out.reset_index(drop=True), _tier_comparison_day_by_day(cp, sov, campaigns))
    unknown_days = set(out.loc[out["tier"] == "unknown", "snapshot_date"])
    assert unknown_days == {D1, D3}, unknown_days
    # 1 campaign + 1 brand + overall, x 5 or 6 tiers; day 5 has rankings but no campaign row: none
    assert out.groupby("snapshot_date").size().to_dict() == {D1: 18, D2: 15, D3: 18, D4: 15}
    d2 = out[out["snapshot_date"] == D2]
    assert d2["sov_contribution"].isna().all()  # no rankings that day: unknown, not 0
    assert row(out, snapshot_date=D4, campaign_id="C1", tier="mid")["sov_contribution"] == pytest.approx(1.0)


@pytest.mark.slow
def test_tier_comparison_over_the_sample_equals_a_call_per_day():
    from kol_pipeline_tests.planted import planted_world

    w = planted_world()
    days = w.days[-25:]
    nm = w.note_metrics(days)
    cp = w.campaign_performance(nm, days)
    r, b = w.ingest, w.brand
    from kol_pipeline.lib.ingest.brand import read_search_rankings

    sr = read_search_rankings(w.landing, [d.isoformat() for d in days]).frame
    sov = keyword_share_of_voice(
        sr, r.notes, b["campaign_posts"], b["campaigns"], b["brands"], r.creators, days, w.settings
    )
    out = tier_comparison(cp, sov, b["campaigns"])
    assert out["snapshot_date"].nunique() == len(days) and out["sov_contribution"].notna().sum() > 100
    pd.testing.assert_frame_equal(out.reset_index(drop=True), _tier_comparison_day_by_day(cp, sov, b["campaigns"]))


@pytest.mark.slow
def test_campaign_performance_over_days_equals_a_call_per_day():
    """A ranged call (one aggregation over all days) gives each day the rows of a call for that day alone. Two
    campaigns are added that start mid-range: `quiet` never posts, `late` posts 15 days after its start. Each has
    its `all` row (0 notes, 0 spend) on every day from its start without a post, and not before."""
    from kol_pipeline_tests.planted import planted_world

    w = planted_world()
    days = w.days[-40:]
    nm = w.note_metrics(days)
    b, r = w.brand, w.ingest
    first = b["campaigns"].iloc[[0]]
    camps = pd.concat(
        [
            b["campaigns"],
            first.assign(campaign_id="quiet", start_date=days[20]),
            first.assign(campaign_id="late", start_date=days[10]),
        ],
        ignore_index=True,
    )
    posts = pd.concat(
        [b["campaign_posts"], b["campaign_posts"].iloc[[0]].assign(campaign_id="late", posted_date=days[25])],
        ignore_index=True,
    )
    ranged = campaign_performance(camps, posts, nm, r.notes, r.creators, days, w.settings)
    per_day = pd.concat(
        [
            campaign_performance(camps, posts, nm[nm["snapshot_date"] == d], r.notes, r.creators, [d], w.settings)
            for d in days
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(ranged, per_day, check_exact=True)
    quiet = ranged[ranged["campaign_id"] == "quiet"]
    assert list(quiet["snapshot_date"]) == days[20:] and set(quiet["tier"]) == {"all"}
    assert (quiet["notes"] == 0).all() and (quiet["spend_cny"] == 0).all()
    late = ranged[(ranged["campaign_id"] == "late") & (ranged["tier"] == "all")]
    assert list(late["snapshot_date"]) == days[10:]
    assert list(late["notes"]) == [0] * 15 + [1] * 15
    assert ranged["snapshot_date"].nunique() == len(days) and ranged["notes"].sum() > 100


# --------------------------------------------------------------------------------------------------------------
# creator_shortlist
# --------------------------------------------------------------------------------------------------------------


def test_creator_shortlist_hand_computed():
    cols = [
        "user_id",
        "nickname",
        "tier",
        "primary_category",
        "score",
        "authenticity_flags",
        "median_er_7d",
        "median_save_to_like",
        "median_half_life_days",
        "evergreen_share",
        "substantive_comment_share",
        "est_cpe_cny",
        "followers",
    ]
    rows = [
        ("m1", "Ann", "micro", "skincare", 0.90, [], 0.07, 0.52, 3.2, 0.40, 0.65, 0.85, 52300),
        ("m2", "Bo", "micro", "skincare", 0.80, ["low_er_for_tier"], 0.01, 0.1, 1.0, 0.0, 0.1, 1.0, 40000),
        ("m3", "Cy", "micro", "Skincare", 0.95, [], 0.05, 0.30, 2.0, 0.10, 0.50, np.nan, 30000),
        ("m4", "Di", "micro", "skincare", 0.70, None, 0.04, 0.2, 1.5, 0.2, 0.3, 2.0, 20000),
        ("m5", "Ed", "micro", "skincare", np.nan, [], 0.03, 0.2, 1.5, 0.2, 0.3, 2.0, 20000),
        ("m6", "Fa", "mid", "skincare", 0.99, [], 0.20, 0.2, 1.5, 0.2, 0.3, 2.0, 200000),
        ("m7", "Gu", "micro", "food", 0.50, [], 0.06, 0.2, 1.5, 0.2, 0.3, 2.0, 11000),
    ]
    sc = pd.DataFrame(rows, columns=cols).assign(snapshot_date=D1)
    sc = pd.concat([sc, sc.assign(snapshot_date=D(2025, 3, 19), score=0.1)])  # another day, ignored
    brands = pd.DataFrame(
        [
            {"brand": "Glow", "category": "skincare"},
            {"brand": "Lumi", "category": "food"},
            {"brand": "Nada", "category": None},
        ]
    )
    out = creator_shortlist(sc, brands, [D1], tier="micro", top_n=2)
    assert list(out.columns[: len(CREATOR_SHORTLIST.columns)]) == CREATOR_SHORTLIST.column_names
    conform(out, CREATOR_SHORTLIST)
    glow = out[out["brand"] == "Glow"].sort_values("rank")
    # m2 flagged, m5 without score, m6 mid; m3 0.95 > m1 0.90 > m4 0.70 (null flags = none), top 2
    assert glow["user_id"].tolist() == ["m3", "m1"] and glow["rank"].tolist() == [1, 2]
    assert out[out["brand"] == "Lumi"]["user_id"].tolist() == ["m7"]
    assert "Nada" not in set(out["brand"])
    m1 = row(out, brand="Glow", user_id="m1")
    # tier median over the day's micro creators: .01 .03 .04 .05 .06 .07 -> 0.045
    assert m1["tier_median_er_7d"] == pytest.approx(0.045)
    assert m1["reasons"] == (
        "er_7d 7.0% (tier median 4.5%); saves/likes 0.52; half-life 3.2 d; evergreen 40%; "
        "substantive comments 65%; est. CPE ¥0.85; 52.3k followers; score 0.900"
    )
    assert "est. CPE n/a" in row(out, brand="Glow", user_id="m3")["reasons"]
    full = creator_shortlist(sc, brands, [D1])
    assert row(full, brand="Glow", user_id="m4")["rank"] == 3
    assert all(c.passed for c in checks.check_creator_shortlist(full, top_n=30))
    bad = full.copy()
    bad.loc[bad["user_id"] == "m4", "rank"] = 5
    assert not {c.name: c.passed for c in checks.check_creator_shortlist(bad)}["ranks_consecutive"]


def test_creator_shortlist_reasons_of_finding_the_right_creators():
    """affinity (for the row's brand, from brand_audience_affinity), search_appearances_30d, sponsored_er_ratio and
    comment_sentiment (scorecard columns of issue #26) beside the reasons; the order stays by score."""
    base = {"tier": "micro", "primary_category": "skincare", "authenticity_flags": [], "median_er_7d": 0.05}
    sc = pd.DataFrame(
        [
            {
                **base,
                "user_id": "a",
                "nickname": "阿May",
                "score": 0.9,
                "followers": 20000,
                "search_appearances_30d": 7,
                "sponsored_er_ratio": 0.62,
                "comment_sentiment": -0.25,
            },
            {
                **base,
                "user_id": "b",
                "nickname": "Bo",
                "score": 0.8,
                "followers": 30000,
                "search_appearances_30d": 0,
                "sponsored_er_ratio": None,
                "comment_sentiment": 1.0,
            },
            {**base, "user_id": "c", "nickname": "Cy", "score": 0.7, "followers": 40000},
        ]
    ).assign(snapshot_date=D1)
    brands = pd.DataFrame([{"brand": "Glow", "category": "skincare"}, {"brand": "Lumi", "category": "skincare"}])
    aff = pd.DataFrame(
        [
            {
                "snapshot_date": D1,
                "brand": "Glow",
                "user_id": "c",
                "affinity": 0.5,
            },  # c: highest affinity, last by score
            {"snapshot_date": D1, "brand": "Glow", "user_id": "a", "affinity": 0.125},
            {"snapshot_date": D1, "brand": "Lumi", "user_id": "b", "affinity": 0.2},  # Lumi's, not Glow's
            {"snapshot_date": D(2025, 3, 19), "brand": "Glow", "user_id": "b", "affinity": 0.9},  # another day
        ]
    )
    out = creator_shortlist(sc, brands, [D1], affinity=aff)
    conform(out, CREATOR_SHORTLIST)
    glow = out[out["brand"] == "Glow"].sort_values("rank")
    assert glow["user_id"].tolist() == ["a", "b", "c"]  # by score, not by affinity
    assert glow["affinity"].tolist()[0] == 0.125 and pd.isna(glow["affinity"].tolist()[1])
    assert glow["affinity"].tolist()[2] == 0.5
    assert row(out, brand="Lumi", user_id="b")["affinity"] == 0.2
    a = row(out, brand="Glow", user_id="a")
    assert (a["search_appearances_30d"], a["sponsored_er_ratio"], a["comment_sentiment"]) == (7, 0.62, -0.25)
    assert a["reasons"].endswith(
        "score 0.900; audience affinity 12.5%; 7 search results in 30 d; sponsored/organic er_7d 0.62; "
        "comment sentiment -0.25"
    )
    b = row(out, brand="Glow", user_id="b")
    assert pd.isna(b["sponsored_er_ratio"]) and b["search_appearances_30d"] == 0
    # unknown values are left out of the words; a zero is a value
    assert b["reasons"].endswith("score 0.800; 0 search results in 30 d; comment sentiment +1.00")
    c = row(out, brand="Glow", user_id="c")
    assert pd.isna(c["search_appearances_30d"]) and pd.isna(c["comment_sentiment"])
    assert c["reasons"].endswith("score 0.700; audience affinity 50%")
    # without the affinity input: affinity null, the same ranks
    plain = creator_shortlist(sc, brands, [D1])
    assert plain["affinity"].isna().all() and plain["rank"].tolist() == out["rank"].tolist()


def test_mart_specs_registered():
    for name in (
        "campaign_performance",
        "keyword_share_of_voice",
        "brand_search_lift",
        "brand_creator_relationships",
        "tier_comparison",
        "creator_shortlist",
    ):
        assert name in TABLES
    assert not TABLES["brand_search_lift"].partitioned


def test_empty_inputs_give_spec_columns_and_nulls():
    E = lambda name: TABLES[name].empty_frame()  # noqa: E731
    camps = pd.DataFrame(
        [
            {
                "campaign_id": "C",
                "brand": "B",
                "phase": "p",
                "start_date": D(2025, 3, 1),
                "end_date": D(2025, 3, 30),
                "target_keywords": ["x"],
                "budget_cny": 1.0,
            }
        ]
    )
    brands = pd.DataFrame([{"brand": "B", "aliases": [], "category": "c", "control_keyword": None}])
    cp = campaign_performance(camps, E("campaign_posts"), E("note_metrics"), E("notes"), E("creators"), [D1])
    a = row(cp, tier="all")
    assert (a["notes"], a["spend_cny"]) == (0, 0.0) and pd.isna(a["cpe_cny"]) and pd.isna(a["keyword_coverage"])
    lift = bsl_lib.brand_search_lift(camps, brands, E("search_index"), E("store_traffic"))
    g = row(lift, campaign_id="C")
    assert g["pre_days"] == 0 and pd.isna(g["lift"]) and pd.isna(g["pre_mean"])
    for name, df in [
        (
            "keyword_share_of_voice",
            keyword_share_of_voice(
                E("search_rankings"), E("notes"), E("campaign_posts"), camps, brands, E("creators"), [D1]
            ),
        ),
        (
            "brand_creator_relationships",
            bcr_query.brand_creator_relationships(duck.connect(), E("notes"), E("campaign_posts"), camps, brands, [D1]),
        ),
        ("creator_shortlist", creator_shortlist(E("creator_scorecard"), brands, [D1])),
    ]:
        assert df.empty and list(df.columns[: len(TABLES[name].columns)]) == TABLES[name].column_names
        conform(df, TABLES[name])
