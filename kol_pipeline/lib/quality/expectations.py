"""The expectation model of table validation and its report: the thresholds of the table-level rules
(:class:`ValidationSettings`), one expectation as data (:class:`ExpectationDef`), the result of one expectation or rule
(:class:`ExpectationOutcome`), every result on one table partition (:class:`ValidationReport`, with its Markdown and
JSON forms), the two severities, and the helpers that make GX / numpy values readable and JSON-serializable. Nothing
here imports Great Expectations. The public entry point is :mod:`kol_pipeline.lib.quality.validation`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kol_pipeline.lib.settings import DEFAULT_TIER_BOUNDS

Severity = Literal["blocking", "warn"]
BLOCKING: Severity = "blocking"
WARN: Severity = "warn"

#: how many unexpected values an outcome keeps (as strings)
MAX_UNEXPECTED_VALUES = 10


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


def report_to_json(report: ValidationReport) -> str:
    """The report as JSON text (to_dict, serialized)."""
    return json.dumps(report.to_dict(), ensure_ascii=False)
