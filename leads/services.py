"""Writes of the leads app. Views, API, admin actions and tasks call these; nothing else writes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from officers import permissions
from officers.choices import AssignmentRole
from officers.models import Assignment, Officer, Unit
from officers.selectors import units_visible_to
from promo.core.audit import audited
from promo.core.choices import Industry, Region
from promo.core.crypto import blind_index
from promo.core.errors import (
    Conflict,
    DuplicateInUnit,
    DuplicateSuspected,
    HeldElsewhere,
    PermissionDenied,
    RuleViolation,
    TransitionNotAllowed,
    rule,
)
from promo.core.masking import announce_reveal
from promo.core.services import (
    lock_visible,
    require_amount,
    require_choice,
    require_not_future,
    require_text,
    today,
    touch,
    touch_row,
)
from promo.core.visibility import was_found_through

from .choices import (
    REFERRAL_CHANNELS,
    AssistRequestStatus,
    ChainRole,
    ClaimOutcome,
    ClaimStatus,
    InvestorKind,
    LeadStatus,
    RejectReason,
    RewardStatus,
    SourceChannel,
    VisitKind,
    lead_can_transition,
    reward_can_transition,
)
from .models import (
    Intermediary,
    IntermediaryReward,
    IntermediaryRewardStatusEvent,
    Investor,
    InvestorContact,
    Lead,
    LeadAssistRequest,
    LeadClaim,
    LeadStatusEvent,
    PromotionEvent,
    ReferrerFeedback,
    Visit,
)
from .normalize import is_valid_credit_code, normalize_credit_code, normalize_name
from .selectors import (
    active_leads_for_investor,
    duplicate_candidates,
    intermediaries_visible_to,
    investor_find_similar,
    investors_visible_to,
    leads_visible_to,
    visits_visible_to,
)

if TYPE_CHECKING:  # for annotations only: at run time projects imports leads, not back
    pass


def _acting_unit(actor: Officer, unit: Unit | None) -> Unit:
    """The unit a new record belongs to: the one asked for if the actor may act for it."""
    if not permissions.may_hold_records(actor):
        raise PermissionDenied(_("管理员不能登记业务记录。"))
    if unit is None:
        if actor.unit is None:
            raise rule("unit", _("请选择责任单位。"))
        return actor.unit
    if not units_visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("您不能为该单位登记记录。"))
    return unit


def require_investor_in_scope(actor: Officer, investor: Investor) -> Investor:
    """An investor the actor may work on: one they see. Another unit's investor, found by a
    duplicate check, may be seen to exist but never used to log a visit, lead or project —
    the way in is a claim or a request to join as 协办. Refused as if it did not exist."""
    if investor is None:
        raise PermissionDenied(_("找不到该客商，或您无权使用该客商。"))
    if was_found_through(investor, investors_visible_to, actor):
        return investor
    if not investors_visible_to(actor).filter(pk=investor.pk).exists():
        raise PermissionDenied(_("找不到该客商，或您无权使用该客商。"))
    return investor


def _ensure_can_work_leads(actor: Officer) -> None:
    if not permissions.may_work_records(actor):
        raise PermissionDenied(_("部门信息员只能提交项目信息。"))


def investor_create(
    *,
    actor: Officer,
    name: str,
    industry: str,
    name_en: str = "",
    credit_code: str = "",
    kind: str = InvestorKind.COMPANY,
    region: str = "domestic",
    province_or_country: str = "",
    city: str = "",
    is_fortune_global_500: bool = False,
    is_china_top_500: bool = False,
    is_central_soe: bool = False,
    is_listed: bool = False,
    website: str = "",
    notes: str = "",
    unit: Unit | None = None,
    confirm_distinct: bool = False,
    source_system: str = "",
    external_id: str = "",
) -> Investor:
    """Register an investor (登记客商), refusing a likely duplicate unless the officer confirms."""
    name = require_text("name", name, _("请填写客商名称。"))
    if not normalize_name(name):
        raise rule("name", _("客商名称不能只包含公司类型或标点。"))
    code = normalize_credit_code(credit_code)
    if code and not is_valid_credit_code(code):
        raise rule("credit_code", _("统一社会信用代码格式或校验位不正确。"))
    require_choice("industry", industry, Industry)
    require_choice("region", region, Region)
    require_choice("kind", kind, InvestorKind)
    owner_unit = _acting_unit(actor, unit)
    similar = list(investor_find_similar(name=name, name_en=name_en, credit_code=code)[:5])
    candidates = duplicate_candidates(actor, similar)
    if any(code and inv.credit_code == code for inv in similar):
        # A matching credit code is the same legal person: never a second record.
        raise DuplicateSuspected(
            _("该统一社会信用代码已登记，请选用已有客商。"),
            field_errors={"credit_code": [_("该统一社会信用代码已登记。")]},
            extra={"candidates": candidates},
        )
    normalized = normalize_name(name)
    if any(inv.normalized_name == normalized and inv.credit_code == code for inv in similar):
        # Same name and no code to tell them apart: confirming cannot make them different.
        raise DuplicateSuspected(
            _("已有同名客商。如确为不同企业，请填写统一社会信用代码以示区分。"),
            field_errors={"credit_code": [_("同名客商须以统一社会信用代码区分。")]},
            extra={"candidates": candidates},
        )
    if similar and not confirm_distinct:
        raise DuplicateSuspected(
            _("已存在相同或相近的客商，请选用已有客商。"), extra={"candidates": candidates}
        )
    with transaction.atomic(), audited(actor, "investor_create"):
        try:
            with transaction.atomic():
                return Investor.objects.create(
                    name=name,
                    name_en=name_en.strip(),
                    credit_code=code,
                    kind=kind,
                    region=region,
                    province_or_country=province_or_country,
                    city=city,
                    industry=industry,
                    is_fortune_global_500=is_fortune_global_500,
                    is_china_top_500=is_china_top_500,
                    is_central_soe=is_central_soe,
                    is_listed=is_listed,
                    website=website,
                    notes=notes,
                    unit=owner_unit,
                    created_by=actor,
                    source_system=source_system,
                    external_id=external_id,
                )
        except IntegrityError as exc:
            # Another officer registered the same company a moment ago.
            raise DuplicateSuspected(_("已存在相同的客商，请选用已有客商。")) from exc


INVESTOR_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "name_en",
        "credit_code",
        "kind",
        "region",
        "province_or_country",
        "city",
        "industry",
        "is_fortune_global_500",
        "is_china_top_500",
        "is_central_soe",
        "is_listed",
        "website",
        "notes",
    }
)


def investor_update(
    *, actor: Officer, investor: Investor, reason: str = "", **changes: Any
) -> Investor:
    """Edit an investor's details; the history keeps old and new values."""
    unknown = set(changes) - INVESTOR_EDITABLE_FIELDS
    if unknown:
        raise rule(sorted(unknown)[0], _("该字段不能修改。"))
    with transaction.atomic(), audited(actor, reason or "investor_update"):
        locked = lock_visible(investors_visible_to(actor), investor)
        old_name = locked.name
        if "name" in changes:
            changes["name"] = require_text("name", changes["name"], _("请填写客商名称。"))
        if "credit_code" in changes:
            code = normalize_credit_code(changes["credit_code"])
            if code and not is_valid_credit_code(code):
                raise rule("credit_code", _("统一社会信用代码格式或校验位不正确。"))
            changes["credit_code"] = code
        for field, value in changes.items():
            setattr(locked, field, value)
        renamed = "name" in changes and changes["name"] != old_name
        try:
            with transaction.atomic():
                locked.save(update_fields=[*changes, "updated_at"])
        except IntegrityError as exc:
            raise DuplicateSuspected(_("修改后与已有客商重复。")) from exc
        if renamed:
            # Leads, visits and projects show the investor's name: their versions move too.
            touch(locked.leads.all(), locked.visits.all(), locked.projects.all())
        return locked


CONTACT_FIELDS = ("name", "title", "phone", "email", "wechat", "note", "is_primary")
# Loose on purpose: officers type numbers as they were given (座机 with area code and
# extension, +86, spaces); only letters and other signs are refused.
_PHONE = re.compile(r"^[0-9+\-\s]*$")


def _clean_contact(fields: dict[str, Any]) -> dict[str, Any]:
    """The contact's fields checked and trimmed; a RuleViolation names the first bad field."""
    clean = {
        key: (value.strip() if isinstance(value, str) else value) for key, value in fields.items()
    }
    if "name" in clean:
        clean["name"] = require_text("name", clean["name"], _("请填写联系人姓名。"))
    limits = {"name": 50, "title": 50, "phone": 40, "wechat": 50, "email": 254}
    for key, limit in limits.items():
        if len(clean.get(key) or "") > limit:
            raise rule(key, _("不能超过 %(limit)s 个字符。") % {"limit": limit})
    phone = clean.get("phone") or ""
    if phone and (not _PHONE.match(phone) or not any(ch.isdigit() for ch in phone)):
        raise rule("phone", _("电话只能包含数字、“+”、“-”和空格。"))
    email = clean.get("email") or ""
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise rule("email", _("请输入有效的邮箱地址。")) from exc
    if "is_primary" in clean:
        clean["is_primary"] = bool(clean["is_primary"])
    for key in ("title", "phone", "email", "wechat", "note"):
        if key in clean and clean[key] is None:
            clean[key] = ""
    return clean


def _lock_investor_for_contacts(actor: Officer, investor: Investor) -> Investor:
    locked = lock_visible(investors_visible_to(actor), investor)
    if not permissions.may_edit_investor_contacts(actor, locked):
        raise PermissionDenied(_("只有客商登记单位和跟进该客商的干部可以维护联系人。"))
    return locked


def _refuse_duplicate_contact(
    investor: Investor, clean: dict[str, Any], exclude_pk: int | None = None
) -> None:
    """One current contact per phone number (and per e-mail) at an investor: the same person
    entered twice is refused, naming who holds it (matched by blind index)."""
    for name in ("phone", "email"):
        if not clean.get(name):
            continue
        same = contacts_matching(investor=investor, exclude_pk=exclude_pk, **{name: clean[name]})
        if same:
            raise rule(
                name,
                _("该客商的联系人“%(name)s”已使用这个号码或邮箱。") % {"name": same[0].name},
            )


def _only_primary(contact: InvestorContact) -> None:
    """One primary contact per investor: naming one unmarks the others."""
    if contact.is_primary:
        InvestorContact.objects.filter(investor_id=contact.investor_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False, updated_at=timezone.now())


def contact_add(
    *,
    actor: Officer,
    investor: Investor,
    name: str,
    title: str = "",
    phone: str = "",
    email: str = "",
    wechat: str = "",
    note: str = "",
    is_primary: bool = False,
) -> InvestorContact:
    """Add a contact (联系人) to an investor; the history records who added it."""
    clean = _clean_contact(
        {
            "name": name,
            "title": title,
            "phone": phone,
            "email": email,
            "wechat": wechat,
            "note": note,
            "is_primary": is_primary,
        }
    )
    with transaction.atomic(), audited(actor, "contact_add"):
        locked = _lock_investor_for_contacts(actor, investor)
        _refuse_duplicate_contact(locked, clean)
        contact = InvestorContact.objects.create(investor=locked, created_by=actor, **clean)
        _only_primary(contact)
        touch_row(locked)  # the investor's representation lists its contacts
        return contact


def _lock_contact(actor: Officer, contact: InvestorContact) -> InvestorContact:
    locked = (
        InvestorContact.objects.select_for_update()
        .filter(pk=contact.pk, is_archived=False)
        .select_related("investor")
        .first()
    )
    if locked is None:
        raise PermissionDenied(_("找不到该联系人。"))
    locked.investor = _lock_investor_for_contacts(actor, locked.investor)
    return locked


def contact_update(
    *, actor: Officer, contact: InvestorContact, changes: dict[str, Any]
) -> InvestorContact:
    """Change a contact's details; only the fields that really change are saved, and the
    history keeps old and new values."""
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise rule(sorted(unknown)[0], _("该字段不能修改。"))
    wanted = _clean_contact(dict(changes))
    with transaction.atomic(), audited(actor, "contact_update"):
        locked = _lock_contact(actor, contact)
        changed = _apply_changes(locked, wanted)
        if changed:
            _refuse_duplicate_contact(locked.investor, wanted, exclude_pk=locked.pk)
            locked.updated_at = timezone.now()
            locked.save(update_fields=[*changed, "updated_at"])
            _only_primary(locked)
            touch_row(locked.investor)
        return locked


# --- personal data shown in full (个人信息, issue #16) ----------------------------------------

REVEAL_REASON_MAX = 200


def _reveal_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise rule("reason", _("请说明查看完整联系方式的事由。"))
    if len(reason) > REVEAL_REASON_MAX:
        raise rule("reason", _("不能超过 %(limit)s 个字符。") % {"limit": REVEAL_REASON_MAX})
    return reason


def contact_reveal(
    *, actor: Officer, contact: InvestorContact, reason: str, request: Any = None
) -> InvestorContact:
    """Show a contact's phone number, e-mail and WeChat id in full to ``actor``, who must have
    a need (``may_reveal_contact_details``) and say why; each field shown is announced
    (``personal_data_revealed``) and logged. A refusal announces nothing and changes nothing."""
    if not permissions.may_reveal_contact_details(actor, contact):
        raise PermissionDenied(_("只有可以维护该客商联系人的干部可以查看完整联系方式。"))
    why = _reveal_reason(reason)
    announce_reveal(
        officer=actor, obj=contact, fields=("phone", "email", "wechat"), reason=why, request=request
    )
    return contact


def intermediary_reveal(
    *, actor: Officer, intermediary: Intermediary, reason: str, request: Any = None
) -> Intermediary:
    """Show an intermediary's phone number and e-mail in full to an officer of its unit
    (``may_reveal_intermediary_details``) who says why; announced and logged as above."""
    if not permissions.may_reveal_intermediary_details(actor, intermediary):
        raise PermissionDenied(_("只有中介人登记单位的干部可以查看完整联系方式。"))
    why = _reveal_reason(reason)
    announce_reveal(
        officer=actor, obj=intermediary, fields=("phone", "email"), reason=why, request=request
    )
    return intermediary


def contacts_matching(
    *, investor: Investor, phone: str = "", email: str = "", exclude_pk: int | None = None
) -> list[InvestorContact]:
    """The investor's current contacts with the same phone number or e-mail (duplicates),
    matched through the blind index: no value is decrypted to compare."""
    keys = Q(pk__in=[])
    if blind_index("phone", phone):
        keys |= Q(phone_index=blind_index("phone", phone))
    if blind_index("email", email):
        keys |= Q(email_index=blind_index("email", email))
    qs = InvestorContact.objects.filter(keys, investor=investor, is_archived=False)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.order_by("pk"))


def intermediaries_matching(
    *, actor: Officer, phone: str = "", email: str = ""
) -> list[Intermediary]:
    """Intermediaries the officer sees with the same phone number or e-mail (a broker
    registered twice), through the blind index."""
    keys = Q(pk__in=[])
    if blind_index("phone", phone):
        keys |= Q(phone_index=blind_index("phone", phone))
    if blind_index("email", email):
        keys |= Q(email_index=blind_index("email", email))
    return list(intermediaries_visible_to(actor).filter(keys).order_by("pk"))


def contact_remove(*, actor: Officer, contact: InvestorContact) -> InvestorContact:
    """Remove a contact from the investor's page (离职、换人): archived, never deleted — the
    history keeps every version."""
    with transaction.atomic(), audited(actor, "contact_remove"):
        locked = _lock_contact(actor, contact)
        locked.is_archived = True
        locked.is_primary = False
        locked.updated_at = timezone.now()
        locked.save(update_fields=["is_archived", "is_primary", "updated_at"])
        touch_row(locked.investor)
        return locked


def lead_create(
    *,
    actor: Officer,
    investor: Investor,
    name: str,
    industry: str,
    source_channel: str,
    chain_role: str = ChainRole.NONE,
    estimated_amount: Any = 0,
    estimated_fdi: Any = 0,
    description: str = "",
    unit: Unit | None = None,
    intermediary: Intermediary | None = None,
    event: PromotionEvent | None = None,
    first_contact_on: date | None = None,
    source_system: str = "",
    external_id: str = "",
    confirm_duplicate: int | None = None,
    is_expansion: bool = False,
) -> Lead:
    """Register a lead (登记项目信息) in status 信息, with the actor as 主办.

    ``is_expansion`` marks a 增资扩产 lead (projects.services.service_visit_log registers it).

    防撞单 refuses it while another unit follows the investor; a second open lead of the
    same unit on the investor needs ``confirm_duplicate``, the id of that unit's newest open
    lead on it, which the new lead records as ``duplicate_of`` (decision 0013).
    """
    name = require_text("name", name, _("请填写项目名称。"))
    amount = require_amount("estimated_amount", estimated_amount)
    fdi = require_amount("estimated_fdi", estimated_fdi)
    require_not_future("first_contact_on", first_contact_on)
    if source_channel not in SourceChannel.values:
        raise rule("source_channel", _("请选择信息来源。"))
    require_choice("industry", industry, Industry)
    require_choice("chain_role", chain_role, ChainRole)
    if source_channel == SourceChannel.INTERMEDIARY and intermediary is None:
        raise rule("intermediary", _("中介招商的项目信息须注明中介人。"))
    owner_unit = _acting_unit(actor, unit)
    require_investor_in_scope(actor, investor)
    with transaction.atomic(), audited(actor, "lead_create"):
        # Lock the investor row: every lead registered on one investor queues here, so the
        # checks below see the lead a concurrent registration has just committed.
        Investor.objects.select_for_update().filter(pk=investor.pk).first()
        _refuse_if_held_elsewhere(investor, owner_unit)
        duplicate_of = _require_duplicate_confirmed(investor, owner_unit, confirm_duplicate)
        lead = Lead.objects.create(
            duplicate_of=duplicate_of,
            name=name,
            investor=investor,
            unit=owner_unit,
            created_by=actor,
            industry=industry,
            chain_role=chain_role,
            estimated_amount=amount,
            estimated_fdi=fdi,
            source_channel=source_channel,
            intermediary=intermediary,
            event=event,
            description=description,
            status=LeadStatus.INFORMATION,
            status_changed_at=timezone.now(),
            first_contact_on=first_contact_on,
            last_activity_on=first_contact_on,
            source_system=source_system,
            external_id=external_id,
            is_expansion=is_expansion,
        )
        LeadStatusEvent.objects.create(
            lead=lead, actor=actor, from_status="", to_status=LeadStatus.INFORMATION
        )
        # The officer who registers a lead of their own unit follows it (主办) — unless they
        # only submit leads (a department submitter): the unit's head names its 主办.
        if actor.unit_id == owner_unit.pk and permissions.may_work_records(actor):
            Assignment.objects.create(
                officer=actor, lead=lead, role=AssignmentRole.LEAD, assigned_by=actor
            )
        return lead


_STATUS_DATE_FIELD: dict[str, str] = {
    LeadStatus.VALID: "qualified_on",
    LeadStatus.NEGOTIATING: "negotiating_on",
    LeadStatus.SIGNED: "signed_on",
    LeadStatus.DROPPED: "closed_on",
    LeadStatus.REJECTED: "closed_on",
}


def lead_transition(
    *,
    lead: Lead,
    actor: Officer,
    to_status: str,
    reason: str = "",
    reject_reason: str = "",
    note: str = "",
    on_date: date | None = None,
) -> Lead:
    """The one function that changes a lead's status (状态流转).

    Locks the row, checks LEAD_TRANSITIONS, writes the status and its date, and appends a
    LeadStatusEvent in the same transaction. Signing is done by projects.services.project_sign_lead,
    which calls this inside its own transaction so the project and the status land together.
    """
    _ensure_can_work_leads(actor)
    if to_status not in LeadStatus.values:
        raise rule("to_status", _("未知的状态。"))
    on_date = on_date or today()
    require_not_future("on_date", on_date)
    with transaction.atomic(), audited(actor, reason or f"lead_transition:{to_status}"):
        locked: Lead = lock_visible(leads_visible_to(actor), lead)
        if not permissions.may_change_lead_status(actor, locked):
            raise PermissionDenied(_("只有该项目信息所在单位的干部或局领导可以变更其状态。"))
        if not lead_can_transition(locked.status, to_status):
            raise TransitionNotAllowed(
                _("项目信息当前为“%(current)s”，不能变更为“%(target)s”。")
                % {
                    "current": locked.get_status_display(),
                    "target": LeadStatus(to_status).label,
                },
                extra={"status": locked.status, "allowed": sorted(_allowed(locked.status))},
            )
        earlier = [d for d in (locked.qualified_on, locked.negotiating_on) if d is not None]
        if earlier and on_date < max(earlier):
            raise rule(
                "on_date",
                _("状态日期不能早于上一状态的日期（%(date)s）。") % {"date": max(earlier)},
            )
        update_fields = ["status", "status_changed_at", "updated_at"]
        if to_status == LeadStatus.DROPPED:
            locked.drop_reason = require_text("reason", reason, _("放弃项目信息须说明原因。"))
            update_fields.append("drop_reason")
        if to_status == LeadStatus.REJECTED:
            if reject_reason not in RejectReason.values:
                raise rule("reject_reason", _("否决项目信息须选择否决原因。"))
            locked.reject_reason = reject_reason
            update_fields.append("reject_reason")
        date_field = _STATUS_DATE_FIELD[to_status]
        setattr(locked, date_field, on_date)
        update_fields.append(date_field)
        from_status = locked.status
        locked.status = to_status
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=update_fields)
        LeadStatusEvent.objects.create(
            lead=locked,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            reason=reason or (str(RejectReason(reject_reason).label) if reject_reason else ""),
            note=note,
        )
        return locked


def _allowed(status: str) -> set[str]:
    from .choices import LEAD_TRANSITIONS

    return set(LEAD_TRANSITIONS[status])


def lead_qualify(*, lead: Lead, actor: Officer, note: str = "") -> Lead:
    """信息 → 有效: the lead is real and worth following."""
    return lead_transition(lead=lead, actor=actor, to_status=LeadStatus.VALID, note=note)


def lead_start_negotiation(*, lead: Lead, actor: Officer, note: str = "") -> Lead:
    """有效 → 在谈: talks with the investor have begun."""
    return lead_transition(lead=lead, actor=actor, to_status=LeadStatus.NEGOTIATING, note=note)


def lead_drop(*, lead: Lead, actor: Officer, reason: str, note: str = "") -> Lead:
    """→ 放弃: the bureau stops following the lead; the reason is kept."""
    return lead_transition(
        lead=lead, actor=actor, to_status=LeadStatus.DROPPED, reason=reason, note=note
    )


def lead_reject(*, lead: Lead, actor: Officer, reject_reason: str, note: str = "") -> Lead:
    """→ 否决: the lead fails a screening red line (环评安评, 产业政策, 重复建设, 跑马圈地)."""
    return lead_transition(
        lead=lead,
        actor=actor,
        to_status=LeadStatus.REJECTED,
        reject_reason=reject_reason,
        note=note,
    )


def referrer_feedback_record(*, lead: Lead, actor: Officer, note: str) -> ReferrerFeedback:
    """Record feedback to the referrer (反馈引荐人): the enquiry clock's step nothing else shows.

    Only for a lead that came through a referrer (an intermediary named, or a referral
    channel). The row is the event: who, when (the moment it is written, not a date typed in)
    and what was said; append-only, so a later feedback adds a row and the first one stands.
    """
    _ensure_can_work_leads(actor)
    note = require_text("note", note, _("请填写反馈内容。"))
    with transaction.atomic(), audited(actor, "referrer_feedback_record"):
        # Lock the lead: its clock reads these rows, and a second tap waits for the first.
        locked: Lead = lock_visible(leads_visible_to(actor), lead)
        if not permissions.may_give_referrer_feedback(actor, locked):
            raise PermissionDenied(_("只有该项目信息所在单位的干部或局领导可以登记引荐人反馈。"))
        if locked.intermediary_id is None and locked.source_channel not in REFERRAL_CHANNELS:
            # Not the note's fault: a refusal of the whole request (no referrer to tell).
            raise RuleViolation(_("该项目信息没有引荐人，无需反馈。"))
        return ReferrerFeedback.objects.create(lead=locked, actor=actor, note=note)


def visit_log(
    *,
    actor: Officer,
    kind: str,
    visited_on: date,
    investor: Investor,
    summary: str,
    lead: Lead | None = None,
    officers: Iterable[Officer] = (),
    city: str = "",
    next_step: str = "",
    next_step_due: date | None = None,
    event: PromotionEvent | None = None,
    source_system: str = "",
    external_id: str = "",
) -> Visit:
    """Log a visit (登记走访): who met which investor, when, about what, and what comes next."""
    _ensure_can_work_leads(actor)
    if kind not in VisitKind.values:
        raise rule("kind", _("请选择走访类型。"))
    if visited_on is None:
        raise rule("visited_on", _("请填写日期。"))
    require_not_future("visited_on", visited_on)
    summary = require_text("summary", summary, _("请填写洽谈内容。"))
    _require_next_step(next_step, next_step_due, visited_on)
    if actor.unit is None:
        raise rule("unit", _("您尚未分配单位，不能登记走访。"))
    if lead is not None and lead.investor_id != investor.pk:
        raise rule("lead", _("所选项目信息不属于该客商。"))
    require_investor_in_scope(actor, investor)
    with transaction.atomic(), audited(actor, "visit_log"):
        if lead is not None:
            # Lock the lead: its activity dates are updated from this visit.
            lead = lock_visible(leads_visible_to(actor), lead)
        visit = Visit.objects.create(
            kind=kind,
            visited_on=visited_on,
            investor=investor,
            lead=lead,
            event=event,
            unit=actor.unit,
            created_by=actor,
            city=city,
            summary=summary,
            next_step=(next_step or "").strip(),
            next_step_due=next_step_due,
            source_system=source_system,
            external_id=external_id,
        )
        # A new visit has no officers yet: add, not set (set reads the current ones first).
        visit.officers.add(*{actor.pk, *(o.pk for o in officers)})
        if lead is not None:
            _refresh_lead_activity(lead)
        return visit


def _require_next_step(next_step: str, next_step_due: date | None, visited_on: date) -> None:
    """A due date needs a next step, and cannot come before the visit."""
    if next_step_due is not None:
        if not (next_step or "").strip():
            raise rule("next_step", _("设置了期限，请填写下一步工作。"))
        if next_step_due < visited_on:
            raise rule("next_step_due", _("下一步期限不能早于走访日期。"))


def _earliest(*dates: date | None) -> date | None:
    known = [d for d in dates if d is not None]
    return min(known) if known else None


def _latest(*dates: date | None) -> date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def _refresh_lead_activity(lead: Lead) -> None:
    """Recompute a lead's first contact, first site inspection and last activity from its visits."""
    figures = lead.visits.aggregate(
        first=Min("visited_on"),
        last=Max("visited_on"),
        first_inspection=Min("visited_on", filter=Q(kind=VisitKind.INSPECTION)),
    )
    wanted = {
        "first_contact_on": _earliest(figures["first"], lead.first_contact_on),
        "first_inspection_on": figures["first_inspection"],
        "last_activity_on": _latest(figures["last"], lead.last_activity_on),
    }
    changed = [field for field, value in wanted.items() if getattr(lead, field) != value]
    for field in changed:
        setattr(lead, field, wanted[field])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])


def assignment_add(*, actor: Officer, officer: Officer, role: str, lead: Lead) -> Assignment:
    """Put an officer on a lead as 主办 or 协办 (分工); a project's team is
    projects.services.project_assignment_add's."""
    if role not in AssignmentRole.values:
        raise rule("role", _("请选择分工。"))
    if role == AssignmentRole.LEADER:
        raise rule("role", _("挂钩领导只能分派到项目。"))
    with transaction.atomic(), audited(actor, "assignment_add"):
        owner = lock_visible(leads_visible_to(actor), lead)
        if not permissions.may_assign(actor, owner, role=role, assignee=officer):
            raise PermissionDenied(assignment_refusal(role))
        try:
            with transaction.atomic():
                assignment = Assignment.objects.create(
                    officer=officer, lead=lead, role=role, assigned_by=actor
                )
        except IntegrityError as exc:
            raise rule("officer", _("该干部已有此分工，或该记录已有主办人/挂钩领导。")) from exc
        touch_row(owner)  # the lead shows its assignments
        return assignment


def assignment_remove(*, actor: Officer, assignment: Assignment) -> None:
    """Take an officer off a lead (撤销分工); the history keeps the removed row. A project's
    team: projects.services.project_assignment_remove."""
    if assignment.lead is None:
        raise rule("assignment", _("该分工不在项目信息上。"))
    with transaction.atomic(), audited(actor, "assignment_remove"):
        owner = lock_visible(leads_visible_to(actor), assignment.lead)
        # Whoever may give a role may take it back; nobody else (credit follows the 主办).
        if not permissions.may_assign(
            actor, owner, role=assignment.role, assignee=assignment.officer
        ):
            raise PermissionDenied(assignment_refusal(assignment.role))
        Assignment.objects.filter(pk=assignment.pk).delete()
        touch_row(owner)


def assignment_refusal(role: str) -> Any:
    if role == AssignmentRole.LEADER:
        return _("只有局领导或本单位负责人可以设置挂钩领导。")
    if role == AssignmentRole.LEAD:
        return _("主办人须由本单位负责人或局领导指定，且不能指定本人。")
    return _("只有主办人、本单位负责人或局领导可以安排协办。")


def refresh_all_lead_activity() -> int:
    """Recompute activity dates of every open lead (nightly safety net). Returns rows changed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE leads_lead AS l
               SET last_activity_on = v.last_on, updated_at = now()
              FROM (SELECT lead_id, max(visited_on) AS last_on
                      FROM leads_visit WHERE lead_id IS NOT NULL GROUP BY lead_id) AS v
             WHERE v.lead_id = l.id
               AND l.last_activity_on IS DISTINCT FROM v.last_on
               AND (l.last_activity_on IS NULL OR l.last_activity_on < v.last_on)
            """
        )
        return int(cursor.rowcount)


def _refuse_if_held_elsewhere(investor: Investor, unit: Unit) -> None:
    """防撞单: no second lead while another unit actively follows the same investor.

    The officer may join that lead as 协办 or file a claim; a claim settled as "different
    projects" (SEPARATE) lets the claiming unit register its own lead.
    """
    # The caller holds the investor's row lock: two units registering it at once queue.
    cleared = LeadClaim.objects.filter(
        lead__investor=investor,
        claimant_unit=unit,
        status=ClaimStatus.RESOLVED,
        outcome=ClaimOutcome.SEPARATE,
    ).values("lead_id")
    held = [
        lead
        for lead in active_leads_for_investor(investor).exclude(pk__in=cleared)
        if lead.unit_id != unit.pk
    ]
    if held:
        raise HeldElsewhere(
            _("%(unit)s 自 %(since)s 起已在跟进该客商的项目信息，可申请协办或提出撞单协调。")
            % {
                "unit": held[0].unit.name,
                "since": date_format(timezone.localdate(held[0].created_at), "SHORT_DATE_FORMAT"),
            },
            extra={
                "holders": [
                    {
                        "lead": lead.pk,
                        "lead_name": lead.name,
                        "unit": lead.unit.name,
                        "since": timezone.localdate(lead.created_at).isoformat(),
                        "registered_by": lead.created_by.display_name,
                        "status": lead.status,
                    }
                    for lead in held
                ]
            },
        )


def _require_duplicate_confirmed(
    investor: Investor, unit: Unit, confirm_duplicate: int | None
) -> Lead | None:
    """Same-unit duplicates: a second open lead of one unit on one investor must name the
    unit's newest open lead on it (``confirm_duplicate``); returns that lead, or None when
    the unit has none. A confirmation naming any other lead — one closed or overtaken since
    the officer was asked — is refused again with the lead to confirm now.

    The caller holds the investor's row lock, so five officers of one unit racing on one
    investor queue here and all but the first are asked to confirm.
    """
    newest = (
        active_leads_for_investor(investor)
        .filter(unit=unit)
        .select_related("unit", "created_by")
        .order_by("-created_at", "-pk")
        .first()
    )
    if newest is None:
        return None
    if confirm_duplicate is not None and str(confirm_duplicate) == str(newest.pk):
        return newest
    holder = (
        Assignment.objects.filter(lead=newest, role=AssignmentRole.LEAD)
        .select_related("officer")
        .first()
    )
    holder_name = holder.officer.display_name if holder else newest.created_by.display_name
    values = {
        "pk": newest.pk,
        "name": newest.name,
        "holder": holder_name,
        "status": newest.get_status_display(),
    }
    if confirm_duplicate is None:
        message = (
            _(
                "本单位已有该投资方的项目信息“%(name)s”（编号 %(pk)s，%(holder)s 跟进，"
                "%(status)s）。如是同一项目，请在该项目信息上跟进；确属另一个项目的，"
                "请确认后再登记。"
            )
            % values
        )
    else:
        message = (
            _(
                "您确认的项目信息已不是本单位在该投资方最新的在跟进项目信息；现有"
                "“%(name)s”（编号 %(pk)s，%(holder)s 跟进，%(status)s），请重新确认。"
            )
            % values
        )
    raise DuplicateInUnit(
        message,
        field_errors={"confirm_duplicate": [message]},
        extra={
            "lead": newest.pk,
            "lead_name": newest.name,
            "unit": newest.unit.name,
            "holder": holder_name,
            "status": newest.status,
            "since": timezone.localdate(newest.created_at).isoformat(),
        },
    )


def _lock_open_lead(lead: Lead, actor: Officer | None = None, *, named: bool = False) -> Lead:
    """Lock a lead for a cross-unit action; the actor need not see the lead yet (that is the
    point), but must know its investor — so no officer can join any lead in the bureau.

    ``named``: the actor does not see the investor but named it, and the duplicate check
    found it by that name (the caller checked): they know it as well as the check told them.
    """
    locked = Lead.objects.select_for_update().filter(pk=lead.pk).first()
    if locked is None:
        raise PermissionDenied()
    if (
        actor is not None
        and not named
        and not investors_visible_to(actor).filter(pk=locked.investor_id).exists()
    ):
        raise PermissionDenied()
    if not locked.is_open:
        raise TransitionNotAllowed(_("该项目信息已结束跟进。"))
    return locked


def _names_investor(investor_id: int, *, name: str, name_en: str, credit_code: str) -> bool:
    """The duplicate check (客商查重) finds this investor by the names the officer typed."""
    return (
        investor_find_similar(name=name, name_en=name_en, credit_code=credit_code)
        .filter(pk=investor_id)
        .exists()
    )


def lead_assist_request(
    *,
    lead: Lead,
    actor: Officer,
    known_name: str = "",
    known_name_en: str = "",
    known_credit_code: str = "",
) -> LeadAssistRequest:
    """Ask to join another unit's lead as 协办 (申请协办) instead of registering a second one.

    Nothing is granted yet: the holding unit's head (or a 局领导) decides, and the lead's
    主办 is named on the request so they see who asked. Asking twice returns the open request.

    The actor must know the lead's investor: see it, or name it — the name (English name,
    credit code) they typed, by which the duplicate check showed them another unit's
    investor and its open leads. A lead id alone is refused as if it did not exist.
    """
    _ensure_can_work_leads(actor)
    named = _names_investor(
        lead.investor_id, name=known_name, name_en=known_name_en, credit_code=known_credit_code
    )
    with transaction.atomic(), audited(actor, "lead_assist_request"):
        locked = _lock_open_lead(lead, actor, named=named)
        if Assignment.objects.filter(lead=locked, officer=actor).exists():
            raise Conflict(_("您已在该项目信息的分工中。"))
        existing = LeadAssistRequest.objects.filter(
            lead=locked, requester=actor, status=AssistRequestStatus.OPEN
        ).first()
        if existing is not None:
            return existing
        return LeadAssistRequest.objects.create(
            lead=locked, requester=actor, notified_id=permissions.lead_officer_id(locked)
        )


def lead_assist_decide(
    *, request: LeadAssistRequest, actor: Officer, approve: bool
) -> LeadAssistRequest:
    """The holding unit's head or a 局领导 approves (the requester joins as 协办) or refuses."""
    with transaction.atomic(), audited(actor, "lead_assist_decide"):
        locked = (
            LeadAssistRequest.objects.select_for_update()
            .select_related("lead")
            .filter(pk=request.pk)
            .first()
        )
        if locked is None or not permissions.may_decide_assist_request(actor, locked):
            raise PermissionDenied(_("只有该项目信息所在单位的负责人或局领导可以审批协办申请。"))
        if approve:
            lead = _lock_open_lead(locked.lead)
            Assignment.objects.get_or_create(
                officer=locked.requester,
                lead=lead,
                defaults={"role": AssignmentRole.ASSISTING, "assigned_by": actor},
            )
            touch_row(lead)  # the lead shows its assignments
        locked.status = AssistRequestStatus.APPROVED if approve else AssistRequestStatus.REFUSED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        return locked


def assist_request_mark_read(*, request: LeadAssistRequest, actor: Officer) -> None:
    """The 主办 has read the notice of a request on their lead."""
    LeadAssistRequest.objects.filter(
        pk=request.pk, notified=actor, notice_read_at__isnull=True
    ).update(notice_read_at=timezone.now())


def lead_claim_file(*, lead: Lead, actor: Officer, reason: str) -> LeadClaim:
    """File a claim (撞单协调) that the two units' heads settle."""
    _ensure_can_work_leads(actor)
    reason = require_text("reason", reason, _("请说明申请理由。"))
    if actor.unit is None:
        raise rule("unit", _("您尚未分配单位。"))
    with transaction.atomic(), audited(actor, "lead_claim_file"):
        locked = _lock_open_lead(lead, actor)
        if locked.unit_id == actor.unit_id:
            raise rule("lead", _("该项目信息已由本单位跟进。"))
        try:
            with transaction.atomic():
                return LeadClaim.objects.create(
                    lead=locked,
                    claimant=actor,
                    claimant_unit=actor.unit,
                    holder_unit=locked.unit,
                    reason=reason,
                )
        except IntegrityError as exc:
            raise Conflict(_("本单位对该项目信息已有待协调的申请。")) from exc


def lead_claim_decide(
    *, claim: LeadClaim, actor: Officer, outcome: str, note: str = ""
) -> LeadClaim:
    """A unit head records their side's decision; agreement (or a chief) settles the claim."""
    require_choice("outcome", outcome, ClaimOutcome)
    with transaction.atomic(), audited(actor, note or "lead_claim_decide"):
        locked = LeadClaim.objects.select_for_update().filter(pk=claim.pk).first()
        if locked is None:
            raise PermissionDenied()
        if locked.status != ClaimStatus.OPEN:
            raise TransitionNotAllowed(_("该申请已协调完毕或已撤回。"))
        if not permissions.may_decide_claim(actor, locked):
            raise PermissionDenied(_("只有双方单位负责人或局领导可以协调撞单。"))
        changed = []
        if permissions.is_bureau_wide(actor):
            final = outcome
        elif actor.unit_id == locked.holder_unit_id:
            locked.holder_decision = outcome
            changed.append("holder_decision")
        else:
            locked.claimant_decision = outcome
            changed.append("claimant_decision")
        if changed:
            agreed = locked.holder_decision and locked.holder_decision == locked.claimant_decision
            final = locked.holder_decision if agreed else ""
        if note:
            locked.note = note
            changed.append("note")
        if final:
            _apply_claim_outcome(locked, final, actor)
            locked.status = ClaimStatus.RESOLVED
            locked.outcome = final
            locked.decided_by = actor
            locked.decided_at = timezone.now()
            changed += ["status", "outcome", "decided_by", "decided_at"]
        locked.save(update_fields=changed)
        return locked


def _apply_claim_outcome(claim: LeadClaim, outcome: str, actor: Officer) -> None:
    if outcome in (ClaimOutcome.SEPARATE, ClaimOutcome.REFUSE):
        return
    lead = _lock_open_lead(claim.lead)
    if outcome == ClaimOutcome.ASSIST:
        _, created = Assignment.objects.get_or_create(
            officer=claim.claimant,
            lead=lead,
            defaults={"role": AssignmentRole.ASSISTING, "assigned_by": actor},
        )
        if created:
            touch_row(lead)
        return
    # TRANSFER: the claiming unit owns the lead; the former 主办 stays on as 协办.
    Assignment.objects.filter(lead=lead, role=AssignmentRole.LEAD).update(
        role=AssignmentRole.ASSISTING
    )
    Assignment.objects.filter(lead=lead, officer=claim.claimant).delete()
    Assignment.objects.create(
        officer=claim.claimant, lead=lead, role=AssignmentRole.LEAD, assigned_by=actor
    )
    lead.unit = claim.claimant_unit
    lead.save(update_fields=["unit", "updated_at"])


def lead_claim_withdraw(*, claim: LeadClaim, actor: Officer) -> LeadClaim:
    """The claimant takes the claim back."""
    with transaction.atomic(), audited(actor, "lead_claim_withdraw"):
        locked = LeadClaim.objects.select_for_update().filter(pk=claim.pk).first()
        if locked is None or locked.claimant_id != actor.pk:
            raise PermissionDenied()
        if locked.status != ClaimStatus.OPEN:
            raise TransitionNotAllowed(_("该申请已协调完毕或已撤回。"))
        locked.status = ClaimStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        return locked


# --- edits of a lead's or a visit's own fields (used by the ledger re-import) ------------

LEAD_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "industry",
        "chain_role",
        "estimated_amount",
        "estimated_fdi",
        "source_channel",
        "description",
    }
)


def _apply_changes(locked: Any, wanted: dict[str, Any]) -> list[str]:
    """Set the fields whose value differs; returns their names (nothing to save if empty)."""
    changed = [field for field, value in wanted.items() if getattr(locked, field) != value]
    for field in changed:
        setattr(locked, field, wanted[field])
    return changed


def lead_update(*, actor: Officer, lead: Lead, changes: dict[str, Any], why: str = "") -> Lead:
    """Edit a lead's own descriptive fields (修改项目信息); the history keeps old and new values.

    Status moves only through ``lead_transition``; the unit and the 主办 through assignments and
    claims — none of them can be changed here. Only the fields that really change are saved.
    """
    _ensure_can_work_leads(actor)
    unknown = set(changes) - LEAD_EDITABLE_FIELDS
    if unknown:
        raise rule(sorted(unknown)[0], _("该字段不能修改。"))
    wanted = dict(changes)
    if "name" in wanted:
        wanted["name"] = require_text("name", wanted["name"], _("请填写项目名称。"))
    for field in ("estimated_amount", "estimated_fdi"):
        if field in wanted:
            wanted[field] = require_amount(field, wanted[field])
    if "industry" in wanted:
        require_choice("industry", wanted["industry"], Industry)
    if "chain_role" in wanted:
        require_choice("chain_role", wanted["chain_role"], ChainRole)
    if "source_channel" in wanted and wanted["source_channel"] not in SourceChannel.values:
        raise rule("source_channel", _("请选择信息来源。"))
    if "description" in wanted:
        wanted["description"] = wanted["description"] or ""
    with transaction.atomic(), audited(actor, why or "lead_update"):
        locked: Lead = lock_visible(leads_visible_to(actor), lead)
        if (
            wanted.get("source_channel") == SourceChannel.INTERMEDIARY
            and locked.intermediary_id is None
        ):
            raise rule("intermediary", _("中介招商的项目信息须注明中介人。"))
        changed = _apply_changes(locked, wanted)
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        if "name" in changed:
            touch(locked.visits.all())  # a visit shows the name of the lead it pushes
        return locked


VISIT_EDITABLE_FIELDS = frozenset(
    {"kind", "visited_on", "city", "summary", "next_step", "next_step_due"}
)


def visit_update(*, actor: Officer, visit: Visit, changes: dict[str, Any], why: str = "") -> Visit:
    """Edit a visit's own fields (修改走访记录); a new date or kind recomputes the lead's dates.

    The investor, the lead and the unit of a visit stay as logged.
    """
    _ensure_can_work_leads(actor)
    unknown = set(changes) - VISIT_EDITABLE_FIELDS
    if unknown:
        raise rule(sorted(unknown)[0], _("该字段不能修改。"))
    wanted = dict(changes)
    if "kind" in wanted and wanted["kind"] not in VisitKind.values:
        raise rule("kind", _("请选择走访类型。"))
    if "visited_on" in wanted:
        if wanted["visited_on"] is None:
            raise rule("visited_on", _("请填写日期。"))
        require_not_future("visited_on", wanted["visited_on"])
    if "summary" in wanted:
        wanted["summary"] = require_text("summary", wanted["summary"], _("请填写洽谈内容。"))
    if "next_step" in wanted:
        wanted["next_step"] = (wanted["next_step"] or "").strip()
    if "city" in wanted:
        wanted["city"] = wanted["city"] or ""
    with transaction.atomic(), audited(actor, why or "visit_update"):
        locked: Visit = lock_visible(visits_visible_to(actor), visit)
        merged = {f: wanted.get(f, getattr(locked, f)) for f in VISIT_EDITABLE_FIELDS}
        _require_next_step(merged["next_step"], merged["next_step_due"], merged["visited_on"])
        lead = None
        if locked.lead_id is not None and {"visited_on", "kind"} & set(wanted):
            # Lock the lead as visit_log does: its activity dates follow its visits.
            lead = Lead.objects.select_for_update().get(pk=locked.lead_id)
        changed = _apply_changes(locked, wanted)
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
            if lead is not None and {"visited_on", "kind"} & set(changed):
                _refresh_lead_activity(lead)
        return locked


# --- intermediary rewards (重奖中介人) -------------------------------------------------------


def intermediary_reward_propose(
    *,
    actor: Officer,
    intermediary: Intermediary,
    project: Any,
    amount: Any,
    note: str = "",
) -> IntermediaryReward:
    """Propose a reward (拟奖励) for an intermediary whose investor signed ``project``."""
    amount = require_amount("amount", amount)
    if not (
        intermediaries_visible_to(actor).filter(pk=intermediary.pk).exists()
        or units_visible_to(actor).filter(pk=project.unit_id).exists()
    ):
        raise PermissionDenied(_("您不能为该中介人或项目提议奖励。"))
    with transaction.atomic(), audited(actor, "intermediary_reward_propose"):
        try:
            with transaction.atomic():
                reward = IntermediaryReward.objects.create(
                    intermediary=intermediary,
                    project=project,
                    amount=amount,
                    note=note.strip(),
                    proposed_by=actor,
                )
        except IntegrityError as exc:
            raise Conflict(_("该中介人在该项目上已有奖励记录。")) from exc
        IntermediaryRewardStatusEvent.objects.create(
            reward=reward, actor=actor, from_status="", to_status=RewardStatus.PROPOSED
        )
        return reward


def intermediary_reward_transition(
    *, reward: IntermediaryReward, actor: Officer, to_status: str, reason: str = ""
) -> IntermediaryReward:
    """The one function that changes a reward's status (中介奖励审批/兑现).

    Locks the row, checks REWARD_TRANSITIONS and who may decide (a chief or the head of the
    project's unit, never the officer who proposed it: nobody approves their own proposal),
    saves the status and appends an IntermediaryRewardStatusEvent in the same transaction.
    """
    require_choice("to_status", to_status, RewardStatus)
    with transaction.atomic(), audited(actor, reason or f"intermediary_reward:{to_status}"):
        locked = (
            IntermediaryReward.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(pk=reward.pk)
            .first()
        )
        if locked is None:
            raise PermissionDenied()
        if locked.proposed_by_id == actor.pk:
            raise PermissionDenied(_("提议人不能审批或兑现自己提议的奖励。"))
        if not permissions.may_decide_reward(actor, locked):
            raise PermissionDenied(_("只有局领导或项目所在单位负责人可以审批或兑现中介奖励。"))
        if not reward_can_transition(locked.status, to_status):
            raise TransitionNotAllowed(
                _("中介奖励当前为“%(current)s”，不能变更为“%(target)s”。")
                % {
                    "current": locked.get_status_display(),
                    "target": RewardStatus(to_status).label,
                },
                extra={"status": locked.status},
            )
        from_status = locked.status
        locked.status = to_status
        update_fields = ["status"]
        if to_status == RewardStatus.APPROVED:
            locked.decided_by = actor
            locked.decided_on = today()
            update_fields += ["decided_by", "decided_on"]
        locked.save(update_fields=update_fields)
        IntermediaryRewardStatusEvent.objects.create(
            reward=locked,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            reason=reason.strip(),
        )
        return locked


def intermediary_reward_approve(
    *, reward: IntermediaryReward, actor: Officer, reason: str = ""
) -> IntermediaryReward:
    """拟奖励 → 已批准."""
    return intermediary_reward_transition(
        reward=reward, actor=actor, to_status=RewardStatus.APPROVED, reason=reason
    )


def intermediary_reward_pay(
    *, reward: IntermediaryReward, actor: Officer, reason: str = ""
) -> IntermediaryReward:
    """已批准 → 已兑现."""
    return intermediary_reward_transition(
        reward=reward, actor=actor, to_status=RewardStatus.PAID, reason=reason
    )
