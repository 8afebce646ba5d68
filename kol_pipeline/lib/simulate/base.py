"""What every phase of the simulator shares: the `Setting` of one run (output folder, seed, days and their
Shanghai midnights), the eight random `Streams` spawned from the seed, and the small helpers more than one phase
uses (random hex ids, the Shanghai date of an epoch-ms time, the plain CSV writer of brand, reference and truth
files).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.vocabulary import DAY_MS, SH_OFFSET_MS


@dataclass(frozen=True)
class Setting:
    """The frame of one simulation: where it writes, its seed, its `days` days from `start_date` to `end_date`."""

    out: Path
    seed: int
    days: int
    start_date: date
    end_date: date
    day_ms0: np.ndarray  # Shanghai midnight of each day, UTC ms

    @classmethod
    def of(cls, out: Path, seed: int, days: int, end_date: date) -> Setting:
        start_date = end_date - timedelta(days=days - 1)
        day0 = (start_date - date(1970, 1, 1)).days
        day_ms0 = (np.arange(days, dtype="int64") + day0) * DAY_MS - SH_OFFSET_MS
        return cls(out=out, seed=seed, days=days, start_date=start_date, end_date=end_date, day_ms0=day_ms0)

    def ds(self, d: int) -> str:
        """The ISO date of day index `d`."""
        return (self.start_date + timedelta(days=int(d))).isoformat()


@dataclass(frozen=True)
class Streams:
    """The independent random streams of one seed (one `SeedSequence(seed)` spawns them, in this order). Each
    phase draws from its own streams in a fixed order: the same seed gives the same world."""

    cre: np.random.Generator  # creators (and their interaction base)
    fol: np.random.Generator  # followers per day (and follows per day)
    note: np.random.Generator  # notes: schedule, topics, curves, engagement, ids
    obs: np.random.Generator  # crawl schedule and note observations
    com: np.random.Generator  # comments
    brand: np.random.Generator  # campaign creators, search rankings, fees and search index
    dirt: np.random.Generator  # duplicate rows, note ip locations, malformed records
    text: np.random.Generator  # note titles, descriptions and tags

    @classmethod
    def of(cls, seed: int) -> Streams:
        return cls(*[np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)])


def random_hex(rng: np.random.Generator, n: int, width: int) -> list[str]:
    """`n` random lowercase hex strings of `width` digits."""
    vals = rng.integers(0, 16, size=(n, width))
    digits = np.array(list("0123456789abcdef"))
    return ["".join(r) for r in digits[vals]]


def shanghai_date(ms: np.ndarray) -> np.ndarray:
    """Epoch-ms times -> days since 1970-01-01 in Asia/Shanghai."""
    return ((np.asarray(ms, dtype="int64") + SH_OFFSET_MS) // DAY_MS).astype("int64")


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """Plain UTF-8 CSV (brand, reference and truth files), LF line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(df.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
