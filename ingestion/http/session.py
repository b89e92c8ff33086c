"""One retrying, rate-limit-aware `requests.Session` per source.

Two kinds of trouble, two mechanisms, each with a bound:

* Transient failures (connection errors, timeouts, 500/502/503/504) are
  retried by urllib3's `Retry`: exponential backoff with jitter, a 503's
  `Retry-After` honoured up to `RETRY_AFTER_MAX`, at most `TRANSIENT_RETRIES`
  retries per request.
* Rate limits are waited out here, on one budget per request
  (`max_rate_limit_wait`): a 429; GitHub's 403s (primary: quota at 0 until
  `x-ratelimit-reset`; secondary: quota left and often no `Retry-After`);
  Linear's `RATELIMITED` GraphQL errors. The wait comes from `Retry-After`,
  else the reset header of the exhausted quota (GitHub `x-ratelimit-*`, Okta
  `x-rate-limit-*`, Linear `x-ratelimit-requests-*` in milliseconds), else a
  minute doubling each time. A success that leaves the quota at 0 makes the
  next request wait for the reset instead of being refused.

Past either bound the request fails with a `SourceError` naming the source,
the URL and the HTTP status. Credentials never appear in errors or logs: URLs
are stripped of user info, and any secret the session sends is scrubbed from
response text quoted in an error.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import time
from collections.abc import Callable, Collection, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from urllib3.util.retry import Retry

from ingestion.http.recorded import RecordedAdapter
from ingestion.http.scrub import Scrubber
from ingestion.pages import SourceError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (10.0, 60.0)  # connect, read (seconds)
TRANSIENT_RETRIES = 5
BACKOFF_FACTOR = 1.0  # 0, 2, 4, 8, 16 s (+ up to 0.5 s jitter each)
BACKOFF_MAX = 30.0
RETRY_AFTER_MAX = 60  # a 503's Retry-After beyond this is cut to it
# One GitHub window is an hour: a request may wait for one reset, not more.
DEFAULT_MAX_RATE_LIMIT_WAIT = 3900.0
SECONDARY_LIMIT_WAIT = 60.0  # GitHub: "wait at least one minute", then longer

# Reset headers carry epoch seconds (GitHub, Okta) or epoch milliseconds (Linear).
RESET_HEADERS = ("x-ratelimit-reset", "x-rate-limit-reset", "x-ratelimit-requests-reset")
REMAINING_HEADERS = ("x-ratelimit-remaining", "x-rate-limit-remaining", "x-ratelimit-requests-remaining")


def reset_wait(headers: Any, now: float | None = None) -> float | None:
    """Seconds until a rate-limit window resets, from epoch reset headers."""
    now = time.time() if now is None else now
    for name in RESET_HEADERS:
        value = (headers.get(name) or "").strip()
        if value.isdigit():
            epoch = int(value)
            if epoch > 10**11:  # milliseconds
                epoch = epoch / 1000
            return max(0.0, epoch - now)
    return None


def quota_exhausted(headers: Any) -> bool:
    return any((headers.get(name) or "").strip() == "0" for name in REMAINING_HEADERS)


def retry_after(headers: Any, now: float | None = None) -> float | None:
    """`Retry-After` in seconds, given as seconds or as an HTTP date."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time() if now is None else now
    return max(0.0, moment.timestamp() - now)


def is_rate_limited(response: requests.Response) -> bool:
    """429 anywhere; GitHub's rate-limit 403s; Linear's RATELIMITED (400)."""
    if response.status_code == 429:
        return True
    if response.status_code not in (400, 403):
        return False
    if quota_exhausted(response.headers) or "retry-after" in response.headers:
        return True
    text = response.text[:2000].lower()
    return "rate limit" in text or "ratelimited" in text


class TransientRetry(Retry):
    """urllib3 retries for transient failures only.

    A 429 is left to `SourceSession`, which waits rate limits out on its own
    budget (urllib3 would otherwise sleep on its `Retry-After` unbounded by it).
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return False
        return super().is_retry(method, status_code, has_retry_after)


def default_retry(total: int = TRANSIENT_RETRIES, backoff_factor: float = BACKOFF_FACTOR) -> Retry:
    return TransientRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=backoff_factor,
        backoff_jitter=0.5,
        backoff_max=BACKOFF_MAX,
        retry_after_max=RETRY_AFTER_MAX,
        status_forcelist=(500, 502, 503, 504),
        # Jira's search and Linear's GraphQL queries are read-only POSTs.
        allowed_methods=frozenset({"GET", "POST", "HEAD"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def redact(url: str) -> str:
    """The URL without userinfo or fragment."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _secrets_of(headers: dict[str, str], auth: Any) -> list[str]:
    """Every string a credential could show up as, longest first."""
    found: set[str] = set()
    for name, value in headers.items():
        if name.lower() in ("authorization", "proxy-authorization", "x-api-key") and value:
            found.add(value)
            found.update(part for part in value.split() if len(part) >= 8)
    if isinstance(auth, HTTPBasicAuth):
        found.add(str(auth.password))
        pair = f"{auth.username}:{auth.password}".encode()
        found.add(base64.b64encode(pair).decode())
    return sorted((s for s in found if s), key=len, reverse=True)


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
        max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        recorded_dir: Path | None = None,
    ):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_rate_limit_wait = max_rate_limit_wait
        self.sleep = sleep
        self.requests_made = 0
        self.last_url: str | None = None  # redacted: where an unexpected error came from
        self.rate_limit_waits: list[float] = []
        self._resume_at = 0.0  # epoch seconds: an exhausted quota resets then
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "productops-warehouse/0.1"})
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.scrubber = Scrubber(_secrets_of(dict(self.session.headers), auth))
        # Room for a connector's parallel readers (Jira: read-ahead plus changelog workers).
        adapter = HTTPAdapter(max_retries=retry or default_retry(), pool_maxsize=8)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if recorded_dir is not None:
            self.session.mount(self.base_url, RecordedAdapter(recorded_dir, self.base_url))

    def url(self, path_or_url: str) -> str:
        if "://" in path_or_url:
            return path_or_url
        # Plain concatenation: urljoin ignores unknown schemes such as demo://.
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def scrub(self, text: str) -> str:
        """`text` with every credential this session sends replaced by ****."""
        return self.scrubber.scrub(text)

    def quote(self, text: str) -> str:
        """The start of a server's text for an error message, scrubbed whole before the cut."""
        return self.scrubber.quote(text)

    def request(
        self, method: str, path_or_url: str, *, accept_status: Collection[int] = (), **kwargs: Any
    ) -> requests.Response:
        """One request, retried and rate-limit-waited; raises SourceError on failure.

        Statuses in `accept_status` are returned rather than raised (GraphQL
        answers some errors with a 400 whose body says what went wrong).
        """
        url = self.url(path_or_url)
        params = kwargs.pop("params", None)
        if params:
            # Encoded here: requests leaves params off URLs of non-HTTP schemes
            # (the demo:// recordings), and a lost paging param loops forever.
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        self.last_url = redact(url)
        waited = 0.0
        attempt = 0
        while True:
            waited += self._wait_for_quota(url, waited)
            try:
                self.requests_made += 1
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                raise SourceError(
                    self.source, redact(url), f"request failed after retries: {type(exc).__name__}"
                ) from None
            self._note_quota(response)
            if not is_rate_limited(response):
                break
            wait = self._rate_limit_wait(response, attempt)
            if waited + wait > self.max_rate_limit_wait:
                raise SourceError(
                    self.source,
                    redact(url),
                    f"rate limited (HTTP {response.status_code}) for more than "
                    f"{self.max_rate_limit_wait:.0f}s in all (next wait {wait:.0f}s)",
                )
            log.warning(
                "%s: rate limited (HTTP %s) on %s, waiting %.0fs",
                self.source,
                response.status_code,
                redact(url),
                wait,
            )
            self._pause(wait)
            waited += wait
            attempt += 1
        if response.status_code >= 400 and response.status_code not in accept_status:
            reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
            raise SourceError(self.source, redact(url), f"{reason}: {self.quote(response.text)}")
        return response

    def _pause(self, seconds: float) -> None:
        self.rate_limit_waits.append(seconds)
        self.sleep(seconds)

    def _note_quota(self, response: requests.Response) -> None:
        """A success that used the last of the quota: wait for the reset before the next."""
        if response.status_code < 400 and quota_exhausted(response.headers):
            wait = reset_wait(response.headers)
            if wait is not None:
                self._resume_at = time.time() + wait + 1

    def _wait_for_quota(self, url: str, waited: float) -> float:
        wait = self._resume_at - time.time()
        self._resume_at = 0.0
        if wait <= 0:
            return 0.0
        if waited + wait > self.max_rate_limit_wait:
            raise SourceError(
                self.source,
                redact(url),
                f"quota exhausted; its reset is {wait:.0f}s away, beyond the "
                f"{self.max_rate_limit_wait:.0f}s allowed",
            )
        log.warning("%s: quota used up, waiting %.0fs for its reset", self.source, wait)
        self._pause(wait)
        return wait

    def _rate_limit_wait(self, response: requests.Response, attempt: int) -> float:
        hinted = retry_after(response.headers)
        if hinted is not None:
            return max(hinted, 1.0)
        reset = reset_wait(response.headers)
        if reset is not None and quota_exhausted(response.headers):
            return reset + 1
        # No hint (GitHub secondary limits, a bare 429): a minute, doubling.
        return SECONDARY_LIMIT_WAIT * 2**attempt

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


@contextlib.contextmanager
def connector_errors(session: SourceSession) -> Iterator[None]:
    """Any exception escaping a connector names the source and the URL it was reading.

    Errors of the warehouse itself (DuckDB) pass as they are: they are not the source's.
    """
    import duckdb

    try:
        yield
    except (SourceError, duckdb.Error):
        raise
    except Exception as exc:
        where = session.last_url or redact(session.base_url)
        message = session.scrub(f"unexpected {type(exc).__name__}: {exc}")
        raise SourceError(session.source, where, message) from exc


def make_session(source: str, base_url: str, demo_dir: Path | None = None, **kwargs: Any) -> SourceSession:
    """A session for `base_url`; `demo://<source>` URLs answer from the recording."""
    recorded = None
    if base_url.startswith("demo://"):
        if demo_dir is None:
            raise ValueError("a demo:// URL needs the demo directory")
        recorded = demo_dir / "api" / source
    return SourceSession(source, base_url, recorded_dir=recorded, **kwargs)
