"""Reads of the home page "my work" (我的工作): each starts from the visibility selectors."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Case, Count, DateField, Exists, OuterRef, Q, When
from django.db.models.functions import Least, Length

from leads.choices import OPEN_LEAD_STATUSES, ClockState, ClockStep, LeadStatus
from leads.models import LeadAssistRequest, LeadClaim, Visit
from leads.selectors import (
    CLOCK_FIELDS,
    assist_requests_awaiting,
    claims_awaiting,
    clock_pending,
    clock_rows,
    leads_visible_to,
    search_match,
    visits_visible_to,
    with_enquiry_clock,
)
from officers import permissions
from officers.models import Assignment, Officer
from projects.choices import STAGE_ORDER, ProblemStatus, Stage
from projects.models import Problem, Project
from projects.selectors import (
    investor_pages_visible_to,
    problems_visible_to,
    project_list,
    projects_visible_to,
)

HOME_ROWS = 20

# The lead statuses the home page counts (the leads still being worked on).
HOME_LEAD_STATUSES = (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING)


def follow_ups_due(officer: Officer, *, day: date) -> list[Visit]:
    """Next steps of visits the officer logged or attended, due on ``day`` or earlier.

    A later visit to the same investor counts as the follow-up having happened. Each visit
    carries ``days_overdue``.
    """
    # Logged or attended: a UNION of two indexed reads (the (created_by, next_step_due) index and
    # the attendance rows), not an OR, which kept PostgreSQL off the index (issue #19).
    logged = Visit.objects.filter(created_by_id=officer.pk, next_step_due__lte=day).order_by()
    attended = Visit.officers.through.objects.filter(
        officer_id=officer.pk, visit__next_step_due__lte=day
    ).order_by()
    followed_up = Exists(
        Visit.objects.filter(
            investor_id=OuterRef("investor_id"), visited_on__gt=OuterRef("visited_on")
        )
    )
    # The candidates' ids first, as a list: given the UNION as a sub-query, PostgreSQL
    # estimated it at a thousand rows and hashed it against every visible visit — 0.7 s for a
    # unit head with 28,000 visits once the table had been vacuumed (the bench, 2026-12-03),
    # where reading the candidates by primary key takes milliseconds.
    candidates = list(
        logged.values_list("pk", flat=True).union(attended.values_list("visit_id", flat=True))
    )
    if not candidates:
        return []
    visits = list(
        visits_visible_to(officer)
        .filter(pk__in=candidates)
        .exclude(next_step="")
        .filter(~followed_up)
        .select_related("investor", "lead")
        .order_by("next_step_due", "id")[:HOME_ROWS]
    )
    for visit in visits:
        visit.days_overdue = (day - visit.next_step_due).days
    return visits


def my_clock_steps(officer: Officer, *, day: date, until: date) -> list[dict[str, Any]]:
    """办理时限: the steps of the officer's own open leads (主办 or 协办) overdue or due by
    ``until``, oldest due first; each ``{"lead", "row"}`` (``row`` a ``ClockRow``).

    One query: the leads with a step due by ``until``, their clock annotated, ordered by their
    oldest such step; the steps of those (at most ``HOME_ROWS``) leads are then read from the
    annotations, so the page shows exactly the rows the lights' condition would.
    """
    mine = Exists(Assignment.objects.filter(lead_id=OuterRef("pk"), officer_id=officer.pk))
    due_by = {
        step: clock_pending(step) & Q(**{f"{CLOCK_FIELDS[step][2]}__lte": until})
        for step in ClockStep
    }
    leads = list(
        with_enquiry_clock(leads_visible_to(officer).filter(mine, status__in=OPEN_LEAD_STATUSES))
        .filter(functools.reduce(operator.or_, due_by.values()))
        .annotate(
            clock_first_due=Least(
                *[
                    Case(When(condition, then=CLOCK_FIELDS[step][2]), output_field=DateField())
                    for step, condition in due_by.items()
                ],
                output_field=DateField(),
            )
        )
        .select_related("investor")
        .order_by("clock_first_due", "id")[:HOME_ROWS]
    )
    steps = [
        {"lead": lead, "row": row}
        for lead in leads
        for row in clock_rows(lead, on=day)
        if row.state in (ClockState.DUE, ClockState.OVERDUE) and row.due and row.due <= until
    ]
    steps.sort(key=lambda item: (item["row"].due, item["lead"].pk))
    for item in steps:
        item["days_left"] = (item["row"].due - day).days
    return steps[:HOME_ROWS]


def my_lead_counts(officer: Officer) -> dict[LeadStatus, int]:
    """How many of the leads the officer works on (主办 or 协办) are in each open status, in
    one grouped query."""
    mine = Exists(Assignment.objects.filter(lead_id=OuterRef("pk"), officer_id=officer.pk))
    counts = dict(
        leads_visible_to(officer)
        .filter(mine)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status.value, 0) for status in HOME_LEAD_STATUSES}


def _next_milestone(project: Project) -> tuple[str | None, date | None]:
    """The next stage a project has to reach and its planned date (倒排节点)."""
    index = STAGE_ORDER.index(project.stage)
    if index + 1 >= len(STAGE_ORDER):
        return None, None
    stage = STAGE_ORDER[index + 1]
    return Stage(stage).label, project.planned_date(stage)


def my_projects(officer: Officer, *, day: date) -> list[Project]:
    """Projects not yet producing that the officer is on in any role (主办, 协办, 挂钩领导),
    each with its next milestone (``next_label``, ``next_planned``, ``next_overdue``)."""
    mine = Exists(Assignment.objects.filter(project_id=OuterRef("pk"), officer_id=officer.pk))
    projects = list(
        project_list(officer)
        .filter(mine)
        .exclude(stage=Stage.PRODUCING)
        .order_by("contract_date", "id")[:HOME_ROWS]
    )
    for project in projects:
        project.next_label, project.next_planned = _next_milestone(project)
        project.next_overdue = bool(project.next_planned and project.next_planned < day)
    return projects


def my_open_problems(officer: Officer, *, day: date) -> list[Problem]:
    """Open problems first asked of the officer (首问负责), and second asks to their unit
    (两问终结), soonest due first; each with ``days_left`` and ``days_overdue``."""
    # First asked, or asked twice of my unit: a UNION of two indexed reads, not an OR.
    asked = Problem.objects.filter(first_asked_id=officer.pk).order_by().values("pk")
    second = Problem.objects.filter(owner_unit_id=officer.unit_id, ask_count=2).order_by()
    problems = list(
        problems_visible_to(officer)
        .exclude(status=ProblemStatus.RESOLVED)
        .filter(pk__in=asked.union(second.values("pk")))
        .select_related("project", "owner_unit")
        .order_by("due_on", "id")[:HOME_ROWS]
    )
    for problem in problems:
        problem.days_left = (problem.due_on - day).days
        problem.days_overdue = -problem.days_left
    return problems


def claims_to_decide(officer: Officer) -> list[LeadClaim]:
    """防撞单: open claims waiting for the officer's side's decision, oldest first."""
    return list(
        claims_awaiting(officer)
        .select_related("lead__investor")
        .order_by("created_at", "id")[:HOME_ROWS]
    )


def assist_requests_to_decide(officer: Officer) -> list[LeadAssistRequest]:
    """Requests to join as 协办 waiting for the officer's decision, oldest first: a unit head's
    on their units' leads, a chief's all (no query for anyone else). Each is one the
    officer may decide (``may_decide_assist_request``), the predicate the service enforces."""
    rows = assist_requests_awaiting(officer).order_by("created_at", "id")[:HOME_ROWS]
    return [row for row in rows if permissions.may_decide_assist_request(officer, row)]


# --- the search box (一框搜索, issue #15) -------------------------------------------------------

SEARCH_ROWS = 10
SEARCH_ROWS_ONE_GROUP = 100
SEARCH_GROUPS = ("investors", "leads", "projects")


@dataclass
class SearchGroup:
    """One kind of record found: the first rows, and whether there are more than shown."""

    kind: str
    rows: list[Any] = field(default_factory=list)
    more: bool = False


@dataclass
class SearchResults:
    """What the header's search box found; ``searched`` is False for a query too short to
    search (every term one character), which the page answers with a hint."""

    query: str
    searched: bool
    groups: list[SearchGroup] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return any(group.rows for group in self.groups)


def _first(qs: Any, limit: int) -> tuple[list[Any], bool]:
    """The first ``limit`` rows and whether there are more: one row more is read, not counted
    (a count of a common term's matches would read them all)."""
    rows = list(qs[: limit + 1])
    return rows[:limit], len(rows) > limit


def search_everything(officer: Officer, query: str, *, only: str = "") -> SearchResults:
    """Investors, leads and projects the officer may see whose search keys (name, pinyin,
    initials, English name, credit code) hold every term of ``query``: one query a group.

    Visibility is the selectors' (the investor pages, leads and projects the officer may
    open). ``only`` names one group to list at length (the "more" link). A lead or project
    matches on its own name; its investor is found in the investors group (docs/search.md).
    """
    match = search_match(query)
    # Shortest names first (the closest matches), ordered by an expression no index serves:
    # ordered by an indexed column, PostgreSQL would read that index newest first and test
    # every row against the terms, all 300,000 leads for a rare name, instead of asking the
    # trigram index for the few matches and sorting them.
    closest = (Length("name"), "name", "pk")
    if match is None:
        return SearchResults(query=query, searched=False)
    kinds = (only,) if only in SEARCH_GROUPS else SEARCH_GROUPS
    limit = SEARCH_ROWS_ONE_GROUP if only in SEARCH_GROUPS else SEARCH_ROWS
    sources = {
        "investors": lambda: (
            investor_pages_visible_to(officer)
            .filter(match)
            .only("pk", "name", "name_en", "city", "credit_code")
            .order_by(*closest)
        ),
        "leads": lambda: (
            leads_visible_to(officer)
            .filter(match)
            .select_related("investor", "unit")
            .only("pk", "name", "status", "investor__name", "unit__name")
            .order_by(*closest)
        ),
        "projects": lambda: (
            projects_visible_to(officer)
            .filter(match)
            .select_related("investor", "unit")
            .only("pk", "name", "stage", "investor__name", "unit__name")
            .order_by(*closest)
        ),
    }
    groups = []
    for kind in kinds:
        rows, more = _first(sources[kind](), limit)
        groups.append(SearchGroup(kind=kind, rows=rows, more=more))
    return SearchResults(query=query, searched=True, groups=groups)
