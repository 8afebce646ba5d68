"""note_state by SQL (lib/state/note_state.sql, run one day after another by lib/state/note_state.py),
checked row by row against the output of the numpy step it replaced (``state.note_state_step``, deleted after this
comparison: commit 39443c8 holds the test that compared them), kept as fixtures:

- ``fixtures/note_state_sample.parquet``: the former step's state of every calendar day of the bundled sample
  (2025-02-21 .. 2025-06-30, 130 days, 16,970 rows), folded in memory from no state (a ranged run);
- ``fixtures/note_state_random_notes.parquet``: an adversarial notes table (150 notes over 130 days: crawl gaps,
  publish and crawl at Asia/Shanghai midnight so that ages hit 2, 7, 30 and 90 exactly, decreasing and null
  counts, null publish and crawl times, a changed publish time, two crawls of a note on one day), and
  ``fixtures/note_state_random.parquet``, the former step's state of every third day of it (and the last three).

Equal means equal: strings, ints, dates, booleans, lists and floats (E(h), age_days, half_life_days, the curve
points) compared exactly, after sorting by note_id."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from kol_pipeline.lib import duck
from kol_pipeline.lib.schemas import NOTE_STATE
from kol_pipeline.lib.state import note_state as NS
from kol_pipeline.resources.io_manager import PartitionedInput, make_base_path
from kol_pipeline.resources.table_io import to_arrow, to_pandas
from kol_pipeline_tests.planted import planted_world

# about 20 s: sent to a worker early, and left to the main suite by CI's second Python (.ci/run)
pytestmark = pytest.mark.heavy(20)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _of_day(table: pa.Table, d: dt.date) -> pa.Table:
    return table.filter(pc.equal(table.column("snapshot_date"), pa.scalar(d, pa.date32())))


def _assert_equal(want: pa.Table, got: pa.Table, what: str) -> None:
    """Exactly equal, row by row after sorting by note_id (floats too); the columns of ``want`` (the fixtures
    predate the content-style columns, tested in test_scorecard_finding.py)."""
    want, got = (t.drop_columns([c for c in ("snapshot_date",) if c in t.column_names]) for t in (want, got))
    want, got = want.sort_by("note_id"), got.sort_by("note_id")
    assert got.schema.equals(NS.STATE_SCHEMA), what
    assert want.num_rows == got.num_rows, (what, want.num_rows, got.num_rows)
    for name in want.column_names:
        a, b = want.column(name).combine_chunks(), got.column(name).combine_chunks()
        if not a.equals(b):
            bad = [i for i in range(len(a)) if a[i] != b[i]][:3]
            raise AssertionError((what, name, [(want.column("note_id")[i], a[i], b[i]) for i in bad]))


@pytest.fixture(scope="module")
def sample():
    """The bundled sample's cleaned notes by day, and the calendar days."""
    w = planted_world()
    notes = w.ingest.table("notes")
    by_day = {d: g.drop(columns="snapshot_date").reset_index(drop=True) for d, g in notes.groupby("snapshot_date")}
    return by_day, _days(w.days[0], w.days[-1])


@pytest.fixture(scope="module")
def random_world():
    notes = pq.read_table(FIXTURES / "note_state_random_notes.parquet")
    days = sorted(set(notes.column("snapshot_date").to_pylist()))
    by_day = {d: _of_day(notes, d).drop_columns(["snapshot_date"]) for d in days}
    return by_day, _days(days[0], days[-1])


def test_a_ranged_run_gives_the_former_states_on_every_sample_day(sample):
    by_day, days = sample
    want = pq.read_table(FIXTURES / "note_state_sample.parquet")
    assert len(days) == 130 and want.num_rows == 16970
    with duck.connect() as con:
        got = dict(NS.note_states(con, None, [(d, by_day.get(d)) for d in days]))
    for d in days:
        _assert_equal(_of_day(want, d), got[d], f"sample {d}")
    # not vacuous: every horizon decided somewhere, half-lives, curve points kept and emptied
    last = got[days[-1]]
    assert pc.sum(pc.is_valid(last.column("eng_90d"))).as_py() > 0
    assert pc.sum(pc.is_valid(last.column("half_life_days"))).as_py() > 50
    assert pc.max(pc.list_value_length(last.column("curve_age"))).as_py() >= 10


def test_a_day_from_the_stored_state_of_the_day_before_gives_the_same_state(sample):
    """A daily run: the state of D from the state of D - 1 as the warehouse stores and reads it (Parquet types,
    read back as pandas or scanned by DuckDB)."""
    by_day, days = sample
    want = pq.read_table(FIXTURES / "note_state_sample.parquet")
    with duck.connect() as con:
        for i, d in enumerate(days[1:], start=1):
            stored = _of_day(want, days[i - 1])
            prev = to_pandas(stored, "note_state") if i % 2 else con.from_arrow(stored)
            _assert_equal(_of_day(want, d), NS.note_state_day(con, prev, by_day.get(d), d), f"daily {d}")


def test_the_former_states_of_an_adversarial_world(random_world):
    by_day, days = random_world
    want = pq.read_table(FIXTURES / "note_state_random.parquet")
    kept = sorted(set(want.column("snapshot_date").to_pylist()))
    assert len(kept) == 46
    with duck.connect() as con:
        got = dict(NS.note_states(con, None, [(d, by_day.get(d)) for d in days]))
    for d in kept:
        _assert_equal(_of_day(want, d), got[d], f"random {d}")
    # the cases it is made of occur: ages exactly at a horizon, E(h) null by the gap rule, half-lives
    notes = pa.concat_tables(by_day.values())
    state = pa.concat_tables([got[d] for d in kept])
    ages = pc.unique(pc.list_flatten(state.column("curve_age"))).to_pylist()
    assert {2.0, 7.0} <= set(ages)
    assert pc.sum(pc.and_(state.column("eng_7d_done"), pc.is_null(state.column("eng_7d")))).as_py() > 0
    assert pc.sum(pc.is_valid(state.column("half_life_days"))).as_py() > 0
    assert notes.column("crawled_at").null_count > 0 and notes.column("published_at").null_count > 0


def test_the_notes_as_a_relation_over_the_warehouse(sample, tmp_path):
    """What the asset passes: each day's partition as a DuckDB relation (PartitionedInput.relation), the state
    of the day before as a relation over its stored file, then as the Arrow result of the day before."""
    by_day, days = sample
    some = days[40:52]
    for d in some:
        if d in by_day:
            folder = tmp_path / "notes" / f"snapshot_date={d.isoformat()}"
            folder.mkdir(parents=True)
            pq.write_table(
                to_arrow(by_day[d].assign(snapshot_date=d), "notes").drop_columns(["snapshot_date"]),
                folder / "part-0.parquet",
            )
    want = pq.read_table(FIXTURES / "note_state_sample.parquet")
    before = some[0] - timedelta(days=1)
    folder = tmp_path / "note_state" / f"snapshot_date={before.isoformat()}"
    folder.mkdir(parents=True)
    pq.write_table(_of_day(want, before).drop_columns(["snapshot_date"]), folder / "part-0.parquet")
    base = make_base_path(str(tmp_path))
    notes = PartitionedInput(base.fs, str(base / "notes"), "notes", [d.isoformat() for d in some])
    previous = PartitionedInput(base.fs, str(base / "note_state"), "note_state", [before.isoformat()])
    with duck.connect() as con:
        prev = NS.stored_state(con, previous)  # stored before the content-style columns: read without them
        parts = [(d, notes.relation(con, NS.OBS_COLUMNS, start=d.isoformat(), end=d.isoformat())) for d in some]
        got = NS.as_table(NS.note_states(con, prev, parts))
    assert got.schema.equals(NOTE_STATE.schema)
    for d in some:
        _assert_equal(_of_day(want, d), _of_day(got, d), f"relation {d}")
    frame = NS.as_frame(got)
    assert len(frame) == got.num_rows and set(frame["snapshot_date"]) == set(some)
