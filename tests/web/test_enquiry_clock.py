"""The enquiry clock on the pages (办理时限, issue #20): the lead's page, the feedback form and
the officer's home."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.choices import LeadStatus, SourceChannel
from leads.models import Intermediary, ReferrerFeedback
from officers.choices import AssignmentRole
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 2)


def at(offset: int) -> datetime:
    day = DAY + timedelta(days=offset)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ)


def referred_lead(officer, **fields):
    broker = Intermediary.objects.create(name="王顾问", kind="person", unit=officer.unit)
    return make_lead(
        officer, source_channel=SourceChannel.INTERMEDIARY, intermediary=broker, **fields
    )


def log_visit(officer, lead):
    return lead_services.visit_log(
        actor=officer,
        kind="call",
        visited_on=lead_services.today(),
        investor=lead.investor,
        lead=lead,
        summary="电话沟通",
    )


def clock_section(html: str) -> str:
    return html.split('id="h-clock"', 1)[1].split("</section>", 1)[0]


# --- the lead's page ---------------------------------------------------------------------------


def test_the_lead_page_shows_each_step_met_on_by_whom_or_overdue_by_days(bureau, client_for):
    me = bureau.shanghai_officer
    with time_machine.travel(at(0), tick=False):
        lead = referred_lead(me)
    with time_machine.travel(at(1), tick=False):
        log_visit(bureau.teammate, lead)
    with time_machine.travel(at(5), tick=False):
        lead_services.lead_qualify(lead=lead, actor=bureau.shanghai_head)
    with time_machine.travel(at(10), tick=False):
        html = clock_section(client_for(me).get(f"/leads/{lead.pk}/").content.decode())
    assert '<span class="due">2026年11月3日 完成 · 陈静</span>' in html  # 首次响应, on time
    assert '<span class="due">2026年11月7日 完成 · 李主任 · 晚 2 天</span>' in html  # 研判
    assert '<li class="clock-overdue overdue">\n            <strong>反馈引荐人</strong>' in html
    assert '<span class="due">逾期 3 天</span>' in html
    assert "登记引荐人反馈" in html  # the form, for the lead's 主办


def test_a_lead_without_a_referrer_shows_no_feedback_step_or_form(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    html = clock_section(
        client_for(bureau.shanghai_officer).get(f"/leads/{lead.pk}/").content.decode()
    )
    assert "首次响应" in html and "研判" in html
    assert "反馈引荐人" not in html and "登记引荐人反馈" not in html


def test_the_lead_page_query_count_does_not_grow_with_feedback_rows(bureau, client_for):
    me = bureau.shanghai_officer
    lead = referred_lead(me)
    client = client_for(me)
    for i in range(2):
        lead_services.referrer_feedback_record(lead=lead, actor=me, note=f"反馈{i}")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/leads/{lead.pk}/")
    for i in range(18):
        lead_services.referrer_feedback_record(lead=lead, actor=bureau.teammate, note=f"再反馈{i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/leads/{lead.pk}/")
    assert clock_section(response.content.decode()).count("再反馈") == 18
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- recording feedback ------------------------------------------------------------------------


def _feedback_post(client, lead, note="电话告知王顾问：已对接") -> dict:
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    key = re.search(r'name="feedback-submission" value="([0-9a-f-]{36})"', page)
    assert key, "the feedback form carries a submission key"
    return {"feedback-submission": key.group(1), "feedback-note": note}


def test_recording_feedback_meets_the_step_and_sends_back_to_the_clock(bureau, client_for):
    me = bureau.shanghai_officer
    lead = referred_lead(me)
    client = client_for(me)
    response = client.post(f"/leads/{lead.pk}/feedback/", _feedback_post(client, lead))
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/#h-clock"
    row = ReferrerFeedback.objects.get(lead=lead)
    assert (row.actor_id, row.note) == (me.pk, "电话告知王顾问：已对接")
    html = clock_section(client.get(f"/leads/{lead.pk}/").content.decode())
    assert "完成 · 张明" in html and "电话告知王顾问" in html


def test_the_same_feedback_sent_twice_is_recorded_once(bureau, client_for):
    me = bureau.shanghai_officer
    lead = referred_lead(me)
    client = client_for(me)
    data = _feedback_post(client, lead)
    first = client.post(f"/leads/{lead.pk}/feedback/", data)
    second = client.post(f"/leads/{lead.pk}/feedback/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert ReferrerFeedback.objects.filter(lead=lead).count() == 1


def test_an_empty_note_is_an_error_on_the_lead_page_and_nothing_is_written(bureau, client_for):
    me = bureau.shanghai_officer
    lead = referred_lead(me)
    client = client_for(me)
    response = client.post(f"/leads/{lead.pk}/feedback/", _feedback_post(client, lead, note=""))
    assert response.status_code == 200
    assert response.context["feedback_form"].errors["note"]
    assert not ReferrerFeedback.objects.exists()


def test_an_outsider_cannot_record_feedback_and_nothing_is_written(bureau, client_for):
    lead = referred_lead(bureau.shanghai_officer)
    data = _feedback_post(client_for(bureau.shanghai_officer), lead)
    response = client_for(bureau.outsider).post(f"/leads/{lead.pk}/feedback/", data)
    assert response.status_code == 404
    assert not ReferrerFeedback.objects.exists()


def test_an_assisting_officer_of_another_unit_sees_the_clock_but_cannot_record(bureau, client_for):
    lead = referred_lead(bureau.shanghai_officer)
    lead_services.assignment_add(
        actor=bureau.chief, officer=bureau.outsider, role=AssignmentRole.ASSISTING, lead=lead
    )
    client = client_for(bureau.outsider)
    page = client.get(f"/leads/{lead.pk}/")
    assert "反馈引荐人" in clock_section(page.content.decode())
    assert page.context["feedback_form"] is None
    response = client.post(f"/leads/{lead.pk}/feedback/", {"feedback-note": "我来反馈"})
    assert response.status_code == 403
    assert not ReferrerFeedback.objects.exists()


def test_feedback_on_a_lead_without_a_referrer_is_refused_with_a_message(bureau, client_for):
    lead = make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    response = client.post(f"/leads/{lead.pk}/feedback/", {"feedback-note": "已告知"}, follow=True)
    assert "该项目信息没有引荐人，无需反馈。" in response.content.decode()
    assert not ReferrerFeedback.objects.exists()


# --- the officer's home ------------------------------------------------------------------------


def test_home_lists_my_leads_steps_overdue_and_due_soon_oldest_first(bureau, client_for):
    me = bureau.shanghai_officer
    with time_machine.travel(at(0), tick=False):
        old = referred_lead(me, name="老项目")
    with time_machine.travel(at(4), tick=False):
        new = make_lead(me, name="新项目")
        make_lead(bureau.teammate, name="同事的项目")  # not mine
    with time_machine.travel(at(5), tick=False):
        log_visit(me, old)
        response = client_for(me).get("/")
    steps = [(item["lead"].name, item["row"].step) for item in response.context["clock_steps"]]
    # 老项目: responded (late), assessment overdue (due day 3), feedback due day 7 (within
    # three days); 新项目: response overdue (due day 5 is today: due), assessment due day 7.
    assert steps == [
        ("老项目", "assess"),
        ("新项目", "respond"),
        ("老项目", "referrer_feedback"),
        ("新项目", "assess"),
    ]
    html = clock_section(response.content.decode())
    assert "逾期 2 天" in html and "今天到期" in html and "剩余 2 天" in html
    assert "同事的项目" not in html
    assert f"/leads/{new.pk}/#h-clock" in html


def test_home_shows_no_step_of_a_closed_lead_or_a_met_one(bureau, client_for):
    me = bureau.shanghai_officer
    with time_machine.travel(at(0), tick=False):
        dropped = make_lead(me)
        valid = make_lead(me, status=LeadStatus.VALID)
        log_visit(me, valid)
        lead_services.lead_drop(lead=dropped, actor=me, reason="投资方暂缓")
    with time_machine.travel(at(10), tick=False):
        response = client_for(me).get("/")
    assert response.context["clock_steps"] == []
    assert "没有到期的办理步骤。" in response.content.decode()


def test_home_clock_query_count_does_not_grow_with_leads(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    with time_machine.travel(at(0), tick=False):
        for _ in range(2):
            referred_lead(me)
    with time_machine.travel(at(9), tick=False):
        client.get("/")  # the session's once-a-minute write, not counted
        with CaptureQueriesContext(connection) as few:
            client.get("/")
    with time_machine.travel(at(0), tick=False):
        for _ in range(18):
            referred_lead(me)
    with time_machine.travel(at(9), tick=False):
        with CaptureQueriesContext(connection) as many:
            response = client.get("/")
    assert len(response.context["clock_steps"]) == 20
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_home_clock_reads_the_steps_due_without_who_met_the_others(bureau, client_for):
    """The home page lists steps still due, which no one has met: its statement leaves out
    the four sub-queries of who met each step (the lead page's) and the columns of the lead
    and investor it does not print — ~4.5 ms of the province unit head's page."""
    me = bureau.shanghai_officer
    client = client_for(me)
    with time_machine.travel(at(0), tick=False):
        lead = referred_lead(me, name="老项目")
    with time_machine.travel(at(5), tick=False):
        client.get("/")
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/")
    [item, *_] = response.context["clock_steps"]
    assert item["lead"].pk == lead.pk and item["row"].met_by_id is None
    assert item["lead"].investor.name in clock_section(response.content.decode())
    [clock] = [q["sql"] for q in queries if '"clock_respond_on"' in q["sql"]]
    assert '"clock_respond_by"' not in clock and '"clock_assess_by"' not in clock
    for column in ("description", "estimated_amount", "credit_code", "notes"):
        assert f'."{column}"' not in clock.split(" FROM ", 1)[0], column
