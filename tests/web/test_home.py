"""Home page "my work": follow-ups due, my leads by status, my projects, problems first asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.choices import LeadStatus
from officers.choices import ADMIN_ROLES
from projects import services as project_services
from projects.choices import ProblemKind
from promo.core.services import today
from promo.reports.choices import AlertLevel, AlertRule
from promo.reports.models import Alert
from promo.reports.selectors import HOME_ALERT_ROWS
from tests.factories import make_alerts, make_investor, make_lead, make_officer, make_project
from tests.plans import captured_sql, rows_read

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
    # Session, officer (with its unit and its sub-tree's ids, officers.backends), the
    # follow-ups (their candidates read first in the same statement), lead counts, my projects
    # and the producing enterprises I serve whose service visit is overdue (issue #20; one
    # statement), problems, my alerts, and the bell's unread count (the session is written at
    # most once a minute); and my leads' enquiry-clock steps due (issue #20: one query, the
    # steps read from the leads' annotations). Issue #19's ≤ 12 per page: the sub-tree was a
    # query of its own, the follow-ups two, the two lists of projects two (12 before).
    assert len(few) == 9


# --- requests to join as 协办 waiting for a head's decision ---------------------------------


def _ask_to_assist(requester, n, *, holder):
    """``n`` leads of ``holder``'s unit, each with an open request from ``requester``."""
    requests = []
    for _ in range(n):
        lead = make_lead(holder)
        requests.append(
            lead_services.lead_assist_request(
                lead=lead, actor=requester, known_name=lead.investor.name
            )
        )
    return requests


def test_open_assist_requests_show_on_the_home_page_of_those_who_may_decide_them(
    bureau, client_for
):
    from officers import permissions
    from officers.choices import Role
    from tests.factories import make_officer

    sz_head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD, full_name="孙主任")
    (request,) = _ask_to_assist(bureau.shanghai_officer, 1, holder=bureau.outsider)
    decided = _ask_to_assist(bureau.teammate, 1, holder=bureau.outsider)[0]
    lead_services.lead_assist_decide(request=decided, actor=sz_head, approve=False)
    people = [
        bureau.chief,
        sz_head,
        bureau.shanghai_head,
        bureau.outsider,  # the lead's 主办: told on /claims/, does not decide
        bureau.shanghai_officer,  # the requester
        bureau.submitter,
    ]
    for person in people:
        shown = client_for(person).get("/").context["assists"]
        allowed = [
            r
            for r in (request, decided)
            if permissions.may_decide_assist_request(person, type(r).objects.get(pk=r.pk))
        ]
        assert shown == allowed, person.username
    html = client_for(sz_head).get("/").content.decode()
    assert 'aria-labelledby="h-assists"' in html
    assert request.lead.investor.name in html and "张明" in html
    assert f'action="/assist-requests/{request.pk}/decide/"' in html
    assert 'name="approve" value="1"' in html and 'name="approve" value="0"' in html
    assert (
        'aria-labelledby="h-assists"' not in client_for(bureau.outsider).get("/").content.decode()
    )


def test_a_head_approves_from_the_home_page_and_comes_back_to_it(bureau, client_for):
    from officers.choices import AssignmentRole, Role
    from officers.models import Assignment
    from tests.factories import make_officer

    sz_head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD)
    (request,) = _ask_to_assist(bureau.shanghai_officer, 1, holder=bureau.outsider)
    client = client_for(sz_head)
    response = client.post(f"/assist-requests/{request.pk}/decide/", {"approve": "1", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Assignment.objects.get(lead=request.lead, officer=bureau.shanghai_officer).role == (
        AssignmentRole.ASSISTING
    )
    assert client.get("/").context["assists"] == []
    # A foreign "next" is not followed.
    (other,) = _ask_to_assist(bureau.teammate, 1, holder=bureau.outsider)
    response = client.post(
        f"/assist-requests/{other.pk}/decide/", {"approve": "0", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/claims/"


def test_a_heads_home_query_count_does_not_grow_with_assist_requests(bureau, client_for):
    from officers.choices import Role
    from tests.factories import make_officer

    sz_head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD)
    client = client_for(sz_head)
    _ask_to_assist(bureau.shanghai_officer, 2, holder=bureau.outsider)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/").context["assists"]) == 2
    _ask_to_assist(bureau.shanghai_officer, 20, holder=bureau.outsider)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/")
    assert len(response.context["assists"]) == 20
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    # The officer's nine, plus a head's: claims to settle and the open requests to join as
    # 协办 (one query, requester and lead joined); the unit's red lights are read with the
    # head's own alerts, in one statement.
    assert len(few) == 11


# --- What the home page reads (issue #19): the officer's own rows, through indexes -------------
# Each test puts many rows of colleagues beside a few of the officer's: the page's queries
# must read the officer's, not the unit's or the bureau's (tests/plans.py counts the rows
# PostgreSQL's plan reads). The conditions were ORs that kept the planner off the indexes.


def _home_sql(client) -> list[str]:
    return captured_sql(lambda: client.get("/"))


def test_follow_ups_read_my_visits_not_my_colleagues(bureau, client_for):
    me, colleague = bureau.shanghai_officer, bureau.teammate
    mine = [log_follow_up(me, due=today() - timedelta(days=1)) for _ in range(2)]
    theirs = [log_follow_up(colleague, due=today() - timedelta(days=1)) for _ in range(30)]
    client = client_for(me)
    assert [v.pk for v in client.get("/").context["follow_ups"]] == [v.pk for v in mine]
    # One statement: the candidates, a UNION of the visits I logged (the (created_by,
    # next_step_due) index) and those I attended (my attendance rows, each visit's due date
    # looked up by primary key), run first as an init-plan; then those visits read by primary
    # key. It reads fewer visit rows than my colleague's alone.
    # (How it then checks each for a later visit to its investor is the planner's choice on a
    # table this small.)
    (follow_ups,) = [q for q in _home_sql(client) if "next_step_due" in q]
    assert '"leads_visit"."id" = ANY(ARRAY((SELECT' in follow_ups
    assert rows_read(follow_ups, "leads_visit", within="InitPlan") < len(theirs)
    assert rows_read(follow_ups, "leads_visit_officers", within="InitPlan") < len(theirs)


def test_follow_ups_i_attended_look_up_only_visits_with_a_next_step(bureau, client_for):
    me, colleague = bureau.shanghai_officer, bureau.teammate
    due = [log_follow_up(colleague, due=today() - timedelta(days=1)) for _ in range(2)]
    # Visits I attended that asked for no next step: most of an officer's (92 % at province).
    plain = [
        lead_services.visit_log(
            actor=colleague,
            kind="visit",
            visited_on=today() - timedelta(days=3),
            investor=make_investor(colleague),
            summary="例行走访",
        )
        for _ in range(30)
    ]
    for visit in [*due, *plain]:
        visit.officers.add(me)
    client = client_for(me)
    assert {v.pk for v in client.get("/").context["follow_ups"]} == {v.pk for v in due}
    (follow_ups,) = [q for q in _home_sql(client) if "next_step_due" in q]
    # Each attended visit's due date is asked only of visits that have one, which lets
    # PostgreSQL read it from their index alone (leads_visit_due_by_id: 8 % of the visits at
    # province, 4.8 MB against the primary key's 43 MB) instead of each visit's row. Which
    # of the two a plan takes on a table this small is the planner's choice by a hair (a
    # count of the rows read passed alone and failed in the whole suite), so the statement
    # and the index are checked here, and the time in docs/performance.md.
    assert '"next_step_due" IS NOT NULL' in follow_ups
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'leads_visit_due_by_id'")
        (definition,) = cursor.fetchone()
    assert "(id) INCLUDE (next_step_due) WHERE (next_step_due IS NOT NULL)" in definition


def test_my_problems_check_the_visibility_of_their_projects_only(bureau, client_for):
    me = bureau.shanghai_officer
    theirs = [make_project(bureau.teammate) for _ in range(6)]  # my unit's, no problem of mine
    mine = project_services.problem_raise(
        project=make_project(me),
        actor=me,
        kind=ProblemKind.POWER,
        title="临时用电增容",
        owner_unit=bureau.department,
        due_on=today() + timedelta(days=4),
    )
    client = client_for(me)
    assert [p.pk for p in client.get("/").context["problems"]] == [mine.pk]
    [problems] = [q for q in _home_sql(client) if 'FROM "projects_problem"' in q]
    assert rows_read(problems, "projects_project") < len(theirs)


def test_my_alerts_read_mine_not_the_bureaus(bureau, client_for):
    me = bureau.shanghai_officer
    mine = make_alerts(2, responsible=me)
    theirs = make_alerts(300, responsible=bureau.teammate)
    client = client_for(me)
    assert {a.pk for a in client.get("/").context["my_alerts"]} == {a.pk for a in mine}
    [my_alerts] = [q for q in _home_sql(client) if q.startswith('SELECT "reports_alert"."id"')]
    assert rows_read(my_alerts, "reports_alert") < len(theirs)


def test_the_chiefs_red_alerts_read_only_the_rows_shown(bureau, client_for):
    make_alerts(HOME_ALERT_ROWS + 300, responsible=bureau.teammate, level=AlertLevel.RED)
    client = client_for(bureau.chief)
    red = client.get("/").context["unit_red_alerts"]
    oldest = Alert.objects.filter(level=AlertLevel.RED).order_by("opened_on", "pk")
    assert [a.pk for a in red] == [a.pk for a in oldest[:HOME_ALERT_ROWS]]
    # One statement reads both lists: each list's keys first (the red ones: the oldest 20 in
    # the open-red index's order), then those rows by primary key.
    # The summary's counts are read beside them (init-plans that count; counted below).
    [alerts] = [q for q in _home_sql(client) if '"reports_alert"."level" = \'red\'' in q]
    assert rows_read(alerts, "reports_alert", within="InitPlan", counts=False) <= HOME_ALERT_ROWS
    assert rows_read(alerts, "reports_alert", counts=False) <= 2 * HOME_ALERT_ROWS


def test_the_alert_summary_counts_every_alert_not_the_rows_shown(bureau, client_for):
    """The summary line says how many alerts there are; the lists show the first 20 and say
    so. It counted the rows shown: a province unit head with 882 alerts (481 red) read
    "我的预警 20 条（红灯 20）", a chief with 157,205 red ones "全局红灯 20 项"."""
    from promo.reports.models import AlertNotice

    head = bureau.shanghai_head
    make_alerts(23, responsible=head)
    make_alerts(4, responsible=head, level=AlertLevel.RED)
    theirs = make_alerts(25, responsible=bureau.teammate, level=AlertLevel.RED)
    # Another unit's: outside the head's units, so not in the units' red count ...
    elsewhere = make_alerts(3, responsible=bureau.outsider, level=AlertLevel.RED)
    # ... unless the head was notified of it (then it is theirs), like one of the teammate's.
    AlertNotice.objects.create(alert=elsewhere[0], step=2, recipient=head)
    AlertNotice.objects.create(alert=theirs[0], step=2, recipient=head)
    resolved = make_alerts(2, responsible=bureau.teammate)
    Alert.objects.filter(pk__in=[a.pk for a in resolved]).update(resolved_on=today())

    response = client_for(head).get("/")
    context = response.context
    assert len(context["my_alerts"]) == HOME_ALERT_ROWS
    assert len(context["unit_red_alerts"]) == HOME_ALERT_ROWS
    # Mine: 23 + 4 red of my own, 2 red I was notified of.
    assert (context["my_alert_count"], context["my_red_count"]) == (29, 6)
    # My units' red ones but mine: the teammate's 25 less the one I was notified of.
    assert context["unit_red_count"] == 24
    summary = response.content.decode().split("<summary>")[1].split("</summary>")[0]
    assert "我的预警 29 条" in summary and "红灯 6" in summary
    assert "本单位红灯 24 项" in summary
    html = response.content.decode()
    assert "以上为其中 20 条：红灯在前，亮灯早的在前。" in html
    assert "以上为亮灯最早的 20 项。" in html

    # A chief's: the bureau's red ones, none of them theirs.
    context = client_for(bureau.chief).get("/").context
    assert (context["my_alert_count"], context["unit_red_count"]) == (0, 25 + 3 + 4)


def test_the_alert_summary_says_nothing_more_when_every_alert_is_shown(bureau, client_for):
    head = bureau.shanghai_head
    make_alerts(2, responsible=head, level=AlertLevel.RED)
    make_alerts(3, responsible=bureau.teammate, level=AlertLevel.RED)
    response = client_for(head).get("/")
    html = response.content.decode()
    assert "我的预警 2 条" in html and "红灯 2" in html and "本单位红灯 3 项" in html
    assert "以上为其中" not in html and "以上为亮灯最早的" not in html
    assert response.context["alerts_summary_level"] == "red"


def test_a_heads_home_reads_both_alert_lists_and_their_notices_in_pinned_queries(
    bureau, client_for
):
    from promo.reports.models import AlertNotice

    head = bureau.shanghai_head
    mine = make_alerts(3, responsible=head)
    red = make_alerts(4, responsible=bureau.teammate, level=AlertLevel.RED)
    # Notified: the head of their own alert; the teammate's manager (the chief) of a red one.
    for alert, step, who in (
        (mine[0], 1, head),
        (red[0], 1, bureau.teammate),
        (red[0], 2, bureau.chief),
    ):
        AlertNotice.objects.create(alert=alert, step=step, recipient=who)
    client = client_for(head)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert {a.pk for a in response.context["my_alerts"]} == {a.pk for a in mine}
    assert {a.pk for a in response.context["unit_red_alerts"]} == {a.pk for a in red}
    with CaptureQueriesContext(connection) as later:
        notified = {
            alert.pk: [n.step for n in alert.notices.all()]
            for alert in [*response.context["my_alerts"], *response.context["unit_red_alerts"]]
        }
    assert len(later) == 0  # read with the page
    assert notified[mine[0].pk] == [1] and notified[red[0].pk] == [1, 2]
    assert notified[mine[1].pk] == [] and notified[red[1].pk] == []
    # Session, officer (with its unit and the sub-tree's ids), the follow-ups, lead counts, my
    # projects (with the enterprises I serve whose service visit is overdue, issue #20),
    # problems, claims to settle, requests to join, the enquiry clock's steps due (issue #20),
    # my alerts with the unit's red ones (one statement), the notices of both lists (one
    # query), the bell's count. Issue #19's bench counted 16 for a head at province scale
    # against its ≤ 12: the sub-tree, the follow-ups, the lists of projects and of alerts were
    # each read in a query of their own.
    assert len(queries) == 12, [q["sql"][:120] for q in queries]


def test_a_heads_unit_red_list_leaves_out_mine_without_building_mine_again(bureau, client_for):
    """The units' red list leaves out mine (responsible or notified) row by row as it walks
    the open-red index; it does not build the keys of mine (my alerts UNION my notices),
    which my own list and the summary's counts of mine build. Built for it too, a province
    unit head with 882 alerts paid 2.4 ms more of the statement's 11."""
    from promo.reports.models import AlertNotice

    head = bureau.shanghai_head
    notified = make_alerts(30, responsible=bureau.teammate)
    AlertNotice.objects.bulk_create(
        AlertNotice(alert=alert, step=1, recipient=head) for alert in notified
    )
    red = make_alerts(5, responsible=bureau.shanghai_officer, level=AlertLevel.RED)
    client = client_for(head)
    context = client.get("/").context
    assert {a.pk for a in context["unit_red_alerts"]} == {a.pk for a in red}
    assert {a.pk for a in context["my_alerts"]} <= {a.pk for a in notified}
    [alerts] = [q for q in _home_sql(client) if '"reports_alert"."level" = \'red\'' in q]
    # Mine's keys (my alerts UNION my notices) are not built for the red list, which asks
    # each row instead. How it asks is the planner's choice: at province scale a probe per
    # red row, on a small table sometimes one hash of my notices — so the test reads the
    # statement's shape, not the rows a plan happens to read (the earlier form, 60 == 30,
    # failed after another test's rolled-back alerts had grown the table).
    # Twice in all: for my list and for the summary's counts of mine (one pass for the three).
    assert alerts.count(" UNION ") == 2
    assert alerts.count("SELECT ARRAY[COUNT(*)") == 2  # mine's counts, the units' red one
    assert 'NOT EXISTS(SELECT 1 AS "a" FROM "reports_alertnotice"' in alerts


def test_a_heads_alerts_are_told_apart_in_the_one_statement_that_reads_both_lists(
    bureau, client_for
):
    """Mine (responsible or notified: red first, then oldest) and the units' other red ones
    (oldest first) come from one statement; a red alert of mine is listed once, as mine."""
    from promo.reports.models import AlertNotice

    head = bureau.shanghai_head
    [my_yellow] = make_alerts(1, responsible=head)
    my_red = Alert.objects.create(
        rule=AlertRule.MILESTONE_OVERDUE,
        level=AlertLevel.RED,
        subject_key="project:mine",
        unit=head.unit,
        responsible=head,
        detail="逾期",
        opened_on=today(),
        last_seen_on=today(),
    )
    theirs = make_alerts(3, responsible=bureau.teammate, level=AlertLevel.RED)
    AlertNotice.objects.create(alert=theirs[1], step=2, recipient=head)  # notified: mine too
    context = client_for(head).get("/").context
    # Red first, then the oldest: the notified one opened a day before mine.
    assert [a.pk for a in context["my_alerts"]] == [theirs[1].pk, my_red.pk, my_yellow.pk]
    # The others, oldest first (opened 2 days ago, then today).
    assert [a.pk for a in context["unit_red_alerts"]] == [theirs[2].pk, theirs[0].pk]
    assert context["my_red_count"] == 2


def test_the_alert_rows_read_the_names_they_show_not_their_records_whole(bureau, client_for):
    """An alert row prints its record's name (project, lead or problem), its unit's and the
    notified officers' names: the statement reads those columns, not the five related rows
    whole (143 columns a row), and rendering them asks nothing more."""
    from promo.reports.models import AlertNotice

    head = bureau.shanghai_head
    project = make_project(bureau.shanghai_officer, name="电池项目")
    lead = make_lead(bureau.shanghai_officer, name="协议洽谈")
    problem = project_services.problem_raise(
        project=project,
        actor=bureau.shanghai_officer,
        kind=ProblemKind.POWER,
        title="临时用电增容",
        owner_unit=bureau.department,
        due_on=today() + timedelta(days=4),
    )
    subjects = [{"project": project}, {"lead": lead}, {"problem": problem}, {}]
    alerts = Alert.objects.bulk_create(
        Alert(
            rule=AlertRule.MILESTONE_OVERDUE,
            level=AlertLevel.RED,
            subject_key=f"s:{i}",
            unit=head.unit,
            responsible=head if i % 2 else bureau.shanghai_officer,
            detail="逾期",
            opened_on=today(),
            last_seen_on=today(),
            **subject,
        )
        for i, subject in enumerate(subjects)
    )
    AlertNotice.objects.bulk_create(
        AlertNotice(alert=alert, step=1, recipient=bureau.shanghai_officer) for alert in alerts
    )
    client = client_for(head)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert len(queries) == 12
    for name in ("电池项目", "协议洽谈", "临时用电增容", str(head.unit.name)):
        assert name in html
    assert html.count(bureau.shanghai_officer.display_name) >= len(alerts)
    [rows] = [q["sql"] for q in queries if '"reports_alert"."level" = \'red\'' in q["sql"]]
    assert '"projects_project"."name"' in rows and '"leads_lead"."name"' in rows
    for column in ("total_investment", "contract_date", "estimated_amount", "password"):
        assert f'."{column}"' not in rows, column


def test_my_projects_rows_are_read_by_keys_each_read_from_the_projects_i_see(bureau, client_for):
    """My projects and the enterprises I serve: each list's keys are read from the projects I
    see; the rows are then read by those keys alone, not through the visibility condition a
    third time (building and compiling it was ~1.5 ms of the province unit head's page)."""
    head = bureau.shanghai_head
    make_project(head, name="电池项目")
    make_project(bureau.outsider, name="深圳项目")
    client = client_for(head)
    html = client.get("/").content.decode()
    assert "电池项目" in html and "深圳项目" not in html
    [rows] = [q for q in _home_sql(client) if "projects_servicevisit" in q]
    assert rows.count('."unit_id" IN (') == 2, rows  # the two lists' keys; not the rows


def test_follow_ups_read_what_the_rows_print_not_the_visits_whole(bureau, client_for):
    """A follow-up row prints the next step, its day, the investor and the lead: the statement
    (the home page's and the calendar's) reads those columns, not each visit's 洽谈内容 and
    the lead and investor whole."""
    me = bureau.shanghai_officer
    lead = make_lead(me, name="协议洽谈", status=LeadStatus.VALID)
    log_follow_up(me, due=today(), lead=lead)
    client = client_for(me)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert "协议洽谈" in html and lead.investor.name in html and len(queries) == 9
    [follow_ups] = [q["sql"] for q in queries if '"leads_visit"."next_step_due"' in q["sql"]]
    selected = follow_ups.split(" FROM ", 1)[0]
    for column in ("summary", "description", "credit_code"):
        assert f'."{column}"' not in selected, column


@pytest.mark.parametrize("role", sorted(ADMIN_ROLES))
def test_an_administrators_home_answers_with_empty_lists(bureau, client_for, role):
    """三员分立: an administrator sees no business record, so every list of the home page is
    empty — and the page answers (my projects' two key lists are both ``none()``: read by
    their keys alone, they compiled to ``ANY(NULL)`` and the page was a 500)."""
    make_project(bureau.shanghai_officer, name="电池项目")
    admin = make_officer(None, role=role)
    response = client_for(admin).get("/")
    assert response.status_code == 200
    assert response.context["projects"] == [] and response.context["follow_ups"] == []
    assert "电池项目" not in response.content.decode()
