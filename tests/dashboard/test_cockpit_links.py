"""The cockpit honours every filter, and every number it links equals the count its list
prints — for any filter combination (hypothesis), on a mixed bureau of two years of data.

Also: the 来区客商 list prints the cockpit's number of visiting investors, which equals the
investors counted by hand; the five counts under a narrowing filter equal counts filtered by
hand in Python; and the list pages behind the links accept the new filters (project list:
unit sub-tree, region, channel, dates, overdue; lead list: status on a past day) with errors
next to the field and no widening of the scope.

Every test here reads the one mixed bureau, built once for the module (`mixed_bureau`); the
cockpit's tests on a bureau of their own (query counts, channel of visits) are in
test_cockpit_counts.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leads.choices import SourceChannel, VisitKind
from leads.models import Lead, Visit
from officers.choices import TargetMetric
from projects.models import Project
from promo.core.choices import Industry, Region
from promo.dashboard.forms import PeriodKind
from promo.dashboard.selectors import COCKPIT_FIGURES
from promo.reports.choices import Figure
from tests.dashboard.seed import CHANNELS, INDUSTRIES, REGIONS, build_mixed
from tests.factories import Bureau, make_bureau
from tests.reports.seed import TODAY
from tests.worlds import rolled_back_world

pytestmark = pytest.mark.django_db

LINK = re.compile(
    r'href="(?P<url>/(?:leads|projects)/(?:investors/visiting/)?\?[^"]*)" data-count="(?P<count>\d+)"'
)
PRINTED = re.compile(r"<h1>.*?共 (?P<n>[\d,]+)(?P<capped>\+?) (?:条|个)", re.S)
UNITS = (None, "bureau", "shanghai", "shanghai_team", "shenzhen", "department")
DAY = TODAY.date()


@pytest.fixture
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture(scope="module")
def mixed_bureau(django_db_setup, django_db_blocker) -> Iterator[Bureau]:
    """The mixed bureau, built once for this module (tests/worlds.py): every test reads it."""

    def build() -> Bureau:
        with time_machine.travel(TODAY, tick=False):
            built = make_bureau()
            build_mixed(built)
        return built

    with rolled_back_world(django_db_blocker, build) as built:
        yield built


@pytest.fixture
def mixed(mixed_bureau, db, frozen) -> Bureau:
    return mixed_bureau


@pytest.fixture
def bureau():
    pytest.fail(
        "every test here reads the module's mixed bureau (`mixed`), which is in the database "
        "for the whole module; a test with a bureau of its own belongs in test_cockpit_counts.py"
    )


@pytest.fixture
def chiefs_lists() -> dict[str, int]:
    """The count of each list the chief has opened, by URL. Hypothesis runs every example on
    the one mixed bureau (function-scoped fixtures are not rebuilt between examples) and the
    examples only read, so a list linked again by a later example prints the same count."""
    return {}


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def printed_count(client: Client, url: str) -> int:
    """The count the list page prints in its heading (共 N 条 / 共 N 个)."""
    response = client.get(url)
    assert response.status_code == 200, url
    found = PRINTED.search(response.content.decode())
    assert found and not found["capped"], url
    printed = int(found["n"].replace(",", ""))
    assert printed == response.context["page"].paginator.count, url
    return printed


def assert_links_match_lists(client: Client, html: str, seen: dict[str, int] | None = None) -> int:
    """Follow every linked number (each distinct URL once): its list prints the same count.
    ``seen`` keeps the counts this client's lists printed earlier on the same, unchanged data."""
    links = [(unescape(m["url"]), int(m["count"])) for m in LINK.finditer(html)]
    seen = {} if seen is None else seen
    for url, count in links:
        if url not in seen:
            seen[url] = printed_count(client, url)
        assert seen[url] == count, url
    return len(links)


def assert_every_number_is_linked(context) -> int:
    """Each count of the five-count, project, target and timing tables carries a link
    (the visiting investors to the 来区客商 list, the arrived FDI to the projects reporting
    progress in the period). Returns how many links there must be."""
    links = 0
    for row in [*context["rows"], context["total"]]:
        for cell in row.cells:
            assert cell["url"], (row.name, cell["figure"])
            if cell["figure"] == Figure.INVESTORS_VISITING:
                assert cell["url"].startswith("/leads/investors/visiting/?"), cell["url"]
            links += 1
        for key in ("contracted_fdi", "arrived_fdi", "building_10m", "key_count", "overdue"):
            assert row.projects[f"{key}_url"], (row.name, key)
            links += 1
        for target in row.targets:
            assert target["url"], (row.name, target["metric"])
            links += 1
    # The funnel: each stage and closed count, for the scope and (the lead funnel by unit)
    # for every row.
    funnel_rows = [
        context["funnel"],
        *(row.funnel for row in [*context["rows"], *context["own_rows"]]),
    ]
    for funnel in funnel_rows:
        for step in [*funnel["steps"], *funnel["closed"]]:
            assert step["url"], step["status"]
            links += 1
    timing = context["time_to_signing"]
    assert timing["contact_url"] and timing["inspection_url"]
    return links + 2


def cockpit_params(bureau, unit, kind, on, length, industry, region, channel) -> dict:
    params = {"period": kind, "industry": industry, "region": region, "source_channel": channel}
    if kind == PeriodKind.CUSTOM:
        params["start"] = on.isoformat()
        params["end"] = (on + timedelta(days=length)).isoformat()
    else:
        params["on"] = on.isoformat()
    if unit:
        params["unit"] = getattr(bureau, unit).pk
    return params


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    unit=st.sampled_from(UNITS),
    kind=st.sampled_from([PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YTD, PeriodKind.CUSTOM]),
    on=st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    length=st.integers(0, 500),
    industry=st.sampled_from(["", *INDUSTRIES, Industry.FOOD]),
    region=st.sampled_from(["", *REGIONS]),
    channel=st.sampled_from(["", *CHANNELS]),
)
# October 2026 of the reports' hand-built data, narrowed; and a period reaching into a year
# that has not begun (its "year to date" once ended before it started: a 500).
@example(
    unit=None,
    kind=PeriodKind.MONTH,
    on=date(2026, 10, 9),
    length=0,
    industry=Industry.ELECTRONICS,
    region="",
    channel="",
)
@example(
    unit="shanghai",
    kind=PeriodKind.CUSTOM,
    on=date(2026, 12, 1),
    length=90,
    industry="",
    region="",
    channel="",
)
def test_every_linked_number_equals_its_list_for_any_filters(
    mixed, chiefs_lists, unit, kind, on, length, industry, region, channel
):
    client = client_for(mixed.chief)
    params = cockpit_params(mixed, unit, kind, on, length, industry, region, channel)
    response = client.get("/dashboard/", params)
    assert response.status_code == 200
    assert response.context["form"].is_valid(), response.context["form"].errors
    expected = assert_every_number_is_linked(response.context)
    # Every link is followed (the key projects' rate links once more, when there are some).
    assert assert_links_match_lists(client, response.content.decode(), chiefs_lists) >= expected


def visiting_by_hand(unit, start: date, end: date, industry="", region="", channel="") -> set[int]:
    """The cockpit's rule in Python: distinct investors received or inspecting."""
    return {
        v.investor_id
        for v in Visit.objects.select_related("unit", "investor", "lead")
        if (unit is None or v.unit.path.startswith(unit.path))
        and v.kind in (VisitKind.RECEPTION, VisitKind.INSPECTION)
        and start <= v.visited_on <= end
        and (not industry or (v.lead is not None and v.lead.industry == industry))
        and (not channel or (v.lead is not None and v.lead.source_channel == channel))
        and (not region or v.investor.region == region)
    }


@pytest.mark.parametrize(
    "params",
    [
        {"period": "ytd"},
        {"period": "custom", "start": "2025-01-01", "end": "2025-12-31"},
        {"period": "custom", "start": "2025-01-01", "end": "2026-11-02", "region": REGIONS[0]},
        {"period": "custom", "start": "2025-01-01", "end": "2026-11-02", "industry": INDUSTRIES[0]},
        {"period": "ytd", "source_channel": CHANNELS[0], "region": REGIONS[1]},
    ],
)
def test_visiting_investors_list_prints_the_cockpits_number(mixed, params):
    client = client_for(mixed.chief)
    context = client.get("/dashboard/", params).context
    assert context["form"].is_valid(), context["form"].errors
    f = context["filters"]
    compared = 0
    for row in [*context["rows"], context["total"]]:
        cell = next(c for c in row.cells if c["figure"] == Figure.INVESTORS_VISITING)
        assert cell["url"].startswith("/leads/investors/visiting/?")
        shown = printed_count(client, cell["url"])  # a URL of the context, not of the HTML
        assert shown == cell["value"] == cell["count"], (row.name, cell["url"])
        unit = f.unit if row.is_total else row.unit
        expected = visiting_by_hand(
            unit, f.period.start, f.period.end, f.industry, f.region, f.source_channel
        )
        assert shown == len(expected), row.name
        compared += shown
    if params["period"] == "ytd" and len(params) == 1:
        assert compared > 0  # the seed has receptions and inspections this year


def test_a_unit_heads_links_match_their_lists_in_a_past_period(mixed):
    client = client_for(mixed.shanghai_head)
    for params in (
        {"period": "month", "on": "2026-10-15"},
        {"period": "custom", "start": "2025-03-01", "end": "2025-12-31", "industry": "auto"},
        {"period": "ytd", "source_channel": SourceChannel.EVENT, "region": Region.JAPAN},
    ):
        response = client.get("/dashboard/", params)
        assert response.context["total"].unit == mixed.shanghai
        assert response.context["total"].targets and response.context["rows"][0].targets
        expected = assert_every_number_is_linked(response.context)
        assert assert_links_match_lists(client, response.content.decode()) >= expected


def hand_counted(unit, start: date, end: date, industry="", region="", channel="") -> dict:
    """The five counts and their amounts, filtered in Python from every row of the tables."""

    def inside(u) -> bool:
        return unit is None or u.path.startswith(unit.path)

    def narrowed(industry_of, region_of, channel_of) -> bool:
        return (
            (not industry or industry_of == industry)
            and (not region or region_of == region)
            and (not channel or channel_of == channel)
        )

    def open_at_end(lead) -> bool:
        return (lead.signed_on is None or lead.signed_on > end) and (
            lead.closed_on is None or lead.closed_on > end
        )

    leads = [
        lead
        for lead in Lead.objects.select_related("unit", "investor")
        if inside(lead.unit) and narrowed(lead.industry, lead.investor.region, lead.source_channel)
    ]
    visiting = {
        visit.investor_id
        for visit in Visit.objects.select_related("unit", "investor", "lead")
        if inside(visit.unit)
        and visit.kind in (VisitKind.RECEPTION, VisitKind.INSPECTION)
        and start <= visit.visited_on <= end
        and narrowed(
            visit.lead.industry if visit.lead else None,
            visit.investor.region,
            visit.lead.source_channel if visit.lead else None,
        )
    }
    projects = [
        p
        for p in Project.objects.select_related("unit", "investor", "lead")
        if inside(p.unit)
        and narrowed(p.industry, p.investor.region, p.lead.source_channel if p.lead else None)
    ]
    signed = [p for p in projects if start <= p.contract_date <= end]
    started = [
        p for p in projects if p.groundbreaking_actual and start <= p.groundbreaking_actual <= end
    ]
    return {
        Figure.LEADS_IN_HAND: sum(
            1
            for lead in leads
            if lead.qualified_on and lead.qualified_on <= end and open_at_end(lead)
        ),
        Figure.LEADS_NEGOTIATING: sum(
            1
            for lead in leads
            if lead.negotiating_on and lead.negotiating_on <= end and open_at_end(lead)
        ),
        Figure.INVESTORS_VISITING: len(visiting),
        Figure.SIGNED_COUNT: len(signed),
        Figure.SIGNED_AMOUNT: sum((p.signed_investment for p in signed), Decimal(0)),
        Figure.GROUNDBREAKING_COUNT: len(started),
        Figure.GROUNDBREAKING_AMOUNT: sum((p.total_investment for p in started), Decimal(0)),
        Figure.IN_STATISTICS_COUNT: sum(
            1 for p in projects if p.in_statistics_actual and start <= p.in_statistics_actual <= end
        ),
        Figure.ABOVE_SIZE_COUNT: sum(
            1 for p in projects if p.above_size_actual and start <= p.above_size_actual <= end
        ),
    }


def shown(row) -> dict:
    return {figure: row.figures.get(figure) for figure in COCKPIT_FIGURES}


@pytest.mark.parametrize(
    "narrowing",
    [
        {"industry": Industry.AUTO},
        {"industry": Industry.BIOMEDICINE},
        {"region": Region.JAPAN},
        {"source_channel": SourceChannel.EVENT},
        {"industry": Industry.ELECTRONICS, "region": Region.DOMESTIC},
    ],
)
@pytest.mark.parametrize(
    ("start", "end"), [(date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), DAY)]
)
def test_the_five_counts_equal_hand_filtered_counts(mixed, narrowing, start, end):
    client = client_for(mixed.chief)
    params = {"period": "custom", "start": start, "end": end, **narrowing}
    context = client.get("/dashboard/", params).context
    keys = {"industry": "", "region": "", "source_channel": "", **narrowing}
    hand = {
        unit: hand_counted(
            unit, start, end, keys["industry"], keys["region"], keys["source_channel"]
        )
        for unit in (None, mixed.shanghai, mixed.shenzhen, mixed.department)
    }
    for row in context["rows"]:
        assert shown(row) == hand[row.unit], row.name
    assert shown(context["total"]) == hand[None]
    # The filter matters: the unfiltered bureau differs, so ignoring it would fail here.
    assert hand[None] != hand_counted(None, start, end)
    assert hand[None][Figure.SIGNED_COUNT] + hand[None][Figure.LEADS_IN_HAND] > 0


# --- The list pages behind the links --------------------------------------------------------


def test_project_list_page_offers_and_applies_the_unit_filter(mixed):
    client = client_for(mixed.chief)
    html = client.get("/projects/").content.decode()
    assert 'name="unit"' in html and f'<option value="{mixed.shanghai_team.pk}"' in html
    shanghai = client.get("/projects/", {"unit": mixed.shanghai.pk}).context["page"]
    expected = Project.objects.filter(unit__path__startswith=mixed.shanghai.path).count()
    assert shanghai.paginator.count == expected > 0
    assert all(p.unit.path.startswith(mixed.shanghai.path) for p in shanghai.object_list)
    team = client.get("/projects/", {"unit": mixed.shanghai_team.pk}).context["page"]
    assert 0 < team.paginator.count < shanghai.paginator.count


def test_project_list_filters_by_region_channel_dates_and_overdue(mixed):
    client = client_for(mixed.chief)

    def count(**params) -> int:
        return client.get("/projects/", params).context["page"].paginator.count

    japan = Project.objects.filter(investor__region=Region.JAPAN).count()
    assert count(investor_region=Region.JAPAN) == japan > 0
    event = Project.objects.filter(lead__source_channel=SourceChannel.EVENT).count()
    assert count(source_channel=SourceChannel.EVENT) == event > 0
    started = Project.objects.filter(groundbreaking_actual__year=2025).count()
    assert (
        count(groundbreaking_actual_after="2025-01-01", groundbreaking_actual_before="2025-12-31")
        == started
        > 0
    )
    overdue = count(overdue="true")
    assert 0 < overdue < count()
    assert overdue + count(overdue="false") == count()


def test_an_outsider_naming_another_unit_sees_nothing_of_it(mixed):
    client = client_for(mixed.outsider)
    page = client.get("/projects/", {"unit": mixed.shanghai.pk}).context["page"]
    assert page.paginator.count == 0
    leads = client.get("/leads/", {"unit": mixed.shanghai.pk, "in_hand_as_of": "2026-10-31"})
    assert leads.context["page"].paginator.count == 0


def test_bad_filter_values_are_shown_next_to_the_field_never_a_500(mixed):
    client = client_for(mixed.chief)
    response = client.get("/projects/", {"contract_date_after": "昨天", "unit": "abc"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert set(response.context["filter_form"].errors) >= {"contract_date", "unit"}
    assert "has-error" in response.content.decode()
    response = client.get("/leads/", {"in_hand_as_of": "2026-13-45"})
    assert response.status_code == 200
    assert "in_hand_as_of" in response.context["filter_form"].errors
    api = client.get("/api/v1/projects/", {"groundbreaking_actual_after": "x"})
    assert api.status_code == 400


def test_lead_list_status_on_a_past_day_follows_the_status_dates(mixed):
    client = client_for(mixed.chief)
    day = date(2025, 9, 30)
    in_hand = client.get("/leads/", {"in_hand_as_of": day}).context["page"].paginator.count
    negotiating = client.get("/leads/", {"negotiating_as_of": day}).context["page"]
    by_hand = [
        lead
        for lead in Lead.objects.all()
        if (lead.signed_on is None or lead.signed_on > day)
        and (lead.closed_on is None or lead.closed_on > day)
    ]
    assert in_hand == sum(1 for x in by_hand if x.qualified_on and x.qualified_on <= day) > 0
    assert negotiating.paginator.count == sum(
        1 for x in by_hand if x.negotiating_on and x.negotiating_on <= day
    )
    # Not the current statuses: some lead in hand then has since been signed or dropped.
    now = client.get("/leads/", {"status": ["valid", "negotiating"]}).context["page"]
    assert now.paginator.count != in_hand


def test_api_lists_take_the_new_filters(mixed):
    client = client_for(mixed.chief)
    rows = client.get(
        "/api/v1/projects/", {"investor_region": Region.JAPAN, "page_size": 500}
    ).json()
    results = rows["results"] if isinstance(rows, dict) else rows
    assert len(results) == Project.objects.filter(investor__region=Region.JAPAN).count()
    rows = client.get("/api/v1/leads/", {"in_hand_as_of": "2026-10-31", "page_size": 500}).json()
    results = rows["results"] if isinstance(rows, dict) else rows
    assert {r["id"] for r in results} == set(
        Lead.objects.filter(qualified_on__lte=date(2026, 10, 31))
        .exclude(signed_on__lte=date(2026, 10, 31))
        .exclude(closed_on__lte=date(2026, 10, 31))
        .values_list("pk", flat=True)
    )


def test_arrived_fdi_and_key_signings_link_to_the_projects_they_count(mixed):
    """The two figures that once had no list: not zero on the mixed bureau, and linked."""
    client = client_for(mixed.chief)
    response = client.get("/dashboard/", {"period": "ytd"})
    total = response.context["total"]
    assert total.projects["arrived_fdi"] > 0
    assert total.projects["arrived_fdi_count"] > 0
    assert (
        printed_count(client, total.projects["arrived_fdi_url"])
        == (total.projects["arrived_fdi_count"])
    )
    by_metric = {t["metric"]: t for t in total.targets}
    for metric in (TargetMetric.KEY_PROJECT_COUNT, TargetMetric.FDI_ARRIVED):
        target = by_metric[metric]
        assert target["count"] > 0, metric
        assert printed_count(client, target["url"]) == target["count"], metric
    # The key signings' list holds only signings of at least 1亿 this year.
    listed = client.get(by_metric[TargetMetric.KEY_PROJECT_COUNT]["url"]).context["page"]
    assert all(p.signed_investment >= 10000 for p in listed.object_list)
    assert all(p.contract_date.year == DAY.year for p in listed.object_list)


def test_project_list_rejects_a_bad_progress_month_next_to_the_field(mixed):
    client = client_for(mixed.chief)
    response = client.get("/projects/", {"progress_month_after": "2026-13-01"})
    assert response.status_code == 200
    assert "progress_month" in response.context["filter_form"].errors
    response = client.get("/projects/", {"signed_investment_min": "很多"})
    assert response.status_code == 200
    assert "signed_investment_min" in response.context["filter_form"].errors
