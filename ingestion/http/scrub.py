"""One scrubber for every message that quotes what a server sent.

A server may echo the request's credentials (a 401 body quoting the
`Authorization` header, an error page dumping headers). Every message that
quotes a response goes through `Scrubber.quote`, which scrubs the WHOLE text
first and only then cuts it: cutting first could split a secret across the
cut and leave most of it in the message.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

MASK = "****"
QUOTE_CHARS = 200


def secret_forms(secret: str) -> set[str]:
    """The secret as sent and as base64 (standard and URL-safe, with and without padding)."""
    raw = secret.encode()
    forms = {secret}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms.update({encoded, encoded.rstrip("=")})
    return {form for form in forms if form}


class Scrubber:
    def __init__(self, secrets: Iterable[str]):
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= secret_forms(secret)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def scrub(self, text: str) -> str:
        """`text` with every form of every secret replaced by ****."""
        return self._pattern.sub(MASK, text) if self._pattern else text

    def quote(self, text: str, limit: int = QUOTE_CHARS) -> str:
        """The start of `text` for an error message: scrubbed whole, then cut, then repr-quoted."""
        clean = self.scrub(text)
        return repr(clean[:limit] + ("..." if len(clean) > limit else ""))
