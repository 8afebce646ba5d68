"""Asset checks of the brand and campaign marts: the table-level invariants of kol_pipeline.lib.marts.checks (check_*).

They describe the result (the inputs were validated upstream), so they warn and never block. A partitioned mart is
materialized in ranged runs (one run for many days), and a check runs once per run: it reads the mart's days of the
run it is in from the warehouse (run tags ``dagster/asset_partition_range_start``/``_end``, else
``dagster/partition``, else the mart's latest stored partition) with ``read_table``, evaluates the invariants on
those days at once and, when one fails, day by day to name the failing days (``failed_partitions``). Inputs a
check needs besides the mart (campaign_posts for the spend check) are read the same way.

Metadata: ``outcomes`` (a markdown table: check, passed, description, details), ``failed`` (names),
``partition_range``, ``days_checked``, ``rows_checked``, ``failed_partitions``.
"""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from kol_pipeline.defs.shared import days_metadata
from kol_pipeline.lib.marts import brand_audience_affinity as baa_lib
from kol_pipeline.lib.marts import checks as check_lib
from kol_pipeline.lib.marts.checks import CheckOutcome
from kol_pipeline.lib.schemas import TABLES
from kol_pipeline.resources.warehouse import Warehouse

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"

Evaluator = Callable[[pd.DataFrame, dict[str, pd.DataFrame]], list[CheckOutcome]]


@dataclass(frozen=True)
class MartCheck:
    """One mart's check: the lib function, the extra tables it reads, and whether the mart is daily."""

    table: str
    evaluate: Evaluator
    description: str
    inputs: tuple[str, ...] = ()
    partitioned: bool = True


MART_CHECKS: tuple[MartCheck, ...] = (
    MartCheck(
        "campaign_performance",
        lambda df, t: check_lib.check_campaign_performance(df, t["campaign_posts"]),
        "spend_cny on each `all` row = fees of the campaign's posts posted by the day; tier rows add up to `all`; "
        "rates in [0, 1]; nothing negative; density_ok only on `all` rows (creators >= 15); unique keys.",
        inputs=("campaign_posts",),
    ),
    MartCheck(
        "keyword_share_of_voice",
        lambda df, t: check_lib.check_keyword_share_of_voice(df),
        "share_of_voice in [0, 1] and = brand_results / results; 0 <= brand_results <= results <= 20; per-tier "
        "counts add up; unique keys.",
    ),
    MartCheck(
        "brand_search_lift",
        lambda df, t: check_lib.check_brand_search_lift(df),
        "lift (and its window means) null when a 28-day window has fewer than 21 days; lift and adjusted_lift "
        "formulas; store lift null on short windows; one row per campaign.",
        partitioned=False,
    ),
    MartCheck(
        "brand_creator_relationships",
        lambda df, t: check_lib.check_brand_creator_relationships(df),
        "notes = sponsored + organic >= 1; mention dates inside the trailing 180 days; 1 <= distinct_weeks <= notes "
        "and is_repeat = distinct_weeks >= 2; unique keys.",
    ),
    MartCheck(
        "tier_comparison",
        lambda df, t: check_lib.check_tier_comparison(df),
        "every share in [0, 1]; where every tier's share is known they add up to 1; unique keys.",
    ),
    MartCheck(
        "creator_shortlist",
        lambda df, t: check_lib.check_creator_shortlist(df),
        "ranks 1..n (n <= 30) per brand and day; score non-increasing with rank; micro tier only; reasons present; "
        "a creator at most once per brand.",
    ),
    MartCheck(
        "brand_audience_affinity",
        lambda df, t: baa_lib.check_brand_audience_affinity(df),
        "0 <= affinity <= 1 and = shared_commenters / commenters_90d; commenters_90d >= 20 and "
        "1 <= shared_commenters <= commenters_90d; rank_in_brand 1..n by affinity; unique keys.",
    ),
)


def run_partition_range(tags: dict[str, str], warehouse: Warehouse, table: str) -> tuple[str, str] | None:
    """The days (first, last) a check evaluates: the run's partition range, its single partition, else the table's
    latest stored partition; None when nothing is stored."""
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        return start, end
    one = tags.get(PARTITION_TAG)
    if one:
        return one, one
    stored = warehouse.list_partitions(table)
    return (stored[-1], stored[-1]) if stored else None


def outcomes_markdown(outcomes: list[CheckOutcome]) -> str:
    """The outcomes as a markdown table (check, passed, description, details)."""
    rows = [
        {
            "check": o.name,
            "passed": "yes" if o.passed else "**no**",
            "description": o.description,
            "details": ", ".join(f"{k}: {v}" for k, v in o.details.items()) if o.details else "",
        }
        for o in outcomes
    ]
    if not rows:
        return "_(no invariants evaluated)_"
    return pd.DataFrame(rows).to_markdown(index=False)


def as_nullable(df: pd.DataFrame) -> pd.DataFrame:
    """Float columns as the nullable ``Float64`` the marts are computed with (read_table gives float64 with NaN for
    null; the lib's invariants treat NaN in a comparison as a violation but pd.NA as unknown)."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col].dtype) and not isinstance(out[col].dtype, pd.Float64Dtype):
            out[col] = out[col].astype("Float64")
    return out


def evaluate_mart(
    check: MartCheck, df: pd.DataFrame, inputs: dict[str, pd.DataFrame]
) -> tuple[list[CheckOutcome], list[str]]:
    """Run a mart's invariants on ``df`` (all its days at once); when one fails on a daily mart, run them per day to
    find the failing days. Returns (outcomes, failing days as YYYY-MM-DD)."""
    df = as_nullable(df)
    outcomes = check.evaluate(df, inputs)
    failed_days: list[str] = []
    if check.partitioned and len(df) and not all(o.passed for o in outcomes):
        day_col = pd.to_datetime(df["snapshot_date"]).dt.date
        for day in sorted(set(day_col)):
            part = df[(day_col == day).to_numpy()]
            if not all(o.passed for o in check.evaluate(part, inputs)):
                failed_days.append(day.isoformat())
    return outcomes, failed_days


def check_result(
    check: MartCheck, df: pd.DataFrame, inputs: dict[str, pd.DataFrame], days: tuple[str, str] | None
) -> dg.AssetCheckResult:
    outcomes, failed_days = evaluate_mart(check, df, inputs)
    failed = [o.name for o in outcomes if not o.passed]
    meta: dict = {
        "outcomes": dg.MetadataValue.md(outcomes_markdown(outcomes)),
        "failed": ", ".join(failed),
        "rows_checked": len(df),
    }
    if check.partitioned:
        meta["partition_range"] = f"{days[0]}..{days[1]}" if days else ""
        meta["days_checked"] = int(df["snapshot_date"].nunique()) if len(df) else 0
        meta["failed_partitions"] = days_metadata(failed_days)
    return dg.AssetCheckResult(
        asset_key=check.table,
        check_name=f"{check.table}_invariants",
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=meta,
    )


def _build(check: MartCheck):
    @dg.asset_check(
        asset=check.table,
        name=f"{check.table}_invariants",
        blocking=False,
        description=f"Invariants of `{check.table}` (warns, never blocks; evaluated on the days of the run): "
        + check.description,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        inputs = {name: warehouse.read_table(name) for name in check.inputs}
        if not check.partitioned:
            return check_result(check, warehouse.read_table(check.table), inputs, None)
        days = run_partition_range(dict(context.run.tags), warehouse, check.table)
        df = warehouse.read_table(check.table, days[0], days[1]) if days else TABLES[check.table].empty_frame()
        if days:
            context.log.info(f"{check.table}_invariants: {len(df)} rows of {days[0]}..{days[1]}")
        return check_result(check, df, inputs, days)

    return _check


mart_checks = [_build(c) for c in MART_CHECKS]
