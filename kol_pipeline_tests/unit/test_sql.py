"""`kol-pipeline sql`: every warehouse table is a DuckDB view; printed results, CSV/Parquet output, empty views on a
fresh warehouse, and clear errors with exit codes. The warehouse is built by hand in the IO manager's layout."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kol_pipeline.cli import main
from kol_pipeline.lib import sql as sql_lib
from kol_pipeline.lib.schemas import TABLES

D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def _table(name: str, rows: list[dict], drop_snapshot: bool = True) -> pa.Table:
    """Rows (missing columns null) with the table's schema; partitioned files carry no snapshot_date column."""
    spec = TABLES[name]
    fields = [f for f in spec.schema if not (drop_snapshot and f.name == "snapshot_date")]
    cols = {f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in fields}
    return pa.table(cols, schema=pa.schema(fields))


def _write_day(wh: Path, name: str, day: dt.date, rows: list[dict]) -> None:
    folder = wh / name / f"snapshot_date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(_table(name, rows), folder / "part-0.parquet")


def _write_single(wh: Path, name: str, rows: list[dict]) -> None:
    (wh / name).mkdir(parents=True, exist_ok=True)
    pq.write_table(_table(name, rows), wh / name / f"{name}.parquet")


@pytest.fixture()
def warehouse(tmp_path) -> Path:
    wh = tmp_path / "wh"
    _write_day(
        wh,
        "creator_scorecard",
        D1,
        [
            {
                "user_id": "u1",
                "nickname": "甲",
                "followers": 20_000,
                "tier": "micro",
                "primary_category": "skincare",
                "median_er_7d": 0.08,
                "est_cpe_cny": 1.5,
                "score": 0.9,
                "authenticity_flags": [],
            },
            {
                "user_id": "u2",
                "nickname": "乙",
                "followers": 50_000,
                "tier": "micro",
                "primary_category": "skincare",
                "median_er_7d": 0.05,
                "est_cpe_cny": None,
                "score": 0.7,
                "authenticity_flags": ["follower_spike"],
            },
        ],
    )
    _write_day(
        wh,
        "creator_scorecard",
        D2,
        [
            {
                "user_id": "u1",
                "nickname": "甲",
                "followers": 21_000,
                "tier": "micro",
                "primary_category": "skincare",
                "median_er_7d": 0.09,
                "est_cpe_cny": 1.25,
                "score": 0.95,
                "authenticity_flags": [],
            },
            {
                "user_id": "u3",
                "nickname": "丙",
                "followers": 600_000,
                "tier": "macro",
                "primary_category": "food",
                "median_er_7d": 0.01,
                "est_cpe_cny": 9.0,
                "score": 0.2,
                "authenticity_flags": [],
            },
        ],
    )
    _write_single(
        wh,
        "brands",
        [
            {"brand": "RoseLab", "aliases": ["rose lab", "玫瑰"], "category": "skincare", "control_keyword": None},
            {"brand": "谷物说", "aliases": [], "category": "food", "control_keyword": "燕麦"},
        ],
    )
    # a stale temporary file of an interrupted writer is invisible
    (wh / "creator_scorecard" / f"snapshot_date={D2}" / ".part-0.parquet.tmp-abc").write_bytes(b"junk")
    return wh


def _sql(capsys, wh, query, *extra):
    code = main(["sql", query, "--warehouse", str(wh), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_partitioned_view_has_snapshot_date_and_values(warehouse, capsys):
    code, out, err = _sql(
        capsys,
        warehouse,
        "SELECT snapshot_date, count(*) AS n, sum(followers)::BIGINT AS f, typeof(snapshot_date) AS t "
        "FROM creator_scorecard GROUP BY snapshot_date ORDER BY snapshot_date",
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["snapshot_date", "n", "f", "t"]
    assert lines[1].split() == ["2025-03-01", "2", "70000", "DATE"]
    assert lines[2].split() == ["2025-03-02", "2", "621000", "DATE"]
    assert lines[-1] == "(2 rows)"


def test_columns_in_spec_order_and_typed(warehouse):
    con = sql_lib.connect(str(warehouse))
    cols = con.execute("DESCRIBE creator_scorecard").fetchall()
    assert [c[0] for c in cols] == TABLES["creator_scorecard"].column_names  # snapshot_date first, as in the spec
    types = {c[0]: c[1] for c in cols}
    assert types["snapshot_date"] == "DATE" and types["followers"] == "BIGINT"
    assert types["authenticity_flags"] == "VARCHAR[]" and types["score"] == "DOUBLE"
    # list columns and date filters work in SQL
    got = con.execute(
        "SELECT user_id FROM creator_scorecard WHERE snapshot_date = DATE '2025-03-01' AND len(authenticity_flags) = 0"
    ).fetchall()
    assert got == [("u1",)]
    brands = con.execute("SELECT brand, aliases[2] FROM brands ORDER BY brand").fetchall()
    assert brands == [("RoseLab", "玫瑰"), ("谷物说", None)]


def test_missing_tables_are_empty_views_with_columns(warehouse, capsys):
    con = sql_lib.connect(str(warehouse))
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert set(TABLES) <= views
    cols = con.execute("DESCRIBE note_metrics").fetchall()
    assert [c[0] for c in cols] == TABLES["note_metrics"].column_names
    assert {c[0]: c[1] for c in cols}["published_date"] == "DATE"
    assert {c[0]: c[1] for c in cols}["crawled_at"] == "TIMESTAMP WITH TIME ZONE"
    assert con.execute("SELECT count(*) FROM note_metrics").fetchone() == (0,)
    # a join against an empty table runs and returns nothing rather than failing
    code, out, err = _sql(
        capsys, warehouse, "SELECT s.user_id, m.er_7d FROM creator_scorecard s JOIN note_metrics m USING (user_id)"
    )
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "(0 rows)"


def test_fresh_warehouse_every_table_empty(tmp_path, capsys):
    code, out, err = _sql(capsys, tmp_path / "nothing_here", "SELECT count(*) AS n FROM campaign_performance")
    assert code == 0
    assert [ln.strip() for ln in out.strip().splitlines()[:2]] == ["n", "0"]
    assert "does not exist" in err


def test_unknown_table_folder_is_registered(warehouse):
    (warehouse / "daily_report" / "snapshot_date=2025-03-02").mkdir(parents=True)
    pq.write_table(
        pa.table({"brand": ["RoseLab"], "headline": ["up 12%"]}),
        warehouse / "daily_report" / "snapshot_date=2025-03-02" / "part-0.parquet",
    )
    con = sql_lib.connect(str(warehouse))
    assert con.execute("SELECT brand, headline, snapshot_date FROM daily_report").fetchall() == [
        ("RoseLab", "up 12%", D2)
    ]


def test_max_rows_truncates(warehouse, capsys):
    code, out, _ = _sql(
        capsys, warehouse, "SELECT user_id FROM creator_scorecard ORDER BY snapshot_date, user_id", "--max-rows", "3"
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert [ln.strip() for ln in lines[1:4]] == ["u1", "u2", "u1"]
    assert "u3" not in out
    assert lines[-1].startswith("(first 3 rows shown; more exist")


def test_out_csv_and_parquet(warehouse, tmp_path, capsys):
    q = (
        "SELECT snapshot_date, user_id, est_cpe_cny, authenticity_flags FROM creator_scorecard "
        "ORDER BY snapshot_date, user_id"
    )
    csv_path = tmp_path / "res" / "top.csv"
    code, out, err = _sql(capsys, warehouse, q, "--out", str(csv_path), "--max-rows", "1")
    assert code == 0, err
    assert "wrote 4 rows" in out  # --out writes the whole result, not max_rows
    got = pd.read_csv(csv_path)
    assert got["user_id"].tolist() == ["u1", "u2", "u1", "u3"]
    assert got["snapshot_date"].tolist() == ["2025-03-01", "2025-03-01", "2025-03-02", "2025-03-02"]
    assert got["est_cpe_cny"].isna().tolist() == [False, True, False, False]  # null stays empty, not 0
    assert got["est_cpe_cny"].iloc[2] == 1.25

    pq_path = tmp_path / "top.PARQUET"
    code, out, err = _sql(capsys, warehouse, q, "--out", str(pq_path))
    assert code == 0, err
    t = pq.read_table(pq_path)
    assert t.schema.field("snapshot_date").type == pa.date32()
    assert t.column("authenticity_flags").to_pylist() == [[], ["follower_spike"], [], []]
    assert t.column("est_cpe_cny").to_pylist() == [1.5, None, 1.25, 9.0]


def test_bad_out_suffix_exits_2(warehouse, tmp_path, capsys):
    code, out, err = _sql(capsys, warehouse, "SELECT 1", "--out", str(tmp_path / "x.xlsx"))
    assert code == 2
    assert ".csv or .parquet" in err
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize(
    "query, needle",
    [
        ("SELECT * FROM no_such_table", "no_such_table"),
        ("SELECT no_such_column FROM brands", "no_such_column"),
        ("SELEC 1", "syntax error"),
        ("SELECT CAST('abc' AS INTEGER)", "abc"),
    ],
)
def test_sql_errors_exit_1_with_message(warehouse, capsys, query, needle):
    code, out, err = _sql(capsys, warehouse, query)
    assert code == 1
    assert err.startswith("error: SQL failed:")
    assert needle in err
    assert "Traceback" not in err + out


def test_unknown_table_lists_views(warehouse, capsys):
    _, _, err = _sql(capsys, warehouse, "SELECT * FROM scorecard")
    assert "tables:" in err and "creator_scorecard" in err and "campaign_performance" in err


def test_statement_without_result(warehouse, capsys):
    code, out, _ = _sql(capsys, warehouse, "SET threads = 1")
    assert code == 0 and out.strip() == "ok"


def test_path_with_quote_is_escaped(tmp_path, capsys):
    wh = tmp_path / "it's a warehouse"
    _write_single(wh, "brands", [{"brand": "B", "aliases": [], "category": "food", "control_keyword": None}])
    code, out, err = _sql(capsys, wh, "SELECT brand FROM brands")
    assert code == 0, err
    assert out.strip().splitlines()[1].strip() == "B"


def test_duckdb_types_cover_every_schema():
    for spec in TABLES.values():
        for col in spec.columns:
            assert sql_lib.duckdb_type(col.type)  # raises for a type the empty views could not declare


def test_fsspec_url_warehouse():
    import uuid

    import fsspec

    fs = fsspec.filesystem("memory")
    root = f"/wh-{uuid.uuid4().hex}"
    with fs.open(f"{root}/creator_scorecard/snapshot_date=2025-03-02/part-0.parquet", "wb") as fh:
        pq.write_table(_table("creator_scorecard", [{"user_id": "u9", "followers": 5}]), fh)
    con = sql_lib.connect(f"memory://{root}")
    assert con.execute("SELECT user_id, followers, snapshot_date FROM creator_scorecard").fetchall() == [("u9", 5, D2)]
    assert con.execute("SELECT count(*) FROM brands").fetchone() == (0,)


# ---------------------------------------------------------------- the README's business questions

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_WAREHOUSE = ROOT / "data" / "warehouse"


def readme_queries() -> list[str]:
    """The `kol-pipeline sql "..."` queries of README.md between <!-- queries --> and <!-- /queries -->."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = text.index("<!-- queries -->"), text.index("<!-- /queries -->")
    return [q.strip() for q in re.findall(r'kol-pipeline sql "(.*?)"', text[start:end], flags=re.S)]


def test_readme_has_the_business_queries():
    qs = readme_queries()
    assert len(qs) >= 5
    joined = "\n".join(qs)
    for table in (
        "creator_scorecard",
        "tier_comparison",
        "note_metrics",
        "keyword_share_of_voice",
        "brand_search_lift",
    ):
        assert f"FROM {table}" in joined, table


@pytest.mark.parametrize("query", readme_queries())
def test_readme_queries_run_on_a_fresh_warehouse(tmp_path, capsys, query):
    """Every README query binds against the table schemas (empty views): a renamed column fails here."""
    code, out, err = _sql(capsys, tmp_path / "fresh", query)
    assert code == 0, err
    assert out.strip().splitlines()[-1] == "(0 rows)"


@pytest.fixture(scope="module")
def sample_con():
    if not (SAMPLE_WAREHOUSE / "tier_comparison").is_dir():
        pytest.skip(
            "data/warehouse not built: run `make run` (the bundled sample, ~2 min) to check the README "
            "queries against real results"
        )
    return sql_lib.connect(str(SAMPLE_WAREHOUSE))


@pytest.mark.parametrize("query", readme_queries())
def test_readme_queries_return_rows_on_the_sample(sample_con, query):
    if "FROM brand_audience_affinity" in query:
        pytest.skip(
            "the bundled sample plants no shared audience (simulate --shared-audience does): its "
            "brand_audience_affinity is empty; test_audience_plant runs this query on planted data"
        )
    rows = sample_con.execute(query).fetchall()
    assert len(rows) >= 1
    # no row is all nulls apart from its labels
    assert any(sum(v is not None for v in r) >= 3 for r in rows)
