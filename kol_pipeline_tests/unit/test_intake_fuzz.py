"""Fuzz test of the whole intake path (issue #24): the landing scan the CLI does (`landing.landing_days`,
`planning.find_partition_days`), then `landing.iter_batches_for_days` -> `ingest.ingest_batches`, and the
database source (`ingest.db_batches`), for every format: JSON array, JSON lines (reference reader and fast reader),
CSV with BOM, GB18030/GBK CSV, xlsx (MediaCrawler's excel store), SQLite.

A seeded generator (`random.Random`, fixed seeds and sizes: the module runs in seconds) writes valid MediaCrawler
records and mutates 1-3 fields of most of them to null, absent, "", NaN, huge, negative, objects, lists,
non-ASCII digits, unicode separators, wrong types, zero labels...; it plants duplicates (same id, same day, in one
file and across files), malformed JSON lines, a truncated array, non-object elements, ragged and blank CSV rows.

The expectation of every record is computed here from the value the format delivers (CSV turns None into "" and
NaN into "nan"; the database stores what `mediacrawler_db.to_row` makes of a record), by the contract's rules
(CONTRACT.md section 2, docs/ingestion.md), not read back from the code:
- REJECT: must be a quarantine row of its file and record number (missing/unreadable/negative required count,
  missing/unusable crawl time, bad id, published or created after the crawl, unparseable record);
- KEEP: must be in the cleaned table (or be the earlier crawl of a planted duplicate), with count 0 for "" and zero
  labels and its text as written;
- ANY: a value the contract does not settle (a float count 12.0, fullwidth or Arabic-Indic digits in a time): only
  accounted for exactly once (quarantined, or kept).
For every file: read = number of records written (blank lines are not records) = kept + duplicates + quarantined.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kol_pipeline.lib.ingest import fastread, landing, mediacrawler_db, parsing, readers
from kol_pipeline.lib.ingest import intake as ingest
from kol_pipeline.orchestration import planning

# about 26 s: sent to a worker early, and left to the main suite by CI's second Python (.ci/run)
pytestmark = pytest.mark.heavy(26)

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2025, 6, 20, tzinfo=UTC)  # the run's clock (IngestContext.now)
DAYS = (date(2025, 6, 10), date(2025, 6, 11), date(2025, 6, 12))
ID_RE = re.compile(r"[0-9A-Za-z_\-]{1,64}")
ZERO_LABELS = ("", "赞", "点赞", "收藏", "评论", "分享")
KEEP, REJECT, ANY = "keep", "reject", "any"


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()  # the key is not in the record

# name -> value; "future" and "after_crawl" are computed per record
MUTATIONS: dict[str, Any] = {
    "null": None,
    "absent": ABSENT,
    "empty": "",
    "nan": float("nan"),
    "huge_float": 1e30,
    "neg_one": -1,
    "neg_huge": -1e30,
    "obj": {"a": 1},
    "list": [1, 2],
    "fullwidth": "１２３",
    "arabic": "٣",
    "ls": "a\u2028b",
    "nel": "x\u0085y",
    "bare_ls": "\u2028",
    "newline": "a\nb",
    "true": True,
    "false": False,
    "huge_int": 10**30,
    "long": "长" * 3000,
    "wan": "1.2万",
    "zan": "赞",
    "dian_zan": "点赞",
    "abc": "abc",
    "float12": 12.0,
    "neg_str": "-5",
    "spaces": "  ",
    "padded": " 7 ",
    "comma": "1,234",
    "plus": "10万+",
}
# ids: only values that are certainly bad ids (a valid-looking mutated id could collide with another record's)
ID_MUTATIONS = (
    "null",
    "absent",
    "empty",
    "nan",
    "huge_float",
    "obj",
    "list",
    "fullwidth",
    "arabic",
    "bare_ls",
    "ls",
    "nel",
    "newline",
    "long",
    "wan",
    "zan",
    "float12",
    "spaces",
)
TIME_MUTATIONS = (
    "null",
    "absent",
    "empty",
    "nan",
    "huge_float",
    "neg_one",
    "neg_huge",
    "obj",
    "list",
    "bare_ls",
    "newline",
    "true",
    "huge_int",
    "long",
    "wan",
    "zan",
    "abc",
    "neg_str",
    "fullwidth",
    "arabic",
    "float12",
)
FIELD_CLASS = {
    "notes": {
        "note_id": "id",
        "user_id": "id",
        "type": "text",
        "title": "text",
        "desc": "text",
        "time": "pubtime",
        "last_modify_ts": "crawl",
        "liked_count": "count",
        "collected_count": "count",
        "comment_count": "count",
        "share_count": "count",
        "tag_list": "text",
        "nickname": "text",
    },
    "comments": {
        "comment_id": "id",
        "note_id": "id",
        "content": "text",
        "create_time": "pubtime",
        "last_modify_ts": "crawl",
        "like_count": "optcount",
        "sub_comment_count": "optcount",
        "parent_comment_id": "text",
        "user_id": "text",
        "nickname": "text",
    },
    "creators": {
        "user_id": "id",
        "nickname": "text",
        "gender": "text",
        "fans": "count",
        "follows": "count",
        "interaction": "count",
        "tag_list": "text",
        "last_modify_ts": "crawl",
    },
}
PUB_FIELD = {"notes": "time", "comments": "create_time"}
COUNT_COLUMN = {
    "liked_count": "likes",
    "collected_count": "saves",
    "comment_count": "comments",
    "share_count": "shares",
    "fans": "followers",
    "follows": "following",
    "interaction": "likes_and_saves_total",
    "like_count": "like_count",
    "sub_comment_count": "sub_comment_count",
}
TEXT_COLUMN = {
    ("notes", "title"): "title",
    ("notes", "desc"): "description",
    ("comments", "content"): "content",
    ("notes", "nickname"): "nickname",
    ("creators", "nickname"): "nickname",
}
ID_COLUMN = ingest.ID_COLUMN


# ---------------------------------------------------------------- expectations from delivered values


def _missing(v: Any) -> bool:
    return v is ABSENT or v is None or (isinstance(v, float) and math.isnan(v))


def cls_id(v: Any) -> str:
    if _missing(v) or isinstance(v, (bool, dict, list)):
        return REJECT
    return KEEP if ID_RE.fullmatch(str(v).strip()) else REJECT


def cls_time(v: Any) -> tuple[str, float | None]:
    """(REJECT|ANY|KEEP, epoch ms for KEEP) of a time value as delivered."""
    if _missing(v) or isinstance(v, (bool, dict, list)):
        return REJECT, None
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        s = str(v).strip()
        if not s:
            return REJECT, None
        try:
            x = float(s)
        except ValueError:
            return REJECT, None
        if not s.isascii():  # fullwidth or Arabic-Indic digits: the contract does not say
            return ANY, None
    if math.isnan(x) or math.isinf(x) or x <= 0:
        return REJECT, None
    ms = x if x >= 1e11 else x * 1000
    return (REJECT, None) if ms > 9e15 else (KEEP, ms)


def cls_count(v: Any, optional: bool) -> tuple[str, int | None]:
    if _missing(v):
        return (KEEP, 0) if optional else (REJECT, None)
    if isinstance(v, (bool, dict, list)):
        return REJECT, None
    if isinstance(v, int):
        return (REJECT, None) if v < 0 or v > 10**15 else (KEEP, v)
    if isinstance(v, float):
        return (REJECT, None) if v < 0 or abs(v) > 1e15 else (ANY, None)
    s = str(v)
    if optional and s == "":
        return KEEP, 0
    s = s.replace(",", "").replace("，", "")
    if s.strip(" \t\r\n") in ZERO_LABELS:
        return KEEP, 0
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(万)?\s*(\+)?\s*", s)
    if m:
        n = round(float(m.group(1)) * (10_000 if m.group(2) else 1))
        return (KEEP, n) if n <= 10**15 else (REJECT, None)
    if re.fullmatch(r"\s*-\s*[0-9]+(?:\.[0-9]+)?\s*", s):
        return REJECT, None
    if any(c.isdigit() for c in s):
        return ANY, None
    return REJECT, None


@dataclass
class Planted:
    kind: str
    source: str  # source_file as the quarantine and accounting name it
    number: int
    cls: str
    rec_id: str | None = None  # the id the row is kept under (KEEP/ANY)
    counts: dict[str, int] = field(default_factory=dict)  # table column -> expected value (KEEP)
    texts: dict[str, str] = field(default_factory=dict)
    loser: bool = False  # the earlier crawl of a planted duplicate pair
    reason: str | None = None  # expected reason prefix (unparseable records)
    why: str = ""  # what was planted (assertion messages)


def expect_record(kind: str, rec: dict[str, Any], base_ms: int, mutated: str) -> Planted:
    """The contract's outcome for one record as the reader delivers it."""
    out = Planted(kind, "", 0, KEEP, why=mutated)
    classes: list[str] = []
    crawl_cls, crawl_ms = cls_time(rec.get("last_modify_ts", ABSENT))
    if crawl_cls == KEEP and crawl_ms != base_ms:
        crawl_cls = REJECT if crawl_ms > (NOW + timedelta(days=1)).timestamp() * 1000 else ANY
    classes.append(crawl_cls)
    for f, fc in FIELD_CLASS[kind].items():
        v = rec.get(f, ABSENT)
        if fc == "id":
            classes.append(cls_id(v))
        elif fc in ("count", "optcount"):
            c, n = cls_count(v, fc == "optcount")
            classes.append(c)
            if c == KEEP:
                out.counts[COUNT_COLUMN[f]] = n
        elif fc == "pubtime":
            c, ms = cls_time(v)
            if c == KEEP and crawl_cls == KEEP and ms > crawl_ms:
                c = REJECT
            elif c == KEEP and crawl_cls != KEEP:
                c = ANY if crawl_cls == ANY else KEEP
            classes.append(c)
        elif (kind, f) in TEXT_COLUMN and isinstance(v, str):
            out.texts[TEXT_COLUMN[(kind, f)]] = v
    out.cls = REJECT if REJECT in classes else ANY if ANY in classes else KEEP
    if out.cls != REJECT:
        out.rec_id = str(rec[ID_COLUMN[kind]]).strip()
    return out


# ---------------------------------------------------------------- the generator


@dataclass
class Slot:
    """One entry of a file as written: a record (dict, ABSENT values left out when written) or a structural item."""

    kind: str
    record: dict[str, Any] | None = None
    special: str | None = None  # blank | malformed | nonobject | ragged | truncated
    base_ms: int = 0
    mutated: str = ""
    loser: bool = False


class Gen:
    def __init__(self, seed: int, fmt: str):
        self.rng = random.Random(seed)
        self.fmt = fmt
        self.serial = 0
        self.anchors: list[str] = []

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:06d}{self.rng.getrandbits(40):010x}"

    def crawl_ms(self) -> int:
        day = self.rng.choice(DAYS)
        t = datetime(day.year, day.month, day.day, 10, self.rng.randrange(60), self.rng.randrange(60), tzinfo=SHANGHAI)
        return int(t.timestamp() * 1000)

    def base(self, kind: str) -> dict[str, Any]:
        ms = self.crawl_ms()
        r = self.rng
        if kind == "notes":
            return {
                "note_id": self._id("n"),
                "user_id": self._id("u"),
                "type": r.choice(["normal", "video"]),
                "title": r.choice(["防晒霜测评", "Summer look", "早餐 breakfast"]),
                "desc": "今天分享 #护肤",
                "time": ms - r.randrange(1, 5) * 86_400_000,
                "last_modify_ts": ms,
                "liked_count": r.choice(["35", "1.1万", "10万+", "2", ""]),
                "collected_count": str(r.randrange(100)),
                "comment_count": r.choice(["3", "评论", "1,234"]),
                "share_count": r.choice(["0", "分享", "7"]),
                "tag_list": "护肤,防晒",
                "nickname": r.choice(["小红", "Lily", "阿梅"]),
            }
        if kind == "comments":
            return {
                "comment_id": self._id("c"),
                "note_id": r.choice(self.anchors),
                "content": r.choice(["好用吗", "求链接", "👍"]),
                "create_time": ms - r.randrange(1, 3600) * 1000,
                "last_modify_ts": ms,
                "like_count": r.choice(["3", "", "赞"]),
                "sub_comment_count": r.choice(["0", "2"]),
                "parent_comment_id": r.choice(["0", "", None]),
                "user_id": self._id("u"),
                "nickname": "路人",
            }
        return {
            "user_id": self._id("u"),
            "nickname": r.choice(["小红", "Lily"]),
            "gender": r.choice(["0", "1"]),
            "fans": r.choice(["1.2万", "300", "0"]),
            "follows": str(r.randrange(500)),
            "interaction": "5.6万",
            "tag_list": '{"info": null}',
            "last_modify_ts": ms,
        }

    def mutate(
        self, kind: str, rec: dict[str, Any], pools: dict[str, tuple[str, ...]], only: tuple[str, str] | None = None
    ) -> str:
        """1-3 random fields to random values of their pools, or (`only`) one given field to one given value."""
        fields = list(FIELD_CLASS[kind])
        if kind == "comments":
            fields.remove("note_id")  # kept pointing at an anchor note except when mutated below
        done = []
        picks = (
            [only]
            if only
            else [
                (f, self.rng.choice(pools[FIELD_CLASS[kind][f]]))
                for f in self.rng.sample(fields, self.rng.randint(1, 3))
            ]
        )
        for f, name in picks:
            if name == "future":
                rec[f] = int((NOW + timedelta(days=30)).timestamp() * 1000)
            elif name == "after_crawl":
                rec[f] = rec["last_modify_ts"] + 10 * 86_400_000 if isinstance(rec.get("last_modify_ts"), int) else 1
            else:
                rec[f] = MUTATIONS[name]
            done.append(f"{f}={name}")
        if self.rng.random() < 0.15:
            rec["extra_field"] = {"nested": [1, {"b": None}], "说明": "新字段"}
            done.append("extra_field")
        return ", ".join(done)

    def pools(self) -> dict[str, tuple[str, ...]]:
        allm = tuple(MUTATIONS)
        ids, times = ID_MUTATIONS, TIME_MUTATIONS
        if self.fmt not in ("json", "jsonl"):  # CSV/xlsx/db write NaN as "nan" (a valid id), or cannot hold it
            ids = tuple(m for m in ids if m != "nan")
        if self.fmt == "xlsx":  # a cell holds no NaN, and 12.0 comes back as the integer 12 (a valid id)
            allm = tuple(m for m in allm if m != "nan")
            times = tuple(m for m in times if m != "nan")
            ids = tuple(m for m in ids if m != "float12")
        if self.fmt == "db":  # Python's int() reads "１２３" as 123: a stored time, of 1970, that no run selects
            times = tuple(m for m in times if m not in ("fullwidth", "arabic", "float12"))
        return {
            "id": ids,
            "crawl": times + ("future",),
            "pubtime": times + ("after_crawl",),
            "count": allm,
            "optcount": allm,
            "text": allm,
        }

    def file_slots(
        self, kind: str, n: int, extra_dups_from: list[Slot] | None = None, sweep: bool = False
    ) -> list[Slot]:
        """n records (most mutated at random); with `sweep`, also one record per (field, value of its pool), so every
        mutation of the issue reaches every field whatever the seed."""
        pools = self.pools()
        slots: list[Slot] = []
        if kind == "notes" and not self.anchors:  # clean notes the comments point at
            for _ in range(4):
                rec = self.base(kind)
                self.anchors.append(rec["note_id"])
                slots.append(Slot(kind, rec, base_ms=rec["last_modify_ts"], mutated="anchor"))
        for f, fc in FIELD_CLASS[kind].items() if sweep else ():
            for name in pools[fc]:
                rec = self.base(kind)
                slots.append(
                    Slot(kind, rec, base_ms=rec["last_modify_ts"], mutated=self.mutate(kind, rec, pools, (f, name)))
                )
        for _ in range(n):
            rec = self.base(kind)
            base_ms = rec["last_modify_ts"]
            mutated = "" if self.rng.random() < 0.3 else self.mutate(kind, rec, pools)
            if kind == "comments" and self.rng.random() < 0.1:
                rec["note_id"] = MUTATIONS[self.rng.choice(pools["id"])]
                mutated += ", note_id mutated"
            slots.append(Slot(kind, rec, base_ms=base_ms, mutated=mutated))
        # duplicates: a clean record crawled again 1 s later the same day; the later crawl wins wherever it is
        clean = [s for s in slots if s.mutated == ""]
        for s in self.rng.sample(clean, min(2, len(clean))):
            again = dict(s.record, last_modify_ts=s.base_ms + 1000, nickname="再次抓取")
            s.loser = True
            slots.insert(
                self.rng.randrange(len(slots) + 1), Slot(kind, again, base_ms=s.base_ms + 1000, mutated="recrawl")
            )
        for s in extra_dups_from or []:  # the later crawl of a record of another file
            again = dict(s.record, last_modify_ts=s.base_ms + 1000)
            s.loser = True
            slots.insert(
                self.rng.randrange(len(slots) + 1),
                Slot(kind, again, base_ms=s.base_ms + 1000, mutated="recrawl other file"),
            )
        return slots

    def clean_slots(self, slots: list[Slot], k: int) -> list[Slot]:
        return self.rng.sample([s for s in slots if s.mutated == "" and not s.loser], k)


# ---------------------------------------------------------------- writers


def _jsonable(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if v is not ABSENT}


def _csv_value(v: Any) -> str:
    return "" if v is ABSENT or v is None else str(v)


def _xlsx_value(v: Any) -> Any:
    if v is ABSENT or v is None:
        return ""
    return str(v) if isinstance(v, (list, dict)) else v


def deliver(fmt: str, rec: dict[str, Any]) -> dict[str, Any]:
    if fmt in ("json", "jsonl"):
        return _jsonable(rec)
    if fmt in ("csv", "gbk"):
        return {k: _csv_value(v) for k, v in rec.items()}
    return {k: _xlsx_value(v) for k, v in rec.items()}


def _plant(slot: Slot, fmt: str, source: str, number: int) -> Planted:
    p = expect_record(slot.kind, deliver(fmt, slot.record), slot.base_ms, slot.mutated)
    p.source, p.number, p.loser = source, number, slot.loser
    return p


def _problem(slot: Slot, source: str, number: int, reason: str) -> Planted:
    return Planted(slot.kind, source, number, REJECT, reason=reason, why=slot.special or "")


def write_json(path: Path, source: str, slots: list[Slot], truncate: bool) -> list[Planted]:
    parts, planted = [], []
    for i, s in enumerate(slots, start=1):
        if s.special == "nonobject":
            parts.append(json.dumps("not an object"))
            planted.append(_problem(s, source, i, "record is not a JSON object"))
        else:
            parts.append(json.dumps(_jsonable(s.record), ensure_ascii=False))
            planted.append(_plant(s, "json", source, i))
    text = "[\n" + ",\n".join(parts) + "\n]"
    if truncate:  # cut in the middle of the last record: the records before it are salvaged, it is one problem
        text = "[\n" + ",\n".join(parts[:-1]) + ",\n" + parts[-1][: len(parts[-1]) // 2]
        last = planted[-1]
        planted[-1] = Planted(
            last.kind,
            source,
            last.number,
            REJECT,
            reason=f"malformed or truncated JSON at record {last.number}",
            why="truncated",
        )
    path.write_text(text, encoding="utf-8")
    return planted


def write_jsonl(path: Path, source: str, slots: list[Slot]) -> list[Planted]:
    lines, planted = [], []
    for s in slots:
        n = len(lines) + 1
        if s.special == "blank":
            lines.append(" ")
        elif s.special == "malformed":
            lines.append('{"note_id": "x", "time": ')
            planted.append(_problem(s, source, n, "malformed JSON line"))
        elif s.special == "trailing_comma":
            lines.append('{"note_id": "abc", "user_id": "u1",}')
            planted.append(_problem(s, source, n, "malformed JSON line"))
        elif s.special == "nonobject":
            lines.append("[1, 2]")
            planted.append(_problem(s, source, n, "record is not a JSON object"))
        else:
            lines.append(json.dumps(_jsonable(s.record), ensure_ascii=False))  # U+2028/U+0085 unescaped
            planted.append(_plant(s, "jsonl", source, n))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return planted


def _header(kind: str) -> list[str]:
    return [*FIELD_CLASS[kind], "extra_field"]


def write_csv(path: Path, source: str, slots: list[Slot], encoding: str, fmt: str) -> list[Planted]:
    header = _header(slots[0].kind)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    planted, n = [], 0
    for s in slots:
        n += 1
        if s.special == "blank":
            buf.write("\n")
        elif s.special == "ragged":
            w.writerow(["x"] * len(header) + ["one too many"])
            planted.append(
                _problem(s, source, n, f"CSV row has {len(header) + 1} fields, the header has {len(header)}")
            )
        else:
            w.writerow([_csv_value(s.record.get(h, ABSENT)) for h in header])
            planted.append(_plant(s, fmt, source, n))
    path.write_bytes(buf.getvalue().encode(encoding))
    return planted


XLSX_SHEETS = {"notes": "Contents", "comments": "Comments", "creators": "Creators"}


def write_xlsx(path: Path, rel: str, by_kind: dict[str, list[Slot]]) -> list[Planted]:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    planted = []
    for kind, slots in by_kind.items():
        ws = wb.create_sheet(XLSX_SHEETS[kind])
        header = _header(kind)
        ws.append(header)
        source = f"{rel}#{XLSX_SHEETS[kind]}"
        for i, s in enumerate(slots, start=1):
            ws.append([_xlsx_value(s.record.get(h, ABSENT)) for h in header])
            planted.append(_plant(s, "xlsx", source, i))
    wb.save(path)
    return planted


def _with_specials(gen: Gen, slots: list[Slot], specials: tuple[str, ...]) -> list[Slot]:
    for sp in specials:
        slots.insert(gen.rng.randrange(1, len(slots)), Slot(slots[0].kind, special=sp))
    return slots


def make_landing(root: Path, fmt: str, seed: int, size: int = 30, sweep: bool = True) -> list[Planted]:
    """Write a landing folder of generated MediaCrawler files; the expectation of every record written."""
    gen = Gen(seed, fmt)
    notes_a = gen.file_slots("notes", size, sweep=sweep)
    notes_b = gen.file_slots("notes", size // 2, extra_dups_from=gen.clean_slots(notes_a, 2))
    comments = gen.file_slots("comments", size, sweep=sweep)
    creators = gen.file_slots("creators", size // 2, sweep=sweep)
    base = root / "mediacrawler" / "xhs" / fmt
    base.mkdir(parents=True)
    rel = f"mediacrawler/xhs/{fmt}"
    names = {
        "a": "search_contents_2025-06-11",
        "b": "detail_contents_recrawl",
        "c": "search_comments_2025-06-12",
        "u": "creator_creator",
    }
    files = {"a": notes_a, "b": notes_b, "c": comments, "u": creators}
    planted: list[Planted] = []
    if fmt == "xlsx":
        planted += write_xlsx(
            base / "xhs_search_20250612_101500.xlsx",
            f"{rel}/xhs_search_20250612_101500.xlsx",
            {"notes": notes_a, "comments": comments, "creators": creators},
        )
        planted += write_xlsx(
            base / "xhs_detail_20250612_120000.xlsx", f"{rel}/xhs_detail_20250612_120000.xlsx", {"notes": notes_b}
        )
        return planted
    for key, slots in files.items():
        if fmt == "json":
            name = f"{names[key]}.json"
            slots = _with_specials(gen, slots, ("nonobject",))
            planted += write_json(base / name, f"{rel}/{name}", slots, truncate=key == "c")
        elif fmt == "jsonl":
            name = f"{names[key]}.jsonl"
            slots = _with_specials(gen, slots, ("blank", "malformed", "nonobject", "trailing_comma"))
            planted += write_jsonl(base / name, f"{rel}/{name}", slots)
        else:
            name = f"{names[key]}.csv"
            slots = _with_specials(gen, slots, ("blank", "ragged"))
            planted += write_csv(base / name, f"{rel}/{name}", slots, "utf-8-sig" if fmt == "csv" else "gb18030", fmt)
    return planted


# ---------------------------------------------------------------- checks


def _ctx() -> ingest.IngestContext:
    return ingest.IngestContext(now=NOW)


def check_result(res: ingest.IngestResult, planted: list[Planted], label: str) -> None:
    acc = res.accounting.groupby(["source_file", "kind"])[["read", "kept", "duplicates", "quarantined"]].sum()
    by_file: dict[tuple[str, str], list[Planted]] = {}
    for p in planted:
        by_file.setdefault((p.source, p.kind), []).append(p)
    assert set(acc.index) == set(by_file), f"{label}: accounting files {sorted(acc.index)} != {sorted(by_file)}"
    q = res.quarantine
    assert not q[["source_file", "record_number"]].duplicated().any(), f"{label}: a record quarantined twice\n{q}"
    qkey = {(r.source_file, int(r.record_number)): r.reason for r in q.itertuples()}
    for (src, kind), ps in by_file.items():
        row = acc.loc[(src, kind)]
        msg = f"{label}: {src} ({kind}) {row.to_dict()}"
        assert row["read"] == len(ps), f"{msg}: {len(ps)} records written"
        assert row["read"] == row["kept"] + row["duplicates"] + row["quarantined"], msg
        assert row["duplicates"] == sum(p.loser for p in ps), msg
        must = [p for p in ps if p.cls == REJECT]
        assert row["quarantined"] >= len(must), msg
        assert row["quarantined"] <= len(must) + sum(p.cls == ANY for p in ps), msg
    numbers = {(p.source, p.number): p for p in planted}
    for (src, num), reason in qkey.items():
        p = numbers.get((src, num))
        assert p is not None, f"{label}: quarantine row {src} #{num} ({reason}) is no planted record"
        assert p.cls in (REJECT, ANY), f"{label}: {src} #{num} must be kept ({p.why}) but is quarantined: {reason}"
        assert isinstance(reason, str) and reason.strip(), f"{label}: {src} #{num} has no reason"
        if p.reason:
            assert reason.startswith(p.reason), f"{label}: {src} #{num} ({p.why}): {reason!r} is not {p.reason!r}"
    tables = {k: res.table(k) for k in ingest.KINDS}
    ids = {k: {(str(i), f) for i, f in zip(t[ID_COLUMN[k]], t["source_file"])} for k, t in tables.items()}
    any_id = {k: {str(i) for i in t[ID_COLUMN[k]]} for k, t in tables.items()}
    for p in planted:
        where = f"{label}: {p.source} #{p.number} ({p.why or 'clean'})"
        if p.cls == REJECT:
            assert (p.source, p.number) in qkey, f"{where} must be quarantined"
        elif p.cls == ANY:
            assert ((p.source, p.number) in qkey) != ((p.rec_id, p.source) in ids[p.kind]), f"{where}: accounted once"
        elif p.loser:
            assert (p.source, p.number) not in qkey and p.rec_id in any_id[p.kind], f"{where}: the later crawl is kept"
        else:
            assert (p.source, p.number) not in qkey, f"{where} must be kept: {qkey.get((p.source, p.number))}"
            t = tables[p.kind]
            rows = t[(t[ID_COLUMN[p.kind]].astype(str) == p.rec_id) & (t["source_file"] == p.source)]
            assert len(rows) == 1, f"{where} must be kept once, found {len(rows)}"
            for col, want in p.counts.items():
                assert int(rows[col].iloc[0]) == want, f"{where}: {col} {rows[col].iloc[0]!r} != {want}"
            for col, want in p.texts.items():
                got = rows[col].iloc[0]
                got = "" if got is None or (not isinstance(got, str) and pd.isna(got)) else got
                assert got == want, f"{where}: {col} {got!r} != {want!r}"
    kept = int(res.accounting["kept"].sum())
    assert kept == sum(len(t) for t in tables.values()), label


def run_files(lroot: Path) -> tuple[dict[date, int], ingest.IngestResult]:
    """The CLI's path: find the days, then one ranged run over them."""
    days = landing.landing_days(lroot)
    assert set(days) <= planning.find_partition_days(lroot)
    start, end = min(days), max(days)
    res = ingest.ingest_batches(landing.iter_batches_for_days(lroot, start, end), _ctx(), start, end)
    return days, res


@pytest.fixture(autouse=True)
def _fresh_index(monkeypatch):
    monkeypatch.delenv("KOL_SOURCE_DB_URL", raising=False)
    landing.clear_cache()
    yield
    landing.clear_cache()


FORMATS = [
    "json",
    "jsonl",
    pytest.param("jsonl-fast", id="jsonl-fast"),
    "csv",
    "gbk",
    "xlsx",
]
SEEDS = (11, 12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_intake_fuzz_files(tmp_path, monkeypatch, fmt, seed):
    if fmt == "jsonl-fast":  # every JSON lines file through the DuckDB reader and the fast cleaning
        monkeypatch.setattr(fastread, "FAST_MIN_BYTES", 0)
    planted = make_landing(tmp_path, fmt.removesuffix("-fast"), seed)
    days, res = run_files(tmp_path)
    label = f"{fmt} seed {seed}"
    # every record written is on some day of the index (each file has a date or a valid row to file it under)
    assert sum(days.values()) == len(planted), f"{label}: {days}"
    check_result(res, planted, label)
    assert len(res.quarantine) and int(res.accounting["duplicates"].sum()) > 0, label


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_reader_agrees_with_reference(tmp_path, monkeypatch, seed):
    """The same JSON lines files, read by readers.read_records and by the DuckDB reader: same accounting, same
    quarantine rows (file, record number, reason, raw)."""
    make_landing(tmp_path, "jsonl", seed)
    _, ref = run_files(tmp_path)
    landing.clear_cache()
    monkeypatch.setattr(fastread, "FAST_MIN_BYTES", 0)
    _, fast = run_files(tmp_path)
    assert any(isinstance(f.records, fastread.ColumnarRecords) for f in landing.index_landing(tmp_path))
    key = ["source_file", "kind", "snapshot_date"]
    pd.testing.assert_frame_equal(
        ref.accounting.sort_values(key).reset_index(drop=True), fast.accounting.sort_values(key).reset_index(drop=True)
    )
    cols = ["source_file", "record_number", "reason", "snapshot_date"]
    pd.testing.assert_frame_equal(
        ref.quarantine[cols].reset_index(drop=True), fast.quarantine[cols].reset_index(drop=True)
    )
    assert ref.quarantine["raw"].tolist() == fast.quarantine["raw"].tolist()


# ---------------------------------------------------------------- the database source


def _db_planted(gen: Gen, tables, kind: str, slots: list[Slot], lo: int, hi: int) -> tuple[list[dict], list[Planted]]:
    """Records to write and the expectation of each row the ranged query selects (record number = row id): by its
    crawl time in epoch ms (or seconds), or, where that is unusable, by `add_ts`, the time MediaCrawler stored the
    row (set here to the record's unmutated crawl time, as MediaCrawler sets it)."""
    table = tables[kind]
    records, planted, next_id = [], [], 1
    for s in slots:
        rec = _jsonable(s.record) | {"add_ts": s.base_ms}
        row, why = mediacrawler_db.to_row(table, rec)
        records.append(rec)
        if row is None:  # refused by the writer: not in the database
            assert why
            continue
        rid, next_id = next_id, next_id + 1
        ts = row.get("last_modify_ts")
        usable = isinstance(ts, int) and 0 < ts <= parsing.MAX_EPOCH_MS
        at = (ts if ts >= 1e11 else ts * 1000) if usable else row.get("add_ts")
        if not (isinstance(at, int) and lo <= at < hi):
            continue  # not a row of the run's days
        delivered = {k: row.get(k) for k in FIELD_CLASS[kind]}
        p = expect_record(kind, delivered, s.base_ms, s.mutated)
        p.source, p.number, p.loser = f"db:{ingest.DB_TABLES[kind]}", rid, s.loser
        planted.append(p)
    return records, planted


@pytest.mark.parametrize("seed", SEEDS)
def test_intake_fuzz_database(tmp_path, seed):
    import sqlalchemy as sa

    from kol_pipeline_tests.fixtures.mediacrawler_schema import build_metadata, tables_by_kind

    gen = Gen(seed, "db")
    notes = gen.file_slots("notes", 30, sweep=True)
    notes += gen.file_slots("notes", 10, extra_dups_from=gen.clean_slots(notes, 2))
    slots = {
        "notes": notes,
        "comments": gen.file_slots("comments", 30, sweep=True),
        "creators": gen.file_slots("creators", 15, sweep=True),
    }
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'mc.db'}")
    md = build_metadata(strict=False)
    md.create_all(engine)
    tables = tables_by_kind(md)
    start, end = date(2025, 6, 1), date(2025, 12, 31)
    lo, hi = ingest.day_bounds_ms(start, end)
    planted, batches = [], []
    for kind, ss in slots.items():
        # a later crawl of a pair may be written before the earlier one: the duplicate is decided by crawl time
        recs, ps = _db_planted(gen, tables, kind, ss, lo, hi)
        planted += ps
        batches.append(
            (kind, readers.FileRecords(path=f"gen:{kind}", records=recs, record_numbers=list(range(1, len(recs) + 1))))
        )
    report = mediacrawler_db.write_records(engine, tables, batches)
    assert all(r.reason for r in report.refused)
    res = ingest.ingest_batches(ingest.db_batches(engine, start, end), _ctx(), start, end)
    check_result(res, planted, f"db seed {seed}")
    engine.dispose()


def test_generator_plants_what_the_contract_names():
    """The generator covers the cases of the issue (a fuzz test that plants nothing tests nothing)."""
    planted = make_landing(Path(tempfile.mkdtemp()), "jsonl", 11)
    whys = " ".join(p.why for p in planted)
    for m in (
        "=null",
        "=absent",
        "=empty",
        "=nan",
        "=huge",
        "=neg",
        "=obj",
        "=list",
        "=fullwidth",
        "=arabic",
        "=ls",
        "=nel",
        "=newline",
        "=true",
        "=long",
        "=zan",
        "recrawl",
        "malformed",
        "nonobject",
    ):
        assert m in whys, m
    assert {p.cls for p in planted} == {KEEP, REJECT, ANY}
    assert sum(p.cls == KEEP and p.why not in ("", "anchor", "recrawl", "recrawl other file") for p in planted) > 5
