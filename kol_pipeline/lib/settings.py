"""Thresholds, word lists and weights: data, not code. Defaults live in data/reference/lexicon.json and here;
Dagster resources pass overrides (see kol_pipeline/resources/settings.py and docs/metrics.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"
DEFAULT_LEXICON = REFERENCE_DIR / "lexicon.json"

# Lower follower bounds of micro, mid, macro, top (nano below the first).
DEFAULT_TIER_BOUNDS: tuple[int, int, int, int] = (10_000, 100_000, 500_000, 1_000_000)
TIER_NAMES: tuple[str, ...] = ("nano", "micro", "mid", "macro", "top")

# Days of notes and creators partitions before a day that the day's metrics and marts see (window_mapping(NOTE_WINDOW)
# in the Dagster assets: D - NOTE_WINDOW .. D), note_window_days + 1: a note published 119 days ago needs its first
# observations. The marts' queries bound each day of a ranged run to the same days ($window_days).
NOTE_WINDOW = 121
# The word lists of comments.sentiment (lexicon key "sentiment"; docs/metrics.md "Comment sentiment").
SENTIMENT_LISTS: tuple[str, ...] = ("negative", "positive", "negators", "not_negations")


@dataclass(frozen=True)
class Lexicon:
    disclosure_markers: tuple[str, ...]
    comment_classes: dict[str, tuple[str, ...]]
    low_effort_min_chars: int = 4
    tag_friend_max_chars: int = 3
    # comments.sentiment: "negative", "positive" words, the "negators" that turn a positive word directly after
    # them negative, and "not_negations", compounds whose last character only looks like a negator (特别)
    sentiment: dict[str, tuple[str, ...]] = field(default_factory=lambda: {k: () for k in SENTIMENT_LISTS})


@lru_cache(maxsize=8)
def load_lexicon(path: str | Path | None = None) -> Lexicon:
    p = Path(path) if path else DEFAULT_LEXICON
    raw = json.loads(p.read_text(encoding="utf-8"))
    return Lexicon(
        disclosure_markers=tuple(raw["disclosure_markers"]),
        comment_classes={k: tuple(v) for k, v in raw["comment_classes"].items()},
        low_effort_min_chars=int(raw.get("low_effort_min_chars", 4)),
        tag_friend_max_chars=int(raw.get("tag_friend_max_chars", 3)),
        sentiment=_sentiment_lists(raw, p),
    )


def _sentiment_lists(raw: dict, path: Path) -> dict[str, tuple[str, ...]]:
    """The lexicon's "sentiment" lists; a lexicon file without the key (written before comments.sentiment) takes
    the default file's lists, so sentiment is never silently all neutral."""
    lists = raw.get("sentiment")
    if lists is None and path.resolve() != DEFAULT_LEXICON.resolve():
        lists = json.loads(DEFAULT_LEXICON.read_text(encoding="utf-8")).get("sentiment")
    return {k: tuple(w for w in (lists or {}).get(k, ()) if w) for k in SENTIMENT_LISTS}


@dataclass(frozen=True)
class MetricSettings:
    """Every tunable number of the metrics. docs/metrics.md documents each."""

    tier_bounds: tuple[int, int, int, int] = DEFAULT_TIER_BOUNDS
    # E(h) interpolation: a bracketing observation may be at most this many days from h.
    max_gap_days: float = 2.0
    note_window_days: int = 120
    creator_window_days: int = 90
    nearest_snapshot_days: int = 3
    viral_min_engagements: int = 1000
    viral_multiple: float = 10.0
    evergreen_share: float = 0.25
    # authenticity
    low_er_factor: float = 0.25
    spike_rel: float = 0.20
    spike_abs: int = 1000
    spike_quiet_days: float = 2.0
    dup_min_comments: int = 20
    dup_share: float = 0.30
    low_c2l_factor: float = 0.2
    # comment sentiment (NSR): null below this many positive + negative top-level comments
    note_sentiment_min_comments: int = 3
    creator_sentiment_min_comments: int = 5
    # authenticity_score = 1 - (sum of the weights of the raised flags) / (sum of all weights)
    authenticity_weights: dict[str, float] = field(
        default_factory=lambda: {
            "low_er_for_tier": 0.25,
            "follower_spike": 0.25,
            "duplicate_comments": 0.25,
            "low_comment_to_like": 0.25,
        }
    )
    # the composite score is null when the components present carry less than this share of the total weight
    score_min_weight_share: float = 0.3
    # tier_benchmarks longevity curve: each note's latest observation on or before the day, if made in this window
    curve_window_days: int = 90
    # composite score weights (each component is a percentile rank within tier, 0..1)
    score_weights: dict[str, float] = field(
        default_factory=lambda: {
            "median_er_7d": 0.35,
            "median_save_to_like": 0.20,
            "substantive_comment_share": 0.15,
            "evergreen_share": 0.10,
            "median_half_life_days": 0.10,
            "authenticity_score": 0.10,
        }
    )


def tier_of(followers: pd.Series, bounds: tuple[int, int, int, int] = DEFAULT_TIER_BOUNDS) -> pd.Series:
    """Vectorized tier for a follower count (null followers give a null tier)."""
    f = pd.to_numeric(followers, errors="coerce")
    idx = np.searchsorted(
        np.asarray(bounds, dtype="float64"), f.to_numpy(dtype="float64", na_value=np.nan), side="right"
    )
    out = pd.Series(np.asarray(TIER_NAMES, dtype=object)[np.minimum(idx, 4)], index=followers.index, dtype=object)
    out[f.isna()] = None
    return out
