"""What brands record (after the crawl files): the fee of every sponsored post and the creators' rate card
(`sponsored_fees`), the daily search index of each brand and its control keyword with the planted campaign lifts
(on a shared seasonal and weekly wave) and the store traffic (`search_index`), and the brand/*.csv files
(`write_brand_files`); also reference/categories.csv (`write_reference`). Stream `brand`; its draws are made even
when the brand files are not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.base import shanghai_date, write_csv
from kol_pipeline.lib.simulate.vocabulary import (
    BRANDS,
    CAMPAIGNS,
    CATEGORIES,
    CATEGORY_KEYWORDS,
    TIER_FEE,
    TIER_FOLLOWERS,
)
from kol_pipeline.lib.simulate.world import World


@dataclass(frozen=True)
class Fees:
    """Each creator's image and video price and whether the rate card lists it; one row per sponsored post
    (campaign_id, note_id, user_id, fee_cny, posted_date)."""

    img_price: np.ndarray
    vid_price: np.ndarray
    has_card: np.ndarray
    posts: pd.DataFrame


def _fee_for(followers: np.ndarray, tiers: Sequence[str], noise: np.ndarray) -> np.ndarray:
    """Image-note price: log-linear in followers across the tier's follower range onto its fee range, with noise,
    clipped to the tier's fee range."""
    out = np.empty(len(tiers))
    for i, t in enumerate(tiers):
        flo, fhi = TIER_FOLLOWERS[t]
        plo, phi = TIER_FEE[t]
        pos = np.clip((np.log(followers[i]) - np.log(flo)) / (np.log(fhi) - np.log(flo)), 0, 1)
        price = np.exp(np.log(plo) + pos * (np.log(phi) - np.log(plo))) * noise[i]
        out[i] = float(np.clip(price, plo, phi))
    return out


def _season(D: int, start: date) -> tuple[np.ndarray, np.ndarray]:
    """Shared seasonal and weekly factors of brand and control search terms: a slow wave, 38 (Mar 8) and 618
    (Jun 1-18) shopping festival bumps, weekends +8 %."""
    dates = [start + timedelta(days=d) for d in range(D)]
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=float)
    season = 1 + 0.08 * np.sin(2 * np.pi * doy / 365.0)
    for dt_i, dt in enumerate(dates):
        if dt.month == 3 and 3 <= dt.day <= 8:
            season[dt_i] *= 1.12
        if dt.month == 6 and dt.day <= 18:
            season[dt_i] *= 1 + 0.25 * dt.day / 18
    weekly = np.array([1.08 if d.weekday() >= 5 else 1.0 for d in dates])
    return season, weekly


def write_reference(out: Path) -> None:
    """reference/categories.csv: every category keyword and its category."""
    cat_df = pd.DataFrame([(k, c) for c in CATEGORIES for k in CATEGORY_KEYWORDS[c]], columns=["keyword", "category"])
    write_csv(out / "reference" / "categories.csv", cat_df)


def sponsored_fees(r_brand: np.random.Generator, world: World) -> Fees:
    """The creators' prices (log-linear in followers within the tier's fee range) and each sponsored post's fee."""
    cr, nt = world.creators, world.notes
    n, f_base, tiers, user_ids = cr.n, cr.f_base, cr.tiers, cr.user_ids
    sponsored, nc, note_type, camp_of, note_ids, pub = (
        nt.sponsored,
        nt.nc,
        nt.note_type,
        nt.camp_of,
        nt.note_ids,
        nt.pub,
    )
    fee_noise = r_brand.uniform(0.9, 1.1, n)
    img_price = np.round(_fee_for(f_base, list(tiers), fee_noise), -1)
    vid_price = np.round(np.minimum(img_price * r_brand.uniform(1.2, 1.5, n), [TIER_FEE[t][1] for t in tiers]), -1)
    has_card = r_brand.random(n) < 0.85
    post_rows = []
    for j in np.flatnonzero(sponsored):
        i = int(nc[j])
        price = vid_price[i] if note_type[j] == "video" else img_price[i]
        fee = float(np.clip(np.round(price * r_brand.uniform(0.85, 1.0), -1), *TIER_FEE[tiers[i]]))
        post_rows.append(
            dict(
                campaign_id=camp_of[j],
                note_id=note_ids[j],
                user_id=user_ids[i],
                fee_cny=fee,
                posted_date=str(date(1970, 1, 1) + timedelta(days=int(shanghai_date(pub[j])))),
            )
        )
    posts = pd.DataFrame(post_rows, columns=["campaign_id", "note_id", "user_id", "fee_cny", "posted_date"])
    posts = posts.sort_values(["campaign_id", "posted_date", "note_id"], kind="stable").reset_index(drop=True)
    return Fees(img_price=img_price, vid_price=vid_price, has_card=has_card, posts=posts)


def search_index(r_brand: np.random.Generator, world: World) -> tuple[list[tuple], list[tuple]]:
    """(date, keyword, search_index) rows of each brand and its control keyword, (date, brand, store_visits) rows
    of the brands with a planted store lift."""
    s, camp_rows = world.setting, world.campaigns.camp_rows
    D, start_date, ds = s.days, s.start_date, s.ds
    season, weekly = _season(D, start_date)
    idx_rows = []
    store_rows = []
    lift_step = np.ones((len(BRANDS), D))
    store_step = np.ones((len(BRANDS), D))
    for cr in camp_rows:
        c = cr["plan"]
        lift_step[c.brand_idx, cr["start"] :] *= 1 + c.search_lift
        if c.store_lift is not None:
            store_step[c.brand_idx, cr["start"] :] *= 1 + c.store_lift
    for bi, b in enumerate(BRANDS):
        e1 = 1 + r_brand.normal(0, 0.01, D)
        e2 = 1 + r_brand.normal(0, 0.01, D)
        bv = np.round(b.search_base * season * weekly * lift_step[bi] * e1).astype(int)
        cv = np.round(b.control_base * season * weekly * e2).astype(int)
        for d in range(D):
            idx_rows.append((ds(d), b.brand, int(bv[d])))
            idx_rows.append((ds(d), b.control_keyword, int(cv[d])))
        if any(c.store_lift is not None and c.brand_idx == bi for c in CAMPAIGNS):
            sv = np.round(b.search_base * 0.4 * weekly * store_step[bi] * (1 + r_brand.normal(0, 0.02, D))).astype(int)
            store_rows += [(ds(d), b.brand, int(sv[d])) for d in range(D)]
    return idx_rows, store_rows


def write_brand_files(
    world: World, fees: Fees, rankings: pd.DataFrame, idx_rows: list[tuple], store_rows: list[tuple]
) -> int:
    """brand/*.csv: brands, campaigns, campaign_posts, one search_rankings file a day, search_index, rate_card,
    store_traffic; returns the number of files written."""
    out, ds, camp_rows, user_ids = (
        world.setting.out,
        world.setting.ds,
        world.campaigns.camp_rows,
        world.creators.user_ids,
    )
    posts, img_price, vid_price, has_card = fees.posts, fees.img_price, fees.vid_price, fees.has_card
    bdir = out / "brand"
    write_csv(
        bdir / "brands.csv",
        pd.DataFrame(
            [(b.brand, "|".join(b.aliases), b.category, b.control_keyword) for b in BRANDS],
            columns=["brand", "aliases", "category", "control_keyword"],
        ),
    )
    camp_df = []
    for cr in camp_rows:
        c = cr["plan"]
        spend = posts.loc[posts["campaign_id"] == c.campaign_id, "fee_cny"].sum()
        camp_df.append(
            (
                c.campaign_id,
                BRANDS[c.brand_idx].brand,
                c.phase,
                ds(cr["start"]),
                ds(cr["end"]),
                "|".join(BRANDS[c.brand_idx].product_keywords),
                float(np.round(spend * 1.15, -3)),
            )
        )
    write_csv(
        bdir / "campaigns.csv",
        pd.DataFrame(
            camp_df,
            columns=["campaign_id", "brand", "phase", "start_date", "end_date", "target_keywords", "budget_cny"],
        ),
    )
    write_csv(bdir / "campaign_posts.csv", posts)
    for d, grp in rankings.groupby("day", sort=True):
        write_csv(bdir / f"search_rankings_{ds(int(d))}.csv", grp[["keyword", "rank", "note_id"]])
    write_csv(bdir / "search_index.csv", pd.DataFrame(idx_rows, columns=["date", "keyword", "search_index"]))
    card = pd.DataFrame({"user_id": user_ids, "image_price_cny": img_price, "video_price_cny": vid_price})[has_card]
    write_csv(bdir / "rate_card.csv", card.reset_index(drop=True))
    write_csv(bdir / "store_traffic.csv", pd.DataFrame(store_rows, columns=["date", "brand", "store_visits"]))
    return 7 + rankings["day"].nunique()
