"""API clients are managed in the admin: token shown once, stored hashed, revocable."""

from __future__ import annotations

import re

import pytest

from officers.choices import Role
from promo.api.clients import _hash_token
from promo.api.models import ApiClient
from tests.factories import make_officer


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def test_the_security_admin_adds_a_client_sees_the_token_once_and_only_its_hash_is_kept(
    client, bureau
):
    # 三员分立 (decision 0019): API clients are the security administrator's.
    security_admin = make_officer(None, role=Role.SECURITY_ADMIN, username="anquan")
    client.force_login(security_admin)
    response = client.post(
        "/admin/promo/apiclient/add/",
        {"name": "发改项目库", "officer": bureau.chief.pk, "access": "read"},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    token = re.search(r"(promo_[0-9a-f]+_[A-Za-z0-9_\-]+)", page).group(1)
    stored = ApiClient.objects.get(name="发改项目库")
    assert stored.token_hash == _hash_token(token)
    assert token not in (stored.token_hash, stored.token_prefix)
    again = client.get(f"/admin/promo/apiclient/{stored.pk}/change/").content.decode()
    assert token not in again

    response = client.post(
        "/admin/promo/apiclient/",
        {"action": "revoke", "_selected_action": [stored.pk]},
        follow=True,
    )
    stored.refresh_from_db()
    assert stored.revoked_at is not None and stored.revoked_by == security_admin
    api = client.get("/api/v1/leads/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code in (401, 403)


@pytest.mark.parametrize("who", ["shanghai_head", "chief"])
def test_a_unit_head_or_a_chief_cannot_open_the_client_admin_and_nothing_is_created(
    client, bureau, who
):
    officer = getattr(bureau, who)
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    client.force_login(officer)
    response = client.post(
        "/admin/promo/apiclient/add/",
        {"name": "越权客户端", "officer": officer.pk, "access": "read_write"},
    )
    assert response.status_code in (302, 403)
    assert not ApiClient.objects.exists()
