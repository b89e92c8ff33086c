"""Usage event logs in `landing/usage/`: one JSONL file per month, one of them gzipped.

Each line: `timestamp` (ISO 8601 with the user's local offset; the Copilot
exporter writes UTC with `Z`), `user_email`, `tool` (the log alias),
`event`, `event_id`. One file carries a handful of deliberately bad lines
(broken JSON, a timestamp without offset, a missing field) and two events
delivered twice, few enough to stay far below the rejected-share threshold.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ingestion.demo.adoption import Session
from ingestion.demo.files import gzip_bytes, write_bytes
from ingestion.demo.timekeeping import Window, iso_local, iso_z_ms


@dataclass(frozen=True)
class UsageEvent:
    at: datetime
    email: str
    tool: str
    event: str
    event_id: str
    tz: ZoneInfo
    utc: bool

    def record(self) -> dict[str, str]:
        stamp = iso_z_ms(self.at) if self.utc else iso_local(self.at, self.tz)
        return {
            "timestamp": stamp,
            "user_email": self.email,
            "tool": self.tool,
            "event": self.event,
            "event_id": self.event_id,
        }


@dataclass(frozen=True)
class UsageSummary:
    files: list[str]
    events: int  # distinct valid events
    lines: int
    bad_lines: int
    duplicate_lines: int


def _line(record: dict[str, str]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def build_events(rng: random.Random, sessions: list[Session], window: Window) -> list[UsageEvent]:
    events = []
    for s in sessions:
        at = s.start
        # Figma logs the login as typed in the identity provider (case varies).
        email = s.person.okta_login if s.person and s.tool.tool_id == "figma" else s.email
        for _ in range(s.events):
            if at >= window.end:
                break
            events.append(
                UsageEvent(
                    at,
                    email,
                    s.tool.log_name,
                    rng.choice(s.tool.events),
                    f"{rng.getrandbits(64):016x}",
                    s.tz,
                    s.tool.utc_log,
                )
            )
            at += timedelta(seconds=rng.randint(20, 900), milliseconds=rng.randint(0, 999))
    events.sort(key=lambda e: (e.at, e.event_id))
    return events


def _damage(rng: random.Random, lines: list[str], events: list[UsageEvent]) -> tuple[int, int]:
    """Insert the bad and duplicated lines into one month's lines."""
    sample = events[len(events) // 3].record()
    truncated = _line(sample)[: len(_line(sample)) // 2]
    no_offset = dict(sample, event_id=f"{rng.getrandbits(64):016x}")
    no_offset["timestamp"] = no_offset["timestamp"][:19]
    missing = {k: v for k, v in sample.items() if k != "user_email"}
    missing["event_id"] = f"{rng.getrandbits(64):016x}"
    bad = [truncated, _line(no_offset), _line(missing)]
    # Two events delivered twice: once right away, once much later in the file.
    n = len(lines)
    first, second = lines[n // 5], lines[2 * n // 3]
    lines.insert(2 * n // 3 + 1 + min(150, n // 10), second)
    lines.insert(n // 5 + 1, first)
    m = len(lines)
    for position, text in zip((3 * m // 4, m // 2, m // 4), reversed(bad), strict=True):
        lines.insert(position, text)
    return len(bad), 2


def write_usage(
    rng: random.Random, usage_dir: Path, events: list[UsageEvent], window: Window
) -> UsageSummary:
    months: dict[str, list[UsageEvent]] = {}
    for e in events:
        months.setdefault(f"{e.at:%Y-%m}", []).append(e)
    names = sorted(months)
    damaged = names[-2] if len(names) > 1 else names[-1]
    # The busiest month other than the damaged one, which keeps the bad lines readable.
    compressed = max((n for n in names if n != damaged), key=lambda n: len(months[n]), default=names[0])
    bad = duplicates = lines_written = 0
    files = []
    for month in names:
        lines = [_line(e.record()) for e in months[month]]
        if month == damaged:
            bad, duplicates = _damage(rng, lines, months[month])
        data = ("\n".join(lines) + "\n").encode()
        lines_written += len(lines)
        if month == compressed:  # the exporter delivered this month gzipped
            name = f"events-{month}.jsonl.gz"
            data = gzip_bytes(data)
        else:
            name = f"events-{month}.jsonl"
        write_bytes(usage_dir / name, data)
        files.append(name)
    return UsageSummary(files, len(events), lines_written, bad, duplicates)
