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


def _change(client, old: str, new: str):
    return client.post(
        "/password/", {"old_password": old, "new_password1": new, "new_password2": new}
    )


def test_a_new_account_changes_its_password_at_the_first_sign_in(bureau, settings):
    from django.test import Client

    from officers.services import officer_create

    settings.SECURE_SSL_REDIRECT = False
    officer = officer_create(
        actor=bureau.shanghai_head,
        username="new_colleague",
        password="Chosen-by-Head-2026",
        full_name="新同事",
        unit=bureau.shanghai,
    )
    assert officer.must_change_password
    client = Client()
    client.post("/login/", {"username": "new_colleague", "password": "Chosen-by-Head-2026"})
    assert client.get("/leads/")["Location"].startswith("/password/")
    assert _change(client, "Chosen-by-Head-2026", "My-own-Choice-77").status_code == 302
    assert client.get("/leads/").status_code == 200


def test_none_of_the_last_five_passwords_comes_back(bureau, settings):
    from django.test import Client

    from officers.models import Officer, PasswordHistory
    from tests.factories import PASSWORD

    settings.SECURE_SSL_REDIRECT = False
    officer = bureau.shanghai_officer
    client = Client()
    client.force_login(officer)
    refused = _change(client, PASSWORD, PASSWORD)  # the current one
    assert refused.status_code == 200 and "最近 5 次" in refused.content.decode()
    current = PASSWORD
    chain = [f"Huangpu-River-{n}x" for n in range(1, 6)]
    for new in chain:
        assert _change(client, current, new).status_code == 302, new
        client.force_login(Officer.objects.get(pk=officer.pk))
        current = new
    # The first of the five is still remembered; the original one (six ago) is not.
    again = _change(client, current, chain[0])
    assert again.status_code == 200 and "最近 5 次" in again.content.decode()
    assert PasswordHistory.objects.filter(officer=officer).count() == 5
    assert _change(client, current, PASSWORD).status_code == 302
