"""Bearer secrets: API tokens and calendar-feed addresses.

Each is 256 random bits, shown once and stored only as its SHA-256, looked up by equality on
a unique index. A fast hash is enough for secrets of that length (no password-style
stretching): guessing a live one is hopeless, and the stored hash does not give it back.
"""

from __future__ import annotations

import hashlib
import secrets

SECRET_BYTES = 32


def new_secret(nbytes: int = SECRET_BYTES) -> str:
    """A URL-safe random secret of ``nbytes`` random bytes."""
    return secrets.token_urlsafe(nbytes)


def secret_hash(secret: str) -> str:
    """The stored form of a secret: its SHA-256 in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()
