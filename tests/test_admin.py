"""The Django admin: every model renders, lists cost a fixed number of queries, reported
figures are read-only, trails cannot be edited, writes go through the services, and a staff
officer sees only their own scope.

Self-contained fixtures (units and officers by the ORM, the rest through the services), so
this module does not depend on tests/factories.py. It mounts only the admin, so the web and
API URL modules are not needed to test it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from leads import services as lead_services
from leads.choices import LeadStatus, SourceChannel, VisitKind
from leads.models import (
    Intermediary,
    IntermediaryReward,
    IntermediaryRewardStatusEvent,
    Introduction,
    Investor,
    InvestorContact,
    Lead,
    LeadStatusEvent,
    PromotionEvent,
    ReferrerFeedback,
    Visit,
)
from officers import services as officer_services
from officers.choices import AssignmentRole, Role, TargetMetric, UnitKind
from officers.models import Assignment, Officer, Target, Unit
from projects import services as project_services
from projects.choices import Milestone, ProblemKind, Stage
from projects.models import (
    EvidenceKind,
    InvestmentProgress,
    MilestoneEvent,
    MilestoneEvidence,
    Problem,
    ProblemAction,
    Project,
    ProjectIncrement,
    ProjectStageEvent,
    StageEvidence,
)
from promo.agreements import services as agreement_services
from promo.agreements.models import (
    Agreement,
    AgreementLog,
    IncentiveRequest,
    Measurement,
    Promise,
    Term,
)
from promo.core.choices import Industry
from promo.core.services import today
from tests.factories import stage_evidence

# Only the admin is mounted: this module is its own URLconf (see pytestmark).
urlpatterns = [path("admin/", admin.site.urls)]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

PASSWORD = "admin-test-Pass-2026"
_seq = itertools.count(1)

PROMO_MODELS = [
    Unit,
    Officer,
    Assignment,
    Target,
    Investor,
    Intermediary,
    IntermediaryReward,
    IntermediaryRewardStatusEvent,
    PromotionEvent,
    Lead,
    LeadStatusEvent,
    ReferrerFeedback,
    Visit,
    Project,
    ProjectStageEvent,
    StageEvidence,
    MilestoneEvent,
    MilestoneEvidence,
    ProjectIncrement,
    InvestmentProgress,
    Problem,
    ProblemAction,
    Agreement,
    Term,
    Measurement,
    Promise,
    IncentiveRequest,
    AgreementLog,
]
TRAIL_MODELS = [
    LeadStatusEvent,
    ReferrerFeedback,
    IntermediaryRewardStatusEvent,
    ProjectStageEvent,
    ProblemAction,
    ProjectIncrement,
    StageEvidence,
    AgreementLog,
    Agreement,
    Term,
    Measurement,
    Promise,
    IncentiveRequest,
    MilestoneEvent,
    MilestoneEvidence,
]


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # These tests are about the admin, not TLS: don't let an HTTPS redirect answer for it.
    settings.SECURE_SSL_REDIRECT = False
    # Their superuser is the admin's all-seeing user, as in a development install (DEBUG): in
    # production it reads no business record (三员分立, tests/officers/test_duties.py).
    settings.PROMO_SUPERUSER_READS_BUSINESS = True


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def make_officer(unit: Unit | None, *, role: str = Role.OFFICER, **flags) -> Officer:
    n = next(_seq)
    officer = Officer(
        username=f"admin_test_{n}",
        full_name=f"测试干部{n}",
        unit=unit,
        role=role,
        is_staff=True,
        **flags,
    )
    officer.set_password(PASSWORD)
    officer.save()
    return officer


def grant(officer: Officer, *codenames: str) -> Officer:
    officer.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return Officer.objects.get(pk=officer.pk)  # drop the cached permissions


@dataclass
class Bureau:
    city: Unit
    shanghai: Unit
    beijing: Unit
    root: Officer
    shanghai_officer: Officer
    beijing_officer: Officer


@pytest.fixture
def bureau() -> Bureau:
    city = Unit.objects.create(name="测试市招商局", kind=UnitKind.BUREAU)
    shanghai = Unit.objects.create(
        name="驻上海招商办事处", kind=UnitKind.RESIDENT_OFFICE, parent=city, city="上海"
    )
    beijing = Unit.objects.create(
        name="驻北京招商办事处", kind=UnitKind.RESIDENT_OFFICE, parent=city, city="北京"
    )
    return Bureau(
        city=city,
        shanghai=shanghai,
        beijing=beijing,
        root=make_officer(None, role=Role.ADMIN, is_superuser=True),
        shanghai_officer=make_officer(shanghai),
        beijing_officer=make_officer(beijing),
    )


def new_investor(actor: Officer, unit: Unit | None = None, **fields) -> Investor:
    fields.setdefault("industry", Industry.ELECTRONICS)
    return lead_services.investor_create(
        actor=actor,
        name=fields.pop("name", f"测试客商{next(_seq)}号电子有限公司"),
        unit=unit,
        confirm_distinct=True,
        **fields,
    )


def new_lead(actor: Officer, unit: Unit | None = None, **fields) -> Lead:
    return lead_services.lead_create(
        actor=actor,
        investor=fields.pop("investor", None) or new_investor(actor, unit),
        name=fields.pop("name", f"测试项目信息{next(_seq)}"),
        industry=Industry.ELECTRONICS,
        source_channel=fields.pop("source_channel", SourceChannel.STATIONED),
        estimated_amount=Decimal("5000"),
        unit=unit,
        **fields,
    )


def new_project(actor: Officer, unit: Unit, **fields) -> Project:
    return project_services.project_create(
        actor=actor,
        investor=fields.pop("investor", None) or new_investor(actor, unit),
        name=fields.pop("name", f"测试项目{next(_seq)}"),
        industry=Industry.EQUIPMENT,
        contract_date=fields.pop("contract_date", today() - timedelta(days=90)),
        total_investment=fields.pop("total_investment", Decimal("12000")),
        unit=unit,
        **fields,
    )


@dataclass
class World:
    lead: Lead
    project: Project
    problem: Problem


@pytest.fixture
def world(bureau: Bureau) -> World:
    """One of everything, made the way officers make it."""
    officer = bureau.shanghai_officer
    lead = new_lead(officer)
    # Status dates come before the signing date below (the service keeps them in order).
    for status in (LeadStatus.VALID, LeadStatus.NEGOTIATING):
        lead = lead_services.lead_transition(
            lead=lead, actor=officer, to_status=status, on_date=today() - timedelta(days=70)
        )
    lead_services.visit_log(
        actor=officer,
        kind=VisitKind.INSPECTION,
        visited_on=today() - timedelta(days=60),
        investor=lead.investor,
        lead=lead,
        summary="实地考察厂房",
        next_step="报送投资协议",
        next_step_due=today(),
    )
    project = project_services.project_sign_lead(
        lead=lead,
        actor=officer,
        contract_date=today() - timedelta(days=40),
        total_investment=Decimal("15000"),
    )
    project, stage_event = project_services.project_advance(
        project=project,
        actor=officer,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=today() - timedelta(days=20),
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    StageEvidence.objects.create(
        stage_event=stage_event,
        kind=EvidenceKind.CONSTRUCTION_PERMIT,
        file="evidence/2026/01/permit.pdf",
        original_name="施工许可证.pdf",
        content_type="application/pdf",
        size=1024,
        sha256="0" * 64,
        uploaded_by=officer,
    )
    _project, land = project_services.project_milestone_record(
        project=project,
        actor=officer,
        milestone=Milestone.LAND_GRANTED,
        actual_date=today() - timedelta(days=30),
    )
    MilestoneEvidence.objects.create(
        milestone_event=land,
        kind=EvidenceKind.LAND_CONTRACT,
        file="evidence/2026/01/land.pdf",
        original_name="土地出让合同.pdf",
        content_type="application/pdf",
        size=1024,
        sha256="0" * 64,
        uploaded_by=officer,
    )
    project_services.project_record_increment(
        project=project,
        actor=officer,
        increased_on=today() - timedelta(days=10),
        amount=Decimal("3000"),
    )
    project_services.progress_record(
        project=project,
        actor=officer,
        month=today(),
        agreed_investment=Decimal("18000"),
        paid_in=Decimal("5000"),
        fixed_asset_investment=Decimal("4000"),
    )
    problem = project_services.problem_raise(
        project=project,
        actor=officer,
        kind=ProblemKind.POWER,
        title="临时用电未接通",
        owner_unit=bureau.shanghai,
        due_on=today() + timedelta(days=7),
    )
    project_services.problem_ask_again(problem=problem, actor=officer)
    intermediary = Intermediary.objects.create(name="张先生", kind="person", unit=bureau.shanghai)
    Introduction.objects.create(
        intermediary=intermediary, investor=lead.investor, lead=lead, introduced_on=today()
    )
    lead_services.intermediary_reward_propose(
        actor=officer, intermediary=intermediary, project=project, amount=Decimal("20")
    )
    # 反馈引荐人 (the enquiry clock): a lead the intermediary brought, told how it stands.
    referred = new_lead(
        officer, source_channel=SourceChannel.INTERMEDIARY, intermediary=intermediary
    )
    lead_services.referrer_feedback_record(lead=referred, actor=officer, note="已告知张先生")
    InvestorContact.objects.create(investor=lead.investor, name="李经理", is_primary=True)
    event = PromotionEvent.objects.create(
        name="沪上投资合作推介会",
        city="上海",
        starts_on=today(),
        ends_on=today(),
        organizer=bureau.shanghai,
    )
    event.investors.add(lead.investor)
    officer_services.target_set(
        actor=bureau.root,
        year=today().year,
        metric=TargetMetric.SIGNED_COUNT,
        value=12,
        unit=bureau.shanghai,
    )
    # An agreement with a commitment, a verified figure, a tranche and a request on it.
    agreement = agreement_services.agreement_create(
        project=project,
        actor=officer,
        kind="main",
        title="电机项目投资协议",
        signed_on=project.contract_date,
    )
    term = agreement_services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target=100, due_on=today()
    )
    agreement_services.measurement_verify(
        measurement=agreement_services.measurement_record(
            term=term, actor=officer, measured_on=today(), value=120, source="社保数据"
        ),
        actor=make_officer(bureau.shanghai, role=Role.UNIT_HEAD),
    )
    tranche = agreement_services.promise_add(
        agreement=agreement,
        actor=officer,
        kind="incentive",
        description="用工奖补",
        owner_unit=bureau.shanghai,
        due_on=today(),
        amount=10,
        conditions=[term],
    )
    agreement_services.incentive_request(
        promise=tranche, actor=officer, action="pay", reason="用工达标"
    )
    return World(lead=Lead.objects.get(pk=lead.pk), project=project, problem=problem)


def post_data_from(response) -> dict:
    """The data a browser would post back from a rendered admin change form, unchanged."""

    def put(data: dict, form, name: str) -> None:
        value = form[name].value()
        key = form.add_prefix(name)
        if value is None:
            return
        if isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, (list, tuple)):
            data[key] = [str(v) for v in value]
        else:
            data[key] = str(value)

    data: dict = {}
    form = response.context["adminform"].form
    for name in form.fields:
        put(data, form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
        for inline_form in formset.forms:
            for name in inline_form.fields:
                put(data, inline_form, name)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- every page renders -------------------------------------------------------------------


def test_every_promo_model_is_registered_with_the_admin():
    missing = [m._meta.label for m in PROMO_MODELS if m not in admin.site._registry]
    assert missing == []


@pytest.mark.parametrize("model", PROMO_MODELS, ids=lambda m: m._meta.label)
def test_superuser_sees_changelist_change_and_add_pages(client, bureau, world, model):
    client.force_login(bureau.root)
    listing = client.get(admin_url(model, "changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count >= 1

    obj = model._default_manager.order_by("pk").first()
    change = client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert change.context["original"].pk == obj.pk

    model_admin = admin.site._registry[model]
    request = listing.wsgi_request
    if model_admin.has_add_permission(request):
        assert client.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("search", ["测试客商", "项目信息", "上海"])
def test_chinese_search_finds_rows(client, bureau, world, search):
    client.force_login(bureau.root)
    for model in (Lead, Investor, Unit, Project, Visit, Problem, Officer):
        response = client.get(admin_url(model, "changelist"), {"q": search})
        assert response.status_code == 200
    leads = client.get(admin_url(Lead, "changelist"), {"q": "测试客商"}).context["cl"]
    assert world.lead in leads.result_list


def test_investor_search_matches_normalised_full_width_name(client, bureau):
    investor = new_investor(bureau.root, bureau.shanghai, name="苏州ABC精密电子有限公司")
    client.force_login(bureau.root)
    response = client.get(admin_url(Investor, "changelist"), {"q": "ＡＢＣ精密电子"})
    assert list(response.context["cl"].result_list) == [investor]


def test_pghistory_events_admin_lists_a_leads_history_linked_from_its_page(client, bureau, world):
    client.force_login(bureau.root)
    change = client.get(admin_url(Lead, "change", world.lead.pk))
    events_url = reverse("admin:pghistory_events_changelist")
    assert events_url in change.content.decode()

    history = client.get(admin_url(Lead, "history", world.lead.pk))
    assert history.status_code == 302
    assert history["Location"].startswith(events_url)
    assert f"obj=leads.Lead%3A{world.lead.pk}" in history["Location"]

    events = client.get(history["Location"])
    assert events.status_code == 200
    # Created, qualified, negotiating, activity dates from the visit, signed.
    assert events.context["cl"].result_count >= 4

    project_history = client.get(admin_url(Project, "history", world.project.pk))
    assert client.get(project_history["Location"]).context["cl"].result_count >= 2


# --- no N+1 on changelists ----------------------------------------------------------------


def _rows_lead(b: Bureau, n: int) -> None:
    for _ in range(n):
        new_lead(b.shanghai_officer)


def _rows_project(b: Bureau, n: int) -> None:
    for _ in range(n):
        new_project(b.shanghai_officer, b.shanghai)


def _rows_visit(b: Bureau, n: int) -> None:
    for i in range(n):
        # An investor per visit, as each visit has its own lead: a unit's second open lead on
        # one investor would need a confirmation (decision 0013).
        investor = new_investor(b.shanghai_officer)
        lead_services.visit_log(
            actor=b.shanghai_officer,
            kind=VisitKind.VISIT,
            visited_on=today() - timedelta(days=i),
            investor=investor,
            lead=new_lead(b.shanghai_officer, investor=investor),
            officers=[b.beijing_officer],
            summary="拜访客商总部",
        )


def _rows_investor(b: Bureau, n: int) -> None:
    for _ in range(n):
        new_investor(b.shanghai_officer, is_listed=True)


def _rows_problem(b: Bureau, n: int) -> None:
    project = new_project(b.shanghai_officer, b.shanghai)
    for i in range(n):
        project_services.problem_raise(
            project=project,
            actor=b.shanghai_officer,
            kind=ProblemKind.LAND_QUOTA,
            title=f"用地指标{i}",
            owner_unit=b.beijing,
            first_asked=b.beijing_officer,
            due_on=today() + timedelta(days=5),
        )


def _rows_officer(b: Bureau, n: int) -> None:
    for _ in range(n):
        make_officer(b.beijing)


ROW_BUILDERS = {
    Lead: _rows_lead,
    Project: _rows_project,
    Visit: _rows_visit,
    Investor: _rows_investor,
    Problem: _rows_problem,
    Officer: _rows_officer,
}


def _changelist_queries(client, model) -> tuple[int, int]:
    url = admin_url(model, "changelist")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.context["cl"].result_count


@pytest.mark.parametrize("model", list(ROW_BUILDERS), ids=lambda m: m._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(client, bureau, model):
    client.force_login(bureau.root)
    build = ROW_BUILDERS[model]
    build(bureau, 2)
    with_few, count_few = _changelist_queries(client, model)
    build(bureau, 18)
    with_many, count_many = _changelist_queries(client, model)
    assert count_many >= count_few + 18  # the page really shows more rows
    assert with_many == with_few, f"{model._meta.label}: {with_few} vs {with_many} queries"


@pytest.mark.parametrize("model", [Lead, Project, Visit], ids=lambda m: m._meta.label)
def test_scoped_changelist_query_count_does_not_grow_with_rows(client, bureau, model):
    officer = grant(bureau.shanghai_officer, f"view_{model._meta.model_name}")
    client.force_login(officer)
    build = ROW_BUILDERS[model]
    build(bureau, 2)
    with_few, _ = _changelist_queries(client, model)
    build(bureau, 18)
    with_many, _ = _changelist_queries(client, model)
    assert with_many == with_few


# --- read-only figures ----------------------------------------------------------------------


def test_posting_a_new_status_in_the_lead_form_changes_only_the_editable_fields(client, bureau):
    lead = new_lead(bureau.shanghai_officer)
    client.force_login(bureau.root)
    url = admin_url(Lead, "change", lead.pk)
    data = post_data_from(client.get(url))
    assert "status" not in data  # not even offered as an input
    data.update(
        name="改名后的项目信息",
        status=LeadStatus.SIGNED,
        signed_on=str(today()),
        qualified_on=str(today()),
        unit=str(bureau.beijing.pk),
        drop_reason="不应写入",
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    lead.refresh_from_db()
    assert lead.name == "改名后的项目信息"
    assert lead.status == LeadStatus.INFORMATION
    assert lead.signed_on is None and lead.qualified_on is None
    assert lead.unit == bureau.shanghai
    assert lead.drop_reason == ""
    assert list(lead.status_events.values_list("to_status", flat=True)) == [LeadStatus.INFORMATION]


def test_posting_figures_in_the_project_form_does_not_change_them(client, bureau, world):
    project = world.project
    before = Project.objects.get(pk=project.pk)
    client.force_login(bureau.root)
    url = admin_url(Project, "change", project.pk)
    data = post_data_from(client.get(url))
    data.update(
        park_name="高新区二期",
        stage=Stage.PRODUCING,
        total_investment="99999",
        signed_investment="99999",
        invested_to_date="99999",
        arrived_fdi="500",
        land_area="300",
        groundbreaking_actual=str(today()),
        annual_tax="88",
    )

    response = client.post(url, data)

    assert response.status_code == 302
    after = Project.objects.get(pk=project.pk)
    assert after.park_name == "高新区二期"
    for field in (
        "stage",
        "total_investment",
        "signed_investment",
        "invested_to_date",
        "arrived_fdi",
        "land_area",
        "groundbreaking_actual",
        "annual_tax",
    ):
        assert getattr(after, field) == getattr(before, field), field


def test_rescheduling_a_project_needs_a_reason_and_goes_through_project_set_plan(client, bureau):
    project = new_project(bureau.shanghai_officer, bureau.shanghai)
    client.force_login(bureau.root)
    url = admin_url(Project, "change", project.pk)
    data = post_data_from(client.get(url))
    data["groundbreaking_planned"] = str(today() + timedelta(days=30))

    refused = client.post(url, data)

    assert refused.status_code == 200
    assert "调整计划节点须说明原因" in str(refused.context["adminform"].form.errors)
    project.refresh_from_db()
    assert project.groundbreaking_planned is None

    data["reason"] = "土地摘牌推迟"
    assert client.post(url, data).status_code == 302
    project.refresh_from_db()
    assert project.groundbreaking_planned == today() + timedelta(days=30)


def test_problem_status_and_asks_are_read_only(client, bureau, world):
    client.force_login(bureau.root)
    url = admin_url(Problem, "change", world.problem.pk)
    data = post_data_from(client.get(url))
    data.update(title="临时用电已协调", status="resolved", ask_count="1", due_on="2030-01-01")

    assert client.post(url, data).status_code == 302
    problem = Problem.objects.get(pk=world.problem.pk)
    assert problem.title == "临时用电已协调"
    assert (problem.status, problem.ask_count) == ("open", 2)
    assert problem.due_on == world.problem.due_on


def test_progress_figures_are_read_only_and_progress_cannot_be_added_or_deleted(
    client, bureau, world
):
    progress = InvestmentProgress.objects.get(project=world.project)
    client.force_login(bureau.root)
    url = admin_url(InvestmentProgress, "change", progress.pk)
    data = post_data_from(client.get(url))
    data.update(note="据企业报表", fixed_asset_investment="99999", paid_in="1")

    assert client.post(url, data).status_code == 302
    progress.refresh_from_db()
    assert progress.note == "据企业报表"
    assert progress.fixed_asset_investment == Decimal("4000")
    assert client.get(admin_url(InvestmentProgress, "add")).status_code == 403
    assert client.post(admin_url(InvestmentProgress, "delete", progress.pk)).status_code == 403


def test_target_value_is_changed_through_target_set_with_the_admin_as_setter(client, bureau, world):
    target = Target.objects.get(unit=bureau.shanghai)
    client.force_login(bureau.root)
    url = admin_url(Target, "change", target.pk)
    data = post_data_from(client.get(url))
    data.update(value="15", reason="年中调整", year="2001", metric=TargetMetric.FDI_ARRIVED)

    assert client.post(url, data).status_code == 302
    target.refresh_from_db()
    assert (target.value, target.set_by) == (Decimal("15"), bureau.root)
    assert (target.year, target.metric) == (today().year, TargetMetric.SIGNED_COUNT)
    assert Target.objects.count() == 1


# --- trails ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", TRAIL_MODELS, ids=lambda m: m._meta.label)
def test_trail_rows_cannot_be_added_changed_or_deleted_even_by_a_superuser(
    client, bureau, world, model
):
    obj = model._default_manager.order_by("pk").first()
    before = model._default_manager.count()
    client.force_login(bureau.root)

    assert client.get(admin_url(model, "add")).status_code == 403
    assert client.post(admin_url(model, "add"), {}).status_code == 403
    assert client.post(admin_url(model, "change", obj.pk), {"note": "x"}).status_code == 403
    assert client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    view = client.get(admin_url(model, "change", obj.pk))
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert model._default_manager.count() == before


@pytest.mark.parametrize("model", [Lead, Project, Officer, Problem, Visit])
def test_leads_projects_and_counted_records_cannot_be_deleted(client, bureau, world, model):
    obj = model._default_manager.order_by("pk").first()
    client.force_login(bureau.root)
    assert client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    action_form = client.get(admin_url(model, "changelist")).context["action_form"]
    actions = [] if action_form is None else action_form.fields["action"].choices
    assert "delete_selected" not in [name for name, _label in actions]
    assert model._default_manager.filter(pk=obj.pk).exists()


# --- writes through services ----------------------------------------------------------------


def test_adding_a_lead_goes_through_lead_create(client, bureau):
    officer = grant(bureau.shanghai_officer, "add_lead", "change_lead", "view_lead")
    investor = new_investor(officer)
    client.force_login(officer)

    response = client.post(
        admin_url(Lead, "add"),
        {
            "investor": investor.pk,
            "name": "新能源电池项目",
            "industry": Industry.NEW_ENERGY,
            "chain_role": "build",
            "estimated_amount": "20000",
            "estimated_fdi": "0",
            "source_channel": SourceChannel.STATIONED,
            "description": "",
            "status_events-TOTAL_FORMS": "0",
            "status_events-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    lead = Lead.objects.get(name="新能源电池项目")
    assert (lead.unit, lead.created_by, lead.status) == (
        bureau.shanghai,
        officer,
        LeadStatus.INFORMATION,
    )
    assert lead.status_events.count() == 1
    assert lead.assignments.get().role == AssignmentRole.LEAD


def test_adding_an_assignment_goes_through_the_lead_or_project_service(client, bureau, world):
    client.force_login(bureau.root)

    for record in ("lead", "project"):
        response = client.post(
            admin_url(Assignment, "add"),
            {
                "officer": bureau.beijing_officer.pk,
                "role": AssignmentRole.ASSISTING,
                record: getattr(world, record).pk,
            },
        )
        assert response.status_code == 302, response.context and response.context["errors"]

    assert set(
        Assignment.objects.filter(officer=bureau.beijing_officer).values_list(
            "lead", "project", "role", "assigned_by"
        )
    ) == {
        (world.lead.pk, None, AssignmentRole.ASSISTING, bureau.root.pk),
        (None, world.project.pk, AssignmentRole.ASSISTING, bureau.root.pk),
    }


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"lead", "project"}, "officers_assignment_one_target"),
        (set(), "officers_assignment_one_target"),
        ({"lead", "leader"}, "officers_assignment_leader_only_on_project"),
    ],
)
def test_an_assignment_refused_on_add_is_a_form_error_and_nothing_is_written(
    client, bureau, world, fields, constraint
):
    client.force_login(bureau.root)
    role = AssignmentRole.LEADER if "leader" in fields else AssignmentRole.ASSISTING
    data = {"officer": bureau.beijing_officer.pk, "role": role}
    data.update({name: getattr(world, name).pk for name in ("lead", "project") if name in fields})

    response = client.post(admin_url(Assignment, "add"), data)

    assert response.status_code == 200
    assert constraint in str(response.context["adminform"].form.errors)
    assert not Assignment.objects.filter(officer=bureau.beijing_officer).exists()


def test_a_service_refusal_on_add_is_a_form_error_and_nothing_is_written(client, bureau):
    investor = new_investor(bureau.shanghai_officer)
    client.force_login(bureau.root)

    response = client.post(
        admin_url(Lead, "add"),
        {
            "investor": investor.pk,
            "name": "中介介绍的项目",
            "industry": Industry.FOOD,
            "chain_role": "none",
            "estimated_amount": "100",
            "estimated_fdi": "0",
            "source_channel": SourceChannel.INTERMEDIARY,  # requires an intermediary
            "unit": bureau.shanghai.pk,
            "status_events-TOTAL_FORMS": "0",
            "status_events-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "intermediary" in errors, errors
    assert "中介招商的项目信息须注明中介人" in str(errors["intermediary"])
    assert not Lead.objects.filter(name="中介介绍的项目").exists()


def test_a_likely_duplicate_investor_is_refused_with_the_existing_one_named(client, bureau):
    new_investor(bureau.shanghai_officer, name="昆山恒达精密机械有限公司")
    client.force_login(bureau.root)

    response = client.post(
        admin_url(Investor, "add"),
        {
            "name": "昆山恒达精密机械股份有限公司",
            "kind": "company",
            "region": "domestic",
            "industry": Industry.EQUIPMENT,
            "unit": bureau.beijing.pk,
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    text = str(response.context["adminform"].form.non_field_errors())
    assert "昆山恒达精密机械有限公司" in text and "驻上海招商办事处" in text
    assert Investor.objects.filter(unit=bureau.beijing).count() == 0


def test_adding_a_visit_goes_through_visit_log_and_dates_the_lead(client, bureau):
    officer = grant(bureau.shanghai_officer, "add_visit", "change_visit", "view_visit")
    lead = new_lead(officer)
    client.force_login(officer)
    visited_on = today() - timedelta(days=3)

    response = client.post(
        admin_url(Visit, "add"),
        {
            "kind": VisitKind.INSPECTION,
            "visited_on": str(visited_on),
            "investor": lead.investor_id,
            "lead": lead.pk,
            "summary": "客商实地考察园区",
        },
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    visit = Visit.objects.get(lead=lead)
    assert list(visit.officers.all()) == [officer]
    lead.refresh_from_db()
    assert lead.first_inspection_on == visited_on


# --- admin actions --------------------------------------------------------------------------


def test_qualify_action_reports_each_lead_and_a_refusal_is_a_message(client, bureau):
    fresh = new_lead(bureau.shanghai_officer)
    already_negotiating = new_lead(bureau.shanghai_officer)
    lead_services.lead_qualify(lead=already_negotiating, actor=bureau.shanghai_officer)
    lead_services.lead_start_negotiation(lead=already_negotiating, actor=bureau.shanghai_officer)
    client.force_login(bureau.root)

    response = client.post(
        admin_url(Lead, "changelist"),
        {"action": "qualify_leads", "_selected_action": [fresh.pk, already_negotiating.pk]},
    )

    assert response.status_code == 302
    texts = messages_of(response)
    assert any(fresh.name in t and "已确认有效" in t for t in texts)
    assert any(already_negotiating.name in t and "不能变更为" in t for t in texts)
    fresh.refresh_from_db()
    already_negotiating.refresh_from_db()
    assert fresh.status == LeadStatus.VALID
    assert already_negotiating.status == LeadStatus.NEGOTIATING
    assert already_negotiating.status_events.count() == 3


def test_start_negotiation_action_refuses_a_lead_not_yet_valid(client, bureau):
    lead = new_lead(bureau.shanghai_officer)
    client.force_login(bureau.root)

    response = client.post(
        admin_url(Lead, "changelist"),
        {"action": "start_negotiation", "_selected_action": [lead.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert any("不能变更为" in t for t in (str(m) for m in response.context["messages"]))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INFORMATION
    assert lead.status_events.count() == 1


# --- visibility -----------------------------------------------------------------------------


def test_staff_officer_of_another_unit_cannot_open_or_list_the_lead(client, bureau):
    shanghai_lead = new_lead(bureau.shanghai_officer)
    beijing_lead = new_lead(bureau.beijing_officer)
    outsider = grant(bureau.beijing_officer, "view_lead", "change_lead")
    client.force_login(outsider)

    change = client.get(admin_url(Lead, "change", shanghai_lead.pk))
    assert change.status_code == 302
    assert change["Location"] == reverse("admin:index")

    listing = client.get(admin_url(Lead, "changelist"))
    assert list(listing.context["cl"].result_list) == [beijing_lead]

    action = client.post(
        admin_url(Lead, "changelist"),
        {"action": "qualify_leads", "_selected_action": [shanghai_lead.pk]},
    )
    assert action.status_code in (200, 302)
    shanghai_lead.refresh_from_db()
    assert shanghai_lead.status == LeadStatus.INFORMATION


@pytest.mark.parametrize(
    "model", [Project, Problem, Visit, Investor, InvestmentProgress, ProjectStageEvent]
)
def test_other_units_records_are_hidden_from_a_staff_officer(client, bureau, world, model):
    outsider = grant(bureau.beijing_officer, f"view_{model._meta.model_name}")
    obj = model._default_manager.order_by("pk").first()
    client.force_login(outsider)

    assert client.get(admin_url(model, "change", obj.pk)).status_code == 302
    assert client.get(admin_url(model, "changelist")).context["cl"].result_count == 0


def test_autocomplete_offers_only_visible_investors(client, bureau):
    mine = new_investor(bureau.beijing_officer, name="北京本地客商科技有限公司")
    new_investor(bureau.shanghai_officer, name="上海别家客商科技有限公司")
    officer = grant(bureau.beijing_officer, "add_lead", "view_lead", "view_investor")
    client.force_login(officer)

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "leads", "model_name": "lead", "field_name": "investor", "term": "客商"},
    )

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(mine.pk)]


def test_unit_head_cannot_grant_superuser_or_bureau_roles(client, bureau):
    head = make_officer(bureau.beijing, role=Role.UNIT_HEAD)
    head = grant(head, "view_officer", "change_officer")
    member = make_officer(bureau.beijing)
    client.force_login(head)
    url = admin_url(Officer, "change", member.pk)
    page = client.get(url)
    role_choices = [value for value, _ in page.context["adminform"].form.fields["role"].choices]
    assert Role.CHIEF not in role_choices and Role.ADMIN not in role_choices

    data = post_data_from(page)
    data.update(is_superuser="on", title="副主任")
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.title == "副主任"
    assert member.is_superuser is False


def test_adding_an_officer_goes_through_officer_create_with_djangos_password_checks(client, bureau):
    client.force_login(bureau.root)
    form = {
        "username": "zhang.wei",
        "full_name": "张伟",
        "unit": bureau.shanghai.pk,
        "role": Role.OFFICER,
        "password1": "short",
        "password2": "short",
    }

    weak = client.post(admin_url(Officer, "add"), form)
    assert weak.status_code == 200
    assert "password2" in weak.context["adminform"].form.errors
    assert not Officer.objects.filter(username="zhang.wei").exists()

    form.update(password1=PASSWORD, password2=PASSWORD)
    created = client.post(admin_url(Officer, "add"), form)
    assert created.status_code == 302
    officer = Officer.objects.get(username="zhang.wei")
    assert (officer.unit, officer.full_name, officer.role) == (bureau.shanghai, "张伟", "officer")
    assert officer.check_password(PASSWORD)


def test_unit_head_cannot_open_an_account_in_another_unit(client, bureau):
    head = make_officer(bureau.beijing, role=Role.UNIT_HEAD)
    head = grant(head, "view_officer", "change_officer", "add_officer", "view_unit")
    client.force_login(head)

    response = client.post(
        admin_url(Officer, "add"),
        {
            "username": "li.na",
            "full_name": "李娜",
            "unit": bureau.shanghai.pk,  # not the head's unit: not even a valid choice
            "role": Role.OFFICER,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "unit" in response.context["adminform"].form.errors
    assert not Officer.objects.filter(username="li.na").exists()


def test_a_unit_cannot_be_moved_under_its_own_sub_unit(client, bureau):
    client.force_login(bureau.root)
    url = admin_url(Unit, "change", bureau.city.pk)
    data = post_data_from(client.get(url))
    data["parent"] = bureau.shanghai.pk

    response = client.post(url, data)

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    bureau.city.refresh_from_db()
    assert bureau.city.parent is None


def test_admin_index_lists_the_promo_apps_for_a_superuser(client, bureau):
    client.force_login(bureau.root)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    labels = {app["app_label"] for app in response.context["app_list"]}
    assert {"officers", "leads", "projects", "pghistory"} <= labels
