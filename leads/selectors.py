"""Reads of the leads app; every query here starts from the visibility scope."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, TruncDate
from django.utils import timezone

from officers import permissions
from officers.choices import AssignmentRole
from officers.models import Assignment, Officer
from officers.selectors import Scope, scope_for

from .choices import (
    LEAD_TRANSITIONS,
    OPEN_LEAD_STATUSES,
    REFERRAL_CHANNELS,
    AssistRequestStatus,
    ClaimStatus,
    ClockState,
    ClockStep,
    LeadStatus,
)
from .filters import LeadFilter, VisitFilter
from .forms import LeadSearchForm
from .models import (
    Intermediary,
    Investor,
    Lead,
    LeadAssistRequest,
    LeadClaim,
    LeadStatusEvent,
    PromotionEvent,
    ReferrerFeedback,
    Visit,
)
from .normalize import core_name, normalize_credit_code, normalize_name, search_terms


def search_match(query: str) -> Q | None:
    """The records whose search keys (``search_text``, docs/search.md) hold every term of
    ``query``; None when no term is long enough to search (one character).

    A term of three or more characters matches anywhere in the keys, a two-character term
    the start of a key; both are ``LIKE`` patterns pg_trgm's GIN index answers, case-folded
    like the keys so no ``UPPER()`` keeps the index away.
    """
    terms = search_terms(query)
    if not terms:
        return None
    return functools.reduce(
        operator.and_,
        (Q(search_text__contains=term if len(term) > 2 else " " + term) for term in terms),
    )


def _assigned_to(officer: Officer) -> Exists:
    return Exists(Assignment.objects.filter(lead_id=OuterRef("pk"), officer_id=officer.pk))


def _lead_key_conditions(officer: Officer, key: str) -> list[Q]:
    """``key`` (a lead id column) names a lead of the officer's units, or one they work on.

    Two conditions each answered from an index (the leads of the units, the officer's
    assignments), not ``key IN leads_visible_to(...)``: the OR inside one sub-query made
    PostgreSQL read all 300,000 leads to build it, 67 ms of a unit head's 76 ms visit page at
    province scale. Only for a scope of units (not everything, nothing or own records).
    """
    scope = scope_for(officer)
    return [
        Q(**{f"{key}__in": Lead.objects.filter(unit_id__in=scope.unit_ids).values("pk")}),
        Q(
            **{
                f"{key}__in": Assignment.objects.filter(
                    officer_id=officer.pk, lead_id__isnull=False
                ).values("lead_id")
            }
        ),
    ]


def lead_visible_q(officer: Officer, key: str = "lead") -> Q:
    """``key`` (a lead's id column on another table) names a lead ``leads_visible_to`` shows:
    the same set as ``Q(key__in=leads_visible_to(officer).values("pk"))``."""
    scope = scope_for(officer)
    if scope.is_everything:
        return Q(**{f"{key}__isnull": False})
    if scope.officer_id is None:
        return Q(pk__in=[])
    if scope.own_records_only:
        return Q(**{f"{key}__in": Lead.objects.filter(created_by_id=officer.pk).values("pk")})
    return functools.reduce(operator.or_, _lead_key_conditions(officer, key))


def _lead_conditions(officer: Officer) -> list[Q] | None:
    """The conditions whose union is the officer's leads; None for the whole bureau."""
    scope = scope_for(officer)
    if scope.is_everything:
        return None
    if scope.officer_id is None:
        return [Q(pk__in=[])]
    if scope.own_records_only:
        return [Q(created_by_id=officer.pk)]
    return [Q(unit_id__in=scope.unit_ids), Q(_assigned_to(officer))]


def _visit_conditions(officer: Officer) -> list[Q] | None:
    """The conditions whose union is the officer's visits; None for the whole bureau."""
    scope = scope_for(officer)
    if scope.is_everything:
        return None
    if scope.officer_id is None:
        return [Q(pk__in=[])]
    attended = Q(
        Exists(
            Visit.officers.through.objects.filter(visit_id=OuterRef("pk"), officer_id=officer.pk)
        )
    )
    if scope.own_records_only:
        return [Q(created_by_id=officer.pk), attended]
    return [Q(unit_id__in=scope.unit_ids), attended, *_lead_key_conditions(officer, "lead")]


def _disjoint(conditions: list[Q] | None) -> list[Q] | None:
    """The same union as parts that do not overlap: each part excludes the earlier ones."""
    if conditions is None or len(conditions) < 2:
        return None
    return [
        functools.reduce(operator.and_, (~earlier for earlier in conditions[:i]), condition)
        for i, condition in enumerate(conditions)
    ]


def lead_scope_parts(officer: Officer) -> list[Q] | None:
    """``leads_visible_to``'s set as disjoint conditions, each one an index can answer alone
    (for counting: the OR of them made PostgreSQL read every lead); None when it is one.

    Not for visits: there the later parts exclude sub-query conditions, and PostgreSQL
    answered those by reading every visit (290 ms where the OR took 18 ms).
    """
    return _disjoint(_lead_conditions(officer))


def _visible(model, officer: Officer, conditions: list[Q] | None) -> QuerySet:
    if conditions is None:
        return model.objects.all()
    if scope_for(officer).officer_id is None:
        return model.objects.none()
    return model.objects.filter(functools.reduce(operator.or_, conditions))


def leads_visible_to(officer: Officer) -> QuerySet[Lead]:
    """Leads of the officer's units, plus leads the officer assists on (协办) elsewhere."""
    return _visible(Lead, officer, _lead_conditions(officer))


def visits_visible_to(officer: Officer) -> QuerySet[Visit]:
    """Visits logged in the officer's units, on visible leads, or attended by the officer."""
    return _visible(Visit, officer, _visit_conditions(officer))


def investors_visible_to(officer: Officer) -> QuerySet[Investor]:
    """Investors registered by the officer's units or met through a visible lead or visit."""
    scope = scope_for(officer)
    qs = Investor.objects.all()
    if scope.is_everything:
        return qs
    if scope.officer_id is None:
        return qs.none()
    registered = _registered_by_own(officer, scope)
    if scope.own_records_only:
        return qs.filter(
            registered
            | Exists(Lead.objects.filter(investor_id=OuterRef("pk"), created_by_id=officer.pk))
        )
    return qs.filter(
        registered
        | Exists(leads_visible_to(officer).filter(investor_id=OuterRef("pk")))
        | Exists(Visit.objects.filter(investor_id=OuterRef("pk"), unit_id__in=scope.unit_ids))
    )


def investors_of_own_units(officer: Officer) -> QuerySet[Investor]:
    """The first branch of :func:`investors_visible_to` on its own — investors registered by
    the officer's units (their own, for an officer who sees only their own records): a subset
    of it, one index probe to plan and run. A lookup of one investor tries it first (an
    officer's visit, lead or project is mostly for their units' investor) and asks
    ``investors_visible_to`` only when it finds nothing: building and planning that selector's
    lead and visit subqueries was 1.4 of the 2.0 ms such a lookup took."""
    scope = scope_for(officer)
    if scope.is_everything:
        return Investor.objects.all()
    if scope.officer_id is None:
        return Investor.objects.none()
    return Investor.objects.filter(_registered_by_own(officer, scope))


def _registered_by_own(officer: Officer, scope: Scope) -> Q:
    """Investors' first way into a scope, shared by the two selectors above: registered by
    the officer's units, or by the officer for one who sees only their own records."""
    if scope.own_records_only:
        return Q(created_by_id=officer.pk)
    return Q(unit_id__in=scope.unit_ids)


def intermediaries_visible_to(officer: Officer) -> QuerySet[Intermediary]:
    scope = scope_for(officer)
    if scope.is_everything:
        return Intermediary.objects.all()
    if scope.own_records_only or scope.officer_id is None:
        return Intermediary.objects.none()
    return Intermediary.objects.filter(unit_id__in=scope.unit_ids)


def promotion_events_visible_to(officer: Officer) -> QuerySet[PromotionEvent]:
    """Promotion events are public inside the bureau: every unit may bring investors to them."""
    if scope_for(officer).officer_id is None:
        return PromotionEvent.objects.none()
    return PromotionEvent.objects.all()


def lead_list(officer: Officer) -> QuerySet[Lead]:
    """The lead list with everything a row shows, in a fixed number of queries."""
    return leads_visible_to(officer).select_related("investor", "unit", "created_by")


def with_next_step_due(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Each lead's ``next_step_due``: the date the next step agreed at its latest visit is due.

    A subquery in the list's own query, so a phone's card shows it at no extra query; read
    on the ``leads_visit_lead_date`` index, evaluated only for the rows of the page.
    """
    latest = Visit.objects.filter(lead=OuterRef("pk")).order_by("-visited_on", "-id")
    return leads.annotate(next_step_due=Subquery(latest.values("next_step_due")[:1]))


def _filtered(filterset, base: QuerySet) -> QuerySet:
    """The FilterSet's rows; none for a bad filter value (the form shows why), never a 500."""
    if not filterset.is_bound:
        return base
    if not filterset.is_valid():
        return base.none()
    return filterset.qs


def lead_list_for(
    officer: Officer, params, *, request=None
) -> tuple[LeadFilter, LeadSearchForm, QuerySet[Lead]]:
    """The lead list (项目信息) for these query parameters, unpaged: the page, its export.

    The officer's leads filtered by the shared LeadFilter (the API filters with it too), then
    LeadSearchForm's "only mine" and sort. Returns the bound FilterSet and form for the page.
    """
    base = lead_list(officer)
    filterset = LeadFilter(params or None, queryset=base, request=request)
    search = LeadSearchForm(params or None)
    qs = _filtered(filterset, base)
    sort = LeadSearchForm.SORTS["-created"]
    if search.is_valid():
        if search.cleaned_data["mine"]:
            qs = qs.filter(_assigned_to(officer))
        sort = LeadSearchForm.SORTS.get(search.cleaned_data["sort"] or "-created", sort)
    return filterset, search, qs.order_by(*sort)


def visit_list(officer: Officer) -> QuerySet[Visit]:
    """Visits the officer may see with everything a row shows, in a fixed number of queries."""
    return (
        visits_visible_to(officer)
        .select_related("investor", "lead", "unit")
        .prefetch_related(
            Prefetch(
                "officers",
                queryset=Officer.objects.all(),
                to_attr="present",
            )
        )
    )


def visit_list_for(
    officer: Officer, params, *, request=None
) -> tuple[VisitFilter, QuerySet[Visit]]:
    """The visit list (走访记录) for these query parameters, newest first, unpaged: the page
    and its export; the API filters the same visits with the same VisitFilter."""
    base = visit_list(officer)
    filterset = VisitFilter(params or None, queryset=base, request=request)
    # Index leads_visit_list_date_id: the newest page without sorting every visit.
    return filterset, _filtered(filterset, base).order_by("-visited_on", "-id")


def stale_leads(officer: Officer, *, days: int, today: date) -> QuerySet[Lead]:
    """Open leads with no follow-up for ``days`` days (no visit at all counts from creation)."""
    cutoff = today - timedelta(days=days)
    return (
        leads_visible_to(officer)
        .filter(status__in=OPEN_LEAD_STATUSES)
        .filter(
            Q(last_activity_on__lt=cutoff)
            | Q(last_activity_on__isnull=True, created_at__date__lt=cutoff)
        )
    )


def investor_find_similar(
    *, name: str, name_en: str = "", credit_code: str = "", exclude_pk: int | None = None
) -> QuerySet[Investor]:
    """Investors that are probably the same company (客商查重), searched bureau-wide.

    Duplicates must be caught even across units, so this deliberately ignores visibility;
    callers show only the name and holder of a match outside the officer's scope.
    """
    normalized = normalize_name(name)
    normalized_en = normalize_name(name_en)
    code = normalize_credit_code(credit_code)
    condition = Q()
    if normalized:
        condition |= (
            Q(normalized_name=normalized)
            | Q(normalized_name_en=normalized)
            | Q(core_name=core_name(normalized))
        )
    if normalized_en:
        condition |= Q(normalized_name=normalized_en) | Q(normalized_name_en=normalized_en)
    if code:
        condition |= Q(credit_code=code)
    if not condition:
        return Investor.objects.none()
    qs = Investor.objects.filter(condition).select_related("unit")
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs


def duplicate_candidates(officer: Officer, similar) -> list[dict]:
    """Likely duplicates as the officer may be shown them (客商查重, 防撞单).

    Every match says that it exists and who holds it: name, holding unit and since when.
    Only those the officer may see carry an ``id`` and are ``selectable`` — another unit's
    investor can be seen to exist, never picked to log a visit, lead or project on it.
    ``open_leads`` names the open leads on it the officer does not see (id, holding unit,
    since when): the way in is a request to join one as 协办 (``lead_assist_request``), which
    the holding unit's head decides.
    """
    similar = list(similar)
    ids = [inv.pk for inv in similar]
    visible = set(investors_visible_to(officer).filter(pk__in=ids).values_list("pk", flat=True))
    open_leads: dict[int, list[dict]] = {}
    if ids:
        unseen = (
            Lead.objects.filter(investor_id__in=ids, status__in=OPEN_LEAD_STATUSES)
            .exclude(lead_visible_q(officer, "pk"))
            .order_by("created_at", "pk")
            .values_list("investor_id", "pk", "unit__name", "created_at")
        )
        for investor_id, pk, unit_name, created_at in unseen:
            open_leads.setdefault(investor_id, []).append(
                {"id": pk, "unit": unit_name, "since": timezone.localdate(created_at).isoformat()}
            )
    return [
        {
            "id": inv.pk if inv.pk in visible else None,
            "name": inv.name,
            "unit": inv.unit.name,
            "since": timezone.localdate(inv.created_at).isoformat(),
            "selectable": inv.pk in visible,
            "open_leads": open_leads.get(inv.pk, []),
        }
        for inv in similar
    ]


def active_leads_for_investor(investor: Investor) -> QuerySet[Lead]:
    """Open leads on one investor, bureau-wide (防撞单: who already holds it)."""
    return (
        Lead.objects.filter(investor=investor, status__in=OPEN_LEAD_STATUSES)
        .select_related("unit", "created_by")
        .order_by("created_at")
    )


def claims_visible_to(officer: Officer) -> QuerySet[LeadClaim]:
    """Claims where either side is in the officer's scope (heads settle their own)."""
    scope = scope_for(officer)
    qs = LeadClaim.objects.select_related("lead", "claimant", "claimant_unit", "holder_unit")
    if scope.is_everything:
        return qs
    if scope.officer_id is None or scope.own_records_only:
        return qs.none()
    return qs.filter(
        Q(claimant_unit_id__in=scope.unit_ids)
        | Q(holder_unit_id__in=scope.unit_ids)
        | Q(claimant_id=officer.pk)
    )


def claims_awaiting(officer: Officer) -> QuerySet[LeadClaim]:
    """Open claims waiting for this officer's decision: a chief's all, a head's own side."""
    open_claims = claims_visible_to(officer).filter(status=ClaimStatus.OPEN)
    if permissions.is_bureau_wide(officer):
        return open_claims
    if not permissions.may_decide_claims(officer) or officer.unit_id is None:
        return open_claims.none()
    return open_claims.filter(
        Q(holder_unit_id=officer.unit_id, holder_decision="")
        | Q(claimant_unit_id=officer.unit_id, claimant_decision="")
    )


def assist_requests_visible_to(officer: Officer) -> QuerySet[LeadAssistRequest]:
    """Requests to join as 协办 on the officer's units' leads, and the officer's own."""
    scope = scope_for(officer)
    qs = LeadAssistRequest.objects.select_related(
        "lead", "lead__unit", "lead__investor", "requester", "requester__unit", "decided_by"
    )
    if scope.is_everything:
        return qs
    if scope.officer_id is None or scope.own_records_only:
        return qs.none()
    return qs.filter(Q(lead__unit_id__in=scope.unit_ids) | Q(requester_id=officer.pk))


def assist_requests_awaiting(officer: Officer) -> QuerySet[LeadAssistRequest]:
    """Open requests to join as 协办 waiting for this officer's decision: a chief's all, a unit
    head's on the leads of their units (``permissions.may_decide_assist_request``)."""
    if not permissions.may_decide_assist_requests(officer):
        return LeadAssistRequest.objects.none()
    open_requests = assist_requests_visible_to(officer).filter(status=AssistRequestStatus.OPEN)
    scope = scope_for(officer)
    if scope.unit_ids is None:
        return open_requests
    return open_requests.filter(lead__unit_id__in=scope.unit_ids)


def allowed_transitions(officer: Officer, lead) -> list[str]:
    """The statuses this officer may move this lead to, sorted: the transition table's targets
    from its status, each one the officer may take (``permissions.may_move_lead_to``, which
    the services enforce). The lead page's buttons and the API's ``allowed_transitions``.

    ``lead`` is duck-typed (``pk``, ``status``, ``unit_id``, and ``lead_officer_pk`` when a list
    read it), so a list row answers without a model instance or a query of its own.
    """
    return sorted(
        status
        for status in LEAD_TRANSITIONS.get(lead.status, frozenset())
        if permissions.may_move_lead_to(officer, lead, status)
    )


def lead_officer_pk() -> Subquery:
    """The 主办's officer id of each lead, as an annotation (``lead_officer_pk``) the permission
    predicates read instead of asking once per row."""
    return Subquery(
        Assignment.objects.filter(lead_id=OuterRef("pk"), role=AssignmentRole.LEAD).values(
            "officer_id"
        )[:1]
    )


# --- The enquiry clock (办理时限): docs/domain.md "The enquiry clock" --------------------------


def clock_step_days() -> dict[str, int]:
    """Days allowed for each step of the enquiry clock (settings ``PROMO_CLOCK_*_DAYS``)."""
    return {
        ClockStep.RESPOND: settings.PROMO_CLOCK_RESPOND_DAYS,
        ClockStep.ASSESS: settings.PROMO_CLOCK_ASSESS_DAYS,
        ClockStep.REFERRER_FEEDBACK: settings.PROMO_CLOCK_REFERRER_FEEDBACK_DAYS,
        ClockStep.PROGRESS_REPORT: settings.PROMO_CLOCK_PROGRESS_REPORT_DAYS,
    }


class _PlusDays(Func):
    """``date`` plus whole days (PostgreSQL: a date plus an integer is a date)."""

    template = "(%(expressions)s)"
    arg_joiner = " + "
    output_field = DateField()

    def __init__(self, day: Any, days: int) -> None:
        super().__init__(day, Cast(Value(days), IntegerField()))


def _logged_on() -> Greatest:
    """The day a visit counts for the clock: the day it was logged, never before it took place.

    A visit typed in on the 5th with the date of the 1st met nothing on the 1st: the clock
    cannot be set back by backdating a record.
    """
    return Greatest("visited_on", TruncDate("created_at"), output_field=DateField())


# Per step: the annotation with the day it was met (or, for the progress report, last
# reported), the one with who met it, and the one with the day it is due.
CLOCK_FIELDS: dict[str, tuple[str, str, str]] = {
    step: (f"clock_{step}_on", f"clock_{step}_by", f"clock_{step}_due") for step in ClockStep
}


def _responses() -> QuerySet[Visit]:
    """The visits that answer the lead of the outer query: logged on it after it was registered."""
    return Visit.objects.filter(lead_id=OuterRef("pk"), created_at__gte=OuterRef("created_at"))


def with_enquiry_clock(leads: QuerySet[Lead], *, met_by: bool = True) -> QuerySet[Lead]:
    """``leads`` annotated with their enquiry clock, in the same query (sub-queries per lead).

    For each step ``clock_<step>_on`` (met on), ``clock_<step>_by`` (officer id) and
    ``clock_<step>_due``; plus ``clock_registered_on`` and ``clock_feedback_applies``. The
    one definition the lead page, the home page and the traffic lights read.

    ``met_by=False`` leaves out who met each step (the four ``clock_<step>_by``, each a
    sub-query of its own): for a reader of the steps still due, which no one has met
    (``clock_rows`` then gives ``met_by_id`` None).
    """
    days = clock_step_days()
    registered = TruncDate("created_at", output_field=DateField())
    # The response: the first visit logged on the lead after it was registered, on the day it
    # was logged — an earlier meeting typed in now counts today (an import brings a lead's
    # history after the lead), and a record older than the lead never counts.
    first_contact = _responses().annotate(logged_on=_logged_on()).order_by("logged_on", "pk")
    assessed = LeadStatusEvent.objects.filter(
        lead_id=OuterRef("pk"), from_status=LeadStatus.INFORMATION
    ).order_by("created_at", "pk")
    fed_back = ReferrerFeedback.objects.filter(lead_id=OuterRef("pk")).order_by("created_at", "pk")
    reports = (
        Visit.objects.filter(lead_id=OuterRef("pk"), visited_on__gte=OuterRef("negotiating_on"))
        .annotate(logged_on=_logged_on())
        .order_by("-logged_on", "-pk")
    )
    on_day = TruncDate("created_at", output_field=DateField())
    clocked = leads.annotate(
        clock_registered_on=registered,
        clock_respond_on=Subquery(first_contact.values("logged_on")[:1], output_field=DateField()),
        clock_respond_due=_PlusDays(F("clock_registered_on"), days[ClockStep.RESPOND]),
        # A lead registered past 信息 (an import) has nothing left to assess.
        clock_assess_on=Case(
            When(status=LeadStatus.INFORMATION, then=Value(None, output_field=DateField())),
            default=Coalesce(
                Subquery(assessed.annotate(d=on_day).values("d")[:1], output_field=DateField()),
                F("clock_registered_on"),
            ),
            output_field=DateField(),
        ),
        clock_assess_due=_PlusDays(F("clock_registered_on"), days[ClockStep.ASSESS]),
        clock_feedback_applies=ExpressionWrapper(
            Q(intermediary_id__isnull=False) | Q(source_channel__in=REFERRAL_CHANNELS),
            output_field=BooleanField(),
        ),
        clock_referrer_feedback_on=Subquery(
            fed_back.annotate(d=on_day).values("d")[:1], output_field=DateField()
        ),
        clock_referrer_feedback_due=_PlusDays(
            F("clock_registered_on"), days[ClockStep.REFERRER_FEEDBACK]
        ),
        # The last progress report while negotiating; the next is due a period after it, or
        # before the first a period after the lead entered negotiation — or was registered, if
        # later: a lead brought in already negotiating starts its clock when it arrives, like
        # every step.
        clock_progress_report_on=Subquery(
            reports.values("logged_on")[:1], output_field=DateField()
        ),
        clock_progress_report_due=Case(
            When(
                status=LeadStatus.NEGOTIATING,
                then=_PlusDays(
                    Greatest(
                        "negotiating_on",
                        "clock_registered_on",
                        "clock_progress_report_on",
                        output_field=DateField(),
                    ),
                    days[ClockStep.PROGRESS_REPORT],
                ),
            ),
            default=Value(None, output_field=DateField()),
            output_field=DateField(),
        ),
    )
    if not met_by:
        return clocked
    return clocked.annotate(
        clock_respond_by=Subquery(first_contact.values("created_by_id")[:1]),
        clock_assess_by=Subquery(assessed.values("actor_id")[:1]),
        clock_referrer_feedback_by=Subquery(fed_back.values("actor_id")[:1]),
        clock_progress_report_by=Subquery(reports.values("created_by_id")[:1]),
    )


def clock_pending(step: str) -> Q:
    """On a ``with_enquiry_clock`` queryset: leads on which ``step`` is running and not met.

    The clock runs only while the lead is open: closing a lead stops it (a step left unmet
    shows as such on the lead's page, and lights nothing).
    """
    is_open = Q(status__in=OPEN_LEAD_STATUSES)
    if step == ClockStep.RESPOND:
        # "No response" as NOT EXISTS, the same visits as clock_respond_on's: PostgreSQL
        # answers it with one anti-join, not a sub-query per open lead (the daily lights).
        return is_open & Q(~Exists(_responses()))
    if step == ClockStep.ASSESS:
        return Q(status=LeadStatus.INFORMATION)
    if step == ClockStep.REFERRER_FEEDBACK:
        return is_open & Q(clock_feedback_applies=True, clock_referrer_feedback_on__isnull=True)
    if step == ClockStep.PROGRESS_REPORT:
        return Q(status=LeadStatus.NEGOTIATING)
    raise ValueError(step)


def clock_overdue(step: str, *, on: date) -> Q:
    """On a ``with_enquiry_clock`` queryset: ``step`` is running, not met, and was due before
    ``on`` (due on a day means done by the end of it)."""
    return clock_pending(step) & Q(**{f"{CLOCK_FIELDS[step][2]}__lt": on})


@dataclass(frozen=True)
class ClockRow:
    """One step of one lead's enquiry clock as the pages show it."""

    step: ClockStep
    due: date | None
    met_on: date | None
    met_by_id: int | None
    state: ClockState
    # Days late: past the due day when overdue; met that many days after it when met late.
    days_late: int

    @property
    def label(self) -> str:
        return str(self.step.label)


def clock_rows(lead: Lead, *, on: date) -> list[ClockRow]:
    """The steps of a ``with_enquiry_clock`` lead that apply to it, read on ``on``.

    Whether a step is pending is the same rule as ``clock_pending`` (the lights read that);
    a test holds the two together.
    """
    rows = []
    is_open = lead.status in OPEN_LEAD_STATUSES
    for step in ClockStep:
        on_field, by_field, due_field = CLOCK_FIELDS[step]
        met_on, met_by, due = (
            getattr(lead, on_field),
            getattr(lead, by_field, None),  # read without who met (met_by=False)
            getattr(lead, due_field),
        )
        applies = lead.clock_feedback_applies  # type: ignore[attr-defined]  # an annotation
        if step == ClockStep.REFERRER_FEEDBACK and not applies:
            continue
        if step == ClockStep.PROGRESS_REPORT:
            if lead.status != LeadStatus.NEGOTIATING or due is None:
                continue
            # Never "met": the last report is shown beside the next one due.
            late = max((on - due).days, 0)
            state = ClockState.OVERDUE if late else ClockState.DUE
            rows.append(ClockRow(step, due, met_on, met_by, state, late))
            continue
        if met_on is not None:
            late = max((met_on - due).days, 0)
            rows.append(
                ClockRow(
                    step, due, met_on, met_by, ClockState.MET_LATE if late else ClockState.MET, late
                )
            )
        elif not is_open:
            rows.append(ClockRow(step, due, None, None, ClockState.STOPPED, 0))
        else:
            late = max((on - due).days, 0)
            state = ClockState.OVERDUE if late else ClockState.DUE
            rows.append(ClockRow(step, due, None, None, state, late))
    return rows


def lead_clock(lead: Lead, *, on: date) -> list[dict[str, Any]]:
    """A lead's enquiry clock for its page: each step with who met it (one query for them)."""
    annotated = with_enquiry_clock(Lead.objects.filter(pk=lead.pk)).get()
    rows = clock_rows(annotated, on=on)
    ids = {row.met_by_id for row in rows if row.met_by_id is not None}
    names = {o.pk: o.display_name for o in Officer.objects.filter(pk__in=ids)} if ids else {}
    return [{"row": row, "by": names.get(row.met_by_id)} for row in rows]
