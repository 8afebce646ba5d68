"""Outputs written by DuckDB: an asset may return an Arrow table or a DuckDB relation instead of a pandas frame; the
warehouse IO manager writes it with DuckDB's COPY ... TO into the same layout, with the registry's types, the same
metadata, and atomically (a failed write leaves the previous partition readable), locally and on S3 (moto)."""

import datetime as dt
import os
import posixpath

import dagster as dg
import duckdb
import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kol_pipeline.lib.schemas import TABLES, conform
from kol_pipeline.resources import duck_write
from kol_pipeline.resources import io_manager as iom
from kol_pipeline.resources.io_manager import make_base_path, read_table
from kol_pipeline.resources.warehouse import WarehouseIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="Asia/Shanghai")
SPEC = TABLES["note_metrics"]
D1, D2, D3 = "2025-01-01", "2025-01-02", "2025-01-03"
# what the assets return, set by each test: a function of the run's partition keys
MAKE: dict = {}


def _value(arrow_type: pa.DataType, i: int, day: int):
    if pa.types.is_string(arrow_type):
        return None if i == 2 else f"v{day}-{i}"
    if pa.types.is_boolean(arrow_type):
        return [True, False, None][i % 3]
    if pa.types.is_integer(arrow_type):
        return None if i == 1 else (i if arrow_type.bit_width == 8 else day * 100 + i)
    if pa.types.is_floating(arrow_type):
        return [0.1 * i + day, np.nan, 1e-9 * (i + 1)][i % 3]
    if pa.types.is_date(arrow_type):
        return dt.date(2024, 12, 1) + dt.timedelta(days=i + day)
    if pa.types.is_timestamp(arrow_type):
        if arrow_type.tz is None:  # the states' naive millisecond crawl times
            return pd.Timestamp(2025, 1, day, 3, 0, 7, 123000) + pd.Timedelta(seconds=i)
        return pd.Timestamp(2025, 1, day, 3, 0, 7, 123456, tz="UTC") + pd.Timedelta(seconds=i)
    if pa.types.is_list(arrow_type):
        if pa.types.is_floating(arrow_type.value_type):
            return [[1.5, None, 2.0], [], None][i % 3]
        return [["a", "b"], [], None][i % 3]
    raise TypeError(arrow_type)


def table_frame(spec, days: list[str], rows: int = 3) -> pd.DataFrame:
    """Rows of every column of ``spec`` (nulls, NaN, lists, timestamps) for each of ``days``."""
    out = []
    for d in days:
        day = dt.date.fromisoformat(d)
        for i in range(rows):
            row = {c.name: _value(c.type, i, day.day) for c in spec.columns}
            if "snapshot_date" in row:
                row["snapshot_date"] = day
            out.append(row)
    return pd.DataFrame(out, columns=spec.column_names)


def metrics_frame(days: list[str], rows: int = 3) -> pd.DataFrame:
    """note_metrics rows of every column type for each of ``days``."""
    df = table_frame(SPEC, days, rows)
    df["note_id"] = [f"n{d.day}-{i % rows}" for i, d in enumerate(df["snapshot_date"])]
    return df


def sloppy_arrow(df: pd.DataFrame) -> pa.Table:
    """The frame as Arrow with types an asset's SQL would give: int32 counts, large strings, a timestamp
    in ns, snapshot_date as a timestamp, and the columns in another order (the writer casts to the registry)."""
    t = conform(df, SPEC)
    cols = {}
    for f in t.schema:
        col = t.column(f.name)
        if f.type == pa.int64():
            col = col.cast(pa.int32())
        elif f.type == pa.string():
            col = col.cast(pa.large_string())
        elif pa.types.is_timestamp(f.type):
            col = col.cast(pa.timestamp("ns", tz="Asia/Shanghai"))
        elif f.name == "snapshot_date":
            col = col.cast(pa.timestamp("us"))
        cols[f.name] = col
    names = list(reversed(list(cols)))
    return pa.table({n: cols[n] for n in names})


@dg.asset(key="note_metrics", partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def metrics_asset(context: dg.AssetExecutionContext):
    return MAKE["note_metrics"](list(context.partition_keys))


@dg.asset(key="brands")
def brands_asset():
    return MAKE["brands"]()


def _run(resources: dict, keys: list[str] | None = None, asset=metrics_asset, raise_on_error: bool = True):
    kwargs: dict = {}
    if keys is not None and len(keys) == 1:
        kwargs["partition_key"] = keys[0]
    elif keys is not None:
        kwargs["tags"] = {
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        }
    return dg.materialize([asset], resources=resources, raise_on_error=raise_on_error, **kwargs)


def _expected(df: pd.DataFrame, tmp_path) -> pd.DataFrame:
    """What the pandas path stores for ``df``: written by the same IO manager in another warehouse, read back."""
    other = str(tmp_path / "pandas_wh")
    days = sorted({d.isoformat() for d in df["snapshot_date"]})
    MAKE["note_metrics"] = lambda keys: df[df["snapshot_date"].map(lambda d: d.isoformat() in keys)]
    _run({"io_manager": WarehouseIOManager.at(other)}, days)
    return read_table(other, "note_metrics")


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["snapshot_date", "note_id"]).reset_index(drop=True)


def _files(fs, root: str) -> list[str]:
    return sorted(posixpath.relpath(p, root) for p in fs.find(root, withdirs=False))


def _day_counts(result) -> dict[str, int]:
    metas = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    return {m.partition: m.metadata["dagster/row_count"].value for m in metas}


@pytest.fixture(params=["arrow", "relation", "reader"])
def kind(request):
    return request.param


def _as(kind: str, table: pa.Table, con: duckdb.DuckDBPyConnection):
    """``table`` as the asset returns it: an Arrow table, a DuckDB relation or a stream of record batches."""
    if kind == "reader":
        return table.to_reader()
    return table if kind == "arrow" else con.from_arrow(table)


def test_arrow_and_relation_outputs_store_what_pandas_stores(tmp_path, kind):
    df = metrics_frame([D1, D2, D3])
    expected = _expected(df, tmp_path)
    base = str(tmp_path / "wh")
    con = duckdb.connect()
    MAKE["note_metrics"] = lambda keys: _as(
        kind, sloppy_arrow(df[df["snapshot_date"].map(lambda d: d.isoformat() in keys)]), con
    )
    result = _run({"io_manager": WarehouseIOManager.at(base)}, [D1, D2, D3])
    got = read_table(base, "note_metrics")
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected))
    # the layout: one part-0.parquet per day, nothing else left (no staging folder, no temporary file)
    assert _files(fsspec.filesystem("file"), os.path.join(base, "note_metrics")) == [
        f"snapshot_date={d}/part-0.parquet" for d in (D1, D2, D3)
    ]
    # the registry's Arrow schema exactly (without snapshot_date, which the folder names)
    schema = pq.read_schema(os.path.join(base, "note_metrics", f"snapshot_date={D2}", "part-0.parquet"))
    want = pa.schema([f for f in SPEC.schema if f.name != "snapshot_date"])
    assert [(f.name, f.type) for f in schema] == [(f.name, f.type) for f in want]
    # each day's materialization carries its own row count
    assert _day_counts(result) == {D1: 3, D2: 3, D3: 3}
    con.close()


def test_one_day_metadata_equals_the_pandas_outputs(tmp_path, kind):
    df = metrics_frame([D2], rows=7)
    con = duckdb.connect()
    metas = {}
    for how in ("pandas", kind):
        MAKE["note_metrics"] = (lambda keys: df) if how == "pandas" else (lambda keys: _as(kind, sloppy_arrow(df), con))
        result = _run({"io_manager": WarehouseIOManager.at(str(tmp_path / how))}, [D2])
        (ev,) = result.get_asset_materialization_events()
        metas[how] = ev.event_specific_data.materialization.metadata
    con.close()
    for key in ("dagster/row_count", "dagster/column_schema", "partitions_written", "partitions_empty"):
        assert metas[kind][key] == metas["pandas"][key], key
    assert metas[kind]["dagster/row_count"].value == 7
    # the preview shows the same rows and columns (the pandas one prints the asset's own frame, the DuckDB one the
    # stored rows: equal cells here, where the frame holds the stored types)
    assert metas[kind]["preview"].value.splitlines()[0] == metas["pandas"]["preview"].value.splitlines()[0]
    assert len(metas[kind]["preview"].value.splitlines()) == 2 + 5


def test_a_day_without_rows_is_removed_and_other_days_stay(tmp_path, kind):
    base = str(tmp_path / "wh")
    con = duckdb.connect()
    MAKE["note_metrics"] = lambda keys: _as(kind, sloppy_arrow(metrics_frame(keys)), con)
    _run({"io_manager": WarehouseIOManager.at(base)}, [D1, D2, D3])
    MAKE["note_metrics"] = lambda keys: _as(kind, sloppy_arrow(metrics_frame([D1], rows=5)), con)
    result = _run({"io_manager": WarehouseIOManager.at(base)}, [D1, D2])
    got = read_table(base, "note_metrics")
    assert got.groupby("snapshot_date").size().to_dict() == {dt.date(2025, 1, 1): 5, dt.date(2025, 1, 3): 3}
    assert not os.path.exists(os.path.join(base, "note_metrics", f"snapshot_date={D2}"))
    assert _day_counts(result) == {D1: 5, D2: 0}
    con.close()


def _failing_relation(con: duckdb.DuckDBPyConnection, keys: list[str]) -> duckdb.DuckDBPyRelation:
    """A relation whose query fails while DuckDB writes it: a count column holds text that does not cast."""
    good = sloppy_arrow(metrics_frame(keys, rows=20_000)).drop_columns(["likes"])
    likes = pa.array([str(i) if i < 19_990 else "not a number" for i in range(good.num_rows)])
    return con.from_arrow(good.append_column("likes", likes))


def test_a_failing_copy_leaves_the_previous_partition_readable(tmp_path):
    base = str(tmp_path / "wh")
    io = {"io_manager": WarehouseIOManager.at(base)}
    MAKE["note_metrics"] = lambda keys: sloppy_arrow(metrics_frame(keys, rows=4))
    _run(io, [D1, D2])
    before = read_table(base, "note_metrics")
    con = duckdb.connect()
    MAKE["note_metrics"] = lambda keys: _failing_relation(con, keys)
    result = _run(io, [D1, D2], raise_on_error=False)
    assert not result.success
    assert "not a number" in str(result.get_step_failure_events()[0].event_specific_data.error)
    pd.testing.assert_frame_equal(read_table(base, "note_metrics"), before)
    assert _files(fsspec.filesystem("file"), os.path.join(base, "note_metrics")) == [
        f"snapshot_date={d}/part-0.parquet" for d in (D1, D2)
    ]
    con.close()


def test_rows_of_other_days_or_without_a_day_are_refused_before_anything_is_committed(tmp_path, kind):
    base = str(tmp_path / "wh")
    io = {"io_manager": WarehouseIOManager.at(base)}
    MAKE["note_metrics"] = lambda keys: sloppy_arrow(metrics_frame(keys, rows=2))
    _run(io, [D1])
    before = read_table(base, "note_metrics")
    con = duckdb.connect()
    for bad in ([D1, D3], "null"):
        if bad == "null":
            frame = metrics_frame([D1])
            frame["snapshot_date"] = [dt.date(2025, 1, 1), None, dt.date(2025, 1, 1)]
        else:
            frame = metrics_frame(bad, rows=5)
        MAKE["note_metrics"] = lambda keys, frame=frame: _as(kind, sloppy_arrow(frame), con)
        with pytest.raises(Exception, match="outside the run's partitions|null or unparseable"):
            _run(io, [D1])
        pd.testing.assert_frame_equal(read_table(base, "note_metrics"), before)
    assert _files(fsspec.filesystem("file"), os.path.join(base, "note_metrics")) == [
        f"snapshot_date={D1}/part-0.parquet"
    ]
    con.close()


def test_an_unpartitioned_table_from_arrow_replaces_the_file(tmp_path, kind):
    base = str(tmp_path / "wh")
    con = duckdb.connect()
    rows = pd.DataFrame({"brand": ["A", "B"], "aliases": [["a", "aa"], []], "category": ["skincare", None]})
    rows = rows.reindex(columns=TABLES["brands"].column_names)
    table = conform(rows, TABLES["brands"])
    MAKE["brands"] = lambda: _as(kind, table, con)
    _run({"io_manager": WarehouseIOManager.at(base)}, asset=brands_asset)
    MAKE["brands"] = lambda: _as(kind, table.slice(1), con)
    result = _run({"io_manager": WarehouseIOManager.at(base)}, asset=brands_asset)
    got = read_table(base, "brands")
    assert got["brand"].tolist() == ["B"]
    assert _files(fsspec.filesystem("file"), os.path.join(base, "brands")) == ["brands.parquet"]
    (ev,) = result.get_asset_materialization_events()
    assert ev.event_specific_data.materialization.metadata["dagster/row_count"].value == 1
    con.close()


def test_s3_writes_the_same_files_and_a_failed_write_keeps_the_old(moto_s3, tmp_path):
    bucket = moto_s3.bucket("kolduck")
    base = f"s3://{bucket}/wh"
    io = {"io_manager": WarehouseIOManager.at(base, storage_options=moto_s3.storage_options)}
    df = metrics_frame([D1, D2])
    expected = _expected(df, tmp_path)
    con = duckdb.connect()
    MAKE["note_metrics"] = lambda keys: con.from_arrow(sloppy_arrow(df))
    _run(io, [D1, D2])
    got = read_table(base, "note_metrics", storage_options=moto_s3.storage_options)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected))
    fs = make_base_path(base, moto_s3.storage_options).fs
    root = f"{bucket}/wh/note_metrics"
    assert _files(fs, root) == [f"snapshot_date={d}/part-0.parquet" for d in (D1, D2)]
    MAKE["note_metrics"] = lambda keys: _failing_relation(con, keys)
    assert not _run(io, [D1, D2], raise_on_error=False).success
    again = read_table(base, "note_metrics", storage_options=moto_s3.storage_options)
    pd.testing.assert_frame_equal(_sorted(again), _sorted(expected))
    assert _files(fs, root) == [f"snapshot_date={d}/part-0.parquet" for d in (D1, D2)]
    con.close()


def test_conform_relation_casts_to_the_registry_and_refuses_a_missing_column():
    con = duckdb.connect()
    rel = con.from_arrow(sloppy_arrow(metrics_frame([D1])))
    out = duck_write.conform_relation(rel, SPEC, "snapshot_date")
    assert out.columns == [c for c in SPEC.column_names if c != "snapshot_date"] + ["snapshot_date"]
    types = dict(zip(out.columns, [str(t) for t in out.types]))
    assert types["likes"] == "BIGINT" and types["crawled_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["brands"] == "VARCHAR[]" and types["snapshot_date"] == "DATE"
    with pytest.raises(ValueError, match="missing columns"):
        duck_write.conform_relation(rel.project("note_id"), SPEC, "snapshot_date")
    con.close()


def test_every_registry_type_round_trips_through_duckdb():
    for spec in TABLES.values():
        for c in spec.columns:
            assert duck_write.duck_type(c.type)


def test_a_killed_write_leaves_only_invisible_staging_files(tmp_path, monkeypatch):
    """Killed after DuckDB wrote and before the commit: the staged files stay in <base>/.staging, where neither the
    IO manager nor a DuckDB glob of the table's folder reads them."""
    base = str(tmp_path / "wh")
    io = {"io_manager": WarehouseIOManager.at(base)}
    MAKE["note_metrics"] = lambda keys: sloppy_arrow(metrics_frame(keys, rows=2))
    _run(io, [D1])
    before = read_table(base, "note_metrics")

    def killed(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(duck_write, "remove_staging", lambda path: None)  # a killed process cleans nothing up
    monkeypatch.setattr(iom.ParquetIOManager, "_commit_days", killed)
    MAKE["note_metrics"] = lambda keys: sloppy_arrow(metrics_frame(keys, rows=6))
    with pytest.raises(BaseException, match="killed"):
        _run(io, [D1])
    staged = _files(fsspec.filesystem("file"), os.path.join(base, iom.STAGING_DIR))
    assert staged and all(p.endswith(duck_write.STAGED_SUFFIX) for p in staged)
    pd.testing.assert_frame_equal(read_table(base, "note_metrics"), before)
    glob = os.path.join(base, "note_metrics", "**", "*.parquet")
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)").fetchall() == [(2,)]

    # the next write removes what the killed one left once it is older than a day, and nothing younger
    monkeypatch.undo()
    root = os.path.join(base, iom.STAGING_DIR)
    (left,) = os.listdir(root)
    young = os.path.join(root, "note_metrics-young")
    os.makedirs(young)
    day_old = os.path.getmtime(os.path.join(root, left)) - duck_write.STALE_STAGING_SECONDS - 60
    os.utime(os.path.join(root, left), (day_old, day_old))
    MAKE["note_metrics"] = lambda keys: sloppy_arrow(metrics_frame(keys, rows=3))
    _run(io, [D1])
    assert os.listdir(root) == ["note_metrics-young"]
    assert len(read_table(base, "note_metrics")) == 3


def test_remove_stale_staging_keeps_young_folders_and_files(tmp_path):
    root = tmp_path / ".staging"
    for name in ("old", "new"):
        (root / name).mkdir(parents=True)
        (root / name / "part-0.parquet.tmp").write_bytes(b"x")
    (root / "stray.txt").write_bytes(b"x")  # not a folder: not ours to remove
    now = os.path.getmtime(root / "new")
    os.utime(root / "old", (now - 100, now - 100))
    assert duck_write.remove_stale_staging(str(root), older_than_s=50, now=now) == [str(root / "old")]
    assert sorted(os.listdir(root)) == ["new", "stray.txt"]
    assert duck_write.remove_stale_staging(str(tmp_path / "missing")) == []


def test_a_relation_whose_connection_was_closed_is_a_clear_error(tmp_path):
    def closed(keys):
        with duckdb.connect() as con:
            return con.from_arrow(sloppy_arrow(metrics_frame(keys)))

    MAKE["note_metrics"] = closed
    with pytest.raises(Exception, match="connection was closed before the IO manager wrote it"):
        _run({"io_manager": WarehouseIOManager.at(str(tmp_path / "wh"))}, [D1])


def test_a_partitioned_relation_without_snapshot_date_is_refused(tmp_path):
    con = duckdb.connect()
    MAKE["note_metrics"] = lambda keys: con.from_arrow(
        sloppy_arrow(metrics_frame(keys)).drop_columns(["snapshot_date"])
    )
    with pytest.raises(Exception, match="needs a 'snapshot_date' column"):
        _run({"io_manager": WarehouseIOManager.at(str(tmp_path / "wh"))}, [D1])
    con.close()


def test_a_ranged_output_keeps_each_days_rows_in_the_outputs_order(tmp_path, kind):
    """Days interleaved, rows within a day in a non-sorted order: each day's file holds them as the output
    listed them, as a pandas output does (DuckDB's PARTITION_BY would not on two threads)."""
    n = 30_000
    rng = np.random.default_rng(3)
    frame = metrics_frame([D1], rows=1).iloc[[0] * n].reset_index(drop=True)
    frame["snapshot_date"] = [dt.date(2025, 1, 1 + int(d)) for d in rng.integers(0, 3, n)]
    frame["note_id"] = [f"n{int(i)}" for i in rng.permutation(n)]
    con = duckdb.connect()
    MAKE["note_metrics"] = lambda keys: _as(kind, sloppy_arrow(frame), con)
    _run({"io_manager": WarehouseIOManager.at(str(tmp_path / "wh"))}, [D1, D2, D3])
    got = read_table(str(tmp_path / "wh"), "note_metrics")
    for day, rows in frame.groupby("snapshot_date", sort=True):
        assert got.loc[got["snapshot_date"] == day, "note_id"].tolist() == rows["note_id"].tolist()
    con.close()


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_registry_table_is_stored_as_the_pandas_path_stores_it(tmp_path, name):
    """Each table of the registry, one day of rows of each of its column types, handed to the IO manager as a frame
    and as Arrow: the same Parquet schema and the same frame read back."""
    spec = TABLES[name]
    frame = table_frame(spec, [D2], rows=4)
    got = {}
    for how in ("pandas", "arrow"):
        io = iom.ParquetIOManager(make_base_path(str(tmp_path / how)))
        extra = {"partition_key": D2, "asset_partitions_def": DAILY} if spec.partitioned else {}
        ctx = dg.build_output_context(asset_key=dg.AssetKey(name), **extra)
        io.handle_output(ctx, frame if how == "pandas" else conform(frame, spec))
        got[how] = read_table(str(tmp_path / how), name)
        files = _files(fsspec.filesystem("file"), str(tmp_path / how / name))
        schema = pq.read_schema(str(tmp_path / how / name / files[0]))
        got[how + "_schema"] = [(f.name, f.type) for f in schema]
    pd.testing.assert_frame_equal(got["arrow"], got["pandas"], check_exact=True)
    assert got["arrow_schema"] == got["pandas_schema"]
    assert len(got["arrow"]) == 4
