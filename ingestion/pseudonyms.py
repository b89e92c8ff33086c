"""Pseudonymous keys: identities are hashed the moment they are read.

A respondent key is a salted SHA-256, so nobody without the salt (which comes
only from the environment) can test a guessed email against it. Parts are
joined with the ASCII unit separator so that ("ab", "c") and ("a", "bc") never
hash alike.
"""

from __future__ import annotations

import hashlib

from ingestion.config import Secret

SEPARATOR = "\x1f"


def stable_hash(*parts: str) -> str:
    """SHA-256 hex of the parts; for keys that hold no identity (file + line, …)."""
    return hashlib.sha256(SEPARATOR.join(parts).encode("utf-8")).hexdigest()


def respondent_key(salt: Secret, survey_id: str, identity: str) -> str:
    """The salted key of one respondent of one survey; the identity (an email)
    is compared lower-cased and trimmed, so `Ann@X.com ` and `ann@x.com` match."""
    return stable_hash(salt.value, survey_id, identity.strip().lower())
