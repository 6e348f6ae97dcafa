"""Reads of the projects app; every query here starts from the visibility scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from leads.choices import OPEN_LEAD_STATUSES
from leads.models import Intermediary, Investor, InvestorContact, Lead
from leads.selectors import (
    intermediaries_visible_to,
    investors_visible_to,
    leads_visible_to,
    visits_visible_to,
)
from officers import permissions
from officers.choices import AssignmentRole, Role
from officers.models import Assignment, Officer
from officers.selectors import scope_for

from .choices import STAGE_ORDER, STAGE_TRANSITIONS, Stage
from .filters import ProjectFilter
from .forms import ProjectFilterForm
from .models import (
    EvidenceKind,
    InvestmentProgress,
    Problem,
    Project,
    ServiceVisit,
    StageEvidenceRule,
    total_investment_as_of,
)


def projects_visible_to(officer: Officer) -> QuerySet[Project]:
    """Projects of the officer's units, plus projects the officer is assigned to."""
    scope = scope_for(officer)
    qs = Project.objects.all()
    if scope.is_everything:
        return qs
    if scope.officer_id is None:
        return qs.none()
    if scope.own_records_only:
        return qs.filter(created_by_id=officer.pk)
    assigned = Exists(Assignment.objects.filter(project_id=OuterRef("pk"), officer_id=officer.pk))
    return qs.filter(Q(unit_id__in=scope.unit_ids) | assigned)


def project_scope_parts(officer: Officer) -> list[Q] | None:
    """``projects_visible_to``'s set as disjoint conditions, each one an index can answer alone:
    the projects of the officer's units, and the projects elsewhere the officer is assigned to.
    None when the scope is one condition (a chief, a department user, no scope).

    The OR of the two made PostgreSQL read every project to count a scoped officer's board
    (~90 ms at province scale) or ~3,000 rows per column (issue #19's "what is left").
    """
    scope = scope_for(officer)
    if scope.is_everything or scope.own_records_only or scope.officer_id is None:
        return None
    mine = Q(unit_id__in=scope.unit_ids)
    # Read first (a few ids, by the officer index): as a sub-query PostgreSQL walked every
    # project's primary key to merge it with the assignments (9 ms at county scale).
    assigned = list(
        Assignment.objects.filter(officer_id=officer.pk, project__isnull=False)
        .values_list("project_id", flat=True)
        .distinct()
    )
    if not assigned:
        return [mine]
    return [mine, Q(pk__in=assigned) & ~mine]


def problems_visible_to(officer: Officer) -> QuerySet[Problem]:
    """Problems on visible projects, problems a visible unit owns, and problems first asked of the officer."""
    scope = scope_for(officer)
    qs = Problem.objects.all()
    if scope.is_everything:
        return qs
    if scope.officer_id is None:
        return qs.none()
    mine = (
        Q(raised_by_id=officer.pk)
        | Q(first_asked_id=officer.pk)
        | Q(
            pk__in=Problem.escalated_to.through.objects.filter(officer_id=officer.pk).values(
                "problem_id"
            )
        )
    )
    if scope.own_records_only:
        # A department user (信息员 of 市发改委…) handles what is routed to their unit.
        routed = Q(owner_unit_id=officer.unit_id) if officer.unit_id else Q(pk__in=[])
        return qs.filter(mine | routed)
    # EXISTS per problem rather than IN over every visible project: a page that reads a few
    # problems (the home page's) checks those few instead of hashing the bureau's projects.
    return qs.filter(
        Exists(projects_visible_to(officer).filter(pk=OuterRef("project_id")))
        | Q(owner_unit_id__in=scope.unit_ids)
        | mine
    )


def problem_escalation_recipients(problem: Problem) -> list[Officer]:
    """Whom a second ask (两问终结) escalates to: the owner unit's heads, or — a unit without
    one (a department, the bureau itself) — the 局领导."""
    active = Officer.objects.filter(is_active=True).order_by("pk")
    heads = list(active.filter(unit_id=problem.owner_unit_id, role=Role.UNIT_HEAD))
    return heads or list(active.filter(role=Role.CHIEF))


def progress_visible_to(officer: Officer) -> QuerySet[InvestmentProgress]:
    return InvestmentProgress.objects.filter(project__in=projects_visible_to(officer).values("pk"))


def project_list(officer: Officer) -> QuerySet[Project]:
    return projects_visible_to(officer).select_related("investor", "unit")


def project_list_for(
    officer: Officer, params, *, request=None
) -> tuple[ProjectFilter, ProjectFilterForm, QuerySet[Project]]:
    """The project list (项目) for these query parameters, latest signing first, unpaged: the
    page and its export.

    The officer's projects filtered by the shared ProjectFilter (the API filters with it too),
    then ProjectFilterForm's size checkboxes (``size``, the page's name for ``size_class``).
    Each project carries ``shown_total``: its 总投资, or with ``investment_as_of`` the total as
    it stood that day (projects.models.total_investment_as_of). Returns the bound FilterSet
    and form for the page.
    """
    base = project_list(officer)
    filterset = ProjectFilter(params or None, queryset=base, request=request)
    form = ProjectFilterForm(params or None)
    if not filterset.is_bound:
        qs = base
    elif not filterset.is_valid():
        qs = base.none()
    else:
        qs = filterset.qs
    as_of = None
    if form.is_valid():
        if form.cleaned_data["size"]:
            qs = qs.filter(size_class__in=form.cleaned_data["size"])
        as_of = form.cleaned_data["investment_as_of"]
    shown = total_investment_as_of(as_of) if as_of is not None else F("total_investment")
    return filterset, form, qs.annotate(shown_total=shown).order_by("-contract_date", "-id")


# What a board card shows (templates/projects/project_board.html), and what orders it.
BOARD_CARD_FIELDS = ("name", "stage", "contract_date", "total_investment", "investor__name")


def project_board(
    officer: Officer, *, sizes=(), q: str = "", rows_per_stage: int = 30
) -> tuple[dict[str, int], dict[str, list[Project]]]:
    """The board (看板): how many visible projects each stage holds, and its newest
    ``rows_per_stage`` (latest signing first), narrowed by size class and a search.

    For a scoped officer the scope is read in its disjoint parts (``project_scope_parts``):
    the count is each part's count per stage, added (one query, UNION ALL); the columns are
    each part's newest rows of each stage, read in index order and cut (one query, UNION
    ALL), the newest of each stage kept. A project of the officer's units that the officer is
    also assigned to is in the first part only: never counted or shown twice.
    """

    def narrowed(qs: QuerySet[Project]) -> QuerySet[Project]:
        if sizes:
            qs = qs.filter(size_class__in=sizes)
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(investor__name__icontains=q))
        return qs

    order = ("-contract_date", "-id")
    # Only what a card shows: eight arms of three joined tables took PostgreSQL 4–8 ms to plan.
    cards = Project.objects.select_related("investor").only(*BOARD_CARD_FIELDS)
    parts = project_scope_parts(officer)
    if parts is None:
        qs = narrowed(projects_visible_to(officer))
        whole: dict[str, int] = dict(qs.order_by().values_list("stage").annotate(n=Count("pk")))
        shown = qs.select_related("investor").only(*BOARD_CARD_FIELDS)
        by_stage = {
            stage: list(shown.filter(stage=stage).order_by(*order)[:rows_per_stage])
            for stage in STAGE_ORDER
        }
        return whole, by_stage

    def union(querysets):
        first, *others = querysets
        return first.union(*others, all=True) if others else first

    grouped = [
        narrowed(Project.objects.filter(part))
        .order_by()
        .values_list("stage")
        .annotate(n=Count("pk"))
        for part in parts
    ]
    counts: dict[str, int] = {}
    for stage, n in union(grouped):
        counts[stage] = counts.get(stage, 0) + n
    tops = [
        narrowed(cards.filter(part, stage=stage)).order_by(*order)[:rows_per_stage]
        for stage in STAGE_ORDER
        for part in parts
    ]
    columns: dict[str, list[Project]] = {stage: [] for stage in STAGE_ORDER}
    for project in sorted(union(tops), key=lambda p: (p.contract_date, p.pk), reverse=True):
        if len(columns[project.stage]) < rows_per_stage:
            columns[project.stage].append(project)
    return counts, columns


def assignments_visible_to(officer: Officer) -> QuerySet[Assignment]:
    """Assignments (分工) on the leads and projects the officer sees: here, not in officers,
    because it needs both apps' visibility."""
    return Assignment.objects.select_related("officer", "lead", "project").filter(
        Q(lead__in=leads_visible_to(officer).values("pk"))
        | Q(project__in=projects_visible_to(officer).values("pk"))
    )


def allowed_stages(officer: Officer, project) -> list[str]:
    """The stages this officer may advance this project to, sorted: the stage table's next
    stage, if the officer may report the project's milestones (``may_work_records`` and
    ``may_advance_project``, as ``project_advance`` enforces). The project page's advance form
    and the API's ``allowed_stages``.

    ``project`` is duck-typed (``pk``, ``stage``, ``unit_id``, and ``lead_officer_pk`` when a
    list read it).
    """
    if not (
        permissions.may_work_records(officer) and permissions.may_advance_project(officer, project)
    ):
        return []
    return sorted(STAGE_TRANSITIONS.get(project.stage, frozenset()))


def accepted_evidence_kinds(stage: str) -> list[str]:
    """The evidence kinds the bureau accepts for moving a project into ``stage`` (any one will
    do), in the order of EvidenceKind; empty when the stage needs none. The bureau's own rows
    (StageEvidenceRule, edited in the admin), read at every change, so an edit counts at once:
    project_advance enforces it, the advance form and the import's check show it."""
    kinds = set(
        StageEvidenceRule.objects.filter(stage=stage, active=True).values_list("kind", flat=True)
    )
    return [kind for kind in EvidenceKind.values if kind in kinds]


def lead_officer_pk() -> Subquery:
    """The 主办's officer id of each project, as an annotation (``lead_officer_pk``) the
    permission predicates read instead of asking once per row."""
    return Subquery(
        Assignment.objects.filter(project_id=OuterRef("pk"), role=AssignmentRole.LEAD).values(
            "officer_id"
        )[:1]
    )


# --- the investor's page (客商) ---------------------------------------------------------------

INVESTOR_PAGE_VISITS = 20


def investor_pages_visible_to(officer: Officer) -> QuerySet[Investor]:
    """Investors whose page (/investors/<id>/) the officer may open: those
    ``investors_visible_to`` shows, and the investor of any project the officer sees (a 协办
    brought onto a project sees whose project it is)."""
    scope = scope_for(officer)
    if scope.is_everything:
        return Investor.objects.all()
    if scope.officer_id is None:
        return Investor.objects.none()
    # The two selectors' conditions OR-ed row by row (each correlated to the investor), not
    # ``pk IN (investors_visible_to …)``: PostgreSQL built that set whole — every investor,
    # lead and visit of the scope, 60 ms for a unit head at a tenth of province scale — to
    # check the few investors a search had found (docs/search.md).
    return investors_visible_to(officer) | Investor.objects.filter(
        Exists(projects_visible_to(officer).filter(investor_id=OuterRef("pk")))
    )


@dataclass
class Holder:
    """An open lead on the investor (防撞单: who holds it): the unit and since when for every
    one; the lead itself and its 主办 only when the officer sees the lead."""

    unit: Any
    since: Any
    lead: Lead | None
    lead_officer: Officer | None


@dataclass
class InvestorPage:
    investor: Investor
    holders: list[Holder]
    leads: list[Lead]
    visits: list[Any]  # Visits annotated with who was present
    more_visits: bool
    projects: list[Project]
    problems: list[Problem]
    intermediaries: list[Intermediary]
    contacts: list[InvestorContact]


def _with_lead_officer(qs: QuerySet) -> QuerySet:
    """Each row's 主办 as ``lead_officers`` (a list of at most one), in one more query."""
    return qs.prefetch_related(
        Prefetch(
            "assignments",
            queryset=Assignment.objects.filter(role=AssignmentRole.LEAD).select_related("officer"),
            to_attr="lead_assignments",
        )
    )


def investor_page(officer: Officer, investor: Investor) -> InvestorPage:
    """Everything the investor's page shows, each list through its own visibility selector,
    in a fixed number of queries however many leads, visits and projects there are
    (tests/projects/test_investor_page.py pins it)."""
    open_leads = list(
        _with_lead_officer(
            Lead.objects.filter(investor=investor, status__in=OPEN_LEAD_STATUSES)
            .select_related("unit")
            .order_by("created_at", "pk")
        )
    )
    leads = list(
        _with_lead_officer(
            leads_visible_to(officer)
            .filter(investor=investor)
            .select_related("unit")
            .order_by("-created_at", "-pk")
        )
    )
    seen = {lead.pk for lead in leads}
    holders = []
    for lead in open_leads:
        visible = lead.pk in seen
        assignment = lead.lead_assignments[0] if lead.lead_assignments else None
        holders.append(
            Holder(
                unit=lead.unit,
                since=lead.created_at,
                lead=lead if visible else None,
                lead_officer=assignment.officer if visible and assignment else None,
            )
        )
    visits = list(
        visits_visible_to(officer)
        .filter(investor=investor)
        .select_related("lead", "unit")
        .prefetch_related(Prefetch("officers", queryset=Officer.objects.all(), to_attr="present"))
        .order_by("-visited_on", "-id")[: INVESTOR_PAGE_VISITS + 1]
    )
    projects = list(
        projects_visible_to(officer)
        .filter(investor=investor)
        .select_related("unit")
        .order_by("-contract_date", "-id")
    )
    problems = list(
        problems_visible_to(officer)
        .filter(project__investor=investor)
        .select_related("project", "owner_unit")
        .order_by("status", "due_on", "id")
    )
    intermediaries = list(
        intermediaries_visible_to(officer)
        .filter(
            Exists(Lead.objects.filter(intermediary_id=OuterRef("pk"), investor=investor))
            | Q(introductions__investor=investor)
        )
        .distinct()
        .order_by("name")
    )
    contacts = list(
        InvestorContact.objects.filter(investor=investor, is_archived=False).order_by(
            "-is_primary", "name", "pk"
        )
    )
    return InvestorPage(
        investor=investor,
        holders=holders,
        leads=leads,
        visits=visits[:INVESTOR_PAGE_VISITS],
        more_visits=len(visits) > INVESTOR_PAGE_VISITS,
        projects=projects,
        problems=problems,
        intermediaries=intermediaries,
        contacts=contacts,
    )


# --- aftercare (亲商服务) ---------------------------------------------------------------------


def service_visits_visible_to(officer: Officer) -> QuerySet[ServiceVisit]:
    """Service visits (企业服务走访) on the projects the officer sees."""
    return ServiceVisit.objects.filter(project__in=projects_visible_to(officer))


def with_service_rhythm(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Each project with ``last_service_visit`` and ``service_visit_due``: the last visit (or,
    before the first, the day it produced) plus the rhythm's days — ``PROMO_GREEN_CARD_VISIT_DAYS``
    on the 服务绿卡 list, ``PROMO_SERVICE_VISIT_DAYS`` otherwise. One grouped query."""
    last = (
        ServiceVisit.objects.filter(project_id=OuterRef("pk"))
        .order_by("-visited_on")
        .values("visited_on")[:1]
    )
    days = Case(
        When(green_card=True, then=Value(settings.PROMO_GREEN_CARD_VISIT_DAYS)),
        default=Value(settings.PROMO_SERVICE_VISIT_DAYS),
        output_field=IntegerField(),
    )
    since = Coalesce(
        Subquery(last, output_field=DateField()), F("producing_actual"), F("contract_date")
    )
    return projects.annotate(
        last_service_visit=Subquery(last, output_field=DateField()),
        # PostgreSQL: date + integer is a date.
        service_visit_due=ExpressionWrapper(since + days, output_field=DateField()),
    )


def _service_visits_overdue(officer: Officer, *, day: date) -> QuerySet[Project]:
    return (
        with_service_rhythm(
            projects_visible_to(officer).filter(service_envoy_id=officer.pk, stage=Stage.PRODUCING)
        )
        .filter(Q(service_visit_due__lt=day))
        .order_by("service_visit_due", "id")
    )


def service_visits_overdue_keys(officer: Officer, *, day: date) -> QuerySet[Project, Any]:
    """The keys of ``service_visits_overdue``'s rows, in its order: for a page that reads them
    with other lists of projects (``promo.workspace.selectors.my_projects``)."""
    return _service_visits_overdue(officer, day=day).values("pk")


def with_days_overdue(rows: list[Project], *, day: date) -> list[Project]:
    """``rows`` (read ``with_service_rhythm``), each with ``days_overdue`` against ``day``."""
    for row in rows:
        row.days_overdue = (day - row.service_visit_due).days  # type: ignore[attr-defined]
    return rows


def service_visits_overdue(officer: Officer, *, day: date) -> list[Project]:
    """The producing enterprises this officer serves as envoy whose next service visit was due
    before ``day``, most overdue first, each with ``days_overdue``."""
    rows = _service_visits_overdue(officer, day=day).select_related("investor")
    return with_days_overdue(list(rows), day=day)


@dataclass(frozen=True)
class ServiceYear:
    year: int
    visits: list[ServiceVisit]


def service_visits_by_year(officer: Officer, project: Project) -> list[ServiceYear]:
    """A project's service visits grouped by year, newest first (the enterprise's aftercare page);
    the visitor, problem and lead come in the same query."""
    visits = (
        service_visits_visible_to(officer)
        .filter(project=project)
        .select_related("visited_by", "problem", "expansion_lead")
        .order_by("-visited_on", "-id")
    )
    years: dict[int, list[ServiceVisit]] = {}
    for visit in visits:
        years.setdefault(visit.visited_on.year, []).append(visit)
    return [ServiceYear(year, rows) for year, rows in years.items()]


def envoy_candidates(project: Project) -> QuerySet[Officer]:
    """Who may be offered as a project's service envoy: the active officers of its unit and
    those on its team, not department submitters (project_envoy_name checks each again)."""
    team = Assignment.objects.filter(project_id=project.pk).values("officer_id")
    return (
        Officer.objects.filter(is_active=True)
        .filter(Q(unit_id=project.unit_id) | Q(pk__in=team))
        .exclude(role=Role.DEPARTMENT_SUBMITTER)
        .order_by("pk")
    )
