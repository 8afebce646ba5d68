"""``PartitionedInput.relation``: a lazy input as a DuckDB relation over exactly the declared days asked for,
with only the columns asked for and snapshot_date from the hive folders, on a local warehouse and on S3 (moto's
server, read through the s3fs filesystem registered on the connection: DuckDB's httpfs is not used)."""

import datetime as dt

import dagster as dg
import pandas as pd

from kol_pipeline.lib import duck
from kol_pipeline.resources.io_manager import PartitionedInput
from kol_pipeline.resources.warehouse import WarehouseIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01")
WINDOW = dg.TimeWindowPartitionMapping(start_offset=-3, end_offset=0, allow_nonexistent_upstream_partitions=True)
SEEN: dict = {}


@dg.asset(partitions_def=DAILY)
def up(context: dg.AssetExecutionContext) -> pd.DataFrame:
    k = context.partition_key
    day = int(k[-2:])
    return pd.DataFrame(
        {
            "snapshot_date": [dt.date.fromisoformat(k)] * 2,
            "a": [day * 10, day * 10 + 1],
            "b": [f"x{day}", f"y{day}"],
            "c": [1.5, 2.5],
        }
    )


@dg.asset(partitions_def=DAILY, ins={"up": dg.AssetIn(partition_mapping=WINDOW, metadata={"lazy": True})})
def down(up: PartitionedInput) -> pd.DataFrame:
    con = duck.connect(duck.DuckSettings(memory_limit="256MB", threads=1))
    try:
        rel = up.relation(con, columns=["a", "b"])
        SEEN["columns"] = rel.columns
        SEEN["types"] = [str(t) for t in rel.types]
        SEEN["all"] = sorted(rel.fetchall())
        SEEN["range"] = sorted(up.relation(con, columns=["a"], start="2025-01-03", end="2025-01-04").fetchall())
        # a relation is an input to SQL: registered as a view, queried with parameters
        up.relation(con, columns=["a", "snapshot_date"]).create_view("up_days")
        SEEN["sql"] = con.sql(
            "SELECT snapshot_date, sum(a) FROM up_days WHERE a > $min GROUP BY ALL ORDER BY 1", params={"min": 30}
        ).fetchall()
        empty = up.relation(con, columns=["a"], start="2025-01-01", end="2025-01-01")  # declared, never written
        SEEN["empty"] = (empty.columns, empty.fetchall())
        SEEN["star"] = up.relation(con).columns
    finally:
        con.close()
    return pd.DataFrame()


D = dt.date
EXPECTED_ALL = [(20, "x2"), (21, "y2"), (30, "x3"), (31, "y3"), (40, "x4"), (41, "y4")]


def _check() -> None:
    assert SEEN["columns"] == ["a", "b", "snapshot_date"]
    assert SEEN["types"] == ["BIGINT", "VARCHAR", "DATE"]
    # 2025-01-01 .. 01-04 declared; 01-05 written but not declared by the 01-04 run: never read
    assert SEEN["all"] == sorted([(a, b, D(2025, 1, a // 10)) for a, b in EXPECTED_ALL])
    assert SEEN["range"] == [(30, D(2025, 1, 3)), (31, D(2025, 1, 3)), (40, D(2025, 1, 4)), (41, D(2025, 1, 4))]
    assert SEEN["sql"] == [(D(2025, 1, 3), 31), (D(2025, 1, 4), 81)]
    assert SEEN["empty"] == (["a", "snapshot_date"], [])
    assert SEEN["star"] == ["a", "b", "c", "snapshot_date"]


def _materialize(resources: dict) -> None:
    for k in ("2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05"):
        assert dg.materialize([up], partition_key=k, resources=resources).success
    SEEN.clear()
    assert dg.materialize([up, down], partition_key="2025-01-04", resources=resources, selection=[down]).success


def test_relation_on_a_local_warehouse(tmp_path):
    _materialize({"io_manager": WarehouseIOManager.at(str(tmp_path))})
    _check()


def test_relation_on_s3_with_moto(moto_s3):
    moto_s3.bucket("kolrel")
    _materialize({"io_manager": WarehouseIOManager.at("s3://kolrel/wh", storage_options=moto_s3.storage_options)})
    _check()
