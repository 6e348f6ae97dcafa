"""Issue #13, finding 4: no account takeover through the admin. Only a security administrator
(安全管理员, a role of its own since 三员分立; or a superuser installing promo) resets another
officer's password; the reset is logged and forces a change at the next sign-in. Only they
grant the role itself."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from officers.choices import Role
from officers.models import Officer
from tests.factories import PASSWORD, make_officer

pytestmark = pytest.mark.django_db

NEW = "Reset-by-admin-2026!x"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def _with_officer_rights(officer: Officer) -> Officer:
    """The officer may edit officers in the admin (the permission the finding needed)."""
    officer.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_officer", "view_officer"])
    )
    return Officer.objects.get(pk=officer.pk)


def _reset(client, target: Officer):
    return client.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )


def _unchanged(target: Officer) -> bool:
    fresh = Officer.objects.get(pk=target.pk)
    return fresh.check_password(PASSWORD) and not fresh.must_change_password


def test_a_unit_head_with_officer_rights_cannot_reset_a_colleagues_password(client, bureau):
    client.force_login(_with_officer_rights(bureau.shanghai_head))
    assert _reset(client, bureau.shanghai_officer).status_code == 403
    assert _unchanged(bureau.shanghai_officer)


def test_a_chief_cannot_reset_a_superusers_password(client, bureau):
    root = make_officer(bureau.bureau, is_superuser=True)
    client.force_login(_with_officer_rights(bureau.chief))
    assert _reset(client, root).status_code in (403, 404)
    assert _unchanged(root)
    # Nor an ordinary officer's: a chief is not a security administrator.
    assert _reset(client, bureau.shanghai_officer).status_code == 403
    assert _unchanged(bureau.shanghai_officer)


def test_a_security_administrator_resets_logs_it_and_forces_a_change_at_sign_in(
    client, bureau, caplog
):
    guard = make_officer(None, role=Role.SECURITY_ADMIN)
    client.force_login(_with_officer_rights(guard))
    with caplog.at_level(logging.INFO, logger="promo.security"):
        response = _reset(client, bureau.shanghai_officer)
    assert response.status_code == 302
    target = Officer.objects.get(pk=bureau.shanghai_officer.pk)
    assert target.check_password(NEW) and target.must_change_password
    assert any(
        "password reset" in r.getMessage() and guard.username in r.getMessage()
        for r in caplog.records
    )
    # At sign-in, every page sends him to /password/ until he has chosen his own.
    client.logout()
    client.force_login(target)
    assert client.get("/").url.startswith("/password/")
    assert client.get("/leads/").status_code == 302
    changed = client.post(
        "/password/",
        {
            "old_password": NEW,
            "new_password1": "Mine-own-2026!y",
            "new_password2": "Mine-own-2026!y",
        },
    )
    assert changed.status_code == 302
    assert not Officer.objects.get(pk=target.pk).must_change_password
    assert client.get("/leads/").status_code == 200


def _make_security_admin(client, actor: Officer, target: Officer):
    from tests.test_admin import post_data_from

    client.force_login(_with_officer_rights(actor))
    url = f"/admin/officers/officer/{target.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = post_data_from(page)
    data.update(role=Role.SECURITY_ADMIN)
    return client.post(url, data)


@pytest.mark.parametrize("who", ["chief", "system_admin"])
def test_neither_a_chief_nor_the_system_administrator_makes_someone_a_security_administrator(
    client, bureau, who
):
    actor = bureau.chief if who == "chief" else make_officer(None, role=Role.ADMIN)
    _make_security_admin(client, actor, bureau.shanghai_officer)
    assert Officer.objects.get(pk=bureau.shanghai_officer.pk).role == Role.OFFICER


def test_the_security_administrator_grants_the_role_and_only_a_superuser_the_superuser(
    client, bureau
):
    guard = make_officer(None, role=Role.SECURITY_ADMIN)
    response = _make_security_admin(client, guard, bureau.shanghai_officer)
    assert response.status_code == 302
    assert Officer.objects.get(pk=bureau.shanghai_officer.pk).role == Role.SECURITY_ADMIN
    page = client.get(f"/admin/officers/officer/{bureau.teammate.pk}/change/")
    form = page.context["adminform"].form
    assert "groups" in form.fields and "is_superuser" not in form.fields
