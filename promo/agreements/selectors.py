"""Reads of the agreements app: what one officer may see, and every status computed in SQL.

A status is never stored where it follows from rows and the date: ``term_status`` and
``promise_status`` are SQL expressions evaluated against ``on`` (today by default), so the
lists, the cockpit's figures and their tests all count the same rows the same way, and a
commitment becomes 未履约 the day after its due date without a job having to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from officers.models import Officer, Unit
from officers.selectors import scope_for
from projects.selectors import projects_visible_to
from promo.core.services import today

from .choices import (
    BREACH_STATUSES,
    DATE_METRICS,
    LOG_LABELS,
    ClawbackRule,
    Payment,
    PromiseKind,
    PromiseStatus,
    RequestStatus,
    TermStatus,
)
from .models import Agreement, IncentiveRequest, Measurement, Promise, Term

_AMOUNT: DecimalField[Any, Any] = DecimalField(max_digits=14, decimal_places=2)
_TEXT: CharField[Any, Any] = CharField()


# --- who sees what ------------------------------------------------------------------------
# An agreement is seen by whoever sees its project (projects.selectors.projects_visible_to);
# the bureau's promises and the requests on them follow their agreement.


def _in_visible_projects(officer: Officer, path: str) -> Q | None:
    """None when the officer sees every project (no condition to add)."""
    if scope_for(officer).is_everything:
        return None
    return Q(**{f"{path}__in": projects_visible_to(officer).values("pk")})


def agreements_visible_to(officer: Officer) -> QuerySet[Agreement]:
    condition = _in_visible_projects(officer, "project_id")
    qs = Agreement.objects.all()
    return qs if condition is None else qs.filter(condition)


def terms_visible_to(officer: Officer) -> QuerySet[Term]:
    condition = _in_visible_projects(officer, "agreement__project_id")
    qs = Term.objects.all()
    return qs if condition is None else qs.filter(condition)


def promises_visible_to(officer: Officer) -> QuerySet[Promise]:
    condition = _in_visible_projects(officer, "agreement__project_id")
    qs = Promise.objects.all()
    return qs if condition is None else qs.filter(condition)


def measurements_visible_to(officer: Officer) -> QuerySet[Measurement]:
    condition = _in_visible_projects(officer, "term__agreement__project_id")
    qs = Measurement.objects.all()
    return qs if condition is None else qs.filter(condition)


def requests_visible_to(officer: Officer) -> QuerySet[IncentiveRequest]:
    condition = _in_visible_projects(officer, "promise__agreement__project_id")
    qs = IncentiveRequest.objects.all()
    return qs if condition is None else qs.filter(condition)


# --- statuses -----------------------------------------------------------------------------


def value_at_due(term_ref: str = "pk") -> Subquery:
    """A term's value as verified on its due date: the latest verified measurement dated on or
    before the due date (a figure reached later does not undo a breach)."""
    return Subquery(
        Measurement.objects.filter(
            term_id=OuterRef(term_ref),
            verified_at__isnull=False,
            measured_on__lte=OuterRef("due_on"),
        )
        .order_by("-measured_on", "-id")
        .values("value")[:1],
        output_field=_AMOUNT,
    )


def term_status(on: date | None = None) -> Case:
    """The status of a term (an expression over ``Term`` annotated with ``due_value`` by
    ``terms_with_status``), on date ``on``:

    - 已豁免 when waived;
    - an amount: 已履约 when its value at the due date reaches the target (early is fine);
      until the due date passes 履约中; then 部分履约 if something was verified, else 未履约;
    - a date (按期开工/竣工/投产): the project's actual date on or before the due date is
      已履约; after it 部分履约 (late); none once the due date passed is 未履约.
    """
    on = on or today()
    date_whens = []
    for metric, column in DATE_METRICS.items():
        actual = f"agreement__project__{column}"
        date_whens += [
            When(Q(metric=metric, **{f"{actual}__lte": F("due_on")}), then=Value(TermStatus.MET)),
            When(Q(metric=metric, due_on__gte=on), then=Value(TermStatus.PENDING)),
            When(
                Q(metric=metric, **{f"{actual}__isnull": False}), then=Value(TermStatus.PARTLY_MET)
            ),
            When(metric=metric, then=Value(TermStatus.MISSED)),
        ]
    reached = Coalesce(F("due_value"), Value(Decimal("-1")), output_field=_AMOUNT)
    return Case(
        When(waived_at__isnull=False, then=Value(TermStatus.WAIVED)),
        *date_whens,
        When(Q(target__lte=reached), then=Value(TermStatus.MET)),
        When(due_on__gte=on, then=Value(TermStatus.PENDING)),
        When(due_value__gt=0, then=Value(TermStatus.PARTLY_MET)),
        default=Value(TermStatus.MISSED),
        output_field=_TEXT,
    )


def terms_with_status(qs: QuerySet[Term], on: date | None = None) -> QuerySet[Any]:
    return qs.annotate(due_value=value_at_due()).annotate(status=term_status(on))


def _condition_not_met(on: date | None) -> Exists:
    """Some condition of the promise (OuterRef) is not 已履约 or 已豁免."""
    return Exists(
        terms_with_status(Term.objects.filter(conditioned_promises=OuterRef("pk")), on).exclude(
            status__in=(TermStatus.MET, TermStatus.WAIVED)
        )
    )


def _agreement_breached(on: date | None) -> Exists:
    """Some term of the promise's (OuterRef) agreement is in breach: what opens a clawback of
    a tranche already paid (追回条款), whichever commitment it was paid on."""
    return Exists(
        terms_with_status(Term.objects.filter(agreement_id=OuterRef("agreement_id")), on).filter(
            status__in=BREACH_STATUSES
        )
    )


def promise_status(on: date | None = None) -> Case:
    """The status of a bureau promise (an expression over ``Promise`` annotated by
    ``promises_with_status``):

    - an incentive tranche: 已追回 / 暂缓兑现 as decided; paid on or before its due date
      按期兑现, after it 逾期兑现; unpaid: 条件未满足 while a condition is not met, else
      逾期未兑现 once the due date passed, else 未到期;
    - any other promise: delivered on or before the due date 按期兑现, later 逾期兑现;
      undelivered 逾期未兑现 once the due date passed, else 未到期.
    """
    on = on or today()
    incentive = Q(kind=PromiseKind.INCENTIVE)
    return Case(
        When(incentive & Q(payment=Payment.CLAWED_BACK), then=Value(PromiseStatus.CLAWED_BACK)),
        When(incentive & Q(payment=Payment.WITHHELD), then=Value(PromiseStatus.WITHHELD)),
        When(
            incentive & Q(payment=Payment.UNPAID, not_payable=True),
            then=Value(PromiseStatus.NOT_PAYABLE),
        ),
        When(delivered_on__lte=F("due_on"), then=Value(PromiseStatus.KEPT)),
        When(delivered_on__isnull=False, then=Value(PromiseStatus.KEPT_LATE)),
        When(due_on__lt=on, then=Value(PromiseStatus.OVERDUE)),
        default=Value(PromiseStatus.PENDING),
        output_field=_TEXT,
    )


def promises_with_status(qs: QuerySet[Promise], on: date | None = None) -> QuerySet[Any]:
    return qs.annotate(
        not_payable=_condition_not_met(on),
        clawback_due=ExpressionWrapper(
            Q(kind=PromiseKind.INCENTIVE, payment=Payment.PAID)
            & ~Q(agreement__clawback_rule=ClawbackRule.NONE)
            & Q(_agreement_breached(on)),
            output_field=BooleanField(),
        ),
    ).annotate(status=promise_status(on))


def _agreement_conditions(on: date | None) -> dict[str, Exists]:
    """Conditions over ``Agreement``: ``breached`` — a term 部分履约 or 未履约; ``judged`` — a
    term already 已履约 or in breach (the agreements the 履约率 counts); ``overdue_promises`` —
    a bureau promise 逾期未兑现."""
    terms = terms_with_status(Term.objects.filter(agreement_id=OuterRef("pk")), on)
    return {
        "breached": Exists(terms.filter(status__in=BREACH_STATUSES)),
        "judged": Exists(terms.filter(status__in=(TermStatus.MET, *BREACH_STATUSES))),
        "overdue_promises": Exists(
            promises_with_status(Promise.objects.filter(agreement_id=OuterRef("pk")), on).filter(
                status=PromiseStatus.OVERDUE
            )
        ),
    }


def agreements_with_status(qs: QuerySet[Agreement], on: date | None = None) -> QuerySet[Any]:
    """``qs`` annotated with ``_agreement_conditions`` (``keeping`` = judged and not breached)."""
    return qs.annotate(**_agreement_conditions(on))


# --- lists and figures ---------------------------------------------------------------------


def _in_unit(qs: QuerySet[Any], unit: Unit | None, project_path: str) -> QuerySet[Any]:
    """Only the rows of projects held by ``unit`` or its sub-units (the cockpit's unit filter)."""
    if unit is None:
        return qs
    subtree = Unit.objects.filter(path__startswith=unit.path).values("pk")
    return qs.filter(**{f"{project_path}__unit_id__in": subtree})


AGREEMENT_FILTERS = ("keeping", "breached", "owing", "clawback")


def agreement_list(
    officer: Officer, *, status: str = "", unit: Unit | None = None, on: date | None = None
) -> QuerySet[Any]:
    """The agreements an officer sees, newest first, filtered by the cockpit's categories."""
    qs = agreements_with_status(
        _in_unit(agreements_visible_to(officer), unit, "project"), on
    ).select_related("project", "project__unit")
    if status == "keeping":
        qs = qs.filter(judged=True, breached=False)
    elif status == "breached":
        qs = qs.filter(breached=True)
    elif status == "owing":
        qs = qs.filter(overdue_promises=True)
    elif status == "clawback":
        qs = qs.filter(
            Exists(
                promises_with_status(
                    Promise.objects.filter(agreement_id=OuterRef("pk")), on
                ).filter(clawback_due=True)
            )
        )
    return qs.order_by("-signed_on", "-id")


def promise_list(
    officer: Officer,
    *,
    status: str = "",
    payment: str = "",
    unit: Unit | None = None,
    on: date | None = None,
) -> QuerySet[Any]:
    visible = _in_unit(promises_visible_to(officer), unit, "agreement__project")
    qs = promises_with_status(visible, on).select_related("agreement", "owner_unit")
    if status == "clawback_due":
        qs = qs.filter(clawback_due=True)
    elif status in PromiseStatus.values:
        qs = qs.filter(status=status)
    if payment in Payment.values and payment != Payment.UNPAID:
        qs = qs.filter(kind=PromiseKind.INCENTIVE, payment=payment)
    return qs.order_by("due_on", "id")


@dataclass(frozen=True)
class Keeping:
    """The cockpit's agreement figures for one officer's scope (each links to its list)."""

    judged: int
    keeping: int
    breached: int
    overdue_promises: int
    clawback_due: int
    paid: Decimal
    withheld: Decimal
    clawed_back: Decimal
    unit_id: int | None = None  # the unit filter the figures were counted with

    @property
    def unit_query(self) -> str:
        """The lists' query string for the same unit (``&unit=…``), or nothing."""
        return f"&unit={self.unit_id}" if self.unit_id is not None else ""

    @property
    def rate(self) -> Decimal | None:
        """履约率 (%): agreements keeping every judged term over those with a judged term."""
        if not self.judged:
            return None
        return (Decimal(self.keeping) * 100 / self.judged).quantize(Decimal("0.1"))


def keeping_figures(
    officer: Officer, *, unit: Unit | None = None, on: date | None = None
) -> Keeping:
    """Three queries: the agreements' categories, those to claw back, the promises and the money.
    ``unit``: only the projects of that unit and its sub-units (the cockpit's unit filter)."""
    condition = _agreement_conditions(on)
    agreements = _in_unit(agreements_visible_to(officer), unit, "project").aggregate(
        judged=Count("pk", filter=condition["judged"]),
        keeping=Count("pk", filter=condition["judged"] & ~condition["breached"]),
        breached=Count("pk", filter=condition["breached"]),
    )
    clawback_agreements = agreement_list(officer, status="clawback", unit=unit, on=on).count()
    zero = Value(Decimal("0"), output_field=_AMOUNT)
    promises = _in_unit(promises_visible_to(officer), unit, "agreement__project")
    money = promises_with_status(promises, on).aggregate(
        overdue=Count("pk", filter=Q(status=PromiseStatus.OVERDUE)),
        paid=Coalesce(
            Sum("paid_amount", filter=Q(payment__in=(Payment.PAID, Payment.CLAWED_BACK))), zero
        ),
        withheld=Coalesce(Sum("amount", filter=Q(payment=Payment.WITHHELD)), zero),
        clawed_back=Coalesce(Sum("clawed_back_amount"), zero),
    )
    return Keeping(
        judged=agreements["judged"],
        keeping=agreements["keeping"],
        breached=agreements["breached"],
        overdue_promises=money["overdue"],
        clawback_due=clawback_agreements,
        paid=money["paid"],
        withheld=money["withheld"],
        clawed_back=money["clawed_back"],
        unit_id=unit.pk if unit is not None else None,
    )


def pending_requests_for(officer: Officer) -> QuerySet[IncentiveRequest]:
    return requests_visible_to(officer).filter(status=RequestStatus.PENDING)


def agreement_page(officer: Officer, pk: int) -> dict[str, Any]:
    """Everything the agreement page shows, each list in one query."""
    from django.shortcuts import get_object_or_404

    agreement = get_object_or_404(
        agreements_visible_to(officer).select_related("project", "project__unit", "created_by"),
        pk=pk,
    )
    terms = list(
        terms_with_status(agreement.terms.all())
        .select_related("waived_by")
        .order_by("due_on", "id")
    )
    measurements = (
        Measurement.objects.filter(term__agreement=agreement)
        .select_related("recorded_by", "verified_by")
        .order_by("-measured_on", "-id")
    )
    by_term: dict[int, list[Measurement]] = {}
    for item in measurements:
        by_term.setdefault(item.term_id, []).append(item)
    project = agreement.project
    for term in terms:
        term.measured = by_term.get(term.pk, [])
        term.status_label = TermStatus(term.status).label
        term.is_date = term.metric in DATE_METRICS
        term.actual = getattr(project, DATE_METRICS[term.metric]) if term.is_date else None
    promises = list(
        promises_with_status(agreement.promises.all())
        .select_related("owner_unit")
        .prefetch_related("conditions")
        .order_by("due_on", "id")
    )
    for promise in promises:
        promise.status_label = PromiseStatus(promise.status).label
    log: list[Any] = list(agreement.log.select_related("actor").order_by("-created_at", "-id")[:50])
    for entry in log:
        entry.label = LOG_LABELS.get(entry.what, entry.what)
    requests = IncentiveRequest.objects.filter(promise__agreement=agreement).select_related(
        "promise", "requested_by", "decided_by"
    )
    return {
        "agreement": agreement,
        "terms": terms,
        "promises": promises,
        "requests": list(requests.order_by("-requested_at", "-id")),
        "log": log,
    }


@dataclass(frozen=True)
class Clawback:
    """What the agreement's rule takes back of a paid tranche, and the working shown with it."""

    amount: Decimal
    basis: str


def clawback_for(promise: Promise, on: date | None = None) -> Clawback:
    """追回金额 by the agreement's rule, once a commitment of the agreement is in breach:
    全额 takes the whole paid amount; 按未达标比例 takes the paid amount times the worst
    shortfall among the agreement's amount commitments in breach — a term's share met is its
    value at the due date over its target. A date commitment kept late is a breach but has no
    share to measure: alone it gives nothing to claw back pro rata (the rule 全额 does)."""
    paid = promise.paid_amount
    rule = promise.agreement.clawback_rule
    if rule == ClawbackRule.FULL:
        return Clawback(paid, f"{ClawbackRule.FULL.label}: {paid}")
    if rule == ClawbackRule.NONE:
        return Clawback(Decimal("0"), str(ClawbackRule.NONE.label))
    worst = Decimal("1")
    parts = []
    terms = terms_with_status(Term.objects.filter(agreement_id=promise.agreement_id), on)
    for term in terms.order_by("due_on", "id"):
        if term.status not in BREACH_STATUSES or term.metric in DATE_METRICS or not term.target:
            continue
        share = min(Decimal("1"), (term.due_value or Decimal("0")) / term.target)
        worst = min(worst, share)
        parts.append(f"{term.get_metric_display()} {term.due_value or 0}/{term.target}")
    amount = (paid * (1 - worst)).quantize(Decimal("0.01"))
    return Clawback(
        amount,
        f"{ClawbackRule.PRO_RATA.label}: {paid} × (1 − {worst:.4f}) = {amount}; "
        + ", ".join(parts),
    )
