"""The bureau-wide history in the admin is for chiefs and administrators only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.factories import make_lead


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def grant_history_view(officer):
    officer.user_permissions.add(Permission.objects.get(codename="view_events"))


def test_unit_officer_with_view_permission_still_cannot_open_bureau_history(client, bureau):
    make_lead(bureau.outsider, name="深圳的秘密项目")
    grant_history_view(bureau.shanghai_officer)
    client.force_login(bureau.shanghai_officer)
    response = client.get("/admin/pghistory/events/")
    assert response.status_code == 403
    assert "深圳的秘密项目" not in response.content.decode()


def test_chief_reads_the_bureau_history(client, bureau):
    make_lead(bureau.outsider, name="深圳的项目")
    grant_history_view(bureau.chief)
    client.force_login(bureau.chief)
    response = client.get("/admin/pghistory/events/")
    assert response.status_code == 200
    # One row per history event; the lead's insert event is among them.
    assert response.context["cl"].queryset.filter(pgh_obj_model="leads.Lead").exists()
