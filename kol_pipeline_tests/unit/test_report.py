"""The daily HTML report (kol_pipeline.lib.reporting.report) from hand-built mart frames."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pandas as pd
import pytest

from kol_pipeline.lib.reporting import report
from kol_pipeline.lib.schemas import (
    BRAND_AUDIENCE_AFFINITY,
    BRAND_SEARCH_LIFT,
    CAMPAIGN_PERFORMANCE,
    CREATOR_SCORECARD,
    CREATOR_SHORTLIST,
    KEYWORD_SHARE_OF_VOICE,
    QUARANTINE,
    TIER_BENCHMARKS,
    TIER_COMPARISON,
)

D = date(2025, 3, 10)
EVIL = "<script>alert('x')</script>Brand"
TIERS = ("nano", "micro", "mid", "macro", "top")
CJK_NICKNAME = "小鹿的护肤日记"  # a nickname the report must draw with glyphs (test_report_browser.py)


def _frame(spec, rows: list[dict]) -> pd.DataFrame:
    """Rows with the spec's columns (missing ones null)."""
    return pd.DataFrame([{c: r.get(c) for c in spec.column_names} for r in rows], columns=spec.column_names)


def _tier_rows(day: date, campaign_id: str, brand: str, values: dict[str, dict]) -> list[dict]:
    out = []
    for t in TIERS:
        v = {
            "notes": 0,
            "spend_cny": 0.0,
            "engagements": 0.0,
            "saves": 0.0,
            "spend_share": 0.0,
            "engagement_share": 0.0,
            "save_share": 0.0,
            "brand_results": 0,
            "sov_contribution": 0.0,
        } | values.get(t, {})
        out.append({"snapshot_date": day, "campaign_id": campaign_id, "brand": brand, "tier": t, **v})
    return out


def sample_frames(day: date = D) -> dict[str, pd.DataFrame]:
    """One day of hand-built marts: micro 12,300 CNY for 10,000 engagements (CPE 1.23), top 17,000 for 5,000."""
    micro = {
        "notes": 12,
        "spend_cny": 12300.0,
        "engagements": 10000.0,
        "saves": 2000.0,
        "spend_share": 12300 / 29300,
        "engagement_share": 10000 / 15000,
        "save_share": 2000 / 2500,
        "cpe_cny": 1.23,
        "cost_per_save_cny": 6.15,
        "brand_results": 6,
        "sov_contribution": 0.75,
    }
    top = {
        "notes": 2,
        "spend_cny": 17000.0,
        "engagements": 5000.0,
        "saves": 500.0,
        "spend_share": 17000 / 29300,
        "engagement_share": 5000 / 15000,
        "save_share": 500 / 2500,
        "cpe_cny": 3.4,
        "cost_per_save_cny": 34.0,
        "brand_results": 2,
        "sov_contribution": 0.25,
    }
    tc = _frame(
        TIER_COMPARISON,
        _tier_rows(day, "all", "all", {"micro": micro, "top": top})
        + _tier_rows(day, "all", EVIL, {"micro": micro, "top": top})
        + _tier_rows(day, "C1", EVIL, {"micro": micro, "top": top})
        # another day: must not appear
        + _tier_rows(day - timedelta(days=1), "all", "all", {"micro": {**micro, "cpe_cny": 9.87}}),
    )
    cp = _frame(
        CAMPAIGN_PERFORMANCE,
        [
            {
                "snapshot_date": day,
                "campaign_id": "C1",
                "brand": EVIL,
                "phase": "launch",
                "tier": "all",
                "creators": 14,
                "notes": 14,
                "spend_cny": 29300.0,
                "engagements": 15000.0,
                "saves": 2500.0,
                "cpe_cny": 29300 / 15000,
                "cost_per_save_cny": 29300 / 2500,
                "keyword_coverage": 0.5,
                "disclosure_rate": 0.875,
                "density_ok": False,
            },
            {
                "snapshot_date": day,
                "campaign_id": "C1",
                "brand": EVIL,
                "phase": "launch",
                "tier": "micro",
                "creators": 12,
                "notes": 12,
                "spend_cny": 12300.0,
                "engagements": 10000.0,
                "saves": 2000.0,
                "cpe_cny": 1.23,
            },
        ],
    )
    sov_rows = []
    # day D: k1 5/20, k2 3/20 -> pooled 8/40 = 20.0 %; D-1: 4/40 = 10.0 %; D-30 is outside the 30 days shown
    for d, (b1, b2) in {day: (5, 3), day - timedelta(days=1): (2, 2), day - timedelta(days=30): (20, 20)}.items():
        for kw, br in (("k1", b1), ("k2", b2)):
            sov_rows.append(
                {
                    "snapshot_date": d,
                    "keyword": kw,
                    "brand": EVIL,
                    "results": 20,
                    "brand_results": br,
                    "share_of_voice": br / 20,
                }
            )
            sov_rows.append(
                {
                    "snapshot_date": d,
                    "keyword": kw,
                    "brand": "BrandB",
                    "results": 20,
                    "brand_results": 1,
                    "share_of_voice": 1 / 20,
                }
            )
    sov = _frame(KEYWORD_SHARE_OF_VOICE, sov_rows)
    lift = _frame(
        BRAND_SEARCH_LIFT,
        [
            {
                "campaign_id": "C1",
                "brand": EVIL,
                "keyword": EVIL,
                "launch_date": day - timedelta(days=40),
                "pre_mean": 100.0,
                "post_mean": 125.0,
                "lift": 0.25,
                "control_keyword": "面霜",
                "control_lift": 0.05,
                "adjusted_lift": 1.25 / 1.05 - 1,
                "pre_days": 28,
                "post_days": 28,
                "control_pre_days": 28,
                "control_post_days": 28,
            },
            {
                "campaign_id": "C2",
                "brand": "BrandB",
                "keyword": "BrandB",
                "launch_date": day - timedelta(days=5),
                "pre_mean": 80.0,
                "post_mean": None,
                "lift": None,
                "control_keyword": None,
                "control_lift": None,
                "adjusted_lift": None,
                "pre_days": 28,
                "post_days": 6,
            },
            {
                "campaign_id": "C3-future",
                "brand": "BrandB",
                "keyword": "BrandB",
                "launch_date": day + timedelta(days=3),
                "pre_days": 28,
                "post_days": 0,
            },
        ],
    )
    sl = _frame(
        CREATOR_SHORTLIST,
        [
            {
                "snapshot_date": day,
                "brand": EVIL,
                "rank": i,
                "user_id": f"u{i}",
                "nickname": f"creator{i:02d}",
                "tier": "micro",
                "primary_category": "beauty",
                "score": 1 - i / 100,
                "median_er_7d": 0.07,
                "est_cpe_cny": 0.85,
                "followers": 52300,
                "reasons": f"er_7d 7.0% (tier median 4.5%); score {1 - i / 100:.3f}",
            }
            for i in range(1, 13)
        ],
    )
    bench = _frame(
        TIER_BENCHMARKS,
        [
            {
                "snapshot_date": day,
                "tier": "micro",
                "category": "all",
                "creators": 40,
                "er_7d_p25": 0.03,
                "er_7d_median": 0.045,
                "er_7d_p75": 0.06,
                "est_cpe_cny_p25": 0.5,
                "est_cpe_cny_median": 0.8,
                "est_cpe_cny_p75": 1.5,
                "half_life_days_median": 3.4,
            },
            {"snapshot_date": day, "tier": "micro", "category": "beauty", "creators": 10, "est_cpe_cny_median": 99.0},
        ],
    )
    q = _frame(
        QUARANTINE,
        [
            {
                "source": "notes",
                "source_file": "a.json",
                "record_number": 1,
                "reason": "bad count",
                "snapshot_date": day,
            },
            {
                "source": "notes",
                "source_file": "b.json",
                "record_number": 7,
                "reason": "bad count",
                "snapshot_date": day,
            },
            {
                "source": "notes",
                "source_file": "a.json",
                "record_number": 9,
                "reason": "missing note_id",
                "snapshot_date": day,
            },
            {
                "source": "notes",
                "source_file": "a.json",
                "record_number": 2,
                "reason": "old reason",
                "snapshot_date": day - timedelta(days=1),
            },
        ],
    )
    # the audience section: EVIL's top 12 by affinity (10 shown), BrandB's one; a11 has no scorecard row
    aff = _frame(
        BRAND_AUDIENCE_AFFINITY,
        [
            {
                "snapshot_date": day,
                "brand": EVIL,
                "user_id": f"a{i}",
                "nickname": CJK_NICKNAME if i == 1 else f"fan{i:02d}",
                "tier": "micro" if i % 2 else "nano",
                "primary_category": "beauty",
                "commenters_90d": 40,
                "shared_commenters": 40 - 2 * i,
                "affinity": (40 - 2 * i) / 40,
                "mentions_brand": i == 2,
                "rank_in_brand": i,
            }
            for i in range(1, 13)
        ]
        + [
            {
                "snapshot_date": day,
                "brand": "BrandB",
                "user_id": "a11",
                "tier": None,
                "commenters_90d": 25,
                "shared_commenters": 1,
                "affinity": 0.04,
                "mentions_brand": False,
                "rank_in_brand": 1,
            }
        ],
    )
    sc = _frame(CREATOR_SCORECARD, [{"snapshot_date": day, "user_id": f"a{i}", "tier": "micro"} for i in range(1, 11)])
    # issue #26's scorecard column (another part of the issue adds it to the registry): 3 x i results in 30 days
    sc["search_appearances_30d"] = pd.array([3 * i for i in range(1, 11)], dtype="Int64")
    return {
        "tier_comparison": tc,
        "campaign_performance": cp,
        "keyword_share_of_voice_history": sov,
        "brand_search_lift": lift,
        "creator_shortlist": sl,
        "tier_benchmarks": bench,
        "quarantine": q,
        "brand_audience_affinity": aff,
        "creator_scorecard": sc,
    }


def render_sample(day: date = D, failed_checks: list[str] | None = None) -> str:
    return report.render_report(day, **sample_frames(day), failed_checks=failed_checks)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.headings: list[str] = []
        self._in_heading = 0
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag in ("h1", "h2", "h3"):
            self._in_heading += 1
            self.headings.append("")
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3"):
            self._in_heading -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in_heading:
            self.headings[-1] += data
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> _Collect:
    p = _Collect()
    p.feed(page)
    p.close()
    return p


def _section(page: str, anchor: str) -> str:
    m = re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)
    assert m, anchor
    return m.group(1)


def test_headings_present_in_order():
    p = parse(render_sample())
    h2 = [h for h in p.headings if h in {t for _, t in report.SECTIONS}]
    assert h2 == [
        "Tier comparison",
        "Campaigns",
        "Cost per engagement and per save by tier",
        "Share of voice over time",
        "Brand search lift",
        "Creator shortlist",
        "Creators your audience already follows",
        "Data quality",
    ]
    assert p.headings[0] == f"KOL report — {D}"


def test_numbers_formatted_for_marketers():
    page = render_sample()
    tier = parse(_section(page, "tier-comparison")).cells
    # overall micro row of day D (not the 9.87 of the day before)
    i = tier.index("micro")
    assert tier[i : i + 9] == ["micro", "12", "¥12,300", "42.0 %", "66.7 %", "80.0 %", "¥1.23", "¥6.15", "75.0 %"]
    j = tier.index("nano")
    assert tier[j : j + 9] == ["nano", "0", "¥0", "0.0 %", "0.0 %", "0.0 %", "n/a", "n/a", "0.0 %"]
    assert "¥9.87" not in page
    # KPI: all spend / all engagements = 29,300 / 15,000
    assert "¥29,300" in page and "15,000" in page and "¥1.95" in page
    camp = parse(_section(page, "campaigns")).cells
    k = camp.index("C1")
    assert camp[k : k + 12] == [
        "C1",
        EVIL,
        "launch",
        "14",
        "14",
        "¥29,300",
        "15,000",
        "¥1.95",
        "¥11.72",
        "50.0 %",
        "87.5 %",
        "no",
    ]
    cost = parse(_section(page, "cost-by-tier")).cells
    b = cost.index(EVIL)
    assert cost[b + 2] == "¥1.23 / ¥6.15" and cost[b + 5] == "¥3.40 / ¥34.00" and cost[b + 1] == "n/a / n/a"
    m = len(cost) - 1 - cost[::-1].index("micro")  # the benchmark table comes last
    assert cost[m : m + 7] == ["micro", "40", "4.50 %", "3.00 % – 6.00 %", "¥0.80", "¥0.50 – ¥1.50", "3.4 d"]
    assert "¥99.00" not in page  # only category `all` benchmarks


def test_share_of_voice_pooled_over_keywords_and_window():
    pooled = report.brand_share_of_voice(sample_frames()["keyword_share_of_voice_history"], D)
    evil = pooled[pooled["brand"] == EVIL].set_index("snapshot_date")["share_of_voice"]
    assert evil.to_dict() == {D - timedelta(days=1): pytest.approx(0.10), D: pytest.approx(0.20)}  # D-30 left out
    cells = parse(_section(render_sample(), "share-of-voice")).cells
    e = cells.index(EVIL)
    assert cells[e : e + 5] == [EVIL, "20.0 %", "8", "15.0 %", "k1 (25.0 %)"]
    b = cells.index("BrandB")
    assert cells[b : b + 4] == ["BrandB", "5.0 %", "2", "5.0 %"]


def test_search_lift_table_and_null_reasons():
    cells = parse(_section(render_sample(), "search-lift")).cells
    c1 = cells.index("C1")
    assert cells[c1 : c1 + 9] == [
        "C1",
        EVIL,
        str(D - timedelta(days=40)),
        "100.0",
        "125.0",
        "+25.0 %",
        "面霜",
        "+5.0 %",
        "+19.0 %",
    ]
    c2 = cells.index("C2")
    assert cells[c2 + 5] == "n/a (fewer than 21 days)"
    assert cells[c2 + 7] == cells[c2 + 8] == "n/a (no control keyword)"
    assert "C3-future" not in cells


def test_shortlist_top_ten_with_reasons():
    sec = _section(render_sample(), "shortlist")
    cells = parse(sec).cells
    assert "creator10 (u10)" in cells and "creator11 (u11)" not in cells
    r1 = cells.index("creator01 (u1)")
    assert cells[r1 - 1 : r1 + 6] == [
        "1",
        "creator01 (u1)",
        "52,300",
        "0.990",
        "7.0 %",
        "¥0.85",
        "er_7d 7.0% (tier median 4.5%); score 0.990",
    ]


def test_audience_section_top_affinity_per_brand_with_tier_and_searches():
    sec = _section(render_sample(), "audience")
    cells = parse(sec).cells
    # EVIL's top 10 of 12, by rank: a1 38/40 = 95.0 % ... a10 20/40; a11, a12 not shown; BrandB's a11 is
    r1 = cells.index(f"{CJK_NICKNAME} (a1)")
    assert cells[r1 - 1 : r1 + 6] == ["1", f"{CJK_NICKNAME} (a1)", "micro", "95.0 %", "38 / 40", "no", "3"]
    r2 = cells.index("fan02 (a2)")
    assert cells[r2 - 1 : r2 + 6] == ["2", "fan02 (a2)", "nano", "90.0 %", "36 / 40", "yes", "6"]
    assert "fan10 (a10)" in cells and "fan12 (a12)" not in cells
    # a11 (BrandB): no tier, no scorecard row: search results empty, not 0
    b = cells.index("(a11)")  # no nickname
    assert cells[b - 1 : b + 6] == ["1", "(a11)", "n/a", "4.0 %", "1 / 25", "no", ""]
    # brands in the order of their lower-cased names ("<" before "b"), names escaped
    assert sec.index("<h3>&lt;script&gt;") < sec.index("<h3>BrandB")


def test_audience_section_without_search_column_or_without_the_mart():
    frames = sample_frames()
    frames["creator_scorecard"] = frames["creator_scorecard"].drop(columns=["search_appearances_30d"])
    cells = parse(_section(report.render_report(D, **frames), "audience")).cells
    r1 = cells.index(f"{CJK_NICKNAME} (a1)")
    assert cells[r1 + 5] == ""  # the column is there, empty: the scorecard has no search_appearances_30d
    frames.pop("brand_audience_affinity")
    assert '<p class="nodata">no data' in _section(report.render_report(D, **frames), "audience")


def test_css_names_a_cjk_font_stack():
    css = report.render_report(D, **sample_frames()).split("<style>")[1].split("</style>")[0]
    family = re.search(r"font-family:([^;]+);", css).group(1)
    fonts = [f.strip().strip('"') for f in family.split(",")]
    assert {"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei"} <= set(fonts)
    assert fonts[-1] == "sans-serif" and fonts.index("Microsoft YaHei") < fonts.index("Arial")


def test_data_quality_counts_the_day_and_lists_failed_checks():
    page = render_sample(failed_checks=["quarantine:quarantine_suite failed (blocking)"])
    sec = _section(page, "data-quality")
    cells = parse(sec).cells
    assert cells[4:12] == ["notes", "bad count", "2", "2", "notes", "missing note_id", "1", "1"]
    assert "old reason" not in sec and "3 input rows were rejected" in sec
    assert "<li>quarantine:quarantine_suite failed (blocking)</li>" in sec
    assert "No failed check recorded" in _section(render_sample(failed_checks=[]), "data-quality")
    assert "not available" in _section(render_sample(failed_checks=None), "data-quality")


def test_self_contained_no_external_url():
    page = render_sample()
    p = parse(page)
    assert p.tags.count("svg") == 3  # shares, cost, share of voice
    refs = [(t, k, v) for t, k, v in p.attrs if k in ("src", "href", "xlink:href", "action", "data")]
    assert refs, "the navigation links are href attributes"
    assert not [r for r in refs if "http://" in r[2] or "https://" in r[2] or r[2].startswith("//")], refs
    # beyond src/href: no URL in any attribute except XML namespace declarations, no url() in CSS
    urls = [(t, k, v) for t, k, v in p.attrs if "://" in v and not k.startswith("xmlns")]
    assert urls == []
    assert not {"script", "link", "img", "iframe"} & set(p.tags)
    assert re.findall(r"url\((?!#)", page) == [] and "@import" not in page  # url(#clip) refers inside the page


def test_text_is_escaped():
    page = render_sample(failed_checks=["<b>x</b>"])
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;Brand" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    # the brand name round-trips as text in the table cells and the chart legend (SVG text)
    p = parse(page)
    assert EVIL in p.cells
    assert any(EVIL in t for t in p.text if "Brand" in t)


def test_day_without_brand_data_still_renders():
    empty = {
        name: spec.empty_frame()
        for name, spec in (
            ("tier_comparison", TIER_COMPARISON),
            ("campaign_performance", CAMPAIGN_PERFORMANCE),
            ("keyword_share_of_voice_history", KEYWORD_SHARE_OF_VOICE),
            ("brand_search_lift", BRAND_SEARCH_LIFT),
            ("creator_shortlist", CREATOR_SHORTLIST),
            ("tier_benchmarks", TIER_BENCHMARKS),
            ("quarantine", QUARANTINE),
        )
    }
    page = report.render_report(D, **empty)
    for anchor in ("tier-comparison", "campaigns", "cost-by-tier", "share-of-voice", "search-lift", "shortlist"):
        assert '<p class="nodata">no data' in _section(page, anchor), anchor
    assert "No input row was rejected" in _section(page, "data-quality")
    assert parse(page).tags.count("svg") == 0
    # the sample's frames on a day they do not cover: the same
    other = report.render_report(D + timedelta(days=100), **sample_frames())
    assert other.count('<p class="nodata">no data') >= 5 and "¥1.23" not in other


def test_formatters():
    assert report.fmt_cny(1234.5) == "¥1,234.50" and report.fmt_cny(1234.5, 0) == "¥1,234"
    assert report.fmt_pct(0.42) == "42.0 %" and report.fmt_pct(-0.031, signed=True) == "-3.1 %"
    assert report.fmt_int(1234567) == "1,234,567"
    assert report.fmt_cny(None) == report.fmt_pct(pd.NA) == report.fmt_int(float("nan")) == "n/a"


def test_pages_from_day_slices_equal_pages_from_the_whole_range():
    """daily_report hands each page its day's rows (DaySlicer, share of voice: SOV_DAYS days) instead of the run's
    whole frames: every page is the same, byte for byte, on days with rows, without rows, and at the edges of the
    share-of-voice window."""
    whole = {
        k: pd.concat([sample_frames(D)[k], sample_frames(D - timedelta(days=3))[k]], ignore_index=True)
        for k in sample_frames(D)
    }
    whole["quarantine"] = whole["quarantine"].head(0)  # an empty partitioned input is passed as it is
    slicers = {k: report.DaySlicer(v) for k, v in whole.items() if k != "brand_search_lift"}
    sov_rows = slicers["keyword_share_of_voice_history"].up_to(D, report.SOV_DAYS)
    assert 0 < len(sov_rows) < len(whole["keyword_share_of_voice_history"])  # D-30 and D-33 are outside
    checked = 0
    for day in (
        D,
        D - timedelta(days=1),
        D - timedelta(days=3),
        D + timedelta(days=1),
        D - timedelta(days=29),
        D - timedelta(days=30),
        D + timedelta(days=29),
    ):
        want = report.render_report(day, **whole, failed_checks=["x: warning"])
        got = report.render_report(
            day,
            **{
                k: s.up_to(day, report.SOV_DAYS) if k == "keyword_share_of_voice_history" else s.on(day)
                for k, s in slicers.items()
            },
            brand_search_lift=whole["brand_search_lift"],
            failed_checks=["x: warning"],
        )
        assert got == want, day
        checked += "creator01" in want
    assert checked == 2  # D and D-3 have shortlist rows: the comparison is not between empty pages only
