"""A local HTTP server that answers API requests from recorded exchanges.

`http://127.0.0.1:<port>/<source>/...` serves `<api>/<source>/exchanges.jsonl`
with a fixed latency per request, so the connectors run their live code path
(HTTP, auth headers, paging, JSON parsing) against it. Matching is
`ingestion.http.recorded.RecordedAdapter`'s own: the adapter is handed the
request and answers it. The one addition is an index: the adapter scans every
exchange per request, which at 10 000 search pages costs more than the
request, so each request is first narrowed to the exchanges that can match
(same method and path, recorded parameters among the request's), and the
adapter chooses among those.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from ingestion.http.recorded import RecordedAdapter

MAX_INDEXED_KEYS = 10  # request parameters tried as a subset (2**10 lookups at most)


# Paths a connector reads several at a time, in parallel with its chain of
# pages (each page's token comes from the last): Jira's full changelogs. The
# latency bound counts these at the connector's concurrency, the rest serially.
FAN_OUT = re.compile(r"rest/api/3/issue/[^/]+/changelog")


def _items(values: dict[str, Any]) -> frozenset[tuple[str, str]]:
    return frozenset((k, str(v)) for k, v in values.items())


@dataclass
class SourceStats:
    requests: int = 0
    bytes: int = 0
    busy_seconds: float = 0.0  # summed over requests, latency included
    first: float | None = None
    last: float | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    fan_out: int = 0  # requests a connector may send several at once (FAN_OUT)

    def as_dict(self) -> dict[str, Any]:
        span = (self.last - self.first) if self.first is not None and self.last is not None else 0.0
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "busy_seconds": round(self.busy_seconds, 3),
            "span_seconds": round(span, 3),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "fan_out_requests": self.fan_out,
        }


class RecordedSource:
    """One source's recording, indexed by (method, path) and recorded parameters."""

    def __init__(self, directory: Path, base_url: str):
        self.adapter = RecordedAdapter(directory, base_url)
        self.index: dict[tuple[str, str], dict[frozenset, list[dict]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for exchange in self.adapter.exchanges:
            recorded = _items(exchange.get("params", {})) | _items(exchange.get("json", {}))
            self.index[(exchange["method"], exchange["path"])][recorded].append(exchange)

    def candidates(self, method: str, path: str, params: dict, body: dict) -> list[dict]:
        by_items = self.index.get((method, path))
        if not by_items:
            return []
        offered = sorted(_items(params) | _items(body if isinstance(body, dict) else {}))
        if len(offered) > MAX_INDEXED_KEYS:  # unusual: let the adapter scan this path
            return [e for group in by_items.values() for e in group]
        found: list[dict] = []
        for size in range(len(offered) + 1):
            for subset in itertools.combinations(offered, size):
                found += by_items.get(frozenset(subset), ())
        return found

    def answer(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = {}
        adapter = copy.copy(self.adapter)  # per request: thread-safe narrowing
        adapter.exchanges = self.candidates(method, parts.path, params, parsed)
        prepared = requests.Request(method, url, data=body or None, headers=headers).prepare()
        return adapter.send(prepared)


class RecordingServer:
    """Serves every `<api>/<source>/` recording under `/<source>`, in a background thread."""

    def __init__(self, api_dir: Path, *, latency_ms: float = 20.0, host: str = "127.0.0.1", port: int = 0):
        self.latency = latency_ms / 1000.0
        self.sources: dict[str, RecordedSource] = {}
        self.stats: dict[str, SourceStats] = defaultdict(SourceStats)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://{host}:{self.httpd.server_address[1]}"
        self.load(api_dir)
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="recording-server", daemon=True)

    def url(self, source: str) -> str:
        return f"{self.base}/{source}"

    def load(self, api_dir: Path) -> None:
        """Serve the recordings under `api_dir` from now on (e.g. the increment's)."""
        sources = {
            d.name: RecordedSource(d, self.url(d.name))
            for d in sorted(api_dir.iterdir())
            if (d / "exchanges.jsonl").exists()
        }
        with self._lock:
            self.sources = sources

    def reset_stats(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            snapshot = {name: s.as_dict() for name, s in self.stats.items()}
            self.stats = defaultdict(SourceStats)
        return snapshot

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; with Nagle on, the
                # second waits for the client's delayed ACK (40 ms on Linux)
                # on every kept-alive request. Real API servers turn it off.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _serve(self) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                _, source, rest = [*self.path.split("/", 2), "", ""][:3]
                recorded = server.sources.get(source)
                if server.latency:
                    time.sleep(server.latency)
                if recorded is None:
                    status, headers, content = (
                        404,
                        {"Content-Type": "application/json"},
                        b'{"message":"no such source"}',
                    )
                else:
                    url = f"{server.base}/{rest}"
                    response = recorded.answer(self.command, url, body, dict(self.headers))
                    status, headers, content = response.status_code, dict(response.headers), response.content
                # Counted before the response goes out: a client that has its answer
                # must find its request in the stats.
                elapsed = time.perf_counter() - started
                with server._lock:
                    stats = server.stats[source]
                    stats.requests += 1
                    stats.bytes += len(content)
                    stats.busy_seconds += elapsed
                    stats.fan_out += bool(FAN_OUT.search(rest.split("?", 1)[0]))
                    stats.statuses[status] = stats.statuses.get(status, 0) + 1
                    now = time.time()
                    stats.first = now - elapsed if stats.first is None else stats.first
                    stats.last = now
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _serve
            do_POST = _serve

        return Handler
