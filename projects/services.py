"""Writes of the projects app: signing, stage changes, figures, progress and problems."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leads.choices import LeadStatus, SourceChannel
from leads.models import Investor, Lead
from leads.normalize import is_valid_credit_code, normalize_credit_code
from leads.selectors import leads_visible_to
from leads.services import (
    assignment_refusal,
    lead_create,
    lead_transition,
    require_investor_in_scope,
)
from officers import permissions
from officers.choices import AssignmentRole
from officers.models import Assignment, Officer, Unit
from officers.selectors import units_visible_to
from promo.core.audit import audited
from promo.core.choices import Industry
from promo.core.errors import (
    EvidenceKindNotAccepted,
    EvidenceRequired,
    PermissionDenied,
    TransitionNotAllowed,
    rule,
)
from promo.core.services import (
    lock_visible,
    require_amount,
    require_choice,
    require_not_future,
    require_text,
    today,
    touch_row,
)
from promo.core.uploads import CheckedUpload, check_upload

from .choices import (
    MILESTONE_ORDER,
    MILESTONE_REQUIRES,
    Milestone,
    MilestoneAction,
    ParkKind,
    ProblemKind,
    ProblemStatus,
    Stage,
    problem_can_transition,
)
from .models import (
    EvidenceFile,
    EvidenceKind,
    InvestmentProgress,
    MilestoneEvent,
    MilestoneEvidence,
    Problem,
    ProblemAction,
    Project,
    ProjectIncrement,
    ProjectStageEvent,
    ServiceVisit,
    StageEvidence,
)
from .selectors import (
    accepted_evidence_kinds,
    problem_escalation_recipients,
    problems_visible_to,
    projects_visible_to,
)


def _check_plan(
    contract_date: date,
    groundbreaking_planned: date | None,
    completed_planned: date | None,
    producing_planned: date | None,
) -> None:
    previous = ("contract_date", contract_date)
    for field, value in (
        ("groundbreaking_planned", groundbreaking_planned),
        ("completed_planned", completed_planned),
        ("producing_planned", producing_planned),
    ):
        if value is None:
            continue
        if value < previous[1]:
            raise rule(field, _("计划节点须按签约、开工、竣工、投产的顺序排列。"))
        previous = (field, value)


def _ensure_can_work_projects(actor: Officer) -> None:
    if not permissions.may_work_records(actor):
        raise PermissionDenied(_("部门信息员不能登记或修改项目。"))


def _new_project(
    *,
    actor: Officer,
    unit: Unit,
    investor: Investor,
    name: str,
    industry: str,
    contract_date: date,
    total_investment: Any,
    registered_capital: Any,
    contracted_fdi: Any,
    land_area: Any,
    park_kind: str,
    park_name: str,
    description: str,
    groundbreaking_planned: date | None,
    completed_planned: date | None,
    producing_planned: date | None,
    lead: Lead | None,
    source_system: str,
    external_id: str,
    lead_officer_id: int | None,
) -> Project:
    name = require_text("name", name, _("请填写项目名称。"))
    require_choice("industry", industry, Industry)
    require_choice("park_kind", park_kind, ParkKind)
    if contract_date is None:
        raise rule("contract_date", _("请填写签约日期。"))
    require_not_future("contract_date", contract_date)
    amount = require_amount("total_investment", total_investment, allow_zero=False)
    _check_plan(contract_date, groundbreaking_planned, completed_planned, producing_planned)
    project = Project.objects.create(
        name=name,
        lead=lead,
        investor=investor,
        unit=unit,
        created_by=actor,
        industry=industry,
        park_kind=park_kind,
        park_name=park_name,
        description=description,
        contract_date=contract_date,
        signed_investment=amount,
        total_investment=amount,
        registered_capital=require_amount("registered_capital", registered_capital),
        contracted_fdi=require_amount("contracted_fdi", contracted_fdi),
        land_area=require_amount("land_area", land_area),
        groundbreaking_planned=groundbreaking_planned,
        completed_planned=completed_planned,
        producing_planned=producing_planned,
        stage=Stage.SIGNED,
        stage_changed_at=timezone.now(),
        source_system=source_system,
        external_id=external_id,
    )
    ProjectStageEvent.objects.create(
        project=project,
        actor=actor,
        from_stage="",
        to_stage=Stage.SIGNED,
        actual_date=contract_date,
    )
    if lead_officer_id is not None:
        Assignment.objects.create(
            officer_id=lead_officer_id, project=project, role=AssignmentRole.LEAD, assigned_by=actor
        )
    return project


def project_sign_lead(
    *,
    lead: Lead,
    actor: Officer,
    contract_date: date,
    total_investment: Any,
    name: str = "",
    registered_capital: Any = 0,
    contracted_fdi: Any = 0,
    land_area: Any = 0,
    park_kind: str = ParkKind.ECONOMIC_ZONE,
    park_name: str = "",
    description: str = "",
    groundbreaking_planned: date | None = None,
    completed_planned: date | None = None,
    producing_planned: date | None = None,
) -> Project:
    """Sign a lead (签约): the lead becomes 签约 and a project is born, counted once, here."""
    _ensure_can_work_projects(actor)
    with transaction.atomic(), audited(actor, "project_sign_lead"):
        locked: Lead = lock_visible(leads_visible_to(actor), lead)
        if not permissions.may_sign_lead(actor, locked):
            raise PermissionDenied(_("只有主办人、本单位负责人或局领导可以签约。"))
        if not locked.can_transition_to(LeadStatus.SIGNED):
            raise TransitionNotAllowed(
                _("只有“在谈”的项目信息可以签约，当前为“%(current)s”。")
                % {"current": locked.get_status_display()}
            )
        if locked.is_expansion:
            return _sign_expansion(
                lead=locked,
                actor=actor,
                contract_date=contract_date,
                amount=total_investment,
                contracted_fdi=contracted_fdi,
                note=description,
            )
        project = _new_project(
            actor=actor,
            unit=locked.unit,
            investor=locked.investor,
            name=name or locked.name,
            industry=locked.industry,
            contract_date=contract_date,
            total_investment=total_investment,
            registered_capital=registered_capital,
            contracted_fdi=contracted_fdi,
            land_area=land_area,
            park_kind=park_kind,
            park_name=park_name,
            description=description or locked.description,
            groundbreaking_planned=groundbreaking_planned,
            completed_planned=completed_planned,
            producing_planned=producing_planned,
            lead=locked,
            source_system="",
            external_id="",
            # Credit follows the lead: its 主办 leads the project, whoever records the signing.
            # A signer who is not the 主办 cannot make himself 主办 here (a second person, the
            # unit head, assigns one through assignment_add when the lead had none).
            lead_officer_id=permissions.lead_officer_id(locked),
        )
        lead_transition(
            lead=locked, actor=actor, to_status=LeadStatus.SIGNED, on_date=contract_date
        )
        # The lead's assisting officers keep assisting on the project.
        for assignment in locked.assignments.filter(role=AssignmentRole.ASSISTING):
            Assignment.objects.get_or_create(
                officer_id=assignment.officer_id,
                project=project,
                role=AssignmentRole.ASSISTING,
                defaults={"assigned_by": actor},
            )
        return project


def _sign_expansion(
    *,
    lead: Lead,
    actor: Officer,
    contract_date: date,
    amount: Any,
    contracted_fdi: Any,
    note: str,
) -> Project:
    """Sign a 增资扩产 lead: a capital increase (增资) on the enterprise's project, never a second
    project — so no count of new signings (新签约项目) ever sees it. Inside project_sign_lead's
    transaction: the increase and the lead's status land together."""
    visit = (
        ServiceVisit.objects.filter(expansion_lead=lead).only("project_id").first()
        if lead.pk
        else None
    )
    if visit is None:
        raise rule("lead", _("增资扩产项目信息须来自企业服务走访。"))
    project = Project.objects.get(pk=visit.project_id)
    if contract_date is None:
        raise rule("contract_date", _("请填写签约日期。"))
    project_record_increment(
        project=project,
        actor=actor,
        increased_on=contract_date,
        amount=amount,
        contracted_fdi=contracted_fdi,
        # Stored data, not a message: kept in the bureau's language whoever signs.
        note=note or f"增资扩产：{lead.name}",
        lead=lead,
    )
    lead_transition(lead=lead, actor=actor, to_status=LeadStatus.SIGNED, on_date=contract_date)
    project.refresh_from_db()
    return project


def project_create(
    *,
    actor: Officer,
    investor: Investor,
    name: str,
    industry: str,
    contract_date: date,
    total_investment: Any,
    unit: Unit | None = None,
    registered_capital: Any = 0,
    contracted_fdi: Any = 0,
    land_area: Any = 0,
    park_kind: str = ParkKind.ECONOMIC_ZONE,
    park_name: str = "",
    description: str = "",
    groundbreaking_planned: date | None = None,
    completed_planned: date | None = None,
    producing_planned: date | None = None,
    source_system: str = "",
    external_id: str = "",
) -> Project:
    """Enter a signed project directly (no lead in promo): one owning unit, counted at signing."""
    _ensure_can_work_projects(actor)
    owner = unit or actor.unit
    if owner is None:
        raise rule("unit", _("请选择责任单位。"))
    if not units_visible_to(actor).filter(pk=owner.pk).exists():
        raise PermissionDenied(_("您不能为该单位登记项目。"))
    require_investor_in_scope(actor, investor)
    with transaction.atomic(), audited(actor, "project_create"):
        return _new_project(
            actor=actor,
            unit=owner,
            investor=investor,
            name=name,
            industry=industry,
            contract_date=contract_date,
            total_investment=total_investment,
            registered_capital=registered_capital,
            contracted_fdi=contracted_fdi,
            land_area=land_area,
            park_kind=park_kind,
            park_name=park_name,
            description=description,
            groundbreaking_planned=groundbreaking_planned,
            completed_planned=completed_planned,
            producing_planned=producing_planned,
            lead=None,
            source_system=source_system,
            external_id=external_id,
            # A project entered directly is the entering officer's own work in their unit.
            lead_officer_id=actor.pk if actor.unit_id == owner.pk else None,
        )


def project_advance(
    *,
    project: Project,
    actor: Officer,
    to_stage: str,
    actual_date: date,
    note: str = "",
    evidence: Iterable[tuple[str, UploadedFile]] = (),
) -> tuple[Project, ProjectStageEvent]:
    """The one function that changes a project's stage (开工 / 竣工 / 投产), one step at a time.

    ``evidence`` is a list of (kind, file) — licence, permit, land contract — checked before
    anything is written and attached to the stage event in the same transaction.

    The bureau's evidence rules (StageEvidenceRule; by default 开工 → 施工许可证 or 开工报告,
    竣工 → 竣工验收, 投产 → 投产证明) are enforced here, so the web form, the API, the import
    and the demo all meet them: a change into a stage with a rule must carry at least one file
    of an accepted kind (other files, a site photo, may come with it). Evidence hangs on the
    stage event, which exists only once the change is made, so the change itself must carry
    it; files added later (stage_evidence_attach) complete a change, they cannot stand in for
    it. Checked after the permission and transition checks (an outsider learns nothing of
    the rule) and before any write: a refused change writes no date, no event, no file.
    """
    _ensure_can_work_projects(actor)
    checked = _check_evidence(evidence)
    if to_stage not in Stage.values:
        raise rule("to_stage", _("未知的阶段。"))
    if actual_date is None:
        raise rule("actual_date", _("请填写实际日期。"))
    require_not_future("actual_date", actual_date)
    with transaction.atomic(), audited(actor, note or f"project_advance:{to_stage}"):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        if not permissions.may_advance_project(actor, locked):
            raise PermissionDenied(_("只有主办人、本单位负责人或局领导可以变更项目阶段。"))
        if not locked.can_transition_to(to_stage):
            raise TransitionNotAllowed(
                _("项目当前处于“%(current)s”阶段，不能直接变更为“%(target)s”。")
                % {"current": locked.get_stage_display(), "target": Stage(to_stage).label}
            )
        previous_date = locked.actual_date(locked.stage)
        if previous_date and actual_date < previous_date:
            raise rule(
                "actual_date",
                _("实际日期不能早于上一阶段的日期（%(date)s）。") % {"date": previous_date},
            )
        _require_stage_evidence(to_stage, [kind for kind, _item in checked])
        from_stage = locked.stage
        setattr(locked, f"{to_stage}_actual", actual_date)
        locked.stage = to_stage
        locked.stage_changed_at = timezone.now()
        locked.save(update_fields=["stage", "stage_changed_at", f"{to_stage}_actual", "updated_at"])
        event = ProjectStageEvent.objects.create(
            project=locked,
            actor=actor,
            from_stage=from_stage,
            to_stage=to_stage,
            actual_date=actual_date,
            note=note,
        )
        for kind, item in checked:
            _store_evidence(event=event, actor=actor, kind=kind, checked=item)
        return locked, event


def _require_stage_evidence(to_stage: str, kinds: list[str]) -> None:
    """Refuse a change into ``to_stage`` that carries no file of a kind the bureau accepts."""
    accepted = accepted_evidence_kinds(to_stage)
    if not accepted or any(kind in accepted for kind in kinds):
        return
    names = gettext("、").join(str(EvidenceKind(kind).label) for kind in accepted)
    params = {"stage": Stage(to_stage).label, "kinds": names}
    extra = {"accepted_kinds": accepted}
    if not kinds:
        message = _("变更为“%(stage)s”须附佐证材料（以下任一种：%(kinds)s）。") % params
        raise EvidenceRequired(message, field_errors={"evidence": [message]}, extra=extra)
    message = _("“%(stage)s”的佐证材料须为以下任一种：%(kinds)s。") % params
    raise EvidenceKindNotAccepted(message, field_errors={"evidence_kind": [message]}, extra=extra)


def _check_evidence(
    evidence: Iterable[tuple[str, UploadedFile]],
) -> list[tuple[str, CheckedUpload]]:
    """Each (kind, file) checked before anything is written: kind known, type by content."""
    checked = []
    for kind, upload in evidence:
        require_choice("evidence_kind", kind, EvidenceKind)
        checked.append((kind, check_upload("evidence", upload)))
    return checked


def _store_evidence(
    *,
    event: ProjectStageEvent | MilestoneEvent,
    actor: Officer,
    kind: str,
    checked: CheckedUpload,
) -> EvidenceFile:
    fields = {
        "kind": kind,
        "original_name": checked.original_name,
        "content_type": checked.content_type,
        "size": checked.size,
        "sha256": checked.sha256,
        "uploaded_by": actor,
    }
    evidence: EvidenceFile
    if isinstance(event, MilestoneEvent):
        evidence = MilestoneEvidence(milestone_event=event, **fields)
    else:
        evidence = StageEvidence(stage_event=event, **fields)
    evidence.file.save(checked.stored_name(), checked.upload, save=False)
    evidence.save()
    return evidence


def stage_evidence_attach(
    *, stage_event: ProjectStageEvent, actor: Officer, kind: str, upload: UploadedFile
) -> StageEvidence:
    """Attach one more evidence file (佐证材料) to a stage change already recorded."""
    _ensure_can_work_projects(actor)
    require_choice("kind", kind, EvidenceKind)
    checked = check_upload("file", upload)
    with transaction.atomic(), audited(actor, "stage_evidence_attach"):
        lock_visible(projects_visible_to(actor), stage_event.project)
        stored = _store_evidence(event=stage_event, actor=actor, kind=kind, checked=checked)
        return cast(StageEvidence, stored)


def _check_milestone_plan(contract_date: date, planned: Mapping[str, date | None]) -> None:
    """Planned milestones after signing: none before the signing, 入规 not before 入统."""
    for milestone in MILESTONE_ORDER:
        value = planned.get(milestone)
        if value is not None and value < contract_date:
            raise rule(f"{milestone}_planned", _("计划节点不能早于签约日期。"))
    stats, above = planned.get(Milestone.IN_STATISTICS), planned.get(Milestone.ABOVE_SIZE)
    if stats is not None and above is not None and above < stats:
        raise rule("above_size_planned", _("计划入规不能早于计划入统。"))


def milestone_evidence_attach(
    *, milestone_event: MilestoneEvent, actor: Officer, kind: str, upload: UploadedFile
) -> MilestoneEvidence:
    """Attach one more evidence file (佐证材料) to a milestone already recorded — a licence or a
    statistics notice that arrives after the date was entered."""
    _ensure_can_work_projects(actor)
    require_choice("kind", kind, EvidenceKind)
    checked = check_upload("file", upload)
    with transaction.atomic(), audited(actor, "milestone_evidence_attach"):
        lock_visible(projects_visible_to(actor), milestone_event.project)
        stored = _store_evidence(event=milestone_event, actor=actor, kind=kind, checked=checked)
        return cast(MilestoneEvidence, stored)


def project_set_plan(
    *,
    project: Project,
    actor: Officer,
    reason: str,
    groundbreaking_planned: date | None,
    completed_planned: date | None,
    producing_planned: date | None,
    milestones_planned: Mapping[str, date | None] | None = None,
) -> Project:
    """Reschedule the planned milestones (倒排节点); a reason is required because delays are judged.

    ``milestones_planned`` ({"registered": date or None, …}) reschedules the milestones after
    signing (注册 / 供地 / 入统 / 入规) it names; those it leaves out keep their plan.
    """
    _ensure_can_work_projects(actor)
    reason = require_text("reason", reason, _("调整计划节点须说明原因。"))
    milestones_planned = dict(milestones_planned or {})
    unknown = set(milestones_planned) - set(Milestone.values)
    if unknown:
        raise rule(sorted(unknown)[0], _("未知的节点。"))
    with transaction.atomic(), audited(actor, reason):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        _check_plan(
            locked.contract_date, groundbreaking_planned, completed_planned, producing_planned
        )
        planned = {m: locked.milestone_planned(m) for m in MILESTONE_ORDER} | milestones_planned
        _check_milestone_plan(locked.contract_date, planned)
        locked.groundbreaking_planned = groundbreaking_planned
        locked.completed_planned = completed_planned
        locked.producing_planned = producing_planned
        for milestone, value in milestones_planned.items():
            setattr(locked, f"{milestone}_planned", value)
        locked.save(
            update_fields=[
                "groundbreaking_planned",
                "completed_planned",
                "producing_planned",
                *(f"{milestone}_planned" for milestone in milestones_planned),
                "updated_at",
            ]
        )
        return locked


# --- Milestones after signing (注册 / 供地 / 入统 / 入规) ------------------------------------


def _milestone_label(milestone: str) -> str:
    return str(Milestone(milestone).label)


def _check_credit_code(milestone: str, credit_code: str) -> str:
    """注册 needs the project company's 统一社会信用代码 (check character verified); the other
    milestones take none, so a code typed beside them is refused rather than dropped."""
    code = normalize_credit_code(credit_code)
    if milestone != Milestone.REGISTERED:
        if code:
            raise rule("credit_code", _("只有“注册”节点需要填写统一社会信用代码。"))
        return ""
    if not code:
        raise rule("credit_code", _("登记注册须填写项目公司的统一社会信用代码。"))
    if not is_valid_credit_code(code):
        raise rule("credit_code", _("统一社会信用代码格式或校验位不正确。"))
    return code


def _check_milestone_date(project: Project, milestone: str, day: date) -> None:
    """The rules of a milestone's actual date on a locked project (besides "not in the future")."""
    if day < project.contract_date:
        raise rule(
            "actual_date",
            _("节点日期不能早于签约日期（%(date)s）。") % {"date": project.contract_date},
        )
    required = MILESTONE_REQUIRES.get(milestone)
    if required is not None:
        before = project.milestone_actual(required)
        if before is None:
            raise rule(
                "milestone",
                _("须先登记“%(required)s”，才能登记“%(milestone)s”。")
                % {
                    "required": _milestone_label(required),
                    "milestone": _milestone_label(milestone),
                },
            )
        if day < before:
            raise rule(
                "actual_date",
                _("“%(milestone)s”的日期不能早于“%(required)s”的日期（%(date)s）。")
                % {
                    "milestone": _milestone_label(milestone),
                    "required": _milestone_label(required),
                    "date": before,
                },
            )
    for later, needed in MILESTONE_REQUIRES.items():
        after = project.milestone_actual(later) if needed == milestone else None
        if after is not None and day > after:
            raise rule(
                "actual_date",
                _("“%(milestone)s”的日期不能晚于已登记的“%(later)s”的日期（%(date)s）。")
                % {
                    "milestone": _milestone_label(milestone),
                    "later": _milestone_label(later),
                    "date": after,
                },
            )


def _set_milestone(
    project: Project,
    *,
    actor: Officer,
    milestone: str,
    action: str,
    actual_date: date | None,
    previous_date: date | None,
    code: str,
    note: str,
    checked: list[tuple[str, CheckedUpload]],
) -> MilestoneEvent:
    """Write the milestone's column (and 注册's credit code) and its event, with the evidence."""
    setattr(project, f"{milestone}_actual", actual_date)
    fields = [f"{milestone}_actual", "updated_at"]
    if milestone == Milestone.REGISTERED:
        project.company_credit_code = code
        fields.append("company_credit_code")
    project.save(update_fields=fields)
    event = MilestoneEvent.objects.create(
        project=project,
        actor=actor,
        milestone=milestone,
        action=action,
        actual_date=actual_date,
        previous_date=previous_date,
        credit_code=code,
        note=note,
    )
    for kind, item in checked:
        _store_evidence(event=event, actor=actor, kind=kind, checked=item)
    return event


def project_milestone_record(
    *,
    project: Project,
    actor: Officer,
    milestone: str,
    actual_date: date,
    credit_code: str = "",
    note: str = "",
    evidence: Iterable[tuple[str, UploadedFile]] = (),
) -> tuple[Project, MilestoneEvent]:
    """Record a milestone after signing (注册 / 供地 / 入统 / 入规) on its actual date, once.

    The one function that sets a milestone's date; 新入统 / 新入规 are counted from it
    (promo.reports.selectors). A milestone already recorded is refused (a double tap, or a
    second officer): a wrong date goes through ``project_milestone_correct``, with a reason.
    """
    _ensure_can_work_projects(actor)
    require_choice("milestone", milestone, Milestone)
    checked = _check_evidence(evidence)
    if actual_date is None:
        raise rule("actual_date", _("请填写实际日期。"))
    require_not_future("actual_date", actual_date)
    code = _check_credit_code(milestone, credit_code)
    with transaction.atomic(), audited(actor, note or f"project_milestone_record:{milestone}"):
        # Lock first: the 主办 on the phone and the unit head on a laptop may record at once.
        locked: Project = lock_visible(projects_visible_to(actor), project)
        if not permissions.may_advance_project(actor, locked):
            raise PermissionDenied(_("只有主办人、本单位负责人或局领导可以登记项目节点。"))
        recorded = locked.milestone_actual(milestone)
        if recorded is not None:
            message = _("“%(milestone)s”已于 %(date)s 登记；日期有误请由单位负责人更正。") % {
                "milestone": _milestone_label(milestone),
                "date": recorded,
            }
            raise TransitionNotAllowed(message, field_errors={"milestone": [message]})
        _check_milestone_date(locked, milestone, actual_date)
        event = _set_milestone(
            locked,
            actor=actor,
            milestone=milestone,
            action=MilestoneAction.RECORDED,
            actual_date=actual_date,
            previous_date=None,
            code=code,
            note=note,
            checked=checked,
        )
        return locked, event


def project_milestone_correct(
    *,
    project: Project,
    actor: Officer,
    milestone: str,
    actual_date: date | None,
    reason: str,
    credit_code: str = "",
    evidence: Iterable[tuple[str, UploadedFile]] = (),
) -> tuple[Project, MilestoneEvent]:
    """Correct a recorded milestone's date (更正), or withdraw it (撤销) with ``actual_date=None``.

    A correction moves a counted figure (新入统 / 新入规), so it takes the holding unit's head
    or a 局领导 (not the 主办 who recorded it) and a reason; the event keeps the date replaced.
    For 注册 the credit code may be corrected with the date (left empty: it stays).
    """
    _ensure_can_work_projects(actor)
    require_choice("milestone", milestone, Milestone)
    reason = require_text("reason", reason, _("更正或撤销节点须说明原因。"))
    checked = _check_evidence(evidence)
    if actual_date is not None:
        require_not_future("actual_date", actual_date)
    with transaction.atomic(), audited(actor, reason):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        if not permissions.may_correct_milestone(actor, locked):
            raise PermissionDenied(_("只有本单位负责人或局领导可以更正或撤销项目节点。"))
        previous = locked.milestone_actual(milestone)
        if previous is None:
            message = _("“%(milestone)s”尚未登记，无需更正。") % {
                "milestone": _milestone_label(milestone)
            }
            raise TransitionNotAllowed(message, field_errors={"milestone": [message]})
        code = ""
        if actual_date is None:
            for later, needed in MILESTONE_REQUIRES.items():
                if needed == milestone and locked.milestone_actual(later) is not None:
                    raise rule(
                        "actual_date",
                        _("须先撤销“%(later)s”，才能撤销“%(milestone)s”。")
                        % {
                            "later": _milestone_label(later),
                            "milestone": _milestone_label(milestone),
                        },
                    )
        else:
            _check_milestone_date(locked, milestone, actual_date)
            if milestone == Milestone.REGISTERED:
                code = (
                    _check_credit_code(milestone, credit_code)
                    if credit_code.strip()
                    else locked.company_credit_code
                )
            else:
                code = _check_credit_code(milestone, credit_code)
            same_code = milestone != Milestone.REGISTERED or code == locked.company_credit_code
            if actual_date == previous and same_code:
                raise rule("actual_date", _("新日期与已登记的日期相同，无需更正。"))
        event = _set_milestone(
            locked,
            actor=actor,
            milestone=milestone,
            action=MilestoneAction.CORRECTED if actual_date else MilestoneAction.WITHDRAWN,
            actual_date=actual_date,
            previous_date=previous,
            code=code,
            note=reason,
            checked=checked,
        )
        return locked, event


PROJECT_FIGURE_FIELDS = (
    "signed_investment",
    "registered_capital",
    "contracted_fdi",
    "land_area",
    "annual_output_value",
    "annual_tax",
)


def project_update_figures(
    *, project: Project, actor: Officer, reason: str, jobs: int | None = None, **figures: Any
) -> Project:
    """Correct a project's reported figures; each change is kept with who, when and why."""
    _ensure_can_work_projects(actor)
    unknown = set(figures) - set(PROJECT_FIGURE_FIELDS)
    if unknown:
        raise rule(sorted(unknown)[0], _("该字段不能在此修改。"))
    reason = require_text("reason", reason, _("修改项目数据须说明原因。"))
    with transaction.atomic(), audited(actor, reason):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        changed = []
        for field, value in figures.items():
            amount = require_amount(field, value, allow_zero=field != "signed_investment")
            if getattr(locked, field) != amount:
                setattr(locked, field, amount)
                changed.append(field)
        if jobs is not None:
            if jobs < 0:
                raise rule("jobs", _("用工人数不能为负数。"))
            locked.jobs = jobs
            changed.append("jobs")
        if "signed_investment" in changed:
            increments = locked.increments.aggregate(total=Sum("amount"))["total"] or Decimal("0")
            locked.total_investment = locked.signed_investment + increments
            changed.append("total_investment")
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        return locked


def project_record_increment(
    *,
    project: Project,
    actor: Officer,
    increased_on: date,
    amount: Any,
    contracted_fdi: Any = 0,
    note: str = "",
    lead: Lead | None = None,
) -> ProjectIncrement:
    """Record a capital increase (增资): it raises the total, never creates a second project.
    ``lead`` is the 增资扩产 lead whose signing it is (project_sign_lead passes it)."""
    _ensure_can_work_projects(actor)
    if increased_on is None:
        raise rule("increased_on", _("请填写增资日期。"))
    require_not_future("increased_on", increased_on)
    value = require_amount("amount", amount, allow_zero=False)
    fdi = require_amount("contracted_fdi", contracted_fdi)
    with transaction.atomic(), audited(actor, note or "project_record_increment"):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        if increased_on < locked.contract_date:
            raise rule("increased_on", _("增资日期不能早于签约日期。"))
        increment = ProjectIncrement.objects.create(
            project=locked,
            increased_on=increased_on,
            amount=value,
            contracted_fdi=fdi,
            note=note,
            actor=actor,
            lead=lead,
        )
        locked.total_investment += value
        locked.contracted_fdi += fdi
        locked.save(update_fields=["total_investment", "contracted_fdi", "updated_at"])
        return increment


def progress_record(
    *,
    project: Project,
    actor: Officer,
    month: date,
    agreed_investment: Any,
    paid_in: Any,
    fixed_asset_investment: Any,
    arrived_fdi: Any = 0,
    note: str = "",
) -> InvestmentProgress:
    """Report a month's investment progress (月度投资进度), figures to date; a re-entry amends it."""
    _ensure_can_work_projects(actor)
    if month is None:
        raise rule("month", _("请选择月份。"))
    month = month.replace(day=1)
    if month > today().replace(day=1):
        raise rule("month", _("不能填报未来月份的进度。"))
    values = {
        "agreed_investment": require_amount("agreed_investment", agreed_investment),
        "paid_in": require_amount("paid_in", paid_in),
        "fixed_asset_investment": require_amount("fixed_asset_investment", fixed_asset_investment),
        "arrived_fdi": require_amount("arrived_fdi", arrived_fdi),
    }
    with transaction.atomic(), audited(actor, note or "progress_record"):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        if month < locked.contract_date.replace(day=1):
            raise rule("month", _("不能填报签约之前月份的进度。"))
        progress, _created = InvestmentProgress.objects.update_or_create(
            project=locked,
            month=month,
            defaults={**values, "note": note, "reported_by": actor},
        )
        # The project's running figures follow its latest reported month.
        latest = locked.progress.order_by("-month").first()
        if latest is not None:
            locked.invested_to_date = latest.fixed_asset_investment
            locked.arrived_fdi = latest.arrived_fdi
            locked.save(update_fields=["invested_to_date", "arrived_fdi", "updated_at"])
        return progress


def _ensure_can_handle_problem(actor: Officer, problem: Problem) -> Problem:
    return lock_visible(problems_visible_to(actor), problem)


def problem_raise(
    *,
    project: Project,
    actor: Officer,
    kind: str,
    title: str,
    owner_unit: Unit,
    due_on: date,
    description: str = "",
    investor_contact: str = "",
    first_asked: Officer | None = None,
    raised_on: date | None = None,
) -> Problem:
    """Raise a problem (马上办) for an investor; whoever was asked first stays responsible (首问负责)."""
    title = require_text("title", title, _("请填写问题。"))
    require_choice("kind", kind, ProblemKind)
    raised_on = raised_on or today()
    require_not_future("raised_on", raised_on)
    if due_on is None:
        raise rule("due_on", _("请填写办结期限。"))
    if due_on < raised_on:
        raise rule("due_on", _("办结期限不能早于提出日期。"))
    with transaction.atomic(), audited(actor, "problem_raise"):
        locked = lock_visible(projects_visible_to(actor), project)
        if raised_on < locked.contract_date:
            raise rule("raised_on", _("提出日期不能早于项目签约日期。"))
        problem = Problem.objects.create(
            project=locked,
            kind=kind,
            title=title,
            description=description,
            raised_by=actor,
            raised_on=raised_on,
            investor_contact=investor_contact,
            owner_unit=owner_unit,
            first_asked=first_asked or actor,
            due_on=due_on,
            status=ProblemStatus.OPEN,
        )
        ProblemAction.objects.create(
            problem=problem,
            actor=actor,
            action=ProblemAction.Action.RAISED,
            from_status="",
            to_status=ProblemStatus.OPEN,
            note=description,
        )
        return problem


def _problem_set_status(
    *,
    problem: Problem,
    actor: Officer,
    to_status: str,
    action: str,
    note: str,
    **fields: Any,
) -> Problem:
    """The one function that changes a problem's status."""
    with transaction.atomic(), audited(actor, f"problem:{action}"):
        locked = _ensure_can_handle_problem(actor, problem)
        if to_status == ProblemStatus.RESOLVED and not permissions.may_resolve_problem(
            actor, locked
        ):
            raise PermissionDenied(_("登记问题的人不能自己办结，请由承办单位办结。"))
        resolved_on = fields.get("resolved_on")
        if resolved_on is not None and resolved_on < locked.raised_on:
            raise rule("resolved_on", _("办结日期不能早于提出日期。"))
        if not problem_can_transition(locked.status, to_status):
            raise TransitionNotAllowed(
                _("问题当前为“%(current)s”，不能执行此操作。")
                % {"current": locked.get_status_display()}
            )
        from_status = locked.status
        locked.status = to_status
        for field, value in fields.items():
            setattr(locked, field, value)
        locked.save(update_fields=["status", *fields, "updated_at"])
        ProblemAction.objects.create(
            problem=locked,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
        return locked


def problem_start(*, problem: Problem, actor: Officer, note: str = "") -> Problem:
    """The owner unit takes the problem up (开始办理)."""
    return _problem_set_status(
        problem=problem,
        actor=actor,
        to_status=ProblemStatus.IN_PROGRESS,
        action=ProblemAction.Action.STARTED,
        note=note,
    )


def problem_resolve(
    *, problem: Problem, actor: Officer, resolution: str, resolved_on: date | None = None
) -> Problem:
    """Close the problem (办结) with what was done."""
    resolution = require_text("resolution", resolution, _("办结须填写办理结果。"))
    resolved_on = resolved_on or today()
    require_not_future("resolved_on", resolved_on)
    return _problem_set_status(
        problem=problem,
        actor=actor,
        to_status=ProblemStatus.RESOLVED,
        action=ProblemAction.Action.RESOLVED,
        note=resolution,
        resolution=resolution,
        resolved_on=resolved_on,
    )


def problem_ask_again(
    *, problem: Problem, actor: Officer, note: str = "", asked_on: date | None = None
) -> Problem:
    """The investor asks a second time (两问终结): recorded once, and the problem escalates."""
    asked_on = asked_on or today()
    require_not_future("asked_on", asked_on)
    with transaction.atomic(), audited(actor, "problem_ask_again"):
        locked = _ensure_can_handle_problem(actor, problem)
        if asked_on < locked.raised_on:
            raise rule("asked_on", _("催办日期不能早于提出日期。"))
        if locked.status == ProblemStatus.RESOLVED:
            raise TransitionNotAllowed(_("问题已办结，不能再次催办。"))
        if locked.ask_count >= 2:
            raise TransitionNotAllowed(_("问题已二次催办并升级，须立即办结。"))
        locked.ask_count = 2
        locked.second_asked_on = asked_on
        locked.escalated_at = timezone.now()
        locked.save(update_fields=["ask_count", "second_asked_on", "escalated_at", "updated_at"])
        recipients = problem_escalation_recipients(locked)
        locked.escalated_to.set(recipients)
        escalated = escalation_note(recipients)
        ProblemAction.objects.create(
            problem=locked,
            actor=actor,
            action=ProblemAction.Action.ASKED_AGAIN,
            from_status=locked.status,
            to_status=locked.status,
            note=f"{note}\n{escalated}" if note else escalated,
        )
        return locked


def escalation_note(recipients: Iterable[Officer]) -> str:
    """ "已升级至：李主任、王局长" — who a second ask went to, for the record and the message."""
    names = "、".join(o.display_name for o in recipients)
    if not names:
        return str(_("已升级，但没有可通知的单位负责人或局领导。"))
    return str(_("已升级至：%(names)s。") % {"names": names})


# --- aftercare (亲商服务) ---------------------------------------------------------------------


def project_envoy_name(
    *, project: Project, actor: Officer, envoy: Officer | None, green_card: bool = False
) -> Project:
    """Name a producing enterprise's service envoy (企业服务专员) — or none — and whether it is on
    the 服务绿卡 list; who named them and when stay on the row, every change in its history."""
    _ensure_can_work_projects(actor)
    with transaction.atomic(), audited(actor, "project_envoy_name"):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        if not permissions.may_name_envoy(actor, locked):
            raise PermissionDenied(_("只有本单位负责人或局领导可以指定企业服务专员。"))
        if locked.stage != Stage.PRODUCING:
            raise rule("service_envoy", _("项目投产后才能指定企业服务专员。"))
        if envoy is not None and not (
            envoy.is_active
            and permissions.may_work_records(envoy)
            and projects_visible_to(envoy).filter(pk=locked.pk).exists()
        ):
            # The envoy must already see the enterprise: naming one grants no access.
            raise rule("service_envoy", _("企业服务专员须是能查看该项目的在职招商干部。"))
        changed = ["green_card", "updated_at"]
        if (envoy.pk if envoy else None) != locked.service_envoy_id:
            locked.service_envoy = envoy
            locked.service_envoy_named_by = actor if envoy else None
            locked.service_envoy_named_at = timezone.now() if envoy else None
            changed += ["service_envoy", "service_envoy_named_by", "service_envoy_named_at"]
        locked.green_card = bool(green_card)
        locked.save(update_fields=changed)
        return locked


def service_visit_log(
    *,
    project: Project,
    actor: Officer,
    visited_on: date,
    satisfaction: int,
    employment: int,
    has_expansion_plan: bool = False,
    expansion_amount: Any = 0,
    expansion_description: str = "",
    notes: str = "",
    problem_kind: str = "",
    problem_title: str = "",
    problem_owner_unit: Unit | None = None,
    problem_due_on: date | None = None,
    source_system: str = "",
    external_id: str = "",
) -> ServiceVisit:
    """Record a service visit (企业服务走访) with its typed answers, in one transaction: a
    problem raised goes to 马上办 (problem_raise, the visitor first asked), and an expansion
    plan becomes a 增资扩产 lead on the same investor (lead_create)."""
    _ensure_can_work_projects(actor)
    if visited_on is None:
        raise rule("visited_on", _("请填写走访日期。"))
    require_not_future("visited_on", visited_on)
    if satisfaction not in range(1, 6):
        raise rule("satisfaction", _("满意度须为 1 到 5 分。"))
    if employment is None or employment < 0:
        raise rule("employment", _("用工人数不能为负数。"))
    amount = require_amount("expansion_amount", expansion_amount or 0)
    if has_expansion_plan and amount == 0:
        raise rule("expansion_amount", _("有增资扩产计划时须填写计划增资金额。"))
    if not has_expansion_plan and amount:
        raise rule("expansion_amount", _("没有增资扩产计划时不填金额。"))
    # A problem is asked for by its title; its other fields are checked here, under the
    # visit form's names, before problem_raise checks them again under its own.
    raises_problem = bool(problem_title.strip())
    if raises_problem:
        require_choice("problem_kind", problem_kind, ProblemKind)
        if problem_due_on is None:
            raise rule("problem_due_on", _("请填写办结期限。"))
        if problem_due_on < visited_on:
            raise rule("problem_due_on", _("办结期限不能早于走访日期。"))
    elif problem_kind:
        raise rule("problem_title", _("请填写企业反映的问题。"))
    with transaction.atomic(), audited(actor, "service_visit_log"):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        if not permissions.may_log_service_visit(actor, locked):
            raise PermissionDenied(
                _("只有企业服务专员、主办人、本单位负责人或局领导可以登记服务走访。")
            )
        if locked.stage != Stage.PRODUCING:
            raise rule("visited_on", _("项目投产后才能登记企业服务走访。"))
        if locked.producing_actual and visited_on < locked.producing_actual:
            raise rule("visited_on", _("走访日期不能早于实际投产日期。"))
        problem = None
        if raises_problem:
            problem = problem_raise(
                project=locked,
                actor=actor,
                kind=problem_kind,
                title=problem_title,
                owner_unit=problem_owner_unit or locked.unit,
                due_on=problem_due_on,  # type: ignore[arg-type]  # problem_raise refuses None
                description=notes,
                raised_on=visited_on,
            )
        lead = None
        if has_expansion_plan:
            lead = lead_create(
                actor=actor,
                investor=locked.investor,
                # The lead's name is data, written in the bureau's language.
                name=f"{locked.name}增资扩产",
                industry=locked.industry,
                source_channel=SourceChannel.OTHER,
                estimated_amount=amount,
                description=expansion_description,
                unit=locked.unit,
                # No first_contact_on: the lead's contact dates follow its logged visits
                # (leads.services._refresh_lead_activity), and a service visit is not one.
                is_expansion=True,
            )
        return ServiceVisit.objects.create(
            project=locked,
            visited_on=visited_on,
            visited_by=actor,
            has_expansion_plan=has_expansion_plan,
            expansion_amount=amount,
            satisfaction=satisfaction,
            employment=employment,
            notes=notes,
            problem=problem,
            expansion_lead=lead,
            source_system=source_system,
            external_id=external_id,
        )


def project_assignment_add(
    *, actor: Officer, officer: Officer, role: str, project: Project
) -> Assignment:
    """Put an officer on a project as 主办, 协办 or 挂钩领导 (分工); a lead's team is
    leads.services.assignment_add's."""
    if role not in AssignmentRole.values:
        raise rule("role", _("请选择分工。"))
    # The same audit reason as a lead's: one kind of change in the history, whatever the record.
    with transaction.atomic(), audited(actor, "assignment_add"):
        owner = lock_visible(projects_visible_to(actor), project)
        if not permissions.may_assign(actor, owner, role=role, assignee=officer):
            raise PermissionDenied(assignment_refusal(role))
        try:
            with transaction.atomic():
                assignment = Assignment.objects.create(
                    officer=officer, project=project, role=role, assigned_by=actor
                )
        except IntegrityError as exc:
            raise rule("officer", _("该干部已有此分工，或该记录已有主办人/挂钩领导。")) from exc
        touch_row(owner)  # the project shows its assignments
        return assignment


def project_assignment_remove(*, actor: Officer, assignment: Assignment) -> None:
    """Take an officer off a project (撤销分工); the history keeps the removed row."""
    if assignment.project is None:
        raise rule("assignment", _("该分工不在项目上。"))
    with transaction.atomic(), audited(actor, "assignment_remove"):
        owner = lock_visible(projects_visible_to(actor), assignment.project)
        if not permissions.may_assign(
            actor, owner, role=assignment.role, assignee=assignment.officer
        ):
            raise PermissionDenied(assignment_refusal(assignment.role))
        Assignment.objects.filter(pk=assignment.pk).delete()
        touch_row(owner)
