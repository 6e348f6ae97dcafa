"""The agreements API (#20): agreements with both sides' commitments, statuses as the pages
compute them, the sync guards (cursor, updated_after, ETag, Idempotency-Key), and a measured
value written by a system that holds the figure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from promo.agreements import services
from promo.agreements.models import Measurement
from promo.core.services import today
from tests.factories import make_project

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture
def agreement(bureau):
    officer = bureau.shanghai_officer
    project = make_project(officer, contract_date=today() - 60 * DAY)
    agreement = services.agreement_create(
        project=project,
        actor=officer,
        kind="main",
        title="电机项目投资协议",
        signed_on=project.contract_date,
    )
    tax = services.term_add(
        agreement=agreement, actor=officer, metric="annual_tax", target="100", due_on=today() - DAY
    )
    item = services.measurement_record(
        term=tax, actor=officer, measured_on=today() - 2 * DAY, value="60", source="税务"
    )
    services.measurement_verify(measurement=item, actor=bureau.shanghai_head)
    services.term_add(
        agreement=agreement,
        actor=officer,
        metric="start_by",
        target=None,
        due_on=today() + 30 * DAY,
    )
    services.promise_add(
        agreement=agreement, actor=officer, kind="land_delivery", description="交地",
        owner_unit=bureau.shanghai, due_on=today() - 3 * DAY,
    )  # fmt: skip
    return agreement


def test_the_agreement_reads_with_its_statuses_as_the_page_computes_them(
    bureau, client_for, agreement
):
    body = client_for(bureau.chief).get(f"/api/v1/agreements/{agreement.pk}/").json()
    assert body["title"] == "电机项目投资协议"
    assert body["status_on"] == today().isoformat()
    terms = {t["metric"]: t for t in body["terms"]}
    assert terms["annual_tax"]["status"] == "partly_met"
    assert terms["annual_tax"]["value_at_due"] == "60.00"
    assert terms["annual_tax"]["measurements"][0]["verified_by"]["id"] == bureau.shanghai_head.pk
    assert terms["start_by"]["status"] == "pending"
    assert body["promises"][0]["status"] == "overdue"
    assert body["promises"][0]["clawback_due"] is False


def test_the_outsider_reads_no_agreement(bureau, client_for, agreement):
    client = client_for(bureau.outsider)
    assert client.get("/api/v1/agreements/").json()["results"] == []
    assert client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == 404
    response = client.post(
        f"/api/v1/agreements/{agreement.pk}/measurements/",
        {
            "term": agreement.terms.first().pk,
            "measured_on": today().isoformat(),
            "value": "1",
            "source": "x",
        },
        format="json",
    )
    assert response.status_code == 404
    assert Measurement.objects.count() == 1


def test_a_system_writes_a_figure_once_and_the_agreement_moves_in_the_feed(
    bureau, client_for, agreement
):
    client = client_for(bureau.shanghai_officer)
    first = client.get(f"/api/v1/agreements/{agreement.pk}/")
    etag, stamp = first["ETag"], first.json()["updated_at"]
    tax = agreement.terms.get(metric="annual_tax")
    body = {
        "term": tax.pk,
        "measured_on": today().isoformat(),
        "value": "120.5",
        "source": "税务部门入库数据",
    }
    url = f"/api/v1/agreements/{agreement.pk}/measurements/"
    made = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="tax-2026")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="tax-2026")
    assert made.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Measurement.objects.filter(term=tax).count() == 2
    assert made["ETag"] != etag
    assert (
        client.get(f"/api/v1/agreements/{agreement.pk}/", HTTP_IF_NONE_MATCH=etag).status_code
        == 200
    )
    changed = client.get("/api/v1/agreements/", {"updated_after": stamp}).json()["results"]
    assert [row["id"] for row in changed] == [agreement.pk]
    # Unverified, the new figure does not count yet (and was measured after the due date).
    assert {t["metric"]: t["status"] for t in made.json()["terms"]}["annual_tax"] == "partly_met"


def test_bad_figures_are_refused_with_a_code_on_their_field_and_nothing_written(
    bureau, client_for, agreement
):
    client = client_for(bureau.shanghai_officer)
    url = f"/api/v1/agreements/{agreement.pk}/measurements/"
    tax = agreement.terms.get(metric="annual_tax")
    start = agreement.terms.get(metric="start_by")
    other = make_project(bureau.shanghai_officer)
    foreign = services.term_add(
        agreement=services.agreement_create(
            project=other, actor=bureau.shanghai_officer, kind="main", title="另一协议", signed_on=other.contract_date
        ),
        actor=bureau.shanghai_officer, metric="jobs", target="5", due_on=today(),
    )  # fmt: skip
    good = {"term": tax.pk, "measured_on": today().isoformat(), "value": "1", "source": "税务"}
    cases = [
        ({**good, "term": foreign.pk}, "term"),
        ({**good, "term": start.pk}, "value"),
        ({**good, "value": "-1"}, "value"),
        ({**good, "value": "abc"}, "value"),
        ({**good, "source": ""}, "source"),
        ({**good, "measured_on": (today() + DAY).isoformat()}, "measured_on"),
        ({**good, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = client.post(url, body, format="json")
        assert response.status_code == 400, body
        error = response.json()
        assert error["code"] in ("rule_violation", "invalid"), error
        assert field in error["fields"], error
    assert Measurement.objects.count() == 1


def test_a_teammate_may_read_but_not_write_a_figure(bureau, client_for, agreement):
    client = client_for(bureau.teammate)
    assert client.get(f"/api/v1/agreements/{agreement.pk}/").status_code == 200
    response = client.post(
        f"/api/v1/agreements/{agreement.pk}/measurements/",
        {
            "term": agreement.terms.first().pk,
            "measured_on": today().isoformat(),
            "value": "1",
            "source": "x",
        },
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Measurement.objects.count() == 1
