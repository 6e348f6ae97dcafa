"""The officer's home page, "my work" (我的工作)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from leads.choices import LeadStatus
from leads.models import Visit
from leads.selectors import leads_visible_to, visits_visible_to
from leads.views import claims_awaiting
from officers.models import Assignment
from projects.choices import STAGE_ORDER, ProblemStatus, Stage
from projects.selectors import problems_visible_to, project_list
from promo.core.services import today
from promo.reports.selectors import home_alerts

HOME_ROWS = 20


def _next_milestone(project) -> tuple[str | None, object]:
    """The next stage a project has to reach and its planned date (倒排节点)."""
    index = STAGE_ORDER.index(project.stage)
    if index + 1 >= len(STAGE_ORDER):
        return None, None
    stage = STAGE_ORDER[index + 1]
    return Stage(stage).label, project.planned_date(stage)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My work (我的工作): what is due, what I hold, what I was first asked."""
    me = request.user
    day = today()

    # Follow-ups: next steps of visits I logged or attended, due today or earlier. A later
    # visit to the same investor counts as the follow-up having happened.
    attended = Exists(
        Visit.officers.through.objects.filter(visit_id=OuterRef("pk"), officer_id=me.pk)
    )
    followed_up = Exists(
        Visit.objects.filter(
            investor_id=OuterRef("investor_id"), visited_on__gt=OuterRef("visited_on")
        )
    )
    follow_ups = list(
        visits_visible_to(me)
        .filter(Q(created_by_id=me.pk) | attended, next_step_due__lte=day)
        .exclude(next_step="")
        .filter(~followed_up)
        .select_related("investor", "lead")
        .order_by("next_step_due", "id")[:HOME_ROWS]
    )
    for visit in follow_ups:
        visit.days_overdue = (day - visit.next_step_due).days

    # My leads (主办 or 协办) by status, one grouped query.
    mine = Exists(Assignment.objects.filter(lead_id=OuterRef("pk"), officer_id=me.pk))
    counts = dict(
        leads_visible_to(me)
        .filter(mine)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    lead_list_url = reverse("leads:list")
    lead_counts = [
        {
            "status": status,
            "label": status.label,
            "count": counts.get(status.value, 0),
            "url": f"{lead_list_url}?{urlencode({'status': status.value, 'mine': '1'})}",
        }
        for status in (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING)
    ]

    # Projects I am on in any role: 主办, 协办 or 挂钩领导.
    project_mine = Exists(Assignment.objects.filter(project_id=OuterRef("pk"), officer_id=me.pk))
    projects = list(
        project_list(me)
        .filter(project_mine)
        .exclude(stage=Stage.PRODUCING)
        .order_by("contract_date", "id")[:HOME_ROWS]
    )
    for project in projects:
        project.next_label, project.next_planned = _next_milestone(project)
        project.next_overdue = bool(project.next_planned and project.next_planned < day)

    open_problems = problems_visible_to(me).exclude(status=ProblemStatus.RESOLVED)
    problems = list(
        open_problems.filter(Q(first_asked_id=me.pk) | Q(owner_unit_id=me.unit_id, ask_count=2))
        .select_related("project", "owner_unit")
        .order_by("due_on", "id")[:HOME_ROWS]
    )
    for problem in problems:
        problem.days_left = (problem.due_on - day).days
        problem.days_overdue = -problem.days_left

    # 防撞单: open claims waiting for my side's decision (unit heads and chiefs only).
    claims = list(
        claims_awaiting(me)
        .select_related("lead__investor")
        .order_by("created_at", "id")[:HOME_ROWS]
    )

    return render(
        request,
        "promo/home.html",
        {
            "today": day,
            "soon": day + timedelta(days=3),
            "follow_ups": follow_ups,
            "lead_counts": lead_counts,
            "projects": projects,
            "problems": problems,
            "claims": claims,
            **home_alerts(me),  # 红黄灯: my open alerts; a head's or chief's red items
        },
    )
