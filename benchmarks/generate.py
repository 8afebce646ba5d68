"""Benchmark data at scale: landing files of the measured day(s) and the warehouse history before them.

    .venv/bin/python -m benchmarks.generate --size 100000 [--days-history 119] [--seed 1] [--data-dir /work/benchdata]

A vectorized, deterministic "world" written with DuckDB (not the per-record simulator of kol_pipeline.lib.simulate,
which makes ~1,000 note rows per second):

- ``size`` N = note rows crawled per day. Every note published in the trailing 120 days is crawled once a day with
  probability 0.9 (so about N / 108 notes are published per day and the 2-day gap rule of E(h) is exercised);
  creators C = N / 5, every one crawled daily; 2 N new comments a day on the notes of the window (younger notes
  get more).
- A note's engagements at age a are T (1 - exp(-a / tau)) (+ a slow component for a fifth of the notes), split
  into likes/saves/comments/shares; counts of 10,000 or more are written like MediaCrawler does ("1.2万"), a quarter
  of those between 1,000 and 9,999 as "1.2k"; the cleaned history holds the same rounded numbers the pipeline parses.
- Text comes from a few thousand templates (category keywords of reference/categories.csv as tags, title and
  description; a brand of brand/brands.csv in 3 % of notes; a disclosure marker in 2 %); each template's category,
  brands and disclosure are worked out here from the contract's rules, the comment templates' classes with the
  pipeline's own classifier (kol_pipeline.lib.ingest.comments).

Output, cached under ``<data-dir>/n<N>_h<H>_s<seed>/`` (reruns reuse it; ``--force`` rewrites):

- ``history/<table>/snapshot_date=YYYY-MM-DD/part-0.parquet`` for notes, creators, comments of the H days before the
  measured day, in exactly the IO manager's layout and schema (kol_pipeline.lib.schemas TABLES, no snapshot_date
  column in the file);
- ``landing_<YYYY-MM-DD>/`` for each measured day: ``mediacrawler/{crawler_a,crawler_b}/creator_{contents,comments,
  creator}_<day>.jsonl`` (JSONL, MediaCrawler field names, counts as strings, epoch-ms times, comma tag_list, JSON
  creator tag_list, top-level comments with parent_comment_id "0", "" or absent), ``mediacrawler/keyword_watch/
  search_contents_<day>.jsonl`` (1 % of the day's notes again with an earlier crawl time: duplicates to drop), a few
  malformed records (bad count, empty id, negative fans, a broken JSON line) so the accounting read = kept +
  duplicates + quarantined is exercised, and ``brand/``, ``reference/`` (the bundled sample's files, with
  campaign_posts.csv, rate_card.csv and search_rankings_<day>.csv rewritten for the generated notes and creators);
- ``dataset.json``: sizes, days, row counts, bytes, generation time.

Measured days: ``day 120`` = the end date (default 2025-06-30; the history is days 1..119 before it) and, for the
history-growth comparison, ``day 10`` = end - 110 (the warehouse for that run holds only days 1..9).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
DEFAULT_DATA_DIR = Path(
    os.environ.get("KOL_BENCH_DATA") or ("/work/benchdata" if Path("/work").is_dir() else REPO / "benchdata")
)
END_DATE = date(2025, 6, 30)
WINDOW = 120
CRAWL_P = 0.9
FORMAT_VERSION = 4  # bump when the generated data changes (invalidates caches)

# Filler text around the keywords; checked below to contain no category keyword, brand or disclosure marker.
_TITLES = ("{k1}分享", "{k1}心得", "关于{k1}的一点记录", "{k1}和{k2}合集")
_DESCS = ("真的很喜欢\n#{k1}[话题]# #{k2}[话题]#", "周末随手记下来\n#{k1}[话题]#", "{k2}这件事说来话长，慢慢写")
_PLAIN = ("日常记录", "随手拍", "今天的心情")
_MARKER = " #广告"
# Comment templates: classes come from the pipeline's classifier at generation time.
_COMMENTS = (
    "求链接",
    "在哪买的呀",
    "多少钱呀",
    "已下单了坐等到货",
    "回购好几次了",
    "这个适合油皮吗？",
    "怎么用呀",
    "能不能出个教程",
    "是不是要先打底",
    "@小橙子 快看",
    "@半夏 码住",
    "我用了一个月，效果很明显",
    "亲测好用，推荐",
    "我家也是这款",
    "我也在用，很稳定",
    "沙发",
    "第一",
    "打卡",
    "[笑哭R]",
    "哈哈哈",
    "拍照技术也太强了",
    "写得好详细呀",
    "太治愈了吧",
    "收藏了慢慢学",
    "博主的审美绝绝子",
    "谢谢分享[赞R]",
)
_PROVINCES = ("上海", "北京", "广东", "浙江", "江苏", "四川", "湖北", "福建", "山东")


@dataclass(frozen=True)
class Dataset:
    root: Path
    size: int
    days_history: int
    seed: int
    end: date

    @property
    def history(self) -> Path:
        return self.root / "history"

    @property
    def day120(self) -> date:
        return self.end

    @property
    def day10(self) -> date:
        return self.end - timedelta(days=110)

    @property
    def first_history_day(self) -> date:
        return self.end - timedelta(days=self.days_history)

    def landing(self, day: date) -> Path:
        return self.root / f"landing_{day.isoformat()}"

    def history_days(self, before: date) -> list[date]:
        """History days (ascending) strictly before ``before``."""
        d0 = self.first_history_day
        return [d0 + timedelta(days=i) for i in range((before - d0).days) if d0 + timedelta(days=i) < self.end]

    def info(self) -> dict:
        return json.loads((self.root / "dataset.json").read_text())


# ------------------------------------------------------------------------------------------------ text templates
def _categories(path: Path) -> list[tuple[str, list[str]]]:
    cats: dict[str, list[str]] = {}
    with path.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            cats.setdefault(row["category"].strip(), []).append(row["keyword"].strip())
    return list(cats.items())


def _brands(path: Path) -> list[tuple[str, list[str]]]:
    out = []
    with path.open(encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            names = [row["brand"].strip()] + [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
            out.append((row["brand"].strip(), names))
    return out


def _category_of(title: str, desc: str, tags: list[str], cats: list[tuple[str, list[str]]]) -> str | None:
    """The contract's rule: per keyword 3 per tag containing it, 2 if the title does, 1 if the description does;
    highest total wins, ties to the category listed first, 0 everywhere -> null."""
    best, best_score = None, 0
    for cat, kws in cats:
        score = 0
        for kw in kws:
            score += 3 * sum(kw in t for t in tags) + 2 * (kw in title) + (kw in desc)
        if score > best_score:
            best, best_score = cat, score
    return best


def note_templates(landing_ref: Path, landing_brand: Path) -> pd.DataFrame:
    """Every (title, desc, tag_list) combination with the category, brands and disclosure the contract gives it."""
    cats = _categories(landing_ref / "categories.csv")
    brands = _brands(landing_brand / "brands.csv")
    all_kw = [k for _, kws in cats for k in kws]
    fillers = "".join(t.format(k1="", k2="") for t in _TITLES + _DESCS) + "".join(_PLAIN)
    bad = [k for k in all_kw if k in fillers] + [
        m for m in ("广告", "赞助", "合作", "#ad", "sponsored") if m in fillers
    ]
    if bad:
        raise RuntimeError(f"filler text contains keywords or markers: {bad}")
    rows = []
    for cat, kws in cats:
        kws = kws[:10]
        for i, k1 in enumerate(kws):
            k2 = kws[(i + 3) % len(kws)]
            k3 = kws[(i + 5) % len(kws)]
            for ti, t in enumerate(_TITLES):
                d = _DESCS[(i + ti) % len(_DESCS)]
                rows.append((t.format(k1=k1, k2=k2), d.format(k1=k1, k2=k2), [k1, k2, k3] if ti % 2 == 0 else [k1, k2]))
    for p in _PLAIN:
        rows.append((p, "随手拍的", []))
        rows.append((p, "周末随手记下来", ["日常"]))
    base = rows
    out = []
    for title, desc, tags in base:
        for b in [None] + [b for b, _ in brands]:
            for disclosed in (False, True):
                t = f"{b} {title}" if b else title
                d = desc + (_MARKER if disclosed else "")
                text = f"{t} {d} {' '.join(tags)}".lower()
                found = [name for name, names in brands if any(n.lower() in text for n in names)]
                out.append(
                    {
                        "title": t,
                        "descr": d,
                        "tag_list": ",".join(tags),
                        "tags": tags,
                        "category": _category_of(t, d, tags, cats),
                        "brands": found,
                        "is_disclosed": disclosed,
                        "has_brand": b is not None,
                    }
                )
    return pd.DataFrame(out)


def comment_templates() -> pd.DataFrame:
    from kol_pipeline.lib.ingest.comments import classify_comments, is_substantive
    from kol_pipeline.lib.ingest.sentiment import classify_sentiment

    content = pd.Series(list(_COMMENTS), dtype=object)
    cls = classify_comments(content)
    return pd.DataFrame(
        {
            "content": content,
            "comment_class": cls.astype(object),
            "is_substantive": is_substantive(cls).astype(bool),
            "sentiment": classify_sentiment(content).astype(object),
        }
    )


# ------------------------------------------------------------------------------------------------ the world in SQL
_MACROS = """
CREATE OR REPLACE MACRO uni(a, b, c, s) AS (hash(a, b, c, s) % 1000003) / 1000003.0;
CREATE OR REPLACE MACRO day_ms(t) AS (t::BIGINT * 86400000 - 8 * 3600000);
CREATE OR REPLACE MACRO hexid(secs, n) AS printf('%08x%016x', secs::BIGINT, n::BIGINT);
-- displayed count: exact below 1,000; a quarter of 1,000..9,999 as "1.2k"; 10,000+ as "1.2万"
CREATE OR REPLACE MACRO shown_val(v, h) AS CASE
    WHEN v >= 10000 THEN round(v / 1000.0)::BIGINT * 1000
    WHEN v >= 1000 AND h < 0.25 THEN round(v / 100.0)::BIGINT * 100
    ELSE v::BIGINT END;
CREATE OR REPLACE MACRO shown_str(v, h) AS CASE
    WHEN v >= 10000 THEN regexp_replace(printf('%.1f', round(v / 1000.0) / 10.0), '\\.0$', '') || '万'
    WHEN v >= 1000 AND h < 0.25 THEN regexp_replace(printf('%.1f', round(v / 100.0) / 10.0), '\\.0$', '') || 'k'
    ELSE (v::BIGINT)::VARCHAR END;
CREATE OR REPLACE MACRO tier_of(f) AS CASE WHEN f IS NULL THEN NULL WHEN f < 10000 THEN 'nano'
    WHEN f < 100000 THEN 'micro' WHEN f < 500000 THEN 'mid' WHEN f < 1000000 THEN 'macro' ELSE 'top' END;
"""


_PARAM = re.compile(r"\$([a-z_]+)")


class World:
    """A DuckDB connection holding the world's tables, and the named parameters every query may use."""

    def __init__(self, con: duckdb.DuckDBPyConnection, params: dict):
        self.con = con
        self.params = params

    def q(self, sql: str, **extra):
        """Run ``sql`` on a fresh cursor (thread-safe) with the named parameters it mentions."""
        allp = {**self.params, **extra}
        used = {k: allp[k] for k in set(_PARAM.findall(sql))}
        return self.con.cursor().sql(sql, params=used)


def _connect(seed: int, n_notes_day: int, n_creators: int, tmpl: pd.DataFrame, ctmpl: pd.DataFrame) -> World:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(_MACROS)
    t = tmpl.reset_index(drop=True).assign(tid=lambda x: np.arange(len(x)))
    # brand notes: 3 %, disclosed: 2 % -> pick templates by (has_brand, is_disclosed) bucket
    con.register("tmpl_df", t)
    con.execute("CREATE TABLE tmpl AS SELECT * FROM tmpl_df")
    con.execute("""CREATE TABLE tmpl_bucket AS SELECT has_brand, is_disclosed, list(tid ORDER BY tid) AS ids
                   FROM tmpl GROUP BY ALL""")
    con.register("ctmpl_df", ctmpl.reset_index(drop=True).assign(tpl=lambda x: np.arange(len(x))))
    con.execute("CREATE TABLE ctmpl AS SELECT * FROM ctmpl_df")
    con.execute(
        """
    CREATE TABLE creators_world AS
    SELECT u,
           hexid(1500000000 + u, u * 7919 + 13) AS user_id,
           '博主' || u::VARCHAR AS nickname,
           CASE WHEN uni(u, 1, 0, $seed) < 0.85 THEN '女' ELSE '男' END AS gender,
           floor(pow(10, 2.3 + 4.2 * pow(uni(u, 2, 0, $seed), 1.6)))::DOUBLE AS base,
           (uni(u, 3, 0, $seed) - 0.3) * 0.004 AS growth,
           (50 + floor(uni(u, 4, 0, $seed) * 900))::BIGINT AS follows,
           2 + uni(u, 5, 0, $seed) * 10 AS inter_mult,
           ['美食博主', '护肤博主', '母婴博主', '家居博主', '健身博主'][1 + (u % 5)::INT] AS profession,
           ['上海', '北京', '广东', '浙江', '江苏', '四川'][1 + (u % 6)::INT] AS location
    FROM range($c) r(u)""",
        {"c": n_creators, "seed": seed},
    )
    return World(con, {"seed": seed, "p": n_notes_day, "c": n_creators, "nct": len(ctmpl)})


def _note_world() -> str:
    """Notes published on days $t - 119 .. $t (day numbers since 1970-01-01)."""
    return """
    SELECT n.*, hexid(n.pub_ms // 1000, n.g) AS note_id, cw.user_id, cw.nickname, cw.base, cw.growth
    FROM (
        SELECT pt, j, pt::BIGINT * $p + j AS g,
               day_ms(pt) + floor(uni(pt * $p + j, 2, 0, $seed) * 20 * 3600000)::BIGINT AS pub_ms,
               (hash(pt * $p + j, 1, $seed) % $c)::BIGINT AS u,
               CASE WHEN uni(pt * $p + j, 9, 0, $seed) < 0.3 THEN 'video' ELSE 'normal' END AS note_type,
               20 + floor(uni(pt * $p + j, 5, 0, $seed) * 200) AS floor_eng,
               0.005 + 0.08 * pow(uni(pt * $p + j, 4, 0, $seed), 2) AS er,
               0.5 + 8 * pow(uni(pt * $p + j, 6, 0, $seed), 2) AS tau,
               uni(pt * $p + j, 10, 0, $seed) < 0.2 AS evergreen,
               uni(pt * $p + j, 3, 0, $seed) AS tpick
        FROM range($t - 119, $t + 1) a(pt), range($p) b(j)
    ) n JOIN creators_world cw USING (u)"""


def _crawl_sql() -> str:
    """Note rows crawled on day $t (one per note, before dedup), with every cleaned column."""
    return f"""
    WITH w AS ({_note_world()}),
    c AS (
        SELECT w.*, day_ms($t) + 20 * 3600000 + floor(uni(g, $t, 8, $seed) * 3.9 * 3600000)::BIGINT AS crawl_ms
        FROM w WHERE uni(g, $t, 7, $seed) < 0.9
    ),
    e AS (
        SELECT c.*, (crawl_ms - pub_ms) / 86400000.0 AS age,
               uni(g, $t, 11, $seed) AS h1, uni(g, $t, 12, $seed) AS h2,
               uni(g, $t, 13, $seed) AS h3, uni(g, $t, 14, $seed) AS h4,
               (floor_eng + base * er) AS total
        FROM c
    ),
    v AS (
        SELECT e.*,
               total * (1 - exp(-age / tau)) + CASE WHEN evergreen THEN total * 0.5 * least(age / 90.0, 1.0) ELSE 0 END AS eng_true
        FROM e
    ),
    pick AS (
        SELECT v.*,
               CASE WHEN tpick < 0.03 THEN (SELECT ids FROM tmpl_bucket WHERE has_brand AND NOT is_disclosed)
                    WHEN tpick < 0.05 THEN (SELECT ids FROM tmpl_bucket WHERE NOT has_brand AND is_disclosed)
                    ELSE (SELECT ids FROM tmpl_bucket WHERE NOT has_brand AND NOT is_disclosed) END AS ids
        FROM v
    )
    SELECT p.note_id, p.user_id, p.nickname, p.note_type, t.title, t.descr AS description, t.tags, t.tag_list,
           p.pub_ms, p.crawl_ms, p.g, p.u,
           shown_val(floor(eng_true * 0.60), h1) AS likes, shown_str(floor(eng_true * 0.60), h1) AS likes_s,
           shown_val(floor(eng_true * 0.25), h2) AS saves, shown_str(floor(eng_true * 0.25), h2) AS saves_s,
           shown_val(floor(eng_true * 0.10), h3) AS comments, shown_str(floor(eng_true * 0.10), h3) AS comments_s,
           shown_val(floor(eng_true * 0.05), h4) AS shares, shown_str(floor(eng_true * 0.05), h4) AS shares_s,
           t.category, t.brands, t.is_disclosed,
           CASE WHEN g % 2 = 0 THEN 'crawler_a' ELSE 'crawler_b' END AS folder
    FROM pick p JOIN tmpl t ON t.tid = p.ids[1 + (hash(p.g, 15) % len(p.ids))::INT]
    """


def _creators_sql() -> str:
    return """
    WITH c AS (
        SELECT cw.*, greatest(floor(base * (1 + growth * ($t - 20000))), 1) AS fans_true,
               day_ms($t) + 8 * 3600000 + floor(uni(u, $t, 20, $seed) * 10 * 3600000)::BIGINT AS crawl_ms,
               uni(u, $t, 21, $seed) AS h1, uni(u, $t, 22, $seed) AS h2
        FROM creators_world cw
    )
    SELECT user_id, nickname, gender, crawl_ms, u, profession, location,
           shown_val(fans_true, h1) AS followers, shown_str(fans_true, h1) AS fans_s,
           follows AS following, follows::VARCHAR AS follows_s,
           shown_val(floor(fans_true * inter_mult), h2) AS likes_and_saves_total,
           shown_str(floor(fans_true * inter_mult), h2) AS interaction_s,
           CASE WHEN u % 2 = 0 THEN 'crawler_a' ELSE 'crawler_b' END AS folder
    FROM c"""


def _comments_sql() -> str:
    return """
    WITH k AS (
        SELECT k, $t::BIGINT * $n + k AS cid,
               $t - floor(119 * pow(uni(k, $t, 30, $seed), 3))::BIGINT AS pt,
               floor(uni(k, $t, 31, $seed) * $p)::BIGINT AS j
        FROM range(($n / 0.9)::BIGINT) r(k)
    ),
    n AS (
        SELECT k.*, pt * $p + j AS g,
               day_ms(pt) + floor(uni(pt * $p + j, 2, 0, $seed) * 20 * 3600000)::BIGINT AS pub_ms
        FROM k
        WHERE uni(pt * $p + j, $t, 7, $seed) < 0.9  -- only notes crawled that day (as the crawler does)
    ),
    c AS (
        SELECT n.*, hexid(pub_ms // 1000, g) AS note_id,
               greatest(pub_ms + 60000, day_ms($t) + floor(uni(k, $t, 32, $seed) * 19 * 3600000)::BIGINT) AS create_ms,
               day_ms($t) + 20 * 3600000 + floor(uni(k, $t, 33, $seed) * 3.9 * 3600000)::BIGINT AS crawl_ms,
               uni(k, $t, 34, $seed) AS hp, uni(k, $t, 35, $seed) AS hc,
               floor(pow(uni(k, $t, 36, $seed), 4) * 30)::BIGINT AS like_count
        FROM n
    )
    SELECT hexid(create_ms // 1000, cid) AS comment_id, note_id,
           hexid(1400000000, hash(cid, 37) % 50000000) AS user_id,
           '用户' || (hash(cid, 38) % 100000)::VARCHAR AS nickname,
           CASE WHEN hp < 0.2 AND k >= 50
                THEN hexid((create_ms - 600000) // 1000, cid - 1 - floor(uni(k, $t, 39, $seed) * 49)::BIGINT) END AS parent_id,
           CASE WHEN hp >= 0.2 OR k < 50 THEN (k % 3)::INT END AS top_style,
           ct.content, ct.comment_class, ct.is_substantive, ct.sentiment, create_ms, crawl_ms, like_count, 0::BIGINT AS sub_comment_count,
           CASE WHEN g % 2 = 0 THEN 'crawler_a' ELSE 'crawler_b' END AS folder
    FROM c JOIN ctmpl ct ON ct.tpl = (floor(hc * $nct))::BIGINT"""


def _day_t(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _write_history_day(w: World, out: Path, day: date, n_comments: int) -> dict[str, int]:
    from kol_pipeline.lib.schemas import TABLES

    t = _day_t(day)
    day_s = day.isoformat()
    queries = {
        "notes": f"""SELECT note_id, user_id, nickname, note_type, title, description, tags,
                     make_timestamptz(pub_ms * 1000) AS published_at, make_timestamptz(crawl_ms * 1000) AS crawled_at,
                     likes, saves, comments, shares, likes + saves + comments + shares AS engagements,
                     category, brands, is_disclosed,
                     'mediacrawler/' || folder || '/creator_contents_' || $day || '.jsonl' AS source_file
                     FROM ({_crawl_sql()})""",
        "creators": f"""SELECT user_id, nickname, gender, followers, following, likes_and_saves_total,
                        tier_of(followers) AS tier, make_timestamptz(crawl_ms * 1000) AS crawled_at,
                        'mediacrawler/' || folder || '/creator_creator_' || $day || '.jsonl' AS source_file
                        FROM ({_creators_sql()})""",
        "comments": f"""SELECT comment_id, note_id, user_id, parent_id AS parent_comment_id, content,
                        make_timestamptz(create_ms * 1000) AS created_at, like_count, sub_comment_count,
                        comment_class, is_substantive, sentiment, make_timestamptz(crawl_ms * 1000) AS crawled_at,
                        'mediacrawler/' || folder || '/creator_comments_' || $day || '.jsonl' AS source_file
                        FROM ({_comments_sql()})""",
    }
    rows = {}
    for table, sql in queries.items():
        spec = TABLES[table]
        arrow = w.q(sql, t=t, n=n_comments, day=day_s).to_arrow_table()
        schema = pa.schema([f for f in spec.schema if f.name != "snapshot_date"])
        arrow = arrow.select(schema.names).cast(schema)
        folder = out / table / f"snapshot_date={day_s}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(arrow, folder / "part-0.parquet")
        rows[table] = arrow.num_rows
    return rows


def _write_jsonl(w: World, sql: str, params: dict, path: Path) -> int:
    """Rows of a query with one column ``line`` (a JSON text) appended to ``path`` as JSONL, straight from the
    Arrow buffers (no per-row Python)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    reader = w.q(sql, **params).to_arrow_reader(200_000)
    n = 0
    with path.open("ab") as fh:
        for batch in reader:
            arr = batch.column(0)
            if arr.null_count:
                raise RuntimeError("null JSON line")
            arr = arr.cast(pa.large_string()) if arr.type != pa.large_string() else arr
            offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
            data = arr.buffers()[2]
            # lines: each value ends with "\n" (added in SQL), so the concatenated data is the JSONL text
            fh.write(memoryview(data)[offsets[0] : offsets[-1]])
            n += len(arr)
    return n


def _write_landing_day(w: World, ds: Dataset, day: date, n_comments: int) -> dict:
    land = ds.landing(day)
    if land.exists():
        shutil.rmtree(land)
    mc = land / "mediacrawler"
    t = _day_t(day)
    day_s = day.isoformat()
    note_json = """to_json(struct_pack(note_id := note_id, type := note_type, title := title, "desc" := description,
        video_url := CASE WHEN note_type = 'video' THEN 'http://sns-video-bd.xhscdn.com/' || substr(note_id, 9) ELSE '' END,
        time := pub_ms, last_update_time := pub_ms + 60000, user_id := user_id, nickname := nickname,
        avatar := 'https://sns-avatar-qc.xhscdn.com/avatar/' || substr(user_id, 9) || '.jpg',
        liked_count := likes_s, collected_count := saves_s, comment_count := comments_s, share_count := shares_s,
        ip_location := ['上海', '北京', '广东', '浙江'][1 + (g % 4)::INT],
        image_list := 'http://sns-webpic-qc.xhscdn.com/' || substr(note_id, 9) || '!nd_dft_wlteh_webp_3',
        tag_list := tag_list, last_modify_ts := crawl_ms,
        note_url := 'https://www.xiaohongshu.com/explore/' || note_id || '?xsec_token=AB' || substr(note_id, 13) || '=&xsec_source=pc_user',
        source_keyword := src_kw, xsec_token := 'AB' || substr(note_id, 13) || '='))"""
    counts: dict[str, int] = {}
    w.q(f"CREATE OR REPLACE TABLE day_notes AS {_crawl_sql()}", t=t)
    for folder in ("crawler_a", "crawler_b"):
        counts[f"{folder}/notes"] = _write_jsonl(
            w,
            f"SELECT {note_json} || chr(10) AS line FROM (SELECT *, '' AS src_kw FROM day_notes WHERE folder = $folder) ORDER BY crawl_ms",
            {"folder": folder},
            mc / folder / f"creator_contents_{day_s}.jsonl",
        )
    # the keyword crawl saw 1 % of the day's notes two hours earlier: duplicates the dedup must drop
    counts["keyword_watch/notes"] = _write_jsonl(
        w,
        f"""SELECT {note_json} || chr(10) AS line FROM (
                 SELECT * REPLACE (crawl_ms - 7200000 AS crawl_ms), split_part(tag_list, ',', 1) AS src_kw
                 FROM day_notes WHERE hash(g, 40) % 100 = 0 AND crawl_ms - 7200000 > pub_ms)""",
        {},
        mc / "keyword_watch" / f"search_contents_{day_s}.jsonl",
    )
    creator_json = """to_json(struct_pack(user_id := user_id, nickname := nickname, gender := gender,
        avatar := 'https://sns-avatar-qc.xhscdn.com/avatar/' || substr(user_id, 9) || '.jpg',
        "desc" := profession || '｜商务合作私信', ip_location := location, follows := follows_s, fans := fans_s,
        interaction := interaction_s,
        tag_list := to_json(struct_pack(info := NULL, location := location, profession := profession))::VARCHAR,
        last_modify_ts := crawl_ms))"""
    for folder in ("crawler_a", "crawler_b"):
        counts[f"{folder}/creators"] = _write_jsonl(
            w,
            f"SELECT {creator_json} || chr(10) FROM ({_creators_sql()}) WHERE folder = $folder",
            {"folder": folder, "t": t},
            mc / folder / f"creator_creator_{day_s}.jsonl",
        )
    cfields = """comment_id := comment_id, create_time := create_ms, ip_location := '广东', note_id := note_id,
        content := content, user_id := user_id, nickname := nickname,
        avatar := 'https://sns-avatar-qc.xhscdn.com/avatar/' || substr(user_id, 9) || '.jpg',
        sub_comment_count := sub_comment_count::VARCHAR, pictures := ''"""
    comment_json = f"""CASE
        WHEN top_style = 2 THEN to_json(struct_pack({cfields}, last_modify_ts := crawl_ms, like_count := like_count::VARCHAR))
        ELSE to_json(struct_pack({cfields}, parent_comment_id := coalesce(parent_id, CASE WHEN top_style = 0 THEN '0' ELSE '' END),
                     last_modify_ts := crawl_ms, like_count := like_count::VARCHAR)) END"""
    for folder in ("crawler_a", "crawler_b"):
        counts[f"{folder}/comments"] = _write_jsonl(
            w,
            f"SELECT {comment_json} || chr(10) FROM ({_comments_sql()}) WHERE folder = $folder",
            {"folder": folder, "t": t, "n": n_comments},
            mc / folder / f"creator_comments_{day_s}.jsonl",
        )
    counts["malformed"] = _plant_malformed(mc, day_s)
    _write_brand_files(w, ds, land, day)
    return counts


def _plant_malformed(mc: Path, day_s: str) -> int:
    """Corrupted copies of the first record of some files, appended (originals stay), plus one broken line."""
    plan = [
        ("crawler_a", "contents", "liked_count", "abc"),
        ("crawler_b", "contents", "note_id", ""),
        ("crawler_a", "contents", "comment_count", "-5"),
        ("crawler_b", "comments", "like_count", "abc"),
        ("crawler_a", "comments", "note_id", ""),
        ("crawler_b", "creator", "fans", "-5"),
        ("crawler_a", "creator", "user_id", ""),
    ]
    n = 0
    for folder, item, field, value in plan:
        p = mc / folder / f"creator_{item}_{day_s}.jsonl"
        with p.open("rb") as fh:
            first = json.loads(fh.readline())
        first[field] = value
        with p.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(first, ensure_ascii=False) + "\n")
        n += 1
    with (mc / "crawler_b" / f"creator_contents_{day_s}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"note_id": "broken\n')
    return n + 1


def _write_brand_files(w: World, ds: Dataset, land: Path, day: date) -> None:
    """The sample's brand/reference files; campaign_posts, rate_card and the day's search ranking rewritten for
    the generated notes and creators."""
    (land / "brand").mkdir(parents=True, exist_ok=True)
    shutil.copytree(SAMPLE / "reference", land / "reference", dirs_exist_ok=True)
    for name in ("brands.csv", "campaigns.csv", "search_index.csv", "store_traffic.csv"):
        shutil.copy2(SAMPLE / "brand" / name, land / "brand" / name)
    camps = pd.read_csv(SAMPLE / "brand" / "campaigns.csv")
    posts = []
    brand_notes = w.q("""SELECT note_id, user_id, brands[1] AS brand, pub_ms FROM day_notes
                                 WHERE len(brands) > 0""").df()
    brand_notes["pub_day"] = (
        pd.to_datetime(brand_notes["pub_ms"], unit="ms", utc=True).dt.tz_convert("Asia/Shanghai").dt.date
    )
    for c in camps.itertuples():
        start, end = date.fromisoformat(c.start_date), date.fromisoformat(c.end_date)
        sel = brand_notes[
            (brand_notes["brand"] == c.brand) & (brand_notes["pub_day"] >= start) & (brand_notes["pub_day"] <= end)
        ]
        for r in sel.sort_values("note_id").head(40).itertuples():
            posts.append(
                {
                    "campaign_id": c.campaign_id,
                    "note_id": r.note_id,
                    "user_id": r.user_id,
                    "fee_cny": float(1000 + (zlib.crc32(r.note_id.encode()) % 40) * 500),
                    "posted_date": r.pub_day.isoformat(),
                }
            )
    pd.DataFrame(posts, columns=["campaign_id", "note_id", "user_id", "fee_cny", "posted_date"]).to_csv(
        land / "brand" / "campaign_posts.csv", index=False
    )
    rc = w.q("""SELECT user_id, round(base * 0.05 + 500, -1) AS image_price_cny,
                               round(base * 0.065 + 650, -1) AS video_price_cny
                        FROM creators_world WHERE u % 50 = 0 ORDER BY u""").df()
    rc.to_csv(land / "brand" / "rate_card.csv", index=False)
    kws = sorted({k for ks in camps["target_keywords"] for k in str(ks).split("|")} | set(camps["brand"]))
    ranks = w.q(
        """SELECT kw AS keyword, rank, note_id FROM (
                             SELECT kw, note_id, row_number() OVER (PARTITION BY kw ORDER BY hash(note_id, kw)) AS rank
                             FROM (SELECT unnest($kws::VARCHAR[]) AS kw), (SELECT note_id FROM day_notes USING SAMPLE 2000 ROWS (reservoir, 7)))
                           WHERE rank <= 20 ORDER BY kw, rank""",
        kws=kws,
    ).df()
    ranks.to_csv(land / "brand" / f"search_rankings_{day.isoformat()}.csv", index=False)


# ------------------------------------------------------------------------------------------------ entry point
def dataset_dir(data_dir: Path, size: int, days_history: int, seed: int) -> Path:
    return Path(data_dir) / f"n{size}_h{days_history}_s{seed}_v{FORMAT_VERSION}"


def generate(
    size: int,
    days_history: int = 119,
    seed: int = 1,
    data_dir: Path = DEFAULT_DATA_DIR,
    end: date = END_DATE,
    force: bool = False,
    growth: bool = True,
    log=print,
) -> Dataset:
    """Generate (or reuse) the dataset; returns its description. ``growth`` also writes the day-10 landing."""
    root = dataset_dir(data_dir, size, days_history, seed)
    ds = Dataset(root, size, days_history, seed, end)
    marker = root / "dataset.json"
    if marker.exists() and not force:
        info = json.loads(marker.read_text())
        if not growth or info.get("growth"):
            return ds
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    t0 = time.perf_counter()
    per_day_published = int(np.ceil(size / (WINDOW * CRAWL_P)))
    n_creators = max(size // 5, 10)
    n_comments = 2 * size
    tmpl = note_templates(SAMPLE / "reference", SAMPLE / "brand")
    ctmpl = comment_templates()
    w = _connect(seed, per_day_published, n_creators, tmpl, ctmpl)
    hist_days = ds.history_days(end)
    log(
        f"generating n={size:,} note rows/day, {n_creators:,} creators, {n_comments:,} comments/day, "
        f"{len(hist_days)} history days -> {root}"
    )
    rows_hist: dict[str, int] = {}
    done = 0

    def one(day: date) -> dict[str, int]:
        return _write_history_day(w, ds.history, day, n_comments)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for r in pool.map(one, hist_days):
            for k, v in r.items():
                rows_hist[k] = rows_hist.get(k, 0) + v
            done += 1
            if done % 20 == 0:
                log(f"  history {done}/{len(hist_days)} days ({time.perf_counter() - t0:.0f} s)")
    landing = {}
    for day in [ds.day120] + ([ds.day10] if growth else []):
        landing[day.isoformat()] = _write_landing_day(w, ds, day, n_comments)
    w.con.close()

    def du(p: Path) -> int:
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())

    info = {
        "size": size,
        "days_history": days_history,
        "seed": seed,
        "end": end.isoformat(),
        "notes_published_per_day": per_day_published,
        "creators": n_creators,
        "comments_per_day": n_comments,
        "growth": growth,
        "history_rows": rows_hist,
        "history_bytes": du(ds.history),
        "landing_rows": landing,
        "landing_bytes": {d: du(ds.landing(date.fromisoformat(d))) for d in landing},
        "landing_mediacrawler_bytes": {d: du(ds.landing(date.fromisoformat(d)) / "mediacrawler") for d in landing},
        "seconds": round(time.perf_counter() - t0, 1),
        "format_version": FORMAT_VERSION,
    }
    marker.write_text(json.dumps(info, indent=2))
    log(
        f"generated in {info['seconds']} s: history {info['history_bytes'] / 1e9:.2f} GB, landing "
        + ", ".join(f"{d} {b / 1e6:.0f} MB" for d, b in info["landing_bytes"].items())
    )
    return ds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=100_000, help="note rows per day")
    ap.add_argument("--days-history", type=int, default=119)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    ds = generate(a.size, a.days_history, a.seed, a.data_dir, force=a.force)
    print(json.dumps(ds.info(), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
