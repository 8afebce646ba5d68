"""running.run_job (how `kol-pipeline run` and the benchmark harness execute jobs) keeps no step output in
memory once it is handed to the IO manager; execute_in_process keeps all of them until the run ends."""

from __future__ import annotations

import gc
import weakref

import dagster as dg
import pandas as pd
import pytest

from kol_pipeline.orchestration import running

_refs: dict[str, weakref.ref] = {}
_seen: dict[str, bool] = {}


class _Discard(dg.IOManager):
    """Stores nothing: whatever still holds an output after handle_output is the executor."""

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        return None

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        return pd.DataFrame({"x": [0]})


@dg.asset
def first_table() -> pd.DataFrame:
    df = pd.DataFrame({"x": range(1000)})
    _refs["first_table"] = weakref.ref(df)
    return df


@dg.asset(deps=[first_table])
def second_table() -> pd.DataFrame:
    gc.collect()
    _seen["first_alive"] = _refs["first_table"]() is not None
    return pd.DataFrame({"x": [1]})


def _defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[first_table, second_table],
        jobs=[dg.define_asset_job("both_tables", selection=[first_table, second_table])],
        resources={"io_manager": _Discard()},
        executor=dg.in_process_executor,
    )


@pytest.fixture(autouse=True)
def _fresh():
    _refs.clear()
    _seen.clear()


def test_run_job_releases_each_output_after_the_io_manager(monkeypatch):
    monkeypatch.setattr(running, "load_definitions", _defs)
    with running.run_job("both_tables", dg.DagsterInstance.ephemeral()) as result:
        assert result.success
        done = {
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key is not None
        }
    assert done == {"first_table", "second_table"}
    assert _seen == {"first_alive": False}


def test_execute_in_process_keeps_outputs_which_is_why_run_job_exists():
    result = _defs().resolve_job_def("both_tables").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert _seen == {"first_alive": True}
