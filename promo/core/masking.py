"""Personal data masked for display (个人信息, issue #16): the one function every page, the
admin, the API and the exports use, so a value is masked the same way everywhere.

- phone: the first three and last four digits, ``138****5678``; a short number keeps its last
  two (``****34``);
- e-mail: the first character of the name and the whole domain, ``z***@example.com``;
- WeChat id (and anything else): the first and last characters, ``w***9``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .signals import personal_data_revealed

STARS = "****"


def mask_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= 7:
        return f"{digits[:3]}{STARS}{digits[-4:]}"
    if len(digits) >= 3:
        return f"{STARS}{digits[-2:]}"
    return STARS


def mask_email(value: str) -> str:
    name, at, domain = value.partition("@")
    if not at:
        return mask_text(value)
    return f"{name[:1]}***@{domain}"


def mask_text(value: str) -> str:
    if len(value) <= 2:
        return "***"
    return f"{value[0]}***{value[-1]}"


def mask(value: str | None, kind: str = "text") -> str:
    """``value`` masked as a ``kind`` ("phone", "email", "wechat"/"text"); "" stays ""."""
    if not value:
        return ""
    value = str(value).strip()
    if kind == "phone":
        return mask_phone(value)
    if kind == "email":
        return mask_email(value)
    return mask_text(value)


# The kind of each personal-data field name, for the admin, the API and the exports.
FIELD_KINDS = {"phone": "phone", "email": "email", "wechat": "wechat", "contact_phone": "phone"}


def mask_field(name: str, value: str | None) -> str:
    return mask(value, FIELD_KINDS.get(name, "text"))


security_log = logging.getLogger("promo.security")


def announce_reveal(
    *, officer: Any, obj: Any, fields: Iterable[str], reason: str, request: Any = None
) -> list[str]:
    """Record that ``officer`` was shown ``obj``'s ``fields`` in full: one
    ``personal_data_revealed`` per field that holds a value (the audit trail listens) and a
    line in the ``promo.security`` log. Returns the fields announced."""
    shown = [name for name in fields if getattr(obj, name, "")]
    for name in shown:
        personal_data_revealed.send(
            sender=type(obj), officer=officer, obj=obj, field=name, reason=reason, request=request
        )
    if shown:
        security_log.info(
            "personal data revealed: officer=%s %s=%s fields=%s reason=%r",
            getattr(officer, "pk", None),
            obj._meta.label_lower,
            obj.pk,
            ",".join(shown),
            reason,
        )
    return shown
