"""Brand and reference files (landing/brand/*.csv, landing/reference/categories.csv) -> typed tables + rejects.

Every file is optional: a missing file gives an empty table. Each rejected row becomes a quarantine row
(source = table name, with file, record number and reason); duplicates of a key keep the last row and are counted.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kol_pipeline.lib.ingest import parsing
from kol_pipeline.lib.ingest.readers import decode
from kol_pipeline.lib.schemas import TABLES


@dataclass
class BrandTable:
    name: str
    frame: pd.DataFrame
    rejects: pd.DataFrame  # source, source_file, record_number, reason, raw
    accounting: dict[str, int] = field(default_factory=dict)  # read, kept, duplicates, quarantined
    files: list[str] = field(default_factory=list)


REJECT_COLUMNS = ["source", "source_file", "record_number", "reason", "raw"]


def read_csv_rows(path: Path, display: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All rows of a CSV as strings with _file/_record, and rows with a wrong field count as rejects."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise ValueError(f"{display}: unreadable file: NUL bytes in the text (UTF-16 or binary content?)")
    try:
        text, _ = decode(data)
    except UnicodeDecodeError as exc:  # a clear message naming the file, not a bare codec error
        raise ValueError(f"{display}: unreadable file: not UTF-8 nor GBK ({exc.reason} at byte {exc.start})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    rows, nums, bad = [], [], []
    for i, row in enumerate(reader, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            bad.append(
                (i, f"CSV row has {len(row)} fields, the header has {len(header)}", json.dumps(row, ensure_ascii=False))
            )
            continue
        rows.append([c.strip() for c in row])
        nums.append(i)
    df = pd.DataFrame(rows, columns=header, dtype=object)
    df["_file"] = display
    df["_record"] = pd.Series(nums, dtype="int64")
    rej = pd.DataFrame(bad, columns=["record_number", "reason", "raw"])
    rej["source_file"] = display
    return df, rej


def _split(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).map(lambda v: [x.strip() for x in v.split("|") if x.strip()])


def _missing_cols(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.Series:
    miss = [c for c in cols if c not in df.columns]
    return pd.Series([f"missing column(s) {', '.join(miss)}" if miss else None] * len(df), index=df.index, dtype=object)


def _req(df: pd.DataFrame, col: str) -> pd.Series:
    s = df[col] if col in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)
    return pd.Series(
        [f"missing {col}" if (v is None or str(v).strip() == "") else None for v in s], index=df.index, dtype=object
    )


def _col(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col] if col in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)


Parser = Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.Series]]


def _brands(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    why = parsing.first_reason(_missing_cols(df, ("brand",)), _req(df, "brand"))
    out = pd.DataFrame(
        {
            "brand": _col(df, "brand"),
            "aliases": _split(_col(df, "aliases")),
            "category": _col(df, "category"),
            "control_keyword": _col(df, "control_keyword").replace("", None),
        }
    )
    return out, why


def _campaigns(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    start, r1 = parsing.parse_dates(_col(df, "start_date"), "start_date")
    end, r2 = parsing.parse_dates(_col(df, "end_date"), "end_date")
    budget, r3 = parsing.parse_money(_col(df, "budget_cny").replace("", None), "budget_cny")
    r3 = r3.where(_col(df, "budget_cny").fillna("").astype(str).str.strip() != "", None)  # budget is optional
    order = pd.Series(
        [
            "end_date is before start_date" if (s is not None and e is not None and e < s) else None
            for s, e in zip(start, end)
        ],
        index=df.index,
        dtype=object,
    )
    why = parsing.first_reason(
        _missing_cols(df, ("campaign_id", "brand", "start_date", "end_date")),
        _req(df, "campaign_id"),
        _req(df, "brand"),
        r1,
        r2,
        r3,
        order,
    )
    out = pd.DataFrame(
        {
            "campaign_id": _col(df, "campaign_id"),
            "brand": _col(df, "brand"),
            "phase": _col(df, "phase"),
            "start_date": start,
            "end_date": end,
            "target_keywords": _split(_col(df, "target_keywords")),
            "budget_cny": budget,
        }
    )
    return out, why


def _campaign_posts(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    fee, r1 = parsing.parse_money(_col(df, "fee_cny"), "fee_cny")
    posted, r2 = parsing.parse_dates(_col(df, "posted_date"), "posted_date")
    r2 = r2.where(_col(df, "posted_date").fillna("").astype(str).str.strip() != "", None)  # optional
    why = parsing.first_reason(
        _missing_cols(df, ("campaign_id", "note_id", "fee_cny")),
        _req(df, "campaign_id"),
        parsing.check_ids(_col(df, "note_id"), "note_id"),
        r1,
        r2,
    )
    out = pd.DataFrame(
        {
            "campaign_id": _col(df, "campaign_id"),
            "note_id": _col(df, "note_id"),
            "user_id": _col(df, "user_id"),
            "fee_cny": fee,
            "posted_date": posted,
        }
    )
    return out, why


def _non_negative(df: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    """(float64 values, reasons) for a column that must hold a number >= 0."""
    v = pd.to_numeric(_col(df, col), errors="coerce")
    why = pd.Series(
        [
            None if (x == x and x >= 0) else f"{col} is not a non-negative number: {raw!r}"
            for x, raw in zip(v, _col(df, col))
        ],
        index=df.index,
        dtype=object,
    )
    return v.astype("float64"), why


def _search_index(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    d, r1 = parsing.parse_dates(_col(df, "date"), "date")
    v, r2 = _non_negative(df, "search_index")
    why = parsing.first_reason(_missing_cols(df, ("date", "keyword", "search_index")), r1, _req(df, "keyword"), r2)
    return pd.DataFrame({"date": d, "keyword": _col(df, "keyword"), "search_index": v}), why


def _rate_card(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    img, r1 = parsing.parse_money(_col(df, "image_price_cny"), "image_price_cny")
    vid, r2 = parsing.parse_money(_col(df, "video_price_cny").replace("", None), "video_price_cny")
    r2 = r2.where(_col(df, "video_price_cny").fillna("").astype(str).str.strip() != "", None)
    why = parsing.first_reason(
        _missing_cols(df, ("user_id", "image_price_cny")), parsing.check_ids(_col(df, "user_id"), "user_id"), r1, r2
    )
    return pd.DataFrame({"user_id": _col(df, "user_id"), "image_price_cny": img, "video_price_cny": vid}), why


def _store_traffic(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    d, r1 = parsing.parse_dates(_col(df, "date"), "date")
    v, r2 = _non_negative(df, "store_visits")
    why = parsing.first_reason(_missing_cols(df, ("date", "brand", "store_visits")), r1, _req(df, "brand"), r2)
    return pd.DataFrame({"date": d, "brand": _col(df, "brand"), "store_visits": v}), why


def _categories(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    why = parsing.first_reason(_missing_cols(df, ("keyword", "category")), _req(df, "keyword"), _req(df, "category"))
    return pd.DataFrame({"keyword": _col(df, "keyword"), "category": _col(df, "category").str.strip().str.lower()}), why


def _search_rankings(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    rank = pd.to_numeric(_col(df, "rank"), errors="coerce")
    r1 = pd.Series(
        [
            None if (x == x and x >= 1 and float(x).is_integer()) else f"rank is not a positive integer: {raw!r}"
            for x, raw in zip(rank, _col(df, "rank"))
        ],
        index=df.index,
        dtype=object,
    )
    why = parsing.first_reason(
        _missing_cols(df, ("keyword", "rank", "note_id")),
        _req(df, "keyword"),
        r1,
        parsing.check_ids(_col(df, "note_id"), "note_id"),
    )
    out = pd.DataFrame(
        {"keyword": _col(df, "keyword"), "rank": rank.where(why.isna()).astype("Int64"), "note_id": _col(df, "note_id")}
    )
    return out, why


SPECS: dict[str, tuple[str, Parser, tuple[str, ...]]] = {
    # table: (file glob under landing, parser, key for duplicates)
    "brands": ("brand/brands.csv", _brands, ("brand",)),
    "campaigns": ("brand/campaigns.csv", _campaigns, ("campaign_id",)),
    "campaign_posts": ("brand/campaign_posts.csv", _campaign_posts, ("campaign_id", "note_id")),
    "search_index": ("brand/search_index.csv", _search_index, ("date", "keyword")),
    "rate_card": ("brand/rate_card.csv", _rate_card, ("user_id",)),
    "store_traffic": ("brand/store_traffic.csv", _store_traffic, ("date", "brand")),
    "categories": ("reference/categories.csv", _categories, ("keyword", "category")),
}


def _finish(
    name: str,
    parts: list[pd.DataFrame],
    rejects: list[pd.DataFrame],
    key: tuple[str, ...],
    parser: Parser,
    files: list[str],
) -> BrandTable:
    spec = TABLES[name]
    if parts:
        raw = pd.concat(parts, ignore_index=True)
        frame, why = parser(raw)
        frame["_file"], frame["_record"] = raw["_file"], raw["_record"]
        bad = why.notna()
        rej = pd.DataFrame(
            {
                "source": name,
                "source_file": raw.loc[bad, "_file"],
                "record_number": raw.loc[bad, "_record"],
                "reason": why[bad],
                "raw": raw.loc[bad]
                .drop(columns=["_file", "_record"])
                .apply(lambda r: json.dumps(r.to_dict(), ensure_ascii=False, default=str), axis=1)
                if bad.any()
                else [],
            }
        )
        good = frame[~bad]
        dup = good.duplicated(list(key), keep="last")
        kept = good[~dup]
        read, quarantined, duplicates = len(raw), int(bad.sum()), int(dup.sum())
    else:
        kept, rej, read, quarantined, duplicates = spec.empty_frame(), pd.DataFrame(columns=REJECT_COLUMNS), 0, 0, 0
    all_rej = [r for r in [*rejects, rej] if len(r)]
    rej_frame = (
        pd.concat(all_rej, ignore_index=True)[REJECT_COLUMNS] if all_rej else pd.DataFrame(columns=REJECT_COLUMNS)
    )
    extra = sum(len(r) for r in rejects)
    cols = [c for c in spec.column_names if c in kept.columns]
    extras = [c for c in kept.columns if c not in spec.column_names and c not in ("_file", "_record")]
    return BrandTable(
        name=name,
        frame=kept[cols + extras].reset_index(drop=True),
        rejects=rej_frame.reset_index(drop=True),
        accounting={
            "read": read + extra,
            "kept": len(kept),
            "duplicates": duplicates,
            "quarantined": quarantined + extra,
        },
        files=files,
    )


def read_brand_table(landing: Path, name: str) -> BrandTable:
    """One brand/reference table from its CSV file (empty when the file is absent)."""
    pattern, parser, key = SPECS[name]
    path = landing / pattern
    parts, rejects, files = [], [], []
    if path.is_file():
        display = path.relative_to(landing).as_posix()
        df, rej = read_csv_rows(path, display)
        parts.append(df)
        if len(rej):
            rejects.append(rej.assign(source=name))
        files.append(display)
    return _finish(name, parts, rejects, key, parser, files)


def search_ranking_files(landing: Path) -> dict[str, Path]:
    """brand/search_rankings_YYYY-MM-DD.csv by day (YYYY-MM-DD)."""
    out: dict[str, Path] = {}
    folder = landing / "brand"
    if folder.is_dir():
        for p in sorted(folder.glob("search_rankings_*.csv")):
            d = parsing.date_from_name(p.name)
            if d is not None:
                out[d.isoformat()] = p
    return out


def read_search_rankings(landing: Path, days: list[str]) -> BrandTable:
    """search_rankings rows of the given days, with snapshot_date = the file's date."""
    files = search_ranking_files(landing)
    parts, rejects, used = [], [], []
    for day in days:
        p = files.get(day)
        if p is None:
            continue
        display = p.relative_to(landing).as_posix()
        df, rej = read_csv_rows(p, display)
        parts.append(df.assign(snapshot_date=pd.Timestamp(day).date()))
        if len(rej):
            rejects.append(rej.assign(source="search_rankings", snapshot_date=pd.Timestamp(day).date()))
        used.append(display)
    parser, key = _search_rankings, ("keyword", "rank", "note_id", "snapshot_date")

    def parse_with_day(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        out, why = parser(df)
        out["source_file"] = df["_file"]
        out["snapshot_date"] = df["snapshot_date"]
        return out, why

    table = _finish(
        "search_rankings", parts, [r.drop(columns=["snapshot_date"]) for r in rejects], key, parse_with_day, used
    )
    if len(table.rejects):
        day_of = {
            f: pd.Timestamp(parsing.date_from_name(Path(f).name)).date() for f in table.rejects["source_file"].unique()
        }
        table.rejects["snapshot_date"] = table.rejects["source_file"].map(day_of)
    return table
