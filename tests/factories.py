"""The one factories module: small builders and the named personas of the test-suite.

Records that have a service are built through it, so tests see the same events and history
a real officer's work produces.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from leads import services as lead_services
from leads.choices import LeadStatus, SourceChannel
from leads.models import Investor, Lead
from officers.choices import Role, UnitKind
from officers.models import Officer, Unit
from projects import services as project_services
from projects.choices import Stage
from projects.models import EvidenceKind, Project, StageEvidenceRule
from promo.core.choices import Industry
from promo.core.services import today

PASSWORD = "promo-test-Pass-2026"
_seq = itertools.count(1)


def make_unit(
    name: str | None = None,
    *,
    kind: str = UnitKind.BRANCH,
    parent: Unit | None = None,
    city: str = "",
) -> Unit:
    return Unit.objects.create(
        name=name or f"测试单位{next(_seq)}", kind=kind, parent=parent, city=city
    )


def make_officer(
    unit: Unit | None,
    *,
    role: str = Role.OFFICER,
    username: str | None = None,
    full_name: str = "",
    is_superuser: bool = False,
) -> Officer:
    n = next(_seq)
    officer = Officer(
        username=username or f"officer{n}",
        full_name=full_name or f"干部{n}",
        unit=unit,
        role=role,
        is_staff=role != Role.DEPARTMENT_SUBMITTER,
        is_superuser=is_superuser,
    )
    officer.set_password(PASSWORD)
    officer.save()
    return officer


def make_investor(actor: Officer, name: str | None = None, **fields) -> Investor:
    fields.setdefault("industry", Industry.ELECTRONICS)
    return lead_services.investor_create(
        actor=actor,
        name=name or f"测试客商{next(_seq)}电子有限公司",
        confirm_distinct=True,
        **fields,
    )


def make_lead(
    actor: Officer,
    *,
    investor: Investor | None = None,
    status: str = LeadStatus.INFORMATION,
    amount: Decimal | int = 5000,
    **fields,
) -> Lead:
    investor = investor or make_investor(actor)
    fields.setdefault("industry", Industry.ELECTRONICS)
    fields.setdefault("source_channel", SourceChannel.STATIONED)
    lead = lead_services.lead_create(
        actor=actor,
        investor=investor,
        name=fields.pop("name", f"测试项目{next(_seq)}"),
        estimated_amount=amount,
        **fields,
    )
    # Earlier steps are dated three months back so a later signing date fits after them.
    path = [LeadStatus.VALID, LeadStatus.NEGOTIATING]
    for step in path:
        if lead.status == status:
            break
        lead = lead_services.lead_transition(
            lead=lead, actor=actor, to_status=step, on_date=today() - timedelta(days=90)
        )
    if status in (LeadStatus.DROPPED,):
        lead = lead_services.lead_drop(lead=lead, actor=actor, reason="投资方战略调整")
    elif status == LeadStatus.REJECTED:
        lead = lead_services.lead_reject(lead=lead, actor=actor, reject_reason="land_grab")
    elif status == LeadStatus.SIGNED:
        sign_lead(actor, lead)
        lead.refresh_from_db()
    return lead


def sign_lead(
    actor: Officer,
    lead: Lead,
    *,
    contract_date: date | None = None,
    amount: int | Decimal = 12000,
    **fields,
) -> Project:
    return project_services.project_sign_lead(
        lead=lead,
        actor=actor,
        contract_date=contract_date or today() - timedelta(days=30),
        total_investment=amount,
        **fields,
    )


EVIDENCE_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%EOF\n"

# A kind the bureau's default evidence rule accepts for each stage (projects migration 0007).
STAGE_EVIDENCE_KIND = {
    Stage.GROUNDBREAKING: EvidenceKind.CONSTRUCTION_PERMIT,
    Stage.COMPLETED: EvidenceKind.ACCEPTANCE,
    Stage.PRODUCING: EvidenceKind.PRODUCTION_PROOF,
}


def stage_evidence(stage: str, kind: str | None = None) -> list[tuple[str, SimpleUploadedFile]]:
    """The ``evidence`` of a stage change: one PDF of ``kind``, by default one the bureau's
    default rule accepts for ``stage`` (issue #15: a change without it is refused)."""
    kind = kind or STAGE_EVIDENCE_KIND[Stage(stage)]
    upload = SimpleUploadedFile(f"{kind}.pdf", EVIDENCE_PDF, content_type="application/pdf")
    return [(kind, upload)]


def make_project(
    actor: Officer, *, amount: int | Decimal = 12000, contract_date: date | None = None, **fields
) -> Project:
    lead = make_lead(actor, status=LeadStatus.NEGOTIATING)
    return sign_lead(actor, lead, contract_date=contract_date, amount=amount, **fields)


@dataclass
class Bureau:
    """The named personas: a Shanghai-office officer, a teammate, an outsider, a chief…"""

    bureau: Unit
    shanghai: Unit
    shanghai_team: Unit  # a sub-unit of the Shanghai office
    shenzhen: Unit
    department: Unit
    chief: Officer
    shanghai_head: Officer
    shanghai_officer: Officer
    teammate: Officer
    sub_unit_officer: Officer
    outsider: Officer
    submitter: Officer


def default_evidence_rules() -> None:
    """The stage evidence rules projects migration 0007 creates (开工 → 施工许可证 or 开工报告;
    竣工 → 竣工验收; 投产 → 投产证明), put back when a transactional test's flush emptied the
    table; rows that exist are left as they are."""
    for stage, kinds in (
        (
            Stage.GROUNDBREAKING,
            (EvidenceKind.CONSTRUCTION_PERMIT, EvidenceKind.GROUNDBREAKING_REPORT),
        ),
        (Stage.COMPLETED, (EvidenceKind.ACCEPTANCE,)),
        (Stage.PRODUCING, (EvidenceKind.PRODUCTION_PROOF,)),
    ):
        for kind in kinds:
            StageEvidenceRule.objects.get_or_create(stage=stage, kind=kind)


def make_alerts(
    n: int, *, responsible: Officer, level: str = "yellow", rule: str = "lead_no_follow_up"
) -> list:
    """``n`` open alerts (promo.reports) of ``responsible``'s unit, opened today, yesterday, …
    (the first is the newest), each on a condition of its own."""
    from promo.reports.models import Alert

    return Alert.objects.bulk_create(
        Alert(
            rule=rule,
            level=level,
            subject_key=f"lead:{responsible.pk}:{next(_seq)}",
            unit=responsible.unit,
            responsible=responsible,
            detail=f"未跟进{i}",
            opened_on=today() - timedelta(days=i),
            last_seen_on=today(),
        )
        for i in range(n)
    )


def make_bureau() -> Bureau:
    default_evidence_rules()
    bureau = make_unit("市投资促进局", kind=UnitKind.BUREAU)
    shanghai = make_unit("上海办事处", kind=UnitKind.RESIDENT_OFFICE, parent=bureau, city="上海")
    shanghai_team = make_unit(
        "上海办事处浦东组", kind=UnitKind.BRANCH, parent=shanghai, city="上海"
    )
    shenzhen = make_unit("深圳办事处", kind=UnitKind.RESIDENT_OFFICE, parent=bureau, city="深圳")
    department = make_unit("市发改委", kind=UnitKind.DEPARTMENT, parent=bureau)
    return Bureau(
        bureau=bureau,
        shanghai=shanghai,
        shanghai_team=shanghai_team,
        shenzhen=shenzhen,
        department=department,
        chief=make_officer(bureau, role=Role.CHIEF, username="chief", full_name="王局长"),
        shanghai_head=make_officer(
            shanghai, role=Role.UNIT_HEAD, username="sh_head", full_name="李主任"
        ),
        shanghai_officer=make_officer(shanghai, username="sh_officer", full_name="张明"),
        teammate=make_officer(shanghai, username="sh_teammate", full_name="陈静"),
        sub_unit_officer=make_officer(shanghai_team, username="pd_officer", full_name="赵磊"),
        outsider=make_officer(shenzhen, username="sz_officer", full_name="刘洋"),
        submitter=make_officer(
            department, role=Role.DEPARTMENT_SUBMITTER, username="fgw", full_name="周信息员"
        ),
    )


def met_elsewhere(
    officer: Officer,
    investor: Investor,
    *,
    kind: str = "visit",
    on: date | None = None,
    summary: str = "在上海拜访",
):
    """A visit ``officer``'s unit logged on another unit's investor before such visits were
    refused (existing data, written as it was then): the investor is visible to them, as in
    the 防撞单 cases. ``visit_log`` now refuses it (issue #13)."""
    from leads.models import Visit

    visit = Visit.objects.create(
        kind=kind,
        visited_on=on or today(),
        investor=investor,
        unit=officer.unit,
        created_by=officer,
        summary=summary,
    )
    visit.officers.set([officer])
    return visit


def fresh(officer: Officer) -> Officer:
    """The same officer without the cached scope (after a move between units)."""
    return Officer.objects.get(pk=officer.pk)


def yesterday() -> date:
    return today() - timedelta(days=1)
