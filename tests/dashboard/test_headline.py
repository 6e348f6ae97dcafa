"""The cockpit's headline band (issue 17, findings 2 and 3): the target metrics as tiles with
year-to-date figure, target, completion, year-on-year change and a plan mark against the
share of the year gone; the worst three units; the red projects; amounts for people.

Every test reads the mixed bureau of tests/dashboard/seed.py (two years of data, targets of
every metric), built once for the module as test_cockpit_links.py does.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.db.models import Sum
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from leads.models import Lead
from officers.choices import TargetMetric
from officers.models import Target
from projects.choices import HUNDRED_MILLION
from projects.models import Project
from promo.core import amounts
from promo.dashboard import selectors
from promo.reports.selectors import project_light_q
from promo.reports.services import alerts_evaluate
from tests.dashboard.seed import build_mixed
from tests.factories import Bureau, make_bureau
from tests.reports.seed import TODAY
from tests.web.test_i18n import compiled, english_client  # noqa: F401 (fixture)
from tests.worlds import rolled_back_world

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
YEAR_START = date(DAY.year, 1, 1)
LAST_YEAR = (date(DAY.year - 1, 1, 1), date(DAY.year - 1, DAY.month, DAY.day))
BAND = re.compile(r'<section class="headline".*?</section>', re.S)
TILE = re.compile(r'<li class="tile[^"]*" data-metric="(?P<metric>\w+)".*?</li>', re.S)
LINK = re.compile(r'href="(?P<url>/(?:leads|projects)/[^"]*)" data-count="(?P<count>\d+)"')
PRINTED = re.compile(r"<h1>.*?共 (?P<n>[\d,]+)(?P<capped>\+?) (?:条|个)", re.S)
# An amount printed the old way: four or more digits in a row before ".00"-style cents.
UNGROUPED = re.compile(r"\d{4,}\.\d\d")


@pytest.fixture(scope="module")
def mixed_bureau(django_db_setup, django_db_blocker) -> Iterator[Bureau]:
    """The mixed bureau with the daily alert rules run on TODAY (so some projects are red),
    built once for the module (tests/worlds.py)."""

    def build() -> Bureau:
        with time_machine.travel(TODAY, tick=False):
            built = make_bureau()
            build_mixed(built)
            alerts_evaluate(on=DAY)
        return built

    with rolled_back_world(django_db_blocker, build) as built:
        yield built


@pytest.fixture
def mixed(mixed_bureau, db) -> Iterator[Bureau]:
    with time_machine.travel(TODAY, tick=False):
        yield mixed_bureau


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def band_of(html: str) -> str:
    found = BAND.search(html)
    assert found, "no headline band on the cockpit"
    return found.group(0)


def tiles_of(html: str) -> dict[str, str]:
    """The metric tiles by metric (not the "需关注" tile of red projects and worst units)."""
    found = {m["metric"]: m.group(0) for m in TILE.finditer(band_of(html))}
    assert "attention" in found
    del found["attention"]
    return found


def by_hand(start: date, end: date, unit=None) -> dict[str, Decimal | int]:
    """The target metrics counted from the rows directly, for ``unit``'s sub-tree or all."""
    projects = Project.objects.all()
    leads = Lead.objects.all()
    if unit is not None:
        projects = projects.filter(unit__path__startswith=unit.path)
        leads = leads.filter(unit__path__startswith=unit.path)
    signed = projects.filter(contract_date__gte=start, contract_date__lte=end)
    return {
        TargetMetric.SIGNED_COUNT: signed.count(),
        TargetMetric.SIGNED_AMOUNT: signed.aggregate(s=Sum("signed_investment"))["s"] or Decimal(0),
        TargetMetric.KEY_PROJECT_COUNT: signed.filter(
            signed_investment__gte=HUNDRED_MILLION
        ).count(),
        TargetMetric.GROUNDBREAKING_COUNT: projects.filter(
            groundbreaking_actual__gte=start, groundbreaking_actual__lte=end
        ).count(),
        TargetMetric.VALID_LEAD_COUNT: leads.filter(
            qualified_on__gte=start, qualified_on__lte=end
        ).count(),
    }


def target_of(unit, metric) -> Decimal | None:
    found = Target.objects.filter(
        year=DAY.year, unit=unit, metric=metric, officer__isnull=True
    ).first()
    return found.value if found is not None else None


# --- The rule of the marks ----------------------------------------------------------------


def test_elapsed_share_of_the_year():
    assert selectors.elapsed_percent(date(2026, 1, 1)) == Decimal(100) / 365
    assert selectors.elapsed_percent(date(2026, 12, 31)) == Decimal(100)
    assert selectors.elapsed_percent(date(2024, 12, 31)) == Decimal(100)  # a leap year: 366 of 366
    assert round(selectors.elapsed_percent(DAY), 1) == Decimal("83.8")  # 2 November: day 306 of 365


@pytest.mark.parametrize(
    ("percent", "elapsed", "mark"),
    [
        (Decimal(84), Decimal(80), "green"),
        (Decimal(80), Decimal(80), "green"),  # exactly on plan
        (Decimal(64), Decimal(80), "amber"),  # 80 % of the plan: still amber
        (Decimal("63.9"), Decimal(80), "red"),
        (Decimal(0), Decimal(50), "red"),
        (None, Decimal(50), "none"),  # no target, no mark
    ],
)
def test_plan_marks_follow_the_share_of_the_year_gone(percent, elapsed, mark):
    assert selectors.AMBER_SHARE == Decimal("0.8")
    assert selectors.plan_mark(percent, elapsed) == mark


# --- The band on the page -----------------------------------------------------------------


def test_the_band_shows_each_metric_against_target_and_last_year(mixed):
    response = client_for(mixed.chief).get("/dashboard/")
    html = response.content.decode()
    tiles = tiles_of(html)
    band = response.context["headline"]
    assert band["start"] == YEAR_START and band["end"] == DAY
    now, before = by_hand(YEAR_START, DAY), by_hand(*LAST_YEAR)
    elapsed = selectors.elapsed_percent(DAY)
    by_metric = {tile["metric"]: tile for tile in band["tiles"]}
    assert set(by_metric) == set(TargetMetric.values) == set(tiles)
    for metric, done in now.items():
        tile = by_metric[metric]
        assert tile["done"] == done, metric
        assert tile["last_year"] == before[metric], metric
        if before[metric]:
            expected = (Decimal(done) - before[metric]) * 100 / Decimal(before[metric])
            assert tile["change"] == expected, metric
        else:
            assert tile["change"] is None
        target = target_of(mixed.bureau, metric)
        assert tile["target"] == target, metric
        percent = Decimal(done) * 100 / target
        assert tile["percent"] == percent, metric
        assert tile["gap"] == percent - elapsed
        assert tile["mark"] == selectors.plan_mark(percent, elapsed)
    # The page prints them: the count, the target, the completion and the mark's words.
    signed = tiles[TargetMetric.SIGNED_COUNT]
    assert f">{now[TargetMetric.SIGNED_COUNT]}</a>" in signed
    percent = now[TargetMetric.SIGNED_COUNT] * 100 / 10
    assert f"{percent:.1f}%" in signed
    label = {"green": "达标", "amber": "落后", "red": "严重落后"}
    assert label[by_metric[TargetMetric.SIGNED_COUNT]["mark"]] in signed
    # Each tile has a heading and its mark in words (not colour alone).
    for metric, tile_html in tiles.items():
        assert "<h3" in tile_html, metric
        assert 'class="mark-label"' in tile_html, metric


def test_every_mark_is_reached_by_moving_the_target(mixed):
    """The same year-to-date figure is green, amber or red as the target rises."""
    done = by_hand(YEAR_START, DAY)[TargetMetric.SIGNED_COUNT]
    assert done > 0
    elapsed = selectors.elapsed_percent(DAY)
    client = client_for(mixed.chief)
    target = Target.objects.get(
        year=DAY.year, unit=mixed.bureau, metric=TargetMetric.SIGNED_COUNT, officer__isnull=True
    )
    seen = {}
    # Completion = done / target; elapsed is 83.8 %: target = done → 100 % (green); target such
    # that completion is 90 % of elapsed (amber); ten times the figure → 10 % (red).
    for value in (done, Decimal(done) * 100 / (elapsed * Decimal("0.9")), done * 10):
        Target.objects.filter(pk=target.pk).update(value=Decimal(value).quantize(Decimal("0.01")))
        html = client.get("/dashboard/").content.decode()
        tile = tiles_of(html)[TargetMetric.SIGNED_COUNT]
        mark = re.search(r'class="tile mark-(\w+)"', tile)[1]
        words = re.search(r'class="mark-label">([^<]+)<', tile)[1]
        seen[mark] = words
    assert seen == {"green": "达标", "amber": "落后", "red": "严重落后"}


def test_each_tile_and_the_red_count_link_to_lists_of_exactly_that_count(mixed):
    client = client_for(mixed.chief)
    html = client.get("/dashboard/").content.decode()
    band = band_of(html)
    links = [(unescape(m["url"]), int(m["count"])) for m in LINK.finditer(band)]
    # One per target metric, and the red projects' (the project list with light=red).
    assert len(links) == len(TargetMetric.values) + 1
    assert sum("light=red" in url for url, _ in links) == 1
    for url, count in links:
        response = client.get(url)
        found = PRINTED.search(response.content.decode())
        assert found and not found["capped"], url
        assert int(found["n"].replace(",", "")) == count == response.context["page"].paginator.count
    red = next(count for url, count in links if "light=red" in url)
    assert red > 0
    # The cockpit's table below still lists the red lights themselves.
    table = re.search(r'<section id="red-projects".*?</section>', html, re.S).group(0)
    assert table.count('<tr class="red-row">') > 0


def test_the_worst_three_units_are_the_lowest_scores_one_click_from_their_cockpit(mixed):
    client = client_for(mixed.chief)
    response = client.get("/dashboard/")
    scores = response.context["scores"]
    assert len(scores) == 3  # Shanghai, Shenzhen and the department
    # At most three, and never every unit: the best one is not among "the worst".
    lowest = sorted(scores, key=lambda s: s["total"])[: min(3, len(scores) - 1)]
    assert len(lowest) == 2
    worst = response.context["headline_worst"]
    assert [w["name"] for w in worst] == [s["row"].name for s in lowest]
    band = band_of(response.content.decode())
    for entry in worst:
        # One click: the cockpit of that unit, whose total is the unit's own figures.
        link = f'href="/dashboard/?unit={entry["unit_id"]}"'
        assert link in band, entry
        drilled = client.get("/dashboard/", {"unit": entry["unit_id"]}).context
        assert drilled["total"].unit.pk == entry["unit_id"]


def test_a_unit_heads_band_shows_only_his_unit(mixed):
    response = client_for(mixed.shanghai_head).get("/dashboard/")
    band = response.context["headline"]
    mine, everyone = by_hand(YEAR_START, DAY, mixed.shanghai), by_hand(YEAR_START, DAY)
    assert mine != everyone
    by_metric = {tile["metric"]: tile for tile in band["tiles"]}
    for metric, done in mine.items():
        assert by_metric[metric]["done"] == done, metric
        assert by_metric[metric]["target"] == target_of(mixed.shanghai, metric), metric
    # One sub-unit only (the Pudong team): nobody to rank, so no "worst units".
    assert response.context["headline_worst"] == []
    # The red count is his units' red projects alone, as the list it links to.
    red = response.context["red_headline"]
    listed = client_for(mixed.shanghai_head).get(red["url"]).context["page"]
    assert red["count"] == listed.paginator.count
    assert all(p.unit.path.startswith(mixed.shanghai.path) for p in listed.object_list)
    assert all(
        a.unit.path.startswith(mixed.shanghai.path) for a in response.context["red_projects"]
    )


def test_a_month_is_still_read_against_the_year_to_date(mixed):
    """The band reads the year to date whatever period the tables show, and compares it
    with the same days of last year."""
    response = client_for(mixed.chief).get("/dashboard/", {"period": "month"})
    band = response.context["headline"]
    assert (band["start"], band["end"]) == (YEAR_START, DAY)
    before = by_hand(*LAST_YEAR)
    for tile in band["tiles"]:
        if tile["metric"] in before:
            assert tile["last_year"] == before[tile["metric"]], tile["metric"]


# --- Amounts for people on the cockpit ----------------------------------------------------


def test_amounts_are_grouped_in_tables_and_in_yi_in_the_headline(mixed):
    html = client_for(mixed.chief).get("/dashboard/").content.decode()
    assert not UNGROUPED.search(html), UNGROUPED.search(html).group(0)
    signed = by_hand(YEAR_START, DAY)[TargetMetric.SIGNED_AMOUNT]
    assert signed >= amounts.WAN_PER_YI  # the bureau signed more than 1 亿 this year
    with translation.override("zh-hans"):
        assert f">{amounts.headline(signed)}<" in tiles_of(html)[TargetMetric.SIGNED_AMOUNT]
    assert amounts.headline(signed).endswith(" 亿元")
    # The five-count table prints the same amount exactly, grouped.
    figures = re.search(r'<table class="figures">.*?</table>', html, re.S).group(0)
    assert f">{amounts.exact(signed)}</a>" in figures
    assert "," in amounts.exact(signed)


@pytest.mark.usefixtures("compiled")
def test_amounts_in_english(mixed):
    client = english_client()
    client.force_login(mixed.chief)
    html = client.get("/dashboard/").content.decode()
    signed = by_hand(YEAR_START, DAY)[TargetMetric.SIGNED_AMOUNT]
    with translation.override("en"):
        headline = amounts.headline(signed)
    assert headline.endswith(("million CNY", "billion CNY"))
    assert f">{headline}<" in tiles_of(html)[TargetMetric.SIGNED_AMOUNT]
    assert "亿元" not in band_of(html) and "万元" not in band_of(html)
    assert "On track" in band_of(html) or "Behind" in band_of(html)


def test_the_xlsx_keeps_exact_amounts_with_a_grouped_number_format(mixed):
    response = client_for(mixed.chief).get("/dashboard/export/figures.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[2]]
    column = header.index("新签约总投资(万元)") + 1
    cells = [sheet.cell(row=r, column=column) for r in range(3, sheet.max_row + 1)]
    total = cells[-1]
    assert total.value == by_hand(YEAR_START, DAY)[TargetMetric.SIGNED_AMOUNT]
    assert {c.number_format for c in cells} <= {"#,##0", "#,##0.00"}
    assert total.number_format == amounts.number_format(total.value)


# --- The footnote agrees with its links ---------------------------------------------------


def test_the_footnote_says_what_the_visiting_investors_link_to(mixed):
    html = client_for(mixed.chief).get("/dashboard/").content.decode()
    figures = re.search(
        r'<table class="figures">.*?</table>\s*<p class="note">(.*?)</p>', html, re.S
    )
    assert "/leads/investors/visiting/?" in figures.group(0)  # the number links to its list
    note = figures.group(1)
    assert "暂无对应清单" not in note  # … so the note may not say it has none
    assert "来访客商清单" in note


def test_more_red_lights_than_the_table_shows_are_counted_and_said(mixed):
    """Above OVERDUE_ROWS the table shows the oldest ones, the band counts them all and the
    table's heading says both numbers."""
    from promo.reports.choices import AlertLevel, AlertRule
    from promo.reports.models import Alert

    before = Alert.objects.filter(
        level=AlertLevel.RED, project__isnull=False, resolved_on__isnull=True
    ).count()
    projects = list(Project.objects.order_by("pk")[: selectors.OVERDUE_ROWS + 1])
    for i, project in enumerate(projects):
        Alert.objects.create(
            rule=AlertRule.MILESTONE_OVERDUE,
            level=AlertLevel.RED,
            subject_key=f"project:{project.pk}:test{i}",
            project=project,
            unit=project.unit,
            detail="测试",
            opened_on=DAY,
            last_seen_on=DAY,
        )
    response = client_for(mixed.chief).get("/dashboard/")
    html = response.content.decode()
    alerts = response.context["red_count"]
    assert alerts == before + len(projects) > selectors.OVERDUE_ROWS
    table = re.search(r'<section id="red-projects".*?</section>', html, re.S).group(0)
    assert table.count('<tr class="red-row">') == selectors.OVERDUE_ROWS
    assert f"共 {alerts} 条" in table and f"显示最早的 {selectors.OVERDUE_ROWS} 条" in table
    # The band counts red projects (a project with two red lights once), all of them.
    red = response.context["red_headline"]["count"]
    assert red == Project.objects.filter(project_light_q("red")).count() >= len(projects)
