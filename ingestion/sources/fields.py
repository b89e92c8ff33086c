"""Reading one field of an API record, with an error that names the field.

A record whose field has the wrong type or is missing is quarantined (see
`reject`), and the rest of its page lands. The reason names the field and
what was wrong, e.g. `field 'updated_at': expected an ISO 8601 timestamp
text, got int 1735689600`.
"""

from __future__ import annotations

import json
from typing import Any

from ingestion.pages import Page, Rejected
from ingestion.timeparse import parse_instant, to_iso

PAYLOAD_CHARS = 10000


class Unreadable(ValueError):
    """A field of a record that cannot be read."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"field {field!r}: {problem}")
        self.field = field


# What reading a record may raise besides Unreadable: a safety net for code that indexes by hand.
UNREADABLE = (Unreadable, KeyError, TypeError, ValueError, AttributeError, IndexError)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def value(record: Any, path: str) -> Any:
    """`record["a"]["b"]` for path "a.b"; never None."""
    current = record
    walked: list[str] = []
    for part in path.split("."):
        walked.append(part)
        if not isinstance(current, dict):
            where = ".".join(walked[:-1]) or "record"
            raise Unreadable(path, f"{where} is {type(current).__name__}, not an object")
        if part not in current:
            raise Unreadable(path, "missing")
        current = current[part]
    if current is None:
        raise Unreadable(path, "null")
    return current


def text(record: Any, path: str) -> str:
    """A non-empty string (a number is taken as its text: ids come both ways)."""
    found = value(record, path)
    if isinstance(found, bool) or not isinstance(found, str | int):
        raise Unreadable(path, f"expected text, got {type(found).__name__} {_shown(found)}")
    result = str(found)
    if not result.strip():
        raise Unreadable(path, "empty")
    return result


def integer(record: Any, path: str) -> int:
    found = value(record, path)
    if isinstance(found, bool):
        raise Unreadable(path, f"expected an integer, got {_shown(found)}")
    try:
        return int(found)
    except (TypeError, ValueError):
        raise Unreadable(path, f"expected an integer, got {type(found).__name__} {_shown(found)}") from None


def instant(record: Any, path: str) -> str:
    """An ISO 8601 timestamp with an offset, as UTC ISO text."""
    found = value(record, path)
    if not isinstance(found, str):
        kind = type(found).__name__
        raise Unreadable(path, f"expected an ISO 8601 timestamp text, got {kind} {_shown(found)}")
    try:
        return to_iso(parse_instant(found))
    except ValueError as exc:
        raise Unreadable(path, str(exc)) from None


def reject(page: Page, stream: str, locator: str, what: str, error: Exception, record: Any) -> None:
    """Quarantine `record`: the reason names the field (or the error) and where it came from."""
    if isinstance(error, Unreadable):
        reason = f"{what} unreadable: {error}"
    elif isinstance(error, KeyError):
        reason = f"{what} unreadable: field {error} missing"
    else:
        reason = f"{what} unreadable: {type(error).__name__}: {error}"
    try:
        payload = json.dumps(record, default=str)[:PAYLOAD_CHARS]
    except (TypeError, ValueError):
        payload = repr(record)[:PAYLOAD_CHARS]
    page.rejected.append(Rejected(stream, locator, reason, payload))
