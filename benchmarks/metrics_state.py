"""Per-day cost of the metrics layer against the length of the history: the former window computation versus the
incremental state (docs/metrics.md "Incremental state", measured figures there).

    # 1. cleaned tables of a synthetic history, written straight into a warehouse (no landing files, no ingestion)
    .venv/bin/python -m benchmarks.metrics_state generate --warehouse /tmp/wh --days 130 --notes-per-day 500 \\
        --creators 5000 --comments-per-crawl 2
    # 2. the states of every day, carried from the first day (what daily runs leave in the warehouse)
    .venv/bin/python -m benchmarks.metrics_state states --warehouse /tmp/wh
    # 3. one day of metrics, one process each (wrap in /usr/bin/time -v for the peak RSS)
    .venv/bin/python -m benchmarks.metrics_state day --warehouse /tmp/wh --day 120 --mode window
    .venv/bin/python -m benchmarks.metrics_state day --warehouse /tmp/wh --day 120 --mode state

``--mode window`` reads what the former assets loaded for a one-day run (121 days of notes, creators, comments;
124 of creators and 91 of comments for the scorecard; 91 of notes and creators for the benchmarks, all columns)
and runs the pandas reference (kol_pipeline_tests/reference_metrics.py); ``--mode state`` reads the previous day's three states and that day's
cleaned partitions (only the columns used), computes the day's states, writes them, and computes the three
metrics tables from them. Both write note_metrics, creator_scorecard and tier_benchmarks. The synthetic world: each
day ``notes-per-day`` notes are published by random creators; a note is crawled daily for its first 30 days, then
weekly up to age 119 (about 43 rows per note published); each creator has a daily snapshot; each crawl of a note
younger than 30 days brings ``comments-per-crawl`` new comments (crawled once).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from kol_pipeline.lib import duck
from kol_pipeline.lib.state import comment_state as Q
from kol_pipeline.lib.state import comment_view as CV

START = date(2025, 1, 1)
PART = "part-0.parquet"


def _write(wh: Path, table: str, d: date, df: pd.DataFrame) -> None:
    from kol_pipeline.resources.table_io import to_arrow

    folder = wh / table / f"snapshot_date={d.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    if "snapshot_date" not in df.columns:
        df = df.assign(snapshot_date=d)
    t = to_arrow(df, table)
    if "snapshot_date" in t.column_names:
        t = t.drop_columns(["snapshot_date"])
    pq.write_table(t.replace_schema_metadata(None), folder / PART)


def generate(wh: Path, days: int, per_day: int, creators: int, comments_per_crawl: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    users = np.array([f"u{i:07d}" for i in range(creators)], dtype=object)
    base_f = np.exp(rng.normal(9.5, 1.5, creators)).astype("int64") + 50
    growth = rng.normal(0.002, 0.002, creators)
    n_all = (days + 119) * per_day  # notes published up to 119 days before the first day: a steady daily load
    author = rng.integers(0, creators, n_all)
    pub_day = np.repeat(np.arange(-119, days), per_day)
    pub_sec = rng.uniform(0, 20 * 3600, n_all)  # Asia/Shanghai seconds after midnight
    final = np.exp(rng.normal(5.0, 1.4, n_all))
    tau = rng.uniform(1.0, 12.0, n_all)
    cats = np.array(["skincare", "beauty", "food", "fashion", "home", None], dtype=object)
    cat = cats[rng.integers(0, len(cats), n_all)]
    disclosed = rng.random(n_all) < 0.1
    epoch = pd.Timestamp(START.isoformat(), tz="Asia/Shanghai").tz_convert("UTC")
    cid = 0
    for d in range(days):
        day = START + timedelta(days=d)
        age_day = d - pub_day
        seen = (age_day >= 0) & ((age_day < 30) | ((age_day < 120) & (age_day % 7 == 0)))
        idx = np.flatnonzero(seen)
        crawl_sec = np.round(d * 86400 + 22 * 3600 + rng.uniform(0, 3000, len(idx)))
        pub_abs = np.round(pub_day[idx] * 86400 + pub_sec[idx])
        age = (crawl_sec - pub_abs) / 86400.0
        e = final[idx] * (1 - np.exp(-age / tau[idx]))
        likes = (0.6 * e).astype("int64")
        saves = (0.2 * e).astype("int64")
        comments = (0.1 * e).astype("int64")
        shares = (0.1 * e).astype("int64")
        nid = np.array([f"n{i:09d}" for i in idx], dtype=object)
        age = np.maximum(age, 0.0)
        notes = pd.DataFrame(
            {
                "note_id": nid,
                "user_id": users[author[idx]],
                "nickname": "nick",
                "note_type": "normal",
                "title": "标题 " + pd.Series(nid).str[-4:],
                "description": "一段正文描述，用来模拟真实的长度。" * 3,
                "tags": [["护肤", "好物"]] * len(idx),
                "published_at": epoch + pd.to_timedelta(pub_abs, unit="s"),
                "crawled_at": epoch + pd.to_timedelta(crawl_sec, unit="s"),
                "likes": likes,
                "saves": saves,
                "comments": comments,
                "shares": shares,
                "engagements": likes + saves + comments + shares,
                "category": cat[idx],
                "brands": [[]] * len(idx),
                "is_disclosed": disclosed[idx],
                "source_file": "synthetic",
            }
        )
        _write(wh, "notes", day, notes)
        fol = (base_f * (1 + growth) ** d).astype("int64")
        cr = pd.DataFrame(
            {
                "user_id": users,
                "nickname": "nick",
                "gender": None,
                "followers": fol,
                "following": 100,
                "likes_and_saves_total": fol * 3,
                "tier": None,
                "crawled_at": epoch + pd.to_timedelta(d * 86400 + 21 * 3600, unit="s"),
                "source_file": "synthetic",
            }
        )
        _write(wh, "creators", day, cr)
        young = idx[age_day[idx] < 30]
        k = len(young) * comments_per_crawl
        texts = np.array(
            ["好用吗？", "求链接", "我用过，真的不错", "沙发", "哈哈哈哈", "已购，回购第三次"], dtype=object
        )
        com = pd.DataFrame(
            {
                "comment_id": [f"c{cid + i:010d}" for i in range(k)],
                "note_id": np.repeat(young, comments_per_crawl),
                "user_id": users[rng.integers(0, creators, k)],
                "parent_comment_id": np.where(rng.random(k) < 0.7, None, "c0000000000").astype(object),
                "content": texts[rng.integers(0, len(texts), k)],
                "created_at": epoch + pd.to_timedelta(d * 86400 + 20 * 3600, unit="s"),
                "like_count": 0,
                "sub_comment_count": 0,
                "comment_class": "other",
                "is_substantive": rng.random(k) < 0.7,
                "crawled_at": epoch + pd.to_timedelta(d * 86400 + 22 * 3600, unit="s"),
                "source_file": "synthetic",
            }
        )
        com["note_id"] = [f"n{i:09d}" for i in com["note_id"]]
        cid += k
        _write(wh, "comments", day, com)
        if d % 10 == 0:
            print(f"{day}: {len(notes)} notes, {len(cr)} creators, {len(com)} comments", flush=True)
    pd.DataFrame({"campaign_id": pd.Series(dtype=object), "note_id": pd.Series(dtype=object)}).to_parquet(
        wh / "campaign_posts.parquet"
    )


def _day(i: int) -> date:
    return START + timedelta(days=i)


def _stored_comments(con, wh: Path, d: date):
    """The stored comment_state partitions of the 122 days up to ``d`` as a relation (None: none)."""
    files = [
        str(f)
        for f in sorted((wh / "comment_state").glob("snapshot_date=*/*.parquet"))
        if (d - timedelta(days=121)).isoformat() <= f.parent.name.split("=")[1] <= d.isoformat()
    ]
    if not files:
        return None
    return con.sql(
        "SELECT * FROM read_parquet($f, hive_partitioning = true, hive_types = {'snapshot_date': DATE})",
        params={"f": files},
    )


def _comment_state_day(wh: Path, d: date, comments: pd.DataFrame) -> pd.DataFrame:
    """The comment_state partition of ``d`` (lib/state/comment_state.py) continuing the stored ones."""
    with duck.connect() as con:
        stored = _stored_comments(con, wh, d - timedelta(days=1))
        CV.use_stored(con, stored)
        ((_, rows, base),) = Q.state_partitions(con, [d], {d: comments}.get, base_first=stored is None)
    out = rows.to_pandas()
    out["base"] = base
    return out


def states(wh: Path, days: int | None, only: str | None = None) -> None:
    from kol_pipeline.lib.state import creator_state as CS
    from kol_pipeline.lib.state import days as S
    from kol_pipeline.lib.state.note_state import OBS_COLUMNS as NS_OBS_COLUMNS
    from kol_pipeline.lib.state.note_state import note_state_frame
    from kol_pipeline.resources.io_manager import list_partitions, read_table

    keys = list_partitions(str(wh), "notes")
    n = len(keys) if days is None else days
    ns = cs = crs = None
    prev = None
    for i in range(n):
        d = _day(i)
        k = d.isoformat()
        if only in (None, "creator_state"):
            crs = CS.creator_state_step(crs, prev, read_table(str(wh), "creators", k, k)[CS.CREATOR_COLUMNS], d)
        if only in (None, "comment_state"):
            cs = _comment_state_day(wh, d, read_table(str(wh), "comments", k, k)[S.COMMENT_COLUMNS])
        if only in (None, "note_state"):
            ns = note_state_frame(ns, read_table(str(wh), "notes", k, k)[NS_OBS_COLUMNS], d)
        prev = d
        for name, st in (("note_state", ns), ("comment_state", cs), ("creator_state", crs)):
            if st is not None and (name != "comment_state" or len(st)):
                _write(wh, name, d, S.with_day(st, d))
        if i % 10 == 0:
            print(
                f"{d}: "
                + ", ".join(
                    f"{n} {len(x)}"
                    for n, x in (("note_state", ns), ("comment_state", cs), ("creator_state", crs))
                    if x is not None
                ),
                flush=True,
            )


def one_day(wh: Path, i: int, mode: str) -> dict:
    from kol_pipeline.lib.metrics import creator_scorecard as SC
    from kol_pipeline.lib.state import creator_state as CS
    from kol_pipeline.lib.state import days as S
    from kol_pipeline.lib.state.note_state import OBS_COLUMNS as NS_OBS_COLUMNS
    from kol_pipeline.lib.state.note_state import note_state_frame
    from kol_pipeline.resources.io_manager import read_table
    from kol_pipeline.resources.storage import Listing
    from kol_pipeline.resources.table_io import read_partitioned
    from kol_pipeline_tests import metric_states
    from kol_pipeline_tests import reference_metrics as M

    d = _day(i)
    k = d.isoformat()
    back = lambda n: (d - timedelta(days=n)).isoformat()  # noqa: E731
    cp = pd.read_parquet(wh / "campaign_posts.parquet")
    t0 = time.perf_counter()
    rows = {}
    if mode == "window":
        notes = read_table(str(wh), "notes", back(121), k)
        creators = read_table(str(wh), "creators", back(121), k)
        comments = read_table(str(wh), "comments", back(121), k)
        rows["rows_read"] = len(notes) + len(creators) + len(comments)
        nm = M.note_metrics(notes, creators, comments, cp, [d])
        del notes, comments
        sc = M.creator_scorecard(
            nm, read_table(str(wh), "creators", back(124), k), read_table(str(wh), "comments", back(91), k), None, [d]
        )
        tb = M.tier_benchmarks(
            sc, nm, read_table(str(wh), "notes", back(91), k), read_table(str(wh), "creators", back(91), k), [d]
        )
    else:
        prev = _day(i - 1).isoformat()

        def part(table, key, cols=None):
            return read_partitioned(_LOCAL, Listing(_LOCAL, str(wh / table)), table, [key], columns=cols)

        lap = {}
        t = time.perf_counter()
        ns = note_state_frame(S.without_day(part("note_state", prev)), part("notes", k, NS_OBS_COLUMNS), d)
        _write(wh / "_bench_states", "note_state", d, S.with_day(ns, d))
        lap["note_state"], t = round(time.perf_counter() - t, 2), time.perf_counter()
        cs = _comment_state_day(wh, d, part("comments", k, S.COMMENT_COLUMNS))
        if len(cs):
            _write(wh / "_bench_states", "comment_state", d, S.with_day(cs, d))
        lap["comment_state"], t = round(time.perf_counter() - t, 2), time.perf_counter()
        crs = CS.creator_state_step(
            S.without_day(part("creator_state", prev)), _day(i - 1), part("creators", k, CS.CREATOR_COLUMNS), d
        )
        _write(wh / "_bench_states", "creator_state", d, S.with_day(crs, d))
        lap["creator_state"], t = round(time.perf_counter() - t, 2), time.perf_counter()
        rows["rows_read"] = None
        rows["state_rows"] = {"note_state": len(ns), "comment_state": len(cs), "creator_state": len(crs)}
        with duck.connect() as con:
            rel = _stored_comments(con, wh, d)
            stored = None if rel is None else rel.to_arrow_table()  # read by the steps' own connections
        # note_metrics, creator_scorecard and tier_benchmarks: their SQL over the day's states (lib/metrics)
        nm = metric_states.note_metrics_of_states(ns, crs, stored, cp, d)
        lap["note_metrics"], t = round(time.perf_counter() - t, 2), time.perf_counter()
        sc = SC.scorecard_from_state(nm, crs, stored, None, d)
        lap["creator_scorecard"], t = round(time.perf_counter() - t, 2), time.perf_counter()
        tb = metric_states.tier_benchmarks_of_states(sc, ns, crs, d)
        lap["tier_benchmarks"] = round(time.perf_counter() - t, 2)
        rows["seconds_by_step"] = lap
    out_dir = wh / f"_bench_{mode}"
    for name, df in (("note_metrics", nm), ("creator_scorecard", sc), ("tier_benchmarks", tb)):
        _write(out_dir, name, d, df)
    secs = time.perf_counter() - t0
    return {
        "day_index": i,
        "day": k,
        "mode": mode,
        "seconds": round(secs, 2),
        "note_metrics_rows": len(nm),
        "scorecard_rows": len(sc),
        "benchmark_rows": len(tb),
        **rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--warehouse", required=True)
    g.add_argument("--days", type=int, default=130)
    g.add_argument("--notes-per-day", type=int, default=500)
    g.add_argument("--creators", type=int, default=5000)
    g.add_argument("--comments-per-crawl", type=int, default=2)
    g.add_argument("--seed", type=int, default=1)
    s = sub.add_parser("states")
    s.add_argument("--warehouse", required=True)
    s.add_argument("--days", type=int)
    s.add_argument("--only", choices=("note_state", "comment_state", "creator_state"))
    o = sub.add_parser("day")
    o.add_argument("--warehouse", required=True)
    o.add_argument("--day", type=int, required=True, help="day index, 0 = the first day")
    o.add_argument("--mode", choices=("window", "state"), required=True)
    a = ap.parse_args()
    wh = Path(a.warehouse)
    if a.cmd == "generate":
        generate(wh, a.days, a.notes_per_day, a.creators, a.comments_per_crawl, a.seed)
    elif a.cmd == "states":
        states(wh, a.days, a.only)
    else:
        print(json.dumps(one_day(wh, a.day, a.mode)))


from fsspec.implementations.local import LocalFileSystem  # noqa: E402

_LOCAL = LocalFileSystem()

if __name__ == "__main__":
    main()
