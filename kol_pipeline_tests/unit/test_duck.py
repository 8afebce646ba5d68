"""Every DuckDB connection of the pipeline is bounded by configuration (lib/duck.py, DuckDBConfig): the settings
reach the connection, the environment fills what the resource leaves unset, and the IO manager's own DuckDB
reads use the resource's bounds."""

from __future__ import annotations

import dagster as dg
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.resources.settings import DuckDBConfig
from kol_pipeline.resources.warehouse import Warehouse, WarehouseIOManager


def _setting(con, name: str):
    return con.sql("SELECT current_setting($n)", params={"n": name}).fetchall()[0][0]


def test_connect_applies_the_settings(tmp_path):
    spill = tmp_path / "spill"
    con = duck.connect(
        duck.DuckSettings(memory_limit="300MB", threads=1, temp_directory=str(spill), preserve_insertion_order=False)
    )
    try:
        assert _setting(con, "threads") == 1
        assert _setting(con, "memory_limit") == "286.1 MiB"  # 300 MB in DuckDB's binary units
        assert _setting(con, "temp_directory") == str(spill)
        assert _setting(con, "preserve_insertion_order") is False
        assert _setting(con, "autoinstall_known_extensions") is False
        assert spill.is_dir()  # created, so that a spill does not fail on a missing folder
    finally:
        con.close()


def test_a_block_with_fewer_threads_gives_them_back(tmp_path):
    """``duck.threads``: the block runs with the number asked for (never more than configured), and the
    connection has its own number again afterwards, also when the block raises."""
    con = duck.connect(duck.DuckSettings(threads=2, temp_directory=str(tmp_path)))
    try:
        with duck.threads(con, 1):
            assert _setting(con, "threads") == 1
        assert _setting(con, "threads") == 2
        with duck.threads(con, 8):
            assert _setting(con, "threads") == 2
        with pytest.raises(ValueError), duck.threads(con, 1):
            raise ValueError("inside")
        assert _setting(con, "threads") == 2
    finally:
        con.close()


def test_a_block_with_a_setting_gives_the_previous_value_back(tmp_path):
    """``duck.setting``: a boolean or integer setting holds inside the block, and the value the connection had
    (not DuckDB's default) is back afterwards, also when the block raises."""
    con = duck.connect(duck.DuckSettings(preserve_insertion_order=False, temp_directory=str(tmp_path)))
    try:
        with duck.setting(con, "preserve_insertion_order", True):
            assert _setting(con, "preserve_insertion_order") is True
        assert _setting(con, "preserve_insertion_order") is False
        con.execute("SET partitioned_write_flush_threshold = 1234")
        with pytest.raises(ValueError), duck.setting(con, "partitioned_write_flush_threshold", 99):
            assert _setting(con, "partitioned_write_flush_threshold") == 99
            raise ValueError("inside")
        assert _setting(con, "partitioned_write_flush_threshold") == 1234
    finally:
        con.close()


def test_environment_and_defaults(monkeypatch, tmp_path):
    for name in (duck.ENV_MEMORY_LIMIT, duck.ENV_THREADS, duck.ENV_TEMP_DIR, duck.ENV_PRESERVE_ORDER):
        monkeypatch.delenv(name, raising=False)
    assert duck.DuckSettings.from_env() == duck.DuckSettings("1GB", 2, "", True)
    assert duck.DuckSettings().config()["temp_directory"] == duck.default_temp_dir()
    env = {
        duck.ENV_MEMORY_LIMIT: "2GB",
        duck.ENV_THREADS: "3",
        duck.ENV_TEMP_DIR: str(tmp_path),
        duck.ENV_PRESERVE_ORDER: "false",
    }
    assert duck.DuckSettings.from_env(env) == duck.DuckSettings("2GB", 3, str(tmp_path), False)
    with pytest.raises(ValueError, match="boolean"):
        duck.DuckSettings.from_env({duck.ENV_PRESERVE_ORDER: "maybe"})
    with pytest.raises(ValueError, match="at least 1"):
        duck.DuckSettings(threads=0).config()


def test_resource_fields_override_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(duck.ENV_MEMORY_LIMIT, "700MB")
    monkeypatch.setenv(duck.ENV_THREADS, "1")
    monkeypatch.delenv(duck.ENV_TEMP_DIR, raising=False)
    monkeypatch.delenv(duck.ENV_PRESERVE_ORDER, raising=False)
    assert DuckDBConfig().to_settings() == duck.DuckSettings("700MB", 1, "", True)
    assert DuckDBConfig(threads=2, temp_directory=str(tmp_path)).to_settings() == duck.DuckSettings(
        "700MB", 2, str(tmp_path), True
    )
    # read when the run resolves the resource, not at import: a later change of the environment is seen
    monkeypatch.setenv(duck.ENV_MEMORY_LIMIT, "900MB")
    assert DuckDBConfig().to_settings().memory_limit == "900MB"


def test_the_io_manager_carries_the_bounds(monkeypatch, tmp_path):
    monkeypatch.setenv(duck.ENV_THREADS, "1")
    iom = WarehouseIOManager(
        warehouse=Warehouse(base_path=str(tmp_path), duckdb_config=DuckDBConfig(memory_limit="400MB"))
    ).create_io_manager(dg.build_init_resource_context())
    assert (iom.duck.memory_limit, iom.duck.threads) == ("400MB", 1)


def test_bucket_count_is_the_ceiling_and_at_least_one():
    assert [duck.bucket_count(r, 10) for r in (0, 1, 10, 11, 20, 21)] == [1, 1, 1, 2, 2, 3]
    assert duck.bucket_count(5, 0) == 5  # a bucket size below one counts as one row a bucket
