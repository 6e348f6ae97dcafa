"""The service visits' API (/api/v1/service-visits/, issue #20): the sync contract of the other
lists — cursor paging, ETag, a change feed by ``updated_after``, an external id used once,
Idempotency-Key — pinned query counts, and an outsider who sees and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from leads.models import Lead
from projects.models import Problem, ServiceVisit
from promo.core.services import today
from tests.projects.test_aftercare import producing, visit

pytestmark = pytest.mark.django_db
URL = "/api/v1/service-visits/"


def api(officer) -> APIClient:
    client = APIClient()
    client.force_login(officer)
    return client


def body(project, **fields) -> dict:
    return {
        "project": project.pk,
        "visited_on": today().isoformat(),
        "satisfaction": 5,
        "employment": 80,
        "has_expansion_plan": False,
        **fields,
    }


def test_the_list_reads_in_the_same_queries_for_2_and_for_20_rows(bureau):
    project = producing(bureau.shanghai_officer)
    client = api(bureau.shanghai_officer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": 50})
        assert response.status_code == 200
        return len(queries)

    for n in range(2):
        visit(project, bureau.shanghai_officer, visited_on=today() - timedelta(days=n))
    client.get(URL)
    few = count()
    for n in range(18):
        visit(project, bureau.shanghai_officer, visited_on=today() - timedelta(days=n + 2))
    assert count() == few <= 8
    assert len(client.get(URL, {"page_size": 50}).json()["results"]) == 20


def test_the_list_pages_by_cursor_and_filters_by_project_and_change(bureau):
    project = producing(bureau.shanghai_officer)
    other = producing(bureau.shanghai_officer)
    for n in range(3):
        visit(project, bureau.shanghai_officer, visited_on=today() - timedelta(days=n))
    visit(other, bureau.shanghai_officer)
    client = api(bureau.shanghai_officer)
    first = client.get(URL, {"project": project.pk, "page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert sorted(ids) == sorted(
        ServiceVisit.objects.filter(project=project).values_list("pk", flat=True)
    )
    assert client.get(URL, {"stauts": "x"}).status_code == 400  # a misspelt filter is refused


def test_a_visit_is_read_with_an_etag_and_answers_304_when_unchanged(bureau):
    project = producing(bureau.shanghai_officer)
    row = visit(project, bureau.shanghai_officer)
    client = api(bureau.shanghai_officer)
    response = client.get(f"{URL}{row.pk}/")
    assert response.status_code == 200 and response["ETag"]
    assert response.json()["satisfaction"] == 4
    again = client.get(f"{URL}{row.pk}/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_system_records_a_visit_with_its_problem_and_expansion_once(bureau):
    project = producing(bureau.shanghai_officer)
    client = api(bureau.shanghai_officer)
    data = body(
        project,
        has_expansion_plan=True,
        expansion_amount="3000",
        problem_title="蒸汽供应不稳",
        problem_kind="power",
        problem_due_on=(today() + timedelta(days=5)).isoformat(),
        source_system="12345",
        external_id="SV-9",
    )
    created = client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert created.status_code == 201, created.json()
    row = created.json()
    assert row["problem"] and row["expansion_lead"] and row["external_id"] == "SV-9"
    assert Lead.objects.get(pk=row["expansion_lead"]).is_expansion
    # The same Idempotency-Key replays the answer; the same external id without it conflicts.
    replay = client.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201 and replay.json()["id"] == row["id"]
    assert client.post(URL, data, format="json").status_code == 409
    assert ServiceVisit.objects.count() == 1 and Problem.objects.count() == 1
    assert Lead.objects.filter(is_expansion=True).count() == 1


def test_bad_input_is_answered_on_its_field(bureau):
    project = producing(bureau.shanghai_officer)
    response = api(bureau.shanghai_officer).post(
        URL, body(project, has_expansion_plan=True), format="json"
    )
    assert response.status_code == 400
    assert "expansion_amount" in response.json()["fields"]
    assert not ServiceVisit.objects.exists()


def test_an_outsider_sees_no_visit_and_writes_none(bureau):
    project = producing(bureau.shanghai_officer)
    row = visit(project, bureau.shanghai_officer)
    client = api(bureau.outsider)
    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{row.pk}/").status_code == 404
    assert client.post(URL, body(project), format="json").status_code == 400  # hidden project
    assert ServiceVisit.objects.count() == 1
