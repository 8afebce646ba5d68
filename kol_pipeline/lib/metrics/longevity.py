"""Note engagement curve E(h) and half-life (CONTRACT.md "Note engagement curve and longevity").

For one note: its observations (age_i, E_i), age in days since published_at at crawled_at, E the engagements
made non-decreasing by a running maximum in age order, plus the publish instant as (0, 0).
E(h) is interpolated linearly between the nearest observation at or below h and the nearest at or above h, and is
null when either is more than ``max_gap_days`` from h (an observation exactly at h gives its E).

Everything is vectorized over many notes at once: the curve is one frame sorted by (note, age) and E(h) is found
with one ``searchsorted`` per horizon on a combined (note, age) key. No dagster import.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_EPS = 1e-9


def horizon_column(h: float) -> str:
    """Column name of E(h): eng_2d, eng_7d, eng_30d, eng_90d, eng_2.5d ..."""
    return f"eng_{h:g}d"


def engagement_curve(
    obs: pd.DataFrame,
    note_col: str = "note_id",
    age_col: str = "age_days",
    value_col: str = "engagements",
    carry: Sequence[str] = (),
) -> pd.DataFrame:
    """The running-maximum curve of every note, with the publish instant (0, 0) as first point.

    Returns a frame sorted by (note, age) with columns ``note_col, age_days, E, is_anchor`` and the ``carry``
    columns (null on anchor rows). Observations with a null age or value, or a negative age (published after the
    crawl: inconsistent timestamps), are left out of the curve; a note whose observations are all left out keeps
    only its anchor.
    """
    o = obs[[note_col, age_col, value_col, *carry]].copy()
    o = o.rename(columns={age_col: "age_days", value_col: "E"})
    o["age_days"] = pd.to_numeric(o["age_days"], errors="coerce").astype("float64")
    o["E"] = pd.to_numeric(o["E"], errors="coerce").astype("float64")
    notes = pd.unique(o[note_col].dropna())
    o = o[o[note_col].notna() & o["age_days"].notna() & o["E"].notna() & (o["age_days"] >= 0)]
    o["is_anchor"] = False
    anchors = pd.DataFrame({note_col: notes, "age_days": 0.0, "E": 0.0, "is_anchor": True})
    for c in carry:
        anchors[c] = o[c].iloc[:0].reindex(range(len(anchors)))  # all-null, same dtype family
    cur = pd.concat([anchors, o], ignore_index=True)
    # Anchor first among equal ages (an observation at age 0 then follows it).
    cur["_ord"] = (~cur["is_anchor"]).astype("int8")
    cur = cur.sort_values([note_col, "age_days", "_ord"], kind="mergesort").drop(columns="_ord")
    cur["E"] = cur.groupby(note_col, sort=False)["E"].cummax()
    return cur.reset_index(drop=True)


def _keys(curve: pd.DataFrame, note_col: str, extra: float) -> tuple[np.ndarray, pd.Index, np.ndarray, float]:
    codes, uniques = pd.factorize(curve[note_col], sort=False)
    # curve is sorted by note, so codes are non-decreasing only if factorize follows that order: it does
    # (factorize numbers values in order of first appearance).
    ages = curve["age_days"].to_numpy(dtype="float64")
    span = float(np.nanmax(ages)) if len(ages) else 0.0
    k = span + extra + 10.0
    return codes.astype("float64") * k + ages, pd.Index(uniques, name=note_col), codes, k


def interpolate_at(
    curve: pd.DataFrame,
    horizons: Sequence[float],
    max_gap_days: float = 2.0,
    note_col: str = "note_id",
    carry: str | None = None,
) -> pd.DataFrame:
    """E(h) of every note of ``curve`` (from ``engagement_curve``) at each horizon h (days).

    Returns one row per note (index ``note_col``), a float64 column ``eng_{h}d`` per horizon (NaN = null) and,
    when ``carry`` is given, ``eng_{h}d_{carry}``: the carry value of the nearest observation at or above h (the
    observation that makes E(h) known), null where E(h) is null.
    """
    h_max = float(max(horizons)) if len(horizons) else 0.0
    keys, index, codes, k = _keys(curve, note_col, h_max + max_gap_days)
    ages = curve["age_days"].to_numpy(dtype="float64")
    values = curve["E"].to_numpy(dtype="float64")
    n = len(index)
    note_codes = np.arange(n, dtype="float64")
    out = pd.DataFrame(index=index)
    carried = curve[carry].to_numpy() if carry is not None else None
    for h in horizons:
        q = note_codes * k + float(h)
        hi = np.searchsorted(keys, q, side="left")
        lo = np.searchsorted(keys, q, side="right") - 1  # always the note's own row: its anchor is at age 0 <= h
        hi_c = np.minimum(hi, len(keys) - 1)
        has_hi = (hi < len(keys)) & (codes[hi_c] == np.arange(n)) if len(keys) else np.zeros(n, dtype=bool)
        a0, e0 = ages[lo], values[lo]
        a1, e1 = ages[hi_c], values[hi_c]
        ok = has_hi & (h - a0 <= max_gap_days + _EPS) & (a1 - h <= max_gap_days + _EPS)
        span = a1 - a0
        with np.errstate(invalid="ignore", divide="ignore"):
            e = np.where(span > 0, e0 + (h - a0) / np.where(span > 0, span, 1.0) * (e1 - e0), e1)
        col = horizon_column(h)
        out[col] = np.where(ok, e, np.nan)
        if carried is not None:
            c = pd.Series(carried[hi_c], index=index)
            out[f"{col}_{carry}"] = c.where(ok)
    return out


def half_life_days(
    curve: pd.DataFrame,
    eng_h: pd.Series,
    horizon_days: float = 30.0,
    max_gap_days: float = 2.0,
    share: float = 0.5,
    note_col: str = "note_id",
) -> pd.Series:
    """Smallest age t in [0, horizon_days] with E(t) >= share * eng_h, solved on the linear pieces of the curve.

    ``eng_h`` is E(horizon_days) per note (index = note id), e.g. eng_30d. The crossing piece runs from the last
    observation below the target (a0, e0) to the first at or above it (a1, e1): t = a0 + (target-e0)/(e1-e0)*(a1-a0).
    Null when eng_h is null or 0, and when E(t) itself would be null by the gap rule (t is more than
    ``max_gap_days`` from a0 or from a1, unless t falls exactly on the observation a1): the half-life is then not
    known from the crawl. Pieces below the crossing one are not checked (E is non-decreasing, so they are below the
    target whatever their spacing).
    """
    notes = pd.Index(pd.unique(curve[note_col]), name=note_col)
    target = (share * pd.to_numeric(eng_h, errors="coerce").astype("float64")).reindex(notes)
    target = target.where(target > 0)
    t_row = curve[note_col].map(target).to_numpy(dtype="float64")
    values = curve["E"].to_numpy(dtype="float64")
    ages = curve["age_days"].to_numpy(dtype="float64")
    reached = values >= t_row  # False where the target is NaN
    first = reached & (pd.Series(reached).groupby(curve[note_col].to_numpy(), sort=False).cumsum().to_numpy() == 1)
    k = np.flatnonzero(first)
    out = pd.Series(np.nan, index=notes, dtype="float64", name="half_life_days")
    if len(k) == 0:
        return out
    j = k - 1  # the previous row is the same note's (its anchor has E = 0 < target)
    a0, e0, a1, e1 = ages[j], values[j], ages[k], values[k]
    tgt = t_row[k]
    t = a0 + (tgt - e0) / (e1 - e0) * (a1 - a0)
    exact = tgt == e1
    t = np.where(exact, a1, t)
    ok = exact | ((t - a0 <= max_gap_days + _EPS) & (a1 - t <= max_gap_days + _EPS))
    ok &= t <= horizon_days + _EPS
    res = pd.Series(np.where(ok, t, np.nan), index=curve[note_col].to_numpy()[k])
    out.loc[res.index] = res.to_numpy()
    return out
