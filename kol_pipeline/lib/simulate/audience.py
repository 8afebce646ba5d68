"""The simulator's shared-audience plant (issue #26; docs/simulator.md "Shared audience"): commenters shared
between a brand's notes and some creators' notes, so that brand_audience_affinity can be checked against a known
answer (affinity ranks the planted creators first).

``simulate(..., shared_audience=True)`` calls ``plant_shared_audience`` once; it is off by default, so that the
bundled sample and every fixture computed from it stay byte for byte what they were. Its random numbers come
from a generator of its own (``np.random.SeedSequence([seed, 26])``): the rest of the world is the same with or
without it. Planted, for the brands of ``AUDIENCE_BRANDS`` and the last ``WINDOW_DAYS`` days of the simulation:

- a pool of brand fans per brand, each commenting on one note mentioning the brand (by an author who is not one
  of the brand's planted creators; one note, so that the authors of brand notes do not share the fans among
  themselves: their affinity stays what the background gives them);
- ``PLANTED_PER_BRAND`` creators per brand (the brand's category first, then its adjacent ones; each creator
  planted for one brand at most), on whose notes of the window (those mentioning no brand) ``FAN_COMMENTERS`` of
  the brand's fans comment, at least ``FAN_SHARE`` of the commenters the creator has besides;
- a background audience: every creator with a note in the window gets ``BACKGROUND_COMMENTERS`` commenters from
  one shared pool, and every brand note a few, so that most creators pass the mart's 20-commenter threshold and
  share a few commenters with each brand by chance (the ranking has something to beat).

Comments are top-level, crawled with the note's regular comments (its comment day and folder), and listed in
``truth/audience.csv`` (brand, user_id, nickname, planted_fans). Pure numpy/pandas; no dagster import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.vocabulary import (
    ADJACENT,
    BRANDS,
    CATEGORY_KEYWORDS,
    COMMENT_FIELDS,
    COMMENT_TEMPLATES,
    CREATOR_GAP_MS,
    EXPERIENCE_EFFECTS,
    NICK_HEADS,
    NICK_TAILS,
    PROVINCES,
)

__all__ = [
    "AUDIENCE_BRANDS",
    "BACKGROUND_COMMENTERS",
    "FAN_COMMENTERS",
    "PLANTED_PER_BRAND",
    "WINDOW_DAYS",
    "plant_shared_audience",
]

AUDIENCE_BRANDS = (0, 1)  # BRANDS indices: 润肌坊 (skincare), 花西里 (beauty)
PLANTED_PER_BRAND = 10
FANS_PER_BRAND = 120
FAN_COMMENTERS = (18, 25)  # fans on one planted creator's notes: integers(lo, hi) ...
FAN_SHARE = 0.6  # ... and at least 0.6 x the creator's other commenters of the window (at most FANS_PER_BRAND)
BACKGROUND_COMMENTERS = (20, 27)  # background users on one creator's notes of the window
BACKGROUND_ON_BRAND_NOTE = (3, 7)  # background users on one brand note
# the background pool is large, so that two creators share few background commenters: the brand notes' authors
# bring their whole background audience to "the brand's audience", which every creator then shares by chance
BACKGROUND_POOL_PER_CREATOR = 50
WINDOW_DAYS = 90  # the mart's window, ending on the simulation's last day
CLASSES = ("question", "experience", "other", "purchase_intent")


def _ids(rng: np.random.Generator, n: int, width: int = 24) -> list[str]:
    return ["".join(f"{x:x}" for x in row) for row in rng.integers(0, 16, (n, width))]


def _comment_day(pday: int, D: int, active: np.ndarray) -> int:
    """The simulator's comment crawl day of a note published on ``pday`` (every third day with a crawl, at least a
    day after publication; docs/simulator.md), or -1."""
    d = pday + 1
    while d < D and (d % 3 != 0 or not active[:, d].any()):
        d += 1
    return d if d < D else -1


def _text(rng: np.random.Generator, topic: str) -> str:
    cls = CLASSES[int(rng.integers(len(CLASSES)))]
    tpl = COMMENT_TEMPLATES[cls][int(rng.integers(len(COMMENT_TEMPLATES[cls])))]
    kws = CATEGORY_KEYWORDS[topic]
    return tpl.format(
        kw=kws[int(rng.integers(len(kws)))],
        n=int(rng.integers(2, 10)),
        name=NICK_HEADS[int(rng.integers(len(NICK_HEADS)))],
        name2=NICK_TAILS[int(rng.integers(len(NICK_TAILS)))],
        eff=EXPERIENCE_EFFECTS[int(rng.integers(len(EXPERIENCE_EFFECTS)))],
    )


def plant_shared_audience(
    com_rows: pd.DataFrame,
    *,
    seed: int,
    out: Path,
    D: int,
    nc: np.ndarray,
    pday: np.ndarray,
    pub: np.ndarray,
    topic: np.ndarray,
    brand_of: list[Any],
    note_ids: list[str],
    user_ids: list[str],
    nicknames: list[str],
    cats: np.ndarray,
    crawl_start: np.ndarray,
    active: np.ndarray,
    pos_in_folder: np.ndarray,
) -> pd.DataFrame:
    """``com_rows`` (the simulator's comment rows: COMMENT_FIELDS, folder, day) with the planted comments added,
    in the simulator's file order; writes ``out/truth/audience.csv``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 26]))
    n = len(user_ids)
    cday = np.array([_comment_day(int(p), D, active) for p in pday])
    in_window = cday >= max(0, D - WINDOW_DAYS)
    window_notes = {i: np.flatnonzero(in_window & (nc == i)) for i in range(n)}
    eligible = [i for i in range(n) if len(window_notes[i])]
    rows: list[dict[str, Any]] = []
    per_note: dict[int, int] = {}

    def comment(j: int, uid: str) -> None:
        d = int(cday[j])
        f = 0 if active[0, d] else 1
        ts = int(crawl_start[f, d] + pos_in_folder[nc[j]] * CREATOR_GAP_MS + 15_000)
        q = per_note.get(j, 0)
        per_note[j] = q + 1
        ct = int(pub[j] + int(rng.random() * max(1, ts - pub[j] - 60_000)) + 1000)
        rows.append(
            dict(
                comment_id=f"{ct // 1000:08x}" + _ids(rng, 1, 16)[0],
                create_time=ct,
                ip_location=PROVINCES[int(rng.integers(len(PROVINCES)))],
                note_id=note_ids[j],
                content=_text(rng, str(topic[j])),
                user_id=uid,
                nickname=NICK_HEADS[int(rng.integers(len(NICK_HEADS)))] + str(int(rng.integers(10, 9999))),
                avatar="https://sns-avatar-qc.xhscdn.com/avatar/" + _ids(rng, 1, 20)[0] + ".jpg",
                sub_comment_count="0",
                pictures="",
                parent_comment_id="0",
                last_modify_ts=ts + (40 + q) * 150,  # after the note's regular comments (q * 150)
                like_count=str(int(rng.geometric(0.3)) - 1),
                folder=f,
                day=d,
            )
        )

    # the background first, so that a planted creator's fans can be a share of the audience they already have
    pool = _ids(rng, BACKGROUND_POOL_PER_CREATOR * n)
    for i in eligible:
        for uid in rng.choice(pool, size=int(rng.integers(*BACKGROUND_COMMENTERS)), replace=False):
            comment(int(rng.choice(window_notes[i])), str(uid))
    for j in np.flatnonzero(in_window):
        if brand_of[j] is not None:
            for uid in rng.choice(pool, size=int(rng.integers(*BACKGROUND_ON_BRAND_NOTE)), replace=False):
                comment(int(j), str(uid))
    note_index = {nid: j for j, nid in enumerate(note_ids)}
    audience: dict[int, set[str]] = {}
    for nid, uid in zip(
        list(com_rows["note_id"]) + [r["note_id"] for r in rows],
        list(com_rows["user_id"]) + [r["user_id"] for r in rows],
    ):
        j = note_index[nid]
        if in_window[j] and uid != user_ids[nc[j]]:
            audience.setdefault(int(nc[j]), set()).add(uid)
    truth = []
    taken: set[int] = set()
    for bi in AUDIENCE_BRANDS:
        b = BRANDS[bi]
        pref = np.where(cats == b.category, 0, np.where(np.isin(cats, ADJACENT[b.category]), 1, 2))
        key = pref + rng.random(n) * 0.9
        # the fans go to the planted creator's notes of the window that mention no brand: a fan on a note of this
        # brand would make the fan's brand-note author share the fan, on another brand's note that brand
        other_notes = {i: [j for j in window_notes[i] if brand_of[j] is None] for i in range(n)}
        planted = [int(i) for i in np.argsort(key, kind="stable") if other_notes[int(i)] and int(i) not in taken]
        planted = planted[:PLANTED_PER_BRAND]
        brand_notes = [j for j in np.flatnonzero(in_window) if brand_of[j] == bi and int(nc[j]) not in set(planted)]
        if not brand_notes or not planted:
            continue
        taken.update(planted)
        fans = _ids(rng, FANS_PER_BRAND)
        for uid in fans:
            comment(int(rng.choice(brand_notes)), uid)  # one note each: a brand note's author gains no shared fan
        for i in planted:
            # FAN_COMMENTERS, and at least FAN_SHARE of the audience the creator has without them
            k = max(int(rng.integers(*FAN_COMMENTERS)), int(np.ceil(FAN_SHARE * len(audience.get(i, ())))))
            k = min(k, FANS_PER_BRAND)
            for uid in rng.choice(fans, size=k, replace=False):
                comment(int(rng.choice(other_notes[i])), str(uid))
            truth.append((b.brand, user_ids[i], nicknames[i], k))
    tdir = Path(out) / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(truth, columns=["brand", "user_id", "nickname", "planted_fans"]).to_csv(
        tdir / "audience.csv", index=False, lineterminator="\n"
    )
    added = pd.DataFrame(rows, columns=list(COMMENT_FIELDS) + ["folder", "day"])
    both = pd.concat([com_rows, added], ignore_index=True) if len(com_rows) else added
    return both.sort_values(["folder", "day", "last_modify_ts"], kind="stable").reset_index(drop=True)
