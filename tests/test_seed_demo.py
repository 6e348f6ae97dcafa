"""seed_demo: the demo bureau through the services, and the bulk benchmark bureau."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count, F, Max, Min, Q

from leads.choices import LeadStatus, RewardStatus, SourceChannel, VisitKind
from leads.models import IntermediaryReward, Investor, Lead, LeadStatusEvent, Visit
from leads.normalize import is_valid_credit_code, normalize_name
from officers.choices import Role, TargetMetric, UnitKind
from officers.models import Officer, Target, Unit
from projects.choices import (
    HUNDRED_MILLION,
    TEN_MILLION,
    Milestone,
    MilestoneAction,
    ProblemStatus,
    Stage,
)
from projects.models import (
    InvestmentProgress,
    MilestoneEvent,
    Problem,
    Project,
    ProjectStageEvent,
    size_class_for,
)
from promo.core.services import today
from promo.devtools.demo import ADMIN_URL, DEMO_PASSWORD
from promo.devtools.demo.bureau import BUREAU_NAME

STAGE_DATES = ("groundbreaking_actual", "completed_actual", "producing_actual")
REWARD_STEPS = {
    RewardStatus.PROPOSED: [RewardStatus.PROPOSED],
    RewardStatus.APPROVED: [RewardStatus.PROPOSED, RewardStatus.APPROVED],
    RewardStatus.PAID: [RewardStatus.PROPOSED, RewardStatus.APPROVED, RewardStatus.PAID],
}
STAGE_REACHED = {
    Stage.SIGNED: 0,
    Stage.GROUNDBREAKING: 1,
    Stage.COMPLETED: 2,
    Stage.PRODUCING: 3,
}


def tree(root_name: str):
    return Unit.objects.filter(path__startswith=Unit.objects.get(name=root_name).path)


def counts(units) -> dict[str, int]:
    return {
        "units": units.count(),
        "officers": Officer.objects.filter(unit__in=units).count(),
        "investors": Investor.objects.filter(unit__in=units).count(),
        "leads": Lead.objects.filter(unit__in=units).count(),
        "status_events": LeadStatusEvent.objects.filter(lead__unit__in=units).count(),
        "visits": Visit.objects.filter(unit__in=units).count(),
        "projects": Project.objects.filter(unit__in=units).count(),
        "stage_events": ProjectStageEvent.objects.filter(project__unit__in=units).count(),
        "progress": InvestmentProgress.objects.filter(project__unit__in=units).count(),
        "problems": Problem.objects.filter(project__unit__in=units).count(),
        "targets": Target.objects.filter(Q(unit__in=units) | Q(officer__unit__in=units)).count(),
        "all_officers": Officer.objects.count(),
    }


def assert_project_invariants(project: Project) -> None:
    """Re-check every rule a project obeys, whoever wrote it."""
    now = today()
    assert project.size_class == size_class_for(project.total_investment)
    assert project.total_investment >= project.signed_investment > 0
    assert project.contract_date <= now
    reached = STAGE_REACHED[project.stage]
    actual = [getattr(project, name) for name in STAGE_DATES]
    assert all(d is not None for d in actual[:reached]), project
    assert all(d is None for d in actual[reached:]), project
    previous = project.contract_date
    for day in actual[:reached]:
        assert previous <= day <= now, project
        previous = day
    planned = [
        project.groundbreaking_planned,
        project.completed_planned,
        project.producing_planned,
    ]
    previous = project.contract_date
    for day in planned:
        if day is not None:
            assert day >= previous, project
            previous = day
    assert project.arrived_fdi <= project.contracted_fdi or project.contracted_fdi == 0
    if project.lead_id:
        lead = project.lead
        assert lead.status == LeadStatus.SIGNED and lead.signed_on == project.contract_date
        assert lead.negotiating_on is not None and lead.negotiating_on <= project.contract_date


def assert_lead_invariants(leads) -> None:
    """Milestone dates in order, never in the future, and activity dates that match the visits."""
    now = today()
    visits = {
        row["lead"]: row
        for row in Visit.objects.filter(lead__in=leads)
        .values("lead")
        .annotate(
            first=Min("visited_on"),
            last=Max("visited_on"),
            inspection=Min("visited_on", filter=Q(kind=VisitKind.INSPECTION)),
        )
    }
    for lead in leads:
        dates = [lead.first_contact_on, lead.qualified_on, lead.negotiating_on]
        dates += [lead.signed_on or lead.closed_on]
        known = [d for d in dates if d is not None]
        assert known == sorted(known), lead
        assert all(d <= now for d in known), lead
        if lead.status == LeadStatus.DROPPED:
            assert lead.drop_reason and lead.closed_on
        if lead.status == LeadStatus.REJECTED:
            assert lead.reject_reason and lead.closed_on
        # A lead not answered yet has no visit (the enquiry clock's showcase, issue #20).
        row = visits.get(lead.pk, {"first": None, "last": None, "inspection": None})
        assert lead.first_contact_on == row["first"], lead
        assert lead.last_activity_on == row["last"], lead
        assert lead.first_inspection_on == row["inspection"], lead


def assert_one_holder_per_investor(leads) -> None:
    """防撞单: the open leads on one investor all belong to one unit."""
    holders: dict[int, set[int]] = {}
    for lead in leads:
        if lead.status in (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING):
            holders.setdefault(lead.investor_id, set()).add(lead.unit_id)
    assert all(len(units) == 1 for units in holders.values())


def chief_of(units):
    return Officer.objects.get(unit__in=units, role=Role.CHIEF, title="局长")


@pytest.mark.django_db
def test_seed_demo_builds_a_believable_bureau_through_the_services_and_only_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    output = out.getvalue()
    units = tree(BUREAU_NAME)
    first = counts(units)

    assert first["units"] == 13
    assert 36 <= first["officers"] <= 45
    assert 280 <= first["investors"] <= 320
    assert 550 <= first["leads"] <= 650
    assert 2_700 <= first["visits"] <= 3_600
    assert 110 <= first["projects"] <= 130
    assert 25 <= first["problems"] <= 35
    assert first["progress"] >= 300
    kinds = Counter(units.values_list("kind", flat=True))
    assert kinds == {
        UnitKind.BUREAU: 1,
        UnitKind.BRANCH: 2,
        UnitKind.RESIDENT_OFFICE: 4,
        UnitKind.ZONE: 2,
        UnitKind.DEPARTMENT: 4,
    }
    assert units.get(name="上海办事处").city == "上海"

    leads = Lead.objects.filter(unit__in=units)
    assert set(leads.values_list("status", flat=True)) == set(LeadStatus.values)
    assert set(leads.values_list("source_channel", flat=True)) == set(SourceChannel.values)
    projects = Project.objects.filter(unit__in=units).select_related("lead")
    assert set(projects.values_list("stage", flat=True)) == set(Stage.values)
    assert projects.filter(total_investment__gte=TEN_MILLION).exists()
    assert projects.filter(total_investment__gte=HUNDRED_MILLION).exists()
    # Overdue milestones: signed but not broken ground by the planned date.
    assert projects.filter(stage=Stage.SIGNED, groundbreaking_planned__lt=today()).exists()
    for project in projects:
        assert_project_invariants(project)
    assert_lead_invariants(list(leads))
    assert_one_holder_per_investor(leads)

    # Investors: valid credit codes for domestic companies, no duplicate after normalising.
    investors = Investor.objects.filter(unit__in=units)
    domestic = investors.filter(region="domestic")
    assert domestic.exclude(credit_code="").count() == domestic.count()
    assert all(
        is_valid_credit_code(code) for code in domestic.values_list("credit_code", flat=True)
    )
    names = [normalize_name(name) for name in investors.values_list("name", flat=True)]
    assert len(names) == len(set(names))
    assert investors.filter(is_fortune_global_500=True).exists()
    assert investors.filter(is_central_soe=True).exists()
    assert investors.exclude(region="domestic").values("region").distinct().count() >= 5

    # Built through the services: events and history exist as if officers had worked.
    events = Counter(
        LeadStatusEvent.objects.filter(lead__in=leads).values_list("to_status", flat=True)
    )
    assert events[LeadStatus.INFORMATION] == leads.count()
    assert events[LeadStatus.SIGNED] == projects.count()
    stage_events = ProjectStageEvent.objects.filter(project__in=projects)
    assert stage_events.count() == sum(STAGE_REACHED[p.stage] + 1 for p in projects)
    lead_history = apps.get_model("leads", "LeadEvent").objects.filter(pgh_obj__in=leads)
    assert lead_history.filter(pgh_label="insert").count() == leads.count()
    attributed = lead_history.filter(pgh_context__metadata__user__isnull=False)
    assert attributed.count() == lead_history.count()
    # The milestones after signing (issue #20): each recorded for some projects, through the
    # service (an event per date), one 入统 corrected with a reason; 注册 with a valid code.
    for milestone in Milestone.values:
        assert projects.filter(**{f"{milestone}_actual__isnull": False}).exists(), milestone
    registered = projects.filter(registered_actual__isnull=False)
    assert all(is_valid_credit_code(p.company_credit_code) for p in registered)
    milestone_events = MilestoneEvent.objects.filter(project__in=projects)
    recorded = milestone_events.filter(action=MilestoneAction.RECORDED).count()
    assert recorded == sum(
        projects.filter(**{f"{m}_actual__isnull": False}).count() for m in Milestone.values
    )
    assert milestone_events.filter(action=MilestoneAction.CORRECTED).exclude(note="").exists()
    assert projects.filter(in_statistics_planned__isnull=False).exists()
    problems = Problem.objects.filter(project__in=projects)
    assert problems.filter(status=ProblemStatus.RESOLVED).exists()
    assert problems.filter(ask_count=2).exists()
    assert problems.exclude(status=ProblemStatus.RESOLVED).filter(due_on__lt=today()).exists()

    # The enquiry clock (issue #20): the Shanghai officer's leads show every state, read as
    # the pages read it; and every other lead's clock starts on the day the demo was loaded.
    from leads.choices import ClockState, ClockStep
    from leads.selectors import clock_rows, with_enquiry_clock

    shanghai_officer = (
        Officer.objects.filter(unit__name="上海办事处", role=Role.OFFICER).order_by("pk").first()
    )
    showcase = with_enquiry_clock(leads.filter(description__startswith="办理时限演示"))
    assert showcase.count() == 6
    assert {lead.created_by_id for lead in showcase} == {shanghai_officer.pk}
    states = {(row.step, row.state) for lead in showcase for row in clock_rows(lead, on=today())}
    assert {state for _, state in states} == set(ClockState.values)
    assert (ClockStep.PROGRESS_REPORT, ClockState.OVERDUE) in states
    assert (ClockStep.REFERRER_FEEDBACK, ClockState.MET_LATE) in states
    assert (ClockStep.RESPOND, ClockState.DUE) in states

    # Intermediary rewards went through the services: proposed by one officer, decided by
    # another (a chief or the project's unit head), each step a status event.
    rewards = IntermediaryReward.objects.filter(project__in=projects)
    assert set(rewards.values_list("status", flat=True)) == set(RewardStatus.values)
    assert not rewards.filter(proposed_by__isnull=True).exists()
    for reward in rewards.select_related("decided_by"):
        steps = list(reward.status_events.values_list("to_status", "actor_id"))
        assert steps[0] == (RewardStatus.PROPOSED, reward.proposed_by_id)
        assert [s for s, _ in steps] == REWARD_STEPS[reward.status]
        assert all(actor != reward.proposed_by_id for _, actor in steps[1:])
        if reward.status != RewardStatus.PROPOSED:
            assert reward.decided_by.role in (Role.CHIEF, Role.UNIT_HEAD)

    # Agreements (投资协议) in every state, through the services, four eyes kept.
    from promo.agreements.choices import Payment, PromiseStatus, RequestStatus, TermStatus
    from promo.agreements.models import Agreement, IncentiveRequest, Measurement, Promise, Term
    from promo.agreements.selectors import keeping_figures, promise_list, terms_with_status

    agreements = Agreement.objects.filter(project__in=projects)
    assert agreements.count() >= 12
    terms = terms_with_status(Term.objects.filter(agreement__in=agreements))
    assert set(terms.values_list("status", flat=True)) == set(TermStatus.values)
    figures = keeping_figures(chief_of(units))
    assert figures.keeping and figures.breached and figures.overdue_promises
    assert figures.clawback_due and figures.clawed_back > 0 and figures.withheld > 0
    promises = Promise.objects.filter(agreement__in=agreements)
    statuses = set(promise_list(chief_of(units)).values_list("status", flat=True))
    assert {PromiseStatus.KEPT, PromiseStatus.OVERDUE, PromiseStatus.NOT_PAYABLE} <= statuses
    assert set(promises.values_list("payment", flat=True)) == set(Payment.values)
    requests = IncentiveRequest.objects.filter(promise__in=promises)
    assert set(requests.values_list("status", flat=True)) == {
        RequestStatus.APPROVED,
        RequestStatus.PENDING,
    }
    assert not requests.filter(decided_by=F("requested_by")).exists()
    measurements = Measurement.objects.filter(term__agreement__in=agreements)
    assert measurements.filter(verified_at__isnull=True).count() == 1
    assert not measurements.filter(verified_by=F("recorded_by")).exists()

    # Follow-ups: some due today, none of the visits in the future.
    visits = Visit.objects.filter(unit__in=units)
    assert visits.filter(next_step_due=today()).exists()
    assert not visits.filter(visited_on__gt=today()).exists()
    assert visits.aggregate(first=Min("visited_on"))["first"] <= today() - timedelta(days=365)

    # Targets: every metric for every working unit and the bureau, broken down to officers.
    year = today().year
    for unit in units.exclude(kind=UnitKind.DEPARTMENT):
        metrics = set(Target.objects.filter(unit=unit, year=year).values_list("metric", flat=True))
        assert metrics == set(TargetMetric.values), unit
    officers_with_targets = (
        Target.objects.filter(officer__unit__in=units, year=year)
        .values("officer")
        .annotate(n=Count("id"))
    )
    assert officers_with_targets.count() >= 24
    assert all(row["n"] == len(TargetMetric.values) for row in officers_with_targets)

    # Logins: every demo account shares the password; staff flags as promised.
    chief = Officer.objects.get(unit__name=BUREAU_NAME, role=Role.CHIEF, title="局长")
    submitter = Officer.objects.filter(role=Role.DEPARTMENT_SUBMITTER, unit__in=units).first()
    admin = Officer.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert chief.is_staff and not submitter.is_staff
    assert chief.check_password(DEMO_PASSWORD) and submitter.check_password(DEMO_PASSWORD)
    for text in (ADMIN_URL, DEMO_PASSWORD, chief.username, submitter.username, "admin"):
        assert text in output
    # 三员分立: one account per administrator role, none in a unit, none reading a lead.
    from leads.selectors import leads_visible_to

    for username, role in (
        ("sysadmin", Role.ADMIN),
        ("secadmin", Role.SECURITY_ADMIN),
        ("auditadmin", Role.AUDIT_ADMIN),
    ):
        administrator = Officer.objects.get(username=username)
        assert administrator.role == role and administrator.unit is None
        assert not administrator.is_superuser
        assert administrator.check_password(DEMO_PASSWORD)
        assert not leads_visible_to(administrator).exists()
        assert username in output

    # Last month's bulletin is there, published by the chief, with a line per unit.
    from promo.reports.choices import BulletinKind, BulletinStatus
    from promo.reports.models import Bulletin
    from promo.reports.services import previous_month_start

    bulletin = Bulletin.objects.get(
        kind=BulletinKind.MONTHLY, period_start=previous_month_start(today())
    )
    assert bulletin.status == BulletinStatus.PUBLISHED and bulletin.published_by == chief
    assert bulletin.lines.count() >= 2
    assert Bulletin.objects.filter(kind=BulletinKind.TEN_DAY).count() == 1

    # Aftercare (亲商服务, issue #20): envoys on producing enterprises named by a head or a
    # chief, one green card, visits through the service, one overdue, one 增资扩产 lead.
    from projects.models import Project as ProjectModel
    from projects.models import ServiceVisit
    from projects.selectors import service_visits_overdue

    served = ProjectModel.objects.filter(unit__in=units, service_envoy__isnull=False)
    assert served.count() >= 5 and served.filter(green_card=True).count() == 1
    assert all(p.stage == "producing" for p in served)
    assert {p.service_envoy_named_by.role for p in served} <= {Role.UNIT_HEAD, Role.CHIEF}
    visits = ServiceVisit.objects.filter(project__in=served)
    assert visits.count() >= 10
    assert visits.filter(problem__isnull=False).count() >= 1
    expansion = visits.filter(expansion_lead__isnull=False)
    assert expansion.count() == 1 and expansion.get().expansion_lead.is_expansion
    overdue = [
        p for envoy in {p.service_envoy for p in served}
        for p in service_visits_overdue(envoy, day=today())
    ]  # fmt: skip
    assert len(overdue) >= 1

    # A second run changes nothing and still prints the logins.
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "already loaded" in again.getvalue()
    assert chief.username in again.getvalue()
    assert counts(tree(BUREAU_NAME)) == first
    assert Bulletin.objects.count() == 2


@pytest.mark.django_db
def test_seed_demo_scale_bulk_loads_a_separate_valid_bureau_without_history_and_only_once():
    history = apps.get_model("leads", "LeadEvent").objects
    history_before = history.count()
    out = StringIO()
    call_command("seed_demo", scale="county", factor=0.001, stdout=out)
    root = Unit.objects.get(name__startswith="县投资促进局(基准)")
    units = tree(root.name)
    first = counts(units)

    assert first["units"] == 15
    assert first["officers"] >= 40
    assert first["investors"] >= 10
    assert first["leads"] == 30
    assert first["projects"] == 6
    assert first["visits"] >= first["leads"]
    assert first["status_events"] >= first["leads"]
    assert first["stage_events"] >= first["projects"]
    assert "leads_visit" in out.getvalue()

    leads = list(Lead.objects.filter(unit__in=units))
    assert_lead_invariants(leads)
    assert_one_holder_per_investor(leads)
    for project in Project.objects.filter(unit__in=units).select_related("lead"):
        assert_project_invariants(project)
    investors = Investor.objects.filter(unit__in=units)
    for investor in investors:
        assert investor.normalized_name == normalize_name(investor.name)
        assert not investor.credit_code or is_valid_credit_code(investor.credit_code)
    # Lead or project of the tree, officer of the tree: nothing points outside it.
    assert not Visit.objects.filter(unit__in=units).exclude(created_by__unit__in=units).exists()
    # The history triggers were skipped for the bulk load.
    assert history.count() == history_before

    again = StringIO()
    call_command("seed_demo", scale="county", factor=0.001, stdout=again)
    assert "already loaded" in again.getvalue()
    assert counts(tree(root.name)) == first


@pytest.mark.django_db
def test_seed_demo_refuses_a_production_server_unless_forced(settings):
    """Issue #16: the demo accounts share the password printed in the README; loading them on
    a server with DEBUG off would open a door. Refused there, nothing written, unless
    --force."""
    from django.core.management.base import CommandError

    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", scale="county", factor=0.001, stdout=StringIO())
    assert not Officer.objects.exists()
    call_command("seed_demo", scale="county", factor=0.001, force=True, stdout=StringIO())
    assert Officer.objects.exists()
