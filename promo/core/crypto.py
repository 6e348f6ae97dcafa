"""Field-level encryption of personal data (个人信息, issue #16) and its blind index.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a
MultiFernet of the keys in ``settings.PROMO_FIELD_KEYS``: every key decrypts, the first
encrypts, so a new key is put first, ``manage.py rotate_field_keys`` re-encrypts every row
and the old key is then dropped (docs/operations.md). A stored value starts with ``enc1:``;
one without the prefix is a value written before encryption and is read as it is (the data
migration leaves none behind).

A ciphertext cannot be matched, so lookups that need the clear value (duplicates by phone
number, the admin's search) compare a **blind index**: HMAC-SHA256 of the normalised value
under ``settings.PROMO_BLIND_INDEX_KEY`` (a key of its own, so knowing it reveals no value).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

PREFIX = "enc1:"


def derive_development_key(secret: str, purpose: str = "field") -> str:
    """A Fernet key derived from ``SECRET_KEY``: for DEBUG and tests only (settings refuse it
    in production)."""
    digest = hashlib.sha256(f"promo-{purpose}-key:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@functools.lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PROMO_FIELD_KEYS))


def is_encrypted(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def encrypt(value: str | None) -> str:
    """The stored form of ``value``: "" stays "" (a blank field says nothing)."""
    if not value:
        return ""
    if is_encrypted(value):
        return str(value)
    return PREFIX + fernet().encrypt(str(value).encode()).decode()


def decrypt(stored: str | None) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored  # written before encryption (the data migration encrypts these)
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise InvalidToken(
            "A personal-data field cannot be decrypted: none of PROMO_FIELD_KEYS fits."
        ) from exc


def reencrypt(stored: str | None) -> str:
    """The same value encrypted under the first key (rotation); a clear value gets encrypted."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return encrypt(stored)
    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode()).decode()


def first_key_encrypted(stored: str | None) -> bool:
    """Whether ``stored`` is already under the first key (rotation skips those rows)."""
    if not is_encrypted(stored):
        return not stored
    assert stored is not None
    first = Fernet(settings.PROMO_FIELD_KEYS[0].encode())
    try:
        first.decrypt(stored[len(PREFIX) :].encode())
    except InvalidToken:
        return False
    return True


# --- blind index ---------------------------------------------------------------------------

_NOT_DIGIT = re.compile(r"\D")


def normalize_phone(value: str) -> str:
    """Digits only, without China's country code: "+86 138-0013-8000" ~ "13800138000"."""
    digits = _NOT_DIGIT.sub("", value or "")
    for code in ("0086", "86"):
        if digits.startswith(code) and len(digits) - len(code) == 11:
            return digits[len(code) :]
    return digits


def normalize(kind: str, value: str) -> str:
    if kind == "phone":
        return normalize_phone(value)
    return (value or "").strip().lower()


def blind_index(kind: str, value: str | None) -> str:
    """HMAC-SHA256 (hex) of the normalised value, "" for a blank one. ``kind`` ("phone",
    "email", "wechat") is part of the message, so equal strings of two kinds do not match."""
    clean = normalize(kind, value or "")
    if not clean:
        return ""
    key = settings.PROMO_BLIND_INDEX_KEY.encode()
    return hmac.new(key, f"{kind}:{clean}".encode(), hashlib.sha256).hexdigest()
