"""Text files as people drop them: sniffed, and made line-safe when DuckDB cannot split them.

DuckDB reads a well-formed file of lines at full speed (the fast path). A
file it refuses (line endings mixed CRLF/LF or a bare carriage return, bytes
that are not UTF-8, a line longer than `MAX_LINE_BYTES`) is copied once, by
`write_line_safe_copy`, into a file it can read, with exactly one line per
line of the original:

- CRLF and LF both end a line (the CR is dropped);
- a line DuckDB could not hold as text (not UTF-8, a bare CR or a NUL inside,
  longer than `MAX_LINE_BYTES`) becomes a *marked* line: `MARK`, the reason,
  `MARK`, then the start of the line as text (undecodable bytes replaced),
  so the reader quarantines it with its line number and reason.

The copy works a megabyte at a time with bytes operations; only a block
holding a damaged line is looked at line by line. A file that cannot be read
at all (binary data, a truncated or corrupt gzip) raises `UnreadableFile`.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

MARK = "\x01"
MAX_LINE_BYTES = 16 << 20  # DuckDB's max_line_size for the fast path, too
KEPT_BYTES = 2000  # of a marked line, for its quarantine payload
SNIFF_BYTES = 8192
BLOCK = 1 << 20
_MARK = MARK.encode()


class UnreadableFile(Exception):
    """The file cannot be read as text at all; the message says why."""


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def open_binary(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # type: ignore[return-value]


def sniff(path: Path) -> None:
    """Raise `UnreadableFile` when the start of the file is not text."""
    try:
        with open_binary(path) as fh:
            head = fh.read(SNIFF_BYTES)
    except (gzip.BadGzipFile, zlib.error):
        raise UnreadableFile("not a gzip file, though its name ends in .gz") from None
    except EOFError:
        raise UnreadableFile("the gzip file is truncated") from None
    if b"\x00" in head:
        raise UnreadableFile("binary data, not text (NUL bytes in its first 8 KB)")


def write_line_safe_copy(source: Path, target: Path) -> None:
    """Copy `source` (gzip or not) to `target` (plain), line for line, as the module docstring says."""
    try:
        with open_binary(source) as fh, target.open("wb") as out:
            _copy(fh, out)
    except EOFError:
        raise UnreadableFile("the gzip file is truncated") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise UnreadableFile(f"the gzip data is corrupt ({exc})") from None


def _copy(fh: BinaryIO, out: BinaryIO) -> None:
    pending = b""
    overlong = 0  # bytes of a too-long line seen so far (0: none under way)
    while block := fh.read(BLOCK):
        data = pending + block
        cut = data.rfind(b"\n")
        if cut < 0:  # no line ends in this block
            pending = data
            if len(pending) > MAX_LINE_BYTES:
                if not overlong:
                    out.write(_marked(f"a line longer than {MAX_LINE_BYTES >> 20} MB", pending))
                overlong += len(pending)
                pending = b""
            continue
        lines, pending = data[: cut + 1], data[cut + 1 :]
        if overlong:  # the end of a too-long line: its mark is written already
            end = lines.index(b"\n") + 1
            lines, overlong = lines[end:], 0
        out.write(_clean(lines))
    if pending:
        out.write(_clean(pending + b"\n") if not overlong else b"")


def _clean(lines: bytes) -> bytes:
    """Whole lines (each ending in LF): CRLF made LF, damaged lines marked."""
    lines = lines.replace(b"\r\n", b"\n")
    if b"\r" not in lines and b"\x00" not in lines and len(lines) <= MAX_LINE_BYTES:
        try:
            lines.decode("utf-8")
            return lines
        except UnicodeDecodeError:
            pass
    return b"".join(_clean_line(line) + b"\n" for line in lines[:-1].split(b"\n"))


def _clean_line(line: bytes) -> bytes:
    if len(line) > MAX_LINE_BYTES:
        return _marked(f"a line longer than {MAX_LINE_BYTES >> 20} MB", line)[:-1]
    if b"\x00" in line:
        return _marked("binary data (a NUL byte) in the line", line)[:-1]
    if b"\r" in line:
        return _marked("a carriage return inside the line", line)[:-1]
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _marked(f"not UTF-8 text (byte {exc.start + 1} of the line)", line)[:-1]
    return line


def _marked(reason: str, line: bytes) -> bytes:
    shown = line[:KEPT_BYTES].decode("utf-8", errors="replace")
    shown = shown.replace("\r", " ").replace("\x00", " ").replace(MARK, " ")
    return _MARK + reason.encode() + _MARK + shown.encode("utf-8") + b"\n"
