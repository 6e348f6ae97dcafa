"""Password rules beyond Django's (等保 2.0 身份鉴别, issue #16): characters of at least three
kinds, and none of the passwords published with promo or guessed first at a bureau."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# The demo password printed in the README and by seed_demo, and what is typed first at an
# investment bureau: refused everywhere (compared case-insensitively, digits and symbols kept).
KNOWN_PASSWORDS = frozenset(
    {
        "promo-demo-2026",
        "promodemo2026",
        "zhaoshang123",
        "zhaoshang@123",
        "zhaoshang2026",
        "zsj123456",
        "admin@123",
        "admin123456",
        "abc@123456",
        "qwer@1234",
        "password@123",
        "p@ssw0rd123",
        "1qaz@wsx3edc",
    }
)

_KINDS = (
    ("lower", re.compile(r"[a-z]")),
    ("upper", re.compile(r"[A-Z]")),
    ("digit", re.compile(r"[0-9]")),
    ("other", re.compile(r"[^a-zA-Z0-9]")),
)


class CharacterKindsValidator:
    """At least ``kinds`` of: lower-case letters, capitals, digits, other characters."""

    def __init__(self, kinds: int = 3) -> None:
        self.kinds = kinds

    def validate(self, password: str, user: Any = None) -> None:
        found = sum(1 for _name, pattern in _KINDS if pattern.search(password))
        if found < self.kinds:
            raise ValidationError(
                ngettext(
                    "密码须包含小写字母、大写字母、数字、其他符号中的至少 %(n)d 类。",
                    "密码须包含小写字母、大写字母、数字、其他符号中的至少 %(n)d 类。",
                    self.kinds,
                )
                % {"n": self.kinds},
                code="password_too_few_kinds",
            )

    def get_help_text(self) -> str:
        return _("至少包含小写字母、大写字母、数字、其他符号中的 %(n)d 类。") % {"n": self.kinds}


# Runs typed along the keyboard or the alphabet ("abcd", "qwer", "1234", "1qaz2wsx").
SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "01234567890",
    "1qaz2wsx3edc4rfv5tgb6yhn",
)
_RUNS = re.compile(r"[a-z]+|[0-9]+")


def _typed_along(password: str) -> bool:
    """Every run of letters and of digits in it is a stretch of a keyboard or alphabet row
    (forwards or backwards), and the runs together are most of it: "Abcd@12345"."""
    text = password.lower()
    runs = _RUNS.findall(text)
    if not runs or sum(len(run) for run in runs) < len(text) - 2:
        return False
    rows = SEQUENCES + tuple(row[::-1] for row in SEQUENCES)
    joined = "".join(runs)
    return all(any(run in row for row in rows) for run in runs) or any(
        joined in row for row in rows
    )


# Words a weak password is built on, with digits and symbols around them ("Admin@123456").
WEAK_WORDS = frozenset(
    {"admin", "password", "passw", "zhaoshang", "promo", "zsj", "root", "test", "welcome"}
)


def _word_and_digits(password: str) -> bool:
    letters = "".join(ch for ch in password.lower() if ch.isalpha())
    return letters in WEAK_WORDS


class KnownPasswordValidator:
    """Not a password published with promo (the demo's), nor one on the bureau's weak list, nor
    one typed along a keyboard or alphabet row, nor a weak word dressed in digits and symbols."""

    def validate(self, password: str, user: Any = None) -> None:
        if (
            password.strip().lower() in KNOWN_PASSWORDS
            or _typed_along(password)
            or _word_and_digits(password)
        ):
            raise ValidationError(
                _("这个密码是公开的演示密码或常见弱密码，请另选。"), code="password_known"
            )

    def get_help_text(self) -> str:
        return _("不能使用演示密码或常见弱密码。")


class PasswordHistoryValidator:
    """Not one of the officer's last ``keep`` passwords (等保 2.0, issue #16): compared with the
    hashes kept in ``officers.PasswordHistory``, which ``password_changed`` appends to."""

    def __init__(self, keep: int = 5) -> None:
        self.keep = keep

    def _recent(self, user: Any) -> list[str]:
        from officers.models import PasswordHistory

        hashes = list(
            PasswordHistory.objects.filter(officer_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[: self.keep]
        )
        if user.password and user.password not in hashes and len(hashes) < self.keep:
            hashes.append(user.password)  # the current one, set before history was kept
        return hashes

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None or self.keep <= 0:
            return
        if any(check_password(password, hashed) for hashed in self._recent(user)):
            raise ValidationError(
                ngettext(
                    "不能使用最近 %(n)d 次用过的密码。",
                    "不能使用最近 %(n)d 次用过的密码。",
                    self.keep,
                )
                % {"n": self.keep},
                code="password_reused",
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None or self.keep <= 0:
            return
        from officers.models import PasswordHistory

        PasswordHistory.objects.create(officer_id=user.pk, password=user.password)
        stale = PasswordHistory.objects.filter(officer_id=user.pk).order_by("-created_at", "-id")[
            self.keep :
        ]
        PasswordHistory.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()

    def get_help_text(self) -> str:
        return _("不能与最近 %(n)d 次用过的密码相同。") % {"n": self.keep}
