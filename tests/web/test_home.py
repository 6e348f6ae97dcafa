"""Home page "my work": follow-ups due, my leads by status, my projects, problems first asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.choices import LeadStatus
from projects import services as project_services
from projects.choices import ProblemKind
from promo.core.services import today
from tests.factories import make_investor, make_lead, make_project

pytestmark = pytest.mark.django_db


def log_follow_up(officer, *, due, visited=None, lead=None, investor=None):
    investor = investor or (lead.investor if lead else make_investor(officer))
    return lead_services.visit_log(
        actor=officer,
        kind="visit",
        visited_on=visited or due - timedelta(days=3),
        investor=investor,
        lead=lead,
        summary="洽谈扩产计划",
        next_step="寄送园区政策资料",
        next_step_due=due,
    )


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_home_shows_due_and_overdue_follow_ups_but_not_future_ones(bureau, client_for):
    me = bureau.shanghai_officer
    overdue = log_follow_up(me, due=today() - timedelta(days=2))
    log_follow_up(me, due=today(), visited=today())
    future = log_follow_up(me, due=today() + timedelta(days=5), visited=today())
    response = client_for(me).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("寄送园区政策资料") == 2
    assert "逾期 2 天" in html and "今天到期" in html
    assert overdue.investor.name in html
    assert future.investor.name not in html
    assert "登记走访" in html


def test_follow_up_disappears_after_a_later_visit_to_the_same_investor(bureau, client_for):
    me = bureau.shanghai_officer
    visit = log_follow_up(me, due=today() - timedelta(days=1))
    lead_services.visit_log(
        actor=me, kind="call", visited_on=today(), investor=visit.investor, summary="已寄送资料"
    )
    assert "寄送园区政策资料" not in client_for(me).get("/").content.decode()


def test_attended_follow_up_shows_for_the_colleague_too(bureau, client_for):
    visit = log_follow_up(bureau.shanghai_officer, due=today())
    visit.officers.add(bureau.teammate)
    assert "寄送园区政策资料" in client_for(bureau.teammate).get("/").content.decode()
    assert "寄送园区政策资料" not in client_for(bureau.shanghai_head).get("/").content.decode()


def test_lead_counts_link_to_the_filtered_list(bureau, client_for):
    me = bureau.shanghai_officer
    make_lead(me, status=LeadStatus.VALID)
    make_lead(me, status=LeadStatus.VALID)
    make_lead(me, status=LeadStatus.NEGOTIATING)
    make_lead(bureau.teammate, status=LeadStatus.VALID)  # not mine
    response = client_for(me).get("/")
    counts = {item["status"]: item["count"] for item in response.context["lead_counts"]}
    assert counts == {"information": 0, "valid": 2, "negotiating": 1}
    assert "/leads/?status=valid&amp;mine=1" in response.content.decode()


def test_my_projects_show_next_milestone_and_overdue_in_red(bureau, client_for):
    me = bureau.shanghai_officer
    project = make_project(
        me,
        contract_date=today() - timedelta(days=60),
        groundbreaking_planned=today() - timedelta(days=10),
    )
    response = client_for(me).get("/")
    html = response.content.decode()
    assert project.name in html
    assert "已逾期" in html
    assert 'class="overdue"' in html


def test_problems_first_asked_show_days_left(bureau, client_for):
    me = bureau.shanghai_officer
    project = make_project(me)
    project_services.problem_raise(
        project=project,
        actor=me,
        kind=ProblemKind.POWER,
        title="临时用电增容",
        owner_unit=bureau.department,
        due_on=today() + timedelta(days=4),
    )
    html = client_for(me).get("/").content.decode()
    assert "临时用电增容" in html and "剩余 4 天" in html


def _populate(officer, n):
    for i in range(n):
        lead = make_lead(officer, status=LeadStatus.VALID)
        log_follow_up(officer, due=today() - timedelta(days=i % 3), lead=lead)
        project = make_project(officer, groundbreaking_planned=today())
        project_services.problem_raise(
            project=project,
            actor=officer,
            kind=ProblemKind.LABOUR,
            title=f"招工{i}",
            owner_unit=officer.unit,
            due_on=today() + timedelta(days=3),
        )


def test_home_query_count_does_not_grow_with_rows(bureau, client_for):
    me = bureau.shanghai_officer
    client = client_for(me)
    _populate(me, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/").status_code == 200
    _populate(me, 18)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/")
    assert len(response.context["follow_ups"]) == 20
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    # Session, officer, scope (2), follow-ups, lead counts, projects, problems, my alerts,
    # and the bell's unread count (the session is written at most once a minute).
    assert len(few) == 10
