"""Secrets are scrubbed from the whole text before any cut: a token at every position of a long body."""

from __future__ import annotations

import base64

import pytest
from requests.auth import HTTPBasicAuth

from ingestion.http import SourceSession
from ingestion.http.scrub import QUOTE_CHARS, Scrubber
from ingestion.pages import SourceError

TOKEN = "ghp_s3cr3tT0kenValue19"
FILLER = "x" * 400


def forms() -> dict[str, str]:
    return {
        "raw": TOKEN,
        "base64": base64.b64encode(TOKEN.encode()).decode(),
        "basic pair": base64.b64encode(f"me@example.com:{TOKEN}".encode()).decode(),
    }


def fragments(secret: str, minimum: int = 6) -> list[str]:
    """Every piece of the secret long enough to matter."""
    return [secret[i:j] for i in range(len(secret)) for j in range(i + minimum, len(secret) + 1)]


@pytest.mark.parametrize("form", ["raw", "base64", "basic pair"])
def test_quote_never_shows_a_piece_of_the_secret_wherever_it_sits(form):
    secret = forms()[form]
    scrubber = Scrubber([TOKEN, "me@example.com:" + TOKEN])
    pieces = fragments(secret)
    # Every start position up to past the cut, so the secret straddles it in every way.
    for position in range(QUOTE_CHARS + len(secret) + 2):
        body = FILLER[:position] + secret + FILLER
        quoted = scrubber.quote(body)
        assert not any(piece in quoted for piece in pieces), (form, position, quoted)
        if position + len(secret) <= QUOTE_CHARS:
            assert "****" in quoted, (form, position)


def test_a_401_that_echoes_the_header_never_leaks_it(httpserver):
    """The issue's case: a real server echoing `Authorization` at every offset around the cut."""
    session = SourceSession("github", httpserver.url_for("/"), headers={"Authorization": f"Bearer {TOKEN}"})
    basic = SourceSession("jira", httpserver.url_for("/"), auth=HTTPBasicAuth("me@example.com", TOKEN))
    for position in range(QUOTE_CHARS - len(TOKEN) - 10, QUOTE_CHARS + 5):
        for made, header in ((session, f"Bearer {TOKEN}"), (basic, None)):
            httpserver.clear()
            echoed = header or "Basic " + forms()["basic pair"]
            httpserver.expect_request("/user").respond_with_data(
                FILLER[:position] + echoed + FILLER, status=401
            )
            with pytest.raises(SourceError) as err:
                made.request("GET", "/user")
            message = str(err.value)
            assert message.startswith(f"{made.source}: HTTP 401")
            assert not any(piece in message for piece in fragments(TOKEN)), (position, message)
            assert not any(piece in message for piece in fragments(forms()["basic pair"])), (
                position,
                message,
            )
