"""Which files of a landing folder are MediaCrawler XHS files, of which kind, and which are skipped and why.

Rules (docs/ingestion.md "How files are found"), for every file under `landing/mediacrawler/` (or under the
landing folder itself when it has no `mediacrawler/` subfolder, minus its `brand/` and `reference/` folders):
1. A file inside another platform's folder (MediaCrawler's data folder has `xhs/`, `douyin/`, `weibo/`, `bili/`,
   `ks/`, `tieba/`, `zhihu/`, ...: `OTHER_PLATFORM_FOLDERS`) is skipped as another platform's, whatever its name.
2. `.json`, `.jsonl`, `.csv`: the kind comes from the name, `{crawler}_{item}[_{suffix}]` with item `contents`,
   `comments`, `creator` or `creators` (`readers.kind_of`: numbered exports and copies included); a name that
   does not say it is read by its first record's fields (`sniff_kind`), so crawlers derived from MediaCrawler that
   keep its field names are read too; otherwise the file is skipped as not a MediaCrawler file.
3. `.xlsx` (MediaCrawler's excel store, `{platform}_{crawler}_{time}.xlsx`): one source per sheet named
   Contents, Comments or Creators; a workbook of another platform (by its name's prefix) or without such a sheet
   is skipped.
Nothing else is read; every file not read is listed in `Discovery.skipped` with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kol_pipeline.lib.ingest.readers import XLSX_EXT, decode_head, kind_of, xlsx_kinds

#: MediaCrawler's kinds, in the order they are read: the registry's MediaCrawler tables (schemas.input_tables(
#: MEDIACRAWLER); kol_pipeline_tests/unit/test_table_registry.py checks they are the same)
KINDS = ("notes", "comments", "creators")
# MediaCrawler's data folders of the other platforms (CONTRACT section 2: douyin/, weibo/, bili/, ks/, tieba/,
# zhihu/; and those of its later platforms), matched as folder names at any depth
OTHER_PLATFORM_FOLDERS = frozenset(
    {
        "douyin",
        "weibo",
        "bili",
        "bilibili",
        "ks",
        "kuaishou",
        "tieba",
        "zhihu",
        "tiktok",
        "juejin",
        "xhh",
        "niuke",
        "smzdm",
    }
)
# the platform codes its excel store puts before a workbook's name (`dy_search_<time>.xlsx`); the short codes are
# not taken as folder names, where a user's own folder could be called `dy` or `wb`
OTHER_PLATFORMS = OTHER_PLATFORM_FOLDERS | {"dy", "wb", "tt"}
# the landing folder's own inputs, read by the brand assets (lib/ingest/brand.py)
NOT_CRAWLS = frozenset({"brand", "reference"})
# fields that name a kind when a file's name does not (the fields every MediaCrawler version writes)
SIGNATURES = {
    "notes": frozenset({"note_id", "liked_count", "last_modify_ts"}),
    "comments": frozenset({"comment_id", "note_id", "last_modify_ts"}),
    "creators": frozenset({"user_id", "fans", "last_modify_ts"}),
}
_SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str  # "other platform (douyin)", "not a MediaCrawler file name", "unreadable: ..."


@dataclass
class Discovery:
    files: dict[str, list[Path]] = field(default_factory=lambda: {k: [] for k in KINDS})
    skipped: list[Skipped] = field(default_factory=list)


def crawl_root(landing: Path) -> Path:
    """`landing/mediacrawler` when it exists, else the landing folder itself (a crawl's data folder)."""
    root = landing / "mediacrawler"
    return root if root.is_dir() else landing


def discover(landing: Path) -> Discovery:
    """Every file under the crawl root, each either read as a kind or skipped with a reason; sorted by path."""
    out = Discovery()
    root = crawl_root(landing)
    if not root.is_dir():
        return out
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        folders = [part.lower() for part in p.relative_to(root).parts[:-1]]
        if root == landing and folders and folders[0] in NOT_CRAWLS:
            continue
        other = next((f for f in folders if f in OTHER_PLATFORM_FOLDERS), None)
        if other is not None:
            out.skipped.append(Skipped(p, f"other platform ({other})"))
            continue
        if p.suffix.lower() == XLSX_EXT:
            _workbook(p, out)
            continue
        kind = kind_of(p) or sniff_kind(p)
        if kind is None:
            out.skipped.append(Skipped(p, "not a MediaCrawler file name"))
        else:
            out.files[kind].append(p)
    return out


def _workbook(p: Path, out: Discovery) -> None:
    prefix = p.name.split("_", 1)[0].lower()
    if prefix in OTHER_PLATFORMS:
        out.skipped.append(Skipped(p, f"other platform ({prefix})"))
        return
    kinds, problem = xlsx_kinds(p)
    if problem is not None:
        out.skipped.append(Skipped(p, f"unreadable: {problem}"))
    elif not kinds:
        out.skipped.append(Skipped(p, "not a MediaCrawler workbook (no Contents, Comments or Creators sheet)"))
    for kind in kinds:
        out.files[kind].append(p)


def sniff_kind(path: Path) -> str | None:
    """The kind whose signature fields the file's first record has (JSON array, JSON lines or CSV header), else
    None. Only the first 64 KiB are read."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".jsonl", ".csv"):
        return None
    try:
        with path.open("rb") as fh:
            text = decode_head(fh.read(_SNIFF_BYTES))
    except OSError:
        return None
    if text is None:
        return None
    keys = _first_keys(text.lstrip(), suffix)
    for kind in ("comments", "notes", "creators"):  # a comment has a note_id too: comments first
        if SIGNATURES[kind] <= keys:
            return kind
    return None


def _first_keys(text: str, suffix: str) -> set[str]:
    if suffix == ".csv":
        return {h.strip().strip('"') for h in text.split("\n", 1)[0].rstrip("\r").split(",")}
    start = text.find("{")
    if start < 0:
        return set()
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        return set()
    return set(value) if isinstance(value, dict) else set()
