"""Reads of the leads app; every query here starts from the visibility scope."""

from __future__ import annotations

import functools
import operator
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from officers import permissions
from officers.choices import AssignmentRole
from officers.models import Assignment, Officer
from officers.selectors import scope_for

from .choices import LEAD_TRANSITIONS, OPEN_LEAD_STATUSES, AssistRequestStatus, ClaimStatus
from .filters import LeadFilter, VisitFilter
from .forms import LeadSearchForm
from .models import (
    Intermediary,
    Investor,
    Lead,
    LeadAssistRequest,
    LeadClaim,
    PromotionEvent,
    Visit,
)
from .normalize import core_name, normalize_credit_code, normalize_name


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
    if scope.own_records_only:
        return qs.filter(
            Q(created_by_id=officer.pk)
            | Exists(Lead.objects.filter(investor_id=OuterRef("pk"), created_by_id=officer.pk))
        )
    return qs.filter(
        Q(unit_id__in=scope.unit_ids)
        | Exists(leads_visible_to(officer).filter(investor_id=OuterRef("pk")))
        | Exists(Visit.objects.filter(investor_id=OuterRef("pk"), unit_id__in=scope.unit_ids))
    )


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
