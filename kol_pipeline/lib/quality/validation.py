"""Table-level validation of the cleaned and brand tables with Great Expectations 1.x (called directly).

Each table has a suite: a tuple of :class:`ExpectationDef` (data, not GX objects) with a severity:

- ``blocking``: the partition is unusable (key uniqueness, non-null keys, required columns, an empty partition where
  the previous one had rows, too many quarantined rows);
- ``warn``: values out of range, unknown labels, drift; the partition is still written and used.

Besides the GX expectations, :func:`validate_table` evaluates table-level rules in pandas (required columns,
row count against the previous partition, quarantine share) and returns one :class:`ValidationReport` with all of
them. Great Expectations is imported lazily (about 2.5-6 s): importing this module stays cheap. The GX context,
data assets and suites are built once per process and reused. docs/validation.md lists every suite.

This module is the public entry point; it re-exports the names below from the modules that hold them:
``expectations`` (settings, expectation and report model), ``suites`` (the suites and their helper columns),
``gx_runner`` (the lazily imported GX context and running a suite) and ``rules`` (:func:`validate_table` and the
rules evaluated in pandas). Callers import from here (``from kol_pipeline.lib.quality import validation as val``);
benchmarks/io_time.py times ``validate_table`` by replacing this module's attribute.
"""

from __future__ import annotations

from kol_pipeline.lib.quality.expectations import (
    BLOCKING,
    MAX_UNEXPECTED_VALUES,
    WARN,
    ExpectationDef,
    ExpectationOutcome,
    Severity,
    ValidationReport,
    ValidationSettings,
    report_to_json,
)
from kol_pipeline.lib.quality.rules import (
    comments_on_uncrawled_notes,
    first_non_null,
    list_columns,
    note_crawled_rule,
    quarantine_rule,
    row_count_rules,
    summarize_quarantine,
    validate_table,
)
from kol_pipeline.lib.quality.suites import (
    COMMENT_CLASSES,
    HELPERS,
    NOTE_TYPES,
    QUARANTINE_SOURCES,
    SUITES,
    HelperFn,
    register_suite,
)

__all__ = [
    "BLOCKING",
    "COMMENT_CLASSES",
    "HELPERS",
    "MAX_UNEXPECTED_VALUES",
    "NOTE_TYPES",
    "QUARANTINE_SOURCES",
    "SUITES",
    "WARN",
    "ExpectationDef",
    "ExpectationOutcome",
    "HelperFn",
    "Severity",
    "ValidationReport",
    "ValidationSettings",
    "comments_on_uncrawled_notes",
    "first_non_null",
    "list_columns",
    "note_crawled_rule",
    "quarantine_rule",
    "register_suite",
    "report_to_json",
    "row_count_rules",
    "summarize_quarantine",
    "validate_table",
]
