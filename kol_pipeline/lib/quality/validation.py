"""Table-level validation of the cleaned and brand tables with Great Expectations 1.x (called directly).

Each table has a suite: a tuple of :class:`ExpectationDef` (data, not GX objects) with a severity:

- ``blocking``: the partition is unusable (key uniqueness, non-null keys, required columns, an empty partition where
  the previous one had rows, too many quarantined rows);
- ``warn``: values out of range, unknown labels, drift; the partition is still written and used.

Besides the GX expectations, :func:`validate_table` evaluates table-level rules in pandas (required columns,
row count against the previous partition, quarantine share) and returns one :class:`ValidationReport` with all of
them. Great Expectations is imported lazily (about 2.5-6 s): importing this module stays cheap. The GX context,
data assets and suites are built once per process and reused. docs/validation.md lists every suite.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kol_pipeline.lib.schemas import TABLES, TIERS, input_tables
from kol_pipeline.lib.settings import DEFAULT_TIER_BOUNDS, tier_of

Severity = Literal["blocking", "warn"]
BLOCKING: Severity = "blocking"
WARN: Severity = "warn"

#: how many unexpected values an outcome keeps (as strings)
MAX_UNEXPECTED_VALUES = 10
#: how many unexpected values GX collects per expectation (BASIC result format)
_GX_PARTIAL_COUNT = 20

COMMENT_CLASSES: tuple[str, ...] = ("purchase_intent", "question", "tag_friend", "experience", "low_effort", "other")
NOTE_TYPES: tuple[str, ...] = ("normal", "video")
#: a rejected row's source: a table read from an input (MediaCrawler kinds, landing CSVs)
QUARANTINE_SOURCES: tuple[str, ...] = input_tables()


# --------------------------------------------------------------------------------------------------------------------
# Settings and results
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationSettings:
    """Thresholds of the table-level rules (docs/validation.md)."""

    #: quarantined / rows read above this share is blocking (when at least ``min_rows_for_quarantine_block`` rows read)
    max_quarantine_share: float = 0.05
    #: below this many rows read, a quarantine share above the maximum only warns
    min_rows_for_quarantine_block: int = 100
    #: |rows - previous rows| / previous rows above this share warns
    max_row_change: float = 0.5
    #: optional folder for GX Data Docs HTML (one site per process; built after each validation)
    docs_dir: str | Path | None = None
    #: tier bounds used to check that `creators.tier` matches `followers` (MetricSettings.tier_bounds)
    tier_bounds: tuple[int, int, int, int] = DEFAULT_TIER_BOUNDS


@dataclass(frozen=True)
class ExpectationDef:
    """One expectation of a suite, as data.

    ``expectation_type`` is a GX expectation name (``expect_column_values_to_be_between``) or, for the rules that are
    evaluated in pandas, a ``rule:`` name. ``param`` names a runtime value (``allowed_categories``) that fills
    ``kwargs[param_kwarg]``; without it the expectation is reported as skipped.
    """

    name: str
    expectation_type: str
    kwargs: Mapping[str, Any]
    severity: Severity
    description: str
    param: str | None = None
    param_kwarg: str = "value_set"

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns the expectation reads."""
        k = self.kwargs
        if "column" in k:
            return (k["column"],)
        if "column_list" in k:
            return tuple(k["column_list"])
        if "column_A" in k:
            return (k["column_A"], k["column_B"])
        return ()


@dataclass
class ExpectationOutcome:
    """The result of one expectation or table-level rule."""

    name: str
    expectation_type: str
    columns: tuple[str, ...]
    severity: Severity
    success: bool
    unexpected_count: int | None = None
    unexpected_values: list[str] = field(default_factory=list)
    observed: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expectation_type": self.expectation_type,
            "columns": list(self.columns),
            "severity": self.severity,
            "success": self.success,
            "unexpected_count": self.unexpected_count,
            "unexpected_values": list(self.unexpected_values),
            "observed": _jsonable(self.observed),
        }


@dataclass
class ValidationReport:
    """Every expectation and rule evaluated on one table partition."""

    table: str
    row_count: int
    results: list[ExpectationOutcome]

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity == BLOCKING]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success and r.severity == WARN]

    @property
    def passed(self) -> bool:
        """No blocking failure (warnings allowed)."""
        return not self.blocking_failures

    def outcome(self, name: str) -> ExpectationOutcome:
        """The outcome of the expectation or rule called ``name``."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"{self.table}: no expectation {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row_count": self.row_count,
            "passed": self.passed,
            "blocking_failures": len(self.blocking_failures),
            "warnings": len(self.warnings),
            "results": [r.to_dict() for r in self.results],
        }

    def to_markdown(self) -> str:
        """A Markdown table of every expectation with its result (Dagster check metadata)."""
        status = "passed" if self.passed else "FAILED"
        lines = [
            f"**{self.table}**: {status}, {self.row_count} rows, {len(self.blocking_failures)} blocking failure(s), "
            f"{len(self.warnings)} warning(s)",
            "",
            "| expectation | type | columns | severity | result | unexpected | unexpected values / observed |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in self.results:
            if r.observed.get("skipped"):
                result = "skipped"
            elif r.success:
                result = "ok"
            else:
                result = "FAIL" if r.severity == BLOCKING else "warn"
            detail = ", ".join(r.unexpected_values) if r.unexpected_values else _short_observed(r.observed)
            unexpected = "" if r.unexpected_count is None else str(r.unexpected_count)
            lines.append(
                f"| {_md(r.name)} | {_md(r.expectation_type)} | {_md(', '.join(r.columns))} | {r.severity} | "
                f"{result} | {unexpected} | {_md(detail)} |"
            )
        return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _short_observed(observed: Mapping[str, Any], limit: int = 160) -> str:
    if not observed:
        return ""
    text = "; ".join(f"{k}={v}" for k, v in _jsonable(dict(observed)).items())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _jsonable(value: Any) -> Any:
    """Make GX / numpy values JSON-serializable (unknown objects become str)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return None if math.isnan(f) else f
    if isinstance(value, np.bool_):
        return bool(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _value_str(value: Any) -> str:
    """One unexpected value as text (dicts and tuples of a compound key stay readable)."""
    if isinstance(value, Mapping):
        return "(" + ", ".join(f"{k}={_value_str(v)}" for k, v in value.items()) + ")"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_value_str(v) for v in value) + ")"
    if isinstance(value, np.datetime64):
        return "null" if np.isnat(value) else str(pd.Timestamp(value))
    try:
        if value is None or pd.isna(value):
            return "null"
    except (TypeError, ValueError):
        pass
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # counts travel as float64 when the column has nulls
    return str(value)


# --------------------------------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------------------------------


def _unique(cols: Sequence[str], severity: Severity = BLOCKING, what: str = "the table key") -> ExpectationDef:
    cols = list(cols)
    if len(cols) == 1:
        return ExpectationDef(
            f"unique_{cols[0]}",
            "expect_column_values_to_be_unique",
            {"column": cols[0]},
            severity,
            f"{cols[0]} is unique ({what})",
        )
    return ExpectationDef(
        "unique_" + "_".join(cols),
        "expect_compound_columns_to_be_unique",
        {"column_list": cols},
        severity,
        f"({', '.join(cols)}) is unique ({what})",
    )


def _not_null(col: str, severity: Severity = BLOCKING, why: str = "key") -> ExpectationDef:
    return ExpectationDef(
        f"{col}_not_null",
        "expect_column_values_to_not_be_null",
        {"column": col},
        severity,
        f"{col} is not null ({why})",
    )


def _between(
    col: str, lo: float | None = 0, hi: float | None = None, severity: Severity = WARN, name: str | None = None
) -> ExpectationDef:
    kwargs: dict[str, Any] = {"column": col}
    if lo is not None:
        kwargs["min_value"] = lo
    if hi is not None:
        kwargs["max_value"] = hi
    if name is None:
        name = f"{col}_non_negative" if (lo == 0 and hi is None) else f"{col}_in_range"
    rng = f">= {lo}" if hi is None else (f"<= {hi}" if lo is None else f"in [{lo}, {hi}]")
    return ExpectationDef(name, "expect_column_values_to_be_between", kwargs, severity, f"{col} {rng} (nulls ignored)")


def _in_set(
    col: str, values: Sequence[str] | None, name: str, description: str, param: str | None = None
) -> ExpectationDef:
    kwargs: dict[str, Any] = {"column": col}
    if values is not None:
        kwargs["value_set"] = list(values)
    return ExpectationDef(name, "expect_column_values_to_be_in_set", kwargs, WARN, description, param=param)


def _a_ge_b(a: str, b: str, name: str, description: str, severity: Severity = WARN) -> ExpectationDef:
    return ExpectationDef(
        name,
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
        severity,
        description,
    )


def _equal(a: str, b: str, name: str, description: str, severity: Severity = WARN) -> ExpectationDef:
    return ExpectationDef(
        name,
        "expect_column_pair_values_to_be_equal",
        {"column_A": a, "column_B": b, "ignore_row_if": "either_value_is_missing"},
        severity,
        description,
    )


def _category_in_list(col: str = "category") -> ExpectationDef:
    return _in_set(
        col,
        None,
        "category_in_categories",
        f"{col} is one of the categories of reference/categories.csv (a new value warns; null allowed); "
        "skipped when no category list is given",
        param="allowed_categories",
    )


# Helper columns computed before validation (name -> function of the frame and the settings). GX compares them.
_PARTS_SUM = "_likes_saves_comments_shares"
_EXPECTED_SUBSTANTIVE = "_comment_class_not_low_effort"
_TIER_FROM_FOLLOWERS = "_tier_from_followers"

HelperFn = Callable[[pd.DataFrame, ValidationSettings], pd.Series]


def _parts_sum(df: pd.DataFrame, _: ValidationSettings) -> pd.Series:
    parts = [pd.to_numeric(df[c], errors="coerce").astype("Float64") for c in ("likes", "saves", "comments", "shares")]
    return (parts[0] + parts[1] + parts[2] + parts[3]).astype("Int64")


def _expected_substantive(df: pd.DataFrame, _: ValidationSettings) -> pd.Series:
    cls = df["comment_class"].astype("string")
    return (cls != "low_effort").astype("boolean")


def _tier_from_followers(df: pd.DataFrame, settings: ValidationSettings) -> pd.Series:
    return tier_of(df["followers"], settings.tier_bounds)


HELPERS: dict[str, dict[str, tuple[tuple[str, ...], HelperFn]]] = {
    "notes": {_PARTS_SUM: (("likes", "saves", "comments", "shares"), _parts_sum)},
    "comments": {_EXPECTED_SUBSTANTIVE: (("comment_class",), _expected_substantive)},
    "creators": {_TIER_FROM_FOLLOWERS: (("followers",), _tier_from_followers)},
}

SUITES: dict[str, tuple[ExpectationDef, ...]] = {
    "notes": (
        _unique(["note_id", "snapshot_date"]),
        _not_null("note_id"),
        _not_null("snapshot_date"),
        _not_null("user_id", WARN, "a note without author cannot be scored"),
        *[_between(c) for c in ("likes", "saves", "comments", "shares", "engagements")],
        _equal("engagements", _PARTS_SUM, "engagements_equals_sum", "engagements = likes + saves + comments + shares"),
        _in_set("note_type", NOTE_TYPES, "note_type_allowed", "note_type is normal or video (null allowed)"),
        _category_in_list(),
        _a_ge_b("crawled_at", "published_at", "published_before_crawled", "published_at <= crawled_at"),
    ),
    "creators": (
        _unique(["user_id", "snapshot_date"]),
        _not_null("user_id"),
        _not_null("snapshot_date"),
        *[_between(c) for c in ("followers", "following", "likes_and_saves_total")],
        _in_set("tier", TIERS, "tier_allowed", "tier is nano|micro|mid|macro|top (null allowed)"),
        _equal(
            "tier", _TIER_FROM_FOLLOWERS, "tier_matches_followers", "tier = tier_of(followers) with the tier bounds"
        ),
    ),
    "comments": (
        _unique(["comment_id", "snapshot_date"]),
        _not_null("comment_id"),
        _not_null("snapshot_date"),
        _not_null("note_id", WARN, "a comment belongs to a note"),
        _between("like_count"),
        _between("sub_comment_count"),
        _in_set("comment_class", COMMENT_CLASSES, "comment_class_allowed", "comment_class is one of the six classes"),
        _not_null("comment_class", WARN, "every comment is classified"),
        _equal(
            "is_substantive",
            _EXPECTED_SUBSTANTIVE,
            "is_substantive_consistent",
            "is_substantive = (comment_class != low_effort)",
        ),
        _a_ge_b("crawled_at", "created_at", "created_before_crawled", "created_at <= crawled_at"),
    ),
    "quarantine": (
        _not_null("source", BLOCKING, "every rejected row names its source"),
        _not_null("reason", BLOCKING, "every rejected row says why"),
        _not_null("snapshot_date"),
        _in_set("source", QUARANTINE_SOURCES, "source_allowed", "source is a known input table"),
        _between("record_number", name="record_number_non_negative"),
        _not_null("source_file", WARN, "the file it came from"),
    ),
    "brand_quarantine": (  # rejected rows of the unpartitioned brand/reference files (no snapshot_date)
        _not_null("source", BLOCKING, "every rejected row names its source"),
        _not_null("reason", BLOCKING, "every rejected row says why"),
        _in_set("source", QUARANTINE_SOURCES, "source_allowed", "source is a known input table"),
        _between("record_number", name="record_number_non_negative"),
        _not_null("source_file", WARN, "the file it came from"),
    ),
    "search_rankings": (
        # a result page may list two notes at one rank (ties in scraped data): kept and counted, but worth a look
        _unique(["keyword", "rank", "note_id", "snapshot_date"]),
        _unique(["keyword", "rank", "snapshot_date"], WARN, "no tied ranks"),
        _not_null("keyword"),
        _not_null("rank"),
        _not_null("snapshot_date"),
        _not_null("note_id", WARN, "a ranked result is a note"),
        _between("rank", 1, name="rank_at_least_1"),
    ),
    "brands": (
        _unique(["brand"]),
        _not_null("brand"),
        _not_null("category", WARN, "a brand has a category"),
        _category_in_list(),
    ),
    "campaigns": (
        _unique(["campaign_id"]),
        _not_null("campaign_id"),
        _not_null("brand", WARN, "a campaign belongs to a brand"),
        _not_null("start_date", WARN, "needed for the search lift"),
        _a_ge_b("end_date", "start_date", "start_before_end", "start_date <= end_date"),
        _between("budget_cny"),
    ),
    "campaign_posts": (
        _unique(["campaign_id", "note_id"]),
        _not_null("campaign_id"),
        _not_null("note_id"),
        _not_null("user_id", WARN, "the creator paid"),
        _between("fee_cny"),
    ),
    "search_index": (
        _unique(["date", "keyword"]),
        _not_null("date"),
        _not_null("keyword"),
        _between("search_index"),
    ),
    "rate_card": (
        _unique(["user_id"]),
        _not_null("user_id"),
        _between("image_price_cny"),
        _between("video_price_cny"),
    ),
    "store_traffic": (
        _unique(["date", "brand"]),
        _not_null("date"),
        _not_null("brand"),
        _between("store_visits"),
    ),
}


def register_suite(
    table: str,
    expectations: Sequence[ExpectationDef],
    helpers: Mapping[str, tuple[tuple[str, ...], HelperFn]] | None = None,
) -> None:
    """Add or replace the suite of a table (e.g. a mart); clears the cached GX suites of that table."""
    SUITES[table] = tuple(expectations)
    if helpers is not None:
        HELPERS[table] = dict(helpers)
    with _LOCK:
        for key in [k for k in _GX_SUITES if k[0] == table]:
            del _GX_SUITES[key]


# --------------------------------------------------------------------------------------------------------------------
# GX plumbing (lazy, cached per process)
# --------------------------------------------------------------------------------------------------------------------

_LOCK = threading.RLock()
_GX: dict[str, Any] = {}
_GX_BATCH_DEFS: dict[str, Any] = {}
_GX_SUITES: dict[tuple[Any, ...], Any] = {}
_DATASOURCE = "kol_pipeline_pandas"


def _gx_context() -> Any:
    """The process-wide ephemeral GX context (analytics and progress bars off)."""
    with _LOCK:
        if "context" not in _GX:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every dataframe batch (pandas.util.hash_pandas_object over all cells, twice per
            # validation: ~40 % of the time on 1M notes) only to label the batch. Our batches are not stored, so
            # the label is useless: fingerprint nothing (frames above HASH_THRESHOLD bytes are never fingerprinted).
            if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
                pandas_execution_engine.HASH_THRESHOLD = 0
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            _GX["gx"] = gx
            _GX["context"] = context
            _GX["datasource"] = context.data_sources.add_pandas(_DATASOURCE)
        return _GX["context"]


def _batch_definition(table: str) -> Any:
    with _LOCK:
        _gx_context()
        if table not in _GX_BATCH_DEFS:
            asset = _GX["datasource"].add_dataframe_asset(table)
            _GX_BATCH_DEFS[table] = asset.add_batch_definition_whole_dataframe(f"{table}_whole")
        return _GX_BATCH_DEFS[table]


def _expectation_class(expectation_type: str) -> Any:
    import great_expectations.expectations as gxe

    cls_name = "".join(part.capitalize() for part in expectation_type.split("_"))
    try:
        return getattr(gxe, cls_name)
    except AttributeError as exc:  # pragma: no cover - a typo in a suite
        raise ValueError(f"unknown GX expectation {expectation_type!r}") from exc


def _gx_suite(table: str, defs: Sequence[ExpectationDef], params: Mapping[str, Any]) -> Any:
    """The GX suite of ``defs`` (cached by table, expectation names and runtime parameters)."""
    key = (table, tuple(d.name for d in defs), tuple(sorted((k, v) for k, v in params.items())))
    with _LOCK:
        suite = _GX_SUITES.get(key)
        if suite is None:
            gx = _GX["gx"]
            suite = gx.ExpectationSuite(name=f"kol_{table}_{len(_GX_SUITES)}")
            for d in defs:
                kwargs = dict(d.kwargs)
                if d.param is not None:
                    kwargs[d.param_kwarg] = list(params[d.param])
                suite.add_expectation(
                    _expectation_class(d.expectation_type)(**kwargs, meta={"name": d.name, "severity": d.severity})
                )
            _GX_SUITES[key] = suite
        return suite


def _run_gx(
    table: str, frame: pd.DataFrame, defs: Sequence[ExpectationDef], params: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate ``frame`` against ``defs``; GX results keyed by expectation name."""
    _gx_context()
    suite = _gx_suite(table, defs, params)
    batch_def = _batch_definition(table)
    with _LOCK:
        batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(
            suite, result_format={"result_format": "BASIC", "partial_unexpected_count": _GX_PARTIAL_COUNT}
        )
        _GX["last_result"] = result
        _release_batches()
    return {r.expectation_config.meta["name"]: r for r in result.results}


def _release_batches() -> None:
    """Drop GX's references to the validated frames. The data source's execution engine keeps the last batch of
    each asset (the Batch, whose options hold the frame, and its batch data) until that asset is validated again,
    and our context lives as long as the process: the ingest step's 1M notes and 2M comments stayed in memory
    for the whole run (at 1M note rows: 0.4 GB of what stays resident after the step, and 4.91 -> 4.43 GB of the
    day's peak; BENCHMARKS.md, fourteenth session)."""
    manager = _GX["datasource"].get_execution_engine().batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def _build_data_docs(docs_dir: str | Path, table: str) -> None:
    """Write the last validation result of the process as GX Data Docs HTML under ``docs_dir`` (best effort)."""
    context = _GX["context"]
    site = f"kol_{abs(hash(str(Path(docs_dir).resolve())))}"
    with _LOCK:
        sites = context.get_config().data_docs_sites or {}
        if site not in sites:
            context.add_data_docs_site(
                site_name=site,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
        result = _GX["last_result"]
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        run_id = RunIdentifier(run_name=f"{table}-{pd.Timestamp.now(tz='UTC').strftime('%Y%m%dT%H%M%S%f')}")
        identifier = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
            run_id=run_id,
            batch_identifier=f"{table}",
        )
        context.validation_results_store.set(identifier, result)
        context.build_data_docs(site_names=[site], resource_identifiers=[identifier])


# --------------------------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------------------------


def _outcome_from_gx(d: ExpectationDef, res: Any) -> ExpectationOutcome:
    info = res.result or {}
    exc = res.exception_info or {}
    observed: dict[str, Any] = {}
    for k in ("element_count", "missing_count", "unexpected_percent", "observed_value"):
        if k in info:
            observed[k] = info[k]
    if exc.get("raised_exception"):
        observed["error"] = str(exc.get("exception_message"))
    values: list[str] = []
    for v in info.get("partial_unexpected_list") or []:
        s = _value_str(v)
        if s not in values:
            values.append(s)
        if len(values) >= MAX_UNEXPECTED_VALUES:
            break
    count = info.get("unexpected_count")
    return ExpectationOutcome(
        name=d.name,
        expectation_type=d.expectation_type,
        columns=d.columns,
        severity=d.severity,
        success=bool(res.success),
        unexpected_count=None if count is None else int(count),
        unexpected_values=values,
        observed=observed,
    )


def _skipped(d: ExpectationDef, why: str) -> ExpectationOutcome:
    return ExpectationOutcome(d.name, d.expectation_type, d.columns, d.severity, True, None, [], {"skipped": why})


def row_count_rules(
    table: str, rows: int, previous: int | None, settings: ValidationSettings
) -> list[ExpectationOutcome]:
    if previous is None:
        return []
    empty_fail = rows == 0 and previous > 0
    out = [
        ExpectationOutcome(
            "not_empty_after_rows",
            "rule:row_count_not_zero_after_nonzero",
            (),
            BLOCKING,
            not empty_fail,
            observed={"rows": rows, "previous_rows": previous},
        )
    ]
    if previous > 0 and rows > 0:
        change = (rows - previous) / previous
        ok = abs(change) <= settings.max_row_change
        observed: dict[str, Any] = {"rows": rows, "previous_rows": previous, "change": round(change, 4)}
    else:
        ok, observed = True, {"rows": rows, "previous_rows": previous, "skipped": "previous or current partition empty"}
    observed["max_row_change"] = settings.max_row_change
    out.append(ExpectationOutcome("row_count_change", "rule:row_count_change_within", (), WARN, ok, observed=observed))
    return out


def quarantine_rule(
    rows_read: int | None, rows_quarantined: int | None, settings: ValidationSettings
) -> list[ExpectationOutcome]:
    if rows_read is None or rows_quarantined is None:
        return []
    share = rows_quarantined / rows_read if rows_read > 0 else 0.0
    severity: Severity = BLOCKING if rows_read >= settings.min_rows_for_quarantine_block else WARN
    return [
        ExpectationOutcome(
            "quarantine_share",
            "rule:quarantine_share_at_most",
            (),
            severity,
            share <= settings.max_quarantine_share,
            unexpected_count=int(rows_quarantined),
            observed={
                "rows_read": int(rows_read),
                "rows_quarantined": int(rows_quarantined),
                "share": round(share, 6),
                "max_quarantine_share": settings.max_quarantine_share,
                "min_rows_for_quarantine_block": settings.min_rows_for_quarantine_block,
            },
        )
    ]


def _is_in(values: pd.Series, ids: pd.Series) -> np.ndarray:
    """Which values occur among ``ids`` (nulls never do): Arrow's hash lookup (2M comments' note ids against 1M
    notes in well under a second), on Arrow or object text alike."""
    if len(values) == 0 or len(ids) == 0:
        return np.zeros(len(values), dtype=bool)
    hit = pc.is_in(_arrow_strings(values), value_set=pc.unique(_arrow_strings(ids)), skip_nulls=True)
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def _arrow_strings(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as Arrow strings (without a copy when it already is one; ids that are not text as str)."""
    arr = getattr(values.array, "_pa_array", None)
    if arr is not None and pa.types.is_string(arr.type):
        return arr
    obj = values.to_numpy(dtype=object)
    return pa.array(
        [v if v is None or isinstance(v, str) else (None if pd.isna(v) else str(v)) for v in obj], type=pa.string()
    )


def comments_on_uncrawled_notes(
    comments: pd.DataFrame, notes: pd.DataFrame, known_before: Callable[[set[str]], set[str]] | None = None
) -> pd.DataFrame:
    """The comments (note_id, snapshot_date rows of ``comments``) whose note was not crawled by the comment's day:
    not in ``notes`` (the same run's notes) on that day or an earlier one, nor among the ids that
    ``known_before`` (note ids -> those known before the run, e.g. from the warehouse) returns. ``known_before`` is
    asked once, only for the note ids the run's notes do not hold. Comments without a note_id are not counted
    (``note_id_not_null`` warns about them). Such comments are valid rows (contract section 2): this only counts."""
    c = comments.loc[comments["note_id"].notna(), ["note_id", "snapshot_date"]] if len(comments) else comments
    if len(c) == 0:
        return pd.DataFrame({"note_id": pd.Series([], dtype=object), "snapshot_date": pd.Series([], dtype=object)})
    hit = _is_in(c["note_id"], notes["note_id"]) if len(notes) else np.zeros(len(c), dtype=bool)
    if hit.any():
        # a note first crawled after the comment's day was not crawled by then
        rows = np.flatnonzero(hit)
        note_days = pd.to_datetime(notes["snapshot_date"])
        if note_days.nunique() == 1:  # a one-day run: no per-note look-up
            first_day = np.full(len(rows), note_days.iloc[0].to_datetime64())
        else:
            first = note_days.groupby(notes["note_id"].astype(object).to_numpy()).min()
            first_day = pd.to_datetime(c["note_id"].iloc[rows].astype(object).map(first)).to_numpy()
        hit[rows] = first_day <= pd.to_datetime(c["snapshot_date"].iloc[rows]).to_numpy()
    lacking = c[~hit]
    if len(lacking) and known_before is not None:
        found = known_before({str(v) for v in lacking["note_id"].unique()})
        if found:
            lacking = lacking[~_is_in(lacking["note_id"], pd.Series(sorted(found), dtype=object))]
    return lacking.reset_index(drop=True)


def note_crawled_rule(uncrawled: pd.DataFrame) -> ExpectationOutcome:
    """Warn-severity outcome over the result of :func:`comments_on_uncrawled_notes`: ``unexpected_count`` = the
    comments, ``unexpected_values`` = the first note ids (sorted), ``observed`` = comments, distinct notes, and
    comments per day."""
    ids = sorted({str(v) for v in uncrawled["note_id"].unique()}) if len(uncrawled) else []
    by_day = uncrawled.groupby("snapshot_date").size() if len(uncrawled) else pd.Series([], dtype="int64")
    return ExpectationOutcome(
        "comment_note_crawled",
        "rule:comment_note_in_notes",
        ("note_id",),
        WARN,
        not len(uncrawled),
        unexpected_count=int(len(uncrawled)),
        unexpected_values=ids[:MAX_UNEXPECTED_VALUES],
        observed={
            "comments": int(len(uncrawled)),
            "notes": len(ids),
            "by_day": {str(d): int(n) for d, n in by_day.items()},
        },
    )


def list_columns(df: pd.DataFrame, table: str) -> list[str]:
    """Columns holding lists (tags, brands, ...): from the schema, plus object columns whose first value is a list."""
    import pyarrow as pa

    out: list[str] = []
    spec = TABLES.get(table)
    if spec is not None:
        out = [c.name for c in spec.columns if pa.types.is_list(c.type) or pa.types.is_large_list(c.type)]
    for c in df.columns:
        if c in out or df[c].dtype != object:
            continue
        if isinstance(first_non_null(df[c].to_numpy()), (list, tuple, np.ndarray, dict, set)):
            out.append(c)
    return [c for c in out if c in df.columns]


def first_non_null(values: np.ndarray, chunk: int = 4096) -> Any:
    """The first value that is not null (None if there is none), looking at `chunk` values at a time: a column's
    `dropna()` tested and copied every value (1.8 s over the 1M-row day's tables)."""
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        ok = pd.notna(part)
        if ok.any():
            return part[int(ok.argmax())]
    return None


def _gx_friendly(values: Any) -> Any:
    """Nullable numbers (Int64, Float64) as numpy int64/float64 (NaN for null): GX's range check is vectorized only
    for numpy dtypes and maps a Python function over every value of a masked array (about 60x slower)."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.core.dtypes.dtypes.BaseMaskedDtype) and dtype.kind in "iuf":
        if not values.isna().any():
            return values.to_numpy(dtype=dtype.numpy_dtype)
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return values


def validate_table(
    table: str,
    df: pd.DataFrame,
    *,
    previous_row_count: int | None = None,
    rows_read: int | None = None,
    rows_quarantined: int | None = None,
    allowed_categories: Sequence[str] | None = None,
    settings: ValidationSettings = ValidationSettings(),
) -> ValidationReport:
    """Validate one partition (or whole unpartitioned table) of ``table``.

    - ``previous_row_count``: rows of the previous partition (row-count rules; None = not checked);
    - ``rows_read`` / ``rows_quarantined``: input rows of the ingest step for this partition (quarantine share rule);
    - ``allowed_categories``: the categories of reference/categories.csv (None = category check skipped).

    GX expectations run on a copy without list columns and with helper columns; an empty frame skips GX (every
    expectation is reported as skipped) and only the table-level rules are evaluated.
    """
    if table not in SUITES:
        raise KeyError(f"no validation suite for table {table!r}; known: {sorted(SUITES)}")
    defs = SUITES[table]
    rows = int(len(df))
    params: dict[str, Any] = {}
    if allowed_categories is not None:
        params["allowed_categories"] = tuple(str(c) for c in allowed_categories)

    results: list[ExpectationOutcome] = []

    # required columns (schema): missing ones are blocking and their expectations cannot run
    spec = TABLES.get(table)
    required = spec.column_names if spec is not None else []
    missing = [c for c in required if c not in df.columns]
    if spec is not None:
        results.append(
            ExpectationOutcome(
                "required_columns_present",
                "rule:required_columns_present",
                (),
                BLOCKING,
                not missing,
                unexpected_count=len(missing),
                unexpected_values=missing[:MAX_UNEXPECTED_VALUES],
            )
        )

    # build the frame GX sees: no list columns, plus helper columns whose inputs are present
    helpers = HELPERS.get(table, {})
    runnable: list[ExpectationDef] = []
    skipped: dict[str, ExpectationOutcome] = {}
    for d in defs:
        cols_needed: list[str] = []
        for c in d.columns:
            cols_needed.extend(helpers[c][0] if c in helpers else [c])
        absent = [c for c in cols_needed if c not in df.columns]
        if absent:
            skipped[d.name] = ExpectationOutcome(
                d.name,
                d.expectation_type,
                d.columns,
                d.severity,
                False,
                None,
                [],
                {"error": f"missing columns {absent}"},
            )
        elif d.param is not None and d.param not in params:
            skipped[d.name] = _skipped(d, f"no {d.param} given")
        elif rows == 0:
            skipped[d.name] = _skipped(d, "empty frame")
        else:
            runnable.append(d)

    gx_results: dict[str, Any] = {}
    if runnable:
        used = {c for d in runnable for c in d.columns}
        list_cols = set(list_columns(df, table))
        keep = [c for c in df.columns if c in used and c not in list_cols and c not in helpers]
        columns: dict[str, Any] = {c: df[c].array for c in keep}
        for name, (_, fn) in helpers.items():
            if name in used:
                columns[name] = fn(df, settings).array
        frame = pd.DataFrame({c: _gx_friendly(a) for c, a in columns.items()})  # RangeIndex; caller's frame untouched
        gx_results = _run_gx(table, frame, runnable, params)
        if settings.docs_dir is not None:
            _build_data_docs(settings.docs_dir, table)

    for d in defs:
        if d.name in skipped:
            results.append(skipped[d.name])
        else:
            results.append(_outcome_from_gx(d, gx_results[d.name]))

    results.extend(row_count_rules(table, rows, previous_row_count, settings))
    results.extend(quarantine_rule(rows_read, rows_quarantined, settings))
    return ValidationReport(table=table, row_count=rows, results=results)


def summarize_quarantine(quarantine_df: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows counted per (snapshot_date, source, reason), most frequent first within a day.

    Columns: ``snapshot_date, source, reason, rows, files`` (distinct source files). A frame without
    ``snapshot_date`` (e.g. one partition read on its own) is grouped by source and reason only.
    """
    keys = [c for c in ("snapshot_date", "source", "reason") if c in quarantine_df.columns]
    cols = keys + ["rows", "files"]
    if quarantine_df.empty or not keys:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("rows", "files") else object) for c in cols})
    files = (
        quarantine_df["source_file"]
        if "source_file" in quarantine_df.columns
        else pd.Series(pd.NA, index=quarantine_df.index)
    )
    g = quarantine_df.assign(_file=files).groupby(keys, dropna=False, sort=False)
    out = g.agg(rows=("_file", "size"), files=("_file", "nunique")).reset_index()
    order = [k for k in ("snapshot_date",) if k in keys]
    out = out.sort_values(
        order + ["rows"] + [k for k in ("source", "reason") if k in keys],
        ascending=[True] * len(order) + [False] + [True] * (len(keys) - len(order)),
        kind="mergesort",
    ).reset_index(drop=True)
    out["rows"] = out["rows"].astype("int64")
    out["files"] = out["files"].astype("int64")
    return out[cols]


def report_to_json(report: ValidationReport) -> str:
    """The report as JSON text (to_dict, serialized)."""
    return json.dumps(report.to_dict(), ensure_ascii=False)
