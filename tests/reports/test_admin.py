"""The bulletin admin: read-only pages; the XLSX and publish actions go through the services."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib import admin
from django.urls import path, reverse

from promo.reports.choices import BulletinKind, BulletinStatus
from promo.reports.services import bulletin_generate
from tests.factories import make_officer
from tests.reports.seed import START, TODAY, build_october

urlpatterns = [path("admin/", admin.site.urls)]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def bulletin(bureau):
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)
        return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)


@pytest.fixture
def admin_client(client, bureau, settings):
    settings.SECURE_SSL_REDIRECT = False
    client.force_login(make_officer(bureau.bureau, is_superuser=True))
    return client


def test_bulletin_pages_render_read_only(admin_client, bulletin):
    listing = admin_client.get(reverse("admin:reports_bulletin_changelist"))
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    page = admin_client.get(reverse("admin:reports_bulletin_change", args=[bulletin.pk]))
    assert page.status_code == 200
    assert "signed_amount" not in page.context["adminform"].form.fields


def test_download_action_returns_the_xlsx(admin_client, bulletin):
    response = admin_client.post(
        reverse("admin:reports_bulletin_changelist"),
        {"action": "download_xlsx", "_selected_action": [bulletin.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('bulletin-monthly-2026-10-01.xlsx"')
    assert response.content[:2] == b"PK"


def test_publish_action_publishes_through_the_service(admin_client, bulletin):
    admin_client.post(
        reverse("admin:reports_bulletin_changelist"),
        {"action": "publish", "_selected_action": [bulletin.pk]},
    )
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.PUBLISHED and bulletin.published_by is not None
