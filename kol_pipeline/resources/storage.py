"""Where the warehouse's files are and how a file is written so that readers never see half of it: the layout's
names (``<table>/snapshot_date=YYYY-MM-DD/part-0.parquet``), one recursive listing of a table folder, and the atomic
write/commit of one Parquet file on a local folder, an object store or any other fsspec filesystem. Used by the IO
manager (``io_manager.py``), its reads (``table_io.py``) and its lazy inputs (``partitioned_input.py``); the
layout and its decisions are described in ``io_manager.py``'s docstring."""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem
from upath import UPath

PARTITION_COLUMN = "snapshot_date"


PART_FILE = "part-0.parquet"


#: the hidden folder of the warehouse root where DuckDB stages its writes before they are committed
STAGING_DIR = ".staging"


PARTITION_PREFIX = f"{PARTITION_COLUMN}="


_OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "oss", "r2"})


WRITE_THREADS = 8


def make_base_path(base_path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> UPath:
    """The warehouse root as a UPath: a local folder (made absolute) or any fsspec URL (``memory://wh``,
    ``s3://bucket/prefix``, ``file:///...``) opened with ``storage_options`` (e.g. ``endpoint_url``)."""
    text = os.fspath(base_path)
    if "://" not in text:
        return UPath(Path(text).expanduser().resolve())
    return UPath(text, **dict(storage_options or {}))


def _protocols(fs: AbstractFileSystem) -> set[str]:
    proto = fs.protocol
    return {proto} if isinstance(proto, str) else set(proto)


def is_local(fs: AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


def is_object_store(fs: AbstractFileSystem) -> bool:
    return bool(_protocols(fs) & _OBJECT_STORES)


def fs_path(path: UPath) -> str:
    """The path string the UPath's own fsspec filesystem understands (no protocol)."""
    return path.path.rstrip("/") or "/"


def _partition_key(folder_name: str) -> str | None:
    """``snapshot_date=2025-01-03`` -> ``2025-01-03``; anything else -> None."""
    if not folder_name.startswith(PARTITION_PREFIX):
        return None
    key = folder_name[len(PARTITION_PREFIX) :]
    try:
        dt.date.fromisoformat(key)
    except ValueError:
        return None
    return key


def check_day_key(key: str) -> str:
    try:
        dt.date.fromisoformat(key)
    except (TypeError, ValueError):
        raise ValueError(
            f"partition key {key!r} is not a YYYY-MM-DD day; the warehouse stores daily partitions only"
        ) from None
    return key


class Listing:
    """One recursive listing of a table folder (a single call, also on object stores)."""

    def __init__(self, fs: AbstractFileSystem, table_dir: str):
        self.table_dir = table_dir
        try:
            entries = fs.find(table_dir, withdirs=True, detail=True)
        except FileNotFoundError:
            entries = {}
        self.exists = bool(entries)
        #: partition key -> files in its folder (any name)
        self.partition_files: dict[str, list[str]] = {}
        #: partition keys whose folder exists (even empty)
        self.partition_dirs: set[str] = set()
        #: entries directly in the table folder (files and folders)
        self.top_level: list[str] = []
        root = table_dir.rstrip("/")
        for name, info in entries.items():
            name = name.rstrip("/")
            if name == root or not name.startswith(root + "/"):
                continue
            rel = name[len(root) + 1 :].split("/")
            if len(rel) == 1:
                self.top_level.append(name)
            key = _partition_key(rel[0])
            if key is None:
                continue
            self.partition_dirs.add(key)
            if len(rel) == 2 and info.get("type") != "directory":
                self.partition_files.setdefault(key, []).append(name)

    def readable_partitions(self) -> dict[str, list[str]]:
        """Partition key -> its Parquet files, skipping hidden/temporary files (what ``*.parquet`` readers see)."""
        out: dict[str, list[str]] = {}
        for key, files in self.partition_files.items():
            data = sorted(f for f in files if _is_data_file(f))
            if data:
                out[key] = data
        return out


def _is_data_file(path: str) -> bool:
    base = posixpath.basename(path)
    return base.endswith(".parquet") and not base.startswith((".", "_"))


def _serialize(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(None), sink)
    return sink.getvalue()


def commit(fs: AbstractFileSystem, tmp: str, final: str) -> None:
    """Move a fully written temporary file over its final name (atomic on local filesystems)."""
    if is_local(fs):
        os.replace(tmp, final)
    else:
        fs.mv(tmp, final)


def write_atomic(fs: AbstractFileSystem, table: pa.Table, final: str, name: str | None = None) -> int:
    """Write ``table`` (of warehouse table ``name``, for its storage hints) as Parquet at ``final`` so that readers
    see either the old or the new file, never a partial one. Returns the bytes written."""
    data = _serialize(table)
    folder = posixpath.dirname(final)
    if is_object_store(fs):
        fs.pipe_file(final, data.to_pybytes())  # a single PUT: atomic on object stores
        return data.size
    fs.makedirs(folder, exist_ok=True)
    tmp = posixpath.join(folder, f".{posixpath.basename(final)}.tmp-{uuid.uuid4().hex}")
    try:
        if is_local(fs):
            # no fsync: a killed process cannot leave a partial file behind (the rename is atomic), and a per-file
            # fsync made a 365-day backfill several times slower
            with open(tmp, "wb") as fh:
                fh.write(memoryview(data))  # no copy of the Arrow buffer
        else:
            fs.pipe_file(tmp, data.to_pybytes())
        commit(fs, tmp, final)
    except Exception:
        try:
            if fs.exists(tmp):
                fs.rm_file(tmp)
        except Exception:  # pragma: no cover - best effort; a leftover temp file is invisible to readers
            pass
        raise
    return data.size


def remove_quietly(fs: AbstractFileSystem, paths: Iterable[str], recursive: bool = False) -> None:
    for path in paths:
        try:
            fs.rm(path, recursive=recursive)
        except FileNotFoundError:
            pass
