"""Traffic lights (红黄灯) on the officers' pages, read through promo.reports.selectors.

Tags rather than view code so the lead, project and board pages show a record's light with
one line of template each; each tag costs a fixed number of queries whatever the page holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from promo.reports import selectors

register = template.Library()


@register.inclusion_tag("reports/_record_light.html")
def record_light(*, project: Any = None, lead: Any = None) -> dict[str, Any]:
    """The record's light and its open alerts with who was notified (two queries)."""
    alerts = selectors.record_alerts(
        project_id=project.pk if project is not None else None,
        lead_id=lead.pk if lead is not None else None,
    )
    return {"level": selectors.worst_level([a.level for a in alerts]), "alerts": alerts}


@register.simple_tag
def board_lights(columns: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """``{project id: level}`` for every card of the board, in one query."""
    ids = [project.pk for column in columns for project in column["projects"]]
    return selectors.project_lights(ids) if ids else {}


@register.filter
def light_of(lights: Mapping[int, str], pk: int) -> str:
    return lights.get(pk, "green")
