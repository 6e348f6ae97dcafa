"""The bulletin admin: read-only pages; the XLSX and publish actions go through the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from projects.models import Project
from projects.services import progress_record
from promo.reports.choices import BulletinKind, BulletinStatus, CauseRecord
from promo.reports.models import Alert, BulletinAmendment, BulletinAmendmentCause
from promo.reports.services import alerts_evaluate, bulletin_generate, bulletin_publish
from tests.factories import make_officer
from tests.reports.seed import START, TODAY, build_october

urlpatterns = [path("admin/", admin.site.urls)]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def bulletin(bureau):
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)
        return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # These tests are about the admin, not TLS: no HTTPS redirect when DEBUG is off.
    settings.SECURE_SSL_REDIRECT = False
    # Their superuser is the admin's all-seeing user, as in a development install (DEBUG): in
    # production it reads no business record (三员分立, tests/officers/test_duties.py).
    settings.PROMO_SUPERUSER_READS_BUSINESS = True


@pytest.fixture
def admin_client(client, bureau):
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


def test_print_page_shows_the_table_and_an_amendment_beside_the_published_figure(
    admin_client, bureau, bulletin
):
    with time_machine.travel(TODAY, tick=False) as clock:
        bulletin_publish(bulletin=bulletin, actor=bureau.chief)
        clock.shift(3600)
        progress_record(
            project=Project.objects.get(unit=bureau.shanghai_team),
            actor=bureau.sub_unit_officer,
            month=date(2026, 10, 1),
            agreed_investment=3000,
            paid_in=900,
            fixed_asset_investment=800,
            arrived_fdi=260,
            note="补报",
        )
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)

    page = admin_client.get(reverse("admin:reports_bulletin_print", args=[bulletin.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "市投资促进局招商引资工作月度通报（2026年10月）" in html
    rows = page.context["rows"]
    assert [row["name"] for row in rows] == [
        "上海办事处",
        "深圳办事处",
        "市发改委",
        "局本级",
        "合计",
    ]
    fdi = [cell for cell in rows[0]["cells"] if cell["amended"] is not None]
    assert [(c["value"], c["amended"]) for c in fdi] == [(Decimal("190.00"), Decimal("200.00"))]
    assert "12,000.00" in html and "→200" in html and "补报" in html
    # The amendment names P2, corrected by 赵磊, not just the unit's latest edit.
    assert "赵磊" in html and "上海办事处浦东组" not in html
    xlsx = admin_client.get(reverse("admin:reports_bulletin_xlsx", args=[bulletin.pk]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_print_page_costs_the_same_queries_with_more_amendments(admin_client, bureau, bulletin):
    url = reverse("admin:reports_bulletin_print", args=[bulletin.pk])
    line = bulletin.lines.get(unit=bureau.shanghai)

    def amend(n: int) -> None:
        amendment = BulletinAmendment.objects.create(
            line=line, figure="signed_count", old_value=n, new_value=n + 1, records={"marks": {}}
        )
        BulletinAmendmentCause.objects.create(
            amendment=amendment,
            record_type=CauseRecord.PROJECT,
            record_id=n,
            label=f"项目{n}",
            new_part=1,
            changed_by=bureau.shanghai_officer,
            reason="project_create",
        )

    amend(0)  # one amendment with its cause: the causes' query is in the count
    admin_client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as before:
        admin_client.get(url)
    for n in range(1, 6):
        amend(n)
    with CaptureQueriesContext(connection) as after:
        admin_client.get(url)
    assert len(after) == len(before)


def test_amendment_pages_show_the_records_that_moved_the_figure(admin_client, bureau, bulletin):
    with time_machine.travel(TODAY, tick=False) as clock:
        bulletin_publish(bulletin=bulletin, actor=bureau.chief)
        clock.shift(3600)
        p2 = Project.objects.get(unit=bureau.shanghai_team)
        progress_record(
            project=p2,
            actor=bureau.sub_unit_officer,
            month=date(2026, 10, 1),
            agreed_investment=3000,
            paid_in=900,
            fixed_asset_investment=800,
            arrived_fdi=260,
            note="补报10月到账外资",
        )
        bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    amendment = BulletinAmendment.objects.get(line__unit=bureau.shanghai)

    listing = admin_client.get(reverse("admin:reports_bulletinamendment_changelist"))
    assert listing.status_code == 200
    assert f"项目「{p2.name}」 150 → 160" in listing.content.decode()
    page = admin_client.get(reverse("admin:reports_bulletinamendment_change", args=[amendment.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert p2.name in html and "赵磊" in html and "补报10月到账外资" in html


def test_alert_pages_render(admin_client, bureau):
    with time_machine.travel(TODAY, tick=False):
        alerts_evaluate(on=date(2026, 11, 20))
    alert = Alert.objects.first()
    assert admin_client.get(reverse("admin:reports_alert_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:reports_alert_change", args=[alert.pk]))
    assert page.status_code == 200


def test_every_officer_reads_the_bulletin_but_only_a_chief_publishes_it(client, bureau, bulletin):
    url = reverse("admin:reports_bulletin_changelist")
    form = {"action": "publish", "_selected_action": [bulletin.pk]}

    client.force_login(bureau.shanghai_officer)  # staff, no model permissions
    choices = client.get(url).context["action_form"].fields["action"].choices
    assert [name for name, _label in choices if name] == ["download_xlsx"]
    client.post(url, form)
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.DRAFT

    client.force_login(bureau.chief)
    client.post(url, form)
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.PUBLISHED and bulletin.published_by == bureau.chief

    client.force_login(bureau.shanghai_officer)
    assert (
        client.get(reverse("admin:reports_bulletin_print", args=[bulletin.pk])).status_code == 200
    )


def test_a_draft_bulletin_stays_with_the_chiefs_in_the_admin_as_on_the_web_pages(
    client, bureau, bulletin
):
    assert bulletin.status == BulletinStatus.DRAFT
    for staff in (bureau.shanghai_officer, bureau.shanghai_head):
        client.force_login(staff)
        listing = client.get(reverse("admin:reports_bulletin_changelist"))
        assert listing.context["cl"].result_count == 0
        for name in ("print", "xlsx", "change"):
            page = client.get(reverse(f"admin:reports_bulletin_{name}", args=[bulletin.pk]))
            assert page.status_code in (302, 404), name
            assert not page.get("Content-Disposition")
        # Nor through the download action with the draft's id.
        answer = client.post(
            reverse("admin:reports_bulletin_changelist"),
            {"action": "download_xlsx", "_selected_action": [bulletin.pk]},
        )
        assert not answer.get("Content-Disposition")
    client.force_login(bureau.chief)
    assert client.get(reverse("admin:reports_bulletin_changelist")).context["cl"].result_count == 1


def test_a_department_submitter_cannot_open_the_admin_bulletin(client, bureau, bulletin):
    client.force_login(bureau.submitter)  # not staff
    page = client.get(reverse("admin:reports_bulletin_print", args=[bulletin.pk]))
    assert page.status_code == 302  # to the admin sign-in
