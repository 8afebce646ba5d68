"""The simulator's planted findings and dirt (issue #26 and the contract's malformed records): the flat-sponsored
creators (their paid posts engage less) and the search-surfacing creators (their notes rank first for their
category's keywords), each with a random stream of its own so that the rest of the world is the same with or
without them, truth/planted_finding.csv, and the malformed records inserted as corrupted copies into the
MediaCrawler files (stream `dirt`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.base import write_csv
from kol_pipeline.lib.simulate.vocabulary import BRANDS, CAMPAIGNS, DAY_MS

FLAT_SPONSORED_FACTOR = 0.4  # planted "flat sponsored" creators: their sponsored notes' er_7d x this
SURFACING_BOOST = 25.0  # planted search-surfacing creators: added to their notes' ranking score (log scale)


def plant_flat_sponsored(
    er7: np.ndarray, k: int, seed: int, nc: np.ndarray, sponsored: np.ndarray, pday: np.ndarray, D: int
) -> tuple[np.ndarray, np.ndarray]:
    """Issue #26: ``k`` creators whose audience engages less with their paid posts: among the creators with at least
    2 sponsored and 2 organic notes published in the scorecard's last 90-day window and at least 10 days before the
    end (their er_7d is known then), ``k`` at random (a stream of their own), their sponsored notes' er_7d x
    FLAT_SPONSORED_FACTOR. Returns (er7, the planted creators' indices)."""
    if k <= 0:
        return er7, np.array([], dtype=int)
    n = int(nc.max()) + 1 if len(nc) else 0
    window = (pday >= D - 90) & (pday <= D - 11)
    n_sp = np.bincount(nc[window & sponsored], minlength=n)
    n_org = np.bincount(nc[window & ~sponsored], minlength=n)
    eligible = np.flatnonzero((n_sp >= 2) & (n_org >= 2))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 26, 1]))
    chosen = np.sort(rng.choice(eligible, size=min(k, len(eligible)), replace=False))
    return er7 * np.where(np.isin(nc, chosen) & sponsored, FLAT_SPONSORED_FACTOR, 1.0), chosen


def plant_search_surfacing(
    k: int, seed: int, cats: np.ndarray, nc: np.ndarray, topic: np.ndarray, pday: np.ndarray, D: int
) -> tuple[np.ndarray, np.ndarray]:
    """Issue #26: ``k`` creators whose notes rank for their category's keywords: among the creators of a category
    whose keywords search_rankings tracks (the campaign brands' categories), the ``k`` with the most notes published
    31 days or more before the end (at least 2: they can rank on every day of the last 30; ties at random, a stream
    of their own); every note of theirs is a result of each tracked keyword of their category (the
    category word and its brands' target keywords) and gets SURFACING_BOOST on its ranking score, so it ranks first.
    Returns (the boost per note, the planted creators' indices)."""
    boost = np.zeros(len(nc))
    if k <= 0:
        return boost, np.array([], dtype=int)
    tracked = {BRANDS[c.brand_idx].category for c in CAMPAIGNS}
    n = len(cats)
    n_old = np.bincount(nc[pday <= D - 32], minlength=n)  # notes that can rank on each of the last 30 days
    eligible = np.flatnonzero(np.isin(cats, sorted(tracked)) & (n_old >= 2))
    rng = np.random.default_rng(np.random.SeedSequence([seed, 26, 2]))
    order = np.lexsort((rng.random(len(eligible)), -n_old[eligible]))  # the most such notes first, ties at random
    chosen = np.sort(eligible[order[:k]])
    boost[np.isin(nc, chosen)] = SURFACING_BOOST
    return boost, chosen


def write_planted_finding(tdir: Path, user_ids: Sequence[str], surfacing: np.ndarray, flat: np.ndarray) -> None:
    """truth/planted_finding.csv (user_id, plant), only when something is planted (the bundled sample has none)."""
    rows = [(user_ids[i], "search_surfacing") for i in surfacing] + [(user_ids[i], "flat_sponsored") for i in flat]
    if rows:
        write_csv(tdir / "planted_finding.csv", pd.DataFrame(rows, columns=["user_id", "plant"]))


def plant_malformed(files: dict[Path, dict[str, Any]], rng: np.random.Generator, out: Path) -> list[tuple]:
    """Insert corrupted copies of existing records (the originals stay); returns the list for truth/malformed.csv
    with 1-based record numbers (CSV: data row after the header; JSON: array position; JSONL: line)."""
    by_kind: dict[str, list[Path]] = {}
    for p in sorted(files):
        by_kind.setdefault(files[p]["kind"], []).append(p)
    plan = [
        ("notes", "liked_count", "abc", "non-numeric count"),
        ("notes", "comment_count", "-5", "negative count"),
        ("notes", "note_id", "", "missing note_id (empty)"),
        ("notes", "note_id", None, "missing note_id (key absent)"),
        ("notes", "time", "after", "publish time after crawl time"),
        ("comments", "note_id", "", "missing note_id"),
        ("comments", "like_count", "abc", "non-numeric count"),
        ("creators", "fans", "-5", "negative count"),
        ("creators", "user_id", "", "missing user_id"),
    ]
    planted: list[tuple[Path, int, tuple]] = []
    used: set[Path] = set()
    for kind, field, value, problem in plan:
        cands = [p for p in by_kind.get(kind, []) if p not in used and files[p]["rows"]]
        if value is None:  # key absent: JSON formats only
            cands = [p for p in cands if files[p]["fmt"] != "csv"]
        if not cands:
            continue
        p = cands[int(rng.integers(len(cands)))]
        used.add(p)
        rows = files[p]["rows"]
        src = int(rng.integers(len(rows)))
        bad = dict(rows[src])
        if value is None:
            del bad[field]
            shown = "<absent>"
        elif value == "after":
            bad["time"] = int(bad["last_modify_ts"]) + 3 * DAY_MS
            shown = str(bad["time"])
        else:
            bad[field] = value
            shown = value
        rows.insert(src + 1, bad)
        planted.append((p, src + 1, (kind, field, shown, problem)))
    result = []
    for p, pos0, (kind, field, shown, problem) in planted:
        result.append((str(p.relative_to(out)), pos0 + 1, kind, field, shown, problem))
    return sorted(result)
