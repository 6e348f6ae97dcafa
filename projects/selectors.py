"""Reads of the projects app; every query here starts from the visibility scope."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from leads.selectors import leads_visible_to
from officers.models import Assignment, Officer
from officers.selectors import scope_for

from .models import InvestmentProgress, Problem, Project


def progress_reported_between(start: date | None, end: date | None) -> Exists:
    """The project reported monthly progress (月度投资进度) for a month in ``[start, end]``.

    Progress is monthly, so a period takes in the month that holds its first day: the set of
    projects whose arrived FDI a period sums (promo.reports.selectors.period_figures), and
    the project list's 填报进度月份 filter behind the cockpit's arrived-FDI links.
    """
    months = InvestmentProgress.objects.filter(project_id=OuterRef("pk"))
    if start is not None:
        months = months.filter(month__gte=start.replace(day=1))
    if end is not None:
        months = months.filter(month__lte=end)
    return Exists(months)


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


def problems_visible_to(officer: Officer) -> QuerySet[Problem]:
    """Problems on visible projects, problems a visible unit owns, and problems first asked of the officer."""
    scope = scope_for(officer)
    qs = Problem.objects.all()
    if scope.is_everything:
        return qs
    if scope.officer_id is None:
        return qs.none()
    if scope.own_records_only:
        return qs.filter(Q(raised_by_id=officer.pk) | Q(first_asked_id=officer.pk))
    return qs.filter(
        Q(project__in=projects_visible_to(officer).values("pk"))
        | Q(owner_unit_id__in=scope.unit_ids)
        | Q(first_asked_id=officer.pk)
    )


def progress_visible_to(officer: Officer) -> QuerySet[InvestmentProgress]:
    return InvestmentProgress.objects.filter(project__in=projects_visible_to(officer).values("pk"))


def project_list(officer: Officer) -> QuerySet[Project]:
    return projects_visible_to(officer).select_related("investor", "unit")


def assignments_visible_to(officer: Officer) -> QuerySet[Assignment]:
    """Assignments (分工) on the leads and projects the officer sees: here, not in officers,
    because it needs both apps' visibility."""
    return Assignment.objects.select_related("officer", "lead", "project").filter(
        Q(lead__in=leads_visible_to(officer).values("pk"))
        | Q(project__in=projects_visible_to(officer).values("pk"))
    )
