"""The traffic-light evaluation as it was before it became set-based SQL (issue #19): the oracle.

A verbatim copy of the row-by-row implementation (conditions gathered in Python, one
``bulk_update`` per run) that ``alerts_evaluate`` replaced. tests/reports/test_alerts_set_based.py
runs both over the same bureau and the same days and asserts they leave the same alerts and
notices: the new SQL must keep every rule's open / keep / clear semantics exactly.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DateField, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, TruncDate

from leads.choices import OPEN_LEAD_STATUSES, LeadStatus
from leads.models import Lead
from officers.choices import AssignmentRole, Role
from officers.models import Assignment, Officer, Unit, tree_order
from projects.choices import ProblemStatus, Stage
from projects.models import Problem, Project
from promo.reports.choices import AlertLevel, AlertRule, EscalationStep
from promo.reports.models import Alert, AlertNotice


def _lead_officer(field: str) -> Subquery:
    return Subquery(
        Assignment.objects.filter(**{field: OuterRef("pk")}, role=AssignmentRole.LEAD).values(
            "officer_id"
        )[:1]
    )


def _alert(
    rule: str,
    level: str,
    subject: str,
    unit_id: int,
    responsible_id: int | None,
    detail: str,
    **fk: int,
) -> dict[str, Any]:
    return {
        "rule": rule,
        "level": level,
        "subject_key": subject,
        "unit_id": unit_id,
        "responsible_id": responsible_id,
        "detail": detail[:200],
        **fk,
    }


def _project_conditions(on: date) -> list[dict[str, Any]]:
    red_late = settings.PROMO_ALERT_RED_LATE_DAYS
    next_due = Case(
        When(stage=Stage.SIGNED, then=F("groundbreaking_planned")),
        When(stage=Stage.GROUNDBREAKING, then=F("completed_planned")),
        When(stage=Stage.COMPLETED, then=F("producing_planned")),
        default=Value(None),
        output_field=DateField(),
    )
    not_started_by = on - timedelta(days=settings.PROMO_ALERT_NOT_STARTED_DAYS)
    not_producing_by = on - timedelta(days=settings.PROMO_ALERT_NOT_PRODUCING_DAYS)
    rows = (
        Project.objects.annotate(next_due=next_due, responsible=_lead_officer("project"))
        .filter(Q(next_due__lt=on) | Q(stage=Stage.SIGNED, contract_date__lte=not_started_by))
        .values_list("pk", "name", "unit_id", "responsible", "next_due", "stage", "contract_date")
    )
    found = []
    for pk, name, unit_id, responsible, next_due_on, stage, contract_date in rows.iterator():
        key = f"project:{pk}"
        if next_due_on is not None and next_due_on < on:
            late = (on - next_due_on).days
            level = AlertLevel.RED if late >= red_late else AlertLevel.YELLOW
            found.append(
                _alert(
                    AlertRule.MILESTONE_OVERDUE,
                    level,
                    key,
                    unit_id,
                    responsible,
                    f"{name}：节点逾期 {late} 天",
                    project_id=pk,
                )
            )
        if stage == Stage.SIGNED and contract_date <= not_started_by:
            days = (on - contract_date).days
            found.append(
                _alert(
                    AlertRule.NOT_STARTED,
                    AlertLevel.RED,
                    key,
                    unit_id,
                    responsible,
                    f"{name}：签约 {days} 天未开工",
                    project_id=pk,
                )
            )
    for pk, name, unit_id, responsible, completed in (
        Project.objects.filter(stage=Stage.COMPLETED, completed_actual__lte=not_producing_by)
        .annotate(responsible=_lead_officer("project"))
        .values_list("pk", "name", "unit_id", "responsible", "completed_actual")
    ):
        assert completed is not None  # completed_actual__lte leaves out NULL
        days = (on - completed).days
        found.append(
            _alert(
                AlertRule.NOT_PRODUCING,
                AlertLevel.YELLOW,
                f"project:{pk}",
                unit_id,
                responsible,
                f"{name}：竣工 {days} 天未投产",
                project_id=pk,
            )
        )
    return found


def _lead_conditions(on: date) -> list[dict[str, Any]]:
    stale_by = on - timedelta(days=settings.PROMO_STALE_LEAD_DAYS)
    quiet_by = on - timedelta(days=settings.PROMO_ALERT_QUIET_NEGOTIATION_DAYS)
    rows = (
        Lead.objects.filter(status__in=OPEN_LEAD_STATUSES)
        .annotate(
            followed_up=Coalesce("last_activity_on", TruncDate("created_at")),
            moved=Greatest("last_activity_on", "negotiating_on"),
            responsible=_lead_officer("lead"),
        )
        .filter(
            Q(followed_up__lte=stale_by) | Q(status=LeadStatus.NEGOTIATING, moved__lte=quiet_by)
        )
        .values_list("pk", "name", "unit_id", "responsible", "status", "followed_up", "moved")
    )
    found = []
    for pk, name, unit_id, responsible, status, followed_up, moved in rows.iterator():
        key = f"lead:{pk}"
        if followed_up <= stale_by:
            found.append(
                _alert(
                    AlertRule.LEAD_NO_FOLLOW_UP,
                    AlertLevel.YELLOW,
                    key,
                    unit_id,
                    responsible,
                    f"{name}：{(on - followed_up).days} 天未跟进",
                    lead_id=pk,
                )
            )
        if status == LeadStatus.NEGOTIATING and moved is not None and moved <= quiet_by:
            found.append(
                _alert(
                    AlertRule.NEGOTIATION_QUIET,
                    AlertLevel.RED,
                    key,
                    unit_id,
                    responsible,
                    f"{name}：在谈 {(on - moved).days} 天无进展",
                    lead_id=pk,
                )
            )
    return found


def _unit_conditions(on: date) -> list[dict[str, Any]]:
    """Every unit owes a valid lead a month (每月每个单位都要提供一条有效信息), its sub-tree counting."""
    if on.day < settings.PROMO_ALERT_VALID_LEAD_DAY:
        return []
    month = on.replace(day=1)
    supplied = set(
        Lead.objects.filter(qualified_on__gte=month, qualified_on__lte=on)
        .values_list("unit__path", flat=True)
        .distinct()
    )
    units = list(Unit.objects.filter(is_active=True, parent__isnull=False).order_by(tree_order()))
    officers: dict[int, int] = {}
    # The unit head answers for the unit; a unit without one: its first active officer.
    for officer_id, unit_id in (
        Officer.objects.filter(is_active=True, unit__in=units)
        .order_by("unit_id", Case(When(role=Role.UNIT_HEAD, then=0), default=1), "username")
        .values_list("pk", "unit_id")
    ):
        officers.setdefault(unit_id, officer_id)
    return [
        _alert(
            AlertRule.NO_VALID_LEAD,
            AlertLevel.YELLOW,
            f"unit:{unit.pk}:{month:%Y-%m}",
            unit.pk,
            officers.get(unit.pk),
            f"{unit.name}：{month:%Y年%m月}尚未报送有效信息",
        )
        for unit in units
        if not any(path.startswith(unit.path) for path in supplied)
    ]


def _problem_conditions(on: date) -> list[dict[str, Any]]:
    found = []
    for pk, title, unit_id, first_asked, due_on, asks in (
        Problem.objects.exclude(status=ProblemStatus.RESOLVED)
        .filter(Q(due_on__lt=on) | Q(ask_count=2))
        .values_list("pk", "title", "owner_unit_id", "first_asked_id", "due_on", "ask_count")
    ):
        key = f"problem:{pk}"
        if due_on < on:
            found.append(
                _alert(
                    AlertRule.PROBLEM_OVERDUE,
                    AlertLevel.YELLOW,
                    key,
                    unit_id,
                    first_asked,
                    f"{title}：超期 {(on - due_on).days} 天未办结",
                    problem_id=pk,
                )
            )
        if asks == 2:
            found.append(
                _alert(
                    AlertRule.PROBLEM_ASKED_TWICE,
                    AlertLevel.RED,
                    key,
                    unit_id,
                    first_asked,
                    f"{title}：企业二次催办",
                    problem_id=pk,
                )
            )
    return found


def _lock_alerts() -> None:
    # One evaluation at a time: two runs at once would both see a condition as new.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('promo.reports.alerts'))")


def legacy_alerts_evaluate(*, on: date) -> dict[str, int]:
    """Evaluate every traffic-light rule (红黄灯) for ``on``: open, update or clear alerts.

    A condition seen again keeps its alert (its level may change from yellow to red); an
    alert whose condition no longer holds is cleared (resolved). Then the ladder is climbed.
    Safe to run any number of times a day.
    """
    found = [
        *_project_conditions(on),
        *_lead_conditions(on),
        *_unit_conditions(on),
        *_problem_conditions(on),
    ]
    conditions = {(c["rule"], c["subject_key"]): c for c in found}
    with transaction.atomic():
        _lock_alerts()
        current = {
            (a.rule, a.subject_key): a for a in Alert.objects.filter(resolved_on__isnull=True)
        }
        new = [
            Alert(**condition, opened_on=on, last_seen_on=on)
            for key, condition in conditions.items()
            if key not in current
        ]
        Alert.objects.bulk_create(new)
        seen, cleared = [], []
        for key, alert in current.items():
            condition = conditions.get(key)
            if condition is None:
                alert.resolved_on = on
                cleared.append(alert)
                continue
            alert.level, alert.detail = condition["level"], condition["detail"]
            alert.unit_id, alert.responsible_id = condition["unit_id"], condition["responsible_id"]
            alert.last_seen_on = on
            seen.append(alert)
        Alert.objects.bulk_update(
            seen, ["level", "detail", "unit_id", "responsible_id", "last_seen_on"]
        )
        Alert.objects.bulk_update(cleared, ["resolved_on"])
        notices = _escalate(on)
    return {"opened": len(new), "cleared": len(cleared), "notices": notices}


def _escalate(on: date) -> int:
    """Climb the ladder for open, unacknowledged alerts; each step notifies each officer once."""
    alerts = list(
        Alert.objects.filter(resolved_on__isnull=True, acknowledged_at__isnull=True).select_related(
            "unit"
        )
    )
    if not alerts:
        return 0
    heads: dict[int, list[int]] = {}
    for officer_id, unit_id in Officer.objects.filter(
        role=Role.UNIT_HEAD, is_active=True
    ).values_list("pk", "unit_id"):
        heads.setdefault(unit_id, []).append(officer_id)
    chiefs = list(
        Officer.objects.filter(role=Role.CHIEF, is_active=True).values_list("pk", flat=True)
    )

    def heads_for(unit: Unit) -> list[int]:
        # The nearest unit up the tree that has a head (a group answers to its office).
        for unit_id in reversed([int(part) for part in unit.path.strip("/").split("/")[1:]]):
            if heads.get(unit_id):
                return heads[unit_id]
        return []

    wanted: set[tuple[int, int, int]] = set()
    for alert in alerts:
        age = (on - alert.opened_on).days
        if alert.responsible_id:
            wanted.add((alert.pk, EscalationStep.OFFICER, alert.responsible_id))
        if age >= settings.PROMO_ESCALATE_TO_HEAD_DAYS:
            wanted.update((alert.pk, EscalationStep.UNIT_HEAD, pk) for pk in heads_for(alert.unit))
        if age >= settings.PROMO_ESCALATE_TO_CHIEF_DAYS:
            wanted.update((alert.pk, EscalationStep.CHIEF, pk) for pk in chiefs)
    existing = set(
        AlertNotice.objects.filter(alert__in=alerts).values_list("alert_id", "step", "recipient_id")
    )
    missing = [
        AlertNotice(alert_id=a, step=s, recipient_id=r) for a, s, r in sorted(wanted - existing)
    ]
    # ignore_conflicts: the unique constraint is the last word on "once per step".
    AlertNotice.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
