"""The Great Expectations side of table validation: the process-wide ephemeral GX context (imported lazily, about
2.5-6 s; analytics and progress bars off), its pandas data source, one dataframe asset and batch definition per
table, the GX suites built from :class:`~kol_pipeline.lib.quality.expectations.ExpectationDef` (cached per table and
runtime parameters), running a suite on a frame (:func:`run_gx`, which releases GX's batches afterwards), the
optional Data Docs site, the conversion of a GX result into an
:class:`~kol_pipeline.lib.quality.expectations.ExpectationOutcome`, and the numpy dtypes GX is fast on. One lock
(``_LOCK``) serializes every use of the context within a process (the GX context is not thread-safe).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kol_pipeline.lib.quality.expectations import MAX_UNEXPECTED_VALUES, ExpectationDef, ExpectationOutcome

#: how many unexpected values GX collects per expectation (BASIC result format)
_GX_PARTIAL_COUNT = 20


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


def run_gx(
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


def build_data_docs(docs_dir: str | Path, table: str) -> None:
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


def forget_suites(table: str) -> None:
    """Drop the cached GX suites of ``table``: its suite was replaced (:func:`suites.register_suite`)."""
    with _LOCK:
        for key in [k for k in _GX_SUITES if k[0] == table]:
            del _GX_SUITES[key]


# --------------------------------------------------------------------------------------------------------------------
# GX results and frames
# --------------------------------------------------------------------------------------------------------------------


def outcome_from_gx(d: ExpectationDef, res: Any) -> ExpectationOutcome:
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


def gx_friendly(values: Any) -> Any:
    """Nullable numbers (Int64, Float64) as numpy int64/float64 (NaN for null): GX's range check is vectorized only
    for numpy dtypes and maps a Python function over every value of a masked array (about 60x slower)."""
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.core.dtypes.dtypes.BaseMaskedDtype) and dtype.kind in "iuf":
        if not values.isna().any():
            return values.to_numpy(dtype=dtype.numpy_dtype)
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return values
