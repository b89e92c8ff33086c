"""The shared HTTP layer against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from ingestion.http.session import SourceSession, default_retry, redact, reset_wait, retry_after
from ingestion.pages import SourceError


def _session(httpserver, source: str = "github", **kwargs) -> SourceSession:
    sleeps: list[float] = []
    session = SourceSession(
        source,
        httpserver.url_for("/"),
        retry=default_retry(total=3, backoff_factor=0.01),
        sleep=sleeps.append,
        **kwargs,
    )
    session.sleeps = sleeps  # type: ignore[attr-defined]
    return session


def test_retries_5xx_then_succeeds(httpserver):
    httpserver.expect_ordered_request("/thing").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/thing").respond_with_json({"ok": True})
    data, _ = _session(httpserver).json("GET", "/thing")
    assert data == {"ok": True}


def test_429_with_retry_after_is_waited_out(httpserver):
    httpserver.expect_ordered_request("/thing").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/thing").respond_with_json([1, 2])
    data, _ = _session(httpserver).json("GET", "/thing")
    assert data == [1, 2]


def test_github_secondary_rate_limit_403_is_waited_out(httpserver):
    # Secondary limits arrive as 403 with quota left and no Retry-After.
    httpserver.expect_ordered_request("/repos/a/b/issues").respond_with_json(
        {"message": "You have exceeded a secondary rate limit."},
        status=403,
        headers={"x-ratelimit-remaining": "4000"},
    )
    httpserver.expect_ordered_request("/repos/a/b/issues").respond_with_json([])
    session = _session(httpserver)
    data, _ = session.json("GET", "/repos/a/b/issues")
    assert data == []
    assert session.sleeps == [60.0]


def test_primary_rate_limit_waits_until_reset(httpserver):
    import time

    reset = int(time.time()) + 30
    httpserver.expect_ordered_request("/x").respond_with_json(
        {"message": "API rate limit exceeded"},
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": 1})
    session = _session(httpserver)
    session.json("GET", "/x")
    assert 29 <= session.sleeps[0] <= 32


def test_rate_limit_wait_is_bounded(httpserver):
    httpserver.expect_request("/x").respond_with_json({"message": "secondary rate limit"}, status=403)
    session = _session(httpserver, max_rate_limit_wait=100)
    with pytest.raises(SourceError, match=r"rate limited \(HTTP 403\) for more than 100s"):
        session.json("GET", "/x")


def test_plain_403_fails_at_once_naming_source_url_and_status(httpserver):
    httpserver.expect_request("/private").respond_with_json({"message": "Forbidden"}, status=403)
    with pytest.raises(SourceError) as info:
        _session(httpserver).json("GET", "/private")
    assert "github" in str(info.value) and "/private" in str(info.value) and "403" in str(info.value)


def test_invalid_json_names_the_url(httpserver):
    httpserver.expect_request("/page").respond_with_data("<html>oops", content_type="application/json")
    with pytest.raises(SourceError, match=r"not valid JSON.*"):
        _session(httpserver).json("GET", "/page")


def test_timeout_is_retried(httpserver):
    import time

    calls = {"n": 0}

    def slow_then_fast(request):
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(1.5)
        return Response(json.dumps({"ok": calls["n"]}), content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow_then_fast)
    data, _ = _session(httpserver, timeout=(2, 0.5)).json("GET", "/slow")
    # The test server answers one request at a time, so a retry may queue
    # behind the slow one and time out too; what matters is that it recovers.
    assert calls["n"] >= 2
    assert data == {"ok": calls["n"]}


def test_tokens_never_in_errors_or_logs(httpserver, caplog):
    import base64
    import logging

    from requests.auth import HTTPBasicAuth

    token = "ATATT3xFfGF0-jira-token-value"
    basic = base64.b64encode(f"bot@example.com:{token}".encode()).decode()

    def echo_credentials(request):
        # A careless server quoting the credentials back in its error body.
        return Response(json.dumps({"message": f"bad {request.headers.get('Authorization')}"}), status=401)

    httpserver.expect_ordered_request("/search").respond_with_data("boom", status=502)
    httpserver.expect_ordered_request("/search").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "2"}
    )
    httpserver.expect_ordered_request("/search").respond_with_json({"ok": True})
    httpserver.expect_ordered_request("/private").respond_with_handler(echo_credentials)
    caplog.set_level(logging.DEBUG)
    session = _session(httpserver, source="jira", auth=HTTPBasicAuth("bot@example.com", token))
    session.json("GET", "/search")
    with pytest.raises(SourceError) as info:
        session.json("GET", "/private")
    assert "401" in str(info.value) and "/private" in str(info.value) and "****" in str(info.value)
    logged = caplog.text
    assert "rate limited (HTTP 429)" in logged  # the logs did record the episode...
    for secret in (token, basic):  # ...but never a credential
        assert secret not in str(info.value)
        assert secret not in logged


def test_bearer_token_scrubbed_from_quoted_body(httpserver):
    httpserver.expect_request("/x").respond_with_json(
        {"message": "Bad credentials: Bearer ghp_supersecret0123"}, status=401
    )
    session = _session(httpserver, headers={"Authorization": "Bearer ghp_supersecret0123"})
    with pytest.raises(SourceError) as info:
        session.json("GET", "/x")
    assert "supersecret" not in str(info.value)


def test_transient_retries_are_bounded_then_name_source_url_and_status(httpserver):
    httpserver.expect_request("/flaky").respond_with_data("unavailable", status=503)
    session = _session(httpserver)  # three retries
    with pytest.raises(SourceError) as info:
        session.json("GET", "/flaky")
    assert str(info.value).startswith("github: HTTP 503 SERVICE UNAVAILABLE")
    assert str(info.value).endswith(f"({httpserver.url_for('/flaky')})")
    assert len(httpserver.log) == 4  # the request and three retries, no more


def test_okta_429_waits_for_x_rate_limit_reset(httpserver):
    import time

    reset = int(time.time()) + 40
    httpserver.expect_ordered_request("/api/v1/logs").respond_with_json(
        {"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests."},
        status=429,
        headers={
            "x-rate-limit-limit": "600",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    httpserver.expect_ordered_request("/api/v1/logs").respond_with_json([])
    session = _session(httpserver, source="okta")
    assert session.json("GET", "/api/v1/logs")[0] == []
    assert 39 <= session.sleeps[0] <= 42


def test_a_success_that_empties_the_quota_delays_the_next_request(httpserver):
    import time

    reset = int(time.time()) + 30
    quota = {"x-rate-limit-limit": "600", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    httpserver.expect_ordered_request("/api/v1/logs").respond_with_json([1], headers=quota)
    httpserver.expect_ordered_request("/api/v1/logs").respond_with_json([2])
    session = _session(httpserver, source="okta")
    assert session.json("GET", "/api/v1/logs")[0] == [1]
    assert session.sleeps == []  # nothing refused yet, nothing waited
    assert session.json("GET", "/api/v1/logs")[0] == [2]
    assert len(session.sleeps) == 1 and 29 <= session.sleeps[0] <= 32


def test_a_quota_reset_beyond_the_budget_fails_clearly(httpserver):
    import time

    quota = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 7200)}
    httpserver.expect_request("/x").respond_with_json([], headers=quota)
    session = _session(httpserver, max_rate_limit_wait=600)
    session.json("GET", "/x")
    with pytest.raises(
        SourceError, match=r"github: quota exhausted; its reset is \d+s away, beyond the 600s"
    ):
        session.json("GET", "/x")


def test_reset_headers_in_seconds_and_in_milliseconds():
    now = 1_800_000_000.0
    assert reset_wait({"x-ratelimit-reset": "1800000030"}, now=now) == 30
    assert reset_wait({"x-rate-limit-reset": "1800000045"}, now=now) == 45
    # Linear sends epoch milliseconds.
    assert reset_wait({"x-ratelimit-requests-reset": "1800000012500"}, now=now) == 12.5
    assert reset_wait({}, now=now) is None


def test_retry_after_in_seconds_or_as_a_date():
    now = 1_800_000_000.0
    assert retry_after({"retry-after": "12"}, now=now) == 12
    # 1_800_000_020 as an HTTP date.
    assert retry_after({"retry-after": "Fri, 15 Jan 2027 08:00:20 GMT"}, now=now) == 20
    assert retry_after({}, now=now) is None


def test_redact_drops_userinfo():
    assert redact("https://user:pw@example.com:8443/a?b=1") == "https://example.com:8443/a?b=1"
