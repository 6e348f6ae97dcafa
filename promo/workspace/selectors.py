"""Reads of the home page "my work" (我的工作): each starts from the visibility selectors."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, DateField, Exists, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Least, Length
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

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
from projects.choices import MILESTONE_ORDER, STAGE_ORDER, ProblemStatus, Stage
from projects.models import Problem, Project
from projects.selectors import (
    investor_pages_visible_to,
    problems_visible_to,
    project_list,
    projects_visible_to,
    service_visits_overdue_keys,
    with_days_overdue,
    with_service_rhythm,
)
from promo.core.expressions import AnyOfSubquery, named_by

from .models import CalendarFeed

HOME_ROWS = 20

# The lead statuses the home page counts (the leads still being worked on).
HOME_LEAD_STATUSES = (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING)


def follow_ups_due(officer: Officer, *, day: date) -> list[Visit]:
    """Next steps of visits the officer logged or attended, due on ``day`` or earlier.

    A later visit to the same investor counts as the follow-up having happened. Each visit
    carries ``days_overdue``.
    """
    return follow_ups_until(officer, day=day, until=day, limit=HOME_ROWS)


def follow_ups_until(officer: Officer, *, day: date, until: date, limit: int) -> list[Visit]:
    """Next steps of visits the officer logged or attended, due by ``until`` (overdue ones
    included), soonest due first, at most ``limit``; each with ``days_overdue`` against ``day``.
    The home page asks for those due by today, the calendar for the weeks ahead too."""
    # Logged or attended: a UNION of two indexed reads (the (created_by, next_step_due) index and
    # the attendance rows), not an OR, which kept PostgreSQL off the index (issue #19).
    logged = Visit.objects.filter(created_by_id=officer.pk, next_step_due__lte=until).order_by()
    # Each attended visit's due date looked up by primary key from the officer's attendance row
    # (a sub-query with LIMIT, which PostgreSQL does not turn into a join): as a join, a small
    # table was read the other way round, every due visit of the bureau against the officer's
    # attendance (tests/web/test_home.py); at province the join already ran this way (the
    # busiest of 2,000 officers: 4,552 attendances, 135 due, 17 ms warm).
    # Only visits with a due date are looked up (``leads_visit_due_by_id``, index-only): at
    # province the busiest unit head's 4,122 attendances have 113 due, and reading each
    # attended visit's row cost 14.7 of the statement's 16.4 ms (8.5 from that index).
    attended = (
        Visit.officers.through.objects.filter(officer_id=officer.pk)
        .annotate(
            due=Subquery(
                Visit.objects.filter(pk=OuterRef("visit_id"), next_step_due__isnull=False)
                .order_by()
                .values("next_step_due")[:1]
            )
        )
        .filter(due__lte=until)
        .order_by()
    )
    followed_up = Exists(
        Visit.objects.filter(
            investor_id=OuterRef("investor_id"), visited_on__gt=OuterRef("visited_on")
        )
    )
    # The candidates' ids first, then the visits by primary key, in one statement: given the
    # UNION as an IN sub-query, PostgreSQL estimated it at a thousand rows and hashed it
    # against every visible visit — 0.7 s for a unit head with 28,000 visits once the table
    # had been vacuumed (the bench, 2026-12-03), where reading the candidates by primary key
    # takes milliseconds. ``= ANY(ARRAY(…))`` runs the UNION first, once, as an init-plan.
    candidates = logged.values("pk").union(attended.values("visit_id"))
    visits = list(
        visits_visible_to(officer)
        .filter(AnyOfSubquery("pk", candidates))
        .exclude(next_step="")
        .filter(~followed_up)
        .select_related("investor", "lead")
        # What the home page and the calendar print: the step, its day, whom and which lead.
        .only("next_step", "next_step_due", "investor__name", "lead__name")
        .order_by("next_step_due", "id")[:limit]
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
        with_enquiry_clock(
            leads_visible_to(officer).filter(mine, status__in=OPEN_LEAD_STATUSES), met_by=False
        )
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
        .only("name", "status", "investor__name")  # what the rows print (and clock_rows reads)
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


@dataclass(frozen=True)
class MyProjects:
    on: list[Project]  # not yet producing, each with its next milestone
    service_overdue: list[Project]  # producing, served by me, the service visit overdue


def my_projects(officer: Officer, *, day: date) -> MyProjects:
    """Projects not yet producing that the officer is on in any role (主办, 协办, 挂钩领导),
    each with its next milestone (``next_label``, ``next_planned``, ``next_overdue``); and
    (亲商服务) the producing enterprises the officer serves as envoy whose service visit is
    overdue, each with ``days_overdue`` (``projects.selectors.service_visits_overdue``). Both
    lists in one statement (``named_by``): the one not yet producing, the other producing."""
    mine = Exists(Assignment.objects.filter(project_id=OuterRef("pk"), officer_id=officer.pk))
    on = (
        project_list(officer)
        .filter(mine)
        .exclude(stage=Stage.PRODUCING)
        .order_by("contract_date", "id")
        .values("pk")[:HOME_ROWS]
    )
    overdue = service_visits_overdue_keys(officer, day=day)
    # The rows by the keys of the two lists, each read from the projects the officer sees.
    rows = named_by(with_service_rhythm(Project.objects.select_related("investor")), on, overdue)
    lists = MyProjects(on=[], service_overdue=[])
    for project in rows.order_by("contract_date", "id"):
        if project.stage == Stage.PRODUCING:
            lists.service_overdue.append(project)
        else:
            project.next_label, project.next_planned = _next_milestone(project)
            project.next_overdue = bool(project.next_planned and project.next_planned < day)
            lists.on.append(project)
    lists.service_overdue.sort(key=lambda project: (project.service_visit_due, project.pk))
    with_days_overdue(lists.service_overdue, day=day)
    return lists


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


# --- the follow-up calendar (日程, issue #15) -------------------------------------------------

# The calendar's day is Beijing's, whatever TIME_ZONE the server was given: an officer in
# Shanghai at 04:03 on 3 December is on the 3rd, though it is still the 2nd in UTC.
BEIJING = ZoneInfo("Asia/Shanghai")
# How far ahead the calendar reads: half a year, because the 倒排节点 of a project (开工, 竣工,
# 入统…) are months apart and an officer plans them; follow-ups are mostly days ahead.
CALENDAR_DAYS = 180
# At most this many follow-ups and this many projects: the page and the feed stay bounded for
# an officer with a long backlog (the page says when the list was cut).
CALENDAR_ROWS = 200

# The kinds of item, in the order they are shown within a day.
FOLLOW_UP, STAGE, MILESTONE = "follow_up", "stage", "milestone"
_KIND_ORDER = {FOLLOW_UP: 0, STAGE: 1, MILESTONE: 2}
_PLANNED_STAGES = tuple(stage for stage in STAGE_ORDER if stage != Stage.SIGNED)


def _planned_columns() -> tuple[str, ...]:
    """The prefixes of the project's ``<x>_planned`` / ``<x>_actual`` pairs: the stages after
    signing (开工, 竣工, 投产) and the milestones after signing (注册, 供地, 入统, 入规)."""
    return (*_PLANNED_STAGES, *MILESTONE_ORDER)


def calendar_today() -> date:
    """Today in Beijing (Asia/Shanghai), not in the server's time zone."""
    return timezone.now().astimezone(BEIJING).date()


@dataclass(frozen=True)
class CalendarItem:
    """One entry of an officer's calendar: a follow-up due, or a planned project date."""

    kind: str
    # Stable across reads, so a phone calendar updates the event rather than adding another.
    uid: str
    day: date
    # What is due (the next step, "计划开工") and on what (investor and lead, or the project).
    what: str
    subject: str
    url: str
    days_overdue: int

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    @property
    def summary(self) -> str:
        """One line for a calendar event, in the active language: a follow-up says so (its
        "what" is the officer's own words), a planned date's "what" already does (计划开工)."""
        what = (
            gettext("跟进：%(step)s") % {"step": self.what} if self.kind == FOLLOW_UP else self.what
        )
        return f"{what} · {self.subject}"


@dataclass
class Calendar:
    """An officer's calendar: the items overdue, then those from today on, each by day."""

    today: date
    until: date
    items: list[CalendarItem]
    truncated: bool

    @property
    def overdue(self) -> list[CalendarItem]:
        return [item for item in self.items if item.day < self.today]

    @property
    def days(self) -> list[tuple[date, list[CalendarItem]]]:
        """The days from today on that have items (an agenda: empty days are left out)."""
        grouped: dict[date, list[CalendarItem]] = {}
        for item in self.items:
            if item.day >= self.today:
                grouped.setdefault(item.day, []).append(item)
        return list(grouped.items())


def _follow_up_items(
    officer: Officer, *, day: date, until: date
) -> tuple[list[CalendarItem], bool]:
    visits = follow_ups_until(officer, day=day, until=until, limit=CALENDAR_ROWS + 1)
    items = []
    for visit in visits[:CALENDAR_ROWS]:
        subject = visit.investor.name + (f" · {visit.lead.name}" if visit.lead else "")
        url = (
            reverse("leads:detail", args=[visit.lead_id])
            if visit.lead_id
            else reverse("projects:investor", args=[visit.investor_id])
        )
        items.append(
            CalendarItem(
                kind=FOLLOW_UP,
                uid=f"follow-up-{visit.pk}@promo",
                day=visit.next_step_due,
                what=visit.next_step,
                subject=subject,
                url=url,
                days_overdue=visit.days_overdue,
            )
        )
    return items, len(visits) > CALENDAR_ROWS


def _pending_planned(until: date) -> Q:
    """A project with a stage or a milestone after signing planned by ``until`` and not reached."""
    return functools.reduce(
        operator.or_,
        (
            Q(**{f"{column}_planned__lte": until, f"{column}_actual__isnull": True})
            for column in _planned_columns()
        ),
    )


def _project_items(officer: Officer, *, day: date, until: date) -> tuple[list[CalendarItem], bool]:
    """The planned dates (倒排节点) not yet reached of the projects the officer is on (主办,
    协办, 挂钩领导) among those they see, planned by ``until`` (overdue ones included)."""
    mine = Exists(Assignment.objects.filter(project_id=OuterRef("pk"), officer_id=officer.pk))
    projects = list(
        projects_visible_to(officer)
        .filter(mine)
        .filter(_pending_planned(until))
        .only(
            "pk",
            "name",
            *(f"{c}_{kind}" for c in _planned_columns() for kind in ("planned", "actual")),
        )
        .order_by("id")[: CALENDAR_ROWS + 1]
    )
    items = []
    for project in projects[:CALENDAR_ROWS]:
        url = reverse("projects:detail", args=[project.pk])
        for column in _planned_columns():
            planned = getattr(project, f"{column}_planned")
            if planned is None or planned > until or getattr(project, f"{column}_actual"):
                continue
            items.append(
                CalendarItem(
                    kind=STAGE if column in _PLANNED_STAGES else MILESTONE,
                    uid=f"project-{project.pk}-{column}@promo",
                    day=planned,
                    # The column's own name, "计划开工" / "计划入统", translated with the model.
                    what=str(Project._meta.get_field(f"{column}_planned").verbose_name),
                    subject=project.name,
                    url=url,
                    days_overdue=(day - planned).days,
                )
            )
    return items, len(projects) > CALENDAR_ROWS


def officer_calendar(officer: Officer, *, day: date, days: int = CALENDAR_DAYS) -> Calendar:
    """The officer's calendar (日程): follow-ups due and planned project dates not yet reached,
    overdue ones and those of the next ``days`` days, in date order; labels in the active
    language. Visibility is read now, through the selectors: a record the officer no longer
    sees (moved to another unit, taken off the project) leaves the calendar and its feed."""
    until = day + timedelta(days=days)
    follow_ups, cut_visits = _follow_up_items(officer, day=day, until=until)
    planned, cut_projects = _project_items(officer, day=day, until=until)
    items = sorted(
        [*follow_ups, *planned], key=lambda item: (item.day, _KIND_ORDER[item.kind], item.uid)
    )
    return Calendar(today=day, until=until, items=items, truncated=cut_visits or cut_projects)


def calendar_feeds_visible_to(officer: Officer) -> QuerySet[CalendarFeed]:
    """An officer's own calendar feed addresses: nobody else's (they are one person's key)."""
    if not getattr(officer, "is_authenticated", False):
        return CalendarFeed.objects.none()
    return CalendarFeed.objects.filter(officer_id=officer.pk)


def calendar_feed_for_token(token_hash: str) -> CalendarFeed | None:
    """The live feed whose token has this hash, of an officer still active (with the officer
    and their unit, which the visibility scope reads); None for anything else."""
    return (
        CalendarFeed.objects.select_related("officer", "officer__unit")
        .filter(token_hash=token_hash, revoked_at__isnull=True, officer__is_active=True)
        .first()
    )


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
