"""The comment state (kol_pipeline/lib/state.py): the daily step on hand-made sightings (values checked one by
one: re-sightings, a top-level flip, expiry after keep_days + 1 days and a new life), and the one-sort bootstrap
``comment_state_batch`` equal to folding the step, row order included, on random histories; and the storage as
deltas and bases: the view over stored partitions (read from ``base_sd`` on, as the assets read it) equals the
folded state on every day of random histories run as daily and ranged runs (the window equality of the metrics
is test_state.py)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from kol_pipeline.lib import state as S

D0 = date(2025, 1, 1)


def _comments(d: date, rows: list[tuple]) -> pd.DataFrame:
    """rows: (comment_id, note_id, parent_comment_id, content, is_substantive, hour)."""
    return pd.DataFrame(
        {
            "comment_id": [r[0] for r in rows],
            "note_id": [r[1] for r in rows],
            "parent_comment_id": pd.Series([r[2] for r in rows], dtype=object),
            "content": [r[3] for r in rows],
            "is_substantive": pd.array([r[4] for r in rows], dtype="boolean"),
            "crawled_at": [pd.Timestamp(d, tz="UTC") + pd.Timedelta(hours=r[5]) for r in rows],
        }
    )


def _fold(parts):
    st = None
    for d, p in parts:
        st = S.comment_state_step(st, p, d)
    return st


def _row(st: pd.DataFrame, cid: str) -> pd.Series:
    hit = st[st["comment_key"] == S.key64([cid])[0]]
    assert len(hit) == 1, (cid, len(hit))
    return hit.iloc[0]


def test_step_keeps_first_sighting_and_latest_top_level():
    d1, d2, d3 = D0, D0 + timedelta(days=1), D0 + timedelta(days=2)
    parts = [
        # a: top-level and substantive, re-crawled later the same day as a reply to x (the later snapshot wins)
        (
            d1,
            _comments(
                d1,
                [
                    ("a", "n1", "0", "好用 回购", True, 1),
                    ("a", "n1", "x", "好用 回购", True, 3),
                    ("b", "n2", "", "", False, 2),
                ],
            ),
        ),
        (d2, None),
        # a seen again top-level on note n9 and not substantive: last_sd and lt change, first-sighting fields do not
        (d3, _comments(d3, [("a", "n9", "0", "别的", False, 1)])),
    ]
    st = _fold(parts)
    assert len(st) == 2
    a, b = _row(st, "a"), _row(st, "b")
    assert (a["first_sd"], a["last_sd"]) == (S.day_number(d1), S.day_number(d3)) == (20089, 20091)
    assert a["note_key"] == S.key64(["n1"])[0]
    assert (a["top_first"], a["top_sub_first"]) == (0, 0)  # first sighting's latest snapshot is a reply
    assert a["lt_note_key"] == S.key64(["n9"])[0] and (a["lt_cnt"], a["lt_sub"]) == (1, 0)
    assert b["norm_key"] == 0 and (b["top_first"], b["top_sub_first"]) == (1, 0)
    assert b["lt_note_key"] == S.key64(["n2"])[0] and (b["lt_cnt"], b["lt_sub"]) == (1, 0)
    assert dict(st.dtypes.astype(str)) == S.COMMENT_STATE_DTYPES
    assert list(st["comment_key"]) == list(S.key64(["a", "b"]))  # order of first sighting
    pd.testing.assert_frame_equal(S.comment_state_batch(parts), st)


@pytest.mark.parametrize("gap, same_life", [(S.COMMENT_KEEP_DAYS + 1, True), (S.COMMENT_KEEP_DAYS + 2, False)])
def test_expiry_and_new_life(gap: int, same_life: bool):
    """A comment is kept keep_days + 1 days after its last sighting; seen again later it starts anew."""
    late = D0 + timedelta(days=gap)
    days = [D0 + timedelta(days=i) for i in range(gap + 1)]
    parts = [
        (
            d,
            _comments(d, [("c", "n1", "0", "好看", True, 1)])
            if d == D0
            else _comments(d, [("c", "n2", "c0", "另一个", False, 1)])
            if d == late
            else None,
        )
        for d in days
    ]
    st = _fold(parts)
    c = _row(st, "c")
    assert c["last_sd"] == S.day_number(late)
    if same_life:  # first-sighting fields and the top-level snapshot of day 0 stay
        assert c["first_sd"] == S.day_number(D0)
        assert c["note_key"] == S.key64(["n1"])[0] and c["lt_cnt"] == 1 and c["lt_sub"] == 1
    else:  # a new comment as far as the state knows: a reply on n2, never top-level in this life
        assert c["first_sd"] == S.day_number(late)
        assert c["note_key"] == S.key64(["n2"])[0] and c["lt_note_key"] == 0 and c["lt_cnt"] == -1
    pd.testing.assert_frame_equal(S.comment_state_batch(parts), st)
    # and the day before the late sighting, the comment is still there only within its keep window
    before = _fold(parts[:-1])
    assert len(before) == (1 if same_life else 0)


def _random_history(seed: int) -> list[tuple[date, pd.DataFrame | None]]:
    rng = np.random.default_rng(seed)
    pool = int(rng.choice([20, 200, 3000]))  # many re-sightings .. gaps past the keep window
    out = []
    for i in range(int(rng.integers(5, 420))):
        d = D0 + timedelta(days=i)
        if rng.random() < 0.4:
            out.append((d, None))
            continue
        m = int(rng.integers(1, 30))
        ids = rng.integers(0, pool, m)
        df = pd.DataFrame(
            {
                "comment_id": pd.Series([f"c{x}" for x in ids], dtype=object),
                "note_id": [f"n{x % 7 + int(rng.integers(0, 2))}" for x in ids],
                "parent_comment_id": rng.choice(np.array(["0", "", None, "c1", "c2", "None"], dtype=object), m),
                "content": rng.choice(np.array(["好看", "", "  ", "买了 好用", "好看!!", "哈哈哈"], dtype=object), m),
                "is_substantive": pd.array(rng.choice(np.array([True, False, None], dtype=object), m), dtype="boolean"),
                "crawled_at": pd.Timestamp(d, tz="UTC") + pd.to_timedelta(rng.integers(0, 5, m), unit="h"),
            }
        )
        if rng.random() < 0.1:
            df.loc[0, "comment_id"] = None  # dropped by the state, as by the window code
        out.append((d, df))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_batch_equals_fold(seed: int):
    parts = _random_history(seed)
    folded = _fold(parts)
    batch = S.comment_state_batch(parts)
    assert len(folded) > 0 or all(p is None for _, p in parts)
    pd.testing.assert_frame_equal(batch, folded)


def test_batch_of_no_comments_is_empty():
    parts = [(D0 + timedelta(days=i), None) for i in range(3)]
    out = S.comment_state_batch(parts)
    assert len(out) == 0 and list(out.columns) == list(S.empty_comment_state().columns)


def test_step_continues_from_a_state_stored_in_the_former_format():
    """A warehouse written before the compact format (timestamps for days, floats with NaN for flags) continues:
    the next day's state, the note share and the scorecard's comment stats are the same as from the new format."""
    parts = _random_history(3)
    st = _fold(parts[:-1])
    old = st.copy()
    for c in ("first_sd", "last_sd"):
        old[c] = pd.to_datetime(st[c].astype("int64"), unit="D").astype("datetime64[ms]")
    for c in ("top_first", "top_sub_first", "lt_sub"):
        old[c] = st[c].astype("float64")
    old["lt_cnt"] = st["lt_cnt"].astype("float64").replace(-1.0, np.nan)
    old.loc[old["lt_cnt"].isna(), "lt_sub"] = np.nan
    d, part = parts[-1]
    pd.testing.assert_frame_equal(S.comment_state_step(old, part, d), S.comment_state_step(st, part, d))
    notes = pd.Series([f"n{i}" for i in range(9)])
    np.testing.assert_array_equal(S._note_comment_share(old, notes), S._note_comment_share(st, notes))
    assert np.nansum(S._note_comment_share(st, notes)) > 0
    owner = pd.Series([f"u{i % 3}" for i in range(9)], index=notes)
    pairs = pd.DataFrame({"user_id": ["u0", "u1", "u2"]})
    when = pd.Timestamp(d)
    a = S._creator_comment_stats_state(old, owner, when, 90, pairs)
    b = S._creator_comment_stats_state(st, owner, when, 90, pairs)
    pd.testing.assert_frame_equal(a, b)
    assert b["n_all"].sum() > 0


@pytest.mark.parametrize("seed", range(3))
def test_scorecard_comment_stats_against_a_groupby(seed: int):
    """_creator_comment_stats_state on a random state: comments last seen in the window on the creators' notes,
    n_dup = comments whose non-empty normalized text another comment of the same creator shares (a plain pandas
    groupby as the definition)."""
    rng = np.random.default_rng(seed)
    n, day = 5000, date(2025, 6, 30)
    notes = np.array([f"n{i}" for i in range(60)], dtype=object)
    st = S.empty_comment_state().reindex(range(n))
    st["comment_key"] = rng.integers(1, 2**62, n)
    st["note_key"] = S.key64(rng.choice(notes, n))
    st["last_sd"] = (S.day_number(day) - rng.integers(0, 120, n)).astype("int32")
    st["first_sd"] = st["last_sd"]
    st["norm_key"] = rng.choice(np.array([0, 0, 11, 12, 13] + list(range(100, 400)), dtype="int64"), n)
    st["top_first"] = rng.integers(0, 2, n).astype("int8")
    st["top_sub_first"] = (st["top_first"] * rng.integers(0, 2, n)).astype("int8")
    st["lt_note_key"], st["lt_cnt"], st["lt_sub"] = 0, -1, 0
    st = st.astype(S.COMMENT_STATE_DTYPES)
    owner = pd.Series([f"u{i % 7}" for i in range(50)], index=notes[:50])  # 10 notes have no owner here
    pairs = pd.DataFrame({"user_id": [f"u{i}" for i in range(8)]})  # u7 has no notes
    got = S._creator_comment_stats_state(st, owner, pd.Timestamp(day), 90, pairs)

    df = pd.DataFrame(
        {
            "note": st["note_key"],
            "norm": st["norm_key"],
            "last": st["last_sd"],
            "top": st["top_first"],
            "sub": st["top_sub_first"],
        }
    )
    df = df[df["last"] >= S.day_number(day) - 89]
    df["user"] = df["note"].map(dict(zip(S.key64(owner.index), owner.to_numpy())))
    df = df[df["user"].notna()]
    size = df[df["norm"] != 0].groupby(["user", "norm"])["norm"].transform("size")
    df["dup"] = (size >= 2).reindex(df.index, fill_value=False)
    want = (
        df.groupby("user")
        .agg(n_all=("note", "size"), n_dup=("dup", "sum"), n_top=("top", "sum"), n_top_sub=("sub", "sum"))
        .reindex(pairs["user_id"])
        .fillna(0.0)
    )
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(dtype="float64"))
    assert got["n_dup"].sum() > 0 and got.loc[7].sum() == 0


# ------------------------------------------------------------------------ stored deltas and bases: the view
def _stored(rows: pd.DataFrame, d: date) -> pd.DataFrame:
    """A partition as the IO manager writes and reads it back (snapshot_date as date objects)."""
    from kol_pipeline.resources.io_manager import _to_arrow, _to_pandas

    return _to_pandas(_to_arrow(S._with_day(rows, d), "comment_state"), "comment_state")


def _window(stored: dict[date, pd.DataFrame], lo: date, hi: date) -> pd.DataFrame | None:
    parts = [stored[d] for d in sorted(stored) if lo <= d <= hi]
    return pd.concat(parts, ignore_index=True) if parts else None


def _view_window(stored: dict[date, pd.DataFrame], day: date, whole: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The partitions the assets read for the state of ``day``: from where the newest partition at or before it
    says the view starts (``view_start``: its latest base) to ``day`` (taken from ``whole``, the window's
    partitions, when given)."""
    lo = day - timedelta(days=S.COMMENT_KEEP_DAYS)
    head = [d for d in sorted(stored) if lo <= d <= day]
    if not head:
        return None
    start = S.view_start(stored[head[-1]], head[-1], day)
    if whole is None:
        return _window(stored, start, day)
    return whole[S._partition_days(whole["snapshot_date"]) >= S.day_number(start)].reset_index(drop=True)


def _view_columns_only(window: pd.DataFrame):
    """What a daily run of the asset reads of the stored partitions (the view's columns) and its fetch of the
    other columns of given rows (here from the whole window; defs/metrics/assets.py _row_fetch reads them)."""
    cols = list(S.COMMENT_STATE_DTYPES)
    slim = window[["snapshot_date", *S.COMMENT_VIEW_COLUMNS]]
    return slim, lambda rows: pd.DataFrame({c: window[c].to_numpy()[rows] for c in cols})


def _runs(parts, run_lengths, stored=None, fetch=False):
    """Store comment_state partitions as runs of the asset would (each run continues from the view over the
    stored partitions of the 122 days before its first day); yield (day, view of the day, stored partitions).
    ``fetch``: runs read only the view's columns and fetch the others of the rows they need."""
    stored = {} if stored is None else stored
    days = [d for d, _ in parts]
    by_day = dict(parts)
    i = 0
    for n in run_lengths:
        run = days[i : i + n]
        if not run:
            break
        before = run[0] - timedelta(days=1)
        window = _view_window(stored, before)
        m = start = get = None
        if window is None:
            prev, dead, base_first = None, 0, True
        else:  # as the asset: the stored partitions and the mask of the state's rows (no copy)
            prev, base_first = window, False
            if fetch:
                prev, get = _view_columns_only(window)
            m, dead, start = S.comment_view_mask(prev, before)
        for d, rows in S.comment_state_partitions(
            prev, run, by_day.get, dead, base_first, prev_rows=m, base_day=start, fetch=get
        ):
            assert (rows["last_sd"] == S.day_number(d)).all() or rows["base"].all()
            if len(rows):  # the IO manager writes no empty partition
                stored[d] = _stored(rows, d)
            else:
                stored.pop(d, None)
        for d in run:
            window = _window(stored, d - timedelta(days=S.COMMENT_KEEP_DAYS), d)
            whole = S.comment_view(window, d)
            view = S.comment_view(_view_window(stored, d, window), d)
            # reading only from the latest base on (base_sd) gives the view of the whole window
            pd.testing.assert_frame_equal(_canon(view), _canon(whole), obj=f"from base_sd, {d}")
            yield d, view, stored, window
        i += n


def _canon(st: pd.DataFrame | None) -> pd.DataFrame:
    cols = list(S.COMMENT_STATE_DTYPES)
    if st is None:
        return S.empty_comment_state()
    return st[cols].sort_values("comment_key").reset_index(drop=True).astype(S.COMMENT_STATE_DTYPES)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_view_over_stored_deltas_equals_the_fold_every_day(seed: int):
    """Daily runs and ranged runs of random lengths store deltas (and bases where the deltas carry too many
    superseded rows); the view over the stored partitions is the folded state on every day."""
    parts = _random_history(seed)[:200]  # past the 122-day window: expiry and bases leaving it are covered
    rng = np.random.default_rng(100 + seed)
    lengths = [int(x) for x in rng.choice([1, 1, 1, 3, 10], 500)]
    fold = None
    checked = masked = skipped = 0
    notes = pd.Series([f"n{i}" for i in range(9)])
    owner = pd.Series([f"u{i % 3}" for i in range(9)], index=notes)
    pairs = pd.DataFrame({"user_id": ["u0", "u1", "u2"]})
    # odd seeds: daily runs read only the view's columns and fetch the rest of the rows they need
    for (d, view, stored, window), (d2, p) in zip(_runs(parts, lengths, fetch=seed % 2 == 1), parts):
        assert d == d2
        fold = S.comment_state_step(fold, p, d)
        pd.testing.assert_frame_equal(_canon(view), _canon(fold), obj=f"view of {d}")
        checked += len(fold) > 0
        # what note_metrics and creator_scorecard read: the stored partitions and the mask of the state's rows
        if window is not None and len(fold):
            rows = S.comment_view_mask(window, d)[0]
            masked += int((~rows).sum())
            np.testing.assert_array_equal(
                S._note_comment_share(window, notes, rows), S._note_comment_share(fold, notes)
            )
            pd.testing.assert_frame_equal(
                S._creator_comment_stats_state(window, owner, pd.Timestamp(d), 90, pairs, rows),
                S._creator_comment_stats_state(fold, owner, pd.Timestamp(d), 90, pairs),
            )
            # creator_scorecard reads only the partitions from comment_partitions_since on: the same stats, for
            # its 90-day window and for shorter and longer ones
            for w in (90, 7, 200):
                since = S.comment_partitions_since(d, w)
                part = window[S._partition_days(window["snapshot_date"]) >= S.day_number(since)]
                part = part.reset_index(drop=True)
                # and only the rows last seen from `since` on (the asset's row filter, last_seen_since)
                seen = part[S._state_days(part["last_sd"]) >= S.day_number(since)].reset_index(drop=True)
                skipped += len(window) - len(seen)
                want = S._creator_comment_stats_state(fold, owner, pd.Timestamp(d), w, pairs)
                for got in (part, seen):
                    pd.testing.assert_frame_equal(
                        S._creator_comment_stats_state(
                            got, owner, pd.Timestamp(d), w, pairs, S.comment_view_mask(got, d)[0]
                        ),
                        want,
                        obj=f"since {since}, {d}",
                    )
    assert checked > 0 or all(p is None for _, p in parts)
    if seed in (0, 3):  # histories with re-sightings: rows outside the state were stored and left out
        assert masked > 0
    if any(p is not None for _, p in parts[100:]):  # long enough for partitions before the 90-day window
        assert skipped > 0


def test_heavy_re_sighting_writes_bases_and_keeps_reads_bounded():
    """The same 50 comments seen every day: each delta supersedes the previous rows, so a base is written once
    the superseded rows outnumber the state's, and no view reads more than about twice the state."""
    parts = []
    for i in range(40):
        d = D0 + timedelta(days=i)
        parts.append((d, _comments(d, [(f"c{k}", f"n{k % 3}", "0", "好看", k % 2 == 0, 1) for k in range(50)])))
    bases, fold = [], None
    for (d, view, stored, window), (_, p) in zip(_runs(parts, [1] * 40, fetch=True), parts):
        fold = S.comment_state_step(fold, p, d)
        pd.testing.assert_frame_equal(_canon(view), _canon(fold))
        _, dead, start = S.comment_view_mask(window, d)
        assert dead <= len(fold) + 50, d
        bases.append(bool(stored[d]["base"].all()))
    assert bases[0] and sum(bases) >= 10, bases  # every other day or so: 50 superseded rows a day, 50 live
    assert not all(bases)


def test_no_re_sighting_writes_one_base_and_then_deltas():
    """New comments every day (the benchmark's world): the first day is a base, every later day a delta of that
    day's comments only."""
    parts = [
        (
            D0 + timedelta(days=i),
            _comments(D0 + timedelta(days=i), [(f"c{i}_{k}", "n1", "0", "x", True, 1) for k in range(5)]),
        )
        for i in range(10)
    ]
    *_, (d, view, stored, _) = _runs(parts, [1] * 10)
    assert [bool(stored[x]["base"].all()) for x in sorted(stored)] == [True] + [False] * 9
    assert all(len(stored[x]) == 5 for x in stored) and len(view) == 50


def test_partitions_before_the_latest_base_are_not_read():
    """A base holds the whole state of its day: rows of earlier partitions (an older chain, e.g. before the day's
    state was rebuilt) are not part of any later view, even with a last_sd inside the window."""
    parts = [
        (D0 + timedelta(days=i), _comments(D0 + timedelta(days=i), [(f"c{i}", "n1", "0", "x", True, 1)]))
        for i in range(4)
    ]
    stored: dict = {}
    list(_runs(parts[:2], [1, 1], stored))
    stale = stored[D0].copy()
    stale["comment_key"] = S.key64(["stale"])[0]
    stored[D0] = pd.concat([stored[D0], stale], ignore_index=True)
    view_before = S.comment_view(_window(stored, D0, D0 + timedelta(days=1)), D0 + timedelta(days=1))
    assert S.key64(["stale"])[0] in set(view_before["comment_key"])  # no base after it yet: read
    # day 3 stored as a base (as when its previous state is rebuilt), then day 4 as a delta
    base = S.comment_state_step(
        S.comment_state_step(S.comment_state_step(None, parts[0][1], D0), parts[1][1], parts[1][0]),
        parts[2][1],
        parts[2][0],
    ).assign(base=np.int8(1), base_sd=np.int32(S.day_number(parts[2][0])))
    stored[parts[2][0]] = _stored(base, parts[2][0])
    window = _window(stored, D0, parts[2][0])
    m, dead, start = S.comment_view_mask(window, parts[2][0])
    assert start == parts[2][0] and dead == 0  # the partitions before the base are not read at all
    assert not m[:3].any() and m[3:].all()
    assert set(S.comment_view(window, parts[2][0], mask=m)["comment_key"]) == set(S.key64(["c0", "c1", "c2"]))
    # the next day continues from the base
    *_, (d, view, _, _) = _runs(parts[3:], [1], stored)
    assert d == parts[3][0] and set(view["comment_key"]) == set(S.key64(["c0", "c1", "c2", "c3"]))


def test_a_partition_of_the_former_full_state_format_is_a_base():
    """comment_state partitions written before deltas (no base column) each hold the whole state of their day:
    the view of the next day starts from the latest of them."""
    parts = [
        (D0 + timedelta(days=i), _comments(D0 + timedelta(days=i), [(f"c{i}", "n1", "0", "x", True, 1)]))
        for i in range(3)
    ]
    st0 = S.comment_state_step(None, parts[0][1], D0)
    st1 = S.comment_state_step(st0, parts[1][1], parts[1][0])
    old = {
        D0: _stored(st0.assign(base=np.int8(0), base_sd=np.int32(0)), D0).drop(columns=["base", "base_sd"]),
        parts[1][0]: _stored(st1.assign(base=np.int8(0), base_sd=np.int32(0)), parts[1][0]).drop(
            columns=["base", "base_sd"]
        ),
    }
    window = _window(old, D0, parts[1][0])
    m, dead, start = S.comment_view_mask(window, parts[1][0])
    assert start == parts[1][0] and dead == 0 and not m[:1].any() and m[1:].all()  # day 1 is not read
    pd.testing.assert_frame_equal(_canon(S.comment_view(window, parts[1][0], mask=m)), _canon(st1))


def test_view_start_from_the_newest_partition():
    """Where the assets start reading: the newest partition's base_sd (its own day in a base) within the window; a
    partition of the former full-state format starts the view itself; without base_sd, the whole window."""
    day = D0 + timedelta(days=200)
    lo = day - timedelta(days=S.COMMENT_KEEP_DAYS)
    newest = day - timedelta(days=1)
    delta = pd.DataFrame(
        {
            "base": np.array([0, 0], dtype="int8"),
            "base_sd": np.array([S.day_number(day - timedelta(days=30))] * 2, dtype="int32"),
        }
    )
    assert S.view_start(delta, newest, day) == day - timedelta(days=30)
    old_base = delta.assign(base_sd=np.int32(S.day_number(day - timedelta(days=300))))
    assert S.view_start(old_base, newest, day) == lo  # the base left the window
    assert S.view_start(delta.drop(columns=["base", "base_sd"]), newest, day) == newest  # former format
    assert S.view_start(delta.drop(columns=["base_sd"]), newest, day) == lo


def test_a_re_based_state_reads_no_former_base():
    """Comments re-crawled every day re-base the state every other day or so; the partitions the view reads start
    at the latest base, so they hold at most about twice the state (not every former base of the window)."""
    parts = []
    for i in range(60):
        d = D0 + timedelta(days=i)
        parts.append((d, _comments(d, [(f"c{k}", "n1", "0", "好看", True, 1) for k in range(50)])))
    for d, view, stored, _ in _runs(parts, [1] * 60):
        assert len(_view_window(stored, d)) <= 2 * len(view) + 50, d
    assert sum(bool(stored[x]["base"].all()) for x in stored) >= 20


def test_base_flags_of_every_dtype_the_reads_give():
    """numpy int8 (a read of new partitions), nullable or float with nulls (former-format partitions among them:
    a null is a base), no column at all (former format only)."""
    want = [1, 1, 0]
    for col in (np.array([1, 1, 0], dtype=np.int8), pd.array([1, None, 0], dtype="Int8"), [1.0, np.nan, 0.0]):
        got = S._base_flags(pd.DataFrame({"base": col}))
        assert got.dtype == np.int8 and got.tolist() == want
    assert S._base_flags(pd.DataFrame({"x": [0, 0]})).tolist() == [1, 1]


def test_steps_continue_from_read_only_stored_columns():
    """A stored partition of one chunk reads as Arrow's own read-only memory (one block per column, io_manager
    _to_pandas): the step, the delta and the view build new arrays and give the fold's state."""
    parts = [(d, p) for d, p in _random_history(3) if p is not None][:40]
    fold = None
    for d, p in parts[:-1]:
        fold = S.comment_state_step(fold, p, d)
    before, (day, last) = parts[-2][0], parts[-1]
    base = S._with_day(fold.assign(base=np.int8(1), base_sd=np.int32(S.day_number(before))), before)
    from kol_pipeline.resources.io_manager import _to_arrow, _to_pandas

    stored = _to_pandas(_to_arrow(base, "comment_state"), "comment_state")
    assert not stored["comment_key"].to_numpy().flags.writeable  # what the assets read
    mask, dead, start = S.comment_view_mask(stored, before)
    ((d, rows),) = S.comment_state_partitions(
        stored, [day], {day: last}.get, dead, False, prev_rows=mask, base_day=start
    )
    want = S.comment_state_step(fold, last, day)
    seen = want[want["last_sd"] == S.day_number(day)]
    pd.testing.assert_frame_equal(_canon(rows), _canon(seen))
    whole = S.comment_state_step(S.comment_view(stored, before, mask=mask), last, day)
    pd.testing.assert_frame_equal(_canon(whole), _canon(want))
