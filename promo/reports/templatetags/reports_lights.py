"""Traffic lights (红黄灯) on the officers' pages, read through promo.reports.selectors.

Tags rather than view code so the lead, project and board pages show a record's light with
one line of template each; each tag costs a fixed number of queries whatever the page holds.

``light_dot`` and ``alert_record`` write the two pieces every alert row repeats (the dot, the
record's link) in Python: as ``{% include %}``s they were two template renders per row, 84 on
a unit head's home page with its 40 alert rows — about half of that page's rendering
(docs/performance.md, "A fifteenth machine").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from promo.reports import selectors
from promo.reports.choices import AlertLevel

register = template.Library()


@register.inclusion_tag("reports/_record_light.html")
def record_light(*, project: Any = None, lead: Any = None) -> dict[str, Any]:
    """The record's light and its open alerts with who was notified (two queries)."""
    alerts = selectors.record_alerts(
        project_id=project.pk if project is not None else None,
        lead_id=lead.pk if lead is not None else None,
    )
    return {"level": selectors.worst_level([a.level for a in alerts]), "alerts": alerts}


# The dot's name for a screen reader (and its tooltip); any other level is green (no alert).
_LIGHT_NAMES: dict[str, Any] = {AlertLevel.RED: _("红灯"), AlertLevel.YELLOW: _("黄灯")}
_GREEN = _("绿灯")


@register.simple_tag
def light_dot(level: str) -> SafeString:
    """The coloured dot of a light (``red``, ``yellow``, ``green``), named for screen readers."""
    name = _LIGHT_NAMES.get(level, _GREEN)
    return format_html(
        '<span class="light light-{}" role="img" aria-label="{}" title="{}"></span>',
        level,
        name,
        name,
    )


@register.simple_tag
def alert_record(alert: Any) -> SafeString:
    """What an alert is about, linked to its page: the project, lead or problem; a unit's alert
    (a monthly target) names the unit, unlinked."""
    if alert.project_id:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("projects:detail", args=[alert.project_id]),
            alert.project.name,
        )
    if alert.lead_id:
        return format_html(
            '<a href="{}">{}</a>', reverse("leads:detail", args=[alert.lead_id]), alert.lead.name
        )
    if alert.problem_id:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("projects:problem", args=[alert.problem_id]),
            alert.problem.title,
        )
    return format_html("{}", alert.unit.name)


@register.simple_tag
def board_lights(columns: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """``{project id: level}`` for every card of the board, in one query."""
    ids = [project.pk for column in columns for project in column["projects"]]
    return selectors.project_lights(ids) if ids else {}


@register.filter
def light_of(lights: Mapping[int, str], pk: int) -> str:
    return lights.get(pk, "green")
