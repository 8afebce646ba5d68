"""The daily report as a browser and Dagster see it.

- A page rendered by lib.report from hand-built frames, opened in headless Chromium: the DOM holds the headings
  and numbers, and a screenshot is a real picture (skipped, with the reason, when /usr/bin/chromium is missing;
  install it with `apt-get install -y chromium`).
- Chinese text in the report's font stack is drawn with glyphs, not the empty boxes of a machine without a CJK
  font (skipped, with the reason, where no CJK font is installed: `apt-get install -y fonts-noto-cjk`).
- The `daily_report` asset in a ranged run over a hand-written warehouse: one page per day written atomically,
  per-day metadata, the last day's charts, and failed checks placed on the days they failed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from kol_pipeline.defs.reporting.assets import daily_report, report_path, write_report
from kol_pipeline.defs.shared import DAILY
from kol_pipeline.lib.schemas import TABLES, conform
from kol_pipeline.resources.io_manager import make_base_path
from kol_pipeline.resources.settings import KolSettings
from kol_pipeline.resources.warehouse import Warehouse, WarehouseIOManager
from kol_pipeline_tests.unit.test_report import CJK_NICKNAME, D, render_sample, sample_frames

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (install: apt-get install -y chromium)"
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


@needs_chromium
def test_report_in_headless_chromium(tmp_path):
    page = tmp_path / f"{D}.html"
    page.write_text(
        render_sample(failed_checks=["quarantine:quarantine_suite: blocking failure (quarantine_share)"]),
        encoding="utf-8",
    )
    p = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    h2 = re.findall(r"<h2>(.*?)</h2>", dom)
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
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", dom, re.S)]
    i = cells.index("micro")
    assert cells[i : i + 9] == ["micro", "12", "¥12,300", "42.0 %", "66.7 %", "80.0 %", "¥1.23", "¥6.15", "75.0 %"]
    assert "+19.0 %" in cells and "n/a (fewer than 21 days)" in cells
    assert dom.count("<svg") == 3
    # the hostile brand name is text, never an element; no script ran
    assert "<script" not in dom and "&lt;script&gt;alert('x')&lt;/script&gt;Brand" in dom
    assert "quarantine:quarantine_suite: blocking failure (quarantine_share)" in dom
    assert f"{CJK_NICKNAME} (a1)" in cells  # the audience section's first creator

    shot = tmp_path / "r.png"
    p = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,3000", page.as_uri())
    assert p.returncode == 0 and shot.exists(), p.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 3000)
    assert len(data) > 100_000  # a blank 1200x3000 page compresses to a few kB
    import matplotlib.image as mpimg

    img = mpimg.imread(str(shot))
    assert img[:, :, :3].std() > 0.05  # header, cards, charts: not a uniform page


def _cjk_fonts() -> list[str]:
    """Font families fontconfig has for Chinese (what Chromium on Linux falls back to)."""
    if not shutil.which("fc-list"):
        return []
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=60).stdout
    return sorted({line.strip() for line in out.splitlines() if line.strip()})


needs_cjk_font = pytest.mark.skipif(
    not _cjk_fonts(), reason="no CJK font installed (fc-list :lang=zh is empty; Debian: apt-get install fonts-noto-cjk)"
)


@needs_chromium
@needs_cjk_font
def test_chinese_nickname_is_drawn_with_glyphs_not_boxes(tmp_path):
    """Each character of the nickname drawn alone, large, in the report's own CSS (its font stack): with a CJK font
    the characters are different pictures; without one, Chromium draws the same empty box for each (as it does
    for U+10FFFD, a character no font has, drawn beside them as the box to tell apart)."""
    css = render_sample().split("<style>")[1].split("</style>")[0]
    chars = [*dict.fromkeys(CJK_NICKNAME)][:4] + ["\U0010fffd"]
    cells = "".join(
        f'<div style="position:absolute;left:{10 + 200 * i}px;top:10px;width:180px;height:180px;font-size:150px;'
        f'line-height:180px;color:#000">{c}</div>'
        for i, c in enumerate(chars)
    )
    page = tmp_path / "glyphs.html"
    page.write_text(
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>{css} body{{background:#fff}}</style>'
        f"</head><body>{cells}</body></html>",
        encoding="utf-8",
    )
    shot = tmp_path / "glyphs.png"
    p = _chromium(tmp_path, f"--screenshot={shot}", f"--window-size={200 * len(chars) + 20},200", page.as_uri())
    assert p.returncode == 0 and shot.exists(), p.stderr[-2000:]
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(str(shot))[:, :, :3].mean(axis=2)
    ink = [img[10:190, 10 + 200 * i : 190 + 200 * i] < 0.5 for i in range(len(chars))]
    *glyphs, box = ink
    for i, g in enumerate(glyphs):
        assert g.sum() > 200, f"nothing drawn for {chars[i]!r}"
        differs_from_box = (g ^ box).sum() / max(g.sum(), box.sum(), 1)
        assert differs_from_box > 0.3, f"{chars[i]!r} looks like the missing-glyph box"
    for i in range(len(glyphs)):
        for j in range(i + 1, len(glyphs)):
            diff = (glyphs[i] ^ glyphs[j]).sum() / max(glyphs[i].sum(), glyphs[j].sum())
            assert diff > 0.3, f"{chars[i]!r} and {chars[j]!r} are drawn alike: boxes, not glyphs"
    assert np.mean([g.mean() for g in glyphs]) < 0.6  # strokes, not filled blocks


# ------------------------------------------------------------------------------------------------ the asset

UPSTREAM = (
    "tier_comparison",
    "campaign_performance",
    "keyword_share_of_voice",
    "brand_search_lift",
    "creator_shortlist",
    "tier_benchmarks",
    "quarantine",
    "brand_audience_affinity",
    "creator_scorecard",
)


def _warehouse(root: Path) -> Path:
    """The sample frames as warehouse Parquet (hive folders without the snapshot_date column)."""
    frames = sample_frames()
    frames["keyword_share_of_voice"] = frames.pop("keyword_share_of_voice_history")
    for table, df in frames.items():
        spec = TABLES[table]
        if spec.partitioned:
            for day, g in df.groupby("snapshot_date"):
                folder = root / table / f"snapshot_date={day}"
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(conform(g, spec).drop_columns(["snapshot_date"]), folder / "part-0.parquet")
        else:
            (root / table).mkdir(parents=True, exist_ok=True)
            pq.write_table(conform(df, spec), root / table / f"{table}.parquet")
    return root


def _range_tags(start: date, end: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }


def test_daily_report_asset_writes_a_page_per_day_with_checks(tmp_path):
    wh = _warehouse(tmp_path / "wh")
    (wh / "reports").mkdir()
    (wh / "reports" / f"{D}.html").write_text("old page")
    specs = [dg.AssetSpec(t, partitions_def=None if t == "brand_search_lift" else DAILY) for t in UPSTREAM]
    outcome = {"passed": False}

    @dg.asset_check(asset="quarantine", name="quarantine_suite")  # blocking or not: the report reads the outcome
    def quarantine_suite() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=outcome["passed"],
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "blocked_partitions": dg.MetadataValue.json([(D - timedelta(days=1)).isoformat()]),
                "failed": "quarantine_share",
                "warnings": "",
            },
        )

    @dg.asset_check(asset="tier_comparison", name="tier_comparison_invariants")
    def tier_invariants() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"failed_partitions": dg.MetadataValue.json([D.isoformat()]), "failed": "shares_sum_to_one"},
        )

    @dg.asset_check(asset="brand_search_lift", name="brand_search_lift_invariants")
    def lift_invariants() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=False, severity=dg.AssetCheckSeverity.WARN, metadata={"failed": "lift_formula"}
        )

    resources = {
        "io_manager": WarehouseIOManager.at(str(wh)),
        "warehouse": Warehouse(base_path=str(wh)),
        "settings": KolSettings(landing_dir=str(tmp_path / "landing")),
    }
    everything = [daily_report, *specs, quarantine_suite, tier_invariants, lift_invariants]
    instance = dg.DagsterInstance.ephemeral()
    # quarantine_suite fails on D-1 in a run over D-2..D, then passes in a later run over D-2 only: still failed on
    # D-1 (its latest evaluation covering D-1 is the failing one); the invariants warn on D only; the lift check
    # ran unpartitioned (covers every day)
    assert dg.materialize(
        everything,
        selection=dg.AssetSelection.checks(quarantine_suite, tier_invariants),
        instance=instance,
        resources=resources,
        tags=_range_tags(D - timedelta(days=2), D),
    ).success
    outcome["passed"] = True
    assert dg.materialize(
        everything,
        selection=dg.AssetSelection.checks(quarantine_suite),
        instance=instance,
        resources=resources,
        tags=_range_tags(D - timedelta(days=2), D - timedelta(days=2)),
    ).success
    assert dg.materialize(
        everything, selection=dg.AssetSelection.checks(lift_invariants), instance=instance, resources=resources
    ).success

    res = dg.materialize(
        everything,
        selection=dg.AssetSelection.assets(daily_report),
        instance=instance,
        resources=resources,
        tags=_range_tags(D - timedelta(days=2), D),
    )
    assert res.success
    reports = wh / "reports"
    assert sorted(p.name for p in reports.iterdir()) == [
        f"{D - timedelta(days=k)}.html" for k in (2, 1, 0)
    ]  # no temp file
    pages = {k: (reports / f"{D - timedelta(days=k)}.html").read_text(encoding="utf-8") for k in (0, 1, 2)}
    assert "¥1.23" in pages[0] and "old page" not in pages[0]
    assert "¥9.87" in pages[1] and "¥17,000" not in pages[1] and "¥9.87" not in pages[0]  # D-1 has its own tier rows
    quality = {k: re.search(r'<section id="data-quality">(.*?)</section>', v, re.S).group(1) for k, v in pages.items()}
    assert "quarantine:quarantine_suite: blocking failure (quarantine_share)" in quality[1]
    assert "quarantine_suite" not in quality[0] and "quarantine_suite" not in quality[2]
    assert "tier_comparison:tier_comparison_invariants: warning (shares_sum_to_one)" in quality[0]
    assert "tier_comparison_invariants" not in quality[1]
    assert all("brand_search_lift:brand_search_lift_invariants: warning (lift_formula)" in q for q in quality.values())

    mats = {m.partition: m.materialization.metadata for m in res.get_asset_materialization_events()}
    assert set(mats) == {(D - timedelta(days=k)).isoformat() for k in (0, 1, 2)}
    for key, meta in mats.items():
        assert meta["path"].value == str(wh / "reports" / f"{key}.html")
    assert {"tier_comparison", "cpe_by_tier"} <= set(mats[D.isoformat()])
    assert mats[D.isoformat()]["cpe_by_tier"].value.startswith("![Cost per engagement")
    assert "cpe_by_tier" not in mats[(D - timedelta(days=1)).isoformat()]


def test_write_report_local_and_remote(tmp_path):
    local = report_path(make_base_path(str(tmp_path / "wh")), D)
    assert write_report(local, "<p>é</p>") == len("<p>é</p>".encode())
    assert Path(local).read_text(encoding="utf-8") == "<p>é</p>"
    assert [p.name for p in Path(local).parent.iterdir()] == [f"{D}.html"]
    remote = report_path(make_base_path("memory://kol-report-test"), D)
    write_report(remote, "<p>x</p>")
    assert make_base_path("memory://kol-report-test").joinpath("reports", f"{D}.html").read_text() == "<p>x</p>"
    remote.fs.rm("/kol-report-test", recursive=True)
