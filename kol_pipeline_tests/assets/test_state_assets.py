"""The state assets through Dagster: a day run alone continues from the stored state of the day before, and when
that state is missing it bootstraps from the trailing window; both give the rows of the ranged run."""

import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from kol_pipeline.lib.simulate import simulate
from kol_pipeline.orchestration.planning import find_partition_days, plan_runs
from kol_pipeline.orchestration.running import run_pipeline
from kol_pipeline.resources.io_manager import list_partitions, read_table

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


def _ranged_warehouse(landing: Path, tmp_path: Path, monkeypatch):
    """Every day of the landing in ranged runs: (warehouse, instance, last day, the last day's metric rows)."""
    wh = tmp_path / "wh"
    instance = dg.DagsterInstance.ephemeral()
    days = sorted(find_partition_days(landing))
    _run(landing, wh, monkeypatch, plan_runs(days), instance)
    return wh, instance, days[-1], _day_rows(wh, days[-1])


def test_day_alone_continues_or_bootstraps_to_the_same_rows(landing, tmp_path, monkeypatch):
    wh, instance, last, ranged = _ranged_warehouse(landing, tmp_path, monkeypatch)
    assert len(ranged["note_metrics"]) > 0 and len(ranged["creator_scorecard"]) > 0
    # a state with no rows is not written (the IO manager skips empty days): the next day then bootstraps
    assert set(list_partitions(str(wh), "note_state")) >= set(list_partitions(str(wh), "note_metrics"))

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
    assert (deltas["last_sd"].to_numpy() == [(d - date(1970, 1, 1)).days for d in deltas["snapshot_date"]]).all()

    # the day before loses its states: the last day bootstraps from the cleaned partitions
    before = (last - timedelta(days=1)).isoformat()
    for state in ("note_state", "creator_state", "comment_state"):
        shutil.rmtree(wh / state / f"snapshot_date={before}", ignore_errors=True)
    _run(landing, wh, monkeypatch, [(last, last)], instance)
    for t, keys in TABLES.items():
        pd.testing.assert_frame_equal(_day_rows(wh, last)[t], ranged[t], obj=f"bootstrapped {t}")
    logs = [e.message for e in instance.all_logs(instance.get_runs(limit=1)[0].run_id) if e.message]
    assert any("bootstrapping" in m for m in logs)


def test_a_comment_state_of_the_former_full_state_format_continues(landing, tmp_path, monkeypatch):
    """A warehouse written before comment_state was stored as deltas holds the whole state in every partition (no
    base, no base_sd). The next day reads only the newest of them (not the 122 of its window: 24 M rows each at
    100,000 notes a day), stores a delta, and gives the metrics of a warehouse that never had the former format."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kol_pipeline.lib import state as S

    wh, instance, last, ranged = _ranged_warehouse(landing, tmp_path, monkeypatch)
    # rewrite every stored comment_state partition before the last day as the whole state of its day, former format
    stored = read_table(str(wh), "comment_state")
    sd = stored["snapshot_date"].astype(object)
    rewritten = 0
    for k in list_partitions(str(wh), "comment_state"):
        d = date.fromisoformat(k)
        if d >= last:
            continue
        lo = d - timedelta(days=S.COMMENT_KEEP_DAYS)
        window = stored[((sd >= lo) & (sd <= d)).to_numpy()].reset_index(drop=True)
        state = S.comment_view(window, d)[list(S.COMMENT_STATE_DTYPES)].astype(S.COMMENT_STATE_DTYPES)
        pq.write_table(
            pa.Table.from_pandas(state, preserve_index=False),
            wh / "comment_state" / f"snapshot_date={k}" / "part-0.parquet",
        )
        rewritten += 1
    assert (
        rewritten > 5
        and "base"
        not in pq.read_schema(
            wh / "comment_state" / f"snapshot_date={list_partitions(str(wh), 'comment_state')[0]}" / "part-0.parquet"
        ).names
    )
    shutil.rmtree(wh / "comment_state" / f"snapshot_date={last.isoformat()}", ignore_errors=True)

    _run(landing, wh, monkeypatch, [(last, last)], instance)
    for t, keys in TABLES.items():
        pd.testing.assert_frame_equal(_day_rows(wh, last)[t], ranged[t], obj=f"continued from the former format {t}")
    logs = [e.message for e in instance.all_logs(instance.get_runs(limit=1)[0].run_id) if e.message]
    assert not any("bootstrapping" in m for m in logs)
    assert any("from 1 stored partition(s)" in m for m in logs), [m for m in logs if "comment_state" in m]
    day = read_table(str(wh), "comment_state", last.isoformat(), last.isoformat())
    if len(day):  # the last day has comments: stored as a delta of that day's sightings
        assert (day["base"] == 0).all() and (day["last_sd"] == S.day_number(last)).all()


def test_comment_state_row_fetch_reads_the_rows_asked_for(tmp_path):
    """A daily comment_state run reads the view's columns of the stored partitions and fetches the other columns
    of the rows it needs (_row_fetch): a filtered read for a few rows, a full read for many; either gives the
    rows of a full read, and partitions rewritten under the run are an error, not wrong rows."""
    import pyarrow.parquet as pq
    from fsspec.implementations.local import LocalFileSystem

    from kol_pipeline.defs.metrics.assets import _row_fetch
    from kol_pipeline.lib import state as S
    from kol_pipeline.resources.io_manager import PartitionedInput, _to_arrow
    from kol_pipeline_tests.unit.test_comment_state import _comments, _runs

    d0 = date(2025, 1, 1)
    parts = []
    for i in range(12):  # 40 comments a day, half of them re-sighted from the day before
        d = d0 + timedelta(days=i)
        parts.append(
            (
                d,
                _comments(
                    d,
                    [
                        (f"c{i // 2}_{k}" if k < 20 else f"c{i}_{k}", f"n{k % 4}", "0", "好看", k % 3 == 0, 1)
                        for k in range(40)
                    ],
                ),
            )
        )
    *_, (_, _, stored, _) = _runs(parts, [1] * 12)
    folder = tmp_path / "comment_state"
    for d, rows in stored.items():
        (folder / f"snapshot_date={d.isoformat()}").mkdir(parents=True)
        pq.write_table(_to_arrow(rows, "comment_state"), folder / f"snapshot_date={d.isoformat()}" / "part-0.parquet")
    keys = sorted(d.isoformat() for d in stored)
    handle = PartitionedInput(LocalFileSystem(), str(folder), "comment_state", keys)
    full = handle.read(keys, list(S.COMMENT_STATE_DTYPES))
    window = handle.read(keys, S.COMMENT_VIEW_COLUMNS)
    mask = S.comment_view_mask(window, d0 + timedelta(days=11))[0]
    assert (~mask).sum() > 0  # superseded rows are stored and left out

    reads = []
    real_read = handle.read
    handle.read = lambda *a, **kw: reads.append(kw.get("row_filter") is not None) or real_read(*a, **kw)
    fetch = _row_fetch(handle, keys, window)
    few = mask & (np.arange(len(mask)) % 50 == 0)
    for rows, filtered in ((few, True), (mask, False)):
        want = full[list(S.COMMENT_STATE_DTYPES)][rows].reset_index(drop=True)
        pd.testing.assert_frame_equal(fetch(rows), want, check_dtype=False)
        assert reads[-1] is filtered
    assert len(fetch(np.zeros(len(mask), dtype=bool))) == 0

    last = folder / f"snapshot_date={keys[-1]}" / "part-0.parquet"
    pq.write_table(pq.read_table(last).slice(1), last)  # the newest partition rewritten with a row less
    with pytest.raises(RuntimeError, match="changed while this run read them"):
        fetch(mask)


def test_scorecard_comment_read_starts_at_its_window(tmp_path):
    """creator_scorecard reads the stored comment_state partitions from ``comment_partitions_since`` on (its
    90-day window, not the state's 122 days), and of a base partition only the rows last seen since then: fewer
    rows, the same comment stats as the whole view. A window stored with timestamp days (an earlier format) does
    not take the row filter and is read whole, with the same stats."""
    import pyarrow.parquet as pq
    from fsspec.implementations.local import LocalFileSystem

    from kol_pipeline.defs.metrics.assets import _comment_partitions
    from kol_pipeline.lib import state as S
    from kol_pipeline.resources.io_manager import PartitionedInput, _to_arrow
    from kol_pipeline_tests.unit.test_comment_state import _comments

    d0 = date(2025, 1, 1)
    parts = []
    for i in range(130):  # new comments every day, and one comment re-sighted every 10 days
        d = d0 + timedelta(days=i)
        parts.append(
            (
                d,
                _comments(
                    d,
                    [(f"c{i}_{k}", f"n{k % 4}", "0", "好看" if k else "买了", k % 2 == 0, 1) for k in range(3)]
                    + ([("c0_0", "n0", "0", "买了", True, 1)] if i % 10 == 0 else []),
                ),
            )
        )
    # as the benchmark's warm-up: the state of day 99 stored as one base, then a delta a day
    prev = S.comment_state_batch(parts[:99])
    days = [d for d, _ in parts[99:]]
    stored = dict(S.comment_state_partitions(prev, days, dict(parts).get, 0, base_first=True))
    last = days[-1]
    assert stored[days[0]]["base"].all() and not stored[last]["base"].any()

    def write(folder: Path, timestamp_days: bool = False) -> PartitionedInput:
        for d, rows in stored.items():
            t = _to_arrow(S._with_day(rows, d), "comment_state")
            if timestamp_days:
                for c in ("first_sd", "last_sd"):
                    days_ms = (t.column(c).to_numpy().astype("int64") * 86_400_000).astype("datetime64[ms]")
                    t = t.set_column(t.schema.get_field_index(c), c, pa.array(days_ms))
            (folder / f"snapshot_date={d.isoformat()}").mkdir(parents=True)
            pq.write_table(t, folder / f"snapshot_date={d.isoformat()}" / "part-0.parquet")
        return PartitionedInput(LocalFileSystem(), str(folder), "comment_state", sorted(d.isoformat() for d in stored))

    handle = write(tmp_path / "comment_state")
    since = S.comment_partitions_since(last, 90)
    assert since == last - timedelta(days=89)
    whole = _comment_partitions(handle, [last], S.SCORECARD_COMMENT_COLUMNS)
    part = _comment_partitions(handle, [last], S.SCORECARD_COMMENT_COLUMNS, since)
    assert (S._state_days(part["last_sd"]) >= S.day_number(since)).all()
    assert (S._state_days(whole["last_sd"]) < S.day_number(since)).sum() > 0  # the base's older rows
    assert len(part) == int((S._state_days(whole["last_sd"]) >= S.day_number(since)).sum())
    owner = pd.Series([f"u{k % 2}" for k in range(4)], index=[f"n{k}" for k in range(4)])
    pairs = pd.DataFrame({"user_id": ["u0", "u1"]})

    def stats(cs: pd.DataFrame) -> pd.DataFrame:
        return S._creator_comment_stats_state(
            cs, owner, pd.Timestamp(last), 90, pairs, S.comment_view_mask(cs, last)[0]
        )

    pd.testing.assert_frame_equal(stats(part), stats(whole))
    # the window's 3 comments a day and c0_0, re-sighted on day 120 (first seen on day 0); "好看" repeats
    assert stats(part)["n_all"].sum() == 3 * 90 + 1 and stats(part)["n_dup"].sum() > 0

    # the same window stored with timestamp days: the row filter does not apply, its partitions are read whole
    old = write(tmp_path / "comment_state_ts", timestamp_days=True)
    old_part = _comment_partitions(old, [last], S.SCORECARD_COMMENT_COLUMNS, since)
    assert old_part["last_sd"].dtype.kind == "M" and len(old_part) == len(whole)
    pd.testing.assert_frame_equal(stats(old_part), stats(part))
