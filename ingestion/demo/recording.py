"""Recorded HTTP exchanges in the format `ingestion/http/recorded.py` replays.

Each exchange is one line of `api/<source>/exchanges.jsonl`; its body lives in
`pages/…`. Only paging parameters are recorded (`params` for the query string,
`json` for a POST body): the adapter matches recorded values as a subset of
the request's, so a first page records nothing and matches a request without
a paging token, whatever live-only parameters (`jql`, `since`, `per_page`) the
connector sends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingestion.demo.files import dump_json, write_text


class Recorder:
    """Collects one source's exchanges and writes their bodies as it goes."""

    def __init__(self, source_dir: Path):
        self.source_dir = source_dir
        self.exchanges: list[dict[str, Any]] = []
        self.bytes_written = 0

    def add(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        page_file: str,
        params: dict[str, str] | None = None,
        json_body: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> None:
        body_file = f"pages/{page_file}"
        self.bytes_written += write_text(self.source_dir / body_file, dump_json(body))
        self.exchanges.append(
            {
                "method": method,
                "path": path,
                "params": {k: str(v) for k, v in (params or {}).items()},
                "json": dict(json_body or {}),
                "status": status,
                "headers": dict(headers or {}),
                "body_file": body_file,
            }
        )

    def finish(self) -> int:
        """Write `exchanges.jsonl`; returns the number of exchanges."""
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.exchanges)
        self.bytes_written += write_text(self.source_dir / "exchanges.jsonl", lines)
        return len(self.exchanges)
