"""The simulator's fixed vocabulary: categories and their keywords, the filler words of titles, descriptions,
nicknames and comments, the creator tiers (share, follower range, planted er_7d median, fee range), the brands and
campaign plans, the crawl schedule's constants and the MediaCrawler field lists. It is data of the simulation:
the pipeline reads reference/categories.csv, never this module.
"""

from __future__ import annotations

from dataclasses import dataclass

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
