"""Tests of the landing-data simulator (kol_pipeline/lib/simulate/): determinism, MediaCrawler formats, and that
the planted truth (truth/) is visible in the rows the pipeline will read, recomputed here with the contract's
formulas written out independently of the pipeline's own code."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib import simulate as sim
from kol_pipeline.lib.settings import load_lexicon

DAY_MS = 86_400_000
SH_MS = 8 * 3600 * 1000

ID_COLS = {c: str for c in ("note_id", "user_id", "comment_id", "parent_comment_id", "note_author_id")}


def _csv(path: Path, **kw) -> pd.DataFrame:
    """pandas' C parser crashes (segfault, pandas 2.3) on hex ids such as 67e656770000000f2371b534 when it tries
    them as floats: always read XHS ids as strings."""
    return pd.read_csv(path, dtype={**ID_COLS, **kw.pop("dtype", {})}, **kw)


# ---------------------------------------------------------------------------------------------- fixtures & helpers
@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim_default")
    summary = sim.simulate(out)
    return out, summary


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim_small")
    summary = sim.simulate(out, creators=20, days=40, seed=3)
    return out, summary


def _read_records(path: Path) -> list[dict]:
    raw = path.read_bytes()
    if path.suffix == ".csv":
        assert raw.startswith(b"\xef\xbb\xbf"), path
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    text = raw.decode("utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines()]
    data = json.loads(text)
    assert isinstance(data, list)
    return data


def _parse_count(v) -> float:
    s = str(v).strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(万|w|k)?(\+)?", s)
    if not m:
        return np.nan
    mult = {"万": 10_000, "w": 10_000, "k": 1_000, None: 1}[m.group(2)]
    return float(m.group(1)) * mult


def _load(out: Path, item: str) -> pd.DataFrame:
    rows = []
    for p in sorted((out / "mediacrawler").rglob(f"*_{item}*")):
        for k, r in enumerate(_read_records(p), start=1):
            r = dict(r)
            r["_file"] = str(p.relative_to(out))
            r["_rec"] = k
            rows.append(r)
    df = pd.DataFrame(rows)
    for c in ("time", "last_update_time", "last_modify_ts", "create_time"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c]).astype("int64")
    return df


@pytest.fixture(scope="module")
def loaded(default_run):
    out, _ = default_run
    notes = _load(out, "contents")
    creators = _load(out, "creator_2")  # creator_creator_YYYY-MM-DD
    comments = _load(out, "comments")
    mal = pd.read_csv(out / "truth" / "malformed.csv", dtype=str, keep_default_na=False)
    bad = set(zip(mal["file"], mal["record_number"].astype(int)))
    for df in (notes, creators, comments):
        df["_bad"] = [(f, r) in bad for f, r in zip(df["_file"], df["_rec"])]
    return notes, creators, comments


def _clean_notes(notes: pd.DataFrame) -> pd.DataFrame:
    n = notes[~notes["_bad"]].copy()
    for c in ("liked_count", "collected_count", "comment_count", "share_count"):
        n[c] = n[c].map(_parse_count)
    n["E"] = n[["liked_count", "collected_count", "comment_count", "share_count"]].sum(axis=1)
    n["ts"] = n["last_modify_ts"].astype("int64")
    n["time"] = n["time"].astype("int64")
    n["age"] = (n["ts"] - n["time"]) / DAY_MS
    return n


def _curve_metrics(g: pd.DataFrame) -> dict:
    """The contract's E(h) (running max, (0,0) at publish, linear, null beyond 2 days), half-life, evergreen."""
    g = g.sort_values("age")
    age = np.concatenate([[0.0], g["age"].to_numpy()])
    e = np.maximum.accumulate(np.concatenate([[0.0], g["E"].to_numpy()]))

    def E(hh: float) -> float:
        lo = np.flatnonzero(age <= hh)
        hi = np.flatnonzero(age >= hh)
        if not len(lo) or not len(hi):
            return np.nan
        i, j = lo[-1], hi[0]
        if hh - age[i] > 2 or age[j] - hh > 2:
            return np.nan
        if age[j] == age[i]:
            return float(e[i])
        return float(e[i] + (e[j] - e[i]) * (hh - age[i]) / (age[j] - age[i]))

    e30 = E(30.0)
    hl = np.nan
    if e30 == e30 and e30 > 0:
        target = 0.5 * e30
        for i in range(len(age) - 1):
            if age[i] > 30:
                break
            if e[i + 1] >= target:
                if e[i + 1] == e[i]:
                    hl = age[i]
                else:
                    hl = age[i] + (target - e[i]) / (e[i + 1] - e[i]) * (age[i + 1] - age[i])
                hl = max(hl, age[i]) if e[i] < target else age[i]
                break
    return {"e2": E(2.0), "e7": E(7.0), "e30": e30, "e90": E(90.0), "hl": hl}


@pytest.fixture(scope="module")
def curves(default_run, loaded):
    out, _ = default_run
    notes = _clean_notes(loaded[0])
    truth = _csv(out / "truth" / "notes.csv")
    rows = {nid: _curve_metrics(g) for nid, g in notes.groupby("note_id")}
    m = pd.DataFrame.from_dict(rows, orient="index")
    return truth.join(m, on="note_id")


# ---------------------------------------------------------------------------------------------- determinism
def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = sim.simulate(tmp_path / "a", creators=12, days=30, seed=11)
    b = sim.simulate(tmp_path / "b", creators=12, days=30, seed=11)
    c = sim.simulate(tmp_path / "c", creators=12, days=30, seed=12)
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert da == db
    assert a["rows"] == b["rows"]
    assert da != dc
    assert c["rows"] != a["rows"] or any(da[k] != dc.get(k) for k in da)


def test_rerun_into_same_folder_replaces_it(tmp_path: Path) -> None:
    sim.simulate(tmp_path, creators=10, days=20, seed=1)
    first = _digest(tmp_path)
    sim.simulate(tmp_path, creators=10, days=20, seed=1)
    assert _digest(tmp_path) == first


def test_cli_main_writes_same_as_function(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert sim.main(["--creators", "10", "--days", "20", "--seed", "5", "--out", str(tmp_path / "cli")]) == 0
    sim.simulate(tmp_path / "fn", creators=10, days=20, seed=5)
    assert _digest(tmp_path / "cli") == _digest(tmp_path / "fn")
    assert json.loads(capsys.readouterr().out)["rows"]["creators_distinct"] == 10


# ---------------------------------------------------------------------------------------------- formats
def test_file_names_formats_and_fields(small_run) -> None:
    out, summary = small_run
    files = sorted((out / "mediacrawler").rglob("*.*"))
    assert len({p.parent.name for p in files}) >= 2  # several people crawling
    exts = {p.suffix for p in files}
    assert exts == {".json", ".jsonl", ".csv"}
    name_re = re.compile(r"(creator|search)_(contents|comments|creator)_(\d{4}-\d{2}-\d{2}|[a-z]+)\.(json|jsonl|csv)")
    for p in files:
        assert name_re.fullmatch(p.name), p.name
        raw = p.read_bytes()
        if p.suffix == ".csv":
            assert raw[:3] == b"\xef\xbb\xbf"
        elif p.suffix == ".jsonl":
            lines = raw.decode("utf-8").splitlines()
            assert lines and all(isinstance(json.loads(x), dict) for x in lines)
        else:
            assert raw[:1] == b"[" and isinstance(json.loads(raw), list)
    notes = _load(out, "contents")
    mal = pd.read_csv(out / "truth" / "malformed.csv", dtype=str, keep_default_na=False)
    assert summary["rows"]["notes"] == len(notes)
    absent = mal[mal["value"] == "<absent>"]
    for _, r in notes.iterrows():
        keys = [k for k in r.index if not k.startswith("_") and not (isinstance(r[k], float) and np.isnan(r[k]))]
        if ((absent["file"] == r["_file"]) & (absent["record_number"].astype(int) == r["_rec"])).any():
            assert "note_id" not in keys
            continue
        assert keys == list(sim.NOTE_FIELDS)
    creators = _load(out, "creator_2")
    assert set(sim.CREATOR_FIELDS) <= set(creators.columns)
    comments = _load(out, "comments")
    assert set(sim.COMMENT_FIELDS) <= set(comments.columns)
    # counts are strings, times epoch ms
    js = [p for p in files if p.suffix == ".jsonl" and "contents" in p.name][0]
    rec = _read_records(js)[0]
    assert isinstance(rec["liked_count"], str) and isinstance(rec["time"], int)
    assert 1_600_000_000_000 < rec["last_modify_ts"] < 1_800_000_000_000
    tags = json.loads(_read_records(next((out / "mediacrawler").rglob("creator_creator_*.csv")))[0]["tag_list"])
    assert set(tags) == {"info", "location", "profession"}


def test_brand_and_reference_files(small_run) -> None:
    out, _ = small_run
    b = out / "brand"
    assert list(_csv(b / "brands.csv").columns) == ["brand", "aliases", "category", "control_keyword"]
    assert list(_csv(b / "campaigns.csv").columns) == [
        "campaign_id",
        "brand",
        "phase",
        "start_date",
        "end_date",
        "target_keywords",
        "budget_cny",
    ]
    assert list(_csv(b / "campaign_posts.csv").columns) == [
        "campaign_id",
        "note_id",
        "user_id",
        "fee_cny",
        "posted_date",
    ]
    assert list(_csv(b / "search_index.csv").columns) == ["date", "keyword", "search_index"]
    assert list(_csv(b / "rate_card.csv").columns) == ["user_id", "image_price_cny", "video_price_cny"]
    assert list(_csv(b / "store_traffic.csv").columns) == ["date", "brand", "store_visits"]
    cats = _csv(out / "reference" / "categories.csv")
    assert list(cats.columns) == ["keyword", "category"]
    assert set(cats["category"]) == set(sim.CATEGORIES)
    assert not (b / "brands.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(list(b.glob("search_rankings_*.csv"))) == 40


def test_brand_files_false_writes_no_brand_folder(tmp_path: Path) -> None:
    s = sim.simulate(tmp_path, creators=10, days=20, seed=2, brand_files=False)
    assert not (tmp_path / "brand").exists()
    assert (tmp_path / "reference" / "categories.csv").exists()
    assert any((tmp_path / "mediacrawler").rglob("creator_contents_*"))
    assert "brand" not in s["files"]


def test_filler_words_cannot_create_categories_brands_or_disclosures() -> None:
    kws = [k for c in sim.CATEGORIES for k in sim.CATEGORY_KEYWORDS[c]]
    markers = load_lexicon().disclosure_markers
    names = [b.brand for b in sim.BRANDS] + [a for b in sim.BRANDS for a in b.aliases]
    for word in sim.TITLE_HEADS + sim.TITLE_TAILS + sim.DESC_LINES + sim.TAG_SUFFIXES:
        assert not any(k in word for k in kws), word
        assert not any(mk.lower() in word.lower() for mk in markers), word
        assert not any(nm.lower() in word.lower() for nm in names), word


# ---------------------------------------------------------------------------------------------- creators
def test_all_five_tiers_long_tail_and_stable(default_run, loaded) -> None:
    out, _ = default_run
    truth = _csv(out / "truth" / "creators.csv")
    counts = truth["planted_tier"].value_counts()
    assert set(counts.index) == set(sim.TIER_NAMES)
    assert counts["nano"] + counts["micro"] > 3 * (counts["macro"] + counts["top"])
    assert counts["top"] >= 1
    cr = loaded[1]
    cr = cr[~cr["_bad"]].copy()
    cr["fans_n"] = cr["fans"].map(_parse_count)
    last = cr.sort_values("last_modify_ts").groupby("user_id").tail(1)
    seen = pd.cut(
        last["fans_n"], [0, 10_000, 100_000, 500_000, 1_000_000, np.inf], right=False, labels=sim.TIER_NAMES
    ).astype(str)
    assert set(seen) == set(sim.TIER_NAMES)
    honest = truth[~truth["is_inflated"]]
    assert (honest["tiers_seen"] == honest["planted_tier"]).all()  # drift never changes an honest tier
    # every creator crawled (almost) every day
    per = cr.assign(day=((cr["last_modify_ts"].astype("int64") + SH_MS) // DAY_MS)).groupby("user_id")["day"].nunique()
    assert per.min() >= 120  # 128 crawl days; a late crawl that crosses midnight lands on the next day


def test_follower_spikes_visible_and_honest_drift_slow(default_run, loaded) -> None:
    out, _ = default_run
    truth = _csv(out / "truth" / "creators.csv", keep_default_na=False)
    notes = _csv(out / "truth" / "notes.csv")
    cr = loaded[1]
    cr = cr[~cr["_bad"]].copy()
    cr["fans_n"] = cr["fans"].map(_parse_count)
    cr["ts"] = cr["last_modify_ts"].astype("int64")
    spikes = truth[truth["inflation_kinds"].str.contains("follower_spike")]
    assert len(spikes) >= 2
    for uid, g in cr.sort_values("ts").groupby("user_id"):
        f = g["fans_n"].to_numpy()
        rel = f[1:] / f[:-1] - 1
        t = truth[truth["user_id"] == uid].iloc[0]
        if "follower_spike" in t["inflation_kinds"]:
            k = int(np.argmax(rel))
            assert rel[k] > 0.20 and f[k + 1] - f[k] > 1000
            ts_prev, ts_next = g["ts"].iloc[k], g["ts"].iloc[k + 1]
            spike_day = (ts_next + SH_MS) // DAY_MS
            assert str(date(1970, 1, 1) + timedelta(days=int(spike_day))) == t["spike_date"]
            pub = notes.loc[notes["user_id"] == uid, "published_ms"].to_numpy()
            assert not ((pub > ts_next - 2 * DAY_MS) & (pub <= ts_next)).any()
            assert ts_prev < ts_next
        else:
            assert rel.max() < 0.12, uid  # incl. 万-rounding steps; the drift itself is < 1 % a day


# ---------------------------------------------------------------------------------------------- notes
def test_engagement_curves_recover_planted_parameters(curves) -> None:
    c = curves
    full = c.dropna(subset=["e30"])
    assert len(full) > 100
    # eng_30d matches the planted curve (counts rounded, 万 abbreviations: 1.5 % + 3 counts)
    exp30 = full["e_final"] * sim.curve_fraction(full["h_days"], full["w"], 30.0)
    assert (np.abs(full["e30"] - exp30) <= 0.015 * exp30 + 3).mean() > 0.97
    # half-life: the contract's piecewise-linear solution is close to the planted one
    ok = full.dropna(subset=["hl"])
    err = np.abs(ok["hl"] - ok["planted_half_life_days"])
    assert (err <= 0.3 + 0.05 * ok["planted_half_life_days"]).mean() > 0.95
    assert ok["planted_half_life_days"].min() < 1.0 and ok["planted_half_life_days"].max() > 10.0
    # evergreen: planted flag equals the contract's rule where eng_90d exists
    e90 = c.dropna(subset=["e30", "e90"])
    assert len(e90) > 30 and e90["is_evergreen"].sum() >= 3 and (~e90["is_evergreen"]).sum() >= 10
    share = (e90["e90"] - e90["e30"]) / e90["e90"]
    assert ((share >= 0.25) == e90["is_evergreen"]).mean() >= 0.97
    assert (share[e90["is_evergreen"]] > 0.3).mean() > 0.9  # evergreen notes keep growing after day 30


def test_planted_half_life_formula() -> None:
    h = np.array([0.5, 2.0, 10.0, 40.0])
    expected = h * (1 - np.log2(1 + np.exp2(-30 / h)))
    assert np.allclose(sim.planted_half_life(h, 1.0), expected, atol=1e-6)
    assert sim.planted_half_life(40.0, 1.0)[0] == pytest.approx(13.07, abs=0.01)
    assert sim.planted_late_share(12.0, 1.0) < 0.25 < sim.planted_late_share(22.0, 1.0)
    assert sim.planted_late_share(3.0, 0.5) > 0.3


def test_er_by_tier_and_ratios(default_run, curves, loaded) -> None:
    out, _ = default_run
    c = curves.dropna(subset=["e7"]).copy()
    c["er7"] = c["e7"] / c["followers_at_7d"]
    assert np.allclose(c["er7"], c["er_7d_planted"], rtol=0.08, atol=0.002)
    creators = _csv(out / "truth" / "creators.csv")
    med = c.groupby("user_id")["er7"].median().rename("med").to_frame().join(creators.set_index("user_id"))
    tier_med = med[~med["is_inflated"]].groupby("planted_tier")["med"].median()
    assert tier_med["nano"] > tier_med["micro"] > tier_med["mid"] > tier_med["macro"] > tier_med["top"]
    for t, v in sim.TIER_ER7.items():
        assert tier_med[t] == pytest.approx(v, rel=0.4)
    all_med = med.groupby("planted_tier")["med"].transform("median")
    honest = med[~med["is_inflated"]]
    assert (honest["med"] >= 0.25 * all_med[honest.index]).all()
    low = med[med["inflation_kinds"].fillna("").str.contains("low_er_for_tier")]
    assert len(low) >= 2 and (low["med"] < 0.25 * all_med[low.index]).all()
    # saves / comments / shares in plausible ratios to likes at the latest observation
    n = _clean_notes(loaded[0])
    n = n[~n["_file"].str.contains("keyword_watch")]  # search cards round to 1.2k / 10万+
    n = n.sort_values("ts").groupby("note_id").tail(1)
    n = n[n["liked_count"] >= 200].join(creators.set_index("user_id")["is_inflated"], on="user_id")
    n = n[~n["is_inflated"]]
    s2l = n["collected_count"] / n["liked_count"]
    c2l = n["comment_count"] / n["liked_count"]
    sh2l = n["share_count"] / n["liked_count"]
    assert s2l.between(0.18, 1.0).all() and c2l.between(0.03, 0.2).all() and sh2l.between(0.012, 0.13).all()


def test_category_scoring_recovers_planted_categories(default_run, loaded) -> None:
    out, _ = default_run
    cats = _csv(out / "reference" / "categories.csv")
    truth = _csv(out / "truth" / "notes.csv")
    creators = _csv(out / "truth" / "creators.csv")
    n = loaded[0]
    n = n[~n["_bad"]].drop_duplicates("note_id").set_index("note_id")
    order = list(dict.fromkeys(cats["category"]))
    got = {}
    for nid, r in n.iterrows():
        tags = [t for t in str(r["tag_list"]).split(",") if t]
        score = {c: 0 for c in order}
        for kw, c in zip(cats["keyword"], cats["category"]):
            score[c] += 3 * sum(kw in t for t in tags) + 2 * (kw in r["title"]) + (kw in r["desc"])
        best = max(order, key=lambda c: (score[c], -order.index(c)))
        got[nid] = best if score[best] > 0 else None
    truth["scored"] = truth["note_id"].map(got)
    truth = truth[truth["note_id"].isin(got)]  # notes published after the last crawl are never seen
    assert len(truth) > 200
    assert (truth["scored"] == truth["category"]).all(), truth.loc[truth["scored"] != truth["category"]]
    assert truth["is_off_niche"].sum() >= 5
    primary = truth.groupby("user_id")["scored"].agg(lambda s: s.value_counts().idxmax())
    assert (primary == creators.set_index("user_id")["category"][primary.index]).all()


def test_crawl_dirt(default_run, loaded) -> None:
    out, _ = default_run
    notes = loaded[0]
    vals = pd.concat([notes[c].astype(str) for c in ("liked_count", "collected_count", "share_count")])
    assert vals.str.fullmatch(r"\d+(\.\d)?万").any()
    assert vals.str.fullmatch(r"\d+(\.\d)?w").any()
    assert (vals == "10万+").any()
    assert vals.str.fullmatch(r"\d(\.\d)?k").any()
    ok = notes[~notes["_bad"]].copy()
    ok["sh_day"] = (ok["last_modify_ts"].astype("int64") + SH_MS) // DAY_MS
    per_day = ok.groupby(["note_id", "sh_day"]).size()
    assert (per_day > 1).sum() > 50  # the same note several times a day
    both = ok.groupby(["note_id", "sh_day"])["_file"].nunique()
    assert (both > 1).sum() > 10  # ... across files
    diff = ok.groupby(["note_id", "sh_day"])["liked_count"].nunique()
    assert (diff > 1).sum() > 5  # ... with different counts
    # rows crossing midnight: file name date differs from the Shanghai date of the crawl
    fdate = ok["_file"].str.extract(r"(\d{4}-\d{2}-\d{2})")[0]
    cdate = ok["sh_day"].map(lambda d: str(date(1970, 1, 1) + timedelta(days=int(d))))
    crossed = (fdate.notna() & (fdate != cdate)).sum()
    assert 0 < crossed < 0.05 * len(ok)
    # a few deleted likes: a later crawl with fewer likes than an earlier one (exact counts only)
    c = _clean_notes(notes)
    c = c[c["liked_count"] < 10_000].sort_values("ts")
    drops = c.groupby("note_id")["liked_count"].diff().lt(0).sum()
    assert drops >= 3
    assert json.loads((out / "truth" / "params.json").read_text())["like_drops"] >= 3
    assert any(
        p.name == "creator_contents_rerun.csv" or p.name.startswith("creator_contents_rerun")
        for p in (out / "mediacrawler").rglob("*")
    )


def test_malformed_records_are_where_truth_says(default_run) -> None:
    out, _ = default_run
    mal = pd.read_csv(out / "truth" / "malformed.csv", dtype=str, keep_default_na=False)
    assert len(mal) >= 8
    assert {"non-numeric count", "negative count", "publish time after crawl time"} <= set(mal["problem"])
    assert mal["problem"].str.startswith("missing note_id").sum() >= 2
    for _, r in mal.iterrows():
        rec = _read_records(out / r["file"])[int(r["record_number"]) - 1]
        if r["value"] == "<absent>":
            assert r["field"] not in rec
        elif r["problem"] == "publish time after crawl time":
            assert int(rec["time"]) > int(rec["last_modify_ts"])
        else:
            assert str(rec[r["field"]]) == r["value"]
        if r["problem"] in ("non-numeric count", "negative count"):
            assert np.isnan(_parse_count(rec[r["field"]]))


# ---------------------------------------------------------------------------------------------- comments
def _classify(text: str, lex) -> str:
    core = re.sub(r"\[[^\]]{1,12}\]", "", text)
    mentions = re.findall(r"@\S+", core)
    core = re.sub(r"@\S+", "", core)
    stripped = re.sub(r"[\s\W_]+", "", core)
    cc = lex.comment_classes
    if any(w in core for w in cc["purchase_intent"]):
        return "purchase_intent"
    if any(w in core for w in cc["question"]):
        return "question"
    if mentions and len(stripped) <= lex.tag_friend_max_chars:
        return "tag_friend"
    if any(w in core for w in cc["experience"]):
        return "experience"
    if len(stripped) < lex.low_effort_min_chars or stripped in cc["low_effort_fillers"]:
        return "low_effort"
    return "other"


def _norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", re.sub(r"@\S+", "", re.sub(r"\[[^\]]{1,12}\]", "", text)))


def test_comments_classes_replies_and_duplicates(default_run, loaded) -> None:
    out, _ = default_run
    com = loaded[2]
    com = com[~com["_bad"]]
    truth = _csv(out / "truth" / "comments.csv", keep_default_na=False)
    assert len(com) == len(truth) and set(com["comment_id"]) == set(truth["comment_id"])
    lex = load_lexicon()
    t = truth.set_index("comment_id")
    got = com.set_index("comment_id")["content"].map(lambda s: _classify(s, lex))
    assert (got == t.loc[got.index, "planted_class"]).all()
    assert set(t["planted_class"]) == {"purchase_intent", "question", "tag_friend", "experience", "low_effort", "other"}
    assert com["content"].str.contains(r"\[[^\]]+R\]").any() and com["content"].str.contains("@").any()
    top = com[com["parent_comment_id"].isin(["0", ""])]
    rep = com[~com["parent_comment_id"].isin(["0", ""])]
    assert set(top["parent_comment_id"]) == {"0", ""} and len(rep) > 20
    ids = dict(zip(com["comment_id"], com["note_id"]))
    assert all(ids.get(p) == n for p, n in zip(rep["parent_comment_id"], rep["note_id"]))
    assert (com["create_time"].astype("int64") <= com["last_modify_ts"].astype("int64")).all()
    # sub_comment_count of a parent = its replies crawled
    nrep = rep.groupby("parent_comment_id").size()
    sub = com.set_index("comment_id")["sub_comment_count"].astype(int)
    assert (sub[nrep.index] == nrep).all()
    # duplicate comments: > 30 % on the planted accounts (>= 20 comments), well below on honest ones
    creators = _csv(out / "truth" / "creators.csv", keep_default_na=False).set_index("user_id")
    com = com.assign(
        author=com["note_id"].map(t.groupby("note_id")["note_author_id"].first()), norm=com["content"].map(_norm)
    )
    for uid, g in com.groupby("author"):
        dup_share = g["norm"].duplicated(keep=False).mean()
        if "duplicate_comments" in creators.at[uid, "inflation_kinds"]:
            assert len(g) >= 20 and dup_share > 0.3, uid
        elif len(g) >= 20:
            assert dup_share <= 0.3, uid


def test_comment_to_like_low_for_planted_accounts(default_run, loaded) -> None:
    out, _ = default_run
    creators = _csv(out / "truth" / "creators.csv", keep_default_na=False).set_index("user_id")
    n = _clean_notes(loaded[0]).sort_values("ts").groupby("note_id").tail(1)
    agg = n.groupby("user_id")[["comment_count", "liked_count"]].sum()
    agg["c2l"] = agg["comment_count"] / agg["liked_count"]
    agg = agg.join(creators)
    tier_med = agg.groupby("planted_tier")["c2l"].transform("median")
    low = agg["inflation_kinds"].str.contains("low_comment_to_like")
    assert low.sum() >= 2
    assert (agg.loc[low, "c2l"] < 0.2 * tier_med[low]).all()
    assert (agg.loc[~agg["is_inflated"], "c2l"] >= 0.2 * tier_med[~agg["is_inflated"]]).all()


# ---------------------------------------------------------------------------------------------- brands
def test_campaigns_phases_fees_and_disclosure(default_run) -> None:
    out, _ = default_run
    b = out / "brand"
    posts = _csv(b / "campaign_posts.csv")
    camps = _csv(b / "campaigns.csv")
    truth_c = _csv(out / "truth" / "campaigns.csv")
    creators = _csv(out / "truth" / "creators.csv").set_index("user_id")
    notes = _csv(out / "truth" / "notes.csv", keep_default_na=False).set_index("note_id")
    brands = _csv(b / "brands.csv").set_index("brand")
    sizes = posts.groupby("campaign_id")["user_id"].nunique()
    small = sizes[sizes < 15]
    assert list(small.index) == ["C06"] and not truth_c.set_index("campaign_id").at["C06", "density_ok"]
    assert sizes.drop("C06").between(15, 40).all()
    assert set(camps["phase"]) >= {"launch", "sustain", "festival"}
    # fees inside the public price range of the author's tier, quoted rate card likewise
    fee_tier = creators.loc[posts["user_id"], "planted_tier"].to_numpy()
    for t, (lo, hi) in sim.TIER_FEE.items():
        f = posts["fee_cny"][fee_tier == t]
        assert f.between(lo, hi).all(), t
    assert set(fee_tier) >= {"nano", "micro", "mid"}
    card = _csv(b / "rate_card.csv").join(creators["planted_tier"], on="user_id")
    for t, (lo, hi) in sim.TIER_FEE.items():
        sub = card[card["planted_tier"] == t]
        assert sub["image_price_cny"].between(lo, hi).all() and sub["video_price_cny"].between(lo, hi).all()
    assert card.groupby("planted_tier")["image_price_cny"].median().is_monotonic_increasing is not None
    med = card.groupby("planted_tier")["image_price_cny"].median()
    assert med["nano"] < med["micro"] < med["mid"] < med["top"]
    # sponsored notes mention the brand, mostly a target keyword, mostly disclosed (not all)
    markers = load_lexicon().disclosure_markers
    sp = notes.loc[posts["note_id"]]
    assert (
        sp["brand"].to_numpy() == camps.set_index("campaign_id").loc[posts["campaign_id"], "brand"].to_numpy()
    ).all()
    assert 0.6 < sp["is_disclosed"].mean() < 1.0 and 0.75 < sp["has_target_keyword"].mean() < 1.0
    organic_mentions = notes[(notes["brand"] != "") & ~notes["is_sponsored"]]
    assert len(organic_mentions) >= 3 and not organic_mentions["is_disclosed"].any()
    # repeat creators: hired for both phases of a brand, in different weeks
    c1 = set(posts.loc[posts["campaign_id"] == "C01", "user_id"])
    c2 = set(posts.loc[posts["campaign_id"] == "C02", "user_id"])
    assert len(c1 & c2) >= 5
    assert set(brands.index) >= set(camps["brand"]) and brands["control_keyword"].notna().all()
    del markers


def test_sponsored_text_carries_brand_and_markers(default_run, loaded) -> None:
    out, _ = default_run
    notes = loaded[0]
    notes = notes[~notes["_bad"]].drop_duplicates("note_id").set_index("note_id")
    truth = _csv(out / "truth" / "notes.csv", keep_default_na=False).set_index("note_id")
    markers = [m.lower() for m in load_lexicon().disclosure_markers]
    text = (notes["title"] + " " + notes["desc"] + " " + notes["tag_list"]).str.lower()
    has_marker = text.map(lambda s: any(m in s for m in markers))
    assert (has_marker == truth.loc[has_marker.index, "is_disclosed"]).all()
    brands = _csv(out / "brand" / "brands.csv")
    for _, b in brands.iterrows():
        names = [b["brand"].lower()] + [a.lower() for a in b["aliases"].split("|")]
        mentions = text.map(lambda s: any(nm in s for nm in names))
        assert (mentions == (truth.loc[mentions.index, "brand"] == b["brand"])).all(), b["brand"]


def test_search_lift_recovered_with_control(default_run) -> None:
    out, _ = default_run
    idx = _csv(out / "brand" / "search_index.csv", parse_dates=["date"])
    store = _csv(out / "brand" / "store_traffic.csv", parse_dates=["date"])
    brands = _csv(out / "brand" / "brands.csv").set_index("brand")
    truth = _csv(out / "truth" / "campaigns.csv", keep_default_na=False)

    def lift(s: pd.Series, launch: pd.Timestamp) -> float:
        pre = s[(s.index >= launch - pd.Timedelta(days=28)) & (s.index < launch)]
        post = s[(s.index >= launch) & (s.index < launch + pd.Timedelta(days=28))]
        assert len(pre) == 28 and len(post) == 28
        return post.mean() / pre.mean() - 1

    checked = 0
    for _, c in truth.iterrows():
        launch = pd.Timestamp(c["start_date"])
        if launch + pd.Timedelta(days=27) > idx["date"].max():
            continue
        s_b = idx[idx["keyword"] == c["brand"]].set_index("date")["search_index"]
        s_c = idx[idx["keyword"] == brands.at[c["brand"], "control_keyword"]].set_index("date")["search_index"]
        lb, lc = lift(s_b, launch), lift(s_c, launch)
        adj = (1 + lb) / (1 + lc) - 1
        assert adj == pytest.approx(float(c["planted_search_lift"]), abs=0.02), c["campaign_id"]
        if c["planted_store_lift"] != "":
            st = store[store["brand"] == c["brand"]].set_index("date")["store_visits"]
            assert lift(st, launch) == pytest.approx(float(c["planted_store_lift"]), abs=0.02)
        checked += 1
    assert checked >= 5
    lifts = truth["planted_search_lift"].astype(float)
    assert lifts.between(0.1, 0.4).all()


def test_search_rankings(default_run) -> None:
    out, _ = default_run
    files = sorted((out / "brand").glob("search_rankings_*.csv"))
    assert len(files) == 130
    notes = _csv(out / "truth" / "notes.csv", keep_default_na=False)
    crawled = set(notes["note_id"])
    brand_notes = set(notes.loc[notes["brand"] != "", "note_id"])
    seen_brand = seen_uncrawled = 0
    camps = _csv(out / "brand" / "campaigns.csv")
    targets = {k for t in camps["target_keywords"] for k in t.split("|")}
    for p in files[::10]:
        r = _csv(p)
        for kw, g in r.groupby("keyword"):
            assert 20 <= len(g) <= 30 and list(g["rank"]) == list(range(1, len(g) + 1))
            assert g["note_id"].is_unique
        assert set(r["keyword"]) & targets and len(set(r["keyword"]) - targets) >= 3
        seen_brand += r["note_id"].isin(brand_notes).sum()
        seen_uncrawled += (~r["note_id"].isin(crawled)).sum()
    assert seen_brand > 20 and seen_uncrawled > 100


# ---------------------------------------------------------------------------------------------- sample budget
def test_default_run_size_and_summary(default_run) -> None:
    out, summary = default_run
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024
    assert summary["rows"]["creators_distinct"] == 80
    assert summary["start_date"] == "2025-02-21" and summary["end_date"] == "2025-06-30"
    assert summary["malformed"] == len(_csv(out / "truth" / "malformed.csv"))


def test_bundled_sample_matches_generator(tmp_path: Path) -> None:
    """data/sample/ is exactly what the documented command writes (skipped if the sample is not there)."""
    sample = Path(sim.__file__).resolve().parents[3] / "data" / "sample"  # kol_pipeline/lib/simulate/__init__.py
    if not (sample / "truth" / "params.json").exists():
        pytest.skip("no bundled sample")
    sim.simulate(tmp_path)
    mine = _digest(tmp_path)
    theirs = {k: v for k, v in _digest(sample).items() if k != "README.md"}
    assert mine == theirs
