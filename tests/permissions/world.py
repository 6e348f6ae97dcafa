"""The permission matrix's world: two units' records and a caller for every role.

Unit A (甲) and unit B (乙) each hold an investor, a lead in negotiation, a signed project with
a stage change, its evidence and a problem, a visit, an intermediary, a promotion event, a
target, a campaign, an import batch and an alert with its notice. A third unit C (丙) only
files a claim and a request to join on B's contested lead, so that B's claim and request are
nothing to unit A. Officer B2 works on A's lead and project as 协办 (the credit-takeover
case of issue #13); officer B has met A's contested investor and claims its lead.

Everything is built through the services (tests/factories.py), once per module; every case
of the matrix runs in a savepoint rolled back afterwards, so each starts from this state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.http import QueryDict
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from leads import services as lead_services
from leads.choices import LeadStatus, VisitKind
from leads.models import Intermediary, PromotionEvent
from leads.selectors import (
    intermediaries_visible_to,
    investors_visible_to,
    leads_visible_to,
    visits_visible_to,
)
from officers import services as officer_services
from officers.choices import AssignmentRole, Role, TargetMetric, UnitKind
from officers.models import Officer, OfficerSession
from projects import services as project_services
from projects.choices import Milestone, ProblemKind
from projects.models import EvidenceKind, Project, ServiceVisit, StageEvidence
from projects.selectors import problems_visible_to, projects_visible_to
from promo.agreements import services as agreement_services
from promo.agreements.choices import AgreementKind, IncentiveAction, Metric, PromiseKind
from promo.agreements.selectors import agreements_visible_to
from promo.api.clients import api_client_create
from promo.api.models import ApiClient, ApiClientAccess
from promo.campaigns.selectors import campaigns_visible_to
from promo.campaigns.services import campaign_create
from promo.core.services import today
from promo.imports.choices import ExportKind, ImportKind
from promo.imports.export_services import export_request, export_run
from promo.imports.selectors import batches_visible_to
from promo.imports.services import batch_check, batch_upload
from promo.reports.choices import AlertLevel, AlertRule, BulletinKind, EscalationStep
from promo.reports.models import Alert, AlertNotice
from promo.reports.services import bulletin_generate, bulletin_publish
from promo.workspace.services import calendar_feed_issue
from tests.factories import (
    default_evidence_rules,
    make_investor,
    make_lead,
    make_officer,
    make_unit,
    met_elsewhere,
)
from tests.imports.files import xlsx

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass
class Persona:
    """One caller of the matrix: a role signed in by session, an API token, or nobody."""

    name: str
    officer: Officer | None
    token: str = ""
    read_only: bool = False
    clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_token(self) -> bool:
        return bool(self.token)

    def actor(self, *, api: bool) -> Officer | None:
        """Who the request acts as: a token counts on the API only, a session everywhere."""
        if self.is_token and not api:
            return None
        return self.officer

    def client(self, *, api: bool, fresh: bool = False) -> Any:
        """The persona's client for the pages or the API (``fresh``: a new one, for the cases
        that change the session itself: sign-out, password change, language)."""
        key = "api" if api else "web"
        if fresh or key not in self.clients:
            client = APIClient() if api else Client()
            if self.is_token:
                client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
            elif self.officer is not None:
                # Signing in stamps last_login: put it back, the officers' table stays as the
                # matrix's baseline has it.
                last_login = self.officer.last_login
                client.force_login(self.officer)
                Officer.objects.filter(pk=self.officer.pk).update(last_login=last_login)
                self.officer.last_login = last_login
            if fresh:
                return client
            self.clients[key] = client
        return self.clients[key]


def projects_named_to(officer: Officer) -> Any:
    """The projects an officer sees, and those of the problems they handle: a problem names
    its project to the department it was routed to."""
    return Project.objects.filter(
        Q(pk__in=projects_visible_to(officer).values("pk"))
        | Q(pk__in=problems_visible_to(officer).values("project_id"))
    )


# Records whose name must not appear on any page or API answer to a caller who may not see
# them: (world attribute without its _a/_b/_d, the selector, the name's field).
MARKED = (
    ("investor", investors_visible_to, "name"),
    ("free_investor", investors_visible_to, "name"),
    ("lead", leads_visible_to, "name"),
    ("project", projects_named_to, "name"),
    ("problem", problems_visible_to, "title"),
    ("agreement", agreements_visible_to, "title"),
    ("visit", visits_visible_to, "summary"),
    ("intermediary", intermediaries_visible_to, "name"),
    ("campaign", campaigns_visible_to, "name"),
    ("batch", batches_visible_to, "file_name"),
    (
        "evidence",
        lambda officer: StageEvidence.objects.filter(
            stage_event__project__in=projects_visible_to(officer)
        ),
        "original_name",
    ),
)


class World:
    """Attributes named in the classification table (``records=("lead_a", "lead_b")``)."""

    personas: list[Persona]

    def __init__(self) -> None:
        self._visible: dict[tuple, bool] = {}

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def visible(self, selector: Any, actor: Officer, record: Any) -> bool:
        """``record`` is in ``selector(actor)`` (cached: every case starts from this state)."""
        key = (selector, actor.pk, type(record), record.pk)
        if key not in self._visible:
            self._visible[key] = selector(actor).filter(pk=record.pk).exists()
        return self._visible[key]

    def leaks(self, actor: Officer | None, body: bytes) -> list[str]:
        """The marked records named in ``body`` that ``actor`` may not see."""
        text = body.decode("utf-8", errors="ignore")
        found = []
        for name, selector, field_name in MARKED:
            for key in ("a", "b", "d"):
                record = getattr(self, f"{name}_{key}", None)
                if (
                    record is not None
                    and getattr(record, field_name) in text
                    and (actor is None or not self.visible(selector, actor, record))
                ):
                    found.append(f"{name}_{key}")
        return found


def _unit_records(w: World, tag: str, unit, officer: Officer) -> None:
    """One unit's records, all registered by ``officer`` (their 主办)."""
    day = today()
    investor = make_investor(
        officer,
        name=f"矩阵{tag}客商电子有限公司",
        source_system="matrix",
        external_id=tag,
    )
    lead = make_lead(
        officer, investor=investor, status=LeadStatus.NEGOTIATING, name=f"矩阵{tag}项目信息"
    )
    signed = make_lead(
        officer,
        investor=investor,
        status=LeadStatus.NEGOTIATING,
        name=f"矩阵{tag}签约信息",
        # A second open lead of the unit on the investor: confirmed as another project.
        confirm_duplicate=lead.pk,
    )
    project = project_services.project_sign_lead(
        lead=signed,
        actor=officer,
        contract_date=day - timedelta(days=40),
        total_investment=12000,
        name=f"矩阵{tag}签约工程",
    )
    visit = lead_services.visit_log(
        actor=officer,
        kind=VisitKind.VISIT,
        visited_on=day - timedelta(days=2),
        investor=investor,
        lead=lead,
        summary=f"矩阵{tag}走访纪要",
    )
    problem = project_services.problem_raise(
        project=project,
        actor=officer,
        kind=ProblemKind.POWER,
        title=f"矩阵{tag}问题",
        owner_unit=unit,
        due_on=day + timedelta(days=10),
    )
    stage_event = project.stage_events.get()
    evidence = project_services.stage_evidence_attach(
        stage_event=stage_event,
        actor=officer,
        kind=EvidenceKind.BUSINESS_LICENCE,
        upload=SimpleUploadedFile(f"矩阵{tag}营业执照.pdf", PDF),
    )
    # 供地 recorded with its land contract: a milestone to correct and a file to download.
    _project, land = project_services.project_milestone_record(
        project=project,
        actor=officer,
        milestone=Milestone.LAND_GRANTED,
        actual_date=day,
        evidence=[(EvidenceKind.LAND_CONTRACT, SimpleUploadedFile(f"矩阵{tag}供地合同.pdf", PDF))],
    )
    project.refresh_from_db()
    batch = batch_upload(
        actor=officer,
        data=xlsx(
            [["项目名称", "投资方", "总投资(万元)"], [f"矩阵{tag}导入项目", "某公司", "100"]]
        ),
        file_name=f"矩阵{tag}台账.xlsx",
        kind=ImportKind.LEADS,
        unit=unit,
    )
    alert = Alert.objects.create(
        rule=AlertRule.LEAD_NO_FOLLOW_UP,
        level=AlertLevel.YELLOW,
        subject_key=f"lead:{lead.pk}",
        lead=lead,
        unit=unit,
        responsible=officer,
        detail="长期未跟进",
        opened_on=day,
        last_seen_on=day,
    )
    agreement = agreement_services.agreement_create(
        project=project,
        actor=officer,
        kind=AgreementKind.MAIN,
        title=f"矩阵{tag}投资协议",
        signed_on=project.contract_date,
    )
    term = agreement_services.term_add(
        agreement=agreement,
        actor=officer,
        metric=Metric.JOBS,
        target=100,
        due_on=day + timedelta(days=30),
    )
    tranche = agreement_services.promise_add(
        agreement=agreement,
        actor=officer,
        kind=PromiseKind.INCENTIVE,
        description=f"矩阵{tag}奖补",
        owner_unit=unit,
        due_on=day + timedelta(days=30),
        amount=10,
    )
    values = {
        "unit": unit,
        "investor": investor,
        "free_investor": make_investor(officer, name=f"矩阵{tag}新客商科技有限公司"),
        "contact": lead_services.contact_add(
            actor=officer, investor=investor, name=f"矩阵{tag}联系人", phone="13800000000"
        ),
        "lead": lead,
        "project": project,
        "stage_event": stage_event,
        "visit": visit,
        "problem": problem,
        "agreement": agreement,
        "term": term,
        # A sign-in of the unit's officer elsewhere (a phone): only they may end it.
        "officer_session": OfficerSession.objects.create(
            officer=officer, session_key=f"matrix-session-{tag_key(tag)}", ip="10.8.8.8"
        ),
        # A figure and a withholding the 主办 asked for, both waiting for a second person.
        "measurement": agreement_services.measurement_record(
            term=term, actor=officer, measured_on=day, value=50, source="矩阵社保数据"
        ),
        "incentive_request": agreement_services.incentive_request(
            promise=tranche, actor=officer, action=IncentiveAction.WITHHOLD, reason="矩阵欠税"
        ),
        "evidence": evidence,
        "milestone_evidence": land.evidence.get(),
        "intermediary": Intermediary.objects.create(
            name=f"矩阵{tag}中介", kind="agency", unit=unit
        ),
        "event": PromotionEvent.objects.create(
            name=f"矩阵{tag}推介会",
            city="上海",
            starts_on=day - timedelta(days=5),
            ends_on=day - timedelta(days=4),
            organizer=unit,
        ),
        "target": officer_services.target_set(
            actor=w.chief, year=day.year, metric=TargetMetric.SIGNED_COUNT, value=5, unit=unit
        ),
        "campaign": campaign_create(
            actor=w.chief,
            name=f"矩阵{tag}专项活动",
            start=day - timedelta(days=30),
            end=day + timedelta(days=30),
            unit=unit,
            metrics="signed_count:10",
        ),
        "batch": batch_check(batch=batch),
        # A finished export job of the unit's officer: only they open it or its file.
        "export": _finished_export(officer),
        "alert": alert,
        "notice": AlertNotice.objects.create(
            alert=alert, step=EscalationStep.OFFICER, recipient=officer
        ),
    }
    for name, value in values.items():
        setattr(w, f"{name}_{tag_key(tag)}", value)


def _finished_export(officer: Officer) -> Any:
    job, _new = export_request(
        actor=officer, kind=ExportKind.LEADS, fmt="csv", params=QueryDict("")
    )
    return export_run(job_id=job.pk)


def tag_key(tag: str) -> str:
    return {"甲": "a", "乙": "b"}[tag]


def build_world() -> World:
    w = World()
    # The bureau's stage evidence rules as the migration made them, whatever an earlier
    # test's flush left: the advance cases carry an accepted file (tests/permissions/table.py).
    default_evidence_rules()
    bureau = make_unit("矩阵市投资促进局", kind=UnitKind.BUREAU)
    unit_a = make_unit("矩阵甲办事处", kind=UnitKind.RESIDENT_OFFICE, parent=bureau, city="上海")
    unit_b = make_unit("矩阵乙办事处", kind=UnitKind.RESIDENT_OFFICE, parent=bureau, city="深圳")
    unit_c = make_unit("矩阵丙办事处", kind=UnitKind.RESIDENT_OFFICE, parent=bureau, city="北京")
    department = make_unit("矩阵发改委", kind=UnitKind.DEPARTMENT, parent=bureau)
    w.bureau, w.department = bureau, department

    w.chief = make_officer(bureau, role=Role.CHIEF, username="m_chief")
    # 三员分立: three administrators, none in a unit, none reading a business record.
    w.admin = make_officer(None, role=Role.ADMIN, username="m_admin")
    w.security_admin = make_officer(None, role=Role.SECURITY_ADMIN, username="m_security_admin")
    w.audit_admin = make_officer(None, role=Role.AUDIT_ADMIN, username="m_audit_admin")
    w.head_a = make_officer(unit_a, role=Role.UNIT_HEAD, username="m_head_a")
    w.officer_a = make_officer(unit_a, username="m_officer_a")
    w.teammate_a = make_officer(unit_a, username="m_teammate_a")
    w.officer_b = make_officer(unit_b, username="m_officer_b")
    w.assistant_b = make_officer(unit_b, username="m_assistant_b")
    w.officer_c = make_officer(unit_c, username="m_officer_c")
    w.submitter = make_officer(department, role=Role.DEPARTMENT_SUBMITTER, username="m_dept")

    _unit_records(w, "甲", unit_a, w.officer_a)
    _unit_records(w, "乙", unit_b, w.officer_b)

    # The department's own: what its 信息员 submitted, and a problem routed to it.
    w.investor_d = make_investor(
        w.submitter, name="矩阵部门客商有限公司", source_system="matrix", external_id="部门"
    )
    w.free_investor_d = make_investor(w.submitter, name="矩阵部门新客商有限公司")
    w.lead_d = make_lead(w.submitter, investor=w.investor_d, name="矩阵部门项目信息")
    w.problem_d = project_services.problem_raise(
        project=w.project_a,
        actor=w.officer_a,
        kind=ProblemKind.LAND_QUOTA,
        title="矩阵部门问题",
        owner_unit=department,
        due_on=today() + timedelta(days=10),
    )

    # A service visit on each unit's project (亲商服务), written as a row: the matrix's projects
    # do not produce, and the service refuses a visit before production.
    for tag, project, officer in (("a", w.project_a, w.officer_a), ("b", w.project_b, w.officer_b)):
        setattr(
            w,
            f"service_visit_{tag}",
            ServiceVisit.objects.create(
                project=project, visited_on=today(), visited_by=officer, satisfaction=4,
                employment=50,
            ),
        )  # fmt: skip

    # The admin's model permissions, as a bureau grants them to its staff officers: what is
    # left to decide is promo's own rule (scope and predicates), which the matrix checks.
    staff = [
        w.chief,
        w.admin,
        w.security_admin,
        w.audit_admin,
        w.head_a,
        w.officer_a,
        w.teammate_a,
        w.officer_b,
        w.assistant_b,
    ]
    grants = Permission.objects.filter(
        codename__in=[
            "view_lead",
            "change_lead",
            "view_assignment",
            "add_assignment",
            "view_officer",
            "change_officer",
        ]
    )
    for officer in staff:
        officer.user_permissions.add(*grants)

    # The credit-takeover case: B2 assists on A's lead and project (brought in by the 主办).
    lead_services.assignment_add(
        actor=w.officer_a, officer=w.assistant_b, role=AssignmentRole.ASSISTING, lead=w.lead_a
    )
    project_services.project_assignment_add(
        actor=w.officer_a,
        officer=w.assistant_b,
        role=AssignmentRole.ASSISTING,
        project=w.project_a,
    )

    # 防撞单: B has met A's contested investor and claims its lead (and asks to join it); C
    # does the same on B's, which is nothing to unit A.
    for holder, claimant, tag in (
        (w.officer_a, w.officer_b, "甲"),
        (w.officer_b, w.officer_c, "乙"),
    ):
        investor = make_investor(holder, name=f"矩阵{tag}争议客商有限公司")
        contested = make_lead(
            holder, investor=investor, status=LeadStatus.NEGOTIATING, name=f"矩阵{tag}争议信息"
        )
        met_elsewhere(claimant, investor)
        key = tag_key(tag)
        setattr(w, f"contested_{key}", contested)
        setattr(
            w,
            f"claim_{key}",
            lead_services.lead_claim_file(lead=contested, actor=claimant, reason="我方先接触"),
        )
        setattr(
            w, f"assist_{key}", lead_services.lead_assist_request(lead=contested, actor=claimant)
        )

    start = today().replace(day=1)
    last_month = (start - timedelta(days=1)).replace(day=1)
    w.bulletin_draft = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=last_month)
    earlier = (last_month - timedelta(days=1)).replace(day=1)
    w.bulletin_published = bulletin_publish(
        bulletin=bulletin_generate(kind=BulletinKind.MONTHLY, period_start=earlier),
        actor=w.chief,
    )

    w.api_client_ro, ro_token = api_client_create(
        actor=w.security_admin,
        name="矩阵只读系统",
        officer=w.officer_a,
        access=ApiClientAccess.READ,
    )
    w.api_client_rw, rw_token = api_client_create(
        actor=w.security_admin,
        name="矩阵读写系统",
        officer=w.officer_a,
        access=ApiClientAccess.READ_WRITE,
    )
    # "Last used" lies ahead: authenticating never writes it during the run (a write the
    # matrix would otherwise see on a refused call).
    ApiClient.objects.update(last_used_at=timezone.now() + timedelta(days=1))
    # Officer A's calendar feed address (日程, issue #15): its token is the credential.
    _feed, w.feed_token_a = calendar_feed_issue(actor=w.officer_a)

    w.personas = [
        Persona("anonymous", None),
        Persona("officer_a", w.officer_a),
        Persona("teammate_a", w.teammate_a),
        Persona("head_a", w.head_a),
        Persona("officer_b", w.officer_b),
        Persona("assistant_b", w.assistant_b),
        Persona("submitter", w.submitter),
        Persona("chief", w.chief),
        Persona("admin", w.admin),
        Persona("security_admin", w.security_admin),
        Persona("audit_admin", w.audit_admin),
        Persona("api_read", w.officer_a, token=ro_token, read_only=True),
        Persona("api_write", w.officer_a, token=rw_token),
    ]
    for persona in w.personas:
        if persona.officer is not None:
            persona.officer = Officer.objects.get(pk=persona.officer.pk)
    return w
