"""The marts' filtered reads (``IdsIn``, ``ListNotEmpty``): DuckDB over a local warehouse gives the rows, order,
columns and types of the Arrow scanner, which reads every other filesystem (docs/marts.md "What each mart reads")."""

import datetime as dt

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec.implementations.local import LocalFileSystem

from kol_pipeline.resources import table_io
from kol_pipeline.resources.io_manager import IdsIn, ListNotEmpty, PartitionedInput

UTC = dt.UTC
DAYS = ["2025-03-01", "2025-03-02", "2025-03-03"]


def _file(day: int, part: int, n: int, title: bool = True) -> pa.Table:
    ids = [None if i % 7 == 3 else f"n{(i * 5 + day) % 11}" for i in range(n)]
    cols = {
        "note_id": pa.array(ids, pa.string()),
        "brands": pa.array([None if i % 5 == 0 else [f"b{i % 3}"] * (i % 3) for i in range(n)], pa.list_(pa.string())),
        "crawled_at": pa.array(
            [dt.datetime(2025, 3, day, i % 24, tzinfo=UTC) for i in range(n)], pa.timestamp("us", "UTC")
        ),
        "likes": pa.array([None if i % 4 == 1 else i * 10 + part for i in range(n)], pa.int64()),
    }
    if title:
        cols["title"] = pa.array([f"t{day}.{part}.{i}" for i in range(n)], pa.string())
    return pa.table(cols)


def _write(fs, root: str) -> list[pa.Table]:
    """Three days; the second has two files, the first lacks the title column."""
    files = [
        (0, 0, _file(1, 0, 30, title=False)),
        (1, 0, _file(2, 0, 25)),
        (1, 1, _file(2, 1, 9)),
        (2, 0, _file(3, 0, 40)),
    ]
    for d, part, t in files:
        folder = f"{root}/notes/snapshot_date={DAYS[d]}"
        fs.makedirs(folder, exist_ok=True)
        with fs.open(f"{folder}/part-{part}.parquet", "wb") as f:
            pq.write_table(t, f)
    return files


def _expected(files, keep, columns) -> pd.DataFrame:
    frames = []
    for d, _, t in files:
        df = t.to_pandas()
        df = df[keep(df)]
        frames.append(df.assign(snapshot_date=dt.date.fromisoformat(DAYS[d])))
    df = pd.concat(frames, ignore_index=True)
    return df[[c for c in columns if c in df.columns] + ["snapshot_date"]]


FILTERS = [
    (ListNotEmpty("brands"), lambda df: df["brands"].map(lambda v: v is not None and len(v) > 0)),
    (IdsIn.of("note_id", ["n1", "n4", None, "n4", "n10"]), lambda df: df["note_id"].isin(["n1", "n4", "n10"])),
    (IdsIn.of("note_id", ["absent"]), lambda df: df["note_id"] == "absent"),
]


@pytest.mark.parametrize("row_filter,keep", FILTERS)
def test_duckdb_and_arrow_filtered_reads_agree(tmp_path, row_filter, keep):
    local = LocalFileSystem()
    files = _write(local, str(tmp_path))
    memory = fsspec.filesystem("memory")
    if memory.exists("/wh"):
        memory.rm("/wh", recursive=True)
    _write(memory, "/wh")
    columns = ["note_id", "title", "likes", "crawled_at", "brands"]
    on_disk = PartitionedInput(local, str(tmp_path / "notes"), "notes", DAYS)
    in_memory = PartitionedInput(memory, "/wh/notes", "notes", DAYS)
    paths = on_disk.files()
    assert table_io.read_filtered_duckdb(paths, columns, row_filter) is not None  # the DuckDB path is taken

    got = on_disk.read(columns=columns, row_filter=row_filter)
    arrow = in_memory.read(columns=columns, row_filter=row_filter)
    pd.testing.assert_frame_equal(got, arrow)
    want = _expected(files, keep, got.columns.drop("snapshot_date").tolist())
    assert got["note_id"].tolist() == want["note_id"].tolist()
    assert got["likes"].astype("Float64").tolist() == want["likes"].astype("Float64").tolist()
    # null where the first day's file has no title column
    assert got["title"].fillna("-").tolist() == want["title"].fillna("-").tolist()
    assert got["title"].isna().sum() == (want["snapshot_date"] == dt.date(2025, 3, 1)).sum()
    assert got["snapshot_date"].tolist() == want["snapshot_date"].tolist()
    assert str(got["crawled_at"].dtype) == "datetime64[us, UTC]"
    assert got["crawled_at"].tolist() == want["crawled_at"].tolist()
    if len(want) == 0:
        assert list(got.columns) == list(arrow.columns)
    else:
        assert len(got) >= 10


def test_limit_reads_the_first_rows_of_each_file(tmp_path):
    local = LocalFileSystem()
    files = _write(local, str(tmp_path))
    memory = fsspec.filesystem("memory")
    if memory.exists("/wh2"):
        memory.rm("/wh2", recursive=True)
    _write(memory, "/wh2")
    for handle in (
        PartitionedInput(local, str(tmp_path / "notes"), "notes", DAYS),
        PartitionedInput(memory, "/wh2/notes", "notes", DAYS),
    ):
        got = handle.read(columns=["note_id", "likes"], limit=2)
        want = pd.concat([t.slice(0, 2).to_pandas()[["note_id", "likes"]] for _, _, t in files], ignore_index=True)
        assert got["note_id"].tolist() == want["note_id"].tolist()
        assert got["snapshot_date"].map(str).tolist() == [DAYS[0]] * 2 + [DAYS[1]] * 4 + [DAYS[2]] * 2
        # a column only some files have: the others give their rows with nulls, as a full read does
        titled = handle.read(columns=["title"], limit=1)
        assert titled["title"].isna().tolist() == [True, False, False, False]
        with pytest.raises(ValueError, match="row filter or a row limit"):
            handle.read(limit=1, row_filter=ListNotEmpty("brands"))
