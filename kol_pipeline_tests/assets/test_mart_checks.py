"""Mart asset checks (kol_pipeline.defs.marts.checks) through Dagster: a mart materialized over a range of days with
its check, a check that finds a broken day among the run's days, and the invariants on hand-built frames."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kol_pipeline.defs.marts import assets as mart_assets
from kol_pipeline.defs.marts import checks as mart_checks
from kol_pipeline.defs.shared import DAILY
from kol_pipeline.lib.schemas import TABLES
from kol_pipeline.resources.io_manager import read_table
from kol_pipeline.resources.settings import KolSettings, MetricsConfig
from kol_pipeline.resources.warehouse import Warehouse, WarehouseIOManager

D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
CHECKS = {c.table: c for c in mart_checks.MART_CHECKS}
CHECK_DEFS = {next(iter(c.check_keys)).asset_key.path[-1]: c for c in mart_checks.mart_checks}


def _table(name: str, rows: list[dict]) -> pa.Table:
    spec = TABLES[name]
    fields = [f for f in spec.schema if f.name != "snapshot_date"]
    return pa.table(
        {f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in fields}, schema=pa.schema(fields)
    )


def _write_day(wh: Path, name: str, day: dt.date, rows: list[dict]) -> None:
    folder = wh / name / f"snapshot_date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(_table(name, rows), folder / "part-0.parquet")


def _write_single(wh: Path, name: str, rows: list[dict]) -> None:
    (wh / name).mkdir(parents=True, exist_ok=True)
    pq.write_table(_table(name, rows), wh / name / f"{name}.parquet")


def _resources(wh: Path) -> dict:
    return {
        "io_manager": WarehouseIOManager.at(str(wh)),
        "warehouse": Warehouse(base_path=str(wh)),
        "settings": KolSettings(landing_dir=str(wh.parent / "landing")),
        "metrics_config": MetricsConfig(),
    }


def _range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    return {mart_checks.RANGE_START_TAG: start.isoformat(), mart_checks.RANGE_END_TAG: end.isoformat()}


def _evaluation(result: dg.ExecuteInProcessResult, name: str):
    evs = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    assert len(evs) == 1, [e.check_name for e in result.get_asset_check_evaluations()]
    return evs[0]


def _sc(user_id: str, tier: str, category: str, score: float, flags=(), followers: int = 20_000) -> dict:
    return {
        "user_id": user_id,
        "nickname": user_id.upper(),
        "followers": followers,
        "tier": tier,
        "primary_category": category,
        "score": score,
        "authenticity_flags": list(flags),
        "median_er_7d": 0.05,
        "median_save_to_like": 0.3,
    }


def test_shortlist_materialized_over_a_range_with_its_check(tmp_path):
    wh = tmp_path / "wh"
    _write_day(
        wh,
        "creator_scorecard",
        D1,
        [
            _sc("u1", "micro", "skincare", 0.90),
            _sc("u2", "micro", "skincare", 0.99, flags=["follower_spike"]),
            _sc("u4", "micro", "skincare", 0.80),
            _sc("u3", "macro", "skincare", 0.95, followers=600_000),
            _sc("u5", "micro", "food", 0.97),
        ],
    )
    _write_day(
        wh, "creator_scorecard", D2, [_sc("u1", "micro", "skincare", 0.95), _sc("u4", "micro", "skincare", 0.96)]
    )
    _write_single(wh, "brands", [{"brand": "RoseLab", "aliases": [], "category": "skincare"}])
    result = dg.materialize(
        [
            dg.AssetSpec("creator_scorecard", partitions_def=DAILY),
            dg.AssetSpec("brand_audience_affinity", partitions_def=DAILY),  # none stored: affinity null
            dg.AssetSpec("brands"),
            mart_assets.creator_shortlist,
            CHECK_DEFS["creator_shortlist"],
        ],
        resources=_resources(wh),
        tags=_range_tags(D1, D2),
    )
    assert result.success
    out = read_table(str(wh), "creator_shortlist")
    got = out.sort_values(["snapshot_date", "rank"])[["snapshot_date", "rank", "user_id"]].values.tolist()
    # flagged u2, macro u3 and food u5 are left out; D2 reorders by score
    assert got == [[D1, 1, "u1"], [D1, 2, "u4"], [D2, 1, "u4"], [D2, 2, "u1"]]
    ev = _evaluation(result, "creator_shortlist_invariants")
    assert ev.passed
    assert ev.severity == dg.AssetCheckSeverity.WARN
    meta = {k: v.value for k, v in ev.metadata.items()}
    assert meta["days_checked"] == 2 and meta["rows_checked"] == 4
    assert meta["partition_range"] == "2025-03-01..2025-03-02"
    assert meta["failed"] == "" and meta["failed_partitions"] == []
    assert "| ranks_consecutive" in meta["outcomes"] and "tier_only" in meta["outcomes"]
    assert out["affinity"].isna().all()


def _note(note_id: str, author: str, day: dt.date, brands=()) -> dict:
    ts = pd.Timestamp(day.isoformat() + " 02:00", tz="UTC")
    return {"note_id": note_id, "user_id": author, "brands": list(brands), "published_at": ts, "crawled_at": ts}


def test_affinity_materialized_over_a_range_with_its_check_and_read_by_the_shortlist(tmp_path):
    """brand_audience_affinity from the stored comments (D1-89 .. D2), notes and scorecard, over two days in one
    run, its check, then creator_shortlist reading it. u1 has 25 outside commenters (c00..c24, and a reply of their
    own) on D1-89, the first day of D1's window; c00..c04 also commented on u9's RoseLab note: affinity 5 / 25.
    u4's 20 commenters share nobody: no row. D2's window starts a day later: u1's commenters are gone, no row."""
    wh = tmp_path / "wh"
    old = D1 - dt.timedelta(days=20)
    _write_day(wh, "notes", old, [_note("n1", "u1", old), _note("n4", "u4", old), _note("g9", "u9", old, ["RoseLab"])])
    c1 = [{"comment_id": f"a{i}", "note_id": "n1", "user_id": f"c{i:02d}"} for i in range(25)]
    c1 += [{"comment_id": "self", "note_id": "n1", "user_id": "u1"}]
    c1 += [{"comment_id": f"d{i}", "note_id": "n4", "user_id": f"d{i:02d}"} for i in range(20)]
    c1 += [{"comment_id": f"g{i}", "note_id": "g9", "user_id": f"c{i:02d}"} for i in range(5)]
    _write_day(wh, "comments", D1 - dt.timedelta(days=89), c1)  # the first day of D1's window
    _write_day(wh, "comments", D2, [{"comment_id": "g5", "note_id": "g9", "user_id": "c05"}])  # alone on D2
    for day in (D1, D2):
        _write_day(
            wh, "creator_scorecard", day, [_sc("u1", "micro", "skincare", 0.9), _sc("u4", "micro", "skincare", 0.8)]
        )
    _write_single(wh, "brands", [{"brand": "RoseLab", "aliases": [], "category": "skincare"}])
    result = dg.materialize(
        [
            dg.AssetSpec("comments", partitions_def=DAILY),
            dg.AssetSpec("notes", partitions_def=DAILY),
            dg.AssetSpec("creator_scorecard", partitions_def=DAILY),
            dg.AssetSpec("brands"),
            mart_assets.brand_audience_affinity,
            CHECK_DEFS["brand_audience_affinity"],
            mart_assets.creator_shortlist,
        ],
        resources=_resources(wh),
        tags=_range_tags(D1, D2),
    )
    assert result.success
    out = read_table(str(wh), "brand_audience_affinity")
    got = out.sort_values("snapshot_date")[["snapshot_date", "brand", "user_id", "commenters_90d", "shared_commenters"]]
    assert got.values.tolist() == [[D1, "RoseLab", "u1", 25, 5]]
    assert out["affinity"].tolist() == [0.2] and out["tier"].tolist() == ["micro"]
    mat = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("brand_audience_affinity")
    ]
    chart = [m for e in mat for k, m in e.materialization.metadata.items() if k == "affinity_vs_er_7d"]
    assert not chart  # the last day (D2) has no row: no chart; D1 alone has one: u1, micro, er_7d 0.05
    one = dg.materialize(
        [
            dg.AssetSpec("comments", partitions_def=DAILY),
            dg.AssetSpec("notes", partitions_def=DAILY),
            dg.AssetSpec("creator_scorecard", partitions_def=DAILY),
            dg.AssetSpec("brands"),
            mart_assets.brand_audience_affinity,
        ],
        resources=_resources(wh),
        partition_key=D1.isoformat(),
    )
    meta = one.asset_materializations_for_node("brand_audience_affinity")[0].metadata
    assert meta["affinity_vs_er_7d"].value.startswith("![Audience affinity against median er_7d, micro creators")
    assert "| RoseLab" in meta["top_affinity"].value
    ev = _evaluation(result, "brand_audience_affinity_invariants")
    meta = {k: v.value for k, v in ev.metadata.items()}
    assert ev.passed and meta["rows_checked"] == 1 and meta["partition_range"] == "2025-03-01..2025-03-02"
    shortlist = read_table(str(wh), "creator_shortlist").sort_values(["snapshot_date", "rank"])
    assert shortlist["user_id"].tolist() == ["u1", "u4", "u1", "u4"]
    assert shortlist["affinity"].iloc[0] == 0.2 and shortlist["affinity"].iloc[1:].isna().all()


def _sov_row(keyword: str, brand: str, results: int, brand_results: int, share: float) -> dict:
    return {
        "keyword": keyword,
        "brand": brand,
        "results": results,
        "brand_results": brand_results,
        "share_of_voice": share,
        "brand_results_micro": brand_results,
        "brand_results_nano": 0,
        "brand_results_mid": 0,
        "brand_results_macro": 0,
        "brand_results_top": 0,
        "brand_results_unknown_tier": 0,
    }


SOV_ROWS = {
    D1: [_sov_row("面霜", "RoseLab", 20, 5, 0.25)],
    D2: [_sov_row("面霜", "RoseLab", 2, 3, 1.5)],  # a broken day: share 1.5, more brand results than results
}


@dg.asset(name="keyword_share_of_voice", partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def fake_share_of_voice(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """Stands in for the mart: writes hand-built rows (one of them broken) through the warehouse IO manager."""
    days = [dt.date.fromisoformat(k) for k in context.partition_keys]
    return pd.DataFrame([{**r, "snapshot_date": d} for d in days for r in SOV_ROWS[d]])


@pytest.fixture()
def sov_warehouse(tmp_path) -> Path:
    return tmp_path / "wh"


def _run_sov_check(wh: Path, **kw) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [fake_share_of_voice, CHECK_DEFS["keyword_share_of_voice"]],
        resources=_resources(wh),
        raise_on_error=False,
        **kw,
    )


def test_check_fails_on_a_broken_day_of_the_run_and_warns(sov_warehouse):
    result = _run_sov_check(sov_warehouse, tags=_range_tags(D1, D2))
    assert result.success  # a warning never fails the run
    ev = _evaluation(result, "keyword_share_of_voice_invariants")
    assert not ev.passed
    assert ev.severity == dg.AssetCheckSeverity.WARN
    meta = {k: v.value for k, v in ev.metadata.items()}
    assert meta["failed_partitions"] == ["2025-03-02"]
    assert set(meta["failed"].split(", ")) == {"share_of_voice_in_unit_interval", "counts_bounded"}
    assert meta["days_checked"] == 2 and meta["rows_checked"] == 2
    assert "| share_of_voice_in_unit_interval | **no**" in meta["outcomes"]


def test_check_evaluates_only_the_runs_partition(sov_warehouse):
    ok = _evaluation(_run_sov_check(sov_warehouse, partition_key=D1.isoformat()), "keyword_share_of_voice_invariants")
    assert ok.passed
    assert ok.metadata["partition_range"].value == "2025-03-01..2025-03-01"
    assert ok.metadata["rows_checked"].value == 1
    bad = _evaluation(_run_sov_check(sov_warehouse, partition_key=D2.isoformat()), "keyword_share_of_voice_invariants")
    assert not bad.passed and bad.metadata["failed_partitions"].value == ["2025-03-02"]


def test_run_partition_range(tmp_path):
    wh = tmp_path / "wh"
    warehouse = Warehouse(base_path=str(wh))
    assert mart_checks.run_partition_range({}, warehouse, "tier_comparison") is None
    _write_day(wh, "tier_comparison", D1, [])
    _write_day(wh, "tier_comparison", D2, [])
    assert mart_checks.run_partition_range({}, warehouse, "tier_comparison") == ("2025-03-02", "2025-03-02")
    assert mart_checks.run_partition_range({"dagster/partition": "2025-03-01"}, warehouse, "x") == ("2025-03-01",) * 2
    assert mart_checks.run_partition_range(_range_tags(D1, D2), warehouse, "x") == ("2025-03-01", "2025-03-02")


# ---------------------------------------------------------------- invariants on hand-built frames (the lib's checks)


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """Rows with every column of the table (missing ones null)."""
    return pd.DataFrame([{c: r.get(c) for c in TABLES[name].column_names} for r in rows])


def _cp_rows(day: dt.date, spend_all: float) -> pd.DataFrame:
    rows = [
        {
            "snapshot_date": day,
            "campaign_id": "c1",
            "brand": "B",
            "phase": "launch",
            "tier": "all",
            "creators": 2,
            "notes": 2,
            "spend_cny": spend_all,
            "engagements": 300.0,
            "saves": 30.0,
            "keyword_coverage": 0.5,
            "disclosure_rate": 1.0,
            "density_ok": False,
        },
        {
            "snapshot_date": day,
            "campaign_id": "c1",
            "brand": "B",
            "phase": "launch",
            "tier": "micro",
            "creators": 2,
            "notes": 2,
            "spend_cny": spend_all,
            "engagements": 300.0,
            "saves": 30.0,
            "keyword_coverage": 0.5,
            "disclosure_rate": 1.0,
            "density_ok": None,
        },
    ]
    return _frame("campaign_performance", rows)


def test_campaign_spend_must_equal_fees_posted_by_the_day():
    posts = pd.DataFrame(
        {
            "campaign_id": ["c1", "c1", "c1"],
            "note_id": ["n1", "n2", "n3"],
            "user_id": ["u1", "u2", "u2"],
            "fee_cny": [1000.0, 500.0, 700.0],
            "posted_date": [D1, D1, D2],
        }
    )  # n3 posted the next day: not spent yet on D1
    check = CHECKS["campaign_performance"]
    outcomes, days = mart_checks.evaluate_mart(check, _cp_rows(D1, 1500.0), {"campaign_posts": posts})
    assert all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]
    outcomes, days = mart_checks.evaluate_mart(
        check, pd.concat([_cp_rows(D1, 1500.0), _cp_rows(D2, 1500.0)]), {"campaign_posts": posts}
    )
    failed = {o.name: o for o in outcomes if not o.passed}
    assert set(failed) == {"spend_matches_campaign_posts"}  # D2 should be 2200
    assert failed["spend_matches_campaign_posts"].details["mismatches"] == ["2025-03-02 c1"]
    assert days == ["2025-03-02"]


def _lift(pre_days: int, lift: float | None) -> dict:
    return {
        "campaign_id": "c1",
        "brand": "B",
        "keyword": "B",
        "launch_date": D1,
        "pre_mean": 100.0 if lift else None,
        "post_mean": 100.0 * (1 + lift) if lift else None,
        "lift": lift,
        "pre_days": pre_days,
        "post_days": 28,
        "store_pre_days": 0,
        "store_post_days": 0,
    }


def test_lift_null_when_fewer_than_21_days():
    check = CHECKS["brand_search_lift"]
    ok, _ = mart_checks.evaluate_mart(
        check, _frame("brand_search_lift", [_lift(21, 0.2), _lift(20, None) | {"campaign_id": "c2"}]), {}
    )
    assert all(o.passed for o in ok), [o for o in ok if not o.passed]
    bad, days = mart_checks.evaluate_mart(check, _frame("brand_search_lift", [_lift(20, 0.2)]), {})
    assert [o.name for o in bad if not o.passed] == ["lift_null_on_short_window"]
    assert days == []  # unpartitioned: no days to name


def test_float_nulls_read_from_parquet_are_unknown_not_violations():
    """read_table gives float64 NaN for null; a null share is not a share outside [0, 1]."""
    df = pd.DataFrame(
        {
            "snapshot_date": [D1, D1],
            "campaign_id": ["c1", "c1"],
            "brand": ["B", "B"],
            "tier": ["micro", "macro"],
            "spend_share": [1.0, 0.0],
            "engagement_share": [float("nan")] * 2,
            "save_share": [0.4, 0.6],
            "sov_contribution": [float("nan")] * 2,
        }
    )
    outcomes, _ = mart_checks.evaluate_mart(CHECKS["tier_comparison"], df, {})
    assert all(o.passed for o in outcomes), [o for o in outcomes if not o.passed]
    df.loc[0, "save_share"] = 1.4
    outcomes, days = mart_checks.evaluate_mart(CHECKS["tier_comparison"], df, {})
    assert {o.name for o in outcomes if not o.passed} == {"shares_in_unit_interval", "shares_sum_to_one"}
    assert days == ["2025-03-01"]
