"""`simulate()`: the simulator's orchestration. It builds the world phase by phase, each in its own module and
from its own random streams in a fixed order (creators, followers, campaigns, notes, crawl schedule and
observations, search, duplicates, comments and their plants, crawl files and malformed records, brand files,
truth), so that the same arguments write byte-identical files.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from kol_pipeline.lib.simulate.audience import plant_shared_audience
from kol_pipeline.lib.simulate.base import Setting, Streams
from kol_pipeline.lib.simulate.brand import search_index, sponsored_fees, write_brand_files, write_reference
from kol_pipeline.lib.simulate.campaigns import plan_campaigns
from kol_pipeline.lib.simulate.comments import make_comments
from kol_pipeline.lib.simulate.crawl_files import Layout, build_crawl_files, write_crawl_files
from kol_pipeline.lib.simulate.creators import make_creators, make_followers
from kol_pipeline.lib.simulate.negative_waves import plant_negative_waves
from kol_pipeline.lib.simulate.notes import make_notes
from kol_pipeline.lib.simulate.observations import (
    add_duplicates,
    crawl_schedule,
    creator_observations,
    note_observations,
)
from kol_pipeline.lib.simulate.plants import plant_malformed
from kol_pipeline.lib.simulate.search import search
from kol_pipeline.lib.simulate.truth import CrawlFacts, write_truth
from kol_pipeline.lib.simulate.world import World


def simulate(
    out: Path,
    creators: int = 80,
    days: int = 130,
    seed: int = 7,
    end_date: date = date(2025, 6, 30),
    brand_files: bool = True,
    *,
    daily_crawl: bool = False,
    shared_audience: bool = False,
    search_surfacing: int = 0,
    flat_sponsored: int = 0,
    negative_waves: int = 0,
) -> dict[str, Any]:
    """Write a deterministic landing folder under `out` (see the package docstring) and return a summary:
    `{"out", "start_date", "end_date", "files": {kind: n}, "rows": {kind: n}, "malformed": n}`.

    `negative_waves`: that many products (brands) whose mentioning notes get only negative top-level comments on
    the comment crawls of a 14-day window (`negative_waves.plant_negative_waves`, truth/negative_waves.csv); 0 (the
    default, and the bundled sample) plants none and leaves every other output as it was.

    `out` is cleared of the simulator's own sub-folders (mediacrawler, brand, reference, truth) first.

    `search_surfacing` / `flat_sponsored` (issue #26, default 0: the bundled sample has neither): that many
    creators whose notes rank first for their category's keywords, and whose sponsored notes fall flat (their
    er_7d x FLAT_SPONSORED_FACTOR); listed in truth/planted_finding.csv (docs/simulator.md)."""
    if creators < 5:
        raise ValueError("creators must be >= 5 (one per tier)")
    if days < 14:
        raise ValueError("days must be >= 14")
    out = Path(out)
    for sub in ("mediacrawler", "brand", "reference", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)
    st = Streams.of(seed)
    s = Setting.of(out, seed, days, end_date)
    D, n = days, creators

    # the world: creators, followers, campaigns, notes, crawl schedule
    cr = make_creators(st.cre, n, D)
    fol = make_followers(st.fol, cr, D)
    camp = plan_campaigns(st.brand, cr.cats, n, D)
    nt = make_notes(st, s, cr, fol, camp, flat_sponsored)
    sched = crawl_schedule(st.obs, s, n, nt)
    world = World(setting=s, creators=cr, followers=fol, campaigns=camp, notes=nt, schedule=sched)

    # what the crawls observe
    obs, n_drops = note_observations(st.obs, s, nt, sched, daily_crawl)
    cobs = creator_observations(st, s, cr, fol, nt, sched)
    found = search(st.brand, world, search_surfacing)
    if found.watch_obs is not None:
        obs = pd.concat([obs, found.watch_obs], ignore_index=True)
    obs, n_exact, n_recrawl = add_duplicates(st.dirt, obs, nt)

    # comments, then the plants on them (each with a stream of its own; off by default)
    com_rows, com_truth = make_comments(
        st.com,
        m=nt.m,
        nc=nt.nc,
        pday=nt.pday,
        pub=nt.pub,
        crawl_start=sched.crawl_start,
        active=sched.active,
        pos_in_folder=sched.pos_in_folder,
        h=nt.h,
        w=nt.w,
        comp_final=nt.comp_final,
        topic=nt.topic,
        D=D,
        dup_creators={int(i) for i in range(n) if "duplicate_comments" in cr.infl_kinds[i]},
        user_nick=cr.nicknames,
        note_ids=nt.note_ids,
        creator_ids=cr.user_ids,
        avatars=cr.avatar,
        sponsored=nt.sponsored,
    )
    if shared_audience:  # issue #26, off by default
        com_rows = plant_shared_audience(
            com_rows,
            seed=seed,
            out=out,
            D=D,
            nc=nt.nc,
            pday=nt.pday,
            pub=nt.pub,
            topic=nt.topic,
            brand_of=nt.brand_of,
            note_ids=nt.note_ids,
            user_ids=cr.user_ids,
            nicknames=cr.nicknames,
            cats=cr.cats,
            crawl_start=sched.crawl_start,
            active=sched.active,
            pos_in_folder=sched.pos_in_folder,
        )
    com_rows, com_truth, waves = plant_negative_waves(
        seed, negative_waves, com_rows, com_truth, nt.brand_of, nt.note_ids, s.start_date
    )

    # the MediaCrawler files, with malformed records (extra corrupted copies)
    layout = Layout.of(out, seed, D, s.ds)
    files = build_crawl_files(st.dirt, world, layout, obs, cobs, com_rows)
    malformed = plant_malformed(files, st.dirt, out)
    summary_files, summary_rows = write_crawl_files(files)
    write_reference(out)
    summary_files["reference"] = 1

    # brand files (their draws are made with or without brand_files)
    fees = sponsored_fees(st.brand, world)
    idx_rows, store_rows = search_index(st.brand, world)
    if brand_files:
        summary_files["brand"] = write_brand_files(world, fees, found.rankings, idx_rows, store_rows)
        summary_rows["search_rankings"] = len(found.rankings)
        summary_rows["campaign_posts"] = len(fees.posts)

    facts = CrawlFacts(
        renamed_file=str(layout.renamed_file().relative_to(out)),
        exact_same_file=n_exact,
        recrawl_same_file=n_recrawl,
        keyword_watch_rows=int((obs["mode"] == "search").sum()),
        like_drops=n_drops,
        keywords_ranked=[k for k, _, _ in found.kw_list],
    )
    write_truth(
        world, fees, com_truth, waves if negative_waves else None, found.surf_idx, malformed, facts, brand_files
    )
    summary_rows["notes_distinct"] = nt.m
    summary_rows["creators_distinct"] = n
    return {
        "out": str(out),
        "start_date": s.start_date.isoformat(),
        "end_date": s.end_date.isoformat(),
        "files": dict(sorted(summary_files.items())),
        "rows": dict(sorted(summary_rows.items())),
        "malformed": len(malformed),
    }
