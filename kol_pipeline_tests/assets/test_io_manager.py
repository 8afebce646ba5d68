"""The warehouse IO manager, exercised through real Dagster materializations on a local folder and on memory://."""

import datetime as dt
import posixpath
import uuid

import dagster as dg
import duckdb
import fsspec
import numpy as np
import pandas as pd
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from kol_pipeline.lib.schemas import BRANDS, SEARCH_RANKINGS
from kol_pipeline.resources import io_manager as iom
from kol_pipeline.resources import storage, table_io
from kol_pipeline.resources.io_manager import (
    ParquetIOManager,
    list_partitions,
    make_base_path,
    read_table,
)
from kol_pipeline.resources.warehouse import WarehouseIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="Asia/Shanghai")
D1, D2, D3 = "2025-01-01", "2025-01-02", "2025-01-03"

# What the test assets produce / saw; set by the tests (materialize runs in process).
SOURCE: dict[str, list[dict]] = {}
BRAND_ROWS: list[dict] = []
SEEN: dict[str, pd.DataFrame] = {}


def _ranking_rows(day: str, n: int, tag: str = "a") -> list[dict]:
    return [
        {"keyword": f"kw{tag}", "rank": r, "note_id": f"n{day[-2:]}{tag}{r}", "source_file": f"brand/r_{day}.csv"}
        for r in range(1, n + 1)
    ]


@dg.asset(
    key=["kol", "search_rankings"],
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="warehouse",
)
def rankings(context: dg.AssetExecutionContext) -> pd.DataFrame:
    rows = [
        {**r, "snapshot_date": dt.date.fromisoformat(d) if d != "bad" else dt.date(2024, 12, 31)}
        for d in context.partition_keys + (["bad"] if "bad" in SOURCE else [])
        for r in SOURCE.get(d, [])
    ]
    if not rows:
        return pd.DataFrame(columns=SEARCH_RANKINGS.column_names)
    return pd.DataFrame(rows)


@dg.asset(
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    io_manager_key="warehouse",
    ins={"search_rankings": dg.AssetIn(key=["kol", "search_rankings"])},
)
def ranking_counts(search_rankings: pd.DataFrame) -> pd.DataFrame:
    """An unknown (not in TABLES) partitioned table: per day, the number of ranked results."""
    SEEN["ranking_counts"] = search_rankings.copy()
    out = search_rankings.groupby("snapshot_date", as_index=False).agg(results=("note_id", "count"))
    return out


@dg.asset(io_manager_key="warehouse", ins={"search_rankings": dg.AssetIn(key=["kol", "search_rankings"])})
def all_rankings(search_rankings: pd.DataFrame) -> pd.DataFrame:
    """Unpartitioned downstream of a partitioned table: Dagster asks for every day since 2025-01-01."""
    SEEN["all_rankings"] = search_rankings.copy()
    return pd.DataFrame({"rows": [len(search_rankings)]})


@dg.asset(io_manager_key="warehouse")
def brands() -> pd.DataFrame:
    return pd.DataFrame(BRAND_ROWS, columns=BRANDS.column_names)


@dg.asset(io_manager_key="warehouse")
def brand_names(brands: pd.DataFrame) -> pd.DataFrame:
    SEEN["brand_names"] = brands.copy()
    return pd.DataFrame({"brand": list(brands["brand"])}, dtype=object)


@dg.asset(io_manager_key="warehouse")
def needs_unknown(mystery_table: pd.DataFrame) -> pd.DataFrame:
    return mystery_table


mystery_table = dg.AssetSpec("mystery_table").with_io_manager_key("warehouse")


@pytest.fixture(autouse=True)
def _reset_state():
    SOURCE.clear()
    BRAND_ROWS.clear()
    SEEN.clear()
    yield


@pytest.fixture(params=["local", "memory"])
def base(request, tmp_path) -> str:
    if request.param == "local":
        yield str(tmp_path / "warehouse")
    else:
        url = f"memory://kolwh-{uuid.uuid4().hex}"
        yield url
        fs = fsspec.filesystem("memory")
        root = make_base_path(url).path
        if fs.exists(root):
            fs.rm(root, recursive=True)


def _run(
    base: str,
    assets,
    *,
    start: str | None = None,
    end: str | None = None,
    key: str | None = None,
    selection=None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    tags = {}
    if start is not None:
        tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    return dg.materialize(
        assets,
        resources={"warehouse": WarehouseIOManager.at(base)},
        tags=tags,
        partition_key=key,
        selection=selection,
        raise_on_error=raise_on_error,
    )


def _files(base: str, table: str) -> list[str]:
    """Every file under <base>/<table>, relative, sorted (hidden ones included)."""
    up = make_base_path(base) / table
    fs = up.fs
    root = up.path.rstrip("/")
    return sorted(p[len(root) + 1 :] for p in fs.find(root))


def _duck(base: str, table: str) -> pd.DataFrame:
    con = duckdb.connect()
    if base.startswith("memory://"):
        con.register_filesystem(fsspec.filesystem("memory"))
    glob = f"{base}/{table}/**/*.parquet"
    return con.execute(
        "select * from read_parquet(?, hive_partitioning = true) order by snapshot_date, keyword, rank", [glob]
    ).df()


def _meta(result: dg.ExecuteInProcessResult, key) -> dict:
    mats = [e.materialization for e in result.get_asset_materialization_events() if e.asset_key == key]
    assert mats, "no materialization recorded"
    return mats[0].metadata


def test_range_run_writes_hive_layout_and_downstream_reads_all_days(base):
    SOURCE.update({D1: _ranking_rows(D1, 3), D2: _ranking_rows(D2, 2), D3: _ranking_rows(D3, 4)})
    result = _run(base, [rankings, ranking_counts], start=D1, end=D3)
    assert result.success

    assert _files(base, "search_rankings") == [f"snapshot_date={d}/part-0.parquet" for d in (D1, D2, D3)]
    # the files carry no snapshot_date column: the folder does
    up = make_base_path(base) / "search_rankings" / f"snapshot_date={D2}" / "part-0.parquet"
    with up.fs.open(up.path, "rb") as fh:
        t = pq.read_table(fh)
    assert t.column_names == ["keyword", "rank", "note_id", "source_file"]
    assert t.column("note_id").to_pylist() == ["n02a1", "n02a2"]
    assert str(t.schema.field("rank").type) == "int64"

    seen = SEEN["ranking_counts"]
    assert len(seen) == 9
    assert list(seen.columns) == SEARCH_RANKINGS.column_names
    assert seen.groupby("snapshot_date").size().to_dict() == {
        dt.date(2025, 1, 1): 3,
        dt.date(2025, 1, 2): 2,
        dt.date(2025, 1, 3): 4,
    }
    assert all(type(v) is dt.date for v in seen["snapshot_date"])
    assert seen.loc[seen.note_id == "n03a4", "rank"].tolist() == [4]

    # the unknown downstream table (from_pandas path) got one row per day
    counts = read_table(base, "ranking_counts")
    assert counts.sort_values("snapshot_date")["results"].tolist() == [3, 2, 4]
    assert counts["snapshot_date"].tolist() == [dt.date(2025, 1, d) for d in (1, 2, 3)]

    duck = _duck(base, "search_rankings")
    assert len(duck) == 9
    assert list(duck.columns).count("snapshot_date") == 1
    assert duck.groupby(duck.snapshot_date.astype(str)).size().to_dict() == {D1: 3, D2: 2, D3: 4}

    if base.startswith("memory://"):
        ds = pads.dataset(
            make_base_path(base).path + "/search_rankings",
            filesystem=fsspec.filesystem("memory"),
            format="parquet",
            partitioning="hive",
        )
    else:
        ds = pads.dataset(f"{base}/search_rankings", format="parquet", partitioning="hive")
    arrow = ds.to_table()
    assert arrow.num_rows == 9
    assert sorted(set(map(str, arrow.column("snapshot_date").to_pylist()))) == [D1, D2, D3]

    meta = _meta(result, dg.AssetKey(["kol", "search_rankings"]))
    # a ranged output keeps per-partition events small: no whole-range row count, schema or preview
    assert "dagster/row_count" not in meta and "preview" not in meta
    assert meta["partitions_written"].value == 3
    assert meta["partitions_empty"].value == 0
    assert meta["bytes"].value > 0
    assert meta["path"].value.rstrip("/").endswith("search_rankings")

    single = _meta(_run(base, [rankings], key=D1), dg.AssetKey(["kol", "search_rankings"]))
    assert single["dagster/row_count"].value == 3
    cols = {c.name: c for c in single["dagster/column_schema"].schema.columns}
    assert list(cols) == SEARCH_RANKINGS.column_names
    assert cols["rank"].type == "int64" and cols["rank"].description == "1 = top result"
    preview = single["preview"].value
    assert preview.splitlines()[0] == "| keyword | rank | note_id | source_file | snapshot_date |"
    assert len(preview.splitlines()) == 2 + 3
    assert "n01a1" in preview


def test_rerunning_one_partition_replaces_it(base):
    SOURCE.update({D1: _ranking_rows(D1, 3), D2: _ranking_rows(D2, 2), D3: _ranking_rows(D3, 4)})
    _run(base, [rankings], start=D1, end=D3)

    SOURCE[D2] = _ranking_rows(D2, 5, tag="b")
    result = _run(base, [rankings], key=D2)
    assert _meta(result, dg.AssetKey(["kol", "search_rankings"]))["dagster/row_count"].value == 5

    df = read_table(base, "search_rankings")
    assert len(df) == 3 + 5 + 4
    day2 = df[df.snapshot_date == dt.date(2025, 1, 2)]
    assert sorted(day2.note_id) == [f"n02b{r}" for r in range(1, 6)]
    assert not df.duplicated(["keyword", "rank", "snapshot_date"]).any()
    # other days untouched
    assert sorted(df[df.snapshot_date == dt.date(2025, 1, 3)].note_id) == [f"n03a{r}" for r in range(1, 5)]
    assert _files(base, "search_rankings") == [f"snapshot_date={d}/part-0.parquet" for d in (D1, D2, D3)]
    # re-running the same partition with the same data changes nothing
    _run(base, [rankings], key=D2)
    assert len(read_table(base, "search_rankings")) == 12
    assert len(_duck(base, "search_rankings")) == 12


def test_partition_that_becomes_empty_is_removed(base):
    SOURCE.update({D1: _ranking_rows(D1, 1), D2: _ranking_rows(D2, 2), D3: _ranking_rows(D3, 1)})
    _run(base, [rankings], start=D1, end=D3)
    SOURCE[D2] = []
    SOURCE[D3] = _ranking_rows(D3, 2)
    result = _run(base, [rankings], start=D2, end=D3)
    meta = _meta(result, dg.AssetKey(["kol", "search_rankings"]))
    assert (meta["partitions_written"].value, meta["partitions_empty"].value) == (1, 1)
    assert _files(base, "search_rankings") == [
        f"snapshot_date={D1}/part-0.parquet",
        f"snapshot_date={D3}/part-0.parquet",
    ]
    assert list_partitions(base, "search_rankings") == [D1, D3]
    df = read_table(base, "search_rankings", start=D2, end=D3)
    assert df.note_id.tolist() == ["n03a1", "n03a2"]
    # a range whose days are all missing reads as the table's empty frame, with snapshot_date
    empty = read_table(base, "search_rankings", start=D2, end=D2)
    assert empty.empty and list(empty.columns) == SEARCH_RANKINGS.column_names


def test_rows_outside_the_run_partitions_are_refused(tmp_path):
    base = str(tmp_path / "wh")
    SOURCE.update({D2: _ranking_rows(D2, 2), "bad": _ranking_rows(D1, 1)})
    with pytest.raises(ValueError, match=r"outside the run's partitions 2025-01-02 .. 2025-01-02.*2024-12-31"):
        _run(base, [rankings], key=D2)
    assert not (tmp_path / "wh" / "search_rankings").exists() or _files(base, "search_rankings") == []


def test_failed_commit_keeps_previous_version_and_no_temp_file(base, monkeypatch):
    SOURCE.update({D1: _ranking_rows(D1, 2)})
    _run(base, [rankings], key=D1)
    SOURCE[D1] = _ranking_rows(D1, 7, tag="new")

    def boom(fs, tmp, final):
        assert fs.exists(tmp) and posixpath.basename(tmp).startswith(".part-0.parquet.tmp-")
        raise OSError("disk vanished")

    monkeypatch.setattr(storage, "commit", boom)
    result = _run(base, [rankings], key=D1, raise_on_error=False)
    assert not result.success
    monkeypatch.undo()
    assert _files(base, "search_rankings") == [f"snapshot_date={D1}/part-0.parquet"]
    assert read_table(base, "search_rankings").note_id.tolist() == ["n01a1", "n01a2"]


class _Killed(BaseException):
    """Stands for the process dying: no `except Exception` clean-up runs."""


def test_killed_write_leaves_old_file_readable_and_temp_invisible(base, monkeypatch):
    SOURCE.update({D1: _ranking_rows(D1, 2)})
    _run(base, [rankings], key=D1)
    io = ParquetIOManager(make_base_path(base))
    final = posixpath.join(io.table_dir("search_rankings").path, f"snapshot_date={D1}", "part-0.parquet")

    def killed(fs, tmp, final):
        raise _Killed()

    monkeypatch.setattr(storage, "commit", killed)
    new = table_io.to_arrow(
        pd.DataFrame([{**r, "snapshot_date": dt.date(2025, 1, 1)} for r in _ranking_rows(D1, 9, "x")]),
        "search_rankings",
    ).drop_columns(["snapshot_date"])
    with pytest.raises(_Killed):
        storage.write_atomic(io.fs, new, final)
    monkeypatch.undo()

    files = _files(base, "search_rankings")
    assert len(files) == 2 and files[0].startswith(f"snapshot_date={D1}/.part-0.parquet.tmp-")
    assert not files[0].endswith(".parquet")
    assert len(_duck(base, "search_rankings")) == 2
    assert read_table(base, "search_rankings").note_id.tolist() == ["n01a1", "n01a2"]
    # the next successful write of the partition cleans the leftover
    SOURCE[D1] = _ranking_rows(D1, 3)
    _run(base, [rankings], key=D1)
    assert _files(base, "search_rankings") == [f"snapshot_date={D1}/part-0.parquet"]
    assert len(read_table(base, "search_rankings")) == 3


def test_unpartitioned_downstream_loads_existing_days_among_hundreds(base):
    SOURCE.update({D1: _ranking_rows(D1, 1), D3: _ranking_rows(D3, 2)})
    _run(base, [rankings], start=D1, end=D3)
    result = _run(base, [rankings, all_rankings], selection=[all_rankings.key])
    assert result.success
    seen = SEEN["all_rankings"]
    assert seen.note_id.tolist() == ["n01a1", "n03a1", "n03a2"]
    assert seen.snapshot_date.tolist() == [dt.date(2025, 1, 1), dt.date(2025, 1, 3), dt.date(2025, 1, 3)]
    assert _files(base, "all_rankings") == ["all_rankings.parquet"]
    assert read_table(base, "all_rankings")["rows"].tolist() == [3]


def test_unpartitioned_table_roundtrip_and_replace(base):
    BRAND_ROWS.extend(
        [
            {"brand": "Alpha", "aliases": ["阿尔法", "alpha"], "category": "skincare", "control_keyword": None},
            {"brand": "Beta", "aliases": [], "category": "food", "control_keyword": "面包"},
        ]
    )
    result = _run(base, [brands, brand_names])
    assert _files(base, "brands") == ["brands.parquet"]
    seen = SEEN["brand_names"]
    assert list(seen.columns) == BRANDS.column_names
    assert [list(a) for a in seen.aliases] == [["阿尔法", "alpha"], []]
    assert seen.control_keyword.isna().tolist() == [True, False]
    assert seen.brand.dtype == object
    meta = _meta(result, dg.AssetKey("brands"))
    assert meta["dagster/row_count"].value == 2
    assert meta["partitions_written"].value == 1
    assert "阿尔法" in meta["preview"].value

    BRAND_ROWS[:] = BRAND_ROWS[:1]
    _run(base, [brands])
    df = read_table(base, "brands")
    assert df.brand.tolist() == ["Alpha"]
    assert _files(base, "brands") == ["brands.parquet"]
    con = duckdb.connect()
    if base.startswith("memory://"):
        con.register_filesystem(fsspec.filesystem("memory"))
    assert con.execute("select brand from read_parquet(?)", [f"{base}/brands/**/*.parquet"]).fetchall() == [("Alpha",)]


def test_missing_unpartitioned_known_table_is_empty_unknown_raises(base):
    result = _run(base, [brands, brand_names], selection=[brand_names.key])
    assert result.success
    seen = SEEN["brand_names"]
    assert seen.empty and list(seen.columns) == BRANDS.column_names
    assert read_table(base, "brands").empty

    with pytest.raises(FileNotFoundError, match=r"mystery_table.*mystery_table\.parquet"):
        _run(base, [mystery_table, needs_unknown], selection=[needs_unknown.key])
    with pytest.raises(FileNotFoundError, match="mystery_table"):
        read_table(base, "mystery_table")


def test_pandas_types_on_read(base):
    """Nullable counts as Int64, timestamps UTC, strings object, list columns as arrays."""
    io = ParquetIOManager(make_base_path(base))
    df = pd.DataFrame(
        {
            "user_id": ["u1", "u2"],
            "followers": pd.array([1200, None], dtype="Int64"),
            "crawled_at": pd.to_datetime(["2025-01-01T02:00:00Z", "2025-01-01T03:30:00Z"]),
            "tags": [["a", "b"], []],
            "snapshot_date": [dt.date(2025, 1, 1)] * 2,
        }
    )
    ctx = dg.build_output_context(asset_key=dg.AssetKey("odd_table"), partition_key=D1)
    io.handle_output(ctx, df)
    got = read_table(base, "odd_table")
    assert got.user_id.dtype == object
    assert str(got.followers.dtype) == "Int64"
    assert got.followers.iloc[0] == 1200 and got.followers.isna().tolist() == [False, True]
    assert str(got.crawled_at.dtype).endswith("UTC]")
    assert got.crawled_at.iloc[1] == pd.Timestamp("2025-01-01T03:30:00Z")
    assert [list(t) for t in got.tags] == [["a", "b"], []]
    assert got.snapshot_date.tolist() == [dt.date(2025, 1, 1)] * 2
    assert read_table(base, "odd_table", start=D2).columns.tolist() == list(got.columns)

    # other tables keep pandas' nullable Int64 (test_pandas_types_on_read)


def test_comment_state_round_trip(base):
    """comment_state (keyed by the real ids) as the asset writes it: strings, dates and nullable booleans back."""
    io = ParquetIOManager(make_base_path(base))
    day = dt.date(2025, 1, 1)
    st = pd.DataFrame(
        {
            "snapshot_date": [day, day],
            "comment_id": ["c1", "c2"],
            "note_id": ["n1", "n1"],
            "first_sd": [day, day],
            "last_sd": [day, day],
            "norm_text": ["好看", None],
            "top_first": [True, False],
            "top_sub_first": [True, False],
            "lt_note_id": ["n1", None],
            "lt_sub": [True, None],
            "lt_sent": ["positive", None],
            "base": [True, True],
        }
    )
    io.handle_output(dg.build_output_context(asset_key=dg.AssetKey("comment_state"), partition_key=D1), st)
    got = read_table(base, "comment_state")
    assert got["comment_id"].tolist() == ["c1", "c2"] and got["norm_text"].isna().tolist() == [False, True]
    assert got["lt_sub"].isna().tolist() == [False, True] and got["base"].all()
    assert got["lt_sent"].tolist()[0] == "positive" and got["lt_sent"].isna().tolist() == [False, True]
    assert [pd.Timestamp(x).date() for x in got["last_sd"]] == [day, day]


def test_a_partitions_own_id_is_read_without_sharing_equal_strings(base):
    """A read of one partition converts the table's own id (note_id of notes) without pyarrow's de-duplication of
    equal strings (it only costs on distinct ids); every other text column, and the id over several partitions,
    keep it: equal strings stay one object. The frame is the same either way (values, dtypes, column order)."""
    from kol_pipeline.lib.schemas import NOTES

    io = ParquetIOManager(make_base_path(base))
    rows = {c.name: [None, None] for c in NOTES.columns}
    rows.update(
        {
            "note_id": ["note-000001", "note-000001"],
            "user_id": ["user-00042", "user-00042"],
            "title": ["面霜", None],
            "likes": pd.array([1, None], dtype="Int64"),
            "published_at": pd.to_datetime(["2025-01-01T02:00:00Z"] * 2),
            "crawled_at": pd.to_datetime(["2025-01-01T03:00:00Z"] * 2),
            "tags": [["a"], []],
            "brands": [[], []],
            "is_disclosed": [False, True],
        }
    )
    for day in (D1, D2):  # the same id on both days (and twice in a day: the reader does not assume it is unique)
        frame = pd.DataFrame(rows).assign(snapshot_date=dt.date.fromisoformat(day))
        io.handle_output(dg.build_output_context(asset_key=dg.AssetKey("notes"), partition_key=day), frame)
    one = read_table(base, "notes", start=D1, end=D1)
    both = read_table(base, "notes")
    assert one["note_id"].iloc[0] is not one["note_id"].iloc[1]  # not de-duplicated
    assert one["user_id"].iloc[0] is one["user_id"].iloc[1]  # de-duplicated, as before
    assert both["note_id"].iloc[0] is both["note_id"].iloc[3]  # several partitions: de-duplicated
    assert one.columns.tolist() == both.columns.tolist() == NOTES.column_names  # the id back in its place
    assert one["note_id"].dtype == object and one["note_id"].tolist() == ["note-000001"] * 2
    with (make_base_path(base) / "notes" / f"snapshot_date={D1}" / iom.PART_FILE).open("rb") as fh:
        plain = table_io.to_pandas(pq.read_table(fh), "notes")
    pd.testing.assert_frame_equal(one.drop(columns="snapshot_date"), plain)
    pd.testing.assert_frame_equal(both[both["snapshot_date"] == dt.date(2025, 1, 1)].reset_index(drop=True), one)


def test_multi_day_output_needs_snapshot_date_and_valid_range(tmp_path):
    io = ParquetIOManager(make_base_path(tmp_path))
    ctx = dg.build_output_context(asset_key=dg.AssetKey("x"), partition_key=D1)
    with pytest.raises(ValueError, match="snapshot_date"):
        io.handle_output(ctx, pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="after"):
        read_table(str(tmp_path), "x", start=D3, end=D1)


def test_base_path_forms(tmp_path):
    assert make_base_path(str(tmp_path / "a")).path == str(tmp_path / "a")
    assert make_base_path(f"file://{tmp_path}/b").path == f"{tmp_path}/b"
    up = make_base_path("memory://wh-x")
    assert up.protocol == "memory" and up.path == "/wh-x"
    rel = make_base_path("rel/dir")
    assert rel.is_absolute() and rel.path.endswith("/rel/dir")
    s3 = make_base_path("s3://bucket/prefix", {"endpoint_url": "http://localhost:1", "anon": True})
    assert s3.protocol == "s3" and s3.path == "bucket/prefix"
    assert storage.is_object_store(s3.fs) and not storage.is_object_store(up.fs) and storage.is_local(rel.fs)


def test_s3_roundtrip_with_moto(moto_s3):
    moto_s3.bucket("kolwh")
    opts = moto_s3.storage_options
    SOURCE.update({D1: _ranking_rows(D1, 2), D2: _ranking_rows(D2, 3)})
    result = dg.materialize(
        [rankings, ranking_counts],
        resources={"warehouse": WarehouseIOManager.at("s3://kolwh/prefix", storage_options=opts)},
        tags={"dagster/asset_partition_range_start": D1, "dagster/asset_partition_range_end": D2},
    )
    assert result.success
    assert len(SEEN["ranking_counts"]) == 5
    keys = sorted(o["Key"] for o in moto_s3.client.list_objects_v2(Bucket="kolwh", Prefix="prefix/")["Contents"])
    assert keys == [
        f"prefix/ranking_counts/snapshot_date={D1}/part-0.parquet",
        f"prefix/ranking_counts/snapshot_date={D2}/part-0.parquet",
        f"prefix/search_rankings/snapshot_date={D1}/part-0.parquet",
        f"prefix/search_rankings/snapshot_date={D2}/part-0.parquet",
    ]
    SOURCE[D2] = []
    dg.materialize(
        [rankings],
        resources={"warehouse": WarehouseIOManager.at("s3://kolwh/prefix", storage_options=opts)},
        partition_key=D2,
    )
    df = read_table("s3://kolwh/prefix", "search_rankings", storage_options=opts)
    assert df.note_id.tolist() == ["n01a1", "n01a2"]
    assert np.array_equal(df["rank"].to_numpy(dtype="int64"), [1, 2])


def test_partition_rows_and_read_column_read_only_what_they_need(base):
    from kol_pipeline.resources.io_manager import partition_rows, read_column

    SOURCE.update({D1: _ranking_rows(D1, 3), D2: _ranking_rows(D2, 2), D3: _ranking_rows(D3, 4)})
    _run(base, [rankings], start=D1, end=D3)
    assert [partition_rows(base, "search_rankings", d) for d in (D1, D2, D3)] == [3, 2, 4]
    assert partition_rows(base, "search_rankings", "2025-02-01") == 0
    ids = read_column(base, "search_rankings", "note_id", D2, D3)
    assert len(ids) == 6 and set(ids) == set(read_table(base, "search_rankings", D2, D3)["note_id"])
    assert len(read_column(base, "search_rankings", "note_id")) == 9
    assert len(read_column(base, "no_such_table", "note_id")) == 0


def test_reads_and_writes_hand_back_arrow_memory_after_dropping_their_tables(base, monkeypatch):
    """After a partitioned read and after a write, the Arrow tables are dropped and then Arrow's freed pages are
    handed back (allocator.release_arrow_memory, with the bytes the tables held): numpy cannot reuse them, so the
    two pools' peaks added up (BENCHMARKS.md, fifteenth session). Checked through weak references to the tables
    at the moment of the release."""
    import weakref

    from kol_pipeline.resources import allocator

    tables: list[weakref.ref] = []
    to_pandas, to_arrow = table_io.to_pandas, table_io.to_arrow

    def seen_to_pandas(table, *a, **kw):
        tables.append(weakref.ref(table))
        return to_pandas(table, *a, **kw)

    def seen_to_arrow(df, *a, **kw):
        out = to_arrow(df, *a, **kw)
        tables.append(weakref.ref(out))
        return out

    releases: list[tuple[int, int]] = []  # (bytes, tables still alive)
    monkeypatch.setattr(table_io, "to_pandas", seen_to_pandas)
    monkeypatch.setattr(table_io, "to_arrow", seen_to_arrow)
    monkeypatch.setattr(
        allocator,
        "release_arrow_memory",
        lambda nbytes: releases.append((nbytes, sum(r() is not None for r in tables))),
    )
    io = ParquetIOManager(make_base_path(base))
    frame = pd.DataFrame(
        {
            "keyword": ["kw"] * 300,
            "rank": np.arange(300),
            "note_id": [f"n{i}" for i in range(300)],
            "source_file": "f.csv",
            "snapshot_date": [dt.date(2025, 1, 1)] * 100 + [dt.date(2025, 1, 2)] * 200,
        }
    )
    days = ((D1, frame.iloc[:100].reset_index(drop=True)), (D2, frame.iloc[100:].reset_index(drop=True)))
    for key, rows in days:
        io.handle_output(dg.build_output_context(asset_key=dg.AssetKey("search_rankings"), partition_key=key), rows)
    assert [n for n, _ in releases] == [to_arrow(rows, "search_rankings").nbytes for _, rows in days]
    assert [alive for _, alive in releases] == [0, 0]  # each write's table was dropped before its release
    releases.clear()
    tables.clear()
    got = iom.PartitionedInput(
        io.fs, storage.fs_path(io.table_dir("search_rankings")), "search_rankings", [D1, D2]
    ).read()
    assert len(got) == 300 and got["rank"].tolist() == list(range(300))
    assert len(releases) == 1 and releases[0][1] == 0  # the read's tables were dropped before the release
    assert releases[0][0] > 0


def test_release_arrow_memory_only_after_large_reads(monkeypatch):
    """Small reads and writes (most of the sample's) do not pay for a release; large ones call the pool's."""
    import pyarrow as pa

    from kol_pipeline.resources import allocator

    calls = []

    class Pool:
        def release_unused(self):
            calls.append(1)

    monkeypatch.setattr(pa, "default_memory_pool", lambda: Pool())
    allocator.release_arrow_memory(allocator.ARROW_RELEASE_MIN_BYTES - 1)
    assert calls == []
    allocator.release_arrow_memory(allocator.ARROW_RELEASE_MIN_BYTES)
    assert calls == [1]
