"""One retrying, rate-limit-aware `requests.Session` per source.

Transient failures (connection errors, timeouts, 429, 5xx) are retried by
urllib3's `Retry` with exponential backoff and jitter, honouring
`Retry-After` and the reset headers of GitHub (`x-ratelimit-reset`) and Okta
(`x-rate-limit-reset`). GitHub's rate-limit 403s, which urllib3 cannot tell
from a real 403, are waited out here, within a bounded total wait. Errors
name the source, the URL and the status, never a credential.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ingestion.http.recorded import RecordedAdapter
from ingestion.pages import SourceError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (10.0, 60.0)  # connect, read (seconds)
RESET_HEADERS = ("x-ratelimit-reset", "x-rate-limit-reset")


def reset_wait(headers: Any, now: float | None = None) -> float | None:
    """Seconds until a rate-limit window resets, from epoch-second headers."""
    now = time.time() if now is None else now
    for name in RESET_HEADERS:
        value = headers.get(name)
        if value and value.strip().isdigit():
            return max(0.0, int(value) - now)
    return None


class RateLimitRetry(Retry):
    """urllib3 Retry that also waits for rate-limit reset headers on 429."""

    def get_retry_after(self, response: Any) -> float | None:
        retry_after = super().get_retry_after(response)
        if retry_after is None and response.status == 429:
            retry_after = reset_wait(response.headers)
        return retry_after


def default_retry(total: int = 6, backoff_factor: float = 1.0) -> Retry:
    return RateLimitRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=backoff_factor,
        backoff_jitter=0.5,
        backoff_max=60,
        status_forcelist=(429, 500, 502, 503, 504),
        # Jira's search is a read-only POST; retrying it is safe.
        allowed_methods=frozenset({"GET", "POST", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def redact(url: str) -> str:
    """The URL without userinfo or query values that could carry secrets."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def is_secondary_rate_limit(response: requests.Response) -> bool:
    """GitHub answers rate limits with 403 (or 429), sometimes with quota left."""
    if response.status_code not in (403, 429):
        return False
    if response.headers.get("x-ratelimit-remaining") == "0":
        return True
    if "retry-after" in response.headers:
        return True
    text = response.text[:500].lower()
    return "rate limit" in text


class SourceSession:
    """HTTP access to one source's API, relative to its base URL."""

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: Any = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: Retry | None = None,
        max_rate_limit_wait: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        recorded_dir: Path | None = None,
    ):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_rate_limit_wait = max_rate_limit_wait
        self.sleep = sleep
        self.requests_made = 0
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "productops-warehouse/0.1"})
        self.session.headers.update(headers or {})
        self.session.auth = auth
        adapter = HTTPAdapter(max_retries=retry or default_retry(), pool_maxsize=4)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if recorded_dir is not None:
            self.session.mount(self.base_url, RecordedAdapter(recorded_dir, self.base_url))

    def url(self, path_or_url: str) -> str:
        if "://" in path_or_url:
            return path_or_url
        # Plain concatenation: urljoin ignores unknown schemes such as demo://.
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> requests.Response:
        url = self.url(path_or_url)
        params = kwargs.pop("params", None)
        if params:
            # Encoded here: requests leaves params off URLs of non-HTTP schemes
            # (the demo:// recordings), and a lost paging param loops forever.
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        waited = 0.0
        while True:
            try:
                self.requests_made += 1
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                raise SourceError(
                    self.source, redact(url), f"request failed after retries: {type(exc).__name__}"
                ) from None
            if not is_secondary_rate_limit(response):
                break
            wait = self._rate_limit_wait(response)
            if waited + wait > self.max_rate_limit_wait:
                raise SourceError(
                    self.source,
                    redact(url),
                    f"rate limited (HTTP {response.status_code}) for more than "
                    f"{self.max_rate_limit_wait:.0f}s",
                )
            log.warning("%s: rate limited, waiting %.0fs", self.source, wait)
            self.sleep(wait)
            waited += wait
        if response.status_code >= 400:
            raise SourceError(
                self.source,
                redact(url),
                f"HTTP {response.status_code} {response.reason or ''}".strip() + f": {response.text[:200]!r}",
            )
        return response

    def _rate_limit_wait(self, response: requests.Response) -> float:
        retry_after = response.headers.get("retry-after")
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after)
        reset = reset_wait(response.headers)
        if reset is not None and response.headers.get("x-ratelimit-remaining") == "0":
            return reset + 1
        # GitHub: secondary limits without a hint — wait at least a minute.
        return 60.0

    def json(self, method: str, path_or_url: str, **kwargs: Any) -> tuple[Any, requests.Response]:
        """The parsed JSON body and the response (for its headers)."""
        response = self.request(method, path_or_url, **kwargs)
        try:
            return response.json(), response
        except (json.JSONDecodeError, ValueError):
            raise SourceError(
                self.source,
                redact(response.url or self.url(path_or_url)),
                f"response is not valid JSON (HTTP {response.status_code}, {len(response.content)} bytes)",
            ) from None


def make_session(source: str, base_url: str, demo_dir: Path | None = None, **kwargs: Any) -> SourceSession:
    """A session for `base_url`; `demo://<source>` URLs answer from the recording."""
    recorded = None
    if base_url.startswith("demo://"):
        if demo_dir is None:
            raise ValueError("a demo:// URL needs the demo directory")
        recorded = demo_dir / "api" / source
    return SourceSession(source, base_url, recorded_dir=recorded, **kwargs)
