"""The MediaCrawler files (after the comments): the `Layout` of each folder's files (json, jsonl or csv by day,
one re-run file without a date, the count abbreviation styles), the per-file record lists of the note, creator
and comment observations (`build_crawl_files`; the notes' ip locations from stream `dirt`), and their writing in
MediaCrawler's styles (`write_crawl_files`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kol_pipeline.lib.simulate.vocabulary import (
    CATEGORY_CN,
    COMMENT_FIELDS,
    CREATOR_FIELDS,
    FOLDERS,
    NOTE_FIELDS,
    SEARCH_FOLDER,
)
from kol_pipeline.lib.simulate.world import World


def _abbrev(values: np.ndarray, style: str) -> np.ndarray:
    """Format integer counts as MediaCrawler strings; style: exact | wan (1.2万) | w (2.3w) | search (10万+, 1.2k)."""
    v = np.asarray(values, dtype="int64")
    out = v.astype(str).astype(object)
    if style == "exact":
        return out
    if style in ("wan", "w"):
        big = v >= 10_000
        unit = "万" if style == "wan" else "w"
        for i in np.flatnonzero(big):
            s = f"{v[i] / 10_000:.1f}".rstrip("0").rstrip(".")
            out[i] = s + unit
        return out
    if style == "search":
        plus = v >= 100_000
        out[plus] = "10万+"
        k = (v >= 1_000) & (v < 10_000)
        for i in np.flatnonzero(k):
            out[i] = f"{v[i] / 1000:.1f}".rstrip("0").rstrip(".") + "k"
        for i in np.flatnonzero((v >= 10_000) & ~plus):
            out[i] = f"{v[i] / 10_000:.1f}".rstrip("0").rstrip(".") + "万"
        return out
    raise ValueError(style)


def _write_rows(path: Path, rows: list[dict[str, Any]], fields: Sequence[str], fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=4), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
        path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))
    else:  # pragma: no cover
        raise ValueError(fmt)


@dataclass(frozen=True)
class Layout:
    """File formats by folder and day: `fmt_a` (crawler_a's notes), `fmt_b` (crawler_b's notes and profiles, one
    random stream of its own), `fmt_ca` (crawler_a's profiles), `style_b` (crawler_b's count style); on
    `renamed_day` crawler_a's notes file has no date in its name (a re-run)."""

    rel_root: Path
    ds: Callable[[int], str]
    fmt_a: np.ndarray
    fmt_b: np.ndarray
    fmt_ca: np.ndarray
    style_b: np.ndarray
    renamed_day: int

    @classmethod
    def of(cls, out: Path, seed: int, D: int, ds: Callable[[int], str]) -> Layout:
        rel_root = out / "mediacrawler"
        fmt_rng = np.random.default_rng(np.random.SeedSequence([seed, 99]))
        dd_ = np.arange(D)
        fmt_a = np.where(dd_ < 2, "json", np.where(dd_ % 8 == 1, "jsonl", "csv"))
        fmt_b = np.where(fmt_rng.random(D) < 0.06, "json", np.where(dd_ % 7 == 2, "jsonl", "csv"))
        fmt_ca = np.where(np.arange(D) % 10 == 0, "jsonl", "csv")  # creator profiles of folder a
        style_b = np.where(fmt_b == "json", "w", "exact")
        renamed_day = D // 2  # one MediaCrawler file without a date in its name (re-run)
        return cls(rel_root, ds, fmt_a, fmt_b, fmt_ca, style_b, renamed_day)

    def note_file(self, f: int, d: int) -> tuple[Path, str, str]:
        """(path, format, count style) of the notes file of folder `f` (2: keyword_watch) on day `d`."""
        rel_root, ds, fmt_a, fmt_b, style_b = self.rel_root, self.ds, self.fmt_a, self.fmt_b, self.style_b
        if f == 2:
            fmt = "jsonl" if (d // 7) % 2 == 0 else "csv"
            return rel_root / SEARCH_FOLDER / f"search_contents_{ds(d)}.{fmt}", fmt, "search"
        if f == 0:
            name = f"creator_contents_{ds(d)}" if d != self.renamed_day else "creator_contents_rerun"
            return rel_root / FOLDERS[0] / f"{name}.{fmt_a[d]}", str(fmt_a[d]), "wan"
        return rel_root / FOLDERS[1] / f"creator_contents_{ds(d)}.{fmt_b[d]}", str(fmt_b[d]), str(style_b[d])

    def renamed_file(self) -> Path:
        return self.rel_root / FOLDERS[0] / f"creator_contents_rerun.{self.fmt_a[self.renamed_day]}"


def _note_files(
    files: dict[Path, dict[str, Any]], r_dirt: np.random.Generator, world: World, layout: Layout, obs: pd.DataFrame
) -> None:
    """The note observations' records, into `files` by path."""
    cr, nt = world.creators, world.notes
    user_ids, nicknames, avatar, prov = cr.user_ids, cr.nicknames, cr.avatar, cr.prov
    m, nc, note_ids, note_type, titles, descs = nt.m, nt.nc, nt.note_ids, nt.note_type, nt.titles, nt.descs
    videos, pub, edit_ms, images, tag_lists, tokens = nt.videos, nt.pub, nt.edit_ms, nt.images, nt.tag_lists, nt.tokens
    obs = obs.sort_values(["folder", "day", "ts", "seq", "note"], kind="stable").reset_index(drop=True)
    style_arr = np.empty(len(obs), dtype=object)
    path_arr = np.empty(len(obs), dtype=object)
    fmt_arr = np.empty(len(obs), dtype=object)
    for (f, d), idx in obs.groupby(["folder", "day"]).indices.items():
        p, fmt, st = layout.note_file(int(f), int(d))
        path_arr[idx] = p
        fmt_arr[idx] = fmt
        style_arr[idx] = st
    note_idx = obs["note"].to_numpy()
    cnt_str = {}
    for col in ("likes", "saves", "comments", "shares"):
        vals = obs[col].to_numpy()
        strs = vals.astype(str).astype(object)
        for st in ("wan", "w", "search"):
            sel = style_arr == st
            if sel.any():
                strs[sel] = _abbrev(vals[sel], st)
        cnt_str[col] = strs
    ip_note = np.where(r_dirt.random(m) < 0.5, prov[nc], "")
    records: list[dict[str, Any]] = []
    for r in range(len(obs)):
        j = int(note_idx[r])
        i = int(nc[j])
        records.append(
            {
                "note_id": note_ids[j],
                "type": str(note_type[j]),
                "title": titles[j],
                "desc": descs[j],
                "video_url": videos[j],
                "time": int(pub[j]),
                "last_update_time": int(pub[j] + edit_ms[j]),
                "user_id": user_ids[i],
                "nickname": nicknames[i],
                "avatar": avatar[i],
                "liked_count": cnt_str["likes"][r],
                "collected_count": cnt_str["saves"][r],
                "comment_count": cnt_str["comments"][r],
                "share_count": cnt_str["shares"][r],
                "ip_location": str(ip_note[j]),
                "image_list": images[j],
                "tag_list": tag_lists[j],
                "last_modify_ts": int(obs.at[r, "ts"]),
                "note_url": f"https://www.xiaohongshu.com/explore/{note_ids[j]}?xsec_token={tokens[j]}&xsec_source=pc_user",
                "source_keyword": obs.at[r, "source_keyword"],
                "xsec_token": tokens[j],
            }
        )
    for r, rec in enumerate(records):
        key = path_arr[r]
        files.setdefault(key, {"fmt": fmt_arr[r], "fields": NOTE_FIELDS, "rows": [], "kind": "notes"})["rows"].append(
            rec
        )


def _creator_files(files: dict[Path, dict[str, Any]], world: World, layout: Layout, cobs: pd.DataFrame) -> None:
    """The creator observations' profile records, into `files` by path."""
    cr, ds, rel_root, fmt_ca, fmt_b = world.creators, layout.ds, layout.rel_root, layout.fmt_ca, layout.fmt_b
    user_ids, nicknames, gender, avatar, bios, prov, cats = (
        cr.user_ids,
        cr.nicknames,
        cr.gender,
        cr.avatar,
        cr.bios,
        cr.prov,
        cr.cats,
    )
    cobs = cobs.sort_values(["folder", "day", "ts"], kind="stable").reset_index(drop=True)
    for (f, d), idx in cobs.groupby(["folder", "day"]).indices.items():
        f, d = int(f), int(d)
        if f == 0:
            fmt, st = str(fmt_ca[d]), "wan"
        else:
            fmt, st = str(fmt_b[d]), ("exact" if fmt_b[d] == "csv" else "w")
        sub = cobs.iloc[idx]
        fans_s = _abbrev(sub["fans"].to_numpy(), st)
        inter_s = _abbrev(sub["interaction"].to_numpy().astype("int64"), st)
        p = rel_root / FOLDERS[f] / f"creator_creator_{ds(d)}.{fmt}"
        rows = []
        for k, (ci, ts, fo) in enumerate(zip(sub["creator"], sub["ts"], sub["follows"])):
            ci = int(ci)
            rows.append(
                {
                    "user_id": user_ids[ci],
                    "nickname": nicknames[ci],
                    "gender": str(gender[ci]),
                    "avatar": avatar[ci],
                    "desc": bios[ci],
                    "ip_location": str(prov[ci]),
                    "follows": str(int(fo)),
                    "fans": fans_s[k],
                    "interaction": inter_s[k],
                    "tag_list": json.dumps(
                        {"info": None, "location": str(prov[ci]), "profession": f"{CATEGORY_CN[cats[ci]]}博主"},
                        ensure_ascii=False,
                    ),
                    "last_modify_ts": int(ts),
                }
            )
        files[p] = {"fmt": fmt, "fields": CREATOR_FIELDS, "rows": rows, "kind": "creators"}


def _comment_files(files: dict[Path, dict[str, Any]], layout: Layout, com_rows: pd.DataFrame) -> None:
    """The comment rows, into `files` by path."""
    ds, rel_root = layout.ds, layout.rel_root
    for (f, d), grp in com_rows.groupby(["folder", "day"]).indices.items() if len(com_rows) else []:
        f, d = int(f), int(d)
        fmt = "jsonl" if f == 0 or d % 2 == 0 else "csv"
        p = rel_root / FOLDERS[f] / f"creator_comments_{ds(d)}.{fmt}"
        sub = com_rows.iloc[grp]
        files[p] = {
            "fmt": fmt,
            "fields": COMMENT_FIELDS,
            "rows": sub[list(COMMENT_FIELDS)].to_dict("records"),
            "kind": "comments",
        }


def build_crawl_files(
    r_dirt: np.random.Generator,
    world: World,
    layout: Layout,
    obs: pd.DataFrame,
    cobs: pd.DataFrame,
    com_rows: pd.DataFrame,
) -> dict[Path, dict[str, Any]]:
    """Every MediaCrawler file's spec by path: {"fmt", "fields", "rows", "kind"} (notes, creators, comments)."""
    files: dict[Path, dict[str, Any]] = {}
    _note_files(files, r_dirt, world, layout, obs)
    _creator_files(files, world, layout, cobs)
    _comment_files(files, layout, com_rows)
    return files


def write_crawl_files(files: dict[Path, dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """Write every file (in path order); returns (files by kind, rows by kind)."""
    summary_files: dict[str, int] = {}
    summary_rows: dict[str, int] = {}
    for p in sorted(files):
        spec = files[p]
        _write_rows(p, spec["rows"], spec["fields"], spec["fmt"])
        summary_files[spec["kind"]] = summary_files.get(spec["kind"], 0) + 1
        summary_rows[spec["kind"]] = summary_rows.get(spec["kind"], 0) + len(spec["rows"])
    return summary_files, summary_rows
