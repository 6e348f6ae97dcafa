"""Reports on the officers' site: the bell and my notices, lights on records, bulletins."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.services import project_create
from promo.core.choices import Industry
from promo.core.services import today
from promo.reports.choices import AlertLevel, AlertRule, BulletinKind, BulletinStatus
from promo.reports.models import Alert, AlertNotice, Bulletin
from promo.reports.services import alerts_evaluate, bulletin_generate, notices_mark_all_read
from tests.factories import make_investor, make_lead
from tests.plans import captured_sql, rows_read

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_unit_rule(settings):
    # Keep the monthly valid-lead rule (one alert per unit) out of these pages.
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32


@pytest.fixture
def client_for(db):
    """``client_for(officer)``: a test client signed in as that officer."""

    def make(officer) -> Client:
        client = Client()
        client.force_login(officer)
        return client

    return make


_numbers = itertools.count(1)


def late_project(actor, *, days_late: int = 10, name: str | None = None):
    """A project whose groundbreaking is ``days_late`` days past its plan (yellow; 90+: red)."""
    day = today()
    return project_create(
        actor=actor,
        investor=make_investor(actor),
        name=name or f"逾期项目{next(_numbers)}",
        industry=Industry.ELECTRONICS,
        contract_date=day - timedelta(days=days_late + 30),
        total_investment=500,
        groundbreaking_planned=day - timedelta(days=days_late),
    )


def evaluate():
    return alerts_evaluate(on=today())


# --- The bell and my notices ------------------------------------------------------------------


def test_bell_counts_my_unread_notices_and_the_page_lists_them_newest_first(bureau, client_for):
    me = bureau.shanghai_officer
    first = late_project(me, name="甲逾期项目")
    evaluate()
    second = late_project(me, name="乙逾期项目")
    AlertNotice.objects.update(created_at=timezone.now() - timedelta(hours=1))
    evaluate()
    client = client_for(me)

    html = client.get("/").content.decode()
    assert 'class="bell"' in html and '<span class="count">2</span>' in html

    response = client.get("/reports/notices/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(second.name) < page.index(first.name)  # newest first
    assert f'href="/projects/{first.pk}/"' in page  # the record is linked
    assert "step-1" in page  # blue: the responsible officer's step
    assert "蓝色提醒" in page


def test_marking_a_notice_read_lowers_the_bell_and_only_the_recipient_may(bureau, client_for):
    late_project(bureau.shanghai_officer)
    evaluate()
    notice = AlertNotice.objects.get()
    outsider = client_for(bureau.outsider)
    assert outsider.post(f"/reports/notices/{notice.pk}/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None

    client = client_for(bureau.shanghai_officer)
    assert client.post(f"/reports/notices/{notice.pk}/read/").status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert '<span class="count">' not in client.get("/").content.decode()


def test_mark_all_read_touches_only_my_notices(bureau, client_for):
    late_project(bureau.shanghai_officer)
    late_project(bureau.outsider)
    evaluate()
    response = client_for(bureau.shanghai_officer).post("/reports/notices/read-all/")
    assert response.status_code == 302
    mine = AlertNotice.objects.filter(recipient=bureau.shanghai_officer)
    theirs = AlertNotice.objects.filter(recipient=bureau.outsider)
    assert all(n.read_at for n in mine) and not any(n.read_at for n in theirs)


def test_notices_mark_all_read_service_returns_how_many_were_unread(bureau):
    late_project(bureau.shanghai_officer)
    late_project(bureau.shanghai_officer)
    evaluate()
    assert notices_mark_all_read(actor=bureau.shanghai_officer) == 2
    assert notices_mark_all_read(actor=bureau.shanghai_officer) == 0


def test_recipient_acknowledges_an_alert_from_the_page_and_an_outsider_cannot(bureau, client_for):
    late_project(bureau.shanghai_officer)
    evaluate()
    alert = Alert.objects.get()
    assert (
        client_for(bureau.outsider).post(f"/reports/alerts/{alert.pk}/acknowledge/").status_code
        == 403
    )
    alert.refresh_from_db()
    assert alert.acknowledged_at is None

    response = client_for(bureau.shanghai_officer).post(
        f"/reports/alerts/{alert.pk}/acknowledge/", {"next": "/reports/notices/"}
    )
    assert (response.status_code, response["Location"]) == (302, "/reports/notices/")
    alert.refresh_from_db()
    assert alert.acknowledged_by == bureau.shanghai_officer
    assert AlertNotice.objects.get().read_at is not None


def test_acknowledge_refuses_a_redirect_to_another_site(bureau, client_for):
    late_project(bureau.shanghai_officer)
    evaluate()
    alert = Alert.objects.get()
    response = client_for(bureau.shanghai_officer).post(
        f"/reports/alerts/{alert.pk}/acknowledge/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/reports/notices/"


def test_bell_costs_no_query_for_anonymous_visitors(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/login/").status_code == 200
    assert not [q for q in queries.captured_queries if "reports_alertnotice" in q["sql"]]


# --- Lights on records --------------------------------------------------------------------------


def test_project_page_shows_its_light_and_who_was_notified(bureau, client_for):
    project = late_project(bureau.shanghai_officer, days_late=100)
    evaluate()
    html = client_for(bureau.shanghai_head).get(f"/projects/{project.pk}/").content.decode()
    assert "light light-red" in html
    assert str(AlertRule.MILESTONE_OVERDUE.label) in html
    assert bureau.shanghai_officer.display_name in html  # notified (blue step)


def test_lead_without_alert_is_green(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    html = client_for(bureau.shanghai_officer).get(f"/leads/{lead.pk}/").content.decode()
    assert "light light-green" in html and "绿灯：无预警" in html


def test_lead_page_shows_the_lead_alert(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    Alert.objects.create(
        rule=AlertRule.LEAD_NO_FOLLOW_UP,
        level=AlertLevel.YELLOW,
        subject_key=f"lead:{lead.pk}",
        lead=lead,
        unit=bureau.shanghai,
        responsible=bureau.shanghai_officer,
        detail="长期未跟进",
        opened_on=today(),
        last_seen_on=today(),
    )
    html = client_for(bureau.shanghai_officer).get(f"/leads/{lead.pk}/").content.decode()
    assert "light light-yellow" in html and "长期未跟进" in html


def _board_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/projects/board/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_board_shows_a_dot_per_card_with_the_same_queries_for_2_and_20_projects(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    for days in (10, 100):
        late_project(me, days_late=days)
    evaluate()
    few, html = _board_queries(client)
    assert html.count("light light-red") == 1 and html.count("light light-yellow") == 1
    for i in range(18):
        late_project(me, days_late=5 + i)
    evaluate()
    many, html = _board_queries(client)
    assert html.count("light light-") == 20
    assert many == few


def _home(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    return len(captured), response


def test_home_lists_my_open_alerts_with_the_same_queries_for_2_and_20(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    for _ in range(2):
        late_project(me)
    evaluate()
    few, response = _home(client)
    assert len(response.context["my_alerts"]) == 2
    for _ in range(18):
        late_project(me)
    evaluate()
    many, response = _home(client)
    assert len(response.context["my_alerts"]) == 20
    assert response.context["unit_red_alerts"] == []  # an officer has no units' list
    assert many == few


def test_unit_head_home_lists_the_units_red_items_and_the_chief_sees_every_unit(bureau, client_for):
    red = late_project(bureau.shanghai_officer, days_late=100, name="上海红灯项目")
    late_project(bureau.shanghai_officer, days_late=10, name="上海黄灯项目")
    elsewhere = late_project(bureau.outsider, days_late=100, name="深圳红灯项目")
    evaluate()

    head = client_for(bureau.shanghai_head).get("/")
    # Red twice: the milestone 100 days late, and not started 130 days after signing.
    assert {a.project for a in head.context["unit_red_alerts"]} == {red}
    html = head.content.decode()
    assert "本单位红灯事项" in html and "上海红灯项目" in html and "深圳红灯项目" not in html

    chief = client_for(bureau.chief).get("/")
    assert {a.project for a in chief.context["unit_red_alerts"]} == {red, elsewhere}


def test_head_home_red_list_has_the_same_queries_for_2_and_20(bureau, client_for):
    client = client_for(bureau.shanghai_head)
    for _ in range(2):
        late_project(bureau.shanghai_officer, days_late=100)
    evaluate()
    few, response = _home(client)
    assert len(response.context["unit_red_alerts"]) == 4  # two red rules per project
    for _ in range(18):
        late_project(bureau.shanghai_officer, days_late=100)
    evaluate()
    many, response = _home(client)
    assert len(response.context["unit_red_alerts"]) == 20
    assert many == few


# --- Bulletins ----------------------------------------------------------------------------------


def month_bulletin() -> Bulletin:
    return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=date(2026, 10, 1))


def test_chief_reads_a_draft_publishes_it_and_downloads_the_xlsx(bureau, client_for):
    bulletin = month_bulletin()
    client = client_for(bureau.chief)
    listing = client.get("/reports/bulletins/").content.decode()
    assert f'href="/reports/bulletins/{bulletin.pk}/"' in listing

    page = client.get(f"/reports/bulletins/{bulletin.pk}/").content.decode()
    assert bulletin.title in page and "发布通报" in page and "@media print" not in page
    assert f'href="/reports/bulletins/{bulletin.pk}/publish/"' in page  # to the confirmation
    assert "reports/reports.css" in page  # the print CSS

    response = client.post(f"/reports/bulletins/{bulletin.pk}/publish/", {"confirm": "yes"})
    assert response.status_code == 302
    bulletin.refresh_from_db()
    assert (bulletin.status, bulletin.published_by) == (BulletinStatus.PUBLISHED, bureau.chief)

    xlsx = client.get(f"/reports/bulletins/{bulletin.pk}/xlsx/")
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx.content[:2] == b"PK"


def test_unit_head_reads_published_bulletins_but_not_drafts_and_cannot_publish(bureau, client_for):
    draft = month_bulletin()
    published = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=date(2026, 9, 1))
    published.status, published.published_at = BulletinStatus.PUBLISHED, timezone.now()
    published.save()
    client = client_for(bureau.shanghai_head)
    listing = client.get("/reports/bulletins/").content.decode()
    assert f"/reports/bulletins/{published.pk}/" in listing
    assert f"/reports/bulletins/{draft.pk}/" not in listing
    assert client.get(f"/reports/bulletins/{published.pk}/").status_code == 200
    assert client.get(f"/reports/bulletins/{draft.pk}/").status_code == 404
    assert "发布通报" not in client.get(f"/reports/bulletins/{published.pk}/").content.decode()


def test_unit_head_cannot_publish_and_the_bulletin_stays_a_draft(bureau, client_for):
    bulletin = month_bulletin()
    response = client_for(bureau.shanghai_head).post(
        f"/reports/bulletins/{bulletin.pk}/publish/", {"confirm": "yes"}
    )
    assert response.status_code == 404  # a draft is not shown to a unit head at all
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.DRAFT


def test_officer_is_refused_bulletins_and_publishing_and_nothing_changes(bureau, client_for):
    bulletin = month_bulletin()
    client = client_for(bureau.outsider)
    assert client.get("/reports/bulletins/").status_code == 403
    assert client.get(f"/reports/bulletins/{bulletin.pk}/").status_code == 403
    assert client.get(f"/reports/bulletins/{bulletin.pk}/xlsx/").status_code == 403
    assert client.get(f"/reports/bulletins/{bulletin.pk}/publish/").status_code == 403
    assert (
        client.post(f"/reports/bulletins/{bulletin.pk}/publish/", {"confirm": "yes"}).status_code
        == 403
    )
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.DRAFT
    assert "/reports/bulletins/" not in client.get("/").content.decode()  # no nav link


def test_publishing_twice_says_so_and_changes_nothing(bureau, client_for):
    bulletin = month_bulletin()
    client = client_for(bureau.chief)
    client.post(f"/reports/bulletins/{bulletin.pk}/publish/", {"confirm": "yes"})
    bulletin.refresh_from_db()
    published_at = bulletin.published_at
    response = client.post(
        f"/reports/bulletins/{bulletin.pk}/publish/", {"confirm": "yes"}, follow=True
    )
    assert "已发布，不能再次发布" in response.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.published_at == published_at


def test_notices_page_has_the_same_queries_for_2_and_20_notices(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    for _ in range(2):
        late_project(me)
    evaluate()
    with CaptureQueriesContext(connection) as few:
        response = client.get("/reports/notices/")
    assert len(response.context["page"].object_list) == 2
    for _ in range(18):
        late_project(me)
    evaluate()
    with CaptureQueriesContext(connection) as many:
        response = client.get("/reports/notices/")
    assert len(response.context["page"].object_list) == 20
    assert len(many) == len(few)


def test_admin_print_page_links_to_the_officers_bulletin_page(bureau, client_for):
    bulletin = month_bulletin()
    bureau.chief.is_staff = True
    bureau.chief.save(update_fields=["is_staff"])
    html = client_for(bureau.chief).get(f"/admin/reports/bulletin/{bulletin.pk}/print/")
    assert f'href="/reports/bulletins/{bulletin.pk}/"' in html.content.decode()


def test_board_lights_read_the_alerts_of_the_projects_shown_only(bureau, client_for, monkeypatch):
    """Issue #19: the lights ORed "the project's or its problems'" over every open alert."""
    from projects import views as project_views

    monkeypatch.setattr(project_views, "BOARD_ROWS_PER_STAGE", 1)
    me = bureau.shanghai_officer
    for days in range(8):
        late_project(me, days_late=10 + days)
    evaluate()
    assert Alert.objects.filter(resolved_on__isnull=True).count() >= 8
    client = client_for(me)
    pages = []
    sql = captured_sql(lambda: pages.append(client.get("/projects/board/")))
    assert pages[0].content.decode().count("light light-") == 1
    [lights] = [q for q in sql if '"reports_alert"."level"' in q and "COUNT(" not in q]
    assert rows_read(lights, "reports_alert") <= 2
