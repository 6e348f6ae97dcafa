"""Issue #16 (身份鉴别): the password rules, tried as an officer would type them."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from promo.devtools.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

# Twelve weak passwords of the kind bureaus see: each refused, and with a reason.
WEAK = [
    "12345678901",
    "abcdefghijk",
    "zhaoshang123",
    "Zhaoshang2026",
    "Abcd@12345",
    DEMO_PASSWORD,
    "Admin@123456",
    "password123",
    "Qwertyuiop1!",
    "Qwer@1234",
    "1qaz@WSX3edc",
    "zsj123456",
]


def codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


def test_twelve_weak_passwords_are_all_refused():
    accepted = [password for password in WEAK if not codes(password)]
    assert accepted == []


def test_the_demo_password_and_the_bureau_weak_list_are_refused():
    assert "password_known" in codes(DEMO_PASSWORD)
    assert "password_known" in codes(DEMO_PASSWORD.upper())
    for password in ("Admin@123", "Zhaoshang@123", "1qaz@WSX3edc", "P@ssw0rd123"):
        assert codes(password), password


def test_fewer_than_three_kinds_of_characters_are_refused():
    assert "password_too_few_kinds" in codes("huangpuriver2027")  # lower and digits only
    assert "password_too_few_kinds" in codes("HUANGPU-RIVER")  # upper and a symbol
    assert "password_too_few_kinds" not in codes("Huangpu-river")
    assert codes("Huangpu-River-2027") == set()
    # Strong passwords that only contain a short run are still fine.
    assert codes("Abc-Huangpu-9") == set()
    assert codes("Mine-own-2026!y") == set()


def test_the_refusal_reads_in_the_officers_language():
    from django.utils import translation

    with translation.override("zh-hans"):
        try:
            validate_password("huangpuriver2027")
        except ValidationError as exc:
            assert "至少 3 类" in " ".join(exc.messages)
    with translation.override("en"):
        try:
            validate_password("huangpuriver2027")
        except ValidationError as exc:
            assert "at least 3" in " ".join(exc.messages)
