"""The alert rows' two repeated pieces, written by template tags (promo.reports.templatetags
.reports_lights): the light's dot and the record an alert is about. They replaced two
``{% include %}``s per row; the pages must read as before, in both languages, escaped."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test.signals import template_rendered
from django.utils import translation

from promo.core.services import today
from promo.reports.choices import AlertLevel, AlertRule
from promo.reports.models import Alert
from promo.reports.templatetags.reports_lights import alert_record, light_dot
from tests.factories import make_alerts, make_lead, make_project

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "level", "name"),
    [
        ("zh-hans", "red", "红灯"),
        ("zh-hans", "yellow", "黄灯"),
        ("zh-hans", "green", "绿灯"),
        ("en", "red", "Red"),
        ("en", "yellow", "Yellow"),
        ("en", "green", "Green"),
    ],
)
def test_the_dot_is_named_for_screen_readers_in_the_readers_language(language, level, name):
    with translation.override(language):
        html = Template("{% load reports_lights %}{% light_dot level %}").render(
            Context({"level": level})
        )
    assert html == (
        f'<span class="light light-{level}" role="img" aria-label="{name}" title="{name}"></span>'
    )


def test_the_dots_class_is_escaped():
    assert "<script>" not in light_dot('"><script>')
    assert "&quot;&gt;&lt;script&gt;" in light_dot('"><script>')


def _alert(bureau, **subject) -> Alert:
    return Alert(
        rule=AlertRule.LEAD_NO_FOLLOW_UP,
        level=AlertLevel.YELLOW,
        subject_key="x",
        unit=bureau.shanghai,
        opened_on=today(),
        last_seen_on=today(),
        **subject,
    )


def test_the_record_links_to_the_project_lead_or_problem_and_escapes_its_name(bureau):
    me = bureau.shanghai_officer
    project = make_project(me, name="<b>电池</b>项目")
    lead = make_lead(me, name="协议&谈判")
    assert alert_record(_alert(bureau, project=project)) == (
        f'<a href="/projects/{project.pk}/">&lt;b&gt;电池&lt;/b&gt;项目</a>'
    )
    assert alert_record(_alert(bureau, lead=lead)) == (
        f'<a href="/leads/{lead.pk}/">协议&amp;谈判</a>'
    )
    # A unit's alert (a monthly target) names the unit, unlinked.
    assert alert_record(_alert(bureau)) == str(bureau.shanghai.name)


def test_the_rule_label_is_the_rules_display_in_both_languages(bureau):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for rule in AlertRule:
                alert = _alert(bureau)
                alert.rule = rule
                assert str(alert.rule_label) == alert.get_rule_display()
    unknown = _alert(bureau)
    unknown.rule = "retired_rule"  # a rule since removed: shown as stored, as Django does
    assert unknown.rule_label == unknown.get_rule_display() == "retired_rule"


def test_a_heads_home_renders_the_same_templates_for_2_alerts_and_for_40(bureau, client_for):
    """Each alert row was two template renders of its own (the dot and the record): 84 on a
    unit head's home with 40 rows, about half the page's rendering at province scale."""
    head = bureau.shanghai_head
    client = client_for(head)

    def rendered() -> tuple[list[str], str]:
        names: list[str] = []

        def record(sender, template, context, **kwargs):
            names.append(template.name)

        template_rendered.connect(record)
        try:
            html = client.get("/").content.decode()
        finally:
            template_rendered.disconnect(record)
        return names, html

    make_alerts(1, responsible=head, level=AlertLevel.YELLOW)
    make_alerts(1, responsible=bureau.shanghai_officer, level=AlertLevel.RED)
    few, html = rendered()
    assert html.count('class="light light-') == 3  # the summary line's and one per row
    make_alerts(19, responsible=head, level=AlertLevel.RED)
    make_alerts(19, responsible=bureau.shanghai_officer, level=AlertLevel.RED)
    many, html = rendered()
    assert html.count('class="light light-') == 41  # 20 of mine, 20 of the unit's red
    assert many == few
