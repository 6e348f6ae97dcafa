"""The follow-up calendar (日程, issue #15): the page and its private iCalendar feed.

The page lists the signed-in officer's follow-ups due (overdue ones first) and the planned
dates not yet reached of the projects they are on, by Beijing day whatever the server's time
zone. The feed serves the same items to a phone calendar at a secret address: only the
token's hash is stored, the address is shown once, replaced or stopped from the page, and a
revoked, unknown or deactivated officer's address answers a bare 404.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from officers.choices import AssignmentRole
from officers.models import Assignment
from projects import services as project_services
from promo.core.services import today
from promo.workspace.models import CalendarFeed
from promo.workspace.services import calendar_feed_issue, feed_token_hash
from tests.factories import make_investor, make_project

pytestmark = pytest.mark.django_db

# 2026-12-03 04:03 in Beijing is still 2 December in UTC.
EARLY_MORNING = datetime(2026, 12, 2, 20, 3, tzinfo=UTC)


def follow_up(officer, *, due, step="寄送园区政策资料", investor=None, visited=None):
    return lead_services.visit_log(
        actor=officer,
        kind="visit",
        visited_on=visited or min(due, today()) - timedelta(days=3),
        investor=investor or make_investor(officer),
        summary="洽谈扩产计划",
        next_step=step,
        next_step_due=due,
    )


def planned_project(officer, *, name, groundbreaking, land=None):
    project = make_project(officer, name=name)
    return project_services.project_set_plan(
        project=project,
        actor=officer,
        reason="排定节点",
        groundbreaking_planned=groundbreaking,
        completed_planned=None,
        producing_planned=None,
        milestones_planned={"land_granted": land} if land else None,
    )


def page(client) -> str:
    response = client.get("/calendar/")
    assert response.status_code == 200
    return response.content.decode()


def issue_feed_url(client) -> str:
    """Make the feed address from the page (POST with its once-only key) and read it there."""
    key = re.search(r'name="submission" value="([0-9a-f-]+)"', page(client)).group(1)
    response = client.post("/calendar/feed/", {"submission": key})
    assert response.status_code == 302
    match = re.search(r'value="(http://testserver/calendar/feed/[\w-]+\.ics)"', page(client))
    assert match, "the new address is shown on the page after making it"
    return match.group(1).removeprefix("http://testserver")


def uids_on(html: str) -> set[str]:
    return set(re.findall(r'data-uid="([^"]+)"', html))


def events_of(response) -> dict[str, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical(response.content)
    return {str(event["uid"]): event for event in parsed.walk("VEVENT")}


# --- the page --------------------------------------------------------------------------------


def test_the_page_lists_my_follow_up_and_planned_dates_and_not_a_colleagues_out_of_scope_ones(
    bureau, client_for
):
    me, outsider = bureau.shanghai_officer, bureau.outsider
    mine = follow_up(me, due=today() + timedelta(days=2), step="寄送园区政策资料")
    project = planned_project(
        me,
        name="精密零部件扩产项目",
        groundbreaking=today() + timedelta(days=20),
        land=today() + timedelta(days=10),
    )
    follow_up(outsider, due=today() + timedelta(days=2), step="深圳同事的跟进事项")
    planned_project(outsider, name="深圳同事的项目", groundbreaking=today() + timedelta(days=20))

    html = page(client_for(me))

    assert "寄送园区政策资料" in html and mine.investor.name in html
    assert "精密零部件扩产项目" in html
    assert "计划开工" in html and "计划供地" in html
    assert f'href="/projects/{project.pk}/"' in html
    assert "深圳同事的跟进事项" not in html and "深圳同事的项目" not in html
    assert uids_on(html) == {
        f"follow-up-{mine.pk}@promo",
        f"project-{project.pk}-groundbreaking@promo",
        f"project-{project.pk}-land_granted@promo",
    }
    # The outsider's own calendar has theirs and none of mine.
    theirs = page(client_for(outsider))
    assert "深圳同事的跟进事项" in theirs and "寄送园区政策资料" not in theirs


def test_overdue_items_come_first_then_the_days_in_order(bureau, client_for):
    me = bureau.shanghai_officer
    follow_up(me, due=today() + timedelta(days=5), step="第五天的事")
    follow_up(me, due=today() - timedelta(days=3), step="逾期三天的事")
    follow_up(me, due=today(), step="今天的事", visited=today())
    html = page(client_for(me))
    assert html.index("逾期三天的事") < html.index("今天的事") < html.index("第五天的事")
    assert "逾期 3 天" in html
    overdue = html.split('id="h-overdue"', 1)[1].split("</section>", 1)[0]
    assert "逾期三天的事" in overdue and "今天的事" not in overdue


def test_a_reached_stage_and_a_followed_up_visit_leave_the_calendar(bureau, client_for):
    me = bureau.shanghai_officer
    visit = follow_up(me, due=today() + timedelta(days=1), step="寄送资料")
    project = planned_project(
        me, name="已供地项目", groundbreaking=today() + timedelta(days=20), land=today()
    )
    project_services.project_milestone_record(
        project=project, actor=me, milestone="land_granted", actual_date=today()
    )
    lead_services.visit_log(
        actor=me, kind="call", visited_on=today(), investor=visit.investor, summary="已寄送"
    )
    assert uids_on(page(client_for(me))) == {f"project-{project.pk}-groundbreaking@promo"}


def test_the_page_reads_beijings_day_at_four_in_the_morning_whatever_the_servers_zone(
    bureau, client_for
):
    me = bureau.shanghai_officer
    with time_machine.travel(EARLY_MORNING, tick=False):
        follow_up(me, due=date(2026, 12, 3), step="今天要做的事", visited=date(2026, 11, 30))
        follow_up(me, due=date(2026, 12, 2), step="昨天该做的事", visited=date(2026, 11, 30))
        client = client_for(me)
        # The server runs in UTC (settings and the process: Django sets TZ and calls tzset).
        with override_settings(TIME_ZONE="UTC"):
            html = page(client)
    assert "今天是 2026年12月3日" in html
    today_section = html.split('id="h-day-20261203"', 1)[1].split("</section>", 1)[0]
    assert "今天要做的事" in today_section and "今天" in today_section
    overdue = html.split('id="h-overdue"', 1)[1].split("</section>", 1)[0]
    assert "昨天该做的事" in overdue and "逾期 1 天" in overdue
    assert 'datetime="2026-12-02"' in overdue


def test_the_page_in_english_writes_3_dec_2026(bureau):
    me = bureau.shanghai_officer
    me.language = "en"
    me.save(update_fields=["language"])
    with time_machine.travel(EARLY_MORNING, tick=False):
        follow_up(me, due=date(2026, 12, 3), step="寄送资料", visited=date(2026, 11, 30))
        client = Client()
        client.cookies["django_language"] = "en"
        client.force_login(me)
        html = page(client)
    assert "Today is 3 Dec 2026 Thursday" in html
    assert ">3 Dec 2026</time>" in html
    assert "2026年" not in html


def test_the_page_and_the_home_page_link_to_each_other(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    home = client.get("/").content.decode()
    assert home.count('href="/calendar/"') == 2  # the main navigation and the follow-ups
    assert 'aria-current="page">日程<' in page(client)


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/calendar/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def _populate(officer, n: int, *, offset: int) -> None:
    for i in range(n):
        follow_up(officer, due=today() + timedelta(days=i % 30), step=f"跟进{offset + i}")
        planned_project(
            officer, name=f"项目{offset + i}", groundbreaking=today() + timedelta(days=i + 1)
        )


def test_page_and_feed_query_counts_do_not_grow_with_items(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    feed_url = issue_feed_url(client)
    page(client)
    Client().get(
        feed_url
    )  # the first read writes last_used_at; the next ones, within the hour, do not
    _populate(me, 2, offset=0)
    with CaptureQueriesContext(connection) as few_page:
        page(client)
    with CaptureQueriesContext(connection) as few_feed:
        assert len(events_of(Client().get(feed_url))) == 4
    _populate(me, 18, offset=2)
    with CaptureQueriesContext(connection) as many_page:
        html = page(client)
    with CaptureQueriesContext(connection) as many_feed:
        assert len(events_of(Client().get(feed_url))) == 40
    assert len(uids_on(html)) == 40
    assert len(many_page) == len(few_page), [q["sql"] for q in many_page.captured_queries]
    # Session, officer (with unit and the sub-tree's ids), the follow-ups (their candidates
    # read first in the same statement), the projects, the feed's state, the bell's count.
    assert len(few_page) == 6, [q["sql"] for q in few_page.captured_queries]
    assert len(many_feed) == len(few_feed), [q["sql"] for q in many_feed.captured_queries]
    # The feed by its token's hash (with officer and unit), scope, the follow-ups (with their
    # candidates), projects.
    assert len(few_feed) == 4, [q["sql"] for q in few_feed.captured_queries]


# --- the feed --------------------------------------------------------------------------------


def test_the_feed_holds_the_pages_events_as_all_day_events_with_links(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    visit = follow_up(me, due=today() + timedelta(days=2), step="寄送园区政策资料")
    project = planned_project(
        me, name="精密零部件扩产项目", groundbreaking=today() + timedelta(days=20)
    )
    follow_up(me, due=today() - timedelta(days=4), step="逾期的跟进")
    feed_url = issue_feed_url(client)

    response = Client().get(feed_url)  # a phone: no session

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response
    events = events_of(response)
    html = page(client)
    assert set(events) == uids_on(html)
    gb = events[f"project-{project.pk}-groundbreaking@promo"]
    assert gb.decoded("dtstart") == today() + timedelta(days=20)
    assert gb.decoded("dtend") == today() + timedelta(days=21)
    assert str(gb["summary"]) == "计划开工 · 精密零部件扩产项目"
    assert f"http://testserver/projects/{project.pk}/" in str(gb["description"])
    step = events[f"follow-up-{visit.pk}@promo"]
    assert str(step["summary"]) == f"跟进：寄送园区政策资料 · {visit.investor.name}"
    assert step.decoded("dtstart") == today() + timedelta(days=2)
    # The same UIDs on the next read: a phone updates its events, it does not add copies.
    assert set(events_of(Client().get(feed_url))) == set(events)


def test_the_feed_is_in_the_officers_language(bureau, client_for):
    me = bureau.shanghai_officer
    project = planned_project(me, name="精密零部件扩产项目", groundbreaking=today())
    visit = follow_up(me, due=today() + timedelta(days=1), step="寄送资料")
    feed_url = issue_feed_url(client_for(me))
    me.language = "en"
    me.save(update_fields=["language"])
    events = events_of(Client().get(feed_url, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    summary = str(events[f"project-{project.pk}-groundbreaking@promo"]["summary"])
    assert summary == "Planned groundbreaking · 精密零部件扩产项目"
    step = str(events[f"follow-up-{visit.pk}@promo"]["summary"])
    assert step == f"Follow-up: 寄送资料 · {visit.investor.name}"


def test_the_address_is_shown_once_and_only_its_hash_is_stored(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    feed_url = issue_feed_url(client)
    token = feed_url.removeprefix("/calendar/feed/").removesuffix(".ics")
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    feed = CalendarFeed.objects.get()
    assert feed.token_hash == feed_token_hash(token) and token not in feed.token_hash
    assert token not in page(client)  # gone on the next visit


def test_a_double_tap_makes_one_address(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    key = re.search(r'name="submission" value="([0-9a-f-]+)"', page(client)).group(1)
    assert client.post("/calendar/feed/", {"submission": key}).status_code == 302
    assert client.post("/calendar/feed/", {"submission": key}).status_code == 302
    assert CalendarFeed.objects.count() == 1
    assert "/calendar/feed/" in page(client)  # the first tap's address is still shown


def test_replacing_the_address_stops_the_old_one_and_revoking_stops_the_new_one(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    old = issue_feed_url(client)
    new = issue_feed_url(client)
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert client.post("/calendar/feed/revoke/").status_code == 302
    response = Client().get(new)
    assert response.status_code == 404
    assert response.content == b"Not Found"
    assert response["Referrer-Policy"] == "no-referrer"
    rows = list(CalendarFeed.objects.order_by("created_at", "id"))
    assert len(rows) == 2
    assert all(row.revoked_at is not None and row.revoked_by == me for row in rows)
    assert "还没有订阅地址" in page(client)


def test_an_unknown_token_is_a_bare_404(bureau, client_for):
    issue_feed_url(client_for(bureau.shanghai_officer))
    response = Client().get("/calendar/feed/" + "A" * 43 + ".ics")
    assert response.status_code == 404 and response.content == b"Not Found"


def test_the_outsiders_token_shows_their_calendar_and_cannot_stop_mine(bureau, client_for):
    me, outsider = bureau.shanghai_officer, bureau.outsider
    follow_up(me, due=today() + timedelta(days=1), step="我的跟进事项")
    follow_up(outsider, due=today() + timedelta(days=1), step="深圳的跟进事项")
    mine = issue_feed_url(client_for(me))
    outsiders = client_for(outsider)
    theirs = issue_feed_url(outsiders)
    body = Client().get(theirs).content.decode()
    assert "深圳的跟进事项" in body and "我的跟进事项" not in body
    # Their "stop" stops their address, never mine; their session does not open mine either.
    assert outsiders.post("/calendar/feed/revoke/").status_code == 302
    assert Client().get(theirs).status_code == 404
    assert "我的跟进事项" in outsiders.get(mine).content.decode()  # the token, not the session
    assert CalendarFeed.objects.get(officer=me).revoked_at is None


def test_a_deactivated_officers_feed_answers_404(bureau, client_for):
    me = bureau.shanghai_officer
    feed_url = issue_feed_url(client_for(me))
    me.is_active = False
    me.save(update_fields=["is_active"])
    assert Client().get(feed_url).status_code == 404


def test_the_feed_drops_a_project_the_officer_was_taken_off(bureau, client_for):
    me, head = bureau.shanghai_officer, bureau.shanghai_head
    project = planned_project(me, name="协办项目", groundbreaking=today() + timedelta(days=3))
    project_services.project_assignment_add(
        actor=head, officer=bureau.teammate, role=AssignmentRole.ASSISTING, project=project
    )
    feed_url = issue_feed_url(client_for(bureau.teammate))
    assert "协办项目" in Client().get(feed_url).content.decode()
    project_services.project_assignment_remove(
        actor=head,
        assignment=Assignment.objects.get(project=project, officer=bureau.teammate),
    )
    assert "协办项目" not in Client().get(feed_url).content.decode()


def test_issuing_directly_keeps_one_live_address_per_officer(bureau):
    me = bureau.shanghai_officer
    calendar_feed_issue(actor=me)
    calendar_feed_issue(actor=me)
    assert CalendarFeed.objects.filter(officer=me, revoked_at__isnull=True).count() == 1
    assert CalendarFeed.objects.filter(officer=me).count() == 2


def test_a_refused_token_is_not_written_to_the_request_log(bureau, client_for, caplog):
    feed_url = issue_feed_url(client_for(bureau.shanghai_officer))
    token = feed_url.removeprefix("/calendar/feed/").removesuffix(".ics")
    client_for(bureau.shanghai_officer).post("/calendar/feed/revoke/")
    with caplog.at_level("INFO"):
        assert Client().get(feed_url).status_code == 404
    assert token not in caplog.text


def test_the_message_says_whether_an_earlier_address_was_stopped(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    first = client.post("/calendar/feed/", follow=True).content.decode()
    assert "已生成订阅地址。" in first and "原来的地址已停用" not in first
    second = client.post("/calendar/feed/", follow=True).content.decode()
    assert "已生成新的订阅地址；原来的地址已停用。" in second


def test_the_page_says_when_the_address_was_last_read_in_beijing_time(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    with time_machine.travel(EARLY_MORNING, tick=False):
        feed_url = issue_feed_url(client)
        assert "最近一次读取" not in page(client)
        Client().get(feed_url)
        with override_settings(TIME_ZONE="UTC"):
            html = page(client)
    assert "最近一次读取：2026年12月3日 04:03。" in html
    assert CalendarFeed.objects.get().last_used_at == EARLY_MORNING
