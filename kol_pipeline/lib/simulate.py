"""Deterministic landing-data simulator: MediaCrawler crawl output + brand files with planted truth.

`simulate(out, creators, days, seed, end_date, brand_files)` writes, under `out`:

- `mediacrawler/<crawler folder>/{crawler}_{item}_{YYYY-MM-DD}.{json,jsonl,csv}`: one crawl per folder per day of
  creator profiles, their notes (each note re-crawled daily while younger than 100 days) and, every third day,
  comments; MediaCrawler field names and value formats (counts as strings, possibly abbreviated; epoch-ms times);
- `brand/*.csv` (brands, campaigns, campaign_posts, daily search_rankings, search_index, rate_card,
  store_traffic) unless `brand_files=False`, and `reference/categories.csv`;
- `truth/`: the planted parameters (never read by the pipeline) so tests can check that the metrics recover them.

Same arguments => byte-identical output. Everything planted and every formula is documented in docs/simulator.md.
Pure Python + numpy/pandas; no dagster import.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------------------------------
# Fixed vocabulary (data of the simulation; the pipeline reads categories.csv, not this module)
# --------------------------------------------------------------------------------------------------------------
CATEGORIES: tuple[str, ...] = (
    "skincare",
    "beauty",
    "food",
    "mother_baby",
    "wellness",
    "home",
    "fashion",
    "travel",
)
CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "skincare": ("护肤", "面霜", "精华", "敏感肌", "保湿", "防晒", "修护", "爽肤水", "乳液", "面膜"),
    "beauty": ("美妆", "口红", "眼影", "粉底", "腮红", "化妆", "底妆", "睫毛膏", "唇釉", "卸妆"),
    "food": ("美食", "早餐", "烘焙", "食谱", "探店", "甜品", "家常菜", "轻食", "咖啡", "火锅"),
    "mother_baby": ("母婴", "宝宝", "育儿", "辅食", "奶粉", "纸尿裤", "孕期", "婴儿", "带娃", "亲子"),
    "wellness": ("养生", "健身", "瑜伽", "睡眠", "减脂", "普拉提", "跑步", "冥想", "中医", "体态"),
    "home": ("家居", "收纳", "装修", "软装", "清洁", "家具", "租房改造", "好物", "厨房", "香薰"),
    "fashion": ("穿搭", "ootd", "衬衫", "连衣裙", "通勤", "包包", "配饰", "显瘦", "搭配", "鞋子"),
    "travel": ("旅行", "旅游", "攻略", "酒店", "民宿", "自驾", "露营", "景点", "机票", "徒步"),
}
CATEGORY_CN = {
    "skincare": "护肤",
    "beauty": "美妆",
    "food": "美食",
    "mother_baby": "母婴",
    "wellness": "养生",
    "home": "家居",
    "fashion": "穿搭",
    "travel": "旅行",
}
# Filler words of titles / descriptions: contain no category keyword, brand or disclosure marker (tested).
TITLE_HEADS = ("被问爆了的", "私藏", "真心推荐", "一周", "平价", "新手必看", "闭眼入", "今日", "宝藏", "小众")
TITLE_TAILS = ("分享", "真的绝了", "合集", "清单", "心得", "笔记", "记录", "体验", "不踩雷", "安利")
DESC_LINES = (
    "今天来分享一下",
    "坚持了一个月",
    "记录一下最近",
    "真的很喜欢",
    "整理了一份清单",
    "新手也能学会",
    "周末的快乐",
    "姐妹们看过来",
    "细节都在图里",
    "第三次了还是很爱",
)
TAG_SUFFIXES = ("", "", "", "分享", "日常", "推荐", "心得")
NICK_HEADS = ("爱吃", "小", "快乐的", "橘子", "一只", "早睡的", "不加糖的", "晚风", "半夏", "今天也")
NICK_TAILS = ("鹿", "橙子", "猫咪", "兔兔", "小鱼", "桃子", "鲸鱼", "栗子", "Momo", "阿May")
PROVINCES = ("广东", "上海", "北京", "浙江", "江苏", "四川", "湖北", "山东", "福建", "美国")
EMOJI = ("[笑哭R]", "[赞R]", "[哭惹R]", "[偷笑R]", "[害羞R]", "[派对R]", "[萌萌哒R]", "[doge]")
TIER_NAMES: tuple[str, ...] = ("nano", "micro", "mid", "macro", "top")
TIER_SHARE = (0.30, 0.35, 0.20, 0.09, 0.06)  # share of creators per tier: long tail (many nano/micro, few top)
# followers at day 0 are log-uniform in these ranges (kept away from the 10k/100k/500k/1M bounds so that the slow
# drift never changes the tier of an honest creator)
TIER_FOLLOWERS = {
    "nano": (1_500, 8_500),
    "micro": (11_500, 85_000),
    "mid": (115_000, 425_000),
    "macro": (575_000, 850_000),
    "top": (1_150_000, 6_000_000),
}
TIER_ER7 = {"nano": 0.08, "micro": 0.06, "mid": 0.04, "macro": 0.025, "top": 0.015}  # planted median er_7d
# fee per sponsored note (CNY), public XHS (蒲公英) price scale; image price maps log-linearly from followers
TIER_FEE = {
    "nano": (200, 800),
    "micro": (800, 8_000),
    "mid": (8_000, 30_000),
    "macro": (30_000, 90_000),
    "top": (50_000, 300_000),
}
SAVE_TO_LIKE = {
    "skincare": 0.6,
    "beauty": 0.45,
    "food": 0.5,
    "mother_baby": 0.55,
    "wellness": 0.4,
    "home": 0.7,
    "fashion": 0.3,
    "travel": 0.5,
}
ADJACENT = {
    "skincare": ("beauty", "wellness"),
    "beauty": ("skincare", "fashion"),
    "food": ("wellness", "home"),
    "mother_baby": ("home", "wellness"),
    "wellness": ("food", "skincare"),
    "home": ("mother_baby", "food"),
    "fashion": ("beauty", "travel"),
    "travel": ("fashion", "food"),
}


@dataclass(frozen=True)
class Brand:
    brand: str
    aliases: tuple[str, ...]
    category: str
    control_keyword: str
    product_keywords: tuple[str, ...]
    search_base: int
    control_base: int


BRANDS: tuple[Brand, ...] = (
    Brand("润肌坊", ("RUNJI", "润肌"), "skincare", "面霜", ("修护精华", "屏障修护"), 6000, 52000),
    Brand("花西里", ("Huaxili", "花西里彩妆"), "beauty", "口红", ("雾面唇釉", "持妆粉底"), 9000, 80000),
    Brand("谷物说", ("GUWU",), "food", "燕麦片", ("燕麦早餐", "高纤轻食"), 3000, 24000),
    Brand("小象呵护", ("小象呵护", "XIAOXIANG"), "mother_baby", "婴儿湿巾", ("宝宝洗护", "婴儿润肤"), 2500, 30000),
    Brand("栖木家居", ("QIMU",), "home", "收纳盒", ("桌面收纳",), 1500, 18000),
)


@dataclass(frozen=True)
class CampaignPlan:
    campaign_id: str
    brand_idx: int
    phase: str
    start_frac: float
    length_days: int
    n_creators: int
    search_lift: float
    store_lift: float | None
    disclosure_rate: float


CAMPAIGNS: tuple[CampaignPlan, ...] = (
    CampaignPlan("C01", 0, "launch", 0.27, 14, 18, 0.30, 0.25, 0.90),
    CampaignPlan("C02", 0, "sustain", 0.54, 28, 15, 0.12, 0.10, 0.80),
    CampaignPlan("C03", 1, "launch", 0.32, 14, 16, 0.22, 0.18, 0.85),
    CampaignPlan("C04", 1, "festival", 0.77, 18, 20, 0.38, 0.30, 0.75),
    CampaignPlan("C05", 2, "launch", 0.43, 21, 15, 0.16, None, 0.90),
    CampaignPlan("C06", 3, "launch", 0.65, 14, 8, 0.25, None, 1.00),  # below 15 creators: density_ok = false
)
DISCLOSURES = ("#广告", "品牌合作", "感谢{brand}赞助", "#品牌合作", "合作")
INFLATION_PATTERNS: tuple[tuple[str, ...], ...] = (  # duplicate_comments never with low_er / low comments
    ("follower_spike", "low_er_for_tier"),
    ("follower_spike", "duplicate_comments"),
    ("duplicate_comments",),
    ("low_comment_to_like", "low_er_for_tier"),
    ("follower_spike", "low_comment_to_like"),
    ("low_er_for_tier",),
    ("duplicate_comments", "follower_spike"),
    ("low_comment_to_like",),
)
FOLDERS = ("crawler_a", "crawler_b")
SEARCH_FOLDER = "keyword_watch"
EVERGREEN_RAMP_DAYS = 100.0  # the linear "search traffic" component of evergreen notes saturates at 100 days
# Re-crawl schedule of a note by its age in days since the publish day (unless daily_crawl=True: daily to 100):
# daily to 10, every 2nd day to 32, every 14th day to 86, daily 87-93. Every E(h) the contract uses (h = 2, 7, 30, 90
# and the half-life in [0, 30]) then has observations within 2 days on both sides; the size budget of the
# bundled sample (< 10 MB) does not allow a daily row for every note-day.
MAX_CRAWL_AGE_DAYS = 93
DAILY_UNTIL_AGE = 10
EVERY2_UNTIL_AGE = 32
DAILY_FROM_AGE = 87
SH_OFFSET_MS = 8 * 3600 * 1000
DAY_MS = 86_400_000
CREATOR_GAP_MS = 20_000  # a crawl visits one creator (profile + notes) every 20 s

NOTE_FIELDS = (
    "note_id",
    "type",
    "title",
    "desc",
    "video_url",
    "time",
    "last_update_time",
    "user_id",
    "nickname",
    "avatar",
    "liked_count",
    "collected_count",
    "comment_count",
    "share_count",
    "ip_location",
    "image_list",
    "tag_list",
    "last_modify_ts",
    "note_url",
    "source_keyword",
    "xsec_token",
)
CREATOR_FIELDS = (
    "user_id",
    "nickname",
    "gender",
    "avatar",
    "desc",
    "ip_location",
    "follows",
    "fans",
    "interaction",
    "tag_list",
    "last_modify_ts",
)
COMMENT_FIELDS = (
    "comment_id",
    "create_time",
    "ip_location",
    "note_id",
    "content",
    "user_id",
    "nickname",
    "avatar",
    "sub_comment_count",
    "pictures",
    "parent_comment_id",
    "last_modify_ts",
    "like_count",
)

# --------------------------------------------------------------------------------------------------------------
# Comment templates. {kw}: a keyword of the note's category; {n}: a small number; {name}: a nickname.
# Each template is unambiguous under the contract's ordered rules (tested against the lexicon).
# --------------------------------------------------------------------------------------------------------------
COMMENT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "purchase_intent": (
        "求链接",
        "{kw}求链接",
        "在哪买的呀",
        "哪里买的{kw}",
        "这个{kw}多少钱",
        "已下单了坐等到货",
        "回购{n}次了",
        "种草了{kw}",
        "蹲一个链接",
        "已购，等快递",
        "刚下单了{kw}",
        "{kw}价格多少",
    ),
    "question": (
        "这个{kw}适合油皮吗",
        "{kw}怎么用呀",
        "能不能出个{kw}教程",
        "{kw}有没有平替",
        "{kw}用多久能见效",
        "是不是要先{kw}",
        "请问{kw}是什么牌子的",
        "{kw}如何保存",
        "新手可以{kw}吗",
        "为什么我做的{kw}不一样",
    ),
    "tag_friend": (
        "@{name} 快看",
        "@{name} 你要的",
        "@{name}",
        "@{name} @{name2}",
        "@{name} 看这个",
        "@{name} 码住",
        "@{name} 速来",
        "@{name} 学起来",
        "@{name2} 来看",
    ),
    "experience": (
        "我用了{n}个月，{eff}",
        "亲测{eff}",
        "我也在用{kw}，{eff}",
        "用过{n}次{kw}，{eff}",
        "我家也是这款，{eff}",
        "我之前也试过{kw}，{eff}",
        "我试了{n}天，{eff}",
    ),
    "low_effort": ("沙发", "打卡", "前排", "路过", "第一", "哈哈哈", "顶", "来了"),
    "other": (
        "博主好有气质",
        "画面太舒服了",
        "这个颜色好温柔",
        "氛围感拉满",
        "太治愈了吧",
        "博主的审美绝绝子",
        "收藏了慢慢学",
        "每次刷到都很开心",
        "写得好详细呀",
        "这期{kw}内容很用心",
        "{kw}这期太实用啦",
        "拍照技术也太强了",
    ),
}
EXPERIENCE_EFFECTS = (
    "真的不错",
    "效果很明显",
    "没踩雷",
    "性价比很高",
    "比想象中好",
    "很适合我",
    "一直很稳定",
    "会继续用",
    "感觉很舒服",
    "值得试试",
)
COMMENT_PREFIXES = ("", "", "姐妹", "博主", "宝子", "啊啊")
DUPLICATE_POOL = ("好美啊啊啊", "太棒了支持", "爱了爱了", "支持博主")
AUTHOR_REPLIES = (
    ("谢谢喜欢这期{kw}", "other"),
    ("比心", "low_effort"),
    ("{kw}宝子可以试试", "other"),
    ("置顶了{kw}清单", "other"),
    ("后面出{kw}教程", "other"),
    ("{kw}下期安排", "other"),
    ("{kw}的细节在图三", "other"),
    ("抱抱", "low_effort"),
)
PARTICLES = ("", "", "呀", "啊", "哇", "耶", "诶", "嘿", "哦")  # sentence-final particles: vary the text
COMMENT_CLASS_P = {
    "purchase_intent": 0.16,
    "question": 0.24,
    "tag_friend": 0.06,
    "experience": 0.20,
    "low_effort": 0.08,
    "other": 0.26,
}


# --------------------------------------------------------------------------------------------------------------
# Planted engagement curve (public: tests use it to compute expected metrics)
# --------------------------------------------------------------------------------------------------------------
def curve_fraction(h: np.ndarray | float, w: np.ndarray | float, t: np.ndarray | float) -> np.ndarray:
    """Share of a note's final engagements reached at age t days.

    E(t) = E_final * [ w * (1 - 2^(-t/h)) + (1 - w) * min(t / 100, 1) ]: an exponential decay with half-life h
    days plus, for evergreen notes (w < 1), a linear "search traffic" component that keeps growing until day 100.
    Pure decay notes have w = 1.
    """
    t = np.clip(np.asarray(t, dtype="float64"), 0.0, None)
    h = np.asarray(h, dtype="float64")
    w = np.asarray(w, dtype="float64")
    return w * (1.0 - np.exp2(-t / h)) + (1.0 - w) * np.minimum(t / EVERGREEN_RAMP_DAYS, 1.0)


def planted_half_life(h: np.ndarray | float, w: np.ndarray | float, horizon: float = 30.0) -> np.ndarray:
    """Smallest t in [0, horizon] with E(t) >= 0.5 * E(horizon) on the continuous planted curve (bisection).

    For pure decay (w = 1) this is h * (1 - log2(1 + 2^(-30/h))). The contract's half_life_days is solved on the
    linear pieces between daily observations, so it differs from this by the interpolation error (< ~0.3 day
    for h >= 1, up to ~0.2 day for h = 0.5)."""
    h = np.atleast_1d(np.asarray(h, dtype="float64"))
    w = np.broadcast_to(np.asarray(w, dtype="float64"), h.shape)
    target = 0.5 * curve_fraction(h, w, horizon)
    lo = np.zeros_like(h)
    hi = np.full_like(h, horizon)
    for _ in range(60):
        mid = (lo + hi) / 2
        ok = curve_fraction(h, w, mid) >= target
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi


def planted_late_share(h: np.ndarray | float, w: np.ndarray | float) -> np.ndarray:
    """(E(90) - E(30)) / E(90) of the planted curve; the note is evergreen when this is >= 0.25."""
    e30 = curve_fraction(h, w, 30.0)
    e90 = curve_fraction(h, w, 90.0)
    return (e90 - e30) / e90


# --------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------
def _hex(rng: np.random.Generator, n: int, width: int) -> list[str]:
    vals = rng.integers(0, 16, size=(n, width))
    digits = np.array(list("0123456789abcdef"))
    return ["".join(r) for r in digits[vals]]


def _token(rng: np.random.Generator) -> str:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    return "AB" + "".join(alphabet[rng.integers(0, len(alphabet), 26)]) + "="


def _abbrev(values: np.ndarray, style: str) -> np.ndarray:
    """Format integer counts as MediaCrawler strings; style: exact | wan (1.2万) | w (2.3w) | search (10万+, 1.2k)."""
    v = np.asarray(values, dtype="int64")
    out = v.astype(str).astype(object)
    if style == "exact":
        return out
    if style in ("wan", "w"):
        big = v >= 10_000
        unit = "万" if style == "wan" else "w"
        for i in np.flatnonzero(big):
            s = f"{v[i] / 10_000:.1f}".rstrip("0").rstrip(".")
            out[i] = s + unit
        return out
    if style == "search":
        plus = v >= 100_000
        out[plus] = "10万+"
        k = (v >= 1_000) & (v < 10_000)
        for i in np.flatnonzero(k):
            out[i] = f"{v[i] / 1000:.1f}".rstrip("0").rstrip(".") + "k"
        for i in np.flatnonzero((v >= 10_000) & ~plus):
            out[i] = f"{v[i] / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
        return out
    raise ValueError(style)


def _tier_counts(n: int) -> np.ndarray:
    """Creators per tier: largest remainder on TIER_SHARE, at least one per tier when n >= 5."""
    raw = np.asarray(TIER_SHARE) * n
    base = np.floor(raw).astype(int)
    if n >= 5:
        base = np.maximum(base, 1)
    while base.sum() < n:
        base[int(np.argmax(raw - base))] += 1
    while base.sum() > n:
        base[int(np.argmax(base))] -= 1
    return base


def _shanghai_date(ms: np.ndarray) -> np.ndarray:
    return ((np.asarray(ms, dtype="int64") + SH_OFFSET_MS) // DAY_MS).astype("int64")


def _epoch_day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _fee_for(followers: np.ndarray, tiers: Sequence[str], noise: np.ndarray) -> np.ndarray:
    """Image-note price: log-linear in followers across the tier's follower range onto its fee range, with noise,
    clipped to the tier's fee range."""
    out = np.empty(len(tiers))
    for i, t in enumerate(tiers):
        flo, fhi = TIER_FOLLOWERS[t]
        plo, phi = TIER_FEE[t]
        pos = np.clip((np.log(followers[i]) - np.log(flo)) / (np.log(fhi) - np.log(flo)), 0, 1)
        price = np.exp(np.log(plo) + pos * (np.log(phi) - np.log(plo))) * noise[i]
        out[i] = float(np.clip(price, plo, phi))
    return out


# --------------------------------------------------------------------------------------------------------------
# Writers (MediaCrawler styles)
# --------------------------------------------------------------------------------------------------------------
def _write_rows(path: Path, rows: list[dict[str, Any]], fields: Sequence[str], fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=4), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
        path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))
    else:  # pragma: no cover
        raise ValueError(fmt)


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    """Plain UTF-8 CSV (brand, reference and truth files), LF line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(df.to_csv(index=False, lineterminator="\n"), encoding="utf-8")


# --------------------------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------------------------
def simulate(
    out: Path,
    creators: int = 80,
    days: int = 130,
    seed: int = 7,
    end_date: date = date(2025, 6, 30),
    brand_files: bool = True,
    *,
    daily_crawl: bool = False,
    shared_audience: bool = False,
    search_surfacing: int = 0,
    flat_sponsored: int = 0,
    negative_waves: int = 0,
) -> dict[str, Any]:
    """Write a deterministic landing folder under `out` (see the module docstring) and return a summary:
    `{"out", "start_date", "end_date", "files": {kind: n}, "rows": {kind: n}, "malformed": n}`.

    `negative_waves`: that many products (brands) whose mentioning notes get only negative top-level comments on
    the comment crawls of a 14-day window (`_plant_negative_waves`, truth/negative_waves.csv); 0 (the default, and
    the bundled sample) plants none and leaves every other output as it was.

    `out` is cleared of the simulator's own sub-folders (mediacrawler, brand, reference, truth) first.

    `search_surfacing` / `flat_sponsored` (issue #26, default 0: the bundled sample has neither): that many
    creators whose notes rank first for their category's keywords, and whose sponsored notes fall flat (their
    er_7d x FLAT_SPONSORED_FACTOR); listed in truth/planted_finding.csv (docs/simulator.md)."""
    if creators < 5:
        raise ValueError("creators must be >= 5 (one per tier)")
    if days < 14:
        raise ValueError("days must be >= 14")
    out = Path(out)
    for sub in ("mediacrawler", "brand", "reference", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)
    ss = np.random.SeedSequence(seed)
    (r_cre, r_fol, r_note, r_obs, r_com, r_brand, r_dirt, r_text) = [np.random.default_rng(s) for s in ss.spawn(8)]
    D = days
    start_date = end_date - timedelta(days=D - 1)
    day0 = _epoch_day(start_date)
    day_ms0 = (np.arange(D, dtype="int64") + day0) * DAY_MS - SH_OFFSET_MS  # Shanghai midnight of each day, UTC ms

    def ds(d: int) -> str:
        return (start_date + timedelta(days=int(d))).isoformat()

    # ---------------------------------------------------------------- creators
    n = creators
    tiers = np.repeat(np.array(TIER_NAMES), _tier_counts(n))
    r_cre.shuffle(tiers)
    cat_idx = np.array([i % len(CATEGORIES) for i in range(n)])
    r_cre.shuffle(cat_idx)
    cats = np.array(CATEGORIES)[cat_idx]
    # inflated accounts: ~8% (at least 3), chosen among micro/mid/macro
    n_infl = max(3, int(round(0.08 * n)))
    eligible = np.flatnonzero(np.isin(tiers, ["micro", "mid", "macro"]))
    infl_idx = np.sort(r_cre.choice(eligible, size=min(n_infl, len(eligible)), replace=False))
    infl_kinds: list[tuple[str, ...]] = [()] * n
    for j, i in enumerate(infl_idx):
        infl_kinds[i] = INFLATION_PATTERNS[j % len(INFLATION_PATTERNS)]
    is_infl = np.zeros(n, dtype=bool)
    is_infl[infl_idx] = True
    lo = np.array([TIER_FOLLOWERS[t][0] for t in tiers], dtype=float)
    hi = np.array([TIER_FOLLOWERS[t][1] for t in tiers], dtype=float)
    # inflated accounts start in the lower half of their tier so the bought followers keep them in it
    hi_eff = np.where(is_infl, lo + 0.35 * (hi - lo), hi)
    f_base = np.exp(np.log(lo) + r_cre.random(n) * (np.log(hi_eff) - np.log(lo)))
    f_base = np.round(f_base)
    drift_total = r_cre.uniform(0.95, 1.16, n)  # follower factor over the whole window
    growth = np.log(drift_total) / D
    er_factor = np.clip(r_cre.lognormal(0.0, 0.35, n), 0.6, 1.8)
    er_factor = np.where([("low_er_for_tier" in k) for k in infl_kinds], r_cre.uniform(0.08, 0.13, n), er_factor)
    c2l = r_cre.uniform(0.05, 0.15, n)
    c2l = np.where([("low_comment_to_like" in k) for k in infl_kinds], r_cre.uniform(0.004, 0.008, n), c2l)
    # bought comments inflate the comment count of duplicate-comment accounts
    c2l = np.where([("duplicate_comments" in k) for k in infl_kinds], r_cre.uniform(0.3, 0.45, n), c2l)
    s2l = np.array([SAVE_TO_LIKE[c] for c in cats]) * r_cre.uniform(0.8, 1.25, n)
    sh2l = r_cre.uniform(0.02, 0.10, n)
    post_rate = r_cre.uniform(1 / 120, 1 / 65, n)  # organic notes per day
    ts_reg = r_cre.integers(1_450_000_000, 1_700_000_000, n)
    user_ids = [f"{t:08x}" + h for t, h in zip(ts_reg, _hex(r_cre, n, 16))]
    nick_used: set[str] = set()
    nicknames = []
    for i in range(n):
        while True:
            nm = NICK_HEADS[r_cre.integers(len(NICK_HEADS))] + NICK_TAILS[r_cre.integers(len(NICK_TAILS))]
            nm = nm + "的" + CATEGORY_CN[cats[i]] if r_cre.random() < 0.6 else nm + str(r_cre.integers(1, 999))
            if nm not in nick_used:
                nick_used.add(nm)
                nicknames.append(nm)
                break
    gender = np.where(r_cre.random(n) < 0.85, "女", "男")
    prov = np.array(PROVINCES)[r_cre.integers(0, len(PROVINCES), n)]
    avatar = [f"https://sns-avatar-qc.xhscdn.com/avatar/{h}.jpg" for h in _hex(r_cre, n, 20)]
    bios = [f"{CATEGORY_CN[c]}博主" + ("｜商务合作私信" if r_cre.random() < 0.4 else "") for c in cats]
    follows = r_cre.integers(30, 1500, n)

    # ---------------------------------------------------------------- followers per day
    d_idx = np.arange(D)
    noise = np.cumsum(r_fol.normal(0.0, 0.0015, (n, D)), axis=1)
    F = f_base[:, None] * np.exp(growth[:, None] * d_idx[None, :] + noise)
    spike_day = np.full(n, -1)
    spike_factor = np.ones(n)
    for i in np.flatnonzero([("follower_spike" in k) for k in infl_kinds]):
        spike_day[i] = int(r_fol.integers(max(4, int(0.3 * D)), max(5, int(0.8 * D))))
        spike_factor[i] = r_fol.uniform(1.30, 1.45)
        F[i, spike_day[i] :] *= spike_factor[i]
    F = np.round(F).astype("int64")

    # ---------------------------------------------------------------- campaigns
    camp_rows = []
    for c in CAMPAIGNS:
        start = int(round(c.start_frac * D))
        start = min(start, D - 3)
        end = min(start + c.length_days - 1, D - 1)
        camp_rows.append(dict(plan=c, start=start, end=end))
    # campaign creators: same category first, adjacent categories next, then anyone; C02 re-hires half of C01
    chosen: dict[str, np.ndarray] = {}
    for cr in camp_rows:
        c: CampaignPlan = cr["plan"]
        b = BRANDS[c.brand_idx]
        pref = np.where(cats == b.category, 0, np.where(np.isin(cats, ADJACENT[b.category]), 1, 2))
        key = pref + r_brand.random(n) * 0.9
        if c.campaign_id == "C02" and "C01" in chosen:
            prev = chosen["C01"]
            key[prev[: len(prev) // 2]] = -1.0  # repeat creators across phases
        order = np.argsort(key, kind="stable")
        chosen[c.campaign_id] = np.sort(order[: min(c.n_creators, n)])

    # ---------------------------------------------------------------- notes (organic + sponsored)
    notes: list[dict[str, Any]] = []

    def publish_ms(d: int, rng: np.random.Generator) -> int:
        # publish time of day: 07:00 - 23:30 Shanghai, evening-heavy
        frac = 7 / 24 + (16.5 / 24) * (1 - (1 - rng.random()) ** 1.6)
        return int(day_ms0[d] + frac * DAY_MS + rng.integers(0, 1000))

    for cr in camp_rows:
        c = cr["plan"]
        for i in chosen[c.campaign_id]:
            n_posts = 2 if (c.phase == "sustain" and r_note.random() < 0.3) else 1
            window = np.arange(cr["start"], cr["end"] + 1)
            if spike_day[i] >= 0:
                window = window[(window < spike_day[i] - 3) | (window > spike_day[i])]
            if len(window) == 0:
                continue
            for p in np.sort(r_note.choice(window, size=min(n_posts, len(window)), replace=False)):
                notes.append(dict(creator=int(i), pday=int(p), campaign=c.campaign_id, brand=c.brand_idx))
    s_off = np.zeros(n, dtype=int)  # sponsored notes outside the creator's category
    for r in notes:
        s_off[r["creator"]] += BRANDS[r["brand"]].category != cats[r["creator"]]
    for i in range(n):
        k = max(4 if is_infl[i] else 1, int(r_note.poisson(post_rate[i] * D)), int(s_off[i]) + 1)
        allowed = np.arange(D)
        if spike_day[i] >= 0:  # quiet before the bought followers arrive
            allowed = allowed[(allowed < spike_day[i] - 3) | (allowed > spike_day[i])]
        for p in np.sort(r_note.choice(allowed, size=k, replace=True)):
            notes.append(dict(creator=i, pday=int(p), campaign=None, brand=None))
    notes.sort(key=lambda r: (r["pday"], r["creator"], r["campaign"] or ""))
    m = len(notes)
    nc = np.array([r["creator"] for r in notes])
    pday = np.array([r["pday"] for r in notes])
    pub = np.array([publish_ms(int(p), r_note) for p in pday], dtype="int64")
    camp_of = [r["campaign"] for r in notes]
    sponsored = np.array([c is not None for c in camp_of])
    brand_of = [r["brand"] for r in notes]
    # organic brand mentions: ~7% of organic notes in a brand's category mention it
    brand_by_cat = {b.category: j for j, b in enumerate(BRANDS)}
    off_niche = np.zeros(m, dtype=bool)
    topic = np.empty(m, dtype=object)
    for j in range(m):
        ccat = cats[nc[j]]
        if sponsored[j]:
            topic[j] = BRANDS[brand_of[j]].category
        elif r_note.random() < 0.10:
            others = [c for c in CATEGORIES if c != ccat]
            topic[j] = others[int(r_note.integers(len(others)))]
            off_niche[j] = True
        else:
            topic[j] = ccat
        if not sponsored[j] and topic[j] in brand_by_cat and r_note.random() < 0.10:
            brand_of[j] = brand_by_cat[topic[j]]
    # keep each creator's own category the most frequent one: flip organic off-niche notes back if needed
    for i in range(n):
        mine = np.flatnonzero(nc == i)
        while (topic[mine] == cats[i]).sum() <= (topic[mine] != cats[i]).sum():
            flip = [j for j in mine if off_niche[j]]
            if not flip:
                break
            topic[flip[0]] = cats[i]
            off_niche[flip[0]] = False
            if brand_of[flip[0]] is not None and BRANDS[brand_of[flip[0]]].category != cats[i]:
                brand_of[flip[0]] = None
    off_niche |= sponsored & (topic != cats[nc])
    # curve classes
    u = r_note.random(m)
    h = np.where(
        u < 0.35,
        r_note.uniform(0.5, 2.0, m),
        np.where(
            u < 0.75,
            r_note.uniform(2.0, 8.0, m),
            np.where(
                u < 0.85,
                r_note.uniform(8.0, 12.0, m),
                np.where(u < 0.92, r_note.uniform(22.0, 40.0, m), r_note.uniform(1.0, 5.0, m)),
            ),
        ),
    )
    w = np.where(u >= 0.92, r_note.uniform(0.3, 0.5, m), 1.0)
    curve_kind = np.where(u >= 0.92, "decay_linear", "decay")
    late_share = planted_late_share(h, w)
    is_evergreen = late_share >= 0.25
    note_type = np.where(r_note.random(m) < 0.25, "video", "normal")
    er7 = TIER_ER7_arr = np.array([TIER_ER7[tiers[i]] for i in nc]) * er_factor[nc]
    er7 = er7 * np.clip(r_note.lognormal(0.0, 0.2, m), 0.7, 1.45)
    er7 = er7 * np.where(sponsored, 0.9, 1.0) * np.where(off_niche & ~sponsored, 0.85, 1.0)
    er7, flat_idx = _plant_flat_sponsored(er7, flat_sponsored, seed, nc, sponsored, pday, D)
    del TIER_ER7_arr
    # a few viral notes (organic, honest authors): 6-15 x the author's usual engagement rate
    viral = (r_note.random(m) < 0.03) & ~sponsored & ~is_infl[nc]
    er7 = er7 * np.where(viral, r_note.uniform(6.0, 15.0, m), 1.0)
    f7 = F[nc, np.minimum(pday + 7, D - 1)]
    e7 = er7 * f7
    e_final = e7 / curve_fraction(h, w, 7.0)
    s_r = s2l[nc] * r_note.uniform(0.85, 1.15, m)
    c_r = c2l[nc] * r_note.uniform(0.8, 1.2, m)
    sh_r = sh2l[nc] * r_note.uniform(0.8, 1.2, m)
    likes_f = e_final / (1 + s_r + c_r + sh_r)
    comp_final = np.stack([likes_f, likes_f * s_r, likes_f * c_r, likes_f * sh_r], axis=1)  # likes saves comm shares

    # texts
    disclosed = np.zeros(m, dtype=bool)
    has_target = np.zeros(m, dtype=bool)
    titles, descs, tag_lists = [], [], []
    camp_plan = {c.campaign_id: c for c in CAMPAIGNS}
    for j in range(m):
        kws = list(CATEGORY_KEYWORDS[topic[j]])
        pick = r_text.choice(len(kws), 3, replace=False)
        k1, k2, k3 = (kws[p] for p in pick)
        tags = [k1, k2 + TAG_SUFFIXES[r_text.integers(len(TAG_SUFFIXES))], k3]
        head = TITLE_HEADS[r_text.integers(len(TITLE_HEADS))]
        tail = TITLE_TAILS[r_text.integers(len(TITLE_TAILS))]
        line = DESC_LINES[r_text.integers(len(DESC_LINES))]
        if off_niche[j] and not sponsored[j]:
            tags.append(CATEGORY_KEYWORDS[cats[nc[j]]][int(r_text.integers(10))])  # a trace of the creator's niche
        if sponsored[j]:
            b = BRANDS[brand_of[j]]
            plan = camp_plan[camp_of[j]]
            pk = b.product_keywords[int(r_text.integers(len(b.product_keywords)))]
            has_target[j] = r_text.random() < 0.9
            prod = pk if has_target[j] else k1
            title = f"{b.brand}{prod}{tail}"
            desc = f"{b.brand}{prod}{line}"
            tags = [b.brand, prod] + tags[:2]
            if r_text.random() < plan.disclosure_rate:
                disclosed[j] = True
                mk = DISCLOSURES[int(r_text.integers(len(DISCLOSURES)))].format(brand=b.brand)
                if mk.startswith("#"):
                    tags.append(mk[1:])
                    desc = desc + " " + mk
                else:
                    desc = desc + "\n" + mk
        elif brand_of[j] is not None:
            b = BRANDS[brand_of[j]]
            alias = b.aliases[int(r_text.integers(len(b.aliases)))] if r_text.random() < 0.4 else b.brand
            title = f"回购{alias}的{k1}{tail}"
            desc = f"{line}，自己买的{alias}"
        else:
            title = f"{head}{k1}{tail}"
            desc = line
        desc = desc + "\n" + " ".join(f"#{t}[话题]#" for t in tags[:2])
        titles.append(title)
        descs.append(desc)
        tag_lists.append(",".join(tags))
    note_ids = [f"{int(p // 1000):08x}" + "0000000" + x for p, x in zip(pub, _hex(r_note, m, 9))]
    assert len(set(note_ids)) == m
    tokens = [_token(r_note) for _ in range(m)]
    images = [f"http://sns-webpic-qc.xhscdn.com/{x}!nd_dft_wlteh_webp_3" for x in _hex(r_note, m, 16)]
    videos = [
        f"http://sns-video-bd.xhscdn.com/{x}" if t == "video" else "" for x, t in zip(_hex(r_note, m, 16), note_type)
    ]
    edit_ms = r_note.integers(0, 600_000, m)

    # ---------------------------------------------------------------- crawl schedule
    start_a = day_ms0 + int(10 * 3600e3) + r_obs.normal(0, 40 * 60e3, D).astype("int64")
    start_b = day_ms0 + int(21 * 3600e3) + r_obs.normal(0, 30 * 60e3, D).astype("int64")
    late_days = r_obs.choice(np.arange(1, D - 1), size=max(1, D // 18), replace=False)
    start_b[late_days] = day_ms0[late_days] + int(23.63 * 3600e3) + r_obs.integers(0, 8 * 60_000, len(late_days))
    crawl_start = np.stack([start_a, start_b])
    # two people crawl in turn: crawler_a up to the hand-over, crawler_b from it, both during 3 overlap days
    handover = D // 2
    active = np.zeros((2, D), dtype=bool)
    active[0, : handover + 3] = True
    active[1, handover:] = True
    # crawler_b missed two (non-adjacent) days: no files at all that day
    cand = np.setdiff1d(np.arange(handover + 4, D - 2), np.concatenate([late_days, late_days + 1, late_days - 1]))
    missed: list[int] = []
    for dd in r_obs.choice(cand, size=min(2, len(cand)), replace=False) if len(cand) else []:
        if not active[1, dd - 1] or not active[1, dd + 1]:
            continue
        active[1, dd] = False
        missed.append(int(dd))
    pos_in_folder = r_obs.permutation(n).astype("int64")  # crawl order of the creators
    # k-th note of the creator (crawl order within the creator)
    k_in_creator = pd.Series(np.arange(m)).groupby(nc).cumcount().to_numpy()

    # ---------------------------------------------------------------- note observations (vectorized)
    first = pday
    last = np.minimum(pday + (100 if daily_crawl else MAX_CRAWL_AGE_DAYS), D - 1)
    cnt = last - first + 1
    on1 = np.repeat(np.arange(m), cnt)
    od1 = np.concatenate([np.arange(a, b + 1) for a, b in zip(first, last)]) if m else np.array([], dtype=int)
    on = np.concatenate([on1, on1])
    od = np.concatenate([od1, od1])
    of = np.repeat([0, 1], len(on1))
    ots = crawl_start[of, od] + pos_in_folder[nc[on]] * CREATOR_GAP_MS + (k_in_creator[on] + 1) * 1_200 + 900
    oage = od - pday[on]
    scheduled = (
        daily_crawl
        | (oage <= DAILY_UNTIL_AGE)
        | ((oage <= EVERY2_UNTIL_AGE) & (oage % 2 == 0))
        | ((oage - EVERY2_UNTIL_AGE) % 14 == 0)
        | (oage >= DAILY_FROM_AGE)
    )
    keep = (ots > pub[on]) & active[of, od] & scheduled
    on, od, of, ots = on[keep], od[keep], of[keep], ots[keep]
    age = (ots - pub[on]) / DAY_MS
    frac = curve_fraction(h[on], w[on], age)
    counts = np.round(comp_final[on] * frac[:, None]).astype("int64")
    # deleted likes: a few small drops
    drop = np.flatnonzero((age > 3) & (r_obs.random(len(on)) < 0.003))
    counts[drop, 0] = np.maximum(counts[drop, 0] - r_obs.integers(1, 4, len(drop)), 0)
    obs = pd.DataFrame(
        {
            "note": on,
            "day": od,
            "folder": of,
            "ts": ots,
            "likes": counts[:, 0],
            "saves": counts[:, 1],
            "comments": counts[:, 2],
            "shares": counts[:, 3],
            "source_keyword": "",
            "mode": "creator",
        }
    )
    n_drops = len(drop)

    # ---------------------------------------------------------------- creator observations
    cf, cc, cd = np.meshgrid(np.arange(2), np.arange(n), np.arange(D), indexing="ij")
    cf, cc, cd = cf.ravel(), cc.ravel(), cd.ravel()
    cts = crawl_start[cf, cd] + pos_in_folder[cc] * CREATOR_GAP_MS
    ckeep = active[cf, cd]
    cc, cd, cf, cts = cc[ckeep], cd[ckeep], cf[ckeep], cts[ckeep]
    # interaction = likes + saves received: a base plus what the simulated notes have gathered so far
    inter_base = np.round(f_base * r_cre.uniform(2.0, 9.0, n)).astype("int64")
    ls_final = comp_final[:, 0] + comp_final[:, 1]
    ls_day = np.zeros((n, D))
    for j in range(m):  # m x D small
        ages = (day_ms0 + 12 * 3600_000 - pub[j]) / DAY_MS
        ls_day[nc[j]] += ls_final[j] * curve_fraction(h[j], w[j], ages) * (ages > 0)
    follows_day = follows[:, None] + np.cumsum(r_fol.random((n, D)) < 0.03, axis=1)
    cobs = pd.DataFrame(
        {
            "creator": cc,
            "day": cd,
            "folder": cf,
            "ts": cts,
            "fans": F[cc, cd],
            "follows": follows_day[cc, cd],
            "interaction": inter_base[cc] + np.round(ls_day[cc, cd]),
        }
    )

    # ---------------------------------------------------------------- search: rankings + keyword_watch crawls
    kw_list: list[tuple[str, str | None, int | None]] = []  # (keyword, category, brand idx)
    surf_boost, surf_idx = _plant_search_surfacing(search_surfacing, seed, cats, nc, topic, pday, D)
    for bi in sorted({c.brand_idx for c in CAMPAIGNS}):
        kw_list.append((BRANDS[bi].product_keywords[0], BRANDS[bi].category, bi))  # the main target keyword
    for bi in sorted({c.brand_idx for c in CAMPAIGNS}):
        kw_list.append((CATEGORY_CN[BRANDS[bi].category], BRANDS[bi].category, None))
    note_text = [f"{t} {d} {g}" for t, d, g in zip(titles, descs, tag_lists)]
    kw_pool: dict[str, list[str]] = {}
    rank_rows: list[tuple[str, int, str, int]] = []
    watch_rows = []
    for kw, kcat, kb in kw_list:
        rel = np.array(
            [
                kw in note_text[j] or (kb is None and topic[j] == kcat) or (kb is not None and brand_of[j] == kb)
                for j in range(m)
            ]
        )
        rel = rel | ((surf_boost > 0) & (cats[nc] == kcat))  # planted surfacing creators: all their category's words
        pool = _hex(r_brand, 60, 24)
        kw_pool[kw] = pool
        stick = r_brand.random(60)  # sticky popularity of never-crawled results
        for d in range(D):
            cand_j = np.flatnonzero(rel & (pday <= d))
            n_res = int(r_brand.integers(20, 23))
            score_uncrawled = np.log1p(stick * 3000) + r_brand.normal(0, 0.6, 60)
            if len(cand_j):
                ages = (day_ms0[d] + 12 * 3600_000 - pub[cand_j]) / DAY_MS
                e_now = e_final[cand_j] * curve_fraction(h[cand_j], w[cand_j], ages)
                sc = np.log1p(np.maximum(e_now, 0)) - 0.03 * np.maximum(ages, 0) + r_brand.normal(0, 0.6, len(cand_j))
                sc = sc + surf_boost[cand_j]
            else:
                sc = np.array([])
            ids = [note_ids[j] for j in cand_j] + pool
            allsc = np.concatenate([sc, score_uncrawled])
            order = np.argsort(-allsc, kind="stable")[:n_res]
            for r_, o in enumerate(order, start=1):
                rank_rows.append((kw, r_, ids[o], d))
                if o < len(cand_j) and d % 7 == 3 and r_ <= 10:
                    watch_rows.append((int(cand_j[o]), d, kw, r_))
    rankings = pd.DataFrame(rank_rows, columns=["keyword", "rank", "note_id", "day"])
    # the keyword watch also searches the other categories' words (results not tracked in search_rankings)
    tracked = {k for k, _, _ in kw_list}
    for cat in CATEGORIES:
        if CATEGORY_CN[cat] in tracked:
            continue
        for d in range(3, D, 7):
            cand_j = np.flatnonzero((topic == cat) & (pday <= d))
            if not len(cand_j):
                continue
            ages = (day_ms0[d] + 12 * 3600_000 - pub[cand_j]) / DAY_MS
            e_now = e_final[cand_j] * curve_fraction(h[cand_j], w[cand_j], ages)
            sc = np.log1p(np.maximum(e_now, 0)) - 0.03 * np.maximum(ages, 0) + r_brand.normal(0, 0.6, len(cand_j))
            for r_, o in enumerate(np.argsort(-sc, kind="stable")[:3], start=1):
                watch_rows.append((int(cand_j[o]), d, CATEGORY_CN[cat], r_))
    if watch_rows:
        wr = pd.DataFrame(watch_rows, columns=["note", "day", "kw", "rank"])
        wr = wr.sort_values(["day", "kw", "rank"], kind="stable").groupby(["day", "kw"]).head(3)
        wr = wr.drop_duplicates(["note", "day"])
        wts = day_ms0[wr["day"].to_numpy()] + 15 * 3600_000 + np.arange(len(wr)) % 400 * 2_000
        wnote = wr["note"].to_numpy()
        ok = wts > pub[wnote]
        wr, wts, wnote = wr[ok], wts[ok], wnote[ok]
        wfrac = curve_fraction(h[wnote], w[wnote], (wts - pub[wnote]) / DAY_MS)
        wcounts = np.round(comp_final[wnote] * wfrac[:, None]).astype("int64")
        wobs = pd.DataFrame(
            {
                "note": wnote,
                "day": wr["day"].to_numpy(),
                "folder": 2,
                "ts": wts,
                "likes": wcounts[:, 0],
                "saves": wcounts[:, 1],
                "comments": wcounts[:, 2],
                "shares": wcounts[:, 3],
                "source_keyword": wr["kw"].to_numpy(),
                "mode": "search",
            }
        )
        obs = pd.concat([obs, wobs], ignore_index=True)

    # ---------------------------------------------------------------- duplicates in the creator crawls
    base_rows = obs.index[obs["mode"] == "creator"].to_numpy()
    dup_exact = r_dirt.choice(base_rows, size=max(1, len(base_rows) // 100), replace=False)
    dup_recrawl = r_dirt.choice(np.setdiff1d(base_rows, dup_exact), size=max(1, len(base_rows) // 100), replace=False)
    ex = obs.loc[np.sort(dup_exact)].copy()
    ex["seq"] = 1
    rc = obs.loc[np.sort(dup_recrawl)].copy()
    rc["ts"] = rc["ts"] + r_dirt.integers(5, 60, len(rc)) * 60_000
    rnote = rc["note"].to_numpy()
    rfrac = curve_fraction(h[rnote], w[rnote], (rc["ts"].to_numpy() - pub[rnote]) / DAY_MS)
    rcounts = np.round(comp_final[rnote] * rfrac[:, None]).astype("int64")
    rc[["likes", "saves", "comments", "shares"]] = rcounts
    rc["seq"] = 2
    obs["seq"] = 0
    obs = pd.concat([obs, ex, rc], ignore_index=True)

    # ---------------------------------------------------------------- comments
    com_rows, com_truth = _make_comments(
        r_com,
        m=m,
        nc=nc,
        pday=pday,
        pub=pub,
        crawl_start=crawl_start,
        active=active,
        pos_in_folder=pos_in_folder,
        h=h,
        w=w,
        comp_final=comp_final,
        topic=topic,
        D=D,
        dup_creators={int(i) for i in range(n) if "duplicate_comments" in infl_kinds[i]},
        user_nick=nicknames,
        note_ids=note_ids,
        creator_ids=user_ids,
        avatars=avatar,
        sponsored=sponsored,
    )
    com_rows = _shared_audience(com_rows, locals()) if shared_audience else com_rows  # issue #26, off by default
    com_rows, com_truth, waves = _plant_negative_waves(
        seed, negative_waves, com_rows, com_truth, brand_of, note_ids, start_date
    )

    # ---------------------------------------------------------------- build per-file record lists
    files: dict[Path, dict[str, Any]] = {}
    rel_root = out / "mediacrawler"
    fmt_rng = np.random.default_rng(np.random.SeedSequence([seed, 99]))
    dd_ = np.arange(D)
    fmt_a = np.where(dd_ < 2, "json", np.where(dd_ % 8 == 1, "jsonl", "csv"))
    fmt_b = np.where(fmt_rng.random(D) < 0.06, "json", np.where(dd_ % 7 == 2, "jsonl", "csv"))
    fmt_ca = np.where(np.arange(D) % 10 == 0, "jsonl", "csv")  # creator profiles of folder a
    style_b = np.where(fmt_b == "json", "w", "exact")
    renamed_day = D // 2  # one MediaCrawler file without a date in its name (re-run)

    def note_file(f: int, d: int, mode: str) -> tuple[Path, str, str]:
        if f == 2:
            fmt = "jsonl" if (d // 7) % 2 == 0 else "csv"
            return rel_root / SEARCH_FOLDER / f"search_contents_{ds(d)}.{fmt}", fmt, "search"
        if f == 0:
            name = f"creator_contents_{ds(d)}" if d != renamed_day else "creator_contents_rerun"
            return rel_root / FOLDERS[0] / f"{name}.{fmt_a[d]}", str(fmt_a[d]), "wan"
        return rel_root / FOLDERS[1] / f"creator_contents_{ds(d)}.{fmt_b[d]}", str(fmt_b[d]), str(style_b[d])

    obs = obs.sort_values(["folder", "day", "ts", "seq", "note"], kind="stable").reset_index(drop=True)
    style_arr = np.empty(len(obs), dtype=object)
    path_arr = np.empty(len(obs), dtype=object)
    fmt_arr = np.empty(len(obs), dtype=object)
    for (f, d), idx in obs.groupby(["folder", "day"]).indices.items():
        p, fmt, st = note_file(int(f), int(d), "")
        path_arr[idx] = p
        fmt_arr[idx] = fmt
        style_arr[idx] = st
    note_idx = obs["note"].to_numpy()
    cnt_str = {}
    for col in ("likes", "saves", "comments", "shares"):
        vals = obs[col].to_numpy()
        s = vals.astype(str).astype(object)
        for st in ("wan", "w", "search"):
            sel = style_arr == st
            if sel.any():
                s[sel] = _abbrev(vals[sel], st)
        cnt_str[col] = s
    ip_note = np.where(r_dirt.random(m) < 0.5, prov[nc], "")
    records: list[dict[str, Any]] = []
    for r in range(len(obs)):
        j = int(note_idx[r])
        i = int(nc[j])
        records.append(
            {
                "note_id": note_ids[j],
                "type": str(note_type[j]),
                "title": titles[j],
                "desc": descs[j],
                "video_url": videos[j],
                "time": int(pub[j]),
                "last_update_time": int(pub[j] + edit_ms[j]),
                "user_id": user_ids[i],
                "nickname": nicknames[i],
                "avatar": avatar[i],
                "liked_count": cnt_str["likes"][r],
                "collected_count": cnt_str["saves"][r],
                "comment_count": cnt_str["comments"][r],
                "share_count": cnt_str["shares"][r],
                "ip_location": str(ip_note[j]),
                "image_list": images[j],
                "tag_list": tag_lists[j],
                "last_modify_ts": int(obs.at[r, "ts"]),
                "note_url": f"https://www.xiaohongshu.com/explore/{note_ids[j]}?xsec_token={tokens[j]}&xsec_source=pc_user",
                "source_keyword": obs.at[r, "source_keyword"],
                "xsec_token": tokens[j],
            }
        )
    for r, rec in enumerate(records):
        key = path_arr[r]
        files.setdefault(key, {"fmt": fmt_arr[r], "fields": NOTE_FIELDS, "rows": [], "kind": "notes"})["rows"].append(
            rec
        )

    cobs = cobs.sort_values(["folder", "day", "ts"], kind="stable").reset_index(drop=True)
    for (f, d), idx in cobs.groupby(["folder", "day"]).indices.items():
        f, d = int(f), int(d)
        if f == 0:
            fmt, st = str(fmt_ca[d]), "wan"
        else:
            fmt, st = str(fmt_b[d]), ("exact" if fmt_b[d] == "csv" else "w")
        sub = cobs.iloc[idx]
        fans_s = _abbrev(sub["fans"].to_numpy(), st)
        inter_s = _abbrev(sub["interaction"].to_numpy().astype("int64"), st)
        p = rel_root / FOLDERS[f] / f"creator_creator_{ds(d)}.{fmt}"
        rows = []
        for k, (ci, ts, fo) in enumerate(zip(sub["creator"], sub["ts"], sub["follows"])):
            ci = int(ci)
            rows.append(
                {
                    "user_id": user_ids[ci],
                    "nickname": nicknames[ci],
                    "gender": str(gender[ci]),
                    "avatar": avatar[ci],
                    "desc": bios[ci],
                    "ip_location": str(prov[ci]),
                    "follows": str(int(fo)),
                    "fans": fans_s[k],
                    "interaction": inter_s[k],
                    "tag_list": json.dumps(
                        {"info": None, "location": str(prov[ci]), "profession": f"{CATEGORY_CN[cats[ci]]}博主"},
                        ensure_ascii=False,
                    ),
                    "last_modify_ts": int(ts),
                }
            )
        files[p] = {"fmt": fmt, "fields": CREATOR_FIELDS, "rows": rows, "kind": "creators"}

    for (f, d), grp in com_rows.groupby(["folder", "day"]).indices.items() if len(com_rows) else []:
        f, d = int(f), int(d)
        fmt = "jsonl" if f == 0 or d % 2 == 0 else "csv"
        p = rel_root / FOLDERS[f] / f"creator_comments_{ds(d)}.{fmt}"
        sub = com_rows.iloc[grp]
        files[p] = {
            "fmt": fmt,
            "fields": COMMENT_FIELDS,
            "rows": sub[list(COMMENT_FIELDS)].to_dict("records"),
            "kind": "comments",
        }

    # ---------------------------------------------------------------- malformed records (extra corrupted copies)
    malformed = _plant_malformed(files, r_dirt, out)

    # ---------------------------------------------------------------- write mediacrawler files
    summary_files: dict[str, int] = {}
    summary_rows: dict[str, int] = {}
    for p in sorted(files):
        spec = files[p]
        _write_rows(p, spec["rows"], spec["fields"], spec["fmt"])
        summary_files[spec["kind"]] = summary_files.get(spec["kind"], 0) + 1
        summary_rows[spec["kind"]] = summary_rows.get(spec["kind"], 0) + len(spec["rows"])

    # ---------------------------------------------------------------- reference
    cat_df = pd.DataFrame([(k, c) for c in CATEGORIES for k in CATEGORY_KEYWORDS[c]], columns=["keyword", "category"])
    _write_csv(out / "reference" / "categories.csv", cat_df)
    summary_files["reference"] = 1

    # ---------------------------------------------------------------- brand files
    fee_noise = r_brand.uniform(0.9, 1.1, n)
    img_price = np.round(_fee_for(f_base, list(tiers), fee_noise), -1)
    vid_price = np.round(np.minimum(img_price * r_brand.uniform(1.2, 1.5, n), [TIER_FEE[t][1] for t in tiers]), -1)
    has_card = r_brand.random(n) < 0.85
    post_rows = []
    for j in np.flatnonzero(sponsored):
        i = int(nc[j])
        price = vid_price[i] if note_type[j] == "video" else img_price[i]
        fee = float(np.clip(np.round(price * r_brand.uniform(0.85, 1.0), -1), *TIER_FEE[tiers[i]]))
        post_rows.append(
            dict(
                campaign_id=camp_of[j],
                note_id=note_ids[j],
                user_id=user_ids[i],
                fee_cny=fee,
                posted_date=str(date(1970, 1, 1) + timedelta(days=int(_shanghai_date(pub[j])))),
            )
        )
    posts = pd.DataFrame(post_rows, columns=["campaign_id", "note_id", "user_id", "fee_cny", "posted_date"])
    posts = posts.sort_values(["campaign_id", "posted_date", "note_id"], kind="stable").reset_index(drop=True)
    season, weekly = _season(D, start_date)
    idx_rows = []
    store_rows = []
    lift_step = np.ones((len(BRANDS), D))
    store_step = np.ones((len(BRANDS), D))
    for cr in camp_rows:
        c = cr["plan"]
        lift_step[c.brand_idx, cr["start"] :] *= 1 + c.search_lift
        if c.store_lift is not None:
            store_step[c.brand_idx, cr["start"] :] *= 1 + c.store_lift
    for bi, b in enumerate(BRANDS):
        e1 = 1 + r_brand.normal(0, 0.01, D)
        e2 = 1 + r_brand.normal(0, 0.01, D)
        bv = np.round(b.search_base * season * weekly * lift_step[bi] * e1).astype(int)
        cv = np.round(b.control_base * season * weekly * e2).astype(int)
        for d in range(D):
            idx_rows.append((ds(d), b.brand, int(bv[d])))
            idx_rows.append((ds(d), b.control_keyword, int(cv[d])))
        if any(c.store_lift is not None and c.brand_idx == bi for c in CAMPAIGNS):
            sv = np.round(b.search_base * 0.4 * weekly * store_step[bi] * (1 + r_brand.normal(0, 0.02, D))).astype(int)
            store_rows += [(ds(d), b.brand, int(sv[d])) for d in range(D)]
    if brand_files:
        bdir = out / "brand"
        _write_csv(
            bdir / "brands.csv",
            pd.DataFrame(
                [(b.brand, "|".join(b.aliases), b.category, b.control_keyword) for b in BRANDS],
                columns=["brand", "aliases", "category", "control_keyword"],
            ),
        )
        camp_df = []
        for cr in camp_rows:
            c = cr["plan"]
            spend = posts.loc[posts["campaign_id"] == c.campaign_id, "fee_cny"].sum()
            camp_df.append(
                (
                    c.campaign_id,
                    BRANDS[c.brand_idx].brand,
                    c.phase,
                    ds(cr["start"]),
                    ds(cr["end"]),
                    "|".join(BRANDS[c.brand_idx].product_keywords),
                    float(np.round(spend * 1.15, -3)),
                )
            )
        _write_csv(
            bdir / "campaigns.csv",
            pd.DataFrame(
                camp_df,
                columns=["campaign_id", "brand", "phase", "start_date", "end_date", "target_keywords", "budget_cny"],
            ),
        )
        _write_csv(bdir / "campaign_posts.csv", posts)
        for d, grp in rankings.groupby("day", sort=True):
            _write_csv(bdir / f"search_rankings_{ds(int(d))}.csv", grp[["keyword", "rank", "note_id"]])
        _write_csv(bdir / "search_index.csv", pd.DataFrame(idx_rows, columns=["date", "keyword", "search_index"]))
        card = pd.DataFrame({"user_id": user_ids, "image_price_cny": img_price, "video_price_cny": vid_price})[has_card]
        _write_csv(bdir / "rate_card.csv", card.reset_index(drop=True))
        _write_csv(bdir / "store_traffic.csv", pd.DataFrame(store_rows, columns=["date", "brand", "store_visits"]))
        summary_files["brand"] = 7 + rankings["day"].nunique()
        summary_rows["search_rankings"] = len(rankings)
        summary_rows["campaign_posts"] = len(posts)

    # ---------------------------------------------------------------- truth
    tdir = out / "truth"
    tier_every_day = [",".join(sorted(set(_tiers_of(F[i])))) for i in range(n)]
    _write_csv(
        tdir / "creators.csv",
        pd.DataFrame(
            {
                "user_id": user_ids,
                "nickname": nicknames,
                "planted_tier": tiers,
                "followers_base": f_base.astype("int64"),
                "followers_last": F[:, -1],
                "tiers_seen": tier_every_day,
                "category": cats,
                "follower_growth_total": np.round(drift_total, 4),
                "er_7d_planted": np.round([TIER_ER7[t] for t in tiers] * er_factor, 5),
                "comment_to_like_planted": np.round(c2l, 5),
                "save_to_like_planted": np.round(s2l, 4),
                "is_inflated": is_infl,
                "inflation_kinds": ["|".join(k) for k in infl_kinds],
                "spike_date": [ds(s) if s >= 0 else "" for s in spike_day],
                "spike_factor": np.round(spike_factor, 4),
                "image_price_cny": img_price,
                "video_price_cny": vid_price,
                "has_rate_card": has_card,
            }
        ),
    )
    hl = planted_half_life(h, w)
    _write_csv(
        tdir / "notes.csv",
        pd.DataFrame(
            {
                "note_id": note_ids,
                "user_id": [user_ids[i] for i in nc],
                "published_ms": pub,
                "published_date": [str(date(1970, 1, 1) + timedelta(days=int(x))) for x in _shanghai_date(pub)],
                "note_type": note_type,
                "category": topic,
                "creator_category": cats[nc],
                "is_off_niche": off_niche,
                "curve": curve_kind,
                "h_days": np.round(h, 6),
                "w": np.round(w, 6),
                "e_final": np.round(e_final, 3),
                "likes_final": np.round(comp_final[:, 0], 3),
                "saves_final": np.round(comp_final[:, 1], 3),
                "comments_final": np.round(comp_final[:, 2], 3),
                "shares_final": np.round(comp_final[:, 3], 3),
                "er_7d_planted": np.round(er7, 6),
                "followers_at_7d": f7,
                "planted_half_life_days": np.round(hl, 4),
                "planted_late_share": np.round(late_share, 4),
                "is_evergreen": is_evergreen,
                "is_viral_planted": viral,
                "brand": [BRANDS[b].brand if b is not None else "" for b in brand_of],
                "campaign_id": [c or "" for c in camp_of],
                "is_sponsored": sponsored,
                "is_disclosed": disclosed,
                "has_target_keyword": has_target,
            }
        ),
    )
    _write_csv(tdir / "comments.csv", com_truth)
    _write_planted_finding(tdir, user_ids, surf_idx, flat_idx)
    if negative_waves:
        _write_csv(tdir / "negative_waves.csv", waves)
    camp_truth = []
    for cr in camp_rows:
        c = cr["plan"]
        ncr = int(posts.loc[posts["campaign_id"] == c.campaign_id, "user_id"].nunique())
        camp_truth.append(
            dict(
                campaign_id=c.campaign_id,
                brand=BRANDS[c.brand_idx].brand,
                phase=c.phase,
                start_date=ds(cr["start"]),
                end_date=ds(cr["end"]),
                planted_creators=ncr,
                density_ok=ncr >= 15,
                planted_search_lift=c.search_lift,
                planted_control_lift=0.0,
                planted_store_lift="" if c.store_lift is None else c.store_lift,
                planted_disclosure_rate=c.disclosure_rate,
            )
        )
    _write_csv(tdir / "campaigns.csv", pd.DataFrame(camp_truth))
    _write_csv(
        tdir / "fee_ranges.csv",
        pd.DataFrame(
            [(t, *TIER_FEE[t], *TIER_FOLLOWERS[t], TIER_ER7[t]) for t in TIER_NAMES],
            columns=["tier", "fee_min_cny", "fee_max_cny", "followers_min", "followers_max", "er_7d_median"],
        ),
    )
    _write_csv(
        tdir / "malformed.csv",
        pd.DataFrame(malformed, columns=["file", "record_number", "kind", "field", "value", "problem"]),
    )
    params = {
        "seed": seed,
        "creators": n,
        "days": D,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "brand_files": brand_files,
        "tier_er7_median": TIER_ER7,
        "er_creator_sigma": 0.35,
        "er_creator_clip": [0.6, 1.8],
        "er_note_sigma": 0.2,
        "er_note_clip": [0.7, 1.45],
        "sponsored_er_factor": 0.9,
        "off_niche_er_factor": 0.85,
        "viral_share": 0.03,
        "viral_factor": [6.0, 15.0],
        "curve": "E(t)=E_final*(w*(1-2^(-t/h))+(1-w)*min(t/100,1))",
        "evergreen_threshold": 0.25,
        "max_crawl_age_days": MAX_CRAWL_AGE_DAYS,
        "crawler_days": {FOLDERS[0]: [ds(0), ds(handover + 2)], FOLDERS[1]: [ds(handover), ds(D - 1)]},
        "missed_days": {FOLDERS[1]: [ds(d) for d in sorted(missed)]},
        "late_crawl_days": {FOLDERS[1]: sorted(ds(d) for d in late_days)},
        "renamed_file": str((rel_root / FOLDERS[0] / f"creator_contents_rerun.{fmt_a[renamed_day]}").relative_to(out)),
        "duplicates": {
            "exact_same_file": int(len(ex)),
            "recrawl_same_file": int(len(rc)),
            "keyword_watch_rows": int((obs["mode"] == "search").sum()),
        },
        "like_drops": int(n_drops),
        "abbreviation": {
            FOLDERS[0]: "wan (>=10000 -> 1.2万)",
            FOLDERS[1]: "exact in csv, w (2.3w) in json",
            SEARCH_FOLDER: "search (10万+ for >= 100000, 1.2k for 1000-9999, 万 between)",
        },
        "keywords_ranked": [k for k, _, _ in kw_list],
    }
    (tdir / "params.json").write_text(
        json.dumps(params, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    summary_rows["notes_distinct"] = m
    summary_rows["creators_distinct"] = n
    return {
        "out": str(out),
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat(),
        "files": dict(sorted(summary_files.items())),
        "rows": dict(sorted(summary_rows.items())),
        "malformed": len(malformed),
    }


def _shared_audience(com_rows: pd.DataFrame, world: dict[str, Any]) -> pd.DataFrame:
    """The shared-audience plant (kol_pipeline/lib/simulate_audience.py) on the world simulate() has built."""
    from kol_pipeline.lib.simulate_audience import plant_shared_audience  # it reads this module's vocabulary

    names = ("seed", "out", "D", "nc", "pday", "pub", "topic", "brand_of", "note_ids", "user_ids", "nicknames")
    names += ("cats", "crawl_start", "active", "pos_in_folder")
    return plant_shared_audience(com_rows, **{k: world[k] for k in names})


FLAT_SPONSORED_FACTOR = 0.4  # planted "flat sponsored" creators: their sponsored notes' er_7d x this
SURFACING_BOOST = 25.0  # planted search-surfacing creators: added to their notes' ranking score (log scale)


def _plant_flat_sponsored(
    er7: np.ndarray, k: int, seed: int, nc: np.ndarray, sponsored: np.ndarray, pday: np.ndarray, D: int
) -> tuple[np.ndarray, np.ndarray]:
    """Issue #26: ``k`` creators whose audience engages less with their paid posts: among the creators with at least
    2 sponsored and 2 organic notes published in the scorecard's last 90-day window and at least 10 days before the
    end (their er_7d is known then), ``k`` at random (a stream of their own), their sponsored notes' er_7d x
    FLAT_SPONSORED_FACTOR. Returns (er7, the planted creators' indices)."""
    if k <= 0:
        return er7, np.array([], dtype=int)
    n = int(nc.max()) + 1 if len(nc) else 0
    window = (pday >= D - 90) & (pday <= D - 11)
    n_sp = np.bincount(nc[window & sponsored], minlength=n)
    n_org = np.bincount(nc[window & ~sponsored], minlength=n)
    eligible = np.flatnonzero((n_sp >= 2) & (n_org >= 2))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 26, 1]))
    chosen = np.sort(rng.choice(eligible, size=min(k, len(eligible)), replace=False))
    return er7 * np.where(np.isin(nc, chosen) & sponsored, FLAT_SPONSORED_FACTOR, 1.0), chosen


def _plant_search_surfacing(
    k: int, seed: int, cats: np.ndarray, nc: np.ndarray, topic: np.ndarray, pday: np.ndarray, D: int
) -> tuple[np.ndarray, np.ndarray]:
    """Issue #26: ``k`` creators whose notes rank for their category's keywords: among the creators of a category
    whose keywords search_rankings tracks (the campaign brands' categories), the ``k`` with the most notes published
    31 days or more before the end (at least 2: they can rank on every day of the last 30; ties at random, a stream
    of their own); every note of theirs is a result of each tracked keyword of their category (the
    category word and its brands' target keywords) and gets SURFACING_BOOST on its ranking score, so it ranks first.
    Returns (the boost per note, the planted creators' indices)."""
    boost = np.zeros(len(nc))
    if k <= 0:
        return boost, np.array([], dtype=int)
    tracked = {BRANDS[c.brand_idx].category for c in CAMPAIGNS}
    n = len(cats)
    n_old = np.bincount(nc[pday <= D - 32], minlength=n)  # notes that can rank on each of the last 30 days
    eligible = np.flatnonzero(np.isin(cats, sorted(tracked)) & (n_old >= 2))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 26, 2]))
    order = np.lexsort((rng.random(len(eligible)), -n_old[eligible]))  # the most such notes first, ties at random
    chosen = np.sort(eligible[order[:k]])
    boost[np.isin(nc, chosen)] = SURFACING_BOOST
    return boost, chosen


def _write_planted_finding(tdir: Path, user_ids: Sequence[str], surfacing: np.ndarray, flat: np.ndarray) -> None:
    """truth/planted_finding.csv (user_id, plant), only when something is planted (the bundled sample has none)."""
    rows = [(user_ids[i], "search_surfacing") for i in surfacing] + [(user_ids[i], "flat_sponsored") for i in flat]
    if rows:
        _write_csv(tdir / "planted_finding.csv", pd.DataFrame(rows, columns=["user_id", "plant"]))


def _tiers_of(f: np.ndarray) -> list[str]:
    idx = np.searchsorted(np.array([10_000, 100_000, 500_000, 1_000_000]), f, side="right")
    return [TIER_NAMES[int(i)] for i in np.unique(idx)]


def _season(D: int, start: date) -> tuple[np.ndarray, np.ndarray]:
    """Shared seasonal and weekly factors of brand and control search terms: a slow wave, 38 (Mar 8) and 618
    (Jun 1-18) shopping festival bumps, weekends +8 %."""
    dates = [start + timedelta(days=d) for d in range(D)]
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    season = 1 + 0.08 * np.sin(2 * np.pi * doy / 365.0)
    for dt_i, dt in enumerate(dates):
        if dt.month == 3 and 3 <= dt.day <= 8:
            season[dt_i] *= 1.12
        if dt.month == 6 and dt.day <= 18:
            season[dt_i] *= 1 + 0.25 * dt.day / 18
    weekly = np.array([1.08 if d.weekday() >= 5 else 1.0 for d in dates])
    return season, weekly


def _make_comments(
    rng: np.random.Generator,
    *,
    m: int,
    nc: np.ndarray,
    pday: np.ndarray,
    pub: np.ndarray,
    crawl_start: np.ndarray,
    active: np.ndarray,
    pos_in_folder: np.ndarray,
    h: np.ndarray,
    w: np.ndarray,
    comp_final: np.ndarray,
    topic: np.ndarray,
    D: int,
    dup_creators: set[int],
    user_nick: list[str],
    note_ids: list[str],
    creator_ids: list[str],
    avatars: list[str],
    sponsored: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Comment rows: each note's comments are crawled once, on the first comment day (every third day of its
    folder) at least 1 day after publication; up to 3-8 comments (15 for duplicate-comment accounts)."""
    rows = []
    truth = []
    classes = list(COMMENT_CLASS_P)
    probs = np.array([COMMENT_CLASS_P[c] for c in classes])
    nick_pool = [a + b for a in NICK_HEADS for b in NICK_TAILS]
    for j in range(m):
        d = int(pday[j]) + 1
        while d < D and (d % 3 != 0 or not active[:, d].any()):
            d += 1
        if d >= D:
            continue
        f = 0 if active[0, d] else 1
        ts = int(crawl_start[f, d] + pos_in_folder[nc[j]] * CREATOR_GAP_MS + 15_000)
        age = (ts - pub[j]) / DAY_MS
        if age <= 0:
            continue
        n_now = int(round(comp_final[j, 2] * float(curve_fraction(h[j], w[j], age))))
        dup = int(nc[j]) in dup_creators
        cap = 15 if dup else int(rng.integers(2, 7))
        k = min(n_now, cap)
        if k <= 0:
            continue
        n_rep = min(int(rng.binomial(k, 0.15)), k // 2) if k >= 3 else 0
        n_top = k - n_rep
        ct = pub[j] + np.sort((rng.random(n_top) ** 2) * (ts - pub[j]) * 0.95).astype("int64") + 1000
        top_ids = []
        kws = CATEGORY_KEYWORDS[topic[j]]
        for q in range(n_top):
            if dup and rng.random() < 0.6:
                text, cls, is_dup = DUPLICATE_POOL[int(rng.integers(len(DUPLICATE_POOL)))], "other", True
                if rng.random() < 0.3:
                    text += EMOJI[int(rng.integers(len(EMOJI)))]
            else:
                cls = (
                    classes[int(rng.choice(len(classes), p=probs))]
                    if not sponsored[j] or rng.random() > 0.15
                    else "purchase_intent"
                )
                text, is_dup = _comment_text(rng, cls, kws, nick_pool), False
            cid = f"{int(ct[q] // 1000):08x}" + "".join(_hex(rng, 1, 16))
            top_ids.append((cid, int(ct[q])))
            uid = "".join(_hex(rng, 1, 24))
            rows.append(
                dict(
                    comment_id=cid,
                    create_time=int(ct[q]),
                    ip_location=PROVINCES[int(rng.integers(len(PROVINCES)))],
                    note_id=note_ids[j],
                    content=text,
                    user_id=uid,
                    nickname=nick_pool[int(rng.integers(len(nick_pool)))] + str(int(rng.integers(10, 9999))),
                    avatar="https://sns-avatar-qc.xhscdn.com/avatar/" + "".join(_hex(rng, 1, 20)) + ".jpg",
                    sub_comment_count="0",
                    pictures="",
                    parent_comment_id="0" if rng.random() < 0.7 else "",
                    last_modify_ts=ts + q * 150,
                    like_count=str(int(rng.geometric(0.3)) - 1),
                    folder=f,
                    day=d,
                )
            )
            truth.append((cid, note_ids[j], cls, is_dup, "", creator_ids[int(nc[j])]))
        sub_counts: dict[str, int] = {}
        for q in range(n_rep):
            pid, pct = top_ids[int(rng.integers(len(top_ids)))]
            rct = pct + int(rng.integers(60_000, max(60_001, ts - pct)))
            rct = min(rct, ts - 1000)
            by_author = rng.random() < 0.6
            if by_author:
                text, cls = AUTHOR_REPLIES[int(rng.integers(len(AUTHOR_REPLIES)))]
                text = text.format(kw=kws[int(rng.integers(len(kws)))])
                uid, nick, av = creator_ids[int(nc[j])], user_nick[int(nc[j])], avatars[int(nc[j])]
            else:
                cls = "experience" if rng.random() < 0.5 else "question"
                text = _comment_text(rng, cls, kws, nick_pool)
                uid = "".join(_hex(rng, 1, 24))
                nick = nick_pool[int(rng.integers(len(nick_pool)))] + str(int(rng.integers(10, 9999)))
                av = "https://sns-avatar-qc.xhscdn.com/avatar/" + "".join(_hex(rng, 1, 20)) + ".jpg"
            cid = f"{int(rct // 1000):08x}" + "".join(_hex(rng, 1, 16))
            sub_counts[pid] = sub_counts.get(pid, 0) + 1
            rows.append(
                dict(
                    comment_id=cid,
                    create_time=int(rct),
                    ip_location=PROVINCES[int(rng.integers(len(PROVINCES)))],
                    note_id=note_ids[j],
                    content=text,
                    user_id=uid,
                    nickname=nick,
                    avatar=av,
                    sub_comment_count="0",
                    pictures="",
                    parent_comment_id=pid,
                    last_modify_ts=ts + (n_top + q) * 150,
                    like_count=str(int(rng.geometric(0.5)) - 1),
                    folder=f,
                    day=d,
                )
            )
            truth.append((cid, note_ids[j], cls, False, pid, creator_ids[int(nc[j])]))
        for r in rows[-k:]:
            if r["comment_id"] in sub_counts:
                r["sub_comment_count"] = str(sub_counts[r["comment_id"]])
    df = pd.DataFrame(rows, columns=list(COMMENT_FIELDS) + ["folder", "day"])
    df = df.sort_values(["folder", "day", "last_modify_ts"], kind="stable").reset_index(drop=True)
    tdf = pd.DataFrame(
        truth,
        columns=[
            "comment_id",
            "note_id",
            "planted_class",
            "is_planted_duplicate",
            "parent_comment_id",
            "note_author_id",
        ],
    )
    return df, tdf


# Negative top-level comments of a planted negative wave (issue #26): each has a negative word of the lexicon's
# "sentiment" lists and the comment class given beside it under the contract's ordered rules (tested).
NEGATIVE_WAVE_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("用了{n}天就过敏了，失望", "experience"),
    ("亲测{kw}翻车了，不推荐", "experience"),
    ("用过{n}次，烂脸了，后悔", "experience"),
    ("{kw}踩雷了，大家避雷", "other"),
    ("不推荐，差评，智商税", "other"),
    ("这次的{kw}真的难用，不值", "other"),
)
NEGATIVE_WAVE_DAYS = 14
NEGATIVE_WAVE_MIN_COMMENTS = 3  # top-level comments a wave note gets at least (note_metrics' NSR needs 3)


def _plant_negative_waves(
    seed: int,
    waves: int,
    rows: pd.DataFrame,
    truth: pd.DataFrame,
    brand_of: Sequence[int | None],
    note_ids: Sequence[str],
    start_date: date,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Negative comment waves on products: for each of the ``waves`` brands with the most commented mentioning
    notes, a window of NEGATIVE_WAVE_DAYS days around the median comment crawl day of those notes; every
    mentioning note whose comments are crawled in the window gets only negative top-level comments (its top-level
    texts replaced by NEGATIVE_WAVE_TEMPLATES, and comments added up to NEGATIVE_WAVE_MIN_COMMENTS), so its NSR
    is -1. Replies are left as they are. A random stream of its own: with ``waves`` = 0 nothing changes.
    Returns (rows, truth with the new classes, the waves: note_id, brand, wave_start, wave_end, top_level_comments)."""
    cols = ["note_id", "brand", "wave_start", "wave_end", "top_level_comments"]
    if waves <= 0 or len(rows) == 0:
        return rows, truth, pd.DataFrame(columns=cols)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 26]))
    brand_by_note = {note_ids[j]: b for j, b in enumerate(brand_of) if b is not None}
    note_day = rows.groupby("note_id", sort=True)["day"].min()
    mention = note_day[[x in brand_by_note for x in note_day.index]]
    brand_of_mention = np.array([brand_by_note[x] for x in mention.index], dtype="int64")
    counts = pd.Series(brand_of_mention).value_counts(sort=False).sort_index()
    order = counts.sort_values(ascending=False, kind="stable").index[:waves]
    rows = rows.copy()
    truth = truth.copy()
    truth_row = {cid: i for i, cid in enumerate(truth["comment_id"])}
    top = rows["parent_comment_id"].isin(["0", ""]).to_numpy()
    added_rows: list[dict[str, Any]] = []
    added_truth: list[dict[str, Any]] = []
    out = []

    def negative(kws: Sequence[str]) -> tuple[str, str]:
        tpl, cls = NEGATIVE_WAVE_TEMPLATES[int(rng.integers(len(NEGATIVE_WAVE_TEMPLATES)))]
        return tpl.format(n=int(rng.integers(2, 10)), kw=kws[int(rng.integers(len(kws)))]), cls

    for b in order:
        days = mention[brand_of_mention == b]
        lo = int(np.median(days.to_numpy())) - NEGATIVE_WAVE_DAYS // 2
        hi = lo + NEGATIVE_WAVE_DAYS - 1
        kws = CATEGORY_KEYWORDS[BRANDS[int(b)].category]
        for nid in days.index[((days >= lo) & (days <= hi)).to_numpy()]:
            own = np.flatnonzero((rows["note_id"] == nid).to_numpy() & top)
            if len(own) == 0:
                continue
            for i in own:
                text, cls = negative(kws)
                rows.iloc[i, rows.columns.get_loc("content")] = text
                t = truth_row[rows.iloc[i]["comment_id"]]
                truth.iloc[t, truth.columns.get_loc("planted_class")] = cls
                truth.iloc[t, truth.columns.get_loc("is_planted_duplicate")] = False
            last = rows.iloc[own[-1]]
            for k in range(NEGATIVE_WAVE_MIN_COMMENTS - len(own)):
                r = last.to_dict()
                ct = int(last["create_time"]) - int(rng.integers(1, 900))  # still after the publish time
                r["comment_id"] = f"{ct // 1000:08x}" + "".join(_hex(rng, 1, 16))
                r["create_time"] = ct
                r["user_id"] = "".join(_hex(rng, 1, 24))
                r["sub_comment_count"] = "0"
                r["last_modify_ts"] = int(last["last_modify_ts"]) + 50 * (k + 1)
                r["content"], cls = negative(kws)
                added_rows.append(r)
                tr = truth.iloc[truth_row[last["comment_id"]]].to_dict()
                added_truth.append(
                    {**tr, "comment_id": r["comment_id"], "planted_class": cls, "is_planted_duplicate": False}
                )
            out.append(
                (
                    nid,
                    BRANDS[int(b)].brand,
                    (start_date + timedelta(days=lo)).isoformat(),
                    (start_date + timedelta(days=hi)).isoformat(),
                    max(len(own), NEGATIVE_WAVE_MIN_COMMENTS),
                )
            )
    if added_rows:
        rows = pd.concat([rows, pd.DataFrame(added_rows, columns=rows.columns)], ignore_index=True)
        rows = rows.sort_values(["folder", "day", "last_modify_ts"], kind="stable").reset_index(drop=True)
        truth = pd.concat([truth, pd.DataFrame(added_truth, columns=truth.columns)], ignore_index=True)
    return rows, truth, pd.DataFrame(out, columns=cols)


def _comment_text(rng: np.random.Generator, cls: str, kws: Sequence[str], nick_pool: Sequence[str]) -> str:
    tpl = COMMENT_TEMPLATES[cls][int(rng.integers(len(COMMENT_TEMPLATES[cls])))]
    text = tpl.format(
        kw=kws[int(rng.integers(len(kws)))],
        n=int(rng.integers(2, 10)),
        name=nick_pool[int(rng.integers(len(nick_pool)))],
        name2=nick_pool[int(rng.integers(len(nick_pool)))],
        eff=EXPERIENCE_EFFECTS[int(rng.integers(len(EXPERIENCE_EFFECTS)))],
    )
    if cls in ("purchase_intent", "question", "experience", "other") and rng.random() < 0.5:
        text = COMMENT_PREFIXES[int(rng.integers(len(COMMENT_PREFIXES)))] + text
    if cls in ("purchase_intent", "experience", "other"):
        text += PARTICLES[int(rng.integers(len(PARTICLES)))]
    if cls == "low_effort" and rng.random() < 0.15:
        return "".join(EMOJI[int(rng.integers(len(EMOJI)))] for _ in range(int(rng.integers(1, 3))))
    if cls == "question" and rng.random() < 0.6:
        text += "？" if rng.random() < 0.7 else "?"
    tail = rng.random()
    if tail < 0.35:
        text += EMOJI[int(rng.integers(len(EMOJI)))]
    elif tail < 0.5:
        text += "～"
    return text


def _plant_malformed(files: dict[Path, dict[str, Any]], rng: np.random.Generator, out: Path) -> list[tuple]:
    """Insert corrupted copies of existing records (the originals stay); returns the list for truth/malformed.csv
    with 1-based record numbers (CSV: data row after the header; JSON: array position; JSONL: line)."""
    by_kind: dict[str, list[Path]] = {}
    for p in sorted(files):
        by_kind.setdefault(files[p]["kind"], []).append(p)
    plan = [
        ("notes", "liked_count", "abc", "non-numeric count"),
        ("notes", "comment_count", "-5", "negative count"),
        ("notes", "note_id", "", "missing note_id (empty)"),
        ("notes", "note_id", None, "missing note_id (key absent)"),
        ("notes", "time", "after", "publish time after crawl time"),
        ("comments", "note_id", "", "missing note_id"),
        ("comments", "like_count", "abc", "non-numeric count"),
        ("creators", "fans", "-5", "negative count"),
        ("creators", "user_id", "", "missing user_id"),
    ]
    planted: list[tuple[Path, int, tuple]] = []
    used: set[Path] = set()
    for kind, field, value, problem in plan:
        cands = [p for p in by_kind.get(kind, []) if p not in used and files[p]["rows"]]
        if value is None:  # key absent: JSON formats only
            cands = [p for p in cands if files[p]["fmt"] != "csv"]
        if not cands:
            continue
        p = cands[int(rng.integers(len(cands)))]
        used.add(p)
        rows = files[p]["rows"]
        src = int(rng.integers(len(rows)))
        bad = dict(rows[src])
        if value is None:
            del bad[field]
            shown = "<absent>"
        elif value == "after":
            bad["time"] = int(bad["last_modify_ts"]) + 3 * DAY_MS
            shown = str(bad["time"])
        else:
            bad[field] = value
            shown = value
        rows.insert(src + 1, bad)
        planted.append((p, src + 1, (kind, field, shown, problem)))
    result = []
    for p, pos0, (kind, field, shown, problem) in planted:
        result.append((str(p.relative_to(out)), pos0 + 1, kind, field, shown, problem))
    return sorted(result)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python -m kol_pipeline.lib.simulate --creators 80 --days 130 --seed 7 --out DIR"""
    ap = argparse.ArgumentParser(prog="kol-pipeline simulate", description=main.__doc__)
    ap.add_argument("--creators", type=int, default=80)
    ap.add_argument("--days", type=int, default=130)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--end-date", type=date.fromisoformat, default=date(2025, 6, 30))
    ap.add_argument("--no-brand-files", action="store_true", help="write only mediacrawler/ and reference/")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--shared-audience", action="store_true", help="plant commenters shared with brands' notes")
    a = ap.parse_args(argv)
    s = simulate(
        a.out,
        creators=a.creators,
        days=a.days,
        seed=a.seed,
        end_date=a.end_date,
        brand_files=not a.no_brand_files,
        shared_audience=a.shared_audience,
    )
    print(json.dumps(s, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
