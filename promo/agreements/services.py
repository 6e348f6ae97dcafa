"""Writes of the agreements app: agreements, commitments, measured values, the bureau's
deliveries and the four-eyes incentive decisions (政策兑现). Each one locks what it changes,
checks the named predicate in officers.permissions, and writes a log entry in the same
transaction; the history triggers record every column besides.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from officers import permissions
from officers.models import Officer, Unit
from projects.models import Project
from projects.selectors import projects_visible_to
from promo.core.audit import audited
from promo.core.errors import Conflict, PermissionDenied, TransitionNotAllowed, rule
from promo.core.services import (
    lock_visible,
    require_amount,
    require_choice,
    require_not_future,
    require_text,
    today,
    touch_row,
)

from .choices import (
    ACTION_TO,
    DATE_METRICS,
    AgreementKind,
    ClawbackRule,
    IncentiveAction,
    Metric,
    PromiseKind,
    RequestStatus,
    action_allowed,
)
from .models import Agreement, AgreementLog, IncentiveRequest, Measurement, Promise, Term
from .selectors import (
    agreements_visible_to,
    clawback_for,
    promises_with_status,
    terms_visible_to,
)


def _may_keep(actor: Officer, project: Project) -> None:
    if not permissions.may_keep_agreement(actor, project):
        raise PermissionDenied(_("只有主办人、本单位负责人或局领导可以登记协议履约情况。"))


def _log(agreement: Agreement, actor: Officer, what: str, note: Any = "") -> AgreementLog:
    """The step's log entry; and the agreement's ``updated_at`` moves (its API representation
    nests the terms, figures, promises and requests: its ETag and the sync feed follow them)."""
    touch_row(agreement)
    return AgreementLog.objects.create(agreement=agreement, actor=actor, what=what, note=str(note))


def _locked_agreement(actor: Officer, agreement_id: int) -> Agreement:
    agreement = Agreement.objects.select_related("project").filter(pk=agreement_id).first()
    if agreement is None:
        raise PermissionDenied()
    locked = lock_visible(agreements_visible_to(actor), agreement)
    locked.project = agreement.project
    return locked


def agreement_create(
    *,
    project: Project,
    actor: Officer,
    kind: str,
    title: str,
    signed_on: date | None,
    parties: str = "",
    clawback_rule: str = ClawbackRule.PRO_RATA,
    source_system: str = "",
    external_id: str = "",
) -> Agreement:
    """Record an agreement (主协议 or 补充协议) signed for a project (``source_system`` and
    ``external_id`` name it in the system it came from: a ledger import, a sync)."""
    require_choice("kind", kind, AgreementKind)
    require_choice("clawback_rule", clawback_rule, ClawbackRule)
    title = require_text("title", title, _("请填写协议名称。"))
    if signed_on is None:
        raise rule("signed_on", _("请填写签订日期。"))
    require_not_future("signed_on", signed_on)
    with transaction.atomic(), audited(actor, "agreement_create"):
        locked: Project = lock_visible(projects_visible_to(actor), project)
        _may_keep(actor, locked)
        if signed_on < locked.contract_date and kind == AgreementKind.SUPPLEMENT:
            raise rule("signed_on", _("补充协议的签订日期不能早于项目签约日期。"))
        agreement = Agreement.objects.create(
            project=locked,
            kind=kind,
            title=title,
            signed_on=signed_on,
            parties=(parties or "").strip(),
            clawback_rule=clawback_rule,
            created_by=actor,
            source_system=source_system,
            external_id=external_id,
        )
        _log(agreement, actor, "created", title)
        return agreement


# What ``agreement_update`` may change: the parties, the kind and the clawback rule. The
# title and the signing date name the agreement (a new date is another agreement).
AGREEMENT_EDITABLE = ("kind", "parties", "clawback_rule")


def agreement_update(
    *, agreement: Agreement, actor: Officer, reason: str, **changes: Any
) -> Agreement:
    """Change an agreement's kind, parties or clawback rule, with the reason on record (a
    corrected ledger, an import). Paying, withholding and clawing back stay with
    ``incentive_request``; this only writes what the agreement says."""
    unknown = set(changes) - set(AGREEMENT_EDITABLE)
    if unknown:
        raise ValueError(f"agreement_update cannot change {sorted(unknown)}")
    reason = require_text("reason", reason, _("修改协议须说明原因。"))
    if "kind" in changes:
        require_choice("kind", changes["kind"], AgreementKind)
    if "clawback_rule" in changes:
        require_choice("clawback_rule", changes["clawback_rule"], ClawbackRule)
    if "parties" in changes:
        changes["parties"] = (changes["parties"] or "").strip()
    with transaction.atomic(), audited(actor, reason):
        locked = _locked_agreement(actor, agreement.pk)
        _may_keep(actor, locked.project)
        if (
            changes.get("kind") == AgreementKind.SUPPLEMENT
            and locked.signed_on < locked.project.contract_date
        ):
            raise rule("kind", _("补充协议的签订日期不能早于项目签约日期。"))
        changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
        if not changed:
            return locked
        for name, value in changed.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*changed, "updated_at"])
        _log(locked, actor, "changed", reason)
        return locked


def _term_target(metric: str, target: Any) -> Decimal:
    """A commitment's target: a positive figure, or none (0) for a date commitment."""
    if metric in DATE_METRICS:
        return Decimal("0")
    return require_amount("target", target, allow_zero=False)


def term_add(
    *,
    agreement: Agreement,
    actor: Officer,
    metric: str,
    target: Any,
    due_on: date | None,
    source_system: str = "",
    external_id: str = "",
) -> Term:
    """Add an investor's commitment: a target (for a date commitment, none) and a due date."""
    require_choice("metric", metric, Metric)
    amount = _term_target(metric, target)
    if due_on is None:
        raise rule("due_on", _("请填写承诺期限。"))
    with transaction.atomic(), audited(actor, "term_add"):
        locked = _locked_agreement(actor, agreement.pk)
        _may_keep(actor, locked.project)
        if due_on < locked.signed_on:
            raise rule("due_on", _("承诺期限不能早于协议签订日期。"))
        term = Term.objects.create(
            agreement=locked,
            metric=metric,
            target=amount,
            due_on=due_on,
            source_system=source_system,
            external_id=external_id,
        )
        _log(locked, actor, "term_added", term)
        return term


def term_update(
    *,
    term: Term,
    actor: Officer,
    reason: str,
    target: Any = None,
    due_on: date | None = None,
) -> Term:
    """Correct a commitment's target or due date (None: as it is), with the reason on record.
    A waived commitment is not corrected (its waiver was decided on what it said)."""
    reason = require_text("reason", reason, _("修改投资方承诺须说明原因。"))
    with transaction.atomic(), audited(actor, reason):
        locked, agreement = _locked_term(actor, term)
        _may_keep(actor, agreement.project)
        if locked.waived_at is not None:
            raise TransitionNotAllowed(_("该承诺已豁免，不能修改。"))
        before = str(locked)
        fields = []
        if target is not None:
            amount = _term_target(locked.metric, target)
            if amount != locked.target:
                locked.target = amount
                fields.append("target")
        if due_on is not None and due_on != locked.due_on:
            if due_on < agreement.signed_on:
                raise rule("due_on", _("承诺期限不能早于协议签订日期。"))
            locked.due_on = due_on
            fields.append("due_on")
        if not fields:
            return locked
        locked.save(update_fields=[*fields, "updated_at"])
        _log(agreement, actor, "term_changed", f"{before} → {locked}")
        return locked


def _locked_term(actor: Officer, term: Term) -> tuple[Term, Agreement]:
    locked_term = lock_visible(terms_visible_to(actor), term)
    agreement = Agreement.objects.select_related("project").get(pk=locked_term.agreement_id)
    return locked_term, agreement


def measurement_record(
    *, term: Term, actor: Officer, measured_on: date | None, value: Any, source: str
) -> Measurement:
    """Record a measured value of a commitment (e.g. 年税收 from the tax bureau's figures), with
    where it comes from. It counts once another person verifies it."""
    amount = require_amount("value", value)
    source = require_text("source", source, _("请填写数据来源（如税务部门数据、统计报表）。"))
    if measured_on is None:
        raise rule("measured_on", _("请填写测定日期。"))
    require_not_future("measured_on", measured_on)
    with transaction.atomic(), audited(actor, "measurement_record"):
        locked, agreement = _locked_term(actor, term)
        _may_keep(actor, agreement.project)
        if locked.metric in DATE_METRICS:
            raise rule("value", _("按期开工、竣工、投产以项目阶段的实际日期为准，无需填报。"))
        if measured_on < agreement.signed_on:
            raise rule("measured_on", _("测定日期不能早于协议签订日期。"))
        measurement = Measurement.objects.create(
            term=locked, measured_on=measured_on, value=amount, source=source, recorded_by=actor
        )
        _log(
            agreement, actor, "measured", f"{locked.get_metric_display()}: {amount} ({measured_on})"
        )
        return measurement


def measurement_verify(*, measurement: Measurement, actor: Officer) -> Measurement:
    """核实: another person confirms a measured value; from then on it counts."""
    with transaction.atomic(), audited(actor, "measurement_verify"):
        locked = Measurement.objects.select_for_update().filter(pk=measurement.pk).first()
        if locked is None:
            raise PermissionDenied()
        _term, agreement = _locked_term(actor, locked.term)
        if locked.verified_at is not None:
            raise TransitionNotAllowed(_("该实测值已核实。"))
        if not permissions.may_verify_measurement(actor, agreement.project, locked):
            raise PermissionDenied(_("实测值须由填报人以外、有权登记履约情况的人核实。"))
        locked.verified_by = actor
        locked.verified_at = timezone.now()
        locked.save(update_fields=["verified_by", "verified_at"])
        _log(agreement, actor, "verified", f"{locked.value} ({locked.measured_on})")
        return locked


def term_waive(*, term: Term, actor: Officer, reason: str) -> Term:
    """豁免 a commitment, with the reason on record: the unit head's or 局领导's decision."""
    reason = require_text("reason", reason, _("请填写豁免理由。"))
    with transaction.atomic(), audited(actor, "term_waive"):
        locked, agreement = _locked_term(actor, term)
        if not permissions.may_waive_term(actor, agreement.project):
            raise PermissionDenied(_("只有本单位负责人或局领导可以豁免投资方承诺。"))
        if locked.waived_at is not None:
            raise TransitionNotAllowed(_("该承诺已豁免。"))
        locked.waived_by = actor
        locked.waived_at = timezone.now()
        locked.waived_reason = reason
        locked.save(update_fields=["waived_by", "waived_at", "waived_reason", "updated_at"])
        _log(agreement, actor, "waived", reason)
        return locked


def promise_add(
    *,
    agreement: Agreement,
    actor: Officer,
    kind: str,
    description: str,
    owner_unit: Unit | None,
    due_on: date | None,
    amount: Any = 0,
    conditions: Iterable[Term] = (),
) -> Promise:
    """Record one of the bureau's promises; an incentive tranche (奖补资金) has an amount and the
    investor's commitments it depends on."""
    require_choice("kind", kind, PromiseKind)
    description = require_text("description", description, _("请填写承诺内容。"))
    if owner_unit is None:
        raise rule("owner_unit", _("请选择责任单位。"))
    if due_on is None:
        raise rule("due_on", _("请填写兑现期限。"))
    incentive = kind == PromiseKind.INCENTIVE
    money = (
        require_amount("amount", amount, allow_zero=not incentive) if incentive else Decimal("0")
    )
    conditions = list(conditions)
    if conditions and not incentive:
        raise rule("conditions", _("只有奖补资金可以设置兑现条件。"))
    with transaction.atomic(), audited(actor, "promise_add"):
        locked = _locked_agreement(actor, agreement.pk)
        _may_keep(actor, locked.project)
        if due_on < locked.signed_on:
            raise rule("due_on", _("兑现期限不能早于协议签订日期。"))
        if any(term.agreement_id != locked.pk for term in conditions):
            raise rule("conditions", _("兑现条件须是本协议的投资方承诺。"))
        promise = Promise.objects.create(
            agreement=locked,
            kind=kind,
            description=description,
            owner_unit=owner_unit,
            due_on=due_on,
            amount=money,
        )
        if conditions:
            promise.conditions.set(conditions)
        _log(locked, actor, "promise_added", description)
        return promise


def _locked_promise(actor: Officer, promise: Promise) -> tuple[Promise, Agreement]:
    locked = Promise.objects.select_for_update().filter(pk=promise.pk).first()
    if locked is None:
        raise PermissionDenied()
    agreement = _locked_agreement(actor, locked.agreement_id)
    return locked, agreement


def promise_deliver(
    *, promise: Promise, actor: Officer, delivered_on: date | None, note: str = ""
) -> Promise:
    """Record that the bureau delivered a promise (土地交付, 审批办结…) on a date. An incentive
    tranche is delivered by paying it (``incentive_request`` + ``incentive_decide``)."""
    if delivered_on is None:
        raise rule("delivered_on", _("请填写兑现日期。"))
    require_not_future("delivered_on", delivered_on)
    with transaction.atomic(), audited(actor, "promise_deliver"):
        locked, agreement = _locked_promise(actor, promise)
        _may_keep(actor, agreement.project)
        if locked.kind == PromiseKind.INCENTIVE:
            raise TransitionNotAllowed(_("奖补资金须经兑现审批，不能直接登记兑现。"))
        if locked.delivered_on is not None:
            raise TransitionNotAllowed(_("该承诺已登记兑现。"))
        if delivered_on < agreement.signed_on:
            raise rule("delivered_on", _("兑现日期不能早于协议签订日期。"))
        locked.delivered_on = delivered_on
        locked.save(update_fields=["delivered_on", "updated_at"])
        _log(agreement, actor, "delivered", note or locked.description)
        return locked


def incentive_request(
    *, promise: Promise, actor: Officer, action: str, reason: str
) -> IncentiveRequest:
    """Ask for a tranche to be paid (兑现), withheld (暂缓) or clawed back (追回). The amount is
    not typed: paying pays the tranche, clawing back takes what the agreement's rule computes
    (``selectors.clawback_for``, its working kept as ``basis``). Another person decides."""
    require_choice("action", action, IncentiveAction)
    reason = require_text("reason", reason, _("请填写理由。"))
    with transaction.atomic(), audited(actor, f"incentive_request:{action}"):
        locked, agreement = _locked_promise(actor, promise)
        _may_keep(actor, agreement.project)
        if locked.kind != PromiseKind.INCENTIVE:
            raise TransitionNotAllowed(_("只有奖补资金需要兑现审批。"))
        if not action_allowed(locked.payment, action):
            raise TransitionNotAllowed(
                _("该奖补资金当前为“%(current)s”，不能申请“%(action)s”。")
                % {"current": locked.get_payment_display(), "action": IncentiveAction(action).label}
            )
        if IncentiveRequest.objects.filter(promise=locked, status=RequestStatus.PENDING).exists():
            raise Conflict(_("该奖补资金已有待审批的申请。"))
        status = promises_with_status(Promise.objects.filter(pk=locked.pk)).get()
        basis = ""
        if action == IncentiveAction.PAY:
            if status.not_payable:
                raise TransitionNotAllowed(_("兑现条件尚未全部满足，不能兑现。"))
            amount = locked.amount
        elif action == IncentiveAction.WITHHOLD:
            amount = locked.amount
        else:
            if not status.clawback_due:
                raise TransitionNotAllowed(
                    _("协议的投资方承诺未出现违约，或协议约定不追回，不能申请追回。")
                )
            locked.agreement = agreement
            clawback = clawback_for(locked)
            if clawback.amount <= 0:
                raise TransitionNotAllowed(_("按协议约定的规则，追回金额为零。"))
            amount, basis = clawback.amount, clawback.basis
        try:
            with transaction.atomic():
                request = IncentiveRequest.objects.create(
                    promise=locked,
                    action=action,
                    amount=amount,
                    reason=reason,
                    basis=basis,
                    requested_by=actor,
                )
        except IntegrityError as exc:
            raise Conflict(_("该奖补资金已有待审批的申请。")) from exc
        _log(agreement, actor, f"requested_{action}", f"{amount}: {reason}")
        return request


def incentive_decide(
    *, request: IncentiveRequest, actor: Officer, approve: bool, note: str = ""
) -> IncentiveRequest:
    """Approve or reject a request — never by the one who asked. An approval moves the tranche
    (paid, withheld, clawed back) in the same transaction; a rejection leaves it as it was."""
    if not approve:
        note = require_text("note", note, _("驳回时请填写审批意见。"))
    with transaction.atomic(), audited(actor, "incentive_decide"):
        locked_request = IncentiveRequest.objects.select_for_update().filter(pk=request.pk).first()
        if locked_request is None:
            raise PermissionDenied()
        promise, agreement = _locked_promise(actor, locked_request.promise)
        if locked_request.status != RequestStatus.PENDING:
            raise TransitionNotAllowed(_("该申请已审批。"))
        if not permissions.may_decide_incentive(actor, agreement.project, locked_request):
            raise PermissionDenied(_("须由申请人以外的本单位负责人或局领导审批。"))
        locked_request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
        locked_request.decided_by = actor
        locked_request.decided_at = timezone.now()
        locked_request.decision_note = (note or "").strip()
        locked_request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if approve:
            if not action_allowed(promise.payment, locked_request.action):
                raise TransitionNotAllowed(_("该奖补资金的状态已变化，请重新申请。"))
            promise.payment = ACTION_TO[locked_request.action]
            fields = ["payment", "updated_at"]
            if locked_request.action == IncentiveAction.PAY:
                promise.paid_amount = locked_request.amount
                promise.delivered_on = today()
                fields += ["paid_amount", "delivered_on"]
            elif locked_request.action == IncentiveAction.CLAWBACK:
                promise.clawed_back_amount = locked_request.amount
                fields.append("clawed_back_amount")
            promise.save(update_fields=fields)
        verdict = "approved" if approve else "rejected"
        _log(agreement, actor, f"{verdict}_{locked_request.action}", locked_request.decision_note)
        return locked_request


def agreement_talk(
    *, agreement: Agreement, actor: Officer, note: str, decision: str
) -> AgreementLog:
    """约谈: a talk held with the investor about a breach, and the decision taken, on record."""
    note = require_text("note", note, _("请填写约谈情况。"))
    decision = require_text("decision", decision, _("请填写处理决定。"))
    with transaction.atomic(), audited(actor, "agreement_talk"):
        locked = _locked_agreement(actor, agreement.pk)
        _may_keep(actor, locked.project)
        return _log(locked, actor, "talk", f"{note}\n{_('处理决定')}: {decision}")
