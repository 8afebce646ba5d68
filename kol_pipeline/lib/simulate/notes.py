"""The simulator's notes (after the campaigns): when each creator posts (its campaigns' sponsored notes in their
windows, organic notes at its own rate, none in the days before its bought followers arrive), each note's topic
and brand mention, its planted curve (half-life h, decay weight w) and final engagements, its title, description
and tags (with the sponsored notes' disclosures), and its ids and urls. Streams `note` and `text`; the flat
sponsored plant scales er_7d with a stream of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kol_pipeline.lib.simulate.base import Setting, Streams, random_hex
from kol_pipeline.lib.simulate.campaigns import Campaigns
from kol_pipeline.lib.simulate.creators import Creators, Followers
from kol_pipeline.lib.simulate.curves import curve_fraction, planted_late_share
from kol_pipeline.lib.simulate.plants import plant_flat_sponsored
from kol_pipeline.lib.simulate.vocabulary import (
    BRANDS,
    CAMPAIGNS,
    CATEGORIES,
    CATEGORY_KEYWORDS,
    DAY_MS,
    DESC_LINES,
    DISCLOSURES,
    TAG_SUFFIXES,
    TIER_ER7,
    TITLE_HEADS,
    TITLE_TAILS,
)


@dataclass(frozen=True)
class Notes:
    """One entry per note (index j = 0 .. m-1, in publish order) of everything planted about it."""

    m: int
    nc: np.ndarray  # the author's creator index
    pday: np.ndarray  # publish day index
    pub: np.ndarray  # publish time, epoch ms
    camp_of: list[str | None]
    sponsored: np.ndarray
    brand_of: list[int | None]  # BRANDS index of the brand a note is sponsored by or mentions
    topic: np.ndarray  # the note's category
    off_niche: np.ndarray
    h: np.ndarray  # curve half-life, days
    w: np.ndarray  # curve decay weight (1: pure decay)
    curve_kind: np.ndarray
    late_share: np.ndarray
    is_evergreen: np.ndarray
    note_type: np.ndarray
    er7: np.ndarray  # planted er_7d
    flat_idx: np.ndarray  # the planted flat-sponsored creators
    viral: np.ndarray
    f7: np.ndarray  # the author's followers 7 days after publication
    e_final: np.ndarray
    comp_final: np.ndarray  # m x 4: final likes, saves, comments, shares
    disclosed: np.ndarray
    has_target: np.ndarray
    titles: list[str]
    descs: list[str]
    tag_lists: list[str]
    note_ids: list[str]
    tokens: list[str]
    images: list[str]
    videos: list[str]
    edit_ms: np.ndarray


def _token(rng: np.random.Generator) -> str:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    return "AB" + "".join(alphabet[rng.integers(0, len(alphabet), 26)]) + "="


def _publish_ms(d: int, rng: np.random.Generator, day_ms0: np.ndarray) -> int:
    # publish time of day: 07:00 - 23:30 Shanghai, evening-heavy
    frac = 7 / 24 + (16.5 / 24) * (1 - (1 - rng.random()) ** 1.6)
    return int(day_ms0[d] + frac * DAY_MS + rng.integers(0, 1000))


def _schedule(r_note: np.random.Generator, cr: Creators, fol: Followers, camp: Campaigns, D: int) -> list[dict]:
    """(creator, publish day, campaign, brand) of every note, sponsored ones first, sorted by day and creator."""
    n, cats, is_infl, post_rate, spike_day = cr.n, cr.cats, cr.is_infl, cr.post_rate, fol.spike_day
    notes: list[dict[str, Any]] = []
    for cr_ in camp.camp_rows:
        c = cr_["plan"]
        for i in camp.chosen[c.campaign_id]:
            n_posts = 2 if (c.phase == "sustain" and r_note.random() < 0.3) else 1
            window = np.arange(cr_["start"], cr_["end"] + 1)
            if spike_day[i] >= 0:
                window = window[(window < spike_day[i] - 3) | (window > spike_day[i])]
            if len(window) == 0:
                continue
            for p in np.sort(r_note.choice(window, size=min(n_posts, len(window)), replace=False)):
                notes.append(dict(creator=int(i), pday=int(p), campaign=c.campaign_id, brand=c.brand_idx))
    s_off = np.zeros(n, dtype=int)  # sponsored notes outside the creator's category
    for r in notes:
        s_off[r["creator"]] += BRANDS[r["brand"]].category != cats[r["creator"]]
    for i in range(n):
        k = max(4 if is_infl[i] else 1, int(r_note.poisson(post_rate[i] * D)), int(s_off[i]) + 1)
        allowed = np.arange(D)
        if spike_day[i] >= 0:  # quiet before the bought followers arrive
            allowed = allowed[(allowed < spike_day[i] - 3) | (allowed > spike_day[i])]
        for p in np.sort(r_note.choice(allowed, size=k, replace=True)):
            notes.append(dict(creator=i, pday=int(p), campaign=None, brand=None))
    notes.sort(key=lambda r: (r["pday"], r["creator"], r["campaign"] or ""))
    return notes


def _topics(
    r_note: np.random.Generator, cats: np.ndarray, nc: np.ndarray, sponsored: np.ndarray, brand_of: list[int | None]
) -> tuple[np.ndarray, np.ndarray]:
    """(topic, off_niche) of every note; sets the organic brand mentions in `brand_of` (in place)."""
    m, n = len(nc), len(cats)
    # organic brand mentions: ~7% of organic notes in a brand's category mention it
    brand_by_cat = {b.category: j for j, b in enumerate(BRANDS)}
    off_niche = np.zeros(m, dtype=bool)
    topic = np.empty(m, dtype=object)
    for j in range(m):
        ccat = cats[nc[j]]
        if sponsored[j]:
            topic[j] = BRANDS[brand_of[j]].category
        elif r_note.random() < 0.10:
            others = [c for c in CATEGORIES if c != ccat]
            topic[j] = others[int(r_note.integers(len(others)))]
            off_niche[j] = True
        else:
            topic[j] = ccat
        if not sponsored[j] and topic[j] in brand_by_cat and r_note.random() < 0.10:
            brand_of[j] = brand_by_cat[topic[j]]
    # keep each creator's own category the most frequent one: flip organic off-niche notes back if needed
    for i in range(n):
        mine = np.flatnonzero(nc == i)
        while (topic[mine] == cats[i]).sum() <= (topic[mine] != cats[i]).sum():
            flip = [j for j in mine if off_niche[j]]
            if not flip:
                break
            topic[flip[0]] = cats[i]
            off_niche[flip[0]] = False
            if brand_of[flip[0]] is not None and BRANDS[brand_of[flip[0]]].category != cats[i]:
                brand_of[flip[0]] = None
    off_niche |= sponsored & (topic != cats[nc])
    return topic, off_niche


def _texts(
    r_text: np.random.Generator,
    cats: np.ndarray,
    nc: np.ndarray,
    topic: np.ndarray,
    off_niche: np.ndarray,
    sponsored: np.ndarray,
    brand_of: list[int | None],
    camp_of: list[str | None],
) -> tuple[list[str], list[str], list[str], np.ndarray, np.ndarray]:
    """(titles, descs, tag_lists, disclosed, has_target): keywords of the note's topic between filler words; a
    sponsored note names its brand and (90 %) a target keyword, and discloses at its campaign's rate; an organic
    brand mention names the brand or an alias."""
    m = len(nc)
    disclosed = np.zeros(m, dtype=bool)
    has_target = np.zeros(m, dtype=bool)
    titles, descs, tag_lists = [], [], []
    camp_plan = {c.campaign_id: c for c in CAMPAIGNS}
    for j in range(m):
        kws = list(CATEGORY_KEYWORDS[topic[j]])
        pick = r_text.choice(len(kws), 3, replace=False)
        k1, k2, k3 = (kws[p] for p in pick)
        tags = [k1, k2 + TAG_SUFFIXES[r_text.integers(len(TAG_SUFFIXES))], k3]
        head = TITLE_HEADS[r_text.integers(len(TITLE_HEADS))]
        tail = TITLE_TAILS[r_text.integers(len(TITLE_TAILS))]
        line = DESC_LINES[r_text.integers(len(DESC_LINES))]
        if off_niche[j] and not sponsored[j]:
            tags.append(CATEGORY_KEYWORDS[cats[nc[j]]][int(r_text.integers(10))])  # a trace of the creator's niche
        if sponsored[j]:
            b = BRANDS[brand_of[j]]
            plan = camp_plan[camp_of[j]]
            pk = b.product_keywords[int(r_text.integers(len(b.product_keywords)))]
            has_target[j] = r_text.random() < 0.9
            prod = pk if has_target[j] else k1
            title = f"{b.brand}{prod}{tail}"
            desc = f"{b.brand}{prod}{line}"
            tags = [b.brand, prod] + tags[:2]
            if r_text.random() < plan.disclosure_rate:
                disclosed[j] = True
                mk = DISCLOSURES[int(r_text.integers(len(DISCLOSURES)))].format(brand=b.brand)
                if mk.startswith("#"):
                    tags.append(mk[1:])
                    desc = desc + " " + mk
                else:
                    desc = desc + "\n" + mk
        elif brand_of[j] is not None:
            b = BRANDS[brand_of[j]]
            alias = b.aliases[int(r_text.integers(len(b.aliases)))] if r_text.random() < 0.4 else b.brand
            title = f"回购{alias}的{k1}{tail}"
            desc = f"{line}，自己买的{alias}"
        else:
            title = f"{head}{k1}{tail}"
            desc = line
        desc = desc + "\n" + " ".join(f"#{t}[话题]#" for t in tags[:2])
        titles.append(title)
        descs.append(desc)
        tag_lists.append(",".join(tags))
    return titles, descs, tag_lists, disclosed, has_target


def make_notes(
    streams: Streams, s: Setting, cr: Creators, fol: Followers, camp: Campaigns, flat_sponsored: int
) -> Notes:
    """Every note of the world (streams `note` and `text`); `flat_sponsored` creators planted (plants.py)."""
    r_note, D = streams.note, s.days
    notes = _schedule(r_note, cr, fol, camp, D)
    m = len(notes)
    nc = np.array([r["creator"] for r in notes])
    pday = np.array([r["pday"] for r in notes])
    pub = np.array([_publish_ms(int(p), r_note, s.day_ms0) for p in pday], dtype="int64")
    camp_of = [r["campaign"] for r in notes]
    sponsored = np.array([c is not None for c in camp_of])
    brand_of = [r["brand"] for r in notes]
    topic, off_niche = _topics(r_note, cr.cats, nc, sponsored, brand_of)
    # curve classes
    u = r_note.random(m)
    h = np.where(
        u < 0.35,
        r_note.uniform(0.5, 2.0, m),
        np.where(
            u < 0.75,
            r_note.uniform(2.0, 8.0, m),
            np.where(
                u < 0.85,
                r_note.uniform(8.0, 12.0, m),
                np.where(u < 0.92, r_note.uniform(22.0, 40.0, m), r_note.uniform(1.0, 5.0, m)),
            ),
        ),
    )
    w = np.where(u >= 0.92, r_note.uniform(0.3, 0.5, m), 1.0)
    curve_kind = np.where(u >= 0.92, "decay_linear", "decay")
    late_share = planted_late_share(h, w)
    is_evergreen = late_share >= 0.25
    note_type = np.where(r_note.random(m) < 0.25, "video", "normal")
    er7 = np.array([TIER_ER7[cr.tiers[i]] for i in nc]) * cr.er_factor[nc]
    er7 = er7 * np.clip(r_note.lognormal(0.0, 0.2, m), 0.7, 1.45)
    er7 = er7 * np.where(sponsored, 0.9, 1.0) * np.where(off_niche & ~sponsored, 0.85, 1.0)
    er7, flat_idx = plant_flat_sponsored(er7, flat_sponsored, s.seed, nc, sponsored, pday, D)
    # a few viral notes (organic, honest authors): 6-15 x the author's usual engagement rate
    viral = (r_note.random(m) < 0.03) & ~sponsored & ~cr.is_infl[nc]
    er7 = er7 * np.where(viral, r_note.uniform(6.0, 15.0, m), 1.0)
    f7 = fol.F[nc, np.minimum(pday + 7, D - 1)]
    e7 = er7 * f7
    e_final = e7 / curve_fraction(h, w, 7.0)
    s_r = cr.s2l[nc] * r_note.uniform(0.85, 1.15, m)
    c_r = cr.c2l[nc] * r_note.uniform(0.8, 1.2, m)
    sh_r = cr.sh2l[nc] * r_note.uniform(0.8, 1.2, m)
    likes_f = e_final / (1 + s_r + c_r + sh_r)
    comp_final = np.stack([likes_f, likes_f * s_r, likes_f * c_r, likes_f * sh_r], axis=1)  # likes saves comm shares
    titles, descs, tag_lists, disclosed, has_target = _texts(
        streams.text, cr.cats, nc, topic, off_niche, sponsored, brand_of, camp_of
    )
    note_ids = [f"{int(p // 1000):08x}" + "0000000" + x for p, x in zip(pub, random_hex(r_note, m, 9))]
    assert len(set(note_ids)) == m
    tokens = [_token(r_note) for _ in range(m)]
    images = [f"http://sns-webpic-qc.xhscdn.com/{x}!nd_dft_wlteh_webp_3" for x in random_hex(r_note, m, 16)]
    videos = [
        f"http://sns-video-bd.xhscdn.com/{x}" if t == "video" else ""
        for x, t in zip(random_hex(r_note, m, 16), note_type)
    ]
    edit_ms = r_note.integers(0, 600_000, m)
    return Notes(
        m=m,
        nc=nc,
        pday=pday,
        pub=pub,
        camp_of=camp_of,
        sponsored=sponsored,
        brand_of=brand_of,
        topic=topic,
        off_niche=off_niche,
        h=h,
        w=w,
        curve_kind=curve_kind,
        late_share=late_share,
        is_evergreen=is_evergreen,
        note_type=note_type,
        er7=er7,
        flat_idx=flat_idx,
        viral=viral,
        f7=f7,
        e_final=e_final,
        comp_final=comp_final,
        disclosed=disclosed,
        has_target=has_target,
        titles=titles,
        descs=descs,
        tag_lists=tag_lists,
        note_ids=note_ids,
        tokens=tokens,
        images=images,
        videos=videos,
        edit_ms=edit_ms,
    )
