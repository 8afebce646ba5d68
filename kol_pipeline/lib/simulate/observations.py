"""What the crawls observe (after the notes): the crawl `Schedule` (two people crawling in turn, each day's start
time, late crawls, missed days, the order creators are visited in), each note's engagement counts on its
re-crawl days (`note_observations`, stream `obs`), each creator's profile on every crawled day
(`creator_observations`, streams `cre` and `fol`), and the duplicate rows of the creator crawls, exact copies and
re-crawls a few minutes later (`add_duplicates`, stream `dirt`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.base import Setting, Streams
from kol_pipeline.lib.simulate.creators import Creators, Followers
from kol_pipeline.lib.simulate.curves import curve_fraction
from kol_pipeline.lib.simulate.notes import Notes
from kol_pipeline.lib.simulate.vocabulary import (
    CREATOR_GAP_MS,
    DAILY_FROM_AGE,
    DAILY_UNTIL_AGE,
    DAY_MS,
    EVERY2_UNTIL_AGE,
    MAX_CRAWL_AGE_DAYS,
)


@dataclass(frozen=True)
class Schedule:
    """When the two crawler folders crawl: `crawl_start` (2 x days, epoch ms), `active` (2 x days), the hand-over
    day, crawler_b's late and missed days, each creator's position in a crawl and each note's within its creator."""

    crawl_start: np.ndarray
    active: np.ndarray
    handover: int
    late_days: np.ndarray
    missed: list[int]
    pos_in_folder: np.ndarray
    k_in_creator: np.ndarray


def crawl_schedule(r_obs: np.random.Generator, s: Setting, n: int, notes: Notes) -> Schedule:
    """The crawl schedule of `n` creators and their notes over the setting's days."""
    D, day_ms0, m, nc = s.days, s.day_ms0, notes.m, notes.nc
    start_a = day_ms0 + int(10 * 3600e3) + r_obs.normal(0, 40 * 60e3, D).astype("int64")
    start_b = day_ms0 + int(21 * 3600e3) + r_obs.normal(0, 30 * 60e3, D).astype("int64")
    late_days = r_obs.choice(np.arange(1, D - 1), size=max(1, D // 18), replace=False)
    start_b[late_days] = day_ms0[late_days] + int(23.63 * 3600e3) + r_obs.integers(0, 8 * 60_000, len(late_days))
    crawl_start = np.stack([start_a, start_b])
    # two people crawl in turn: crawler_a up to the hand-over, crawler_b from it, both during 3 overlap days
    handover = D // 2
    active = np.zeros((2, D), dtype=bool)
    active[0, : handover + 3] = True
    active[1, handover:] = True
    # crawler_b missed two (non-adjacent) days: no files at all that day
    cand = np.setdiff1d(np.arange(handover + 4, D - 2), np.concatenate([late_days, late_days + 1, late_days - 1]))
    missed: list[int] = []
    for dd in r_obs.choice(cand, size=min(2, len(cand)), replace=False) if len(cand) else []:
        if not active[1, dd - 1] or not active[1, dd + 1]:
            continue
        active[1, dd] = False
        missed.append(int(dd))
    pos_in_folder = r_obs.permutation(n).astype("int64")  # crawl order of the creators
    # k-th note of the creator (crawl order within the creator)
    k_in_creator = pd.Series(np.arange(m)).groupby(nc).cumcount().to_numpy()
    return Schedule(
        crawl_start=crawl_start,
        active=active,
        handover=handover,
        late_days=late_days,
        missed=missed,
        pos_in_folder=pos_in_folder,
        k_in_creator=k_in_creator,
    )


def note_observations(
    r_obs: np.random.Generator, s: Setting, notes: Notes, sched: Schedule, daily_crawl: bool
) -> tuple[pd.DataFrame, int]:
    """(one row per note observation of the creator crawls, the number of planted like drops). A note is re-crawled
    by age (vocabulary.py's schedule constants; daily to 100 days with `daily_crawl`); its counts are its final
    engagements x curve_fraction at the observation's age, with a few small drops of likes (deleted likes)."""
    D, m, nc, pday, pub = s.days, notes.m, notes.nc, notes.pday, notes.pub
    h, w, comp_final = notes.h, notes.w, notes.comp_final
    crawl_start, active, pos_in_folder, k_in_creator = (
        sched.crawl_start,
        sched.active,
        sched.pos_in_folder,
        sched.k_in_creator,
    )
    first = pday
    last = np.minimum(pday + (100 if daily_crawl else MAX_CRAWL_AGE_DAYS), D - 1)
    cnt = last - first + 1
    on1 = np.repeat(np.arange(m), cnt)
    od1 = np.concatenate([np.arange(a, b + 1) for a, b in zip(first, last)]) if m else np.array([], dtype=int)
    on = np.concatenate([on1, on1])
    od = np.concatenate([od1, od1])
    of = np.repeat([0, 1], len(on1))
    ots = crawl_start[of, od] + pos_in_folder[nc[on]] * CREATOR_GAP_MS + (k_in_creator[on] + 1) * 1_200 + 900
    oage = od - pday[on]
    scheduled = (
        daily_crawl
        | (oage <= DAILY_UNTIL_AGE)
        | ((oage <= EVERY2_UNTIL_AGE) & (oage % 2 == 0))
        | ((oage - EVERY2_UNTIL_AGE) % 14 == 0)
        | (oage >= DAILY_FROM_AGE)
    )
    keep = (ots > pub[on]) & active[of, od] & scheduled
    on, od, of, ots = on[keep], od[keep], of[keep], ots[keep]
    age = (ots - pub[on]) / DAY_MS
    frac = curve_fraction(h[on], w[on], age)
    counts = np.round(comp_final[on] * frac[:, None]).astype("int64")
    # deleted likes: a few small drops
    drop = np.flatnonzero((age > 3) & (r_obs.random(len(on)) < 0.003))
    counts[drop, 0] = np.maximum(counts[drop, 0] - r_obs.integers(1, 4, len(drop)), 0)
    obs = pd.DataFrame(
        {
            "note": on,
            "day": od,
            "folder": of,
            "ts": ots,
            "likes": counts[:, 0],
            "saves": counts[:, 1],
            "comments": counts[:, 2],
            "shares": counts[:, 3],
            "source_keyword": "",
            "mode": "creator",
        }
    )
    n_drops = len(drop)
    return obs, n_drops


def creator_observations(
    streams: Streams, s: Setting, cr: Creators, fol: Followers, notes: Notes, sched: Schedule
) -> pd.DataFrame:
    """One row per creator profile crawled (folder, day): fans, follows and interaction (likes + saves received:
    a base plus what the creator's notes have gathered so far)."""
    r_cre, r_fol = streams.cre, streams.fol
    n, D, day_ms0, f_base, follows, F = cr.n, s.days, s.day_ms0, cr.f_base, cr.follows, fol.F
    m, nc, pub, h, w, comp_final = notes.m, notes.nc, notes.pub, notes.h, notes.w, notes.comp_final
    crawl_start, active, pos_in_folder = sched.crawl_start, sched.active, sched.pos_in_folder
    cf, cc, cd = np.meshgrid(np.arange(2), np.arange(n), np.arange(D), indexing="ij")
    cf, cc, cd = cf.ravel(), cc.ravel(), cd.ravel()
    cts = crawl_start[cf, cd] + pos_in_folder[cc] * CREATOR_GAP_MS
    ckeep = active[cf, cd]
    cc, cd, cf, cts = cc[ckeep], cd[ckeep], cf[ckeep], cts[ckeep]
    # interaction = likes + saves received: a base plus what the simulated notes have gathered so far
    inter_base = np.round(f_base * r_cre.uniform(2.0, 9.0, n)).astype("int64")
    ls_final = comp_final[:, 0] + comp_final[:, 1]
    ls_day = np.zeros((n, D))
    for j in range(m):  # m x D small
        ages = (day_ms0 + 12 * 3600_000 - pub[j]) / DAY_MS
        ls_day[nc[j]] += ls_final[j] * curve_fraction(h[j], w[j], ages) * (ages > 0)
    follows_day = follows[:, None] + np.cumsum(r_fol.random((n, D)) < 0.03, axis=1)
    cobs = pd.DataFrame(
        {
            "creator": cc,
            "day": cd,
            "folder": cf,
            "ts": cts,
            "fans": F[cc, cd],
            "follows": follows_day[cc, cd],
            "interaction": inter_base[cc] + np.round(ls_day[cc, cd]),
        }
    )
    return cobs


def add_duplicates(r_dirt: np.random.Generator, obs: pd.DataFrame, notes: Notes) -> tuple[pd.DataFrame, int, int]:
    """`obs` with a column `seq` (0: the crawl's row) and, from the creator crawls, 1 % exact copies (seq 1) and 1 %
    re-crawls 5-60 minutes later with the counts of that time (seq 2); returns (obs, n exact, n re-crawled)."""
    h, w, pub, comp_final = notes.h, notes.w, notes.pub, notes.comp_final
    base_rows = obs.index[obs["mode"] == "creator"].to_numpy()
    dup_exact = r_dirt.choice(base_rows, size=max(1, len(base_rows) // 100), replace=False)
    dup_recrawl = r_dirt.choice(np.setdiff1d(base_rows, dup_exact), size=max(1, len(base_rows) // 100), replace=False)
    ex = obs.loc[np.sort(dup_exact)].copy()
    ex["seq"] = 1
    rc = obs.loc[np.sort(dup_recrawl)].copy()
    rc["ts"] = rc["ts"] + r_dirt.integers(5, 60, len(rc)) * 60_000
    rnote = rc["note"].to_numpy()
    rfrac = curve_fraction(h[rnote], w[rnote], (rc["ts"].to_numpy() - pub[rnote]) / DAY_MS)
    rcounts = np.round(comp_final[rnote] * rfrac[:, None]).astype("int64")
    rc[["likes", "saves", "comments", "shares"]] = rcounts
    rc["seq"] = 2
    obs["seq"] = 0
    obs = pd.concat([obs, ex, rc], ignore_index=True)
    return obs, len(ex), len(rc)
