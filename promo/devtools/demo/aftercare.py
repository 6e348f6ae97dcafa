"""The demo bureau's aftercare (亲商服务, issue #20): service envoys on producing enterprises,
one on the 服务绿卡 list, service visits with their typed answers — one enterprise overdue, one
visit raising a problem into 马上办 and one expansion plan become a 增资扩产 lead.

Written through the services, as an officer would: the unit's head names the envoy (the
project's 主办, who already sees it), the envoy records the visits. Called once by
promo.devtools.demo.bureau.DemoBureau.build, after the projects and their problems.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from officers import permissions
from officers.choices import Role
from officers.models import Officer
from projects import services
from projects.choices import ProblemKind, Stage
from projects.models import Project, ServiceVisit
from promo.core.errors import DomainError

# How many producing enterprises get an envoy: enough to show the rhythm, few enough to read.
ENVOYS = 8


def _head_of(project: Project, fallback: Officer) -> Officer:
    head = (
        Officer.objects.filter(unit_id=project.unit_id, role=Role.UNIT_HEAD, is_active=True)
        .order_by("pk")
        .first()
    )
    return head or fallback


def add_demo_aftercare(demo: Any) -> list[ServiceVisit]:
    """Envoys, visits, one overdue enterprise and one 增资扩产 lead on the demo bureau."""
    today: date = demo.today
    rhythm = settings.PROMO_SERVICE_VISIT_DAYS
    producing = list(
        Project.objects.filter(stage=Stage.PRODUCING, producing_actual__isnull=False)
        .select_related("unit")
        .order_by("producing_actual", "pk")
    )
    # The longest producing first: the overdue one must have produced more than a rhythm ago.
    served: list[tuple[Project, Officer]] = []
    for project in producing:
        envoy_id = permissions.lead_officer_id(project)
        if envoy_id is None:
            continue
        envoy = Officer.objects.get(pk=envoy_id)
        if not envoy.is_active:
            continue
        services.project_envoy_name(
            project=project,
            actor=_head_of(project, demo.chief),
            envoy=envoy,
            green_card=not served,  # the longest producing is on the 服务绿卡 list
        )
        served.append((project, envoy))
        if len(served) == ENVOYS:
            break
    visits: list[ServiceVisit] = []
    expansion_done = problem_done = overdue_done = False
    for index, (project, envoy) in enumerate(served):
        produced = project.producing_actual
        assert produced is not None
        since = (today - produced).days
        if not overdue_done and since > rhythm + 15 and index > 0:
            # Visited once soon after production, then not again: overdue on the envoy's home.
            visits.append(
                services.service_visit_log(
                    project=project,
                    actor=envoy,
                    visited_on=produced + timedelta(days=min(10, since)),
                    satisfaction=4,
                    employment=demo.rng.randint(60, 400),
                    notes="投产后首次走访，生产正常。",
                )
            )
            overdue_done = True
            continue
        # Visits every rhythm (a month for the green card) since production, the last recent.
        step = settings.PROMO_GREEN_CARD_VISIT_DAYS if index == 0 else rhythm
        days = sorted({max(0, since - n * step) for n in range(0, since // step + 1)})
        days = [d for d in days if d <= since][-6:]
        employment = demo.rng.randint(80, 500)
        for n, back in enumerate(reversed(days)):
            on = today - timedelta(days=max(back, 1)) if back else today - timedelta(days=1)
            on = max(on, produced)
            last = n == len(days) - 1
            fields: dict[str, Any] = {}
            if last and not expansion_done:
                fields = {
                    "has_expansion_plan": True,
                    "expansion_amount": Decimal(demo.rng.choice([3000, 5000, 8000])),
                    "expansion_description": "计划新增一条生产线，扩大产能。",
                }
            elif last and not problem_done:
                fields = {
                    "problem_title": "扩招一线工人困难",
                    "problem_kind": ProblemKind.LABOUR,
                    "problem_owner_unit": project.unit,
                    "problem_due_on": on + timedelta(days=10),
                }
            employment += demo.rng.randint(-10, 40)
            answers = {
                "project": project,
                "actor": envoy,
                "visited_on": on,
                "satisfaction": demo.rng.choice([3, 4, 4, 5, 5]),
                "employment": max(employment, 0),
                "notes": "了解生产经营情况。",
            }
            try:
                visit = services.service_visit_log(**answers, **fields)
            except DomainError:
                # 防撞单: another unit follows this investor, so no lead of ours on it; the
                # visit is kept without the plan, and the next enterprise shows one.
                visit = services.service_visit_log(**answers)
            expansion_done = expansion_done or visit.expansion_lead_id is not None
            problem_done = problem_done or visit.problem_id is not None
            visits.append(visit)
    return visits
