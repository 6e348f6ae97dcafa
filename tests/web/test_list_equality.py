"""The lead, project and visit lists count the same rows on the page, in the export and in the API.

Each list is read through one selector (``leads.selectors.lead_list_for``,
``visit_list_for``, ``projects.selectors.project_list_for``) by its page and its export, and
the API filters the same scoped rows with the same FilterSet. For a few filter sets, as a chief
and as an officer who sees only their unit, the page's printed total, the CSV download's rows
and the rows of a walk through the API list must be one number.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
import time_machine

from leads.choices import LeadStatus, VisitKind
from projects.choices import SizeClass, Stage
from promo.core.choices import Industry
from tests.dashboard.seed import build_mixed
from tests.reports.seed import TODAY

pytestmark = pytest.mark.django_db

PRINTED = re.compile(r"<h1>.*?共 (?P<n>[\d,]+)(?P<capped>\+?) (?:条|个)", re.S)


@pytest.fixture
def seeded(bureau):
    # The seed's dates are relative to TODAY; the lists (stale days, overdue) read today too.
    with time_machine.travel(TODAY, tick=False):
        build_mixed(bureau)
        yield bureau


def page_total(client, url: str, params: dict) -> int:
    response = client.get(url, params)
    assert response.status_code == 200, (url, params)
    found = PRINTED.search(response.content.decode())
    assert found and not found["capped"], (url, params)
    return int(found["n"].replace(",", ""))


def export_rows(client, what: str, params: dict) -> int:
    response = client.get(f"/imports/export/{what}.csv", params)
    assert response.status_code == 200, (what, params)
    rows = list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    return len(rows) - 1  # the header


def api_rows(client, url: str, params: dict) -> int:
    """How many rows a walk through every page of the API list returns."""
    response = client.get(url, {**params, "page_size": 7})
    seen: list[int] = []
    while True:
        assert response.status_code == 200, (url, params, response.content)
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if body["next"] is None:
            break
        response = client.get(body["next"])
    assert len(seen) == len(set(seen))
    return len(seen)


def assert_one_number(client, *, page: str, export: str, api: str, filter_sets) -> list[int]:
    totals = []
    for params, api_params in filter_sets:
        shown = page_total(client, page, params)
        exported = export_rows(client, export, params)
        walked = api_rows(client, api, params if api_params is None else api_params)
        assert shown == exported == walked, (params, shown, exported, walked)
        totals.append(shown)
    # Not a vacuous agreement: everything is non-empty, and the filters narrow it.
    assert totals[0] > 0
    assert any(0 < n < totals[0] for n in totals[1:]), totals
    return totals


def _personas(bureau):
    return [bureau.chief, bureau.shanghai_officer]


def test_lead_page_export_and_api_count_the_same_leads(seeded, client_for):
    b = seeded
    totals = {}
    for me in _personas(b):
        filter_sets = [
            ({}, None),
            ({"status": [LeadStatus.VALID, LeadStatus.NEGOTIATING]}, None),
            ({"unit": b.shanghai.pk}, None),
            ({"unit": b.shanghai_team.pk}, None),
            ({"qualified_on_after": "2025-06-01", "qualified_on_before": "2026-06-30"}, None),
            ({"q": "混合客商1"}, None),
            ({"industry": Industry.AUTO}, None),
            ({"status": LeadStatus.VALID, "industry": Industry.ELECTRONICS}, None),
            # The page's "only mine" is the API's officer filter on oneself.
            ({"mine": "1"}, {"officer": me.pk}),
        ]
        totals[me.username] = assert_one_number(
            client_for(me),
            page="/leads/",
            export="leads",
            api="/api/v1/leads/",
            filter_sets=filter_sets,
        )
    # The officer sees their unit's leads (and those they assist on), fewer than the chief.
    assert totals[b.shanghai_officer.username][0] < totals[b.chief.username][0]


def test_project_page_export_and_api_count_the_same_projects(seeded, client_for):
    b = seeded
    for me in _personas(b):
        assert_one_number(
            client_for(me),
            page="/projects/",
            export="projects",
            api="/api/v1/projects/",
            filter_sets=[
                ({}, None),
                ({"stage": [Stage.SIGNED, Stage.GROUNDBREAKING]}, None),
                ({"unit": b.shanghai.pk}, None),
                ({"contract_date_after": "2025-06-01", "contract_date_before": "2026-10-31"}, None),
                ({"q": "混合客商1"}, None),
                ({"industry": Industry.AUTO}, None),
                # The page's size checkboxes are the API's size_class.
                ({"size": SizeClass.HUNDRED_MILLION}, {"size_class": SizeClass.HUNDRED_MILLION}),
            ],
        )


def test_visit_page_export_and_api_count_the_same_visits(seeded, client_for):
    b = seeded
    for me in _personas(b):
        assert_one_number(
            client_for(me),
            page="/leads/visits/",
            export="visits",
            api="/api/v1/visits/",
            filter_sets=[
                ({}, None),
                ({"kind": [VisitKind.RECEPTION, VisitKind.INSPECTION]}, None),
                ({"unit": b.shanghai.pk}, None),
                ({"visited_on_after": "2025-06-01", "visited_on_before": "2026-06-30"}, None),
                ({"investor_name": "混合客商1"}, None),
                ({"industry": Industry.AUTO}, None),
            ],
        )
