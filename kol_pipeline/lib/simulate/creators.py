"""The simulator's creators (first phase of `simulate()`): their tiers, categories, planted engagement ratios,
inflation patterns, ids, nicknames and profile fields (`make_creators`, stream `cre`), then their followers on
each day: a slow drift, noise and, for the follower_spike accounts, the bought followers (`make_followers`,
stream `fol`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kol_pipeline.lib.simulate.base import random_hex
from kol_pipeline.lib.simulate.vocabulary import (
    CATEGORIES,
    CATEGORY_CN,
    INFLATION_PATTERNS,
    NICK_HEADS,
    NICK_TAILS,
    PROVINCES,
    SAVE_TO_LIKE,
    TIER_FOLLOWERS,
    TIER_NAMES,
    TIER_SHARE,
)


@dataclass(frozen=True)
class Creators:
    """One entry per creator (index i = 0 .. n-1) of everything planted about them."""

    n: int
    tiers: np.ndarray
    cats: np.ndarray
    infl_kinds: list[tuple[str, ...]]
    is_infl: np.ndarray
    f_base: np.ndarray  # followers at day 0
    drift_total: np.ndarray  # follower factor over the whole window
    growth: np.ndarray
    er_factor: np.ndarray  # x the tier's planted er_7d median
    c2l: np.ndarray  # comments / likes
    s2l: np.ndarray  # saves / likes
    sh2l: np.ndarray  # shares / likes
    post_rate: np.ndarray  # organic notes per day
    user_ids: list[str]
    nicknames: list[str]
    gender: np.ndarray
    prov: np.ndarray
    avatar: list[str]
    bios: list[str]
    follows: np.ndarray


@dataclass(frozen=True)
class Followers:
    """Followers of each creator on each day (n x days), and the planted follower spikes (day -1: none)."""

    F: np.ndarray
    spike_day: np.ndarray
    spike_factor: np.ndarray


def _tier_counts(n: int) -> np.ndarray:
    """Creators per tier: largest remainder on TIER_SHARE, at least one per tier when n >= 5."""
    raw = np.asarray(TIER_SHARE) * n
    base = np.floor(raw).astype(int)
    if n >= 5:
        base = np.maximum(base, 1)
    while base.sum() < n:
        base[int(np.argmax(raw - base))] += 1
    while base.sum() > n:
        base[int(np.argmax(base))] -= 1
    return base


def make_creators(r_cre: np.random.Generator, n: int, D: int) -> Creators:
    """The `n` creators of a `D`-day world."""
    tiers = np.repeat(np.array(TIER_NAMES), _tier_counts(n))
    r_cre.shuffle(tiers)
    cat_idx = np.array([i % len(CATEGORIES) for i in range(n)])
    r_cre.shuffle(cat_idx)
    cats = np.array(CATEGORIES)[cat_idx]
    # inflated accounts: ~8% (at least 3), chosen among micro/mid/macro
    n_infl = max(3, int(round(0.08 * n)))
    eligible = np.flatnonzero(np.isin(tiers, ["micro", "mid", "macro"]))
    infl_idx = np.sort(r_cre.choice(eligible, size=min(n_infl, len(eligible)), replace=False))
    infl_kinds: list[tuple[str, ...]] = [()] * n
    for j, i in enumerate(infl_idx):
        infl_kinds[i] = INFLATION_PATTERNS[j % len(INFLATION_PATTERNS)]
    is_infl = np.zeros(n, dtype=bool)
    is_infl[infl_idx] = True
    lo = np.array([TIER_FOLLOWERS[t][0] for t in tiers], dtype=float)
    hi = np.array([TIER_FOLLOWERS[t][1] for t in tiers], dtype=float)
    # inflated accounts start in the lower half of their tier so the bought followers keep them in it
    hi_eff = np.where(is_infl, lo + 0.35 * (hi - lo), hi)
    f_base = np.exp(np.log(lo) + r_cre.random(n) * (np.log(hi_eff) - np.log(lo)))
    f_base = np.round(f_base)
    drift_total = r_cre.uniform(0.95, 1.16, n)  # follower factor over the whole window
    growth = np.log(drift_total) / D
    er_factor = np.clip(r_cre.lognormal(0.0, 0.35, n), 0.6, 1.8)
    er_factor = np.where([("low_er_for_tier" in k) for k in infl_kinds], r_cre.uniform(0.08, 0.13, n), er_factor)
    c2l = r_cre.uniform(0.05, 0.15, n)
    c2l = np.where([("low_comment_to_like" in k) for k in infl_kinds], r_cre.uniform(0.004, 0.008, n), c2l)
    # bought comments inflate the comment count of duplicate-comment accounts
    c2l = np.where([("duplicate_comments" in k) for k in infl_kinds], r_cre.uniform(0.3, 0.45, n), c2l)
    s2l = np.array([SAVE_TO_LIKE[c] for c in cats]) * r_cre.uniform(0.8, 1.25, n)
    sh2l = r_cre.uniform(0.02, 0.10, n)
    post_rate = r_cre.uniform(1 / 120, 1 / 65, n)  # organic notes per day
    ts_reg = r_cre.integers(1_450_000_000, 1_700_000_000, n)
    user_ids = [f"{t:08x}" + h for t, h in zip(ts_reg, random_hex(r_cre, n, 16))]
    nick_used: set[str] = set()
    nicknames = []
    for i in range(n):
        while True:
            nm = NICK_HEADS[r_cre.integers(len(NICK_HEADS))] + NICK_TAILS[r_cre.integers(len(NICK_TAILS))]
            nm = nm + "的" + CATEGORY_CN[cats[i]] if r_cre.random() < 0.6 else nm + str(r_cre.integers(1, 999))
            if nm not in nick_used:
                nick_used.add(nm)
                nicknames.append(nm)
                break
    gender = np.where(r_cre.random(n) < 0.85, "女", "男")
    prov = np.array(PROVINCES)[r_cre.integers(0, len(PROVINCES), n)]
    avatar = [f"https://sns-avatar-qc.xhscdn.com/avatar/{h}.jpg" for h in random_hex(r_cre, n, 20)]
    bios = [f"{CATEGORY_CN[c]}博主" + ("｜商务合作私信" if r_cre.random() < 0.4 else "") for c in cats]
    follows = r_cre.integers(30, 1500, n)
    return Creators(
        n=n,
        tiers=tiers,
        cats=cats,
        infl_kinds=infl_kinds,
        is_infl=is_infl,
        f_base=f_base,
        drift_total=drift_total,
        growth=growth,
        er_factor=er_factor,
        c2l=c2l,
        s2l=s2l,
        sh2l=sh2l,
        post_rate=post_rate,
        user_ids=user_ids,
        nicknames=nicknames,
        gender=gender,
        prov=prov,
        avatar=avatar,
        bios=bios,
        follows=follows,
    )


def make_followers(r_fol: np.random.Generator, cr: Creators, D: int) -> Followers:
    """Followers per day: the creator's drift with noise; follower_spike accounts get their bought followers on a
    day of the middle of the window."""
    n, f_base, growth, infl_kinds = cr.n, cr.f_base, cr.growth, cr.infl_kinds
    d_idx = np.arange(D)
    noise = np.cumsum(r_fol.normal(0.0, 0.0015, (n, D)), axis=1)
    F = f_base[:, None] * np.exp(growth[:, None] * d_idx[None, :] + noise)
    spike_day = np.full(n, -1)
    spike_factor = np.ones(n)
    for i in np.flatnonzero([("follower_spike" in k) for k in infl_kinds]):
        spike_day[i] = int(r_fol.integers(max(4, int(0.3 * D)), max(5, int(0.8 * D))))
        spike_factor[i] = r_fol.uniform(1.30, 1.45)
        F[i, spike_day[i] :] *= spike_factor[i]
    F = np.round(F).astype("int64")
    return Followers(F=F, spike_day=spike_day, spike_factor=spike_factor)
