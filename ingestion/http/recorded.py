"""A requests transport that answers from recorded exchanges.

The demo organisation (and tests) record real-format API responses on disk;
mounting this adapter on `demo://<source>` lets the connectors run their live
code path, paging and parsing included, against the recording. Only the
transport is swapped, never the parser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict


def _is_subset(recorded: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(str(actual.get(k)) == str(v) for k, v in recorded.items())


class RecordedAdapter(BaseAdapter):
    """Serves `<dir>/exchanges.jsonl` for requests under one base URL."""

    def __init__(self, directory: Path, base_url: str):
        super().__init__()
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        index = directory / "exchanges.jsonl"
        self.exchanges = [json.loads(line) for line in index.read_text().splitlines() if line.strip()]

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        params = dict(parse_qsl(parts.query))
        body = json.loads(request.body) if request.body else {}
        candidates = [
            e
            for e in self.exchanges
            if e["method"] == request.method
            and e["path"] == parts.path
            and _is_subset(e.get("params", {}), params)
            and _is_subset(e.get("json", {}), body)
        ]
        response = requests.Response()
        response.request = request
        response.url = request.url
        if not candidates:
            response.status_code = 404
            response._content = json.dumps({"message": f"no recording for {parts.path}"}).encode()
            response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
            return response
        # The most specific recording wins: page 1 records no paging token.
        best = max(candidates, key=lambda e: len(e.get("params", {})) + len(e.get("json", {})))
        response.status_code = best.get("status", 200)
        response.headers = CaseInsensitiveDict(
            {k: v.replace("{base}", self.base_url) for k, v in best.get("headers", {}).items()}
        )
        response._content = (
            (self.directory / best["body_file"]).read_bytes().replace(b"{base}", self.base_url.encode())
        )
        response.encoding = "utf-8"
        return response

    def close(self) -> None:  # nothing to release
        pass
