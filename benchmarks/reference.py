"""Plain DuckDB baselines for the benchmark harness.

- ``duckdb_read_landing``: what the machine can do for ingestion: DuckDB's ``read_json`` of the day's landing JSONL
  files into in-memory tables (the columns the pipeline needs), nothing else.
- ``reference_metrics``: the core metrics of ../shared/CONTRACT.md in SQL over the cleaned Parquet of the warehouse,
  for one day D: E(h) at 2/7/30/90 days (running maximum, the publish instant as (0, 0), linear interpolation
  between the nearest observations at or below and at or above h, null when either is more than 2 days away),
  er_7d (eng_7d / followers on the day the note reached age 7: the nearest creator snapshot within 3 days, the
  earlier on a tie, only snapshots up to D), creators' median er_7d over their notes published in D-89..D, and the
  tier x category benchmarks p25/median/p75 of those medians (category = the creator's primary category, most
  frequent over those notes, ties to the latest-published then the alphabetically first; plus 'all').
  It reads the same partition windows as the assets (notes/creators D-121..D, creators D-124..D for the tier).
- ``compare``: the reference against the pipeline's note_metrics / creator_scorecard / tier_benchmarks rows of D:
  same keys, values equal within 1e-9 (relative, absolute below 1), nulls equal.

Independent of kol_pipeline's code on purpose (only the warehouse layout is shared).
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

HORIZONS = (2, 7, 30, 90)
MAX_GAP = 2.0
EPS = 1e-9
NOTE_WINDOW_LOAD = 121  # the assets' partition mapping: D-121 .. D
CREATOR_LOAD = 124
NEAREST_DAYS = 3
CREATOR_WINDOW = 90
NOTE_WINDOW = 120
TIER_BOUNDS = (10_000, 100_000, 500_000, 1_000_000)


def partition_files(warehouse: Path, table: str, start: date, end: date) -> list[str]:
    out = []
    d = start
    while d <= end:
        folder = warehouse / table / f"snapshot_date={d.isoformat()}"
        if folder.is_dir():
            out += sorted(str(p) for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))
        d += timedelta(days=1)
    return out


def duckdb_read_landing(landing: Path, threads: int | None = None) -> dict:
    """Read the day's MediaCrawler JSONL files with DuckDB (needed columns only) into memory; returns seconds and rows."""
    files = {
        "notes": sorted(str(p) for p in (landing / "mediacrawler").rglob("*_contents*.jsonl")),
        "comments": sorted(str(p) for p in (landing / "mediacrawler").rglob("*_comments*.jsonl")),
        "creators": sorted(str(p) for p in (landing / "mediacrawler").rglob("*_creator*.jsonl")),
    }
    cols = {
        "notes": 'note_id, user_id, type, title, "desc", time, last_modify_ts, liked_count, collected_count, '
        "comment_count, share_count, tag_list, nickname",
        "comments": "comment_id, note_id, user_id, parent_comment_id, content, create_time, like_count, "
        "sub_comment_count, last_modify_ts",
        "creators": "user_id, nickname, gender, follows, fans, interaction, last_modify_ts",
    }
    con = duckdb.connect()
    if threads:
        con.execute("SET threads = ?", [threads])
    t0 = time.perf_counter()
    rows = {}
    for kind, fs in files.items():
        if not fs:
            continue
        # ignore_errors: the planted broken line is skipped (the pipeline quarantines it)
        con.execute(
            f"CREATE TABLE {kind} AS SELECT {cols[kind]} FROM read_json($files, format = 'newline_delimited', "
            "ignore_errors = true, union_by_name = true, sample_size = 20000)",
            {"files": fs},
        )
        rows[kind] = con.execute(f"SELECT count(*) FROM {kind}").fetchone()[0]
    seconds = time.perf_counter() - t0
    con.close()
    return {
        "seconds": seconds,
        "rows": rows,
        "files": sum(len(v) for v in files.values()),
        "bytes": sum(Path(f).stat().st_size for v in files.values() for f in v),
    }


_SQL_NOTES = """
-- cleaned notes hold one row per (note_id, snapshot_date) (contract; a blocking check of the notes suite)
CREATE OR REPLACE TEMP TABLE obs AS
SELECT note_id, user_id, snapshot_date::DATE AS sd, published_at, crawled_at, engagements::DOUBLE AS e
FROM read_parquet($notes, hive_partitioning = true)
WHERE note_id IS NOT NULL AND snapshot_date::DATE <= $d;

CREATE OR REPLACE TEMP TABLE nf AS
SELECT note_id,
       arg_min(published_at, (sd, crawled_at)) FILTER (WHERE published_at IS NOT NULL) AS pub,
       arg_max_null(user_id, (sd, crawled_at)) AS user_id,
       min(sd) AS first_sd
FROM obs GROUP BY note_id;

CREATE OR REPLACE TEMP TABLE nf_d AS
SELECT *, (timezone('Asia/Shanghai', pub))::DATE AS pub_day,
       (timezone('Asia/Shanghai', pub + INTERVAL 7 DAY))::DATE AS t7
FROM nf
WHERE pub IS NOT NULL
  AND (timezone('Asia/Shanghai', pub))::DATE BETWEEN $d - 119 AND $d;

-- the curve: the publish instant (0, 0) and every observation at a non-negative age, running maximum by age
CREATE OR REPLACE TEMP TABLE curve AS
WITH pts AS (
    SELECT n.note_id, 0.0::DOUBLE AS age, 0.0::DOUBLE AS e, 0 AS ord FROM nf_d n
    UNION ALL
    SELECT o.note_id, (epoch_us(o.crawled_at) - epoch_us(n.pub)) / 1e6 / 86400.0 AS age, o.e, 1 AS ord
    FROM obs o JOIN nf_d n USING (note_id)
    WHERE o.crawled_at IS NOT NULL AND o.e IS NOT NULL
      AND (epoch_us(o.crawled_at) - epoch_us(n.pub)) >= 0
)
SELECT note_id, age,
       max(e) OVER (PARTITION BY note_id ORDER BY age, ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS e
FROM pts;

-- the nearest curve point at or below h and at or above h: two ASOF joins per (note, horizon). Curve points
-- share an age only at 0 (the publish point and a crawl at the publish instant), below every horizon.
CREATE OR REPLACE TEMP TABLE interp AS
WITH q AS (SELECT n.note_id, hz.h FROM nf_d n CROSS JOIN (SELECT unnest($horizons::DOUBLE[]) AS h) hz),
lo AS (
    SELECT q.note_id, q.h, c.age AS a0, c.e AS e0
    FROM q ASOF JOIN curve c ON c.note_id = q.note_id AND c.age <= q.h
),
br AS (
    SELECT lo.*, c.age AS a1, c.e AS e1
    FROM lo ASOF LEFT JOIN curve c ON c.note_id = lo.note_id AND c.age >= lo.h
)
SELECT note_id, h,
       CASE WHEN a1 IS NULL OR h - a0 > $gap + $eps OR a1 - h > $gap + $eps THEN NULL
            WHEN a1 - a0 > 0 THEN e0 + (h - a0) / (a1 - a0) * (e1 - e0)
            ELSE e1 END AS eng
FROM br;

-- creator snapshots up to D (cleaned creators hold one row per (user_id, snapshot_date))
CREATE OR REPLACE TEMP TABLE cr AS
SELECT user_id, snapshot_date::DATE AS sd, followers::DOUBLE AS followers
FROM read_parquet($creators, hive_partitioning = true)
WHERE user_id IS NOT NULL AND snapshot_date::DATE <= $d;

CREATE OR REPLACE TEMP TABLE ref_notes AS
WITH e AS (
    SELECT note_id,
           max(eng) FILTER (WHERE h = 2) AS eng_2d, max(eng) FILTER (WHERE h = 7) AS eng_7d,
           max(eng) FILTER (WHERE h = 30) AS eng_30d, max(eng) FILTER (WHERE h = 90) AS eng_90d
    FROM interp GROUP BY note_id
),
near AS (
    SELECT n.note_id,
           arg_max_null(c.followers, c.sd) FILTER (WHERE c.sd <= n.t7) AS b_f, max(c.sd) FILTER (WHERE c.sd <= n.t7) AS b_sd,
           arg_min_null(c.followers, c.sd) FILTER (WHERE c.sd > n.t7) AS f_f, min(c.sd) FILTER (WHERE c.sd > n.t7) AS f_sd,
           any_value(n.t7) AS t7
    FROM nf_d n JOIN cr c ON c.user_id = n.user_id
         AND c.sd BETWEEN n.t7 - $near AND n.t7 + $near AND c.sd <= $d
    GROUP BY n.note_id
),
f7 AS (
    SELECT note_id,
           CASE WHEN f_sd IS NOT NULL AND (b_sd IS NULL OR (f_sd - t7) < (t7 - b_sd)) THEN f_f ELSE b_f END AS f7
    FROM near
)
SELECT n.note_id, n.user_id, n.pub_day, e.eng_2d, e.eng_7d, e.eng_30d, e.eng_90d,
       CASE WHEN f7.f7 > 0 THEN e.eng_7d / f7.f7 END AS er_7d
FROM nf_d n JOIN e USING (note_id) LEFT JOIN f7 USING (note_id);
"""

_SQL_CREATORS = """
CREATE OR REPLACE TEMP TABLE ref_creators AS
SELECT user_id, median(er_7d) AS median_er_7d
FROM ref_notes WHERE pub_day >= $d - ($cw - 1) AND user_id IS NOT NULL
GROUP BY user_id;

CREATE OR REPLACE TEMP TABLE cr_tier AS
SELECT user_id, arg_max_null(followers, (snapshot_date::DATE, crawled_at)) AS followers
FROM read_parquet($creators_long, hive_partitioning = true)
WHERE user_id IS NOT NULL AND snapshot_date::DATE <= $d
GROUP BY user_id;
"""

_SQL_TIERS = """
CREATE OR REPLACE TEMP TABLE ref_tiers AS
WITH cats AS (
    SELECT n.user_id, c.category, count(*) AS k, max(n.pub_day) AS last_pub
    FROM ref_notes n JOIN note_cat c USING (note_id)
    WHERE n.pub_day >= $d - ($cw - 1) AND c.category IS NOT NULL
    GROUP BY ALL
),
prim AS (
    SELECT user_id, arg_min(category, (-k, -epoch(last_pub), category)) AS primary_category FROM cats GROUP BY user_id
),
sc AS (
    SELECT r.user_id, r.median_er_7d, p.primary_category,
           CASE WHEN t.followers IS NULL THEN NULL WHEN t.followers < $b1 THEN 'nano' WHEN t.followers < $b2 THEN 'micro'
                WHEN t.followers < $b3 THEN 'mid' WHEN t.followers < $b4 THEN 'macro' ELSE 'top' END AS tier
    FROM ref_creators r LEFT JOIN prim p USING (user_id) LEFT JOIN cr_tier t USING (user_id)
),
x AS (
    SELECT tier, primary_category AS category, median_er_7d FROM sc WHERE primary_category IS NOT NULL AND tier IS NOT NULL
    UNION ALL
    SELECT tier, 'all', median_er_7d FROM sc WHERE tier IS NOT NULL
)
SELECT tier, category,
       quantile_cont(median_er_7d, 0.25) AS er_7d_p25,
       quantile_cont(median_er_7d, 0.5) AS er_7d_median,
       quantile_cont(median_er_7d, 0.75) AS er_7d_p75
FROM x GROUP BY tier, category;
"""


def reference_metrics(warehouse: Path, day: date, threads: int | None = None) -> dict:
    """Compute the reference for day D; returns frames, seconds per part and in total."""
    con = duckdb.connect()
    if threads:
        con.execute("SET threads = ?", [threads])
    notes = partition_files(warehouse, "notes", day - timedelta(days=NOTE_WINDOW_LOAD), day)
    creators = partition_files(warehouse, "creators", day - timedelta(days=NOTE_WINDOW_LOAD), day)
    creators_long = partition_files(warehouse, "creators", day - timedelta(days=CREATOR_LOAD), day)
    t0 = time.perf_counter()
    base = {"d": day, "horizons": list(map(float, HORIZONS)), "gap": MAX_GAP, "eps": EPS, "near": NEAREST_DAYS}

    def run(sql: str, params: dict) -> None:
        for stmt in [s for s in sql.split(";\n") if s.strip()]:
            used = {k: v for k, v in params.items() if f"${k}" in stmt}
            con.execute(stmt, used)

    run(_SQL_NOTES, {**base, "notes": notes, "creators": creators})
    t1 = time.perf_counter()
    run(_SQL_CREATORS, {"d": day, "cw": CREATOR_WINDOW, "creators_long": creators_long})
    # each note's category at its latest observation on or before D (what note_metrics carries)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE note_cat AS
                   SELECT note_id, arg_max_null(category, (snapshot_date::DATE, crawled_at)) AS category
                   FROM read_parquet($notes, hive_partitioning = true)
                   WHERE snapshot_date::DATE <= $d GROUP BY note_id""",
        {"notes": notes, "d": day},
    )
    b1, b2, b3, b4 = TIER_BOUNDS
    run(_SQL_TIERS, {"d": day, "cw": CREATOR_WINDOW, "b1": b1, "b2": b2, "b3": b3, "b4": b4})
    t2 = time.perf_counter()
    out = {
        "notes": con.execute("SELECT * FROM ref_notes").df(),
        "creators": con.execute("SELECT * FROM ref_creators").df(),
        "tiers": con.execute("SELECT * FROM ref_tiers").df(),
    }
    t3 = time.perf_counter()
    con.close()
    return {
        **out,
        "seconds": t3 - t0,
        "seconds_notes": t1 - t0,
        "seconds_creators_tiers": t2 - t1,
        "seconds_fetch": t3 - t2,
    }


def _read_day(warehouse: Path, table: str, day: date, columns: list[str]) -> pd.DataFrame:
    files = partition_files(warehouse, table, day, day)
    if not files:
        return pd.DataFrame(columns=columns)
    con = duckdb.connect()
    df = con.execute(f"SELECT {', '.join(columns)} FROM read_parquet($f)", {"f": files}).df()
    con.close()
    return df


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype("float64")
    b = b.astype("float64")
    both_null = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        ok = np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return both_null | ok


def _compare_frame(
    name: str, ref: pd.DataFrame, got: pd.DataFrame, keys: list[str], cols: list[str], extra_must_be_null: bool = False
) -> dict:
    ref = ref[keys + cols].copy()
    got = got[keys + cols].copy()
    m = ref.merge(got, on=keys, how="outer", suffixes=("_ref", "_pipe"), indicator=True)
    only_ref = m[m["_merge"] == "left_only"]
    only_pipe = m[m["_merge"] == "right_only"]
    if extra_must_be_null:  # pipeline rows the reference does not produce must carry no value of the compared columns
        only_pipe = only_pipe[only_pipe[[f"{c}_pipe" for c in cols]].notna().any(axis=1)]
    both = m[m["_merge"] == "both"]
    mismatches = {}
    examples = []
    for c in cols:
        ok = _close(
            pd.to_numeric(both[f"{c}_ref"], errors="coerce").to_numpy(dtype="float64"),
            pd.to_numeric(both[f"{c}_pipe"], errors="coerce").to_numpy(dtype="float64"),
        )
        bad = both[~ok]
        mismatches[c] = int(len(bad))
        if len(bad):
            examples += bad[keys + [f"{c}_ref", f"{c}_pipe"]].head(3).astype(str).to_dict("records")
    values = int(len(both)) * len(cols)
    return {
        "table": name,
        "keys_ref": int(len(ref)),
        "keys_pipeline": int(len(got)),
        "compared_rows": int(len(both)),
        "compared_values": values,
        "non_null_values": int(both[[f"{c}_ref" for c in cols]].notna().sum().sum()),
        "only_in_reference": int(len(only_ref)),
        "only_in_pipeline": int(len(only_pipe)),
        "mismatches": mismatches,
        "examples": examples[:6],
        "agree": len(only_ref) == 0 and len(only_pipe) == 0 and sum(mismatches.values()) == 0 and len(both) > 0,
    }


def compare(ref: dict, warehouse: Path, day: date) -> list[dict]:
    nm_cols = ["eng_2d", "eng_7d", "eng_30d", "eng_90d", "er_7d"]
    nm = _read_day(warehouse, "note_metrics", day, ["note_id"] + nm_cols)
    sc = _read_day(warehouse, "creator_scorecard", day, ["user_id", "median_er_7d"])
    tb = _read_day(warehouse, "tier_benchmarks", day, ["tier", "category", "er_7d_p25", "er_7d_median", "er_7d_p75"])
    sc_ref = ref["creators"]
    return [
        _compare_frame("note_metrics", ref["notes"], nm, ["note_id"], nm_cols),
        # the scorecard also lists creators without a note in 90 days: their median must then be null
        _compare_frame("creator_scorecard", sc_ref, sc, ["user_id"], ["median_er_7d"], extra_must_be_null=True),
        _compare_frame(
            "tier_benchmarks",
            ref["tiers"],
            tb,
            ["tier", "category"],
            ["er_7d_p25", "er_7d_median", "er_7d_p75"],
            extra_must_be_null=True,
        ),
    ]
