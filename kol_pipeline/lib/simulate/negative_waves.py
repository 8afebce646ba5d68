"""The simulator's negative comment waves (issue #26, off by default): for that many brands, the top-level
comments of their mentioning notes crawled in a 14-day window are all negative, so that those notes' NSR is -1;
listed in truth/negative_waves.csv. A random stream of its own: with `negative_waves=0` nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.base import random_hex
from kol_pipeline.lib.simulate.vocabulary import BRANDS, CATEGORY_KEYWORDS

# Negative top-level comments of a planted negative wave (issue #26): each has a negative word of the lexicon's
# "sentiment" lists and the comment class given beside it under the contract's ordered rules (tested).
NEGATIVE_WAVE_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("用了{n}天就过敏了，失望", "experience"),
    ("亲测{kw}翻车了，不推荐", "experience"),
    ("用过{n}次，烂脸了，后悔", "experience"),
    ("{kw}踩雷了，大家避雷", "other"),
    ("不推荐，差评，智商税", "other"),
    ("这次的{kw}真的难用，不值", "other"),
)
NEGATIVE_WAVE_DAYS = 14
NEGATIVE_WAVE_MIN_COMMENTS = 3  # top-level comments a wave note gets at least (note_metrics' NSR needs 3)


def plant_negative_waves(
    seed: int,
    waves: int,
    rows: pd.DataFrame,
    truth: pd.DataFrame,
    brand_of: Sequence[int | None],
    note_ids: Sequence[str],
    start_date: date,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Negative comment waves on products: for each of the ``waves`` brands with the most commented mentioning
    notes, a window of NEGATIVE_WAVE_DAYS days around the median comment crawl day of those notes; every
    mentioning note whose comments are crawled in the window gets only negative top-level comments (its top-level
    texts replaced by NEGATIVE_WAVE_TEMPLATES, and comments added up to NEGATIVE_WAVE_MIN_COMMENTS), so its NSR
    is -1. Replies are left as they are. A random stream of its own: with ``waves`` = 0 nothing changes.
    Returns (rows, truth with the new classes, the waves: note_id, brand, wave_start, wave_end, top_level_comments)."""
    cols = ["note_id", "brand", "wave_start", "wave_end", "top_level_comments"]
    if waves <= 0 or len(rows) == 0:
        return rows, truth, pd.DataFrame(columns=cols)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 26]))
    brand_by_note = {note_ids[j]: b for j, b in enumerate(brand_of) if b is not None}
    note_day = rows.groupby("note_id", sort=True)["day"].min()
    mention = note_day[[x in brand_by_note for x in note_day.index]]
    brand_of_mention = np.array([brand_by_note[x] for x in mention.index], dtype="int64")
    counts = pd.Series(brand_of_mention).value_counts(sort=False).sort_index()
    order = counts.sort_values(ascending=False, kind="stable").index[:waves]
    rows = rows.copy()
    truth = truth.copy()
    truth_row = {cid: i for i, cid in enumerate(truth["comment_id"])}
    top = rows["parent_comment_id"].isin(["0", ""]).to_numpy()
    added_rows: list[dict[str, Any]] = []
    added_truth: list[dict[str, Any]] = []
    out = []

    def truth_of(cid: str, nid: str) -> int:
        """The truth row of comment ``cid`` of note ``nid``; a comment of the shared-audience plant has none (its
        truth is truth/audience.csv): it gets a top-level row, the note's author taken from the note's rows."""
        if cid not in truth_row:
            authors = truth.loc[truth["note_id"] == nid, "note_author_id"]
            truth.loc[len(truth)] = {
                "comment_id": cid,
                "note_id": nid,
                "planted_class": "",
                "is_planted_duplicate": False,
                "parent_comment_id": "",
                "note_author_id": authors.iloc[0] if len(authors) else None,
            }
            truth_row[cid] = len(truth) - 1
        return truth_row[cid]

    def negative(kws: Sequence[str]) -> tuple[str, str]:
        tpl, cls = NEGATIVE_WAVE_TEMPLATES[int(rng.integers(len(NEGATIVE_WAVE_TEMPLATES)))]
        return tpl.format(n=int(rng.integers(2, 10)), kw=kws[int(rng.integers(len(kws)))]), cls

    for b in order:
        days = mention[brand_of_mention == b]
        lo = int(np.median(days.to_numpy())) - NEGATIVE_WAVE_DAYS // 2
        hi = lo + NEGATIVE_WAVE_DAYS - 1
        kws = CATEGORY_KEYWORDS[BRANDS[int(b)].category]
        for nid in days.index[((days >= lo) & (days <= hi)).to_numpy()]:
            own = np.flatnonzero((rows["note_id"] == nid).to_numpy() & top)
            if len(own) == 0:
                continue
            for i in own:
                text, cls = negative(kws)
                rows.iloc[i, rows.columns.get_loc("content")] = text
                t = truth_of(rows.iloc[i]["comment_id"], nid)
                truth.iloc[t, truth.columns.get_loc("planted_class")] = cls
                truth.iloc[t, truth.columns.get_loc("is_planted_duplicate")] = False
            last = rows.iloc[own[-1]]
            for k in range(NEGATIVE_WAVE_MIN_COMMENTS - len(own)):
                r = last.to_dict()
                ct = int(last["create_time"]) - int(rng.integers(1, 900))  # still after the publish time
                r["comment_id"] = f"{ct // 1000:08x}" + "".join(random_hex(rng, 1, 16))
                r["create_time"] = ct
                r["user_id"] = "".join(random_hex(rng, 1, 24))
                r["sub_comment_count"] = "0"
                r["last_modify_ts"] = int(last["last_modify_ts"]) + 50 * (k + 1)
                r["content"], cls = negative(kws)
                added_rows.append(r)
                tr = truth.iloc[truth_of(last["comment_id"], nid)].to_dict()
                added_truth.append(
                    {**tr, "comment_id": r["comment_id"], "planted_class": cls, "is_planted_duplicate": False}
                )
            out.append(
                (
                    nid,
                    BRANDS[int(b)].brand,
                    (start_date + timedelta(days=lo)).isoformat(),
                    (start_date + timedelta(days=hi)).isoformat(),
                    max(len(own), NEGATIVE_WAVE_MIN_COMMENTS),
                )
            )
    if added_rows:
        rows = pd.concat([rows, pd.DataFrame(added_rows, columns=rows.columns)], ignore_index=True)
        rows = rows.sort_values(["folder", "day", "last_modify_ts"], kind="stable").reset_index(drop=True)
        truth = pd.concat([truth, pd.DataFrame(added_truth, columns=truth.columns)], ignore_index=True)
    return rows, truth, pd.DataFrame(out, columns=cols)
