"""The state assets through Dagster: a day run alone continues from the stored state of the day before, and when
that state is missing it bootstraps from the trailing window; both give the rows of the ranged run."""

import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from kol_pipeline.lib.simulate import simulate
from kol_pipeline.orchestration.planning import find_partition_days, plan_runs
from kol_pipeline.orchestration.running import run_pipeline
from kol_pipeline.resources.io_manager import list_partitions, read_table

pytestmark = pytest.mark.heavy(70)

END = date(2025, 6, 30)
TABLES = {"note_metrics": ["note_id"], "creator_scorecard": ["user_id"], "tier_benchmarks": ["tier", "category"]}


def _run(landing: Path, wh: Path, monkeypatch, plan, instance):
    monkeypatch.setenv("KOL_LANDING_DIR", str(landing))
    monkeypatch.setenv("KOL_WAREHOUSE_DIR", str(wh))
    monkeypatch.delenv("KOL_SOURCE_DB_URL", raising=False)
    summary = run_pipeline(plan, str(wh), progress=lambda m: None, instance=instance, landing=landing)
    assert summary.exit_code == 0, summary.render(0)


def _canon(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = df.sort_values(keys, kind="mergesort").reset_index(drop=True)
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: list(v) if isinstance(v, (list, tuple, np.ndarray)) else v)
    return out


def _day_rows(wh: Path, d: date) -> dict[str, pd.DataFrame]:
    k = d.isoformat()
    return {t: _canon(read_table(str(wh), t, k, k), keys) for t, keys in TABLES.items()}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing_state")
    simulate(out, creators=12, days=20, seed=5, end_date=END)
    return out


@pytest.fixture(scope="module")
def built(landing, tmp_path_factory):
    """Every day of the landing in ranged runs, once for the module: (warehouse, its instance, last day, the last
    day's metric rows). Tests that change a warehouse work on a copy (``_ranged_warehouse``)."""
    wh = tmp_path_factory.mktemp("ranged") / "wh"
    instance = dg.DagsterInstance.ephemeral()
    days = sorted(find_partition_days(landing))
    with pytest.MonkeyPatch.context() as mp:
        _run(landing, wh, mp, plan_runs(days), instance)
    return wh, instance, days[-1], _day_rows(wh, days[-1])


def _ranged_warehouse(built, tmp_path: Path):
    """A copy of the module's ranged warehouse to change, with a new instance: (warehouse, instance, last day, the
    last day's metric rows of the ranged runs)."""
    template, _, last, ranged = built
    wh = tmp_path / "wh"
    shutil.copytree(template, wh)
    return wh, dg.DagsterInstance.ephemeral(), last, ranged


def _bootstrapped_day_equals_ranged(landing, wh, monkeypatch, last, instance, ranged, what: str) -> None:
    """A one-day run of ``last`` on ``wh``: it bootstraps its states (its log says so) and gives every table the
    rows of the ranged run (``ranged``)."""
    _run(landing, wh, monkeypatch, [(last, last)], instance)
    for t in TABLES:
        pd.testing.assert_frame_equal(_day_rows(wh, last)[t], ranged[t], obj=f"{what} {t}")
    logs = [e.message for e in instance.all_logs(instance.get_runs(limit=1)[0].run_id) if e.message]
    assert any("bootstrapping" in m for m in logs), [m for m in logs if "state" in m]


def test_day_alone_continues_or_bootstraps_to_the_same_rows(landing, built, tmp_path, monkeypatch):
    wh, instance, last, ranged = _ranged_warehouse(built, tmp_path)
    ranged_instance = built[1]
    assert len(ranged["note_metrics"]) > 0 and len(ranged["creator_scorecard"]) > 0
    # a state with no rows is not written (the IO manager skips empty days): the next day then bootstraps
    assert set(list_partitions(str(wh), "note_state")) >= set(list_partitions(str(wh), "note_metrics"))
    # the ranged runs' row count of each partition (the UI's) is its stored partition's: comment_state's output is
    # an Arrow table (counted by the IO manager), note_state's a pandas frame (counted by the asset)
    for t in ("comment_state", "note_state"):
        counts = read_table(str(wh), t).groupby("snapshot_date", observed=True).size()
        shown = {
            r.partition_key: r.asset_materialization.metadata["dagster/row_count"].value
            for r in ranged_instance.fetch_materializations(dg.AssetKey(t), limit=1000).records
        }
        assert len(counts) > 5 and {k: n for k, n in shown.items() if n} == {
            pd.Timestamp(d).date().isoformat(): int(n) for d, n in counts.items()
        }, t

    # the last day alone: continues from the stored states of the day before
    _run(landing, wh, monkeypatch, [(last, last)], instance)
    for t, keys in TABLES.items():
        pd.testing.assert_frame_equal(_day_rows(wh, last)[t], ranged[t], obj=f"continued {t}")
    # a one-day run's row count (the UI's) is its stored partition's, for the states and the metrics
    run_id = instance.get_runs(limit=1)[0].run_id
    for t in ("comment_state", "note_state", "note_metrics"):
        recs = [r for r in instance.fetch_materializations(dg.AssetKey(t), limit=100).records if r.run_id == run_id]
        assert [r.partition_key for r in recs] == [last.isoformat()], t
        stored = len(read_table(str(wh), t, last.isoformat(), last.isoformat()))
        # comment_state stores the day's sightings (a delta): none on a day without comments
        assert (stored > 0 or t == "comment_state") and recs[0].asset_materialization.metadata[
            "dagster/row_count"
        ].value == stored, t
    # the ranged run stored deltas (a base only on its first day, when that day has comments): each delta holds
    # only its day's sightings
    cs = read_table(str(wh), "comment_state")
    kinds = cs.groupby("snapshot_date", observed=True)["base"].agg(["min", "max"])
    assert (kinds["min"] == kinds["max"]).all() and (kinds["max"].iloc[1:] == 0).all() and len(kinds) > 5
    deltas = cs[cs["base"] == 0]
    assert len(deltas) > 0
    assert [pd.Timestamp(x).date() for x in deltas["last_sd"]] == [
        pd.Timestamp(d).date() for d in deltas["snapshot_date"]
    ]

    # the day before loses its states: the last day bootstraps from the cleaned partitions
    before = (last - timedelta(days=1)).isoformat()
    for state in ("note_state", "creator_state", "comment_state"):
        shutil.rmtree(wh / state / f"snapshot_date={before}", ignore_errors=True)
    _bootstrapped_day_equals_ranged(landing, wh, monkeypatch, last, instance, ranged, "bootstrapped")


def test_the_comment_state_step_writes_its_relation_then_closes_its_connection(landing, built, tmp_path, monkeypatch):
    """comment_state yields a DuckDB relation over the rows it keeps in DuckDB (a base is never an Arrow table in
    Python): the IO manager writes it while the step's connection is open, and the step closes it afterwards. Every
    connection the metrics assets open in a bootstrapping one-day run is closed when the run ends, and the day's
    stored base holds the whole state."""
    import duckdb

    from kol_pipeline.defs.metrics import assets as metrics_assets
    from kol_pipeline.lib import duck

    opened: list[duckdb.DuckDBPyConnection] = []

    class _Recording:
        def __getattr__(self, name):
            return getattr(duck, name)

        def connect(self, *args, **kwargs):
            con = duck.connect(*args, **kwargs)
            opened.append(con)
            return con

    wh, instance, last, ranged = _ranged_warehouse(built, tmp_path)
    before = (last - timedelta(days=1)).isoformat()
    shutil.rmtree(wh / "comment_state" / f"snapshot_date={before}", ignore_errors=True)
    monkeypatch.setattr(metrics_assets, "duck", _Recording())
    _bootstrapped_day_equals_ranged(landing, wh, monkeypatch, last, instance, ranged, "bootstrapped comment_state")
    assert len(opened) >= 3  # note_state, creator_state, comment_state, the metrics
    for con in opened:
        with pytest.raises(duckdb.ConnectionException):
            con.execute("SELECT 1")
    day = read_table(str(wh), "comment_state", last.isoformat(), last.isoformat())
    assert len(day) > 0 and day["base"].astype(bool).all()
    earlier = read_table(str(wh), "comment_state", (last - timedelta(days=121)).isoformat(), before)
    seen = pd.to_datetime(earlier["last_sd"]).dt.date >= last - timedelta(days=121)
    # the base holds the whole state: every comment last seen in its window before the day (and the day's own)
    assert len(earlier[seen]) > 0 and set(day["comment_id"]) >= set(earlier.loc[seen, "comment_id"])


def test_a_comment_state_of_the_former_hashed_format_is_rebuilt(landing, built, tmp_path, monkeypatch):
    """A warehouse written before comment_state was keyed by the real ids holds 64-bit keys (comment_key, ...),
    which cannot be continued: the next day rebuilds the state from the cleaned comments (a bootstrap, stored as a
    base) and gives the metrics of a warehouse that never had the former format."""
    import pyarrow.parquet as pq

    wh, instance, last, ranged = _ranged_warehouse(built, tmp_path)
    rewritten = 0
    for k in list_partitions(str(wh), "comment_state"):
        if k >= last.isoformat():
            continue
        n = 3
        former = pa.table(
            {
                "comment_key": pa.array(np.arange(n), pa.int64()),
                "note_key": pa.array(np.arange(n), pa.int64()),
                "first_sd": pa.array([0] * n, pa.int32()),
                "last_sd": pa.array([0] * n, pa.int32()),
                "norm_key": pa.array([0] * n, pa.int64()),
                "base": pa.array([1] * n, pa.int8()),
            }
        )
        pq.write_table(former, wh / "comment_state" / f"snapshot_date={k}" / "part-0.parquet")
        rewritten += 1
    assert rewritten > 5
    shutil.rmtree(wh / "comment_state" / f"snapshot_date={last.isoformat()}", ignore_errors=True)

    _bootstrapped_day_equals_ranged(landing, wh, monkeypatch, last, instance, ranged, "rebuilt from the former format")
    day = read_table(str(wh), "comment_state", last.isoformat(), last.isoformat())
    assert len(day) and day["base"].all()


def test_a_warehouse_from_before_comment_sentiment_is_rebuilt(landing, built, tmp_path, monkeypatch):
    """A warehouse written before issue #26: comment_state partitions without lt_sent and comments partitions
    without sentiment. The stored state cannot be read with lt_sent, so the next day rebuilds it from the cleaned
    comments (the sentiment computed from their content) and gives the metrics, comment_sentiment included, of a
    warehouse that always had the columns."""
    import pyarrow.parquet as pq

    wh, instance, last, ranged = _ranged_warehouse(built, tmp_path)
    assert "comment_sentiment" in ranged["note_metrics"].columns
    assert "comment_sentiment" in ranged["creator_scorecard"].columns
    for table, column in (("comment_state", "lt_sent"), ("comments", "sentiment")):
        for k in list_partitions(str(wh), table):
            if k >= last.isoformat():
                continue
            for f in (wh / table / f"snapshot_date={k}").glob("*.parquet"):
                t = pq.read_table(f)
                assert column in t.column_names
                pq.write_table(t.drop_columns([column]), f)
    shutil.rmtree(wh / "comment_state" / f"snapshot_date={last.isoformat()}", ignore_errors=True)

    _bootstrapped_day_equals_ranged(landing, wh, monkeypatch, last, instance, ranged, "rebuilt without lt_sent")
    day = read_table(str(wh), "comment_state", last.isoformat(), last.isoformat())
    top = day[day["lt_note_id"].notna()]
    assert len(top) and day["base"].all() and top["lt_sent"].notna().all()
    assert set(top["lt_sent"]) <= {"positive", "negative", "neutral"}


def test_scorecard_comment_read_starts_at_its_window(tmp_path):
    """creator_scorecard reads the stored comment_state partitions from its 90-day window on (not the state's
    122 days), and of a base partition only the rows last seen since then: the same comment stats as over the
    whole view."""
    import pyarrow.parquet as pq
    from fsspec.implementations.local import LocalFileSystem

    from kol_pipeline.defs.metrics.assets import use_comment_view
    from kol_pipeline.lib import duck
    from kol_pipeline.lib.state import comment_state as Q
    from kol_pipeline.lib.state import comment_view as CV
    from kol_pipeline.resources.io_manager import PartitionedInput
    from kol_pipeline.resources.table_io import to_arrow
    from kol_pipeline_tests.unit.test_comment_state import comment_rows

    d0 = date(2025, 1, 1)
    parts = []
    for i in range(130):  # new comments every day, and one comment re-sighted every 10 days
        d = d0 + timedelta(days=i)
        parts.append(
            (
                d,
                comment_rows(
                    d,
                    [(f"c{i}_{k}", f"n{k % 4}", "0", "好看" if k else "买了", k % 2 == 0, 1) for k in range(3)]
                    + ([("c0_0", "n0", "0", "买了", True, 1)] if i % 10 == 0 else []),
                ),
            )
        )
    # as the benchmark's warm-up: the state of day 98 bootstrapped, day 99 stored as one base, then a delta a day
    days = [d for d, _ in parts[99:]]
    boot = pd.concat([p.assign(snapshot_date=d) for d, p in parts[:99]], ignore_index=True)
    folder = tmp_path / "comment_state"
    with duck.connect() as con:
        CV.use_stored(con, None)
        for d, rows, base in Q.state_partitions(con, days, dict(parts).get, boot=boot):
            df = rows.to_pandas()
            df.insert(0, "snapshot_date", d)
            df["base"] = base
            (folder / f"snapshot_date={d.isoformat()}").mkdir(parents=True)
            pq.write_table(to_arrow(df, "comment_state"), folder / f"snapshot_date={d.isoformat()}" / "part-0.parquet")
    keys = sorted(p.name.split("=")[1] for p in folder.iterdir())
    handle = PartitionedInput(LocalFileSystem(), str(folder), "comment_state", keys)
    last = days[-1]
    since = last - timedelta(days=89)
    owners = pd.DataFrame({"note_id": [f"n{k}" for k in range(4)], "user_id": [f"u{k % 2}" for k in range(4)]})
    with duck.connect() as con:
        use_comment_view(con, handle, [last])
        whole = CV.view(con, last)
        want = CV.creator_comment_stats(con, owners, last, 90).sort_values("user_id").reset_index(drop=True)
        use_comment_view(con, handle, [last], since)
        part = CV.view(con, last, since)
        got = CV.creator_comment_stats(con, owners, last, 90).sort_values("user_id").reset_index(drop=True)
    assert min(part["last_sd"].to_pylist()) >= since
    assert sum(x < since for x in whole["last_sd"].to_pylist()) > 0  # the base's older rows
    assert part.num_rows == sum(x >= since for x in whole["last_sd"].to_pylist())
    pd.testing.assert_frame_equal(got, want)
    # the window's 3 comments a day and c0_0, re-sighted on day 120 (first seen on day 0); "好看" repeats
    assert got["n_all"].sum() == 3 * 90 + 1 and got["n_dup"].sum() > 0


def test_the_stored_states_are_the_library_folds(built):
    """note_state and creator_state as their assets store them (each step yields a relation over the states it
    keeps in DuckDB, and the IO manager writes it with DuckDB's COPY) equal the library's fold of the stored
    cleaned partitions from the first day, read back the same way: every day, every value, every type."""
    from kol_pipeline.lib import duck
    from kol_pipeline.lib.state import creator_state as CS
    from kol_pipeline.lib.state import note_state as NS

    wh = built[0]
    notes, creators = read_table(str(wh), "notes"), read_table(str(wh), "creators")
    first = min(pd.Timestamp(d).date() for d in creators["snapshot_date"])
    days = [first + timedelta(days=i) for i in range((built[2] - first).days + 1)]  # days without a crawl too
    by_day = {pd.Timestamp(d).date(): g for d, g in creators.groupby("snapshot_date", observed=True)}
    note_days = {pd.Timestamp(d).date(): g[NS.OBS_COLUMNS] for d, g in notes.groupby("snapshot_date", observed=True)}
    with duck.connect() as con:
        want_cs = CS.creator_states(con, days, by_day.get)
        want_ns = NS.as_frame(NS.as_table(NS.note_states(con, None, [(d, note_days.get(d)) for d in days])))
    for table, want, keys in (
        ("creator_state", want_cs, ["snapshot_date", "user_id"]),
        ("note_state", want_ns, ["snapshot_date", "note_id"]),
    ):
        got = read_table(str(wh), table)
        # in the stored table's own types (what every reader gets), sorted by the keys
        stored = pa.Table.from_pandas(got, preserve_index=False)
        want = pa.Table.from_pandas(want, preserve_index=False)
        assert set(stored.column_names) == set(want.column_names), table
        want = want.select(stored.column_names).cast(stored.schema)
        assert stored.num_rows > 50 and want.num_rows == stored.num_rows, table
        order = [(k, "ascending") for k in keys]
        stored, want = stored.sort_by(order), want.sort_by(order)
        for name in stored.column_names:
            assert stored.column(name).equals(want.column(name)), (table, name)


def test_the_stored_note_metrics_are_the_library_frame(built):
    """note_metrics as its asset stores it (the query's rows kept in DuckDB, non-finite floats nulled there, the
    relation written by the IO manager) equal the library's pandas frame of the same query on the same stored
    states, read back the same way: every value and type of the last day."""
    from kol_pipeline.defs.metrics.assets import use_comment_view
    from kol_pipeline.lib import duck
    from kol_pipeline.lib.metrics import note_metrics as NM
    from kol_pipeline.resources.io_manager import PartitionedInput, make_base_path

    wh, _, last, _ = built
    base = make_base_path(str(wh))

    def handle(table: str, back: int) -> PartitionedInput:
        keys = [(last - timedelta(days=i)).isoformat() for i in range(back + 1)]
        return PartitionedInput(base.fs, str(base / table), table, keys)

    posts = read_table(str(wh), "campaign_posts")
    with duck.connect() as con:
        use_comment_view(con, handle("comment_state", 130), [last])
        notes = handle("note_state", 0).relation(con, columns=NM.NOTE_STATE_COLUMNS)
        shares = NM.comment_shares(con, notes.project("snapshot_date, note_id").df())
        creators = handle("creator_state", 0).relation(con, columns=NM.CREATOR_STATE_COLUMNS)
        want = NM.note_metrics(con, notes, creators, shares, posts, [last])
    got = read_table(str(wh), "note_metrics", last.isoformat(), last.isoformat())
    stored = pa.Table.from_pandas(got, preserve_index=False)
    want = pa.Table.from_pandas(want, preserve_index=False).select(stored.column_names).cast(stored.schema)
    assert stored.num_rows > 20 and want.num_rows == stored.num_rows
    assert pc.sum(pc.is_valid(stored.column("er_7d"))).as_py() > 0
    stored, want = stored.sort_by("note_id"), want.sort_by("note_id")
    for name in stored.column_names:
        assert stored.column(name).equals(want.column(name)), name
