"""Byte-stable writers: the same content always gives the same bytes on disk."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def dump_json(obj: Any) -> str:
    """Compact JSON as APIs send it; key order is the insertion order we chose."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_bytes(path: Path, data: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def write_text(path: Path, text: str, *, bom: bool = False) -> int:
    data = text.encode("utf-8")
    return write_bytes(path, codecs.BOM_UTF8 + data if bom else data)


def write_pretty_json(path: Path, obj: Any) -> int:
    """Human-facing JSON (the generator summary): sorted keys, indented."""
    return write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def csv_text(rows: Iterable[Sequence[Any]], *, quote_all: bool = False, line_end: str = "\n") -> str:
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, quoting=quoting, lineterminator=line_end)
    writer.writerows(rows)
    return buffer.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    """Gzip without a file name or modification time, so reruns are identical."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as fh:
        fh.write(data)
    return buffer.getvalue()
