"""MediaCrawler rows -> cleaned `notes`, `creators`, `comments` and `quarantine`, with exact row accounting.

Order of operations for every source file (files and database tables alike):
1. read records (lib/ingest/readers.py); unparseable records are problems -> quarantine;
2. parse ids, times and counts vectorized; the first failing rule is the row's quarantine reason;
3. each row belongs to the Asia/Shanghai day of its crawl time (`last_modify_ts`); rows whose crawl time is
   unusable are quarantined in the partition of the file name's date, else the file's most common crawl day;
4. rows outside the requested day range are not this run's business (not counted);
5. one row per (id, day): the latest crawl wins, ties broken by file and record order; the rest are duplicates.
For each file and day: read = kept + duplicates + quarantined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from kol_pipeline.lib.ingest import parsing, text
from kol_pipeline.lib.ingest.comments import classify_comments
from kol_pipeline.lib.ingest.discovery import KINDS, discover
from kol_pipeline.lib.ingest.fastread import ColumnarRecords, read_jsonl_fast
from kol_pipeline.lib.ingest.readers import FileRecords, read_records
from kol_pipeline.lib.ingest.sentiment import classify_sentiment
from kol_pipeline.lib.order import renumbered, sort_key, stable_order
from kol_pipeline.lib.schemas import QUARANTINE, TABLES, arrow_text
from kol_pipeline.lib.settings import DEFAULT_TIER_BOUNDS, Lexicon, load_lexicon, tier_of

DB_TABLES = {"notes": "xhs_note", "comments": "xhs_note_comment", "creators": "xhs_creator"}
REQUIRED = {
    "notes": (
        "note_id",
        "user_id",
        "time",
        "last_modify_ts",
        "liked_count",
        "collected_count",
        "comment_count",
        "share_count",
    ),
    "comments": ("comment_id", "note_id", "content", "create_time", "last_modify_ts"),
    "creators": ("user_id", "fans", "follows", "interaction", "last_modify_ts"),
}
ID_COLUMN = {"notes": "note_id", "comments": "comment_id", "creators": "user_id"}
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass
class IngestContext:
    """What cleaning needs besides the rows: reference data and configuration."""

    categories: pd.DataFrame | None = None
    brands: pd.DataFrame | None = None
    lexicon: Lexicon = field(default_factory=load_lexicon)
    tier_bounds: tuple[int, int, int, int] = DEFAULT_TIER_BOUNDS
    now: datetime | None = None


@dataclass
class IngestResult:
    """The cleaned tables (notes, creators, comments: the schema's columns, text as Arrow strings, see
    `schemas.arrow_text`), the quarantined rows, the row accounting per file and day, and notes per file."""

    notes: pd.DataFrame
    creators: pd.DataFrame
    comments: pd.DataFrame
    quarantine: pd.DataFrame
    accounting: pd.DataFrame  # source_file, kind, snapshot_date, read, kept, duplicates, quarantined
    file_notes: dict[str, list[str]]

    def table(self, kind: str) -> pd.DataFrame:
        return getattr(self, kind)


# ---------------------------------------------------------------- landing discovery


def landing_files(landing: Path) -> dict[str, list[Path]]:
    """MediaCrawler XHS files under landing/mediacrawler/** (or the landing folder itself when it has no
    `mediacrawler/` subfolder: a crawl's data folder can be pointed at directly), by kind, sorted by path. A
    workbook is listed under each kind it has a sheet for. What is not read is `discovery.discover(...).skipped`."""
    return discover(landing).files


def relative_name(path: Path, landing: Path) -> str:
    try:
        return path.relative_to(landing).as_posix()
    except ValueError:
        return path.as_posix()


# ---------------------------------------------------------------- records -> frame


def records_frame(fr: FileRecords) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows as a frame with _file/_record, problems as quarantine-shaped rows without snapshot_date).

    Columns are object columns holding each record's own values (no dtype inferred over the batch, which turned
    integers into floats where another record lacked the key: an integer id 123 became "123.0"), so a row is
    cleaned the same whichever other rows share its batch (the fast path splits batches, see lib/ingest/fastclean.py)."""
    rows = pd.DataFrame(fr.records, dtype=object) if fr.records else pd.DataFrame()
    rows["_file"] = fr.path
    rows["_record"] = np.asarray(fr.record_numbers, dtype="int64")
    rows["_rawdict"] = pd.Series(fr.records, index=rows.index, dtype=object) if fr.records else pd.Series(dtype=object)
    rows["_hint"] = fr.fallback_day
    probs = pd.DataFrame(
        {
            "source_file": [fr.path] * len(fr.problems),
            "record_number": [p.record_number for p in fr.problems],
            "reason": [p.reason for p in fr.problems],
            "raw": [p.raw for p in fr.problems],
        }
    )
    return rows, probs


def _raw_json(d: Any) -> str:
    try:
        return json.dumps(d, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(d)


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)


def _str(df: pd.DataFrame, name: str) -> pd.Series:
    s = _col(df, name)
    return s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)).astype(object)


def _missing_columns_reason(df: pd.DataFrame, kind: str) -> pd.Series:
    missing = [c for c in REQUIRED[kind] if c not in df.columns]
    reason = f"missing column(s) {', '.join(missing)}" if missing else None
    return pd.Series([reason] * len(df), index=df.index, dtype=object)


def _fallback_day(df: pd.DataFrame, day: pd.Series) -> pd.Series:
    """Partition for rows without a usable crawl time: file-name date, else the file's most common crawl day."""
    out = day.copy()
    need = out.isna()
    if not need.any():
        return out
    if "_hint" in df.columns:  # a day decided for the whole file (lib/ingest/landing.py) wins
        out = out.where(~need | df["_hint"].isna(), df["_hint"])
        need = out.isna()
    for f in df.loc[need, "_file"].unique():
        sel = need & (df["_file"] == f)
        hint = parsing.date_from_name(Path(f).name)
        if hint is None:
            valid = day[(df["_file"] == f) & day.notna()]
            hint = valid.mode().iloc[0] if len(valid) else None
        out[sel] = hint
    return out


def clean(kind: str, df: pd.DataFrame, ctx: IngestContext) -> tuple[pd.DataFrame, pd.Series]:
    """Parse and enrich raw rows of one kind. Returns (frame with the table's columns + _file/_record/_rawdict,
    reason per row: None where the row is fine)."""
    now = pd.Timestamp(ctx.now or datetime.now(UTC))
    reasons = [_missing_columns_reason(df, kind)]
    crawled, r_crawl = parsing.parse_epoch_ms(_col(df, "last_modify_ts"), "last_modify_ts")
    future = crawled > now + FUTURE_TOLERANCE
    r_future = pd.Series(
        np.where(future.fillna(False), "last_modify_ts is in the future", None), index=df.index, dtype=object
    )
    out = pd.DataFrame(index=df.index)
    if kind == "notes":
        reasons += [
            parsing.check_ids(_col(df, "note_id"), "note_id"),
            parsing.check_ids(_col(df, "user_id"), "user_id"),
        ]
        published, r_pub = parsing.parse_epoch_ms(_col(df, "time"), "time")
        reasons += [r_crawl, r_future, r_pub]
        counts = {}
        for src, dst in (
            ("liked_count", "likes"),
            ("collected_count", "saves"),
            ("comment_count", "comments"),
            ("share_count", "shares"),
        ):
            counts[dst], r = parsing.parse_counts(_col(df, src), src)
            reasons.append(r)
        after = (published > crawled).fillna(False)
        reasons.append(
            pd.Series(np.where(after, "published_at is after crawled_at", None), index=df.index, dtype=object)
        )
        out["note_id"] = _str(df, "note_id").str.strip()
        out["user_id"] = _str(df, "user_id").str.strip()
        out["nickname"] = _str(df, "nickname")
        ntype = _str(df, "type").fillna("normal").str.strip().str.lower()
        out["note_type"] = ntype.where(ntype.isin(["normal", "video"]), "normal")
        out["title"] = _str(df, "title").fillna("")
        out["description"] = _str(df, "desc").fillna("")
        out["tags"] = parsing.split_tags(_col(df, "tag_list"))
        out["published_at"] = published
        out["crawled_at"] = crawled
        for k, v in counts.items():
            out[k] = v
        out["engagements"] = out["likes"] + out["saves"] + out["comments"] + out["shares"]
        body = text.note_text(out["title"], out["description"], out["tags"])
        out["category"] = text.categorize(out["title"], out["description"], out["tags"], ctx.categories)
        out["brands"] = text.brands_mentioned(body, ctx.brands)
        out["is_disclosed"] = text.disclosed(body, ctx.lexicon.disclosure_markers)
    elif kind == "creators":
        reasons += [parsing.check_ids(_col(df, "user_id"), "user_id"), r_crawl, r_future]
        followers, r1 = parsing.parse_counts(_col(df, "fans"), "fans")
        following, r2 = parsing.parse_counts(_col(df, "follows"), "follows")
        inter, r3 = parsing.parse_counts(_col(df, "interaction"), "interaction")
        reasons += [r1, r2, r3]
        out["user_id"] = _str(df, "user_id").str.strip()
        out["nickname"] = _str(df, "nickname")
        out["gender"] = _str(df, "gender")
        out["followers"] = followers
        out["following"] = following
        out["likes_and_saves_total"] = inter
        out["tier"] = tier_of(followers, ctx.tier_bounds)
        out["crawled_at"] = crawled
    elif kind == "comments":
        reasons += [
            parsing.check_ids(_col(df, "comment_id"), "comment_id"),
            parsing.check_ids(_col(df, "note_id"), "note_id"),
        ]
        created, r_created = parsing.parse_epoch_ms(_col(df, "create_time"), "create_time")
        reasons += [r_crawl, r_future, r_created]
        likes = _col(df, "like_count")
        like_count, r_like = parsing.parse_counts(
            likes.where(likes.notna() & (likes.astype(str) != ""), "0"), "like_count"
        )
        subs = _col(df, "sub_comment_count")
        sub_count, r_sub = parsing.parse_counts(
            subs.where(subs.notna() & (subs.astype(str) != ""), "0"), "sub_comment_count"
        )
        reasons += [r_like, r_sub]
        after = (created > crawled).fillna(False)
        reasons.append(
            pd.Series(np.where(after, "create_time is after crawled_at", None), index=df.index, dtype=object)
        )
        out["comment_id"] = _str(df, "comment_id").str.strip()
        out["note_id"] = _str(df, "note_id").str.strip()
        out["user_id"] = _str(df, "user_id")
        parent = _str(df, "parent_comment_id").str.strip()
        out["parent_comment_id"] = parent.where(~parent.isin(["", "0", "None", "null"]) & parent.notna(), None)
        out["content"] = _str(df, "content").fillna("")
        out["created_at"] = created
        out["like_count"] = like_count
        out["sub_comment_count"] = sub_count
        out["comment_class"] = classify_comments(out["content"], ctx.lexicon)
        out["is_substantive"] = out["comment_class"] != "low_effort"
        out["crawled_at"] = crawled
    out["source_file"] = df["_file"]
    day = parsing.shanghai_date(crawled).where(crawled.notna(), None)
    out["snapshot_date"] = _fallback_day(df, day)
    out["_file"] = df["_file"]
    out["_record"] = df["_record"]
    out["_rawdict"] = df["_rawdict"]
    return out, parsing.first_reason(*reasons)


def _quarantine_rows(kind: str, frame: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """The rejected rows as quarantine rows. Only rows cleaned from dicts are rejected (the fast path's rows are
    certainly fine and no rule after cleaning rejects a row), so each has its record in `_rawdict`."""
    raw = (
        frame["_rawdict"].map(_raw_json).to_numpy()
        if "_rawdict" in frame.columns
        else np.full(len(frame), None, dtype=object)
    )
    return pd.DataFrame(
        {
            "source": kind,
            "source_file": frame["_file"].to_numpy(),
            "record_number": frame["_record"].astype("int64").to_numpy(),
            "reason": reasons.to_numpy(),
            "raw": raw,
            "snapshot_date": frame["snapshot_date"].to_numpy(),
        }
    )


def _in_range(days: pd.Series, start: date | None, end: date | None) -> pd.Series:
    """True where the day is not null and within [start, end] (each bound optional). Decided once per distinct
    day (a per-row test cost 1 s over the 1M-note day's 3.2 M rows)."""
    if start is None and end is None:
        return pd.Series(True, index=days.index)
    codes, uniq = pd.factorize(days, use_na_sentinel=True)
    ok_uniq = np.array(
        [d is not None and (start is None or d >= start) and (end is None or d <= end) for d in uniq], dtype=bool
    )
    ok = ok_uniq[codes] & (codes >= 0) if len(uniq) else np.zeros(len(days), dtype=bool)
    return pd.Series(ok, index=days.index)


def dedupe(frame: pd.DataFrame, id_col: str) -> tuple[pd.DataFrame, pd.Series]:
    """Latest crawl of the day wins (ties: later file and record). Returns (kept, duplicate mask on input)."""
    _, dup = latest_positions(frame, id_col, np.arange(len(frame)))
    dup_mask = pd.Series(dup, index=frame.index)
    return (frame if not dup.any() else frame[~dup]), dup_mask


def latest_positions(
    frame: pd.DataFrame, id_col: str, rows: np.ndarray, order: Sequence[str] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """`dedupe` by positions, without copying the frame: among the frame positions `rows`, the positions kept
    (the latest crawl of each (id, day); ties: later file and record), and a mask over the whole frame of the
    rows dropped as duplicates. The kept positions are in frame order, or sorted by `order` (columns, ascending,
    nulls last, as `stable_order`). Every key is computed once over the whole frame (`sort_key`), so the frame is
    never copied in crawl order (a copy per filter and sort of the 1M-note day's 2M comments cost seconds)."""
    dup = np.zeros(len(frame), dtype=bool)
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) == 0:
        return rows, dup
    try:
        ids = sort_key(frame[id_col])
        days = sort_key(frame["snapshot_date"])
        crawl = [sort_key(frame[c]) for c in ("crawled_at", "_file", "_record")]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, UnicodeEncodeError):
        sub = frame.iloc[rows]  # mixed types: pandas decides (stable_order's fallback)
        pos = stable_order(sub, ["crawled_at", "_file", "_record"])
        pair = sub[[id_col, "snapshot_date"]].take(pos)
        dup_sorted = pair.duplicated(keep="last").to_numpy()
        dup_sub = np.empty(len(rows), dtype=bool)
        dup_sub[pos] = dup_sorted
        dup[rows] = dup_sub
        kept = rows[~dup_sub]
        return (kept.take(stable_order(frame.iloc[kept], list(order))) if order else kept), dup
    in_crawl_order = rows[np.lexsort([k[rows] for k in crawl[::-1]])]
    n_days = int(days.max()) + 1
    pair = ids[in_crawl_order].astype(np.int64) * (n_days + 1) + days[in_crawl_order]
    dup_sorted = pd.Series(pair).duplicated(keep="last").to_numpy()
    dup[in_crawl_order[dup_sorted]] = True
    kept = rows[~dup[rows]]
    if order:
        keys = {id_col: ids, "snapshot_date": days}
        kept = kept[np.lexsort([(keys[c] if c in keys else sort_key(frame[c]))[kept] for c in order[::-1]])]
    return kept, dup


def _problem_frame(probs: pd.DataFrame, path: str, days_in_file: pd.Series) -> pd.DataFrame:
    """Unparseable records go to the partition of the file name's date, else the file's most common crawl day."""
    hint = parsing.date_from_name(Path(path).name)
    if hint is None:
        valid = days_in_file.dropna()
        hint = valid.mode().iloc[0] if len(valid) else None
    return probs.assign(snapshot_date=hint)


def ingest_batches(
    batches: Iterable[tuple[str, FileRecords]],
    ctx: IngestContext,
    start: date | None = None,
    end: date | None = None,
) -> IngestResult:
    """Clean batches of records (kind, FileRecords), keeping rows of days in [start, end].

    A `fastread.ColumnarRecords` batch (large JSON lines files) is split: its ordinary rows are cleaned by
    `fastclean.clean_fast`, the others (and every row the fast path is not sure of) are read as dicts and go
    through `clean` with the rest; the batch-wide rules (missing columns, a file's fallback day) see all rows."""
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in KINDS}
    reasons: dict[str, list[pd.Series]] = {k: [] for k in KINDS}
    fast_parts: dict[str, list[pd.DataFrame]] = {k: [] for k in KINDS}
    problems: list[pd.DataFrame] = []
    file_notes: dict[str, list[str]] = {}
    hints: dict[str, date] = {}
    ctx = replace(ctx, now=ctx.now or datetime.now(UTC))
    for kind, fr in batches:
        if isinstance(fr, ColumnarRecords) and fr.frame is not None and len(fr.frame):
            fr = _split_fast(kind, fr, ctx, fast_parts)
        if fr.notes:
            file_notes[fr.path] = list(fr.notes)
        rows, probs = records_frame(fr)
        if fr.fallback_day is not None:
            hints[fr.path] = fr.fallback_day
        if len(rows):
            parts[kind].append(rows)
        if len(probs):
            problems.append(probs.assign(source=kind))

    # clean each kind in one vectorized pass over all its files
    for kind in KINDS:
        if parts[kind]:
            raw = pd.concat(parts[kind], ignore_index=True)
            if fast_parts[kind]:  # the fast rows have every required field: the batch has these columns
                for c in REQUIRED[kind]:
                    if c not in raw.columns:
                        raw[c] = pd.Series([np.nan] * len(raw), index=raw.index, dtype=object)
            frame, why = clean(kind, raw, ctx)
            parts[kind], reasons[kind] = [arrow_text(frame, TABLES[kind])], [why]
        if fast_parts[kind]:
            fast = [f for f in fast_parts[kind] if len(f)]
            frames = [*parts[kind], *fast]
            if frames:
                # the reasons as one object array: pd.concat would test every None of the fast rows for being NA
                # (3.3 s of the 1M day's 3.1 M rows)
                why_all = [
                    *(r.to_numpy(dtype=object) for r in reasons[kind]),
                    *(np.full(len(f), None, dtype=object) for f in fast),
                ]
                if len(frames) > 1:
                    parts[kind] = [pd.concat(frames, ignore_index=True)]
                else:
                    parts[kind] = [renumbered(frames[0])]
                reasons[kind] = [
                    pd.Series(np.concatenate(why_all) if why_all else np.empty(0, dtype=object), dtype=object)
                ]
            # the per-file frames are not kept beside their concatenation (its number columns are copies)
            fast_parts[kind] = fast = frames = []
    # rows with no usable crawl time in a file that gives no day either (no date in its name, no valid row):
    # filed under the run's first day (else the earliest day seen) so they are quarantined and counted, never lost
    seen = [d for k in KINDS if parts[k] for d in parts[k][0]["snapshot_date"].dropna().unique()]
    undated_day = start or (min(seen) if seen else None)
    for kind in KINDS:
        if parts[kind]:
            frame = parts[kind][0]
            miss = frame["snapshot_date"].isna()
            if miss.any() and undated_day is not None:
                frame.loc[miss, "snapshot_date"] = undated_day
                for f in frame.loc[miss, "_file"].unique():
                    file_notes.setdefault(f, []).append(
                        f"rows without a usable crawl time and no date to file them under: quarantined under {undated_day}"
                    )
    if problems:
        day_frames = [parts[k][0][["_file", "snapshot_date"]] for k in KINDS if parts[k]]
        file_days = pd.concat(day_frames) if day_frames else pd.DataFrame(columns=["_file", "snapshot_date"])
        fixed = []
        for pf in problems:
            f = pf["source_file"].iloc[0]
            pf = (
                pf.assign(snapshot_date=hints[f])
                if f in hints
                else _problem_frame(pf, f, file_days.loc[file_days["_file"] == f, "snapshot_date"])
            )
            if pf["snapshot_date"].isna().any():
                file_notes.setdefault(f, []).append(
                    "unreadable content and no date to file it under (no date in the file name, no valid row): "
                    "quarantined under the run's first day"
                )
                pf["snapshot_date"] = pf["snapshot_date"].where(pf["snapshot_date"].notna(), start)
            fixed.append(pf)
        problems = fixed

    tables: dict[str, pd.DataFrame] = {}
    quarantine: list[pd.DataFrame] = []
    accounting: list[pd.DataFrame] = []
    for kind in ("notes", "creators", "comments"):
        spec = TABLES[kind]
        if not parts[kind]:
            tables[kind] = spec.empty_frame()
            continue
        frame = pd.concat(parts[kind], ignore_index=True) if len(parts[kind]) > 1 else parts[kind][0]
        why = pd.concat(reasons[kind], ignore_index=True) if len(reasons[kind]) > 1 else reasons[kind][0]
        # masks and positions over the whole frame; the table's rows are taken once, in (id, day) order
        inr = _in_range(frame["snapshot_date"], start, end).to_numpy()
        bad = why.notna().to_numpy() & inr
        if bad.any():
            quarantine.append(_quarantine_rows(kind, frame[bad], why[bad]))
        kept, dup = latest_positions(
            frame, ID_COLUMN[kind], np.flatnonzero(inr & ~bad), order=[ID_COLUMN[kind], "snapshot_date"]
        )
        in_range = np.flatnonzero(inr)
        kept_mask = np.zeros(len(frame), dtype=bool)
        kept_mask[kept] = True
        accounting.append(
            pd.DataFrame(
                {
                    "source_file": frame["_file"].to_numpy()[in_range],
                    "kind": kind,
                    "snapshot_date": frame["snapshot_date"].to_numpy()[in_range],
                    "read": 1,
                    "kept": kept_mask[in_range].astype(int),
                    "duplicates": dup[in_range].astype(int),
                    "quarantined": bad[in_range].astype(int),
                }
            )
        )
        tables[kind] = renumbered(frame.reindex(columns=spec.column_names).take(kept))
        if kind == "comments":  # comments.sentiment of the kept rows of both cleaning paths (lib/ingest/sentiment.sql)
            tables[kind]["sentiment"] = classify_sentiment(tables[kind]["content"], ctx.lexicon)
        # this kind's rows are now in its table: its cleaned frame and the reader's batches (whose text buffers
        # the frame shares) are let go before the next kind is built (peak memory of the ingest step, issue #6)
        parts[kind], reasons[kind] = [], []
        del frame, why
    if problems:
        pq = pd.concat(problems, ignore_index=True)
        pq = pq[_in_range(pq["snapshot_date"], start, end)]
        quarantine.append(pq[QUARANTINE.column_names])
        # a record that could not be parsed was read and quarantined; record 0 stands for a whole unreadable file
        counted = (pq["record_number"] > 0).astype(int)
        accounting.append(
            pd.DataFrame(
                {
                    "source_file": pq["source_file"],
                    "kind": pq["source"],
                    "snapshot_date": pq["snapshot_date"],
                    "read": counted,
                    "kept": 0,
                    "duplicates": 0,
                    "quarantined": counted,
                }
            )
        )
    acc_cols = ["source_file", "kind", "snapshot_date", "read", "kept", "duplicates", "quarantined"]
    acc_all = pd.concat(accounting, ignore_index=True) if accounting else pd.DataFrame(columns=acc_cols)
    if len(acc_all):
        acc_all = acc_all.groupby(["source_file", "kind", "snapshot_date"], as_index=False)[acc_cols[3:]].sum()
    non_empty = [q for q in quarantine if len(q)]
    q = pd.concat(non_empty, ignore_index=True)[QUARANTINE.column_names] if non_empty else QUARANTINE.empty_frame()
    if len(q):
        q = q.sort_values(["snapshot_date", "source_file", "record_number"], kind="mergesort").reset_index(drop=True)
    return IngestResult(
        notes=tables["notes"],
        creators=tables["creators"],
        comments=tables["comments"],
        quarantine=q,
        accounting=acc_all,
        file_notes=file_notes,
    )


def _split_fast(
    kind: str, fr: ColumnarRecords, ctx: IngestContext, fast_parts: dict[str, list[pd.DataFrame]]
) -> FileRecords:
    """Clean the ordinary rows of a columnar batch (into fast_parts); return the batch's other rows as dicts."""
    from kol_pipeline.lib.ingest import fastclean

    fast, slow = fastclean.clean_fast(kind, fr.frame, fr.path, ctx, pd.Timestamp(ctx.now))
    fast_parts[kind].append(fast)
    numbers = fr.frame["_record"].to_numpy(dtype="int64")[slow]
    loaded = fr.load_records(numbers)
    records = list(fr.records) + [loaded[int(n)] for n in numbers]
    record_numbers = list(fr.record_numbers) + [int(n) for n in numbers]
    hint = fr.fallback_day
    if hint is None:  # the fallback day of the whole file (as `_fallback_day` finds it over all its rows)
        hint = parsing.date_from_name(Path(fr.path).name)
    if hint is None:
        day_no = (
            fastclean.crawl_days(fr.frame["last_modify_ts"])
            if "last_modify_ts" in fr.frame.columns
            else pd.Series([], dtype="int64")
        )
        extra = [r.get("last_modify_ts") for r in fr.records]
        if extra:
            ts, _ = parsing.parse_epoch_ms(pd.Series(extra, dtype=object), "last_modify_ts")
            extra_days = [(d - date(1970, 1, 1)).days for d in parsing.shanghai_date(ts[ts.notna()])]
            day_no = pd.concat([day_no, pd.Series(extra_days, dtype="int64")], ignore_index=True)
        day_no = day_no[day_no >= 0]
        if len(day_no):
            counts = day_no.value_counts()
            hint = date(1970, 1, 1) + timedelta(days=int(counts[counts == counts.max()].index.min()))
    return FileRecords(
        path=fr.path,
        records=records,
        record_numbers=record_numbers,
        problems=list(fr.problems),
        encoding=fr.encoding,
        notes=list(fr.notes),
        fallback_day=hint,
    )


# ---------------------------------------------------------------- sources


def file_batches(
    landing: Path, kinds: Sequence[str] = KINDS, files: Sequence[Path] | None = None, min_bytes: int | None = None
) -> list[tuple[str, FileRecords]]:
    """Read every MediaCrawler file of the landing folder (or the given subset). With `min_bytes`, JSON lines files
    of at least that size are read by the fast reader (lib/ingest/fastread.py) and cleaned by the fast path."""
    by_kind = landing_files(landing)
    out: list[tuple[str, FileRecords]] = []
    wanted = set(files) if files is not None else None
    for kind in kinds:
        for p in by_kind[kind]:
            if wanted is not None and p not in wanted:
                continue
            name = relative_name(p, landing)
            out.append(
                (kind, read_records(p, name, kind) if min_bytes is None else read_jsonl_fast(p, name, kind, min_bytes))
            )
    return out


def day_bounds_ms(start: date, end: date) -> tuple[int, int]:
    """[start 00:00, end+1 00:00) Asia/Shanghai as epoch milliseconds."""
    lo = pd.Timestamp(start, tz=parsing.SHANGHAI)
    hi = pd.Timestamp(end + timedelta(days=1), tz=parsing.SHANGHAI)
    return int(lo.timestamp() * 1000), int(hi.timestamp() * 1000)


# Table names are fixed here, never formatted from input; the bounds are bound parameters. A row is selected by its
# crawl time in epoch ms, or in epoch seconds (an export variant, scaled by parsing.parse_epoch_ms), or, when its
# crawl time is unusable (NULL, <= 0, beyond a timestamp), by its insert time `add_ts` (`db_record_days`).
_IN_RANGE = "(last_modify_ts >= :lo AND last_modify_ts < :hi) OR (last_modify_ts >= :lo_s AND last_modify_ts < :hi_s)"
_BY_ADD_TS = (
    "(last_modify_ts IS NULL OR last_modify_ts <= 0 OR last_modify_ts > :max_ms) AND add_ts >= :lo AND add_ts < :hi"
)
_DB_QUERIES = {kind: f"SELECT * FROM {table} WHERE {_IN_RANGE}" for kind, table in DB_TABLES.items()}
_DB_QUERIES_ADD_TS = {
    kind: f"SELECT * FROM {table} WHERE {_IN_RANGE} OR ({_BY_ADD_TS})" for kind, table in DB_TABLES.items()
}
_DB_QUERIES_ALL = {kind: f"SELECT * FROM {table}" for kind, table in DB_TABLES.items()}


def numeric_crawl_time(insp: Any, table: str) -> bool | None:
    """Whether `table`'s last_modify_ts is a number column (None: no such table or column). A text column (a table
    written from CSV) cannot be compared with numbers in SQL on every server: callers read it and parse it here."""
    import sqlalchemy as sa

    if not insp.has_table(table):
        return None
    types = {c["name"]: c["type"] for c in insp.get_columns(table)}
    col_type = types.get("last_modify_ts")
    if col_type is None:
        return None
    return isinstance(col_type, (sa.Integer, sa.Numeric)) and isinstance(
        types.get("add_ts", sa.Integer()), (sa.Integer, sa.Numeric)
    )


def db_record_days(last_modify_ts: Sequence[Any], add_ts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(day number of each database row, whether it came from `add_ts`): the Asia/Shanghai day of its crawl time,
    or, where that is unusable, of its insert time `add_ts` (MediaCrawler sets it when it stores the row), so that
    the row is quarantined in that day's partition instead of never being selected; -1 where neither is usable."""
    crawled, _ = parsing.parse_epoch_ms(pd.Series(list(last_modify_ts), dtype=object), "last_modify_ts")
    added, _ = parsing.parse_epoch_ms(pd.Series(list(add_ts), dtype=object), "add_ts")
    by_crawl = parsing.shanghai_day_numbers(crawled)
    by_add = parsing.shanghai_day_numbers(added)
    fallback = by_crawl < 0
    return np.where(fallback, by_add, by_crawl), fallback & (by_add >= 0)


def db_batches(engine: Any, start: date, end: date, kinds: Sequence[str] = KINDS) -> list[tuple[str, FileRecords]]:
    """Rows of MediaCrawler's db mode tables of the days [start, end] (Asia/Shanghai; `db_record_days`), read-only.
    Rows placed by their `add_ts` come as batches of their own whose `fallback_day` is that day."""
    import sqlalchemy as sa

    lo, hi = day_bounds_ms(start, end)
    params = {"lo": lo, "hi": hi, "lo_s": lo // 1000, "hi_s": -(-hi // 1000), "max_ms": parsing.MAX_EPOCH_MS}
    first = (start - date(1970, 1, 1)).days
    last = (end - date(1970, 1, 1)).days
    out: list[tuple[str, FileRecords]] = []
    insp = sa.inspect(engine)
    with engine.connect() as conn:
        for kind in kinds:
            table = DB_TABLES[kind]
            if not insp.has_table(table):
                continue
            numeric = numeric_crawl_time(insp, table)
            has_add = any(c["name"] == "add_ts" for c in insp.get_columns(table))
            if numeric:
                res = conn.execute(sa.text((_DB_QUERIES_ADD_TS if has_add else _DB_QUERIES)[kind]), params)
            else:
                # last_modify_ts is not a number column (e.g. a table written by pandas.to_sql from CSV: TEXT):
                # PostgreSQL cannot compare it with a number, so read the table and keep the range's rows here.
                res = conn.execute(sa.text(_DB_QUERIES_ALL[kind]))
            cols = list(res.keys())
            records, numbers = [], []
            for i, row in enumerate(res, start=1):
                rec = {c: (v.decode() if isinstance(v, bytes) else v) for c, v in zip(cols, row)}
                records.append(rec)
                numbers.append(int(rec["id"]) if rec.get("id") is not None and str(rec["id"]).isdigit() else i)
            days, by_add = db_record_days(
                [r.get("last_modify_ts") for r in records], [r.get("add_ts") for r in records]
            )
            keep = (days >= first) & (days <= last)
            main = FileRecords(path=f"db:{table}")
            placed: dict[int, FileRecords] = {}
            for rec, num, day, fb, k in zip(records, numbers, days, by_add, keep):
                if not k:
                    continue
                fr = (
                    main
                    if not fb
                    else placed.setdefault(
                        int(day),
                        FileRecords(path=f"db:{table}", fallback_day=date(1970, 1, 1) + timedelta(days=int(day))),
                    )
                )
                fr.records.append(rec)
                fr.record_numbers.append(num)
            out += [(kind, fr) for fr in (main, *placed.values())]
    return out


def crawl_days(batches: Iterable[tuple[str, FileRecords]]) -> dict[date, int]:
    """Rows per Asia/Shanghai crawl day over batches (unusable crawl times are left out): finds the partitions."""
    counts: dict[date, int] = {}
    for _, fr in batches:
        if not fr.records:
            continue
        ts, _ = parsing.parse_epoch_ms(
            pd.Series([r.get("last_modify_ts") for r in fr.records], dtype=object), "last_modify_ts"
        )
        days = parsing.shanghai_date(ts[ts.notna()])
        for d, n in days.value_counts().items():
            counts[d] = counts.get(d, 0) + int(n)
    return counts
