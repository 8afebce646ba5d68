"""The simulator's planted truth (last phase of `simulate()`): truth/creators.csv, notes.csv, comments.csv,
campaigns.csv, fee_ranges.csv, malformed.csv, params.json, and, when planted, planted_finding.csv and
negative_waves.csv. The pipeline never reads them; tests check that the metrics recover them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.base import shanghai_date, write_csv
from kol_pipeline.lib.simulate.brand import Fees
from kol_pipeline.lib.simulate.curves import planted_half_life
from kol_pipeline.lib.simulate.plants import write_planted_finding
from kol_pipeline.lib.simulate.vocabulary import (
    BRANDS,
    FOLDERS,
    MAX_CRAWL_AGE_DAYS,
    SEARCH_FOLDER,
    TIER_ER7,
    TIER_FEE,
    TIER_FOLLOWERS,
    TIER_NAMES,
)
from kol_pipeline.lib.simulate.world import World


@dataclass(frozen=True)
class CrawlFacts:
    """What params.json reports of the crawl files beyond the world: the re-run file's path (relative to the
    output folder), the duplicate rows, the keyword_watch rows, the like drops and the ranked keywords."""

    renamed_file: str
    exact_same_file: int
    recrawl_same_file: int
    keyword_watch_rows: int
    like_drops: int
    keywords_ranked: list[str]


def _tiers_of(f: np.ndarray) -> list[str]:
    idx = np.searchsorted(np.array([10_000, 100_000, 500_000, 1_000_000]), f, side="right")
    return [TIER_NAMES[int(i)] for i in np.unique(idx)]


def _creators_csv(tdir: Path, world: World, fees: Fees) -> None:
    cr, fol, ds = world.creators, world.followers, world.setting.ds
    n, user_ids, nicknames, tiers, f_base, cats = cr.n, cr.user_ids, cr.nicknames, cr.tiers, cr.f_base, cr.cats
    drift_total, er_factor, c2l, s2l, is_infl, infl_kinds = (
        cr.drift_total,
        cr.er_factor,
        cr.c2l,
        cr.s2l,
        cr.is_infl,
        cr.infl_kinds,
    )
    F, spike_day, spike_factor = fol.F, fol.spike_day, fol.spike_factor
    img_price, vid_price, has_card = fees.img_price, fees.vid_price, fees.has_card
    tier_every_day = [",".join(sorted(set(_tiers_of(F[i])))) for i in range(n)]
    write_csv(
        tdir / "creators.csv",
        pd.DataFrame(
            {
                "user_id": user_ids,
                "nickname": nicknames,
                "planted_tier": tiers,
                "followers_base": f_base.astype("int64"),
                "followers_last": F[:, -1],
                "tiers_seen": tier_every_day,
                "category": cats,
                "follower_growth_total": np.round(drift_total, 4),
                "er_7d_planted": np.round([TIER_ER7[t] for t in tiers] * er_factor, 5),
                "comment_to_like_planted": np.round(c2l, 5),
                "save_to_like_planted": np.round(s2l, 4),
                "is_inflated": is_infl,
                "inflation_kinds": ["|".join(k) for k in infl_kinds],
                "spike_date": [ds(s) if s >= 0 else "" for s in spike_day],
                "spike_factor": np.round(spike_factor, 4),
                "image_price_cny": img_price,
                "video_price_cny": vid_price,
                "has_rate_card": has_card,
            }
        ),
    )


def _notes_csv(tdir: Path, world: World) -> None:
    nt, user_ids, cats = world.notes, world.creators.user_ids, world.creators.cats
    nc, pub, note_ids, note_type, topic, off_niche = nt.nc, nt.pub, nt.note_ids, nt.note_type, nt.topic, nt.off_niche
    h, w, curve_kind, e_final, comp_final, er7, f7 = nt.h, nt.w, nt.curve_kind, nt.e_final, nt.comp_final, nt.er7, nt.f7
    late_share, is_evergreen, viral, brand_of, camp_of = (
        nt.late_share,
        nt.is_evergreen,
        nt.viral,
        nt.brand_of,
        nt.camp_of,
    )
    sponsored, disclosed, has_target = nt.sponsored, nt.disclosed, nt.has_target
    hl = planted_half_life(h, w)
    write_csv(
        tdir / "notes.csv",
        pd.DataFrame(
            {
                "note_id": note_ids,
                "user_id": [user_ids[i] for i in nc],
                "published_ms": pub,
                "published_date": [str(date(1970, 1, 1) + timedelta(days=int(x))) for x in shanghai_date(pub)],
                "note_type": note_type,
                "category": topic,
                "creator_category": cats[nc],
                "is_off_niche": off_niche,
                "curve": curve_kind,
                "h_days": np.round(h, 6),
                "w": np.round(w, 6),
                "e_final": np.round(e_final, 3),
                "likes_final": np.round(comp_final[:, 0], 3),
                "saves_final": np.round(comp_final[:, 1], 3),
                "comments_final": np.round(comp_final[:, 2], 3),
                "shares_final": np.round(comp_final[:, 3], 3),
                "er_7d_planted": np.round(er7, 6),
                "followers_at_7d": f7,
                "planted_half_life_days": np.round(hl, 4),
                "planted_late_share": np.round(late_share, 4),
                "is_evergreen": is_evergreen,
                "is_viral_planted": viral,
                "brand": [BRANDS[b].brand if b is not None else "" for b in brand_of],
                "campaign_id": [c or "" for c in camp_of],
                "is_sponsored": sponsored,
                "is_disclosed": disclosed,
                "has_target_keyword": has_target,
            }
        ),
    )


def _campaigns_csv(tdir: Path, world: World, posts: pd.DataFrame) -> None:
    camp_rows, ds = world.campaigns.camp_rows, world.setting.ds
    camp_truth = []
    for cr in camp_rows:
        c = cr["plan"]
        ncr = int(posts.loc[posts["campaign_id"] == c.campaign_id, "user_id"].nunique())
        camp_truth.append(
            dict(
                campaign_id=c.campaign_id,
                brand=BRANDS[c.brand_idx].brand,
                phase=c.phase,
                start_date=ds(cr["start"]),
                end_date=ds(cr["end"]),
                planted_creators=ncr,
                density_ok=ncr >= 15,
                planted_search_lift=c.search_lift,
                planted_control_lift=0.0,
                planted_store_lift="" if c.store_lift is None else c.store_lift,
                planted_disclosure_rate=c.disclosure_rate,
            )
        )
    write_csv(tdir / "campaigns.csv", pd.DataFrame(camp_truth))


def _params(tdir: Path, world: World, facts: CrawlFacts, brand_files: bool) -> None:
    """params.json: the run's arguments, the planted distributions and what the crawl files hold."""
    s, sched = world.setting, world.schedule
    ds, D, handover = s.ds, s.days, sched.handover
    params = {
        "seed": s.seed,
        "creators": world.creators.n,
        "days": D,
        "start_date": s.start_date.isoformat(),
        "end_date": s.end_date.isoformat(),
        "brand_files": brand_files,
        "tier_er7_median": TIER_ER7,
        "er_creator_sigma": 0.35,
        "er_creator_clip": [0.6, 1.8],
        "er_note_sigma": 0.2,
        "er_note_clip": [0.7, 1.45],
        "sponsored_er_factor": 0.9,
        "off_niche_er_factor": 0.85,
        "viral_share": 0.03,
        "viral_factor": [6.0, 15.0],
        "curve": "E(t)=E_final*(w*(1-2^(-t/h))+(1-w)*min(t/100,1))",
        "evergreen_threshold": 0.25,
        "max_crawl_age_days": MAX_CRAWL_AGE_DAYS,
        "crawler_days": {FOLDERS[0]: [ds(0), ds(handover + 2)], FOLDERS[1]: [ds(handover), ds(D - 1)]},
        "missed_days": {FOLDERS[1]: [ds(d) for d in sorted(sched.missed)]},
        "late_crawl_days": {FOLDERS[1]: sorted(ds(d) for d in sched.late_days)},
        "renamed_file": facts.renamed_file,
        "duplicates": {
            "exact_same_file": int(facts.exact_same_file),
            "recrawl_same_file": int(facts.recrawl_same_file),
            "keyword_watch_rows": int(facts.keyword_watch_rows),
        },
        "like_drops": int(facts.like_drops),
        "abbreviation": {
            FOLDERS[0]: "wan (>=10000 -> 1.2万)",
            FOLDERS[1]: "exact in csv, w (2.3w) in json",
            SEARCH_FOLDER: "search (10万+ for >= 100000, 1.2k for 1000-9999, 万 between)",
        },
        "keywords_ranked": facts.keywords_ranked,
    }
    (tdir / "params.json").write_text(
        json.dumps(params, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def write_truth(
    world: World,
    fees: Fees,
    com_truth: pd.DataFrame,
    waves: pd.DataFrame | None,
    surf_idx: np.ndarray,
    malformed: list[tuple],
    facts: CrawlFacts,
    brand_files: bool,
) -> None:
    """Every truth/ file; negative_waves.csv only when `waves` is given (negative waves were asked for)."""
    tdir = world.setting.out / "truth"
    _creators_csv(tdir, world, fees)
    _notes_csv(tdir, world)
    write_csv(tdir / "comments.csv", com_truth)
    write_planted_finding(tdir, world.creators.user_ids, surf_idx, world.notes.flat_idx)
    if waves is not None:
        write_csv(tdir / "negative_waves.csv", waves)
    _campaigns_csv(tdir, world, fees.posts)
    write_csv(
        tdir / "fee_ranges.csv",
        pd.DataFrame(
            [(t, *TIER_FEE[t], *TIER_FOLLOWERS[t], TIER_ER7[t]) for t in TIER_NAMES],
            columns=["tier", "fee_min_cny", "fee_max_cny", "followers_min", "followers_max", "er_7d_median"],
        ),
    )
    write_csv(
        tdir / "malformed.csv",
        pd.DataFrame(malformed, columns=["file", "record_number", "kind", "field", "value", "problem"]),
    )
    _params(tdir, world, facts, brand_files)
