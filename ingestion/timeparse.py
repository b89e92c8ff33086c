"""Parsing of the instants source APIs send, to UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant with an offset (`Z`, `+02:00` or Jira's `+0200`) in UTC.

    Raises ValueError for a value without an offset: guessing a zone would
    shift durations silently.
    """
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def to_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
