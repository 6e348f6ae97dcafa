"""The cockpit's 本级 row: a unit's own records, beside its sub-units' rows (issue #14, finding 8).

The chief's table has a 局本级 row (the bureau's own records); a unit head's table of the
office's groups has a row for the office's own records. Unit rows and the 本级 row add up to
合计, the 本级 row is not scored or ranked, and each of its numbers links to a list of exactly
that unit's own records (``without_subunits``), whose count is the number.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from leads.choices import LeadStatus, VisitKind
from leads.models import Lead, Visit
from projects.models import Project
from promo.dashboard.selectors import COCKPIT_FIGURES
from promo.reports.choices import Figure
from tests.factories import make_investor, make_lead, met_elsewhere
from tests.reports.seed import TODAY, build_october

pytestmark = pytest.mark.django_db

OCTOBER = {"period": "month", "on": "2026-10-15"}
PRINTED = re.compile(r"<h1>.*?共 (?P<n>[\d,]+) (?:条|个)", re.S)


@pytest.fixture
def october(bureau):
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)
        yield bureau


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def printed(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return int(PRINTED.search(response.content.decode())["n"].replace(",", ""))


def assert_rows_add_up(context) -> None:
    parts = [*context["rows"], *context["own_rows"]]
    total = context["total"]
    for figure in COCKPIT_FIGURES:
        values = [row.figures.get(figure) for row in parts]
        if figure == Figure.INVESTORS_VISITING:  # distinct investors: at most the sum
            assert max(values) <= total.figures.get(figure) <= sum(values)
        else:
            assert sum(values) == total.figures.get(figure), figure
    for key in ("building_10m", "key_count", "overdue", "contracted_fdi", "arrived_fdi"):
        assert sum(row.projects[key] for row in parts) == total.projects[key], key


def test_the_chiefs_table_has_a_bureau_own_row_and_the_rows_add_up(october):
    client = client_for(october.chief)
    response = client.get("/dashboard/", OCTOBER)
    context = response.context
    [own] = context["own_rows"]
    assert (own.name, own.unit, own.is_own, own.is_total) == ("局本级", october.bureau, True, False)
    assert own.figures.leads_in_hand == 1  # the chief's L8 on the bureau itself
    assert_rows_add_up(context)
    # Not scored or ranked against the bureau's own units.
    assert "局本级" not in [score["row"].name for score in context["scores"]]
    html = response.content.decode()
    assert html.index(">局本级<") < html.index(">合计<")


def test_a_unit_heads_table_has_the_offices_own_row(october):
    client = client_for(october.shanghai_head)
    context = client.get("/dashboard/", OCTOBER).context
    assert [row.unit for row in context["rows"]] == [october.shanghai_team]
    [own] = context["own_rows"]
    assert (own.name, own.unit) == ("上海办事处本级", october.shanghai)
    # Shanghai's own L1 and L2 (L3 is the Pudong group's, dropped; L4 signed in October).
    assert own.figures.leads_in_hand == 2
    assert_rows_add_up(context)


@pytest.mark.parametrize("who", ["chief", "shanghai_head"])
def test_every_number_of_the_own_row_opens_a_list_of_exactly_that_count(october, who):
    officer = getattr(october, who)
    client = client_for(officer)
    with time_machine.travel(TODAY, tick=False):
        context = client.get("/dashboard/", OCTOBER).context
    [own] = context["own_rows"]
    urls = [(cell["url"], cell["count"]) for cell in own.cells]
    urls += [
        (own.projects[f"{key}_url"], own.projects[key])
        for key in ("building_10m", "key_count", "overdue")
    ]
    urls += [
        (own.projects["contracted_fdi_url"], own.projects["contracted_fdi_count"]),
        (own.projects["arrived_fdi_url"], own.projects["arrived_fdi_count"]),
    ]
    for url, count in urls:
        assert "without_subunits=true" in url, url
        assert printed(client, unescape(url)) == count, url
    in_hand = next(c for c in own.cells if c["figure"] == Figure.LEADS_IN_HAND)
    assert in_hand["count"] == own.figures.leads_in_hand > 0


def test_the_figures_xlsx_has_the_own_row_before_the_total(october):
    client = client_for(october.chief)
    response = client.get("/dashboard/export/figures.xlsx", OCTOBER)
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    names = [row[0].value for row in ws.iter_rows(min_row=3)]
    assert names[-2:] == ["局本级", "合计"]


# --- The lists' "without sub-units" filter ------------------------------------------------


def test_the_lists_filter_a_units_own_records_without_its_sub_units(october):
    client = client_for(october.chief)
    shanghai, team = october.shanghai, october.shanghai_team
    own = {"unit": shanghai.pk, "without_subunits": "true"}

    def count(url: str, **params) -> int:
        return client.get(url, params).context["page"].paginator.count

    assert count("/leads/", **own) == Lead.objects.filter(unit=shanghai).count() > 0
    assert (
        count("/leads/", unit=shanghai.pk) == Lead.objects.filter(unit__in=[shanghai, team]).count()
    )
    assert Lead.objects.filter(unit=team).exists()  # so the two counts differ
    assert count("/projects/", **own) == Project.objects.filter(unit=shanghai).count() > 0
    assert Project.objects.filter(unit=team).exists()
    assert count("/leads/visits/", **own) == Visit.objects.filter(unit=shanghai).count() > 0
    assert Visit.objects.filter(unit=team).exists()
    # Without a unit the option changes nothing; unchecked it is the whole sub-tree.
    assert count("/leads/", without_subunits="true") == Lead.objects.count()
    assert count("/leads/", unit=shanghai.pk, without_subunits="false") == count(
        "/leads/", unit=shanghai.pk
    )


def test_the_visiting_investors_list_filters_a_units_own_visits(october):
    client = client_for(october.chief)
    period = {"visited_on_after": "2026-10-01", "visited_on_before": "2026-10-31"}
    whole = printed(
        client,
        f"/leads/investors/visiting/?visit_unit={october.shanghai.pk}"
        f"&visited_on_after=2026-10-01&visited_on_before=2026-10-31",
    )
    own = client.get(
        "/leads/investors/visiting/",
        {**period, "visit_unit": october.shanghai.pk, "visit_without_subunits": "true"},
    )
    # Investor A (received and inspected by Shanghai itself); B was the Pudong group's.
    assert own.context["page"].paginator.count == 1
    assert whole == 2


def test_the_api_takes_the_same_filter(october):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(october.chief)
    response = api.get("/api/v1/leads/", {"unit": october.shanghai.pk, "without_subunits": "true"})
    assert response.status_code == 200, response.content
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == set(Lead.objects.filter(unit=october.shanghai).values_list("pk", flat=True))


def test_a_chief_writing_on_the_bureau_shows_in_the_own_row_only(bureau):
    with time_machine.travel(TODAY, tick=False):
        lead = make_lead(bureau.chief, status=LeadStatus.VALID)
        investor = make_investor(bureau.chief)
        met_elsewhere(bureau.chief, investor, kind=VisitKind.RECEPTION, on=date(2026, 11, 1))
        context = client_for(bureau.chief).get("/dashboard/", {"period": "ytd"}).context
    [own] = context["own_rows"]
    assert lead.unit == bureau.bureau
    assert (own.figures.leads_in_hand, own.figures.investors_visiting) == (1, 1)
    assert all(row.figures.leads_in_hand == 0 for row in context["rows"])
    assert context["total"].figures.leads_in_hand == 1
    assert own.figures.signed_amount == Decimal("0.00")
