"""brand_creator_relationships by SQL (lib/marts/brand_creator_relationships.sql) over a DuckDB relation of the
notes window (PartitionedInput.relation), checked row by row against the pandas implementation it replaced.

``fixtures/brand_creator_relationships_sample.csv.gz`` is the output of the former pandas function
(lib/marts/brand_marts.py before the move to SQL) on the bundled sample, every calendar day 2025-02-21 .. 2025-06-30 in one
call: 4,560 rows. The SQL gave the same rows, exactly, before the pandas code was deleted (and on a second world,
simulate(creators=150, days=200, seed=11): 7,799 rows, equal). The hand-computed cases stay in
unit/test_marts.py."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.marts import brand_creator_relationships as M
from kol_pipeline.lib.marts import checks
from kol_pipeline.lib.schemas import BRAND_CREATOR_RELATIONSHIPS
from kol_pipeline.resources.io_manager import PartitionedInput, make_base_path
from kol_pipeline.resources.table_io import to_arrow
from kol_pipeline_tests.planted import planted_world

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "brand_creator_relationships_sample.csv.gz"
DATES = ("snapshot_date", "first_mention_date", "last_mention_date")
INTS = ("notes", "sponsored_notes", "organic_notes", "distinct_weeks")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The bundled sample's cleaned notes in the warehouse layout, and its brand tables."""
    w = planted_world()
    wh = tmp_path_factory.mktemp("wh")
    notes = w.ingest.table("notes")
    for d, part in notes.groupby("snapshot_date"):
        folder = wh / "notes" / f"snapshot_date={d.isoformat()}"
        folder.mkdir(parents=True)
        pq.write_table(to_arrow(part, "notes").drop_columns(["snapshot_date"]), folder / "part-0.parquet")
    return w, wh


def _window(wh: Path, first: dt.date, last: dt.date) -> PartitionedInput:
    """The notes partitions the asset declares for a run first .. last (window_mapping(180))."""
    base = make_base_path(str(wh))
    back = M.RELATIONSHIP_WINDOW_DAYS
    keys = [
        (first - timedelta(days=back) + timedelta(days=i)).isoformat() for i in range((last - first).days + back + 1)
    ]
    return PartitionedInput(base.fs, str(base / "notes"), "notes", keys)


def _run(w, wh: Path, first: dt.date, last: dt.date) -> pd.DataFrame:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    b = w.brand
    with duck.connect(duck.DuckSettings(memory_limit="512MB", threads=2)) as con:
        notes = _window(wh, first, last).relation(con, columns=list(M.RELATIONSHIP_NOTE_COLUMNS))
        return M.brand_creator_relationships(con, notes, b["campaign_posts"], b["campaigns"], b["brands"], days)


def _golden() -> pd.DataFrame:
    g = pd.read_csv(GOLDEN, dtype={"brand": object, "user_id": object})
    for c in DATES:
        g[c] = pd.Series([dt.date.fromisoformat(v) for v in g[c]], dtype=object)
    for c in INTS:
        g[c] = g[c].astype("Int64")
    g["is_repeat"] = g["is_repeat"].astype("boolean")
    return g[BRAND_CREATOR_RELATIONSHIPS.column_names]


def test_sql_gives_the_pandas_rows_on_every_sample_day(sample):
    w, wh = sample
    got = _run(w, wh, dt.date(2025, 2, 21), dt.date(2025, 6, 30))
    expected = _golden()
    assert len(expected) == 4560 and expected["snapshot_date"].nunique() == 128  # not vacuous
    assert int(expected["is_repeat"].sum()) == 1094 and int(expected["sponsored_notes"].sum()) == 5669
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert all(c.passed for c in checks.check_brand_creator_relationships(got))


def test_a_ranged_query_gives_each_day_the_rows_of_that_day_alone(sample):
    w, wh = sample
    ranged = _run(w, wh, dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert ranged["snapshot_date"].nunique() == 30
    for d in (dt.date(2025, 6, 1), dt.date(2025, 6, 17), dt.date(2025, 6, 30)):
        alone = _run(w, wh, d, d)
        assert len(alone) > 50
        pd.testing.assert_frame_equal(
            alone, ranged[ranged["snapshot_date"] == d].reset_index(drop=True), check_exact=True
        )


def test_the_relation_holds_the_declared_window(sample):
    """The query reads the window's files itself (the 6 columns it needs of the declared days): no filtered read
    into pandas first."""
    w, wh = sample
    d = dt.date(2025, 6, 30)
    with duck.connect() as con:
        rel = _window(wh, d, d).relation(con, columns=list(M.RELATIONSHIP_NOTE_COLUMNS))
        assert rel.columns == [*M.RELATIONSHIP_NOTE_COLUMNS, "snapshot_date"]
        rows, lo = rel.aggregate("count(*) AS n, min(snapshot_date) AS lo").fetchall()[0]
    notes = w.ingest.table("notes")
    in_window = notes[(notes["snapshot_date"] >= d - timedelta(days=180)) & (notes["snapshot_date"] <= d)]
    assert rows == len(in_window) and lo == min(in_window["snapshot_date"])
