"""The red projects one click from the cockpit (issue 17, the headline's 需关注): the project
list and the API filter by traffic light (``light=red|yellow|green``, the reports' one rule,
``promo.reports.selectors.project_light_q``), and the headline's 红灯项目 number links to
``/projects/?light=red`` with the cockpit's own filters, whose count is the number.

The world: projects of the Shanghai office (one red by its own two alerts, one red through a
problem's alert, one yellow, one with a red alert already resolved, one with nothing) and a
red project of the Shenzhen office, which a cockpit of Shanghai never counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from projects import services as project_services
from projects.choices import ProblemKind
from projects.models import Project
from promo.core.services import today
from promo.dashboard.forms import Period
from promo.dashboard.selectors import CockpitFilters
from promo.reports.choices import AlertLevel, AlertRule
from promo.reports.models import Alert
from promo.reports.selectors import project_lights
from tests.factories import Bureau, make_project
from tests.plans import captured_sql

pytestmark = pytest.mark.django_db

RED_LINK = re.compile(r'href="(?P<url>/projects/\?[^"]*light=red[^"]*)" data-count="(?P<n>\d+)"')


def light(project: Project, level: str, *, tag: str = "", problem=None, resolved=False) -> Alert:
    return Alert.objects.create(
        rule=AlertRule.MILESTONE_OVERDUE if problem is None else AlertRule.PROBLEM_OVERDUE,
        level=level,
        subject_key=f"test:{project.pk}:{level}:{tag}",
        project=None if problem is not None else project,
        problem=problem,
        unit=project.unit,
        detail="测试",
        opened_on=today() - timedelta(days=3),
        last_seen_on=today(),
        resolved_on=today() if resolved else None,
    )


@dataclass
class World:
    b: Bureau
    red_twice: Project
    red_by_problem: Project
    yellow: Project
    resolved: Project
    quiet: Project
    shenzhen_red: Project


@pytest.fixture
def world(bureau) -> World:
    me = bureau.shanghai_officer
    red_twice = make_project(me, name="两盏红灯项目")
    red_by_problem = make_project(me, name="问题红灯项目")
    yellow = make_project(me, name="黄灯项目")
    resolved = make_project(me, name="已消除红灯项目")
    quiet = make_project(me, name="无灯项目")
    shenzhen_red = make_project(bureau.outsider, name="深圳红灯项目")
    light(red_twice, AlertLevel.RED, tag="a")
    light(red_twice, AlertLevel.RED, tag="b")
    light(red_twice, AlertLevel.YELLOW)
    problem = project_services.problem_raise(
        project=red_by_problem,
        actor=me,
        kind=ProblemKind.POWER,
        title="用电报装",
        owner_unit=bureau.shanghai,
        due_on=today() + timedelta(days=10),
    )
    light(red_by_problem, AlertLevel.RED, problem=problem)
    light(yellow, AlertLevel.YELLOW)
    light(resolved, AlertLevel.RED, resolved=True)
    light(shenzhen_red, AlertLevel.RED)
    return World(bureau, red_twice, red_by_problem, yellow, resolved, quiet, shenzhen_red)


def client_for(officer, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(officer)
    return client


def listed(client: Client, **params) -> set[str]:
    response = client.get("/projects/", params)
    assert response.status_code == 200
    return {p.name for p in response.context["page"].object_list}


def red_link(html: str) -> tuple[str, int]:
    band = re.search(r'<section class="headline".*?</section>', html, re.S)
    assert band, "no headline band"
    found = RED_LINK.search(band.group(0))
    assert found, "the red count does not link to the project list"
    return unescape(found["url"]), int(found["n"])


def test_each_light_lists_the_projects_the_reports_rule_gives(world):
    client = client_for(world.b.chief)
    everyone = {p.pk: p.name for p in Project.objects.all()}
    by_rule = project_lights(list(everyone))
    for level in ("red", "yellow", "green"):
        expected = {everyone[pk] for pk, lit in by_rule.items() if lit == level}
        assert listed(client, light=level) == expected, level
    assert listed(client, light="red") == {"两盏红灯项目", "问题红灯项目", "深圳红灯项目"}
    assert listed(client, light="yellow") == {"黄灯项目"}
    assert listed(client, light="green") == {"已消除红灯项目", "无灯项目"}


def test_the_headline_red_count_links_to_a_list_of_exactly_that_count(world):
    client = client_for(world.b.chief)
    url, count = red_link(client.get("/dashboard/").content.decode())
    assert url.startswith("/projects/?") and "light=red" in url
    response = client.get(url)
    # Three red projects: the one with two red alerts counts once, the problem's counts.
    assert count == response.context["page"].paginator.count == 3
    assert f"共 {count} " in response.content.decode()


def test_a_unit_cockpit_counts_its_own_red_projects_not_another_units(world):
    client = client_for(world.b.chief)
    html = client.get("/dashboard/", {"unit": world.b.shanghai.pk}).content.decode()
    url, count = red_link(html)
    assert f"unit={world.b.shanghai.pk}" in url
    names = {p.name for p in client.get(url).context["page"].object_list}
    assert count == len(names) == 2
    assert "深圳红灯项目" not in names
    # The unit head's own cockpit: the same two, Shenzhen's red project out of his scope.
    head = client_for(world.b.shanghai_head)
    url, count = red_link(head.get("/dashboard/").content.decode())
    assert count == head.get(url).context["page"].paginator.count == 2


def test_the_cockpits_narrowing_filters_travel_with_the_link(world):
    industry = world.red_twice.industry
    other = "new_energy" if industry != "new_energy" else "auto"
    Project.objects.filter(pk=world.red_by_problem.pk).update(industry=other)
    client = client_for(world.b.chief)
    html = client.get("/dashboard/", {"industry": industry}).content.decode()
    url, count = red_link(html)
    assert f"industry={industry}" in url
    expected = Project.objects.filter(
        industry=industry, pk__in=[world.red_twice.pk, world.shenzhen_red.pk]
    ).count()
    assert count == client.get(url).context["page"].paginator.count == expected


@pytest.mark.parametrize(
    ("language", "message"),
    [("zh-hans", "选择一个有效的选项"), ("en", "Select a valid choice")],
)
def test_a_bad_light_is_explained_next_to_the_field(world, language, message):
    response = client_for(world.b.chief, language).get("/projects/", {"light": "purple"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert message in response.content.decode()
    assert "light" in response.context["filter_form"].errors


def test_the_api_filters_by_light_and_refuses_a_bad_one(world):
    api = APIClient()
    api.force_authenticate(world.b.chief)
    ids = {row["id"] for row in api.get("/api/v1/projects/", {"light": "red"}).json()["results"]}
    assert ids == {world.red_twice.pk, world.red_by_problem.pk, world.shenzhen_red.pk}
    bad = api.get("/api/v1/projects/", {"light": "purple"})
    assert bad.status_code == 400, bad.content
    body = bad.json()
    assert body["code"] == "invalid" and "light" in body["fields"]


def test_the_red_list_costs_the_same_queries_for_2_and_20_red_projects(world):
    client = client_for(world.b.chief)
    with CaptureQueriesContext(connection) as few:
        client.get("/projects/", {"light": "red"})
    for i in range(17):
        light(make_project(world.b.shanghai_officer, name=f"红灯{i}"), AlertLevel.RED)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/projects/", {"light": "red"})
    assert response.context["page"].paginator.count == 20
    assert len(many) == len(few)
    # Session, officer, the unit filter's choices, count, page, the bell: the light is a
    # subquery of the count's and the page's own query (a chief has no scope query).
    assert len(few) == 6


def _this_month(world) -> CockpitFilters:
    return CockpitFilters(
        period=Period("month", today().replace(day=1), today()),
        today=today(),
        unit=world.b.shanghai,
    )


def test_the_headline_red_count_reads_the_units_sub_tree_once_not_a_unit_per_project(world):
    """The count matches projects to the sub-tree's unit ids, read first: joined to their
    units, PostgreSQL looked each red project's unit up to test its path (at province 48,040
    lookups). The counts stay those of the lists (the tests above)."""
    from promo.dashboard.selectors import red_project_figure

    figures = []
    (sql,) = captured_sql(
        lambda: figures.append(red_project_figure(world.b.chief, _this_month(world)))
    )
    assert figures[0]["count"] == 2
    assert 'JOIN "officers_unit"' not in sql, sql
    assert '"projects_project"."unit_id" = ANY(ARRAY(SELECT U0."id"' in sql, sql


def test_the_red_lights_count_of_a_full_table_reads_the_sub_tree_once(world):
    """Above the table's rows the red lights are counted; the count matches alerts to the
    sub-tree's unit ids, read first, as the red projects' count does (at province 157,205 open
    red alerts, each joined to its unit to test the path: 16.7-18.3 ms, by id 9.7-11.1). The
    number stays the alerts' count of the unit's sub-tree, another office's left out."""
    from promo.dashboard.selectors import OVERDUE_ROWS, red_count

    f = _this_month(world)
    counts = []
    (sql,) = captured_sql(lambda: counts.append(red_count(world.b.chief, f, [None] * OVERDUE_ROWS)))
    expected = Alert.objects.filter(
        level=AlertLevel.RED,
        project__isnull=False,
        resolved_on__isnull=True,
        unit__path__startswith=world.b.shanghai.path,
    ).count()
    assert counts[0] == expected == 2  # the red project's two red lights; Shenzhen's not
    assert 'JOIN "officers_unit"' not in sql, sql
    assert '"reports_alert"."unit_id" = ANY(ARRAY(SELECT U0."id"' in sql, sql
