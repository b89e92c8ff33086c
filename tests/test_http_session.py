"""The shared HTTP layer against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from werkzeug import Response

from ingestion.http.session import SourceSession, default_retry, redact
from ingestion.pages import SourceError


def _session(httpserver, **kwargs) -> SourceSession:
    sleeps: list[float] = []
    session = SourceSession(
        "github",
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


def test_token_never_in_error_text(httpserver):
    httpserver.expect_request("/x").respond_with_json({"message": "Bad credentials"}, status=401)
    session = _session(httpserver, headers={"Authorization": "Bearer ghp_supersecret"})
    with pytest.raises(SourceError) as info:
        session.json("GET", "/x")
    assert "supersecret" not in str(info.value)


def test_redact_drops_userinfo():
    assert redact("https://user:pw@example.com:8443/a?b=1") == "https://example.com:8443/a?b=1"
