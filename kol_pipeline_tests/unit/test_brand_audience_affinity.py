"""brand_audience_affinity (lib/marts/brand_audience_affinity.sql) on hand-built frames: every edge of the
contract's definition, with the expected numbers worked out in the comments from the frames built here."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts import brand_audience_affinity as baa
from kol_pipeline.lib.marts.frames import as_input
from kol_pipeline.lib.schemas import BRAND_AUDIENCE_AFFINITY, TABLES, conform

D = dt.date(2025, 6, 30)
BRANDS = pd.DataFrame([{"brand": "Glow"}, {"brand": "Lumi"}])


def ago(n: int) -> dt.date:
    return D - timedelta(days=n)


def note(note_id: str, author: str, brands=(), published: dt.date = ago(10), crawled: dt.date = ago(5)) -> dict:
    return {
        "note_id": note_id,
        "user_id": author,
        "brands": list(brands),
        "published_at": pd.Timestamp(published.isoformat() + " 04:00", tz="UTC"),
        "crawled_at": pd.Timestamp(crawled.isoformat() + " 02:00", tz="UTC"),
        "snapshot_date": crawled,
    }


def comments_on(note_id: str, users, day: dt.date = ago(3)) -> list[dict]:
    return [{"note_id": note_id, "user_id": u, "snapshot_date": day} for u in users]


def run(comments, notes, days=(D,), scorecard=None, **kw) -> pd.DataFrame:
    sc = scorecard if scorecard is not None else TABLES["creator_scorecard"].empty_frame()
    with duck.connect() as con:
        return baa.brand_audience_affinity(
            con, pd.DataFrame(comments), pd.DataFrame(notes), sc, BRANDS, list(days), **kw
        )


def fans(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(n)]


def world():
    """X: 20 outside commenters u00..u19 on two notes (u00 on both, on two days) plus X's own replies.
    u00..u04 also commented on Y's Glow note: shared. u05 commented on X's own Glow note only: not shared.
    Y commented on X's note and on Y's own Glow note: Y is X's commenter, but not Glow's audience (their own note).
    u06 commented on Y's Glow note 95 days ago: outside D's window."""
    notes = [
        note("x1", "X"),
        note("x2", "X", published=ago(40), crawled=ago(30)),
        note("xg", "X", brands=["Glow"], published=ago(20), crawled=ago(19)),  # X mentions Glow
        note("yg", "Y", brands=["Glow"]),
        note("zl", "Z", brands=["lumi "]),  # matched case- and space-insensitively
    ]
    c = []
    c += comments_on("x1", fans("u", 12) + ["X"])  # X replying under their own note: excluded
    c += comments_on("x2", ["u00"] + fans("u", 20)[12:], day=ago(30))  # u00 again, another day: counted once
    c += comments_on("xg", ["u05", "X"])
    c += comments_on("x1", ["Y"])
    c += comments_on("yg", fans("u", 5) + ["Y"])  # Y on their own Glow note
    c += comments_on("yg", ["u06"], day=ago(95))
    c += comments_on("zl", ["u07", "u08"])  # Lumi's audience
    return c, notes


def test_hand_computed_affinity():
    c, n = world()
    out = run(c, n)
    assert list(out.columns) == BRAND_AUDIENCE_AFFINITY.column_names
    conform(out, BRAND_AUDIENCE_AFFINITY)
    # X's commenters: u00..u19 (20, u05 among them via xg) + Y = 21; X's own comments are not counted
    glow = out[(out["brand"] == "Glow") & (out["user_id"] == "X")].iloc[0]
    assert glow["commenters_90d"] == 21
    # shared for Glow: u00..u04 (Y's Glow note); not u05 (X's own Glow note), not Y (their own note), not u06 (old)
    assert glow["shared_commenters"] == 5
    assert glow["affinity"] == pytest.approx(5 / 21)
    assert bool(glow["mentions_brand"]) and glow["rank_in_brand"] == 1
    lumi = out[(out["brand"] == "Lumi") & (out["user_id"] == "X")].iloc[0]
    assert (lumi["commenters_90d"], lumi["shared_commenters"]) == (21, 2)  # u07, u08
    assert not bool(lumi["mentions_brand"])
    # Y (6 outside commenters) and Z (2) are under the 20-commenter threshold; nothing else
    assert len(out) == 2
    assert all(c.passed for c in baa.check_brand_audience_affinity(out))


def test_window_edges_and_a_ranged_call():
    c, n = world()
    # D-1's window is D-90 .. D-1: u06's comment of D-95 is still out; move it to D-90: in for D-1, out for D
    c = [r for r in c if (r["user_id"], r["note_id"]) != ("u06", "yg")] + comments_on("yg", ["u06"], day=ago(90))
    both = run(c, n, days=(ago(1), D))
    for day, shared in ((ago(1), 6), (D, 5)):
        one = run(c, n, days=(day,))
        got = both[both["snapshot_date"] == day].reset_index(drop=True)
        pd.testing.assert_frame_equal(one, got)
        x = got[(got["brand"] == "Glow") & (got["user_id"] == "X")].iloc[0]
        # X's comments (D-30, D-3) are in both windows: 21 commenters; u06 (one of them, via x2) shared on D-1 only
        assert (x["commenters_90d"], x["shared_commenters"]) == (21, shared)
    # a comment seen 89 days before D is inside D's window (D-89 .. D)
    c2 = c + comments_on("yg", ["u09"], day=ago(89))
    x = run(c2, n).query("brand == 'Glow' and user_id == 'X'").iloc[0]
    assert x["shared_commenters"] == 6


def test_thresholds_are_inclusive():
    c, n = world()
    # 20 commenters exactly: drop Y's comment on X's note -> 20 (u00..u19): still a row
    c20 = [r for r in c if not (r["user_id"] == "Y" and r["note_id"] == "x1")]
    x = run(c20, n).query("brand == 'Glow' and user_id == 'X'").iloc[0]
    assert (x["commenters_90d"], x["shared_commenters"]) == (20, 5)
    # 19: no row at all
    c19 = [r for r in c20 if r["user_id"] != "u19"]
    assert run(c19, n).query("user_id == 'X'").empty
    # no shared commenter: no row for that brand (Lumi's audience gone)
    c_no = [r for r in c if r["note_id"] != "zl"]
    assert set(run(c_no, n).query("user_id == 'X'")["brand"]) == {"Glow"}
    # configurable thresholds
    assert run(c, n, min_commenters=22).empty
    assert set(run(c, n, min_shared=3).query("user_id == 'X'")["brand"]) == {"Glow"}
    with pytest.raises(ValueError):
        run(c, n, min_shared=0)


def test_brand_notes_by_the_creator_themself_are_not_the_brands_audience():
    # every Glow note is X's: however many of X's commenters comment there, nobody is shared
    notes = [note("x1", "X"), note("xg", "X", brands=["Glow"])]
    c = comments_on("x1", fans("u", 25)) + comments_on("xg", fans("u", 25))
    assert run(c, notes).empty
    # a second author's Glow note with one of them: exactly that one is shared
    notes.append(note("wg", "W", brands=["Glow"]))
    out = run(c + comments_on("wg", ["u03"]), notes)
    x = out.query("user_id == 'X'").iloc[0]
    assert (x["commenters_90d"], x["shared_commenters"], bool(x["mentions_brand"])) == (25, 1, True)
    assert x["affinity"] == pytest.approx(1 / 25)


def test_author_and_brands_from_the_latest_crawl_and_scorecard_columns():
    c, n = world()
    # yg's crawl after D lists no brand: D does not see it; a crawl of D-2 lists Lumi too -> D sees Glow and Lumi
    n = n + [note("yg", "Y", brands=["Glow", "Lumi"], crawled=ago(2)), note("yg", "Y", crawled=D + timedelta(days=1))]
    # a note published before the window mentions Lumi: not a mention in D-89 .. D
    n.append(note("xo", "X", brands=["Lumi"], published=ago(100), crawled=ago(95)))
    sc = pd.DataFrame(
        [
            {"user_id": "X", "nickname": "小鹿", "tier": "micro", "primary_category": "skincare", "snapshot_date": D},
            {"user_id": "X", "nickname": "old", "tier": "nano", "primary_category": "food", "snapshot_date": ago(1)},
        ]
    )
    out = run(c, n, scorecard=sc)
    lumi = out.query("brand == 'Lumi' and user_id == 'X'").iloc[0]
    # Lumi's audience now u00..u04 (yg) + u07, u08 (zl) = 7 of 21; X's Lumi note is older than the window
    assert lumi["shared_commenters"] == 7 and not bool(lumi["mentions_brand"])
    assert (lumi["tier"], lumi["primary_category"], lumi["nickname"]) == ("micro", "skincare", "小鹿")
    # ranks per brand: Glow's and Lumi's only row is X's
    assert out["rank_in_brand"].tolist() == [1, 1]


def test_ranking_ties_and_the_check_catches_a_broken_row():
    notes = [note("a1", "A"), note("b1", "B"), note("g1", "G", brands=["Glow"])]
    c = comments_on("a1", fans("a", 20)) + comments_on("b1", fans("b", 20))
    c += comments_on("g1", fans("a", 4) + fans("b", 4))  # A and B: 4 / 20 each: tie -> user_id
    out = run(c, notes)
    assert out[["user_id", "rank_in_brand"]].values.tolist() == [["A", 1], ["B", 2]]
    assert out["affinity"].tolist() == [0.2, 0.2]
    bad = out.copy()
    bad.loc[1, "affinity"] = 1.5  # rank 2 above rank 1, and above 1
    failed = {o.name for o in baa.check_brand_audience_affinity(bad) if not o.passed}
    assert failed == {"affinity_in_unit_interval", "ranked_by_affinity"}
    low = out.copy()
    low.loc[1, "commenters_90d"] = 19
    assert {o.name for o in baa.check_brand_audience_affinity(low) if not o.passed} >= {"thresholds"}


def test_empty_inputs_give_the_spec_columns():
    E = lambda name: TABLES[name].empty_frame()  # noqa: E731
    with duck.connect() as con:
        out = baa.brand_audience_affinity(con, E("comments"), E("notes"), E("creator_scorecard"), BRANDS, [D])
    assert out.empty and list(out.columns) == BRAND_AUDIENCE_AFFINITY.column_names
    conform(out, BRAND_AUDIENCE_AFFINITY)


def test_affinity_against_er_points_of_the_shortlisted_tier():
    aff = pd.DataFrame(
        [
            {"brand": "Glow", "user_id": "a", "tier": "micro", "affinity": 0.5},
            {"brand": "Glow", "user_id": "b", "tier": "micro", "affinity": 0.25},  # no er_7d: left out
            {"brand": "Glow", "user_id": "c", "tier": "nano", "affinity": 0.9},  # another tier
            {"brand": "Lumi", "user_id": "a", "tier": "micro", "affinity": 0.1},
        ]
    )
    er = pd.DataFrame({"user_id": ["a", "b", "c"], "median_er_7d": [0.04, None, 0.2]})
    assert baa.affinity_against_er(aff, er) == {"Glow": ([0.04], [0.5]), "Lumi": ([0.04], [0.1])}
    assert baa.affinity_against_er(aff, er, tier="nano") == {"Glow": ([0.2], [0.9])}


def _brute_force(comments: pd.DataFrame, notes: pd.DataFrame, day: dt.date, min_commenters: int) -> set[tuple]:
    """The contract's definition in plain Python for one day: (brand, creator, commenters_90d, shared_commenters,
    mentions_brand) rows. A note's author and brands: its latest crawl of D-121 .. D (the later crawl time on the
    same day, a null crawl time last)."""
    latest = {}
    for r in notes.itertuples():
        if not (ago_of(day, 121) <= r.snapshot_date <= day) or r.user_id is None:
            continue
        key = (r.snapshot_date, pd.Timestamp.max.tz_localize("UTC") if pd.isna(r.crawled_at) else r.crawled_at)
        if r.note_id not in latest or key > latest[r.note_id][0]:
            latest[r.note_id] = (key, r)
    brand_of = {b.lower(): b for b in BRANDS["brand"]}
    audience, brand_authors, mentions = {}, {}, set()
    for _, n in latest.values():
        for b in {brand_of[x.strip().lower()] for x in n.brands if x.strip().lower() in brand_of}:
            pub = n.published_at.tz_convert("Asia/Shanghai").date()
            if ago_of(day, 89) <= pub <= day:
                mentions.add((b, n.user_id))
    for c in comments.itertuples():
        if not (ago_of(day, 89) <= c.snapshot_date <= day) or c.note_id not in latest:
            continue
        if c.user_id is None or not c.user_id.strip():
            continue
        n = latest[c.note_id][1]
        if c.user_id == n.user_id:
            continue
        audience.setdefault(n.user_id, set()).add(c.user_id)
        for x in n.brands:
            if x.strip().lower() in brand_of:
                brand_authors.setdefault((brand_of[x.strip().lower()], c.user_id), set()).add(n.user_id)
    rows = set()
    for creator, fans_ in audience.items():
        if len(fans_) < min_commenters:
            continue
        for b in BRANDS["brand"]:
            shared = sum(1 for u in fans_ if brand_authors.get((b, u), set()) - {creator})
            if shared:
                rows.add((b, creator, len(fans_), shared, (b, creator) in mentions))
    return rows


def ago_of(day: dt.date, n: int) -> dt.date:
    return day - timedelta(days=n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_worlds_equal_a_brute_force_count_on_each_day_of_a_ranged_call(seed):
    """Re-crawls that change a note's author and brands (two on one day, some with a null crawl time), notes last
    crawled up to 130 days back, blank and missing commenters, authors commenting on their own notes: the query's rows of a
    ranged call equal the plain-Python definition on each day."""
    import random

    rnd = random.Random(seed)
    authors, users = [f"A{i}" for i in range(6)], [f"u{i:02d}" for i in range(40)] + ["A0", "A1", " ", None]
    notes, comments = [], []
    for k in range(30):
        nid = f"n{k:02d}"
        published = ago(rnd.randrange(0, 200))
        crawl_days = [ago(n) for n in rnd.sample(range(-2, 131), rnd.randrange(1, 4))]
        times = [None if rnd.random() < 0.2 else "01:30" for _ in crawl_days]
        if rnd.random() < 0.4:  # a second crawl on the first day, later (a null crawl time still counts as later)
            crawl_days.append(crawl_days[0])
            times.append("23:30")
        for crawled, at in zip(crawl_days, times, strict=True):
            r = note(nid, rnd.choice(authors), rnd.sample(["Glow", " lumi", "Other"], rnd.randrange(0, 3)), published)
            at = None if at is None else pd.Timestamp(f"{crawled} {at}", tz="UTC")
            notes.append({**r, "crawled_at": at, "snapshot_date": crawled})
        for _ in range(rnd.randrange(0, 40)):
            comments += comments_on(nid, [rnd.choice(users)], day=ago(rnd.randrange(-2, 100)))
    days = [ago(3), ago(2), ago(1), D]
    out = run(comments, notes, days=days, min_commenters=4)
    seen = 0
    for day in days:
        got = out[out["snapshot_date"] == day]
        rows = {
            (r.brand, r.user_id, int(r.commenters_90d), int(r.shared_commenters), bool(r.mentions_brand))
            for r in got.itertuples()
        }
        want = _brute_force(pd.DataFrame(comments), pd.DataFrame(notes), day, 4)
        assert rows == want, day
        seen += len(want)
    assert seen > 0
    # a bucket of creators at a time (a large comment window): the same rows, ranked across the buckets
    assert baa.creator_buckets(pa.table({"x": list(range(len(comments)))}), 50) >= 3
    in_buckets = run(comments, notes, days=days, min_commenters=4, bucket_rows=50)
    pd.testing.assert_frame_equal(in_buckets, out)


def test_the_pairs_are_written_once_each_in_the_bucket_of_its_creator(tmp_path):
    """brand_audience_affinity_pairs.sql through ``duck.copy_buckets`` (what a run in buckets reads): every pair of
    the query is in exactly one bucket's file, the bucket of its creator, without the bucket column; a creator's
    pairs are all in one bucket; the writer's flush setting is DuckDB's own again afterwards; a window without a
    comment writes no file."""
    comments, notes = world()
    comments += comments_on("zl", fans("w", 30))
    with duck.connect(duck.DuckSettings(temp_directory=str(tmp_path / "spill"))) as con:
        latest = duck.create_table_as(
            con,
            baa.LATEST_TABLE,
            "brand_audience_affinity_latest",
            {"notes": as_input(pd.DataFrame(notes), "notes", [*baa.NOTE_COLUMNS, "snapshot_date"])},
            {"days": [D], "note_window": 121},
        )
        inputs = {"comments": as_input(pd.DataFrame(comments), "comments", [*baa.COMMENT_COLUMNS, "snapshot_date"])}
        inputs["latest"] = latest
        window = {"days": [D], "window_days": 90}
        whole = duck.run_query(con, "brand_audience_affinity_pairs", inputs, {**window, "buckets": 3}).to_pandas()
        flush = con.sql("SELECT current_setting('partitioned_write_flush_threshold')").fetchall()[0][0]
        rels = duck.copy_buckets(
            con, tmp_path / "pairs", "brand_audience_affinity_pairs", inputs, {**window, "buckets": 3}
        )
        assert con.sql("SELECT current_setting('partitioned_write_flush_threshold')").fetchall()[0][0] == flush
        parts = [r.to_arrow_table().to_pandas() for r in rels]
        empty = duck.copy_buckets(
            con,
            tmp_path / "none",
            "brand_audience_affinity_pairs",
            inputs,
            {"days": [ago(200)], "window_days": 90, "buckets": 3},
        )
        assert empty == [] and not list((tmp_path / "none").glob("bucket=*"))
    # X's 20 outsiders and Y on x1/x2 (X's own replies set aside), u05 on xg, u00..u04 on yg (Y's own set aside),
    # u07, u08 and w00..w29 on zl; u06's comment on yg is outside the window
    assert len(whole) == 12 + 9 + 1 + 1 + 5 + 2 + 30 and set(whole["author"]) == {"X", "Y", "Z"}
    assert (whole.groupby("author")["bucket"].nunique() == 1).all()  # a creator has one bucket
    assert len(parts) == whole["bucket"].nunique() and all(
        list(p.columns) == ["day", "author", "commenter"] for p in parts
    )
    authors = [set(p["author"]) for p in parts]
    assert sum(len(a) for a in authors) == len(set().union(*authors)) == 3  # each creator in one bucket
    key = ["day", "author", "commenter"]
    got = pd.concat(parts, ignore_index=True).sort_values(key, ignore_index=True)
    want = whole[key].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
