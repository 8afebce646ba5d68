"""Search (after the note and creator observations): the daily search_rankings of the tracked keywords (each
campaign brand's main target keyword and its category word) over the notes and never-crawled results, with the
search-surfacing plant's boost, and the weekly keyword_watch crawls of the top results, including the other
categories' words (stream `brand`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.base import random_hex
from kol_pipeline.lib.simulate.curves import curve_fraction
from kol_pipeline.lib.simulate.notes import Notes
from kol_pipeline.lib.simulate.plants import plant_search_surfacing
from kol_pipeline.lib.simulate.vocabulary import BRANDS, CAMPAIGNS, CATEGORIES, CATEGORY_CN, DAY_MS
from kol_pipeline.lib.simulate.world import World


@dataclass(frozen=True)
class Search:
    """`rankings` (keyword, rank, note_id, day), `kw_list` (keyword, category, brand idx or None) of the tracked
    keywords, the planted search-surfacing creators, and the keyword_watch observations (None: none)."""

    rankings: pd.DataFrame
    kw_list: list[tuple[str, str | None, int | None]]
    surf_idx: np.ndarray
    watch_obs: pd.DataFrame | None


def search(r_brand: np.random.Generator, world: World, search_surfacing: int) -> Search:
    """The search rankings and keyword-watch observations of the world; `search_surfacing` creators planted."""
    s, cats, nt = world.setting, world.creators.cats, world.notes
    D, day_ms0, seed = s.days, s.day_ms0, s.seed
    m, nc, pday, pub, topic, brand_of = nt.m, nt.nc, nt.pday, nt.pub, nt.topic, nt.brand_of
    h, w, e_final, note_ids = nt.h, nt.w, nt.e_final, nt.note_ids
    titles, descs, tag_lists = nt.titles, nt.descs, nt.tag_lists
    kw_list: list[tuple[str, str | None, int | None]] = []  # (keyword, category, brand idx)
    surf_boost, surf_idx = plant_search_surfacing(search_surfacing, seed, cats, nc, topic, pday, D)
    for bi in sorted({c.brand_idx for c in CAMPAIGNS}):
        kw_list.append((BRANDS[bi].product_keywords[0], BRANDS[bi].category, bi))  # the main target keyword
    for bi in sorted({c.brand_idx for c in CAMPAIGNS}):
        kw_list.append((CATEGORY_CN[BRANDS[bi].category], BRANDS[bi].category, None))
    note_text = [f"{t} {d} {g}" for t, d, g in zip(titles, descs, tag_lists)]
    kw_pool: dict[str, list[str]] = {}
    rank_rows: list[tuple[str, int, str, int]] = []
    watch_rows = []
    for kw, kcat, kb in kw_list:
        rel = np.array(
            [
                kw in note_text[j] or (kb is None and topic[j] == kcat) or (kb is not None and brand_of[j] == kb)
                for j in range(m)
            ]
        )
        rel = rel | ((surf_boost > 0) & (cats[nc] == kcat))  # planted surfacing creators: all their category's words
        pool = random_hex(r_brand, 60, 24)
        kw_pool[kw] = pool
        stick = r_brand.random(60)  # sticky popularity of never-crawled results
        for d in range(D):
            cand_j = np.flatnonzero(rel & (pday <= d))
            n_res = int(r_brand.integers(20, 23))
            score_uncrawled = np.log1p(stick * 3000) + r_brand.normal(0, 0.6, 60)
            if len(cand_j):
                ages = (day_ms0[d] + 12 * 3600_000 - pub[cand_j]) / DAY_MS
                e_now = e_final[cand_j] * curve_fraction(h[cand_j], w[cand_j], ages)
                sc = np.log1p(np.maximum(e_now, 0)) - 0.03 * np.maximum(ages, 0) + r_brand.normal(0, 0.6, len(cand_j))
                sc = sc + surf_boost[cand_j]
            else:
                sc = np.array([])
            ids = [note_ids[j] for j in cand_j] + pool
            allsc = np.concatenate([sc, score_uncrawled])
            order = np.argsort(-allsc, kind="stable")[:n_res]
            for r_, o in enumerate(order, start=1):
                rank_rows.append((kw, r_, ids[o], d))
                if o < len(cand_j) and d % 7 == 3 and r_ <= 10:
                    watch_rows.append((int(cand_j[o]), d, kw, r_))
    rankings = pd.DataFrame(rank_rows, columns=["keyword", "rank", "note_id", "day"])
    # the keyword watch also searches the other categories' words (results not tracked in search_rankings)
    tracked = {k for k, _, _ in kw_list}
    for cat in CATEGORIES:
        if CATEGORY_CN[cat] in tracked:
            continue
        for d in range(3, D, 7):
            cand_j = np.flatnonzero((topic == cat) & (pday <= d))
            if not len(cand_j):
                continue
            ages = (day_ms0[d] + 12 * 3600_000 - pub[cand_j]) / DAY_MS
            e_now = e_final[cand_j] * curve_fraction(h[cand_j], w[cand_j], ages)
            sc = np.log1p(np.maximum(e_now, 0)) - 0.03 * np.maximum(ages, 0) + r_brand.normal(0, 0.6, len(cand_j))
            for r_, o in enumerate(np.argsort(-sc, kind="stable")[:3], start=1):
                watch_rows.append((int(cand_j[o]), d, CATEGORY_CN[cat], r_))
    return Search(
        rankings=rankings,
        kw_list=kw_list,
        surf_idx=surf_idx,
        watch_obs=_watch_observations(watch_rows, day_ms0, nt) if watch_rows else None,
    )


def _watch_observations(watch_rows: list[tuple[int, int, str, int]], day_ms0: np.ndarray, nt: Notes) -> pd.DataFrame:
    """The keyword_watch crawl rows (folder 2) of the top 3 results of each watched (day, keyword)."""
    pub, h, w, comp_final = nt.pub, nt.h, nt.w, nt.comp_final
    wr = pd.DataFrame(watch_rows, columns=["note", "day", "kw", "rank"])
    wr = wr.sort_values(["day", "kw", "rank"], kind="stable").groupby(["day", "kw"]).head(3)
    wr = wr.drop_duplicates(["note", "day"])
    wts = day_ms0[wr["day"].to_numpy()] + 15 * 3600_000 + np.arange(len(wr)) % 400 * 2_000
    wnote = wr["note"].to_numpy()
    ok = wts > pub[wnote]
    wr, wts, wnote = wr[ok], wts[ok], wnote[ok]
    wfrac = curve_fraction(h[wnote], w[wnote], (wts - pub[wnote]) / DAY_MS)
    wcounts = np.round(comp_final[wnote] * wfrac[:, None]).astype("int64")
    wobs = pd.DataFrame(
        {
            "note": wnote,
            "day": wr["day"].to_numpy(),
            "folder": 2,
            "ts": wts,
            "likes": wcounts[:, 0],
            "saves": wcounts[:, 1],
            "comments": wcounts[:, 2],
            "shares": wcounts[:, 3],
            "source_keyword": wr["kw"].to_numpy(),
            "mode": "search",
        }
    )
    return wobs
