"""IO manager input metadata: ``columns`` reads only those columns, ``lazy`` hands over a PartitionedInput that
reads only the days asked for (and refuses undeclared ones)."""

import dagster as dg
import pandas as pd
import pytest

from kol_pipeline.resources.io_manager import PartitionedInput
from kol_pipeline.resources.warehouse import WarehouseIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01")
SEEN: dict = {}


@dg.asset(partitions_def=DAILY)
def up(context: dg.AssetExecutionContext) -> pd.DataFrame:
    k = context.partition_key
    return pd.DataFrame({"snapshot_date": [pd.Timestamp(k).date()] * 2, "a": [1, 2], "b": ["x", k]})


@dg.asset(
    partitions_def=DAILY,
    ins={
        "up": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-2, end_offset=0, allow_nonexistent_upstream_partitions=True
            ),
            metadata={"columns": ["b"]},
        )
    },
)
def projected(up: pd.DataFrame) -> pd.DataFrame:
    SEEN["projected"] = up
    return up.head(0)


@dg.asset(
    partitions_def=DAILY,
    ins={
        "up": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-2, end_offset=0, allow_nonexistent_upstream_partitions=True
            ),
            metadata={"lazy": True},
        )
    },
)
def lazy(up: PartitionedInput) -> pd.DataFrame:
    SEEN["keys"] = up.keys
    SEEN["available"] = up.available()
    SEEN["one"] = up.read(["2025-01-02"], columns=["a"])
    with pytest.raises(KeyError):
        up.read(["2025-01-09"])
    return pd.DataFrame()


def test_columns_and_lazy_inputs(tmp_path):
    res = {"io_manager": WarehouseIOManager.at(str(tmp_path))}
    for k in ("2025-01-02", "2025-01-03"):
        dg.materialize([up], partition_key=k, resources=res)
    dg.materialize([up, projected, lazy], partition_key="2025-01-03", resources=res, selection=[projected, lazy])
    assert list(SEEN["projected"].columns) == ["b", "snapshot_date"] and len(SEEN["projected"]) == 4
    assert SEEN["keys"] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert SEEN["available"] == ["2025-01-02", "2025-01-03"]
    assert list(SEEN["one"].columns) == ["a", "snapshot_date"] and SEEN["one"]["a"].tolist() == [1, 2]
