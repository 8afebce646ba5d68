"""campaign_performance, keyword_share_of_voice, tier_comparison and creator_shortlist by SQL (lib/<layer>/<table>.sql)
over DuckDB relations of their inputs' partitions (PartitionedInput.relation), checked row by row against the
pandas implementations they replaced.

``fixtures/<table>_sample.csv.gz`` is the output of the former pandas function (lib/marts/brand_marts.py before the move to SQL)
on the bundled sample, every calendar day 2025-02-21 .. 2025-06-30 in one ranged call (tier_comparison: over those
two marts' outputs). The SQL gave the same rows before the pandas code was deleted: text, integers, dates and
booleans equal, floats equal within 1e-9 relative (the largest difference 3.8e-16 relative: sums in another order);
also on the pipeline's warehouse of simulate(creators=150, days=200, seed=11). The hand-computed cases stay in
unit/test_marts.py."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.ingest.brand import read_search_rankings
from kol_pipeline.lib.marts import campaign_performance as CP
from kol_pipeline.lib.marts import creator_shortlist as CS
from kol_pipeline.lib.marts import keyword_share_of_voice as SV
from kol_pipeline.lib.marts import tier_comparison as TC
from kol_pipeline.lib.schemas import TABLES
from kol_pipeline.resources.io_manager import PartitionedInput, make_base_path
from kol_pipeline.resources.table_io import to_arrow
from kol_pipeline_tests.planted import planted_world

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MARTS = ("campaign_performance", "keyword_share_of_voice", "tier_comparison", "creator_shortlist")
FIRST, LAST = dt.date(2025, 2, 21), dt.date(2025, 6, 30)
WINDOW = 121  # window_mapping(NOTE_WINDOW) of the notes and creators inputs


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _write(wh: Path, table: str, df: pd.DataFrame) -> None:
    """One Parquet file per day (hive folders), the table converted to Arrow once rather than per day."""
    t = to_arrow(df, table)
    days = t.column("snapshot_date")
    for d in pc.unique(days).to_pylist():
        folder = wh / table / f"snapshot_date={d.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(t.filter(pc.equal(days, d)).drop_columns(["snapshot_date"]), folder / "part-0.parquet")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The bundled sample's inputs of the four marts in the warehouse layout, and its brand tables."""
    w = planted_world()
    wh = tmp_path_factory.mktemp("wh")
    for table in ("notes", "creators"):
        _write(wh, table, w.ingest.table(table))
    days = _days(FIRST, LAST)  # every calendar day (two of them without a crawl)
    _write(wh, "search_rankings", read_search_rankings(w.landing, [d.isoformat() for d in days]).frame)
    nm = w.note_metrics(days)
    _write(wh, "note_metrics", nm)
    _write(wh, "creator_scorecard", w.creator_scorecard(nm, days))
    return w, wh


def _handle(wh: Path, table: str, first: dt.date, last: dt.date, back: int = 0) -> PartitionedInput:
    base = make_base_path(str(wh))
    keys = [d.isoformat() for d in _days(first - timedelta(days=back), last)]
    return PartitionedInput(base.fs, str(base / table), table, keys)


def _run(w, wh: Path, first: dt.date, last: dt.date) -> dict[str, pd.DataFrame]:
    """The four marts of a run first .. last, as the assets compute them (tier_comparison over the other two
    written to the warehouse)."""
    b, days = w.brand, _days(first, last)
    out: dict[str, pd.DataFrame] = {}
    with duck.connect(duck.DuckSettings(memory_limit="512MB", threads=2)) as con:
        notes, creators = _handle(wh, "notes", first, last, WINDOW), _handle(wh, "creators", first, last, WINDOW)
        out["campaign_performance"] = CP.campaign_performance(
            con,
            b["campaigns"],
            b["campaign_posts"],
            _handle(wh, "note_metrics", first, last).relation(con, columns=list(CP.NOTE_METRICS_COLUMNS)),
            notes.relation(con, columns=list(CP.NOTE_COLUMNS)),
            creators.relation(con, columns=list(CP.CREATOR_COLUMNS)),
            days,
            w.settings,
        )
        out["keyword_share_of_voice"] = SV.keyword_share_of_voice(
            con,
            _handle(wh, "search_rankings", first, last).relation(con, columns=list(SV.RANKING_COLUMNS)),
            notes.relation(con, columns=list(SV.NOTE_COLUMNS)),
            b["campaign_posts"],
            b["campaigns"],
            b["brands"],
            creators.relation(con, columns=list(CP.CREATOR_COLUMNS)),
            days,
            w.settings,
        )
        marts_wh = wh / f"marts_{first}_{last}"
        for name in ("campaign_performance", "keyword_share_of_voice"):
            _write(marts_wh, name, out[name])
        out["tier_comparison"] = TC.tier_comparison(
            con,
            _handle(marts_wh, "campaign_performance", first, last).relation(
                con, columns=list(TC.CAMPAIGN_PERFORMANCE_COLUMNS)
            ),
            _handle(marts_wh, "keyword_share_of_voice", first, last).relation(
                con, columns=list(TC.SHARE_OF_VOICE_COLUMNS)
            ),
            b["campaigns"],
        )
        scorecard = _handle(wh, "creator_scorecard", first, last).relation(con, columns=list(CS.SCORECARD_COLUMNS))
        out["creator_shortlist"] = CS.creator_shortlist(con, scorecard, b["brands"], days)
    return out


def golden(name: str) -> pd.DataFrame:
    """``fixtures/<name>_sample.csv.gz`` typed as the mart's frame (nullable dtypes, dates as date objects)."""
    spec = TABLES[name]
    text = [c.name for c in spec.columns if pa.types.is_string(c.type)]
    g = pd.read_csv(FIXTURES / f"{name}_sample.csv.gz", dtype={c: object for c in text}, keep_default_na=False)
    for c in spec.columns:
        if c.name not in g.columns:  # a column added after the fixture was written (creator_shortlist's issue #26
            g[c.name] = ""  # reasons): null on the sample, where no scorecard or affinity value exists for it
        s = g[c.name]
        if pa.types.is_date32(c.type):
            g[c.name] = pd.Series([dt.date.fromisoformat(v) if v else None for v in s], dtype=object)
        elif pa.types.is_int64(c.type):
            g[c.name] = pd.to_numeric(s.replace("", None)).astype("Int64")
        elif pa.types.is_floating(c.type):
            g[c.name] = pd.to_numeric(s.replace("", None)).astype("Float64")
        elif pa.types.is_boolean(c.type):
            g[c.name] = s.map({"True": True, "False": False, "": None}).astype("boolean")
        else:
            g[c.name] = s.where(s != "", None)
    return g[spec.column_names]


def assert_same(got: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    """Row by row: text, integers, dates and booleans equal; floats equal within 1e-9 relative."""
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected.reset_index(drop=True), check_exact=False, rtol=1e-9, atol=0, obj=what
    )


@pytest.fixture(scope="module")
def whole(sample) -> dict[str, pd.DataFrame]:
    """The four marts of one ranged run over every sample day (shared by the tests)."""
    w, wh = sample
    return _run(w, wh, FIRST, LAST)


def test_sql_gives_the_pandas_rows_on_every_sample_day(whole):
    got = whole
    sizes = {name: len(golden(name)) for name in MARTS}
    # not vacuous: every mart has rows on many days
    assert sizes == {
        "campaign_performance": 1999,
        "keyword_share_of_voice": 5200,
        "tier_comparison": 3955,
        "creator_shortlist": 1104,
    }
    for name in MARTS:
        assert_same(got[name], golden(name), name)
    assert got["keyword_share_of_voice"]["snapshot_date"].nunique() == 130


def test_a_ranged_query_gives_each_day_the_rows_of_that_day_alone(sample, whole):
    """The 130-day run against one-day runs: a middle day, and late days whose own window starts after the run's
    first day (06-22: the first such, D - 121 = 02-21 + 1); planted old rows: test_marts_ranged.py."""
    w, wh = sample
    ranged = whole
    for d in (dt.date(2025, 4, 15), dt.date(2025, 6, 17), dt.date(2025, 6, 22), LAST):
        alone = _run(w, wh, d, d)
        for name in MARTS:
            assert len(alone[name]) > 5, name
            day = ranged[name][ranged[name]["snapshot_date"] == d]
            pd.testing.assert_frame_equal(alone[name], day.reset_index(drop=True), check_exact=True, obj=name)
