"""Reads of the agreements app: what one officer may see, and every status computed in SQL.

A status is never stored where it follows from rows and the date: ``term_status`` and
``promise_status`` are SQL expressions evaluated against ``on`` (today by default), so the
lists, the cockpit's figures and their tests all count the same rows the same way, and a
commitment becomes 未履约 the day after its due date without a job having to run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.postgres.aggregates import RegrIntercept, RegrSlope
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear

from officers.models import Officer, Unit
from officers.selectors import scope_for
from projects.selectors import projects_visible_to
from promo.core.expressions import InArray
from promo.core.paging import Counted
from promo.core.services import today

from . import states
from .choices import (
    BREACH_STATUSES,
    DATE_METRICS,
    LOG_LABELS,
    ClawbackRule,
    Metric,
    Payment,
    PromiseKind,
    PromiseStatus,
    RequestStatus,
    TermStatus,
)
from .models import (
    Agreement,
    AgreementState,
    IncentiveRequest,
    Measurement,
    Promise,
    Term,
)

_AMOUNT: DecimalField[Any, Any] = DecimalField(max_digits=14, decimal_places=2)
_TEXT: CharField[Any, Any] = CharField()
_T = TypeVar("_T")


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


class _Stored(Func):
    """Item ``index`` (as text) of a row's entry in its agreement's stored statuses:
    ``statuses -> (id)::text ->> index`` (``AgreementStatuses.terms``)."""

    arg_joiner = " -> "
    template = "(%(expressions)s ->> %(index)d)"
    output_field = _TEXT


def _stored_statuses(column: str, on: date, *items: tuple[str, Any]) -> dict[str, Any]:
    """The annotations ``name`` → item ``i`` of the row's entry in its agreement's
    ``AgreementStatuses.<column>`` (cast to ``field``), when those statuses are of the state's
    generation and the state is of ``on``, else NULL."""
    fresh = Q(
        agreement__state__on_day=on,
        agreement__statuses__on_day=on,
        agreement__statuses__gen=F("agreement__state__gen"),
    )
    source = F(f"agreement__statuses__{column}")
    key = Cast("pk", output_field=_TEXT)
    annotations = {}
    for index, (name, field) in enumerate(items):
        item: Any = _Stored(source, key, index=index)
        if field is not _TEXT:
            item = Cast(item, output_field=field)
        annotations[name] = Case(When(fresh, then=item), default=Value(None), output_field=field)
    return annotations


def terms_with_stored_status(qs: QuerySet[Term], on: date) -> QuerySet[Any]:
    """``qs`` annotated with ``status`` and ``due_value`` as stored with the agreement's state
    for ``on`` (decision 0004, "Stored statuses"): NULL where the state is not of that day or
    the statuses not of its generation — the caller computes those with ``terms_with_status``."""
    return qs.annotate(**_stored_statuses("terms", on, ("status", _TEXT), ("due_value", _AMOUNT)))


def promises_with_stored_status(qs: QuerySet[Promise], on: date) -> QuerySet[Any]:
    """``qs`` annotated with ``status`` as stored for ``on`` and ``clawback_due`` from the
    same state's ``breached`` (what ``_agreement_breached`` reads of a state of today), else
    NULL."""
    stored = _stored_statuses("promises", on, ("status", _TEXT))
    clawback = Case(
        When(
            Q(agreement__state__on_day=on),
            then=_to_claw_back(Q(agreement__state__breached=True)),
        ),
        default=Value(None),
        output_field=BooleanField(),
    )
    return qs.annotate(**stored, clawback_due=clawback)


class _Days(Func):
    """Whole days from 2000-01-01 to a date (PostgreSQL: a date minus a date is an integer),
    the x of a term's trend line."""

    template = "(%(expressions)s - DATE '2000-01-01')"
    output_field = IntegerField()


def _trend(aggregate: type[RegrSlope] | type[RegrIntercept], on: date, term_ref: str) -> Subquery:
    return Subquery(
        Measurement.objects.filter(
            term_id=OuterRef(term_ref), verified_at__isnull=False, measured_on__lte=on
        )
        .values("term_id")
        .order_by()
        .annotate(coefficient=aggregate("value", _Days("measured_on")))
        .values("coefficient"),
        output_field=FloatField(),
    )


def projected_value(on: date | None = None, term_ref: str = "pk") -> Cast:
    """A term's value at its due date by the trend of its measurements (趋势外推), or NULL.

    The least-squares line through the term's verified measurements dated on or before ``on``
    (x: the day measured, y: the value; PostgreSQL's ``regr_slope`` / ``regr_intercept``),
    read at the due date and rounded to 0.01. With two measurements it is the line through
    them. NULL when there is no line: fewer than two verified measurements, or all of one day.
    """
    on = on or today()
    return Cast(
        _trend(RegrIntercept, on, term_ref)
        + _trend(RegrSlope, on, term_ref) * Cast(_Days("due_on"), FloatField()),
        _AMOUNT,
    )


def term_at_risk(on: date | None = None) -> Q:
    """黄灯 (at risk), the one rule, as a condition over ``terms_with_trend``: a term still
    履约中 (not met, not waived, not yet due) is at risk when

    - it is an amount with a trend (``projected_value`` not NULL) and the trend reaches less
      than the target by the due date — however far off that date is;
    - otherwise (a date commitment, or an amount with fewer than two measurements to draw a
      line through) when it falls due within ``PROMO_ALERT_AGREEMENT_RISK_DAYS``.

    A trend that reaches the target keeps the term green even inside that window. A term past
    its due date and not met is no longer at risk but in breach (red, ``BREACH_STATUSES``).
    """
    on = on or today()
    risk_by = on + timedelta(days=settings.PROMO_ALERT_AGREEMENT_RISK_DAYS)
    by_trend = Q(projected__isnull=False) & Q(projected__lt=F("target"))
    by_window = Q(projected__isnull=True, due_on__lte=risk_by)
    return Q(status=TermStatus.PENDING) & (by_trend | by_window)


def terms_with_trend(qs: QuerySet[Term], on: date | None = None) -> QuerySet[Any]:
    """``terms_with_status`` plus ``projected`` (the trend at the due date; NULL for a date
    commitment) and ``at_risk`` (``term_at_risk``)."""
    amount = ~Q(metric__in=list(DATE_METRICS))
    return (
        terms_with_status(qs, on)
        .annotate(
            projected=Case(
                When(amount, then=projected_value(on)), default=None, output_field=_AMOUNT
            )
        )
        .annotate(at_risk=ExpressionWrapper(term_at_risk(on), output_field=BooleanField()))
    )


def _condition_not_met(on: date | None) -> Exists:
    """Some condition of the promise (OuterRef) is not 已履约 or 已豁免."""
    return Exists(
        terms_with_status(Term.objects.filter(conditioned_promises=OuterRef("pk")), on).exclude(
            status__in=(TermStatus.MET, TermStatus.WAIVED)
        )
    )


def _agreement_breached(on: date | None) -> Q:
    """Some term of the promise's (OuterRef) agreement is in breach: what opens a clawback of
    a tranche already paid (追回条款), whichever commitment it was paid on. Today, read from
    the agreement's state when it is of today (decision 0020), else from its terms: as one
    EXISTS over the terms PostgreSQL hashed every commitment's status of the bureau to
    answer for a page of promises (68 ms of an API page at county scale)."""
    live = Exists(
        terms_with_status(Term.objects.filter(agreement_id=OuterRef("agreement_id")), on).filter(
            status__in=BREACH_STATUSES
        )
    )
    if on is not None and on != today():
        return Q(live)
    state = AgreementState.objects.filter(agreement_id=OuterRef("agreement_id"), on_day=today())
    # Evaluated left to right: the terms are read only for an agreement without today's state.
    return Q(Exists(state.filter(breached=True))) | (~Q(Exists(state)) & Q(live))


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
        clawback_due=_to_claw_back(_agreement_breached(on)),
    ).annotate(status=promise_status(on))


def _to_claw_back(breached: Q) -> ExpressionWrapper:
    """应追回: an incentive tranche paid under a clawback rule, its agreement in breach
    (``breached``: computed from the terms, or read from a state of today)."""
    return ExpressionWrapper(
        Q(kind=PromiseKind.INCENTIVE, payment=Payment.PAID)
        & ~Q(agreement__clawback_rule=ClawbackRule.NONE)
        & breached,
        output_field=BooleanField(),
    )


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


def _whole_tree(unit: Unit) -> bool:
    """Whether ``unit`` is the only root of the unit tree, so every unit is in its sub-tree
    (asked once per unit instance: a page filters its list and its figures by the same)."""
    if unit.parent_id is not None:
        return False
    known = getattr(unit, "_whole_tree", None)
    if known is None:
        known = not Unit.objects.filter(parent__isnull=True).exclude(pk=unit.pk).exists()
        unit._whole_tree = known  # type: ignore[attr-defined]
    return bool(known)


def _in_unit(
    qs: QuerySet[Any],
    unit: Unit | None,
    project_path: str,
    *,
    own: bool = False,
    cohort: int | None = None,
    signed_by: date | None = None,
) -> QuerySet[Any]:
    """Only the rows of projects held by ``unit`` or its sub-units (the cockpit's unit filter),
    or by ``unit`` alone with ``own`` (a bulletin's 本级 line); with ``cohort``, only those of
    projects whose first agreement was signed that year (the bulletin's signing-year table)."""
    if cohort is not None:
        qs = qs.filter(**{f"{project_path}_id__in": cohort_projects(cohort)})
    if signed_by is not None:
        # As of a past day (a bulletin's link): only the agreements signed by then.
        agreement_path = project_path.removesuffix("project").removesuffix("__")
        field = f"{agreement_path}__signed_on__lte" if agreement_path else "signed_on__lte"
        qs = qs.filter(**{field: signed_by})
    if unit is None:
        return qs
    if own:
        return qs.filter(**{f"{project_path}__unit_id": unit.pk})
    if _whole_tree(unit):
        # Every project is held in the tree of the one root (a chief's ?unit=<bureau>): the
        # filter keeps every row, and joining 48,010 agreements to 60,000 projects to check
        # it was most of the agreement list's 137 ms at province scale.
        return qs
    subtree = Unit.objects.filter(path__startswith=unit.path).values("pk")
    return qs.filter(**{f"{project_path}__unit_id__in": subtree})


def cohort_year(project_path: str) -> Subquery:
    """签约年度: the year a project's first agreement was signed (an expression over rows whose
    project is at ``project_path``); projects are grouped into cohorts by it."""
    return Subquery(
        Agreement.objects.filter(project_id=OuterRef(f"{project_path}_id"))
        .order_by("signed_on", "id")
        # An integer (EXTRACT gives numeric): the groups it keys are then hashed, not sorted.
        .annotate(year=Cast(ExtractYear("signed_on"), IntegerField()))
        .values("year")[:1],
        output_field=IntegerField(),
    )


def cohort_projects(year: int) -> QuerySet[Any]:
    """The ids of the projects in the ``year`` cohort (first agreement signed that year)."""
    return (
        Agreement.objects.values("project_id")
        .annotate(first=Min("signed_on"))
        .filter(first__gte=date(year, 1, 1), first__lte=date(year, 12, 31))
        .values("project_id")
    )


AGREEMENT_FILTERS = ("keeping", "breached", "judged", "owing", "clawback")
# The agreement list's ``measured=`` filter: agreements with both verified values a per-亩
# figure divides (the bulletin's 亩均投资强度 / 亩均税收 count exactly these).
PER_MU_FILTERS = ("intensity", "tax_per_mu")


def agreement_list(
    officer: Officer,
    *,
    status: str = "",
    unit: Unit | None = None,
    on: date | None = None,
    own: bool = False,
    cohort: int | None = None,
    measured: str = "",
) -> QuerySet[Any]:
    """The agreements an officer sees, newest first, filtered by the cockpit's categories."""
    scoped = _in_unit(
        agreements_visible_to(officer), unit, "project", own=own, cohort=cohort, signed_by=on
    )
    # The categories are conditions, not annotations: the page's slice then evaluates them
    # only where they filter, and its rows' flags are read for those rows alone
    # (``with_agreement_flags``). Annotated, PostgreSQL hashed each flag over every
    # commitment of the bureau to show twenty rows (154 ms of a 300 ms page at county).
    conditions = _agreement_conditions(on)
    qs = scoped.select_related("project", "project__unit")
    if measured in PER_MU_FILTERS:
        qs = with_per_mu_values(qs, on).filter(**{f"has_{measured}": True})
    if status == "keeping":
        qs = qs.filter(conditions["judged"], ~conditions["breached"])
    elif status == "judged":
        qs = qs.filter(conditions["judged"])
    elif status == "breached":
        qs = qs.filter(conditions["breached"])
    elif status == "owing":
        qs = qs.filter(conditions["overdue_promises"])
    elif status == "clawback":
        qs = qs.filter(
            Exists(
                promises_with_status(
                    Promise.objects.filter(agreement_id=OuterRef("pk")), on
                ).filter(clawback_due=True)
            )
        )
    return qs.order_by("-signed_on", "-id")


def _term_flags(terms: QuerySet[Term], on: date | None) -> dict[int, dict[str, bool]]:
    """``{agreement id: {"judged": …, "breached": …}}`` over ``terms``, each commitment's
    status computed once (``_agreement_conditions``' categories; an agreement without terms
    is absent)."""
    judged_statuses = (TermStatus.MET, *BREACH_STATUSES)
    return _grouped(
        terms_with_status(terms, on),
        F("agreement_id"),
        {"status": "status"},
        {
            "judged": _sql(f"bool_or(c_status IN {_in(judged_statuses)})", *judged_statuses),
            "breached": _sql(f"bool_or(c_status IN {_in(BREACH_STATUSES)})", *BREACH_STATUSES),
        },
    )


def with_agreement_flags(rows: Iterable[Any], on: date | None = None) -> list[Any]:
    """``rows`` (a page of ``agreement_list``) with ``judged``, ``breached`` and
    ``overdue_promises`` set on each — the categories of ``_agreement_conditions`` — read for
    these rows alone (two queries through the commitments' and promises' agreement index)."""
    rows = list(rows)
    ids = [agreement.pk for agreement in rows]
    flags = _term_flags(Term.objects.filter(agreement_id__in=ids), on)
    owing = set(
        promises_with_status(Promise.objects.filter(agreement_id__in=ids), on)
        .filter(status=PromiseStatus.OVERDUE)
        .values_list("agreement_id", flat=True)
    )
    for agreement in rows:
        flag = flags.get(agreement.pk, {})
        agreement.judged = bool(flag.get("judged"))
        agreement.breached = bool(flag.get("breached"))
        agreement.overdue_promises = agreement.pk in owing
    return rows


def promise_list(
    officer: Officer,
    *,
    status: str = "",
    payment: str = "",
    unit: Unit | None = None,
    on: date | None = None,
    own: bool = False,
    cohort: int | None = None,
) -> QuerySet[Any]:
    visible = _in_unit(
        promises_visible_to(officer),
        unit,
        "agreement__project",
        own=own,
        cohort=cohort,
        signed_by=on,
    )
    qs = promises_with_status(visible, on).select_related("agreement", "owner_unit")
    if status == "clawback_due":
        qs = qs.filter(clawback_due=True)
    elif status == "fallen_due":
        qs = qs.filter(status__in=PROMISES_FALLEN_DUE)
    elif status in PromiseStatus.values:
        qs = qs.filter(status=status)
    if payment == "ever_paid":
        qs = qs.filter(kind=PromiseKind.INCENTIVE, payment__in=EVER_PAID)
    elif payment in Payment.values and payment != Payment.UNPAID:
        qs = qs.filter(kind=PromiseKind.INCENTIVE, payment=payment)
    return qs.order_by("due_on", "id")


# A bureau promise the bulletin judges for 按期兑现率: delivered (on time or late) or overdue.
PROMISES_FALLEN_DUE = (PromiseStatus.KEPT, PromiseStatus.KEPT_LATE, PromiseStatus.OVERDUE)
# The tranches whose paid amount counts in 已兑现奖补 (a tranche clawed back was paid first).
EVER_PAID = (Payment.PAID, Payment.CLAWED_BACK)


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
        return rate(self.keeping, self.judged)


# The figures ``keeping_figures`` sums from the grains, with their zero.
_KEEPING_FROM_GRAINS: dict[str, Any] = {
    "judged": 0,
    "keeping": 0,
    "breached": 0,
    "overdue_promises": 0,
    "clawback_due": 0,
    "paid": Decimal("0"),
    "withheld": Decimal("0"),
    "clawed_back": Decimal("0"),
}


def keeping_figures(
    officer: Officer, *, unit: Unit | None = None, on: date | None = None
) -> Keeping:
    """The 协议履约 figures over the agreements the officer sees (``unit``: only the projects of
    that unit and its sub-units, the cockpit's filter), as of ``on`` (today by default).

    The categories are those of ``agreement_list`` (its tabs count the same agreements): an
    agreement is judged when some commitment is 已履约 or in breach, keeping when judged and
    none is in breach, to claw back when in breach with a clawback rule and a tranche paid.
    Today they are counted from the stored states (``promo.agreements.states``, decision
    0020), the stale ones recomputed first; a past day, or too many stale states, is counted
    live from every commitment's status. The money is summed from the promises either way."""
    agreements = _in_unit(agreements_visible_to(officer), unit, "project", signed_by=on)
    figures = None
    if (on is None or on == today()) and sees_every_agreement(officer):
        grains = fresh_grains(unit)  # decision 0026; None: counted live
        if grains is not None:
            figures = {
                name: sum((grain[name] for grain in grains), zero)
                for name, zero in _KEEPING_FROM_GRAINS.items()
            }
    elif on is None or on == today():
        figures = _figures_from_states(agreements)
    if figures is None:
        promises = _in_unit(promises_visible_to(officer), unit, "agreement__project")
        figures = _figures_live(agreements, promises, on)
    names = ("judged", "keeping", "breached", "overdue_promises", "clawback_due")
    return Keeping(
        **{name: figures[name] for name in (*names, "paid", "withheld", "clawed_back")},
        unit_id=unit.pk if unit is not None else None,
    )


def _from_fresh_states(
    agreements: QuerySet[Agreement], read: Callable[[], tuple[_T, bool]]
) -> _T | None:
    """What ``read()`` reads from today's stored states of ``agreements`` — it answers (what it
    read, whether every state it read was of today) — in one query when all are fresh; else
    the stale ones are recomputed and stored first and it reads again. None when more are
    stale than a read should recompute (a refresh is queued), or when a write landed during
    the recomputation and left one stale: the caller computes live."""
    result, fresh = read()
    if fresh:
        return result
    if not states.ensure_fresh(agreements, compute=compute_states):
        return None
    result, fresh = read()
    return result if fresh else None


def _state_sum(column: str, zero: Any) -> Coalesce:
    """The sum of a state column over the agreements' states, fresh or not: a read's figures are
    used only when every state it read is of today (``_from_fresh_states``), so no figure needs
    a filter of its own — only the count of fresh states does (13 % of the province's analysis:
    23 filtered aggregates over 48,000 states, 92 → 79 ms)."""
    return Coalesce(Sum(f"state__{column}"), zero)


def _figures_from_states(agreements: QuerySet[Agreement]) -> dict[str, Any] | None:
    """The figures counted from today's stored states (``_from_fresh_states``)."""

    def read() -> tuple[dict[str, Any], bool]:
        figures = _state_sums(agreements)
        return figures, figures["fresh"] == figures["total"]

    return _from_fresh_states(agreements, read)


def _grains_read(unit: Unit | None) -> list[dict[str, Any]] | None:
    """The grains of ``unit``'s sub-tree (all without) when they hold for today, in one
    statement (one snapshot): every agreement has a state (the grains count as many states
    as there are agreements), none is stale or of another day, none is signed after today.
    None when they do not hold."""
    day = today()
    columns = ", ".join(
        f"g.{column}" for column in ("project_unit", "cohort", *states.GRAIN_COLUMNS)
    )
    scope = ""
    params: list[Any] = [day, day, day]
    if unit is not None:
        scope = " AND g.project_unit IN (SELECT u.id FROM officers_unit AS u WHERE u.path LIKE %s)"
        params.append(unit.path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    sql = f"""
        SELECT c.holds, {columns}
        FROM (SELECT NOT EXISTS (SELECT 1 FROM {Agreement._meta.db_table} WHERE signed_on > %s)
                 AND {states.all_fresh_sql()} AS holds
             ) AS c
        LEFT JOIN {states.GRAIN} AS g ON c.holds{scope}
    """
    with connections[Agreement.objects.db].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    if not rows or not rows[0]["holds"]:
        return None
    grains = [row for row in rows if row["project_unit"] is not None]
    # A state filed under no unit is a stale one: never among fresh states (else: read them).
    return None if any(row["project_unit"] == 0 for row in grains) else grains


def fresh_grains(unit: Unit | None = None) -> list[dict[str, Any]] | None:
    """Today's agreement figures added up per project unit and cohort (``AgreementStateGrain``,
    decision 0026) — of ``unit``'s sub-tree, or of the bureau — for a reader who sees every
    agreement (``sees_every_agreement``): about 320 rows at province instead of 48,000
    states. Read when every state is of today; the stale ones (a write since the nightly run)
    are recomputed first, as the states' own read does (``states.ensure_fresh``). None when
    they cannot all be made fresh (too many stale: a refresh is queued; a writer holds some):
    the caller computes live."""
    grains = _grains_read(unit)
    if grains is None and states.ensure_fresh(Agreement.objects.all(), compute=compute_states):
        grains = _grains_read(unit)
    return grains


def sees_every_agreement(officer: Officer) -> bool:
    """Whether ``officer``'s figures may be read from the grains (they hold every agreement)."""
    return scope_for(officer).is_everything


def grain_keeping_row(grain: dict[str, Any]) -> KeepingRow:
    """One grain as the analysis's row (``KeepingRow``)."""
    return KeepingRow(
        agreements_judged=grain["judged"],
        agreements_keeping=grain["keeping"],
        **{name: grain[name] for name in KEEPING_FIELDS if not name.startswith("agreements_")},
    )


def _state_sums(agreements: QuerySet[Agreement]) -> dict[str, Any]:
    """The stored states of ``agreements`` counted and summed, with how many agreements there
    are (``total``) and how many of them have a state of today (``fresh``): the figures hold
    when the two are equal (``_state_sum``)."""
    zero = Value(Decimal("0"), output_field=_AMOUNT)
    figures = agreements.order_by().aggregate(
        n_total=Count("pk"),
        n_fresh=Count("pk", filter=Q(state__on_day=today())),
        n_judged=Count("pk", filter=Q(state__judged=True)),
        n_keeping=Count("pk", filter=Q(state__judged=True, state__breached=False)),
        n_breached=Count("pk", filter=Q(state__breached=True)),
        n_clawback_due=Count("pk", filter=Q(state__clawback_due=True)),
        n_overdue_promises=_state_sum("overdue_promises", 0),
        **{f"n_{name}": _state_sum(name, zero) for name in ("paid", "withheld", "clawed_back")},
    )
    return {name.removeprefix("n_"): value for name, value in figures.items()}


def _figures_live(
    agreements: QuerySet[Agreement], promises: QuerySet[Promise], on: date | None
) -> dict[str, Any]:
    """The figures computed from every commitment's and promise's status on ``on``, the money
    summed from the promises."""
    flags = _term_flags(Term.objects.filter(agreement_id__in=agreements.values("pk")), on)
    reclaimable = _reclaimable(agreements)
    judged = [pk for pk, flag in flags.items() if flag["judged"]]
    breached = [pk for pk, flag in flags.items() if flag["breached"]]
    overdue = promises_with_status(promises, on).filter(status=PromiseStatus.OVERDUE).count()
    money = promises.aggregate(**_money_sums())
    return {
        **money,
        "judged": len(judged),
        "keeping": sum(1 for pk in judged if not flags[pk]["breached"]),
        "breached": len(breached),
        "clawback_due": sum(1 for pk in breached if pk in reclaimable),
        "overdue_promises": overdue,
    }


def _money_sums() -> dict[str, Coalesce]:
    """万元 over promises: paid (paid, or paid and later clawed back), withheld, clawed back."""
    zero = Value(Decimal("0"), output_field=_AMOUNT)
    return {
        "paid": Coalesce(Sum("paid_amount", filter=Q(payment__in=EVER_PAID)), zero),
        "withheld": Coalesce(Sum("amount", filter=Q(payment=Payment.WITHHELD)), zero),
        "clawed_back": Coalesce(Sum("clawed_back_amount"), zero),
    }


def _reclaimable(agreements: QuerySet[Agreement]) -> set[int]:
    """The agreements with a clawback rule and an incentive tranche paid (to claw back when
    in breach)."""
    return set(
        agreements.exclude(clawback_rule=ClawbackRule.NONE)
        .filter(
            Exists(
                Promise.objects.filter(
                    agreement_id=OuterRef("pk"), kind=PromiseKind.INCENTIVE, payment=Payment.PAID
                )
            )
        )
        .values_list("pk", flat=True)
    )


def compute_states(ids: list[int], on: date) -> dict[int, states.Row]:
    """Each agreement's ``states.Row`` on ``on``, live: ``keeping_rows`` with one group per
    agreement (its categories, money and share of 协议履约分析, computed by the very
    function the analysis runs live), its overdue promises and at-risk commitments."""
    agreements = Agreement.objects.filter(pk__in=ids)
    rows = keeping_rows(
        group=lambda path: F(path.removesuffix("project") + "id"),
        agreements=agreements,
        on=on,
    )
    # Every commitment's and promise's status of the day, as the agreements API list shows
    # them (states.Row.term_statuses); the overdue promises are counted from them.
    term_statuses: dict[int, dict[str, list[Any]]] = {}
    for agreement_id, pk, status, due_value in (
        terms_with_status(Term.objects.filter(agreement_id__in=ids), on)
        .order_by()
        .values_list("agreement_id", "pk", "status", "due_value")
    ):
        value = None if due_value is None else str(due_value)
        term_statuses.setdefault(agreement_id, {})[str(pk)] = [status, value]
    # (A promise's 应追回 is not stored: the list reads it from the state's ``breached``;
    # computing it here for every promise took 70 ms a chunk of 5,000 agreements.)
    promise_statuses: dict[int, dict[str, list[Any]]] = {}
    overdue: dict[int, int] = {}
    for agreement_id, pk, status in (
        promises_with_status(Promise.objects.filter(agreement_id__in=ids), on)
        .order_by()
        .values_list("agreement_id", "pk", "status")
    ):
        promise_statuses.setdefault(agreement_id, {})[str(pk)] = [status]
        if status == PromiseStatus.OVERDUE:
            overdue[agreement_id] = overdue.get(agreement_id, 0) + 1
    at_risk: dict[int, list[int]] = {}
    for agreement_id, term_id in (
        terms_with_trend(Term.objects.filter(agreement_id__in=ids), on)
        .filter(at_risk=True)
        .order_by("agreement_id", "pk")
        .values_list("agreement_id", "pk")
    ):
        at_risk.setdefault(agreement_id, []).append(term_id)
    reclaimable = _reclaimable(agreements)
    filed = {
        pk: (unit_id, cohort)
        for pk, unit_id, cohort in agreements.annotate(cohort=cohort_year("project"))
        .order_by()
        .values_list("pk", "project__unit_id", "cohort")
    }
    nowhere = (None, None)
    result = {}
    for pk in ids:
        row = rows.get(pk, KeepingRow())
        project_unit, cohort = filed.get(pk, nowhere)
        # keeping = judged and not breached; every breach is judged.
        breached = bool(row.agreements_judged and not row.agreements_keeping)
        result[pk] = states.Row(
            judged=bool(row.agreements_judged),
            breached=breached,
            overdue_promises=overdue.get(pk, 0),
            clawback_due=breached and pk in reclaimable,
            at_risk_terms=at_risk.get(pk, []),
            paid=row.paid,
            withheld=row.withheld,
            clawed_back=row.clawed_back,
            analysis={name: getattr(row, name) for name in states.ANALYSIS},
            project_unit=project_unit,
            cohort=cohort,
            term_statuses=term_statuses.get(pk, {}),
            promise_statuses=promise_statuses.get(pk, {}),
        )
    return result


def refresh_states(
    agreements: QuerySet[Agreement] | None = None,
    seen: Collection[tuple[int, int]] | None = None,
    *,
    wait_ms: int = 5000,
) -> int:
    """Recompute and store the stale states of ``agreements`` (all by default; decision
    0020): the nightly run, a read's few, the demo's seeding."""
    return states.refresh(agreements, seen, compute=compute_states, wait_ms=wait_ms)


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


# --- 履约 rates (issue #20): each defined once, for the cockpit, the bulletin and their tests ---


def rate(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """A rate in % to one decimal; None over a zero denominator (the pages print "—")."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"))


def per_mu(amount: Decimal, land: Decimal) -> Decimal | None:
    """万元 per 亩 to 0.01; None over no land."""
    if not land:
        return None
    return (Decimal(amount) / Decimal(land)).quantize(Decimal("0.01"))


# The statuses a term is judged by (已履约 or in breach): the denominators of the term rates.
JUDGED_STATUSES = (TermStatus.MET, *BREACH_STATUSES)
# The commitment each term rate counts (docs/domain.md, "履约率 and the other rates").
RATE_METRICS = {
    "start": Metric.START_BY,  # 开工率: 按期开工 commitments met / judged
    "produce": Metric.PRODUCE_BY,  # 投产率: 按期投产 commitments met / judged
    "output": Metric.FULL_OUTPUT,  # 达产率: 达产产值 commitments met / judged
    "capital": Metric.TOTAL_INVESTMENT,  # 资金到位率: Σ min(value, target) / Σ target, judged
}
# The metrics a per-亩 figure divides by the verified land (亩) of the same agreement.
PER_MU_METRICS = {"intensity": Metric.TOTAL_INVESTMENT, "tax_per_mu": Metric.ANNUAL_TAX}


@dataclass(frozen=True)
class KeepingRow:
    """The agreement figures of one group — a unit's sub-tree, its own records, a signing-year
    cohort or the bureau — on a date, each rate kept as its numerator and denominator (what
    the bulletin freezes), each part counted by a list filter (``promo/agreements/filters``)."""

    agreements_judged: int = 0
    agreements_keeping: int = 0
    start_judged: int = 0
    start_met: int = 0
    produce_judged: int = 0
    produce_met: int = 0
    output_judged: int = 0
    output_met: int = 0
    capital_judged: int = 0
    capital_target: Decimal = Decimal("0")
    capital_in: Decimal = Decimal("0")
    promises_due: int = 0
    promises_kept: int = 0
    paid: Decimal = Decimal("0")
    withheld: Decimal = Decimal("0")
    clawed_back: Decimal = Decimal("0")
    intensity_agreements: int = 0
    intensity_amount: Decimal = Decimal("0")
    intensity_land: Decimal = Decimal("0")
    tax_per_mu_agreements: int = 0
    tax_per_mu_amount: Decimal = Decimal("0")
    tax_per_mu_land: Decimal = Decimal("0")

    @property
    def keeping_rate(self) -> Decimal | None:
        """履约率: agreements keeping every judged term / agreements with a judged term."""
        return rate(self.agreements_keeping, self.agreements_judged)

    @property
    def start_rate(self) -> Decimal | None:
        return rate(self.start_met, self.start_judged)

    @property
    def produce_rate(self) -> Decimal | None:
        return rate(self.produce_met, self.produce_judged)

    @property
    def output_rate(self) -> Decimal | None:
        return rate(self.output_met, self.output_judged)

    @property
    def capital_rate(self) -> Decimal | None:
        return rate(self.capital_in, self.capital_target)

    @property
    def promise_rate(self) -> Decimal | None:
        """政府承诺按期兑现率: delivered by the due date / delivered or overdue."""
        return rate(self.promises_kept, self.promises_due)

    @property
    def intensity(self) -> Decimal | None:
        """亩均投资强度 (万元/亩)."""
        return per_mu(self.intensity_amount, self.intensity_land)

    @property
    def tax_per_mu(self) -> Decimal | None:
        """亩均税收 (万元/亩)."""
        return per_mu(self.tax_per_mu_amount, self.tax_per_mu_land)


KEEPING_FIELDS = tuple(f for f in KeepingRow.__dataclass_fields__)


def _latest_verified(metric: str, on: date | None) -> Subquery:
    """An agreement's (OuterRef) latest verified value of ``metric`` measured by ``on``."""
    return Subquery(
        Measurement.objects.filter(
            term__agreement_id=OuterRef("pk"),
            term__metric=metric,
            verified_at__isnull=False,
            measured_on__lte=on or today(),
        )
        .order_by("-measured_on", "-id")
        .values("value")[:1],
        output_field=_AMOUNT,
    )


def with_per_mu_values(qs: QuerySet[Any], on: date | None = None) -> QuerySet[Any]:
    """Agreements with ``land`` and each per-亩 metric's latest verified value by ``on``, and
    ``has_<figure>``: both verified and the land above zero (what the figure divides)."""
    values = {"land": _latest_verified(Metric.LAND, on)}
    values.update({name: _latest_verified(m, on) for name, m in PER_MU_METRICS.items()})
    qs = qs.annotate(**{f"mu_{name}": value for name, value in values.items()})
    return qs.annotate(
        **{
            f"has_{name}": ExpressionWrapper(
                Q(**{f"mu_{name}__isnull": False, "mu_land__gt": 0}), output_field=BooleanField()
            )
            for name in PER_MU_METRICS
        }
    )


Grouping = Callable[[str], Any]


_Aggregate = tuple[str, tuple[Any, ...]]  # SQL over the inner query's columns, its values


def _grouped(
    qs: QuerySet[Any],
    key: Expression | Any,
    columns: dict[str, Any],
    aggregates: dict[str, _Aggregate],
) -> dict:
    """``{group key: {name: value}}``: each row's ``columns`` (expressions, or names of its
    fields and annotations) computed once in an inner query, then ``aggregates`` (SQL over
    those columns, with their ``%s`` values) grouped outside it. Written so because
    the ORM repeats an annotation's SQL in every aggregate that filters on it, and PostgreSQL
    evaluates each copy: a commitment's status (with its subquery) ten times per row."""
    named = {name: F(value) if isinstance(value, str) else value for name, value in columns.items()}
    inner = qs.annotate(**{f"c_{name}": value for name, value in named.items()}, group_key=key)
    inner = inner.values("group_key", *(f"c_{name}" for name in named)).order_by()
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # nothing to read (an administrator sees no agreement): no group
        return {}
    selected: list[str] = []
    outer: list[Any] = []
    for name, (text, values) in aggregates.items():
        selected.append(f"{text} AS {name}")
        outer.extend(values)
    with connections[inner.db].cursor() as cursor:
        cursor.execute(
            # MATERIALIZED: else the planner pulls the inner query up and copies each
            # column's expression back into every aggregate.
            f"WITH g AS MATERIALIZED ({sql}) "
            f"SELECT group_key, {', '.join(selected)} FROM g GROUP BY group_key",
            [*params, *outer],
        )
        names = [column.name for column in cursor.description]
        return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def _sql(text: str, *values: Any) -> _Aggregate:
    return text, values


def _count_where(condition: str, *values: Any) -> _Aggregate:
    return f"COUNT(*) FILTER (WHERE {condition})", values


def _sum_where(column: str, condition: str, *values: Any) -> _Aggregate:
    return f"COALESCE(SUM({column}) FILTER (WHERE {condition}), 0)", values


def _in(values: Collection[str]) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def keeping_rows(
    *,
    group: Grouping,
    agreements: QuerySet[Agreement] | None = None,
    on: date | None = None,
) -> dict[Any, KeepingRow]:
    """The ``KeepingRow`` of each group, on ``on``: ``group(project_path)`` gives a row's group
    (a unit bucket, ``cohort_year``, or a constant for the bureau). Four grouped queries (the
    agreements, the terms, the promises, the per-亩 values) whatever the number of groups,
    each computing a row's statuses once (``_grouped``).
    ``agreements``: the agreements counted (all of them by default)."""
    agreements = Agreement.objects.all() if agreements is None else agreements
    ids = agreements.values("pk")
    result: dict[Any, dict[str, Any]] = {}

    def merge(rows: dict[Any, dict[str, Any]]) -> None:
        for key, values in rows.items():
            result.setdefault(key, {}).update(
                {name: value if value is not None else 0 for name, value in values.items()}
            )

    condition = _agreement_conditions(on)
    merge(
        _grouped(
            agreements,
            group("project"),
            {"judged": condition["judged"], "breached": condition["breached"]},
            {
                "agreements_judged": _count_where("c_judged"),
                "agreements_keeping": _count_where("c_judged AND NOT c_breached"),
            },
        )
    )
    judged = _in(JUDGED_STATUSES)
    term_aggregates: dict[str, _Aggregate] = {}
    for name in ("start", "produce", "output"):
        metric = RATE_METRICS[name]
        term_aggregates[f"{name}_judged"] = _count_where(
            f"c_metric = %s AND c_status IN {judged}", metric, *JUDGED_STATUSES
        )
        term_aggregates[f"{name}_met"] = _count_where(
            "c_metric = %s AND c_status = %s", metric, TermStatus.MET
        )
    capital = f"c_metric = %s AND c_status IN {judged}"
    capital_values = (RATE_METRICS["capital"], *JUDGED_STATUSES)
    term_aggregates.update(
        capital_judged=_count_where(capital, *capital_values),
        capital_target=_sum_where("c_target", capital, *capital_values),
        capital_in=_sum_where(
            "LEAST(COALESCE(c_due_value, 0), c_target)", capital, *capital_values
        ),
    )
    terms = terms_with_status(Term.objects.filter(agreement_id__in=ids), on)
    merge(
        _grouped(
            terms,
            group("agreement__project"),
            {"metric": "metric", "status": "status", "target": "target", "due_value": "due_value"},
            term_aggregates,
        )
    )
    promises = promises_with_status(Promise.objects.filter(agreement_id__in=ids), on)
    merge(
        _grouped(
            promises,
            group("agreement__project"),
            {
                "status": "status",
                "payment": "payment",
                "amount": "amount",
                "paid_amount": "paid_amount",
                "clawed_back_amount": "clawed_back_amount",
            },
            {
                "promises_due": _count_where(
                    f"c_status IN {_in(PROMISES_FALLEN_DUE)}", *PROMISES_FALLEN_DUE
                ),
                "promises_kept": _count_where("c_status = %s", PromiseStatus.KEPT),
                "paid": _sum_where("c_paid_amount", f"c_payment IN {_in(EVER_PAID)}", *EVER_PAID),
                "withheld": _sum_where("c_amount", "c_payment = %s", Payment.WITHHELD),
                "clawed_back": _sql("COALESCE(SUM(c_clawed_back_amount), 0)"),
            },
        )
    )
    mu_aggregates: dict[str, _Aggregate] = {}
    for name in PER_MU_METRICS:
        has = f"c_{name} IS NOT NULL AND c_land > 0"
        mu_aggregates[f"{name}_agreements"] = _count_where(has)
        mu_aggregates[f"{name}_amount"] = _sum_where(f"c_{name}", has)
        mu_aggregates[f"{name}_land"] = _sum_where("c_land", has)
    merge(
        _grouped(
            with_per_mu_values(agreements, on),
            group("project"),
            {"land": "mu_land", **{name: f"mu_{name}" for name in PER_MU_METRICS}},
            mu_aggregates,
        )
    )
    return {key: KeepingRow(**values) for key, values in result.items()}


def stored_keeping_rows(
    *, group: Grouping, agreements: QuerySet[Agreement], key: Any = None
) -> dict[Any, KeepingRow] | None:
    """``keeping_rows`` for today read from the agreements' stored states (decision 0020): one
    grouped query over one state per agreement instead of every commitment's and promise's
    status (``_from_fresh_states``: the stale ones recomputed first; None, the caller
    computes live, when some stay stale). ``key``, when given, is ``group``'s key read from
    the states' own columns (``state__project_unit``, ``state__cohort``): no join to the
    projects. A stale state's columns are never read: the rows are read again once the
    stale states are recomputed."""
    fresh = Q(state__on_day=today())
    zero = Value(Decimal("0"), output_field=_AMOUNT)
    # Over every state, fresh or not: the rows are used only when all are (``_state_sum``).
    sums: dict[str, Any] = {
        "agreements_judged": Count("pk", filter=Q(state__judged=True)),
        "agreements_keeping": Count("pk", filter=Q(state__judged=True, state__breached=False)),
    }
    for name in ("paid", "withheld", "clawed_back", *states.ANALYSIS):
        numeric = states.ANALYSIS.get(name, "numeric") == "numeric"
        sums[name] = _state_sum(name, zero if numeric else Value(0))
    grouped = (
        agreements.annotate(group_key=group("project") if key is None else key)
        .order_by()
        .values("group_key")
        .annotate(n_total=Count("pk"), n_fresh=Count("pk", filter=fresh), **sums)
    )

    def read() -> tuple[dict[Any, KeepingRow], bool]:
        result, all_fresh = {}, True
        for row in grouped.all():  # a new query each time
            if row.pop("n_fresh") != row.pop("n_total"):
                all_fresh = False
            key = row.pop("group_key")
            result[key] = KeepingRow(**row)
        return result, all_fresh

    return _from_fresh_states(agreements, read)


def term_list(
    officer: Officer,
    *,
    metric: str = "",
    status: str = "",
    unit: Unit | None = None,
    own: bool = False,
    cohort: int | None = None,
    on: date | None = None,
) -> QuerySet[Any] | Counted:
    """The investor's commitments an officer sees, with status and trend, by due date: the
    list each term rate of the bulletin links to (``status=judged``: 已履约 or in breach;
    ``status=at_risk``: ``term_at_risk``)."""

    def shown(terms: QuerySet[Term]) -> QuerySet[Any]:
        qs = terms_with_trend(terms, on).select_related("agreement", "agreement__project")
        return qs.filter(metric=metric) if metric in Metric.values else qs

    if status == "at_risk" and (on is None or on == today()):
        # Today, read from the agreements' stored states which commitments are at risk
        # (decision 0020) instead of drawing every commitment's trend — when every state in
        # scope is of today; else (a missed night) draw them, as for a past day.
        scope = _in_unit(
            agreements_visible_to(officer), unit, "project", own=own, cohort=cohort, signed_by=on
        )
        if states.ensure_fresh(scope, compute=compute_states):
            # The ids are of the scope (visible, in the unit, of the cohort): the page walks
            # the commitments by due date from today (a term at risk is not yet due) and keeps
            # those in the list, hashed; no join decides who sees them.
            # A bureau-wide reader's whole list (no unit, cohort or day): every state.
            whole = sees_every_agreement(officer) and unit is None and cohort is None and on is None
            ids = states.at_risk_term_ids(None if whole else scope)
            listed = Term.objects.filter(InArray(F("pk"), ids), due_on__gte=today())
            rows = shown(listed).order_by("due_on", "id")
            if metric not in Metric.values:
                return Counted(rows, len(ids))
            # Counted without the columns' joins to the agreements and projects.
            return Counted(rows, listed.filter(metric=metric).count())
    qs = shown(
        _in_unit(
            terms_visible_to(officer),
            unit,
            "agreement__project",
            own=own,
            cohort=cohort,
            signed_by=on,
        )
    )
    if status == "judged":
        qs = qs.filter(status__in=JUDGED_STATUSES)
    elif status == "at_risk":
        qs = qs.filter(at_risk=True)
    elif status in TermStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("due_on", "id")
