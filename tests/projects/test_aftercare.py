"""Aftercare (亲商服务, issue #20): the service envoy, the rhythm of service visits, the
structured visit form, its problem in 马上办 and its 增资扩产 lead counted as an increment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from leads.choices import LeadStatus
from leads.models import Lead
from leads.services import lead_qualify, lead_start_negotiation
from projects import services
from projects.choices import ProblemStatus, Stage
from projects.models import Problem, ProblemAction, Project, ProjectIncrement, ServiceVisit
from projects.selectors import service_visits_overdue
from promo.core.errors import PermissionDenied, RuleViolation
from promo.core.services import today
from promo.reports.selectors import period_figures
from tests.factories import make_project, sign_lead, stage_evidence
from tests.web.test_i18n import compiled  # noqa: F401  (the fixture: a compiled catalogue)

pytestmark = pytest.mark.django_db


def producing(actor, *, days_ago: int = 200, **fields) -> Project:
    """A project signed ``days_ago`` days ago that produced 30 days after (recorded then)."""
    start = today() - timedelta(days=days_ago)
    with time_machine.travel(datetime.combine(start + timedelta(days=31), time(4), UTC)):
        project = make_project(actor, contract_date=start, **fields)
        for offset, stage in (
            (10, Stage.GROUNDBREAKING),
            (20, Stage.COMPLETED),
            (30, Stage.PRODUCING),
        ):
            project, _event = services.project_advance(
                project=project,
                actor=actor,
                to_stage=stage,
                actual_date=start + timedelta(days=offset),
                evidence=stage_evidence(stage),
            )
    return project


def visit(project, actor, **fields):
    values = {"visited_on": today(), "satisfaction": 4, "employment": 120, **fields}
    return services.service_visit_log(project=project, actor=actor, **values)


# --- the envoy ---------------------------------------------------------------------------


def test_a_head_names_the_envoy_and_the_history_says_who_and_when(bureau):
    project = producing(bureau.shanghai_officer)
    named = services.project_envoy_name(
        project=project, actor=bureau.shanghai_head, envoy=bureau.teammate, green_card=True
    )
    named.refresh_from_db()
    assert named.service_envoy == bureau.teammate
    assert named.service_envoy_named_by == bureau.shanghai_head
    assert named.service_envoy_named_at is not None and named.green_card
    event = named.events.order_by("pgh_id").last()
    assert event.service_envoy_id == bureau.teammate.pk
    assert event.pgh_context.metadata["user"] == bureau.shanghai_head.pk
    assert event.pgh_context.metadata["why"] == "project_envoy_name"


def test_the_officer_cannot_name_an_envoy_and_nothing_changes(bureau):
    project = producing(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        services.project_envoy_name(
            project=project, actor=bureau.shanghai_officer, envoy=bureau.shanghai_officer
        )
    project.refresh_from_db()
    assert project.service_envoy_id is None and project.service_envoy_named_by_id is None


def test_an_outsider_cannot_name_an_envoy_and_nothing_changes(bureau):
    project = producing(bureau.shanghai_officer)
    before = project.events.count()
    with pytest.raises(PermissionDenied):
        services.project_envoy_name(project=project, actor=bureau.outsider, envoy=bureau.outsider)
    project.refresh_from_db()
    assert project.service_envoy_id is None and project.events.count() == before


def test_the_envoy_must_already_see_the_enterprise(bureau):
    project = producing(bureau.shanghai_officer)
    with pytest.raises(RuleViolation) as refused:
        services.project_envoy_name(project=project, actor=bureau.chief, envoy=bureau.outsider)
    assert "service_envoy" in refused.value.field_errors


def test_no_envoy_before_the_project_produces(bureau):
    project = make_project(bureau.shanghai_officer)
    with pytest.raises(RuleViolation) as refused:
        services.project_envoy_name(
            project=project, actor=bureau.shanghai_head, envoy=bureau.teammate
        )
    assert "service_envoy" in refused.value.field_errors


# --- the visit, its problem and its expansion ----------------------------------------------


def test_a_visit_keeps_typed_answers(bureau):
    project = producing(bureau.shanghai_officer)
    services.project_envoy_name(project=project, actor=bureau.shanghai_head, envoy=bureau.teammate)
    row = visit(project, bureau.teammate, satisfaction=5, employment=260, notes="产线满负荷")
    row.refresh_from_db()
    assert (row.satisfaction, row.employment, row.has_expansion_plan) == (5, 260, False)
    assert row.expansion_amount == Decimal("0") and row.visited_by == bureau.teammate


def test_a_problem_raised_on_a_visit_goes_to_instant_action_first_asked_of_the_visitor(bureau):
    project = producing(bureau.shanghai_officer)
    row = visit(
        project,
        bureau.shanghai_officer,
        problem_title="用电增容审批慢",
        problem_kind="power",
        problem_owner_unit=bureau.department,
        problem_due_on=today() + timedelta(days=7),
    )
    problem = row.problem
    assert problem.project == project and problem.status == ProblemStatus.OPEN
    assert problem.first_asked == bureau.shanghai_officer
    assert problem.owner_unit == bureau.department and problem.raised_on == row.visited_on
    assert ProblemAction.objects.filter(problem=problem, action="raised").count() == 1


def test_the_visit_and_its_problem_are_one_transaction(bureau):
    project = producing(bureau.shanghai_officer)
    visit(project, bureau.shanghai_officer, source_system="12345", external_id="V-1")
    problems = Problem.objects.count()
    # The visit's own row fails last (the same external id): the problem raised before it
    # in the same transaction is rolled back with it.
    with pytest.raises(IntegrityError):
        visit(
            project,
            bureau.shanghai_officer,
            source_system="12345",
            external_id="V-1",
            problem_title="招工难",
            problem_kind="labour",
            problem_due_on=today() + timedelta(days=3),
        )
    assert Problem.objects.count() == problems
    assert ServiceVisit.objects.count() == 1


def test_an_expansion_plan_becomes_a_lead_marked_expansion_on_the_same_investor(bureau, client_for):
    project = producing(bureau.shanghai_officer)
    row = visit(project, bureau.shanghai_officer, has_expansion_plan=True, expansion_amount=8000)
    lead = row.expansion_lead
    assert lead.is_expansion and lead.investor_id == project.investor_id
    assert lead.unit_id == project.unit_id and lead.status == LeadStatus.INFORMATION
    assert lead.estimated_amount == Decimal("8000.00")
    page = client_for(bureau.shanghai_officer).get(f"/leads/{lead.pk}/").content.decode()
    assert "签约后计入原项目的增资" in page
    listed = client_for(bureau.shanghai_officer).get("/leads/", {"is_expansion": "true"})
    assert [x.pk for x in listed.context["page"].object_list] == [lead.pk]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"has_expansion_plan": True, "expansion_amount": 0}, "expansion_amount"),
        ({"has_expansion_plan": False, "expansion_amount": 10}, "expansion_amount"),
        ({"satisfaction": 6}, "satisfaction"),
        ({"problem_title": "融资难", "problem_kind": "financing"}, "problem_due_on"),
        (
            {"problem_title": "融资难", "problem_kind": "x", "problem_due_on": today()},
            "problem_kind",
        ),
        ({"visited_on": today() + timedelta(days=1)}, "visited_on"),
    ],
)
def test_bad_answers_are_refused_on_their_field_and_nothing_is_written(bureau, fields, field):
    project = producing(bureau.shanghai_officer)
    with pytest.raises(RuleViolation) as refused:
        visit(project, bureau.shanghai_officer, **fields)
    assert field in refused.value.field_errors
    assert not ServiceVisit.objects.exists() and not Problem.objects.exists()
    assert not Lead.objects.filter(is_expansion=True).exists()


def test_an_outsider_cannot_log_a_visit_and_nothing_is_written(bureau):
    project = producing(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        visit(project, bureau.outsider, has_expansion_plan=True, expansion_amount=100)
    assert not ServiceVisit.objects.exists()
    assert not Lead.objects.filter(is_expansion=True).exists()


def test_an_assisting_officer_who_is_the_envoy_may_log_a_visit_but_not_otherwise(bureau):
    project = producing(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        visit(project, bureau.teammate)
    services.project_envoy_name(project=project, actor=bureau.shanghai_head, envoy=bureau.teammate)
    assert visit(project, bureau.teammate).pk


# --- 增资扩产 counted as an increment ------------------------------------------------------


def _sign_expansion(bureau, project, amount=8000):
    row = visit(project, bureau.shanghai_officer, has_expansion_plan=True, expansion_amount=amount)
    lead = row.expansion_lead
    lead_qualify(lead=lead, actor=bureau.shanghai_officer)
    lead_start_negotiation(lead=lead, actor=bureau.shanghai_officer)
    return sign_lead(bureau.shanghai_officer, lead, contract_date=today(), amount=amount), lead


def test_signing_an_expansion_lead_is_an_increment_never_a_new_project(bureau):
    project = producing(bureau.shanghai_officer)
    total_before = project.total_investment
    projects_before = Project.objects.count()
    signed, lead = _sign_expansion(bureau, project)
    assert signed.pk == project.pk and Project.objects.count() == projects_before
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SIGNED and lead.signed_on == today()
    increment = ProjectIncrement.objects.get(lead=lead)
    assert increment.project_id == project.pk and increment.amount == Decimal("8000.00")
    project.refresh_from_db()
    assert project.total_investment == total_before + Decimal("8000")
    assert project.signed_investment == total_before  # the signing's own figure is unchanged


def test_the_new_signings_count_and_its_list_leave_the_increment_out(bureau, client_for):
    project = producing(bureau.shanghai_officer, days_ago=400)
    fresh = make_project(bureau.shanghai_officer, contract_date=today())  # a real new signing
    _sign_expansion(bureau, project)
    start = today().replace(day=1)
    figures = period_figures(start=start, end=today())[None]
    # Raw rows: projects whose contract date falls in the period — the expansion made none.
    raw = Project.objects.filter(contract_date__gte=start, contract_date__lte=today())
    assert figures.signed_count == raw.count() == 1
    assert list(raw.values_list("pk", flat=True)) == [fresh.pk]
    assert figures.signed_amount == fresh.signed_investment
    # The cockpit's drill-down: the project list for the same dates lists the same one.
    response = client_for(bureau.chief).get(
        "/projects/",
        {"contract_date_after": start.isoformat(), "contract_date_before": today().isoformat()},
    )
    assert response.status_code == 200
    shown = {p.pk for p in response.context["page"].object_list}
    assert shown == {fresh.pk}


# --- the rhythm ------------------------------------------------------------------------------


def test_an_unvisited_enterprise_is_overdue_a_quarter_after_it_produced(bureau, settings):
    settings.PROMO_SERVICE_VISIT_DAYS = 90
    old = producing(bureau.shanghai_officer, days_ago=200)  # produced 170 days ago
    recent = producing(bureau.shanghai_officer, days_ago=60)  # produced 30 days ago
    for p in (old, recent):
        services.project_envoy_name(project=p, actor=bureau.shanghai_head, envoy=bureau.teammate)
    rows = service_visits_overdue(bureau.teammate, day=today())
    assert [r.pk for r in rows] == [old.pk]
    assert rows[0].days_overdue == 170 - 90
    assert service_visits_overdue(bureau.shanghai_officer, day=today()) == []


def test_a_green_card_enterprise_is_due_monthly_and_a_visit_clears_it(bureau, settings):
    settings.PROMO_SERVICE_VISIT_DAYS = 90
    settings.PROMO_GREEN_CARD_VISIT_DAYS = 30
    project = producing(bureau.shanghai_officer, days_ago=100)  # produced 70 days ago
    services.project_envoy_name(
        project=project, actor=bureau.shanghai_head, envoy=bureau.teammate, green_card=True
    )
    visit(project, bureau.teammate, visited_on=today() - timedelta(days=40))
    assert [r.pk for r in service_visits_overdue(bureau.teammate, day=today())] == [project.pk]
    visit(project, bureau.teammate, visited_on=today() - timedelta(days=2))
    assert service_visits_overdue(bureau.teammate, day=today()) == []


def test_the_envoys_home_shows_the_overdue_visit(bureau, client_for):
    project = producing(bureau.shanghai_officer, days_ago=300)
    services.project_envoy_name(project=project, actor=bureau.shanghai_head, envoy=bureau.teammate)
    body = client_for(bureau.teammate).get("/").content.decode()
    assert f'data-service-overdue="{project.pk}"' in body
    assert (
        "data-service-overdue" not in client_for(bureau.shanghai_officer).get("/").content.decode()
    )


def test_the_home_page_tells_the_envoys_enterprises_from_the_projects_they_are_on(
    bureau, client_for
):
    """The home page reads "my projects" (not yet producing) and the enterprises I serve whose
    service visit is overdue in one statement: each list as its own selector gives it."""
    envoy = bureau.teammate
    late, later = producing(envoy, days_ago=300), producing(envoy, days_ago=400)
    served_recently = producing(envoy, days_ago=60)  # produced 30 days ago: not yet due
    for project in (late, later, served_recently):
        services.project_envoy_name(project=project, actor=bureau.shanghai_head, envoy=envoy)
    building = make_project(envoy, contract_date=today() - timedelta(days=5))
    context = client_for(envoy).get("/").context
    overdue = service_visits_overdue(envoy, day=today())
    assert [p.pk for p in overdue] == [later.pk, late.pk]  # most overdue first
    assert [p.pk for p in context["service_visits_overdue"]] == [later.pk, late.pk]
    assert [p.days_overdue for p in context["service_visits_overdue"]] == [
        p.days_overdue for p in overdue
    ]
    # The producing enterprises the envoy is on (主办, as their author) are not "my projects".
    assert [p.pk for p in context["projects"]] == [building.pk]


def test_an_overdue_service_visit_lights_yellow_for_the_envoy_and_a_visit_clears_it(
    bureau, settings
):
    from promo.reports.choices import AlertRule
    from promo.reports.models import Alert
    from promo.reports.services import alerts_evaluate

    settings.PROMO_SERVICE_VISIT_DAYS = 90
    project = producing(bureau.shanghai_officer, days_ago=200)  # produced 170 days ago
    unserved = producing(bureau.shanghai_officer, days_ago=200)  # no envoy: no light
    services.project_envoy_name(project=project, actor=bureau.shanghai_head, envoy=bureau.teammate)
    alerts_evaluate(on=today())
    lit = Alert.objects.get(rule=AlertRule.SERVICE_VISIT_OVERDUE, resolved_on__isnull=True)
    assert (lit.project_id, lit.responsible_id, lit.level) == (
        project.pk,
        bureau.teammate.pk,
        "yellow",
    )
    assert lit.params == {"name": project.name, "days": 170 - 90}
    assert not Alert.objects.filter(project=unserved, rule=AlertRule.SERVICE_VISIT_OVERDUE).exists()
    visit(project, bureau.teammate)
    alerts_evaluate(on=today())
    lit.refresh_from_db()
    assert lit.resolved_on == today()


# --- the pages -------------------------------------------------------------------------------


def test_the_aftercare_page_lists_visits_year_by_year_in_pinned_queries(bureau, client_for):
    project = producing(bureau.shanghai_officer, days_ago=800)
    services.project_envoy_name(project=project, actor=bureau.shanghai_head, envoy=bureau.teammate)
    client = client_for(bureau.teammate)
    url = f"/projects/{project.pk}/aftercare/"

    def count() -> int:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    visit(project, bureau.teammate, visited_on=today() - timedelta(days=400))
    visit(project, bureau.teammate, visited_on=today() - timedelta(days=1))
    few = count()
    for n in range(18):
        visit(
            project,
            bureau.teammate,
            visited_on=today() - timedelta(days=20 * n + 30),
            problem_title=f"问题{n}",
            problem_kind="other",
            problem_due_on=today(),
        )
    many = count()
    assert many == few <= 12
    years = client.get(url).context["years"]
    assert [y.year for y in years] == sorted({v.visited_on.year for v in ServiceVisit.objects.all()},
                                             reverse=True)  # fmt: skip
    assert sum(len(y.visits) for y in years) == 20


def test_an_outsider_gets_no_aftercare_page(bureau, client_for):
    project = producing(bureau.shanghai_officer)
    assert client_for(bureau.outsider).get(f"/projects/{project.pk}/aftercare/").status_code == 404


def _form(project, **fields) -> dict:
    return {
        "visited_on": today().isoformat(),
        "satisfaction": "4",
        "employment": "150",
        "has_expansion_plan": "no",
        "problem_owner_unit": str(project.unit_id),
        "submission": "7b0c4d5e-8f11-4c2a-9e3b-1a2b3c4d5e6f",
        **fields,
    }


def test_a_double_submitted_visit_is_saved_once(bureau, client_for):
    project = producing(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    url = f"/projects/{project.pk}/aftercare/visits/new/"
    data = _form(project, has_expansion_plan="yes", expansion_amount="500")
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert ServiceVisit.objects.count() == 1
    assert Lead.objects.filter(is_expansion=True).count() == 1


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "有增资扩产计划时须填写计划增资金额。"),
     ("en", "With an expansion plan, enter the planned amount.")],
)  # fmt: skip
@pytest.mark.usefixtures("compiled")
def test_a_bad_answer_is_shown_next_to_its_field_in_both_languages(
    bureau, client_for, language, message
):
    project = producing(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    client.cookies["django_language"] = language
    response = client.post(
        f"/projects/{project.pk}/aftercare/visits/new/", _form(project, has_expansion_plan="yes")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["expansion_amount"] == [message]
    assert not ServiceVisit.objects.exists()


def test_an_outsider_posting_a_visit_is_refused_and_nothing_is_written(bureau, client_for):
    project = producing(bureau.shanghai_officer)
    response = client_for(bureau.outsider).post(
        f"/projects/{project.pk}/aftercare/visits/new/", _form(project)
    )
    assert response.status_code == 404
    assert not ServiceVisit.objects.exists()


def test_a_head_names_the_envoy_from_the_page(bureau, client_for):
    project = producing(bureau.shanghai_officer)
    response = client_for(bureau.shanghai_head).post(
        f"/projects/{project.pk}/aftercare/envoy/",
        {"service_envoy": str(bureau.teammate.pk), "green_card": "on"},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.service_envoy == bureau.teammate and project.green_card
