"""The simulator's comments (after the duplicates): each note's comments, crawled once on its first comment day
(every third day with a crawl, at least a day after publication), up to its planted comment count at that age:
top-level comments of the planted classes (COMMENT_TEMPLATES; bought duplicate texts on duplicate-comment
accounts) and replies, some by the note's author (`make_comments`, stream `com`), with the truth of every class.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.base import random_hex
from kol_pipeline.lib.simulate.curves import curve_fraction
from kol_pipeline.lib.simulate.vocabulary import (
    AUTHOR_REPLIES,
    CATEGORY_KEYWORDS,
    COMMENT_CLASS_P,
    COMMENT_FIELDS,
    COMMENT_PREFIXES,
    COMMENT_TEMPLATES,
    CREATOR_GAP_MS,
    DAY_MS,
    DUPLICATE_POOL,
    EMOJI,
    EXPERIENCE_EFFECTS,
    NICK_HEADS,
    NICK_TAILS,
    PARTICLES,
    PROVINCES,
)


def make_comments(
    rng: np.random.Generator,
    *,
    m: int,
    nc: np.ndarray,
    pday: np.ndarray,
    pub: np.ndarray,
    crawl_start: np.ndarray,
    active: np.ndarray,
    pos_in_folder: np.ndarray,
    h: np.ndarray,
    w: np.ndarray,
    comp_final: np.ndarray,
    topic: np.ndarray,
    D: int,
    dup_creators: set[int],
    user_nick: list[str],
    note_ids: list[str],
    creator_ids: list[str],
    avatars: list[str],
    sponsored: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Comment rows: each note's comments are crawled once, on the first comment day (every third day of its
    folder) at least 1 day after publication; up to 3-8 comments (15 for duplicate-comment accounts)."""
    rows = []
    truth = []
    classes = list(COMMENT_CLASS_P)
    probs = np.array([COMMENT_CLASS_P[c] for c in classes])
    nick_pool = [a + b for a in NICK_HEADS for b in NICK_TAILS]
    for j in range(m):
        d = int(pday[j]) + 1
        while d < D and (d % 3 != 0 or not active[:, d].any()):
            d += 1
        if d >= D:
            continue
        f = 0 if active[0, d] else 1
        ts = int(crawl_start[f, d] + pos_in_folder[nc[j]] * CREATOR_GAP_MS + 15_000)
        age = (ts - pub[j]) / DAY_MS
        if age <= 0:
            continue
        n_now = int(round(comp_final[j, 2] * float(curve_fraction(h[j], w[j], age))))
        dup = int(nc[j]) in dup_creators
        cap = 15 if dup else int(rng.integers(2, 7))
        k = min(n_now, cap)
        if k <= 0:
            continue
        n_rep = min(int(rng.binomial(k, 0.15)), k // 2) if k >= 3 else 0
        n_top = k - n_rep
        ct = pub[j] + np.sort((rng.random(n_top) ** 2) * (ts - pub[j]) * 0.95).astype("int64") + 1000
        top_ids = []
        kws = CATEGORY_KEYWORDS[topic[j]]
        for q in range(n_top):
            if dup and rng.random() < 0.6:
                text, cls, is_dup = DUPLICATE_POOL[int(rng.integers(len(DUPLICATE_POOL)))], "other", True
                if rng.random() < 0.3:
                    text += EMOJI[int(rng.integers(len(EMOJI)))]
            else:
                cls = (
                    classes[int(rng.choice(len(classes), p=probs))]
                    if not sponsored[j] or rng.random() > 0.15
                    else "purchase_intent"
                )
                text, is_dup = _comment_text(rng, cls, kws, nick_pool), False
            cid = f"{int(ct[q] // 1000):08x}" + "".join(random_hex(rng, 1, 16))
            top_ids.append((cid, int(ct[q])))
            uid = "".join(random_hex(rng, 1, 24))
            rows.append(
                dict(
                    comment_id=cid,
                    create_time=int(ct[q]),
                    ip_location=PROVINCES[int(rng.integers(len(PROVINCES)))],
                    note_id=note_ids[j],
                    content=text,
                    user_id=uid,
                    nickname=nick_pool[int(rng.integers(len(nick_pool)))] + str(int(rng.integers(10, 9999))),
                    avatar="https://sns-avatar-qc.xhscdn.com/avatar/" + "".join(random_hex(rng, 1, 20)) + ".jpg",
                    sub_comment_count="0",
                    pictures="",
                    parent_comment_id="0" if rng.random() < 0.7 else "",
                    last_modify_ts=ts + q * 150,
                    like_count=str(int(rng.geometric(0.3)) - 1),
                    folder=f,
                    day=d,
                )
            )
            truth.append((cid, note_ids[j], cls, is_dup, "", creator_ids[int(nc[j])]))
        sub_counts: dict[str, int] = {}
        for q in range(n_rep):
            pid, pct = top_ids[int(rng.integers(len(top_ids)))]
            rct = pct + int(rng.integers(60_000, max(60_001, ts - pct)))
            rct = min(rct, ts - 1000)
            by_author = rng.random() < 0.6
            if by_author:
                text, cls = AUTHOR_REPLIES[int(rng.integers(len(AUTHOR_REPLIES)))]
                text = text.format(kw=kws[int(rng.integers(len(kws)))])
                uid, nick, av = creator_ids[int(nc[j])], user_nick[int(nc[j])], avatars[int(nc[j])]
            else:
                cls = "experience" if rng.random() < 0.5 else "question"
                text = _comment_text(rng, cls, kws, nick_pool)
                uid = "".join(random_hex(rng, 1, 24))
                nick = nick_pool[int(rng.integers(len(nick_pool)))] + str(int(rng.integers(10, 9999)))
                av = "https://sns-avatar-qc.xhscdn.com/avatar/" + "".join(random_hex(rng, 1, 20)) + ".jpg"
            cid = f"{int(rct // 1000):08x}" + "".join(random_hex(rng, 1, 16))
            sub_counts[pid] = sub_counts.get(pid, 0) + 1
            rows.append(
                dict(
                    comment_id=cid,
                    create_time=int(rct),
                    ip_location=PROVINCES[int(rng.integers(len(PROVINCES)))],
                    note_id=note_ids[j],
                    content=text,
                    user_id=uid,
                    nickname=nick,
                    avatar=av,
                    sub_comment_count="0",
                    pictures="",
                    parent_comment_id=pid,
                    last_modify_ts=ts + (n_top + q) * 150,
                    like_count=str(int(rng.geometric(0.5)) - 1),
                    folder=f,
                    day=d,
                )
            )
            truth.append((cid, note_ids[j], cls, False, pid, creator_ids[int(nc[j])]))
        for r in rows[-k:]:
            if r["comment_id"] in sub_counts:
                r["sub_comment_count"] = str(sub_counts[r["comment_id"]])
    df = pd.DataFrame(rows, columns=list(COMMENT_FIELDS) + ["folder", "day"])
    df = df.sort_values(["folder", "day", "last_modify_ts"], kind="stable").reset_index(drop=True)
    tdf = pd.DataFrame(
        truth,
        columns=[
            "comment_id",
            "note_id",
            "planted_class",
            "is_planted_duplicate",
            "parent_comment_id",
            "note_author_id",
        ],
    )
    return df, tdf


def _comment_text(rng: np.random.Generator, cls: str, kws: Sequence[str], nick_pool: Sequence[str]) -> str:
    tpl = COMMENT_TEMPLATES[cls][int(rng.integers(len(COMMENT_TEMPLATES[cls])))]
    text = tpl.format(
        kw=kws[int(rng.integers(len(kws)))],
        n=int(rng.integers(2, 10)),
        name=nick_pool[int(rng.integers(len(nick_pool)))],
        name2=nick_pool[int(rng.integers(len(nick_pool)))],
        eff=EXPERIENCE_EFFECTS[int(rng.integers(len(EXPERIENCE_EFFECTS)))],
    )
    if cls in ("purchase_intent", "question", "experience", "other") and rng.random() < 0.5:
        text = COMMENT_PREFIXES[int(rng.integers(len(COMMENT_PREFIXES)))] + text
    if cls in ("purchase_intent", "experience", "other"):
        text += PARTICLES[int(rng.integers(len(PARTICLES)))]
    if cls == "low_effort" and rng.random() < 0.15:
        return "".join(EMOJI[int(rng.integers(len(EMOJI)))] for _ in range(int(rng.integers(1, 3))))
    if cls == "question" and rng.random() < 0.6:
        text += "？" if rng.random() < 0.7 else "?"
    tail = rng.random()
    if tail < 0.35:
        text += EMOJI[int(rng.integers(len(EMOJI)))]
    elif tail < 0.5:
        text += "～"
    return text
