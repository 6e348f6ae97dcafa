"""Bad input at the edges of the API: always the API's JSON error, never a 500 HTML page."""

from __future__ import annotations

import base64
import json

import pytest
from rest_framework.test import APIClient

from promo.api.clients import api_client_create
from tests.api.test_api_clients import security_admin
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


def _cursor(data) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@pytest.fixture
def chief_api(bureau):
    # A token client, as an integrating system calls: the errors must be JSON, not a page.
    _, token = api_client_create(
        actor=security_admin(), name="edges", officer=bureau.chief, access="read_write"
    )
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    return body


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor({"o": ["-id"], "v": ["abc"]}),
        _cursor({"o": ["-id"], "v": [{"x": 1}]}),
        _cursor({"o": ["-id"], "v": [None]}),
        _cursor({"o": ["-id"], "v": ["1\x00"]}),
        _cursor({"o": ["-id"], "v": [10**30]}),
        _cursor({"o": ["updated_at", "id"], "v": ["not a time", 1]}),
        _cursor({"o": ["updated_at", "id"], "v": ["0001-01-01T00:00:00+05:00", 1]}),
        _cursor({"o": ["created_at", "id"], "v": ["NaN", 1]}),
        _cursor({"o": ["created_at", "id"], "v": ["1e999999", 1]}),
        _cursor(["-id"]),
        _cursor("x"),
    ],
)
def test_tampered_cursor_is_a_400_invalid_on_the_cursor(bureau, chief_api, cursor):
    make_lead(bureau.shanghai_officer)
    ordering = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    params = {"cursor": cursor}
    if isinstance(ordering, dict) and ordering["o"][0] == "updated_at":
        params["updated_after"] = "2020-01-01T00:00:00Z"
    if isinstance(ordering, dict) and ordering["o"][0] == "created_at":
        params["ordering"] = "created_at"
    body = assert_json_error(chief_api.get("/api/v1/leads/", params), 400, "invalid")
    assert "cursor" in body["fields"]


def test_nul_byte_in_the_upsert_path_is_a_400(bureau, chief_api):
    response = chief_api.put(
        "/api/v1/investors/by-external-id/crm/A%00B/",
        {"name": "上海某某科技有限公司", "unit": bureau.shanghai.pk, "industry": "electronics"},
        format="json",
    )
    body = assert_json_error(response, 400, "invalid")
    assert "external_id" in body["fields"]
    response = chief_api.put(
        "/api/v1/investors/by-external-id/c%00rm/AB/",
        {"name": "上海某某科技有限公司", "unit": bureau.shanghai.pk, "industry": "electronics"},
        format="json",
    )
    body = assert_json_error(response, 400, "invalid")
    assert "source_system" in body["fields"]
    from leads.models import Investor

    assert not Investor.objects.filter(source_system__in=["crm", "c"]).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/investors/search/?q=%00",
        "/api/v1/investors/?q=%E4%B8%8A%00",
        "/api/v1/investors/?source_system=a%00b",
        "/api/v1/leads/?q=%00",
        "/api/v1/investors/search%00/",
    ],
)
def test_nul_byte_in_a_query_is_never_a_500(bureau, chief_api, path):
    make_investor(bureau.shanghai_officer)
    response = chief_api.get(path)
    assert response.status_code in (400, 404), (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("value", ["99999999999999999999", "-1", "abc"])
def test_a_page_number_is_a_400_naming_it_as_the_lists_walk_by_cursor(bureau, chief_api, value):
    make_lead(bureau.shanghai_officer)
    response = chief_api.get("/api/v1/leads/", {"page": value})
    body = assert_json_error(response, 400, "unknown_parameter")
    assert set(body["fields"]) == {"page"}


def test_deeply_nested_json_is_a_400_malformed_request(bureau, chief_api):
    payload = "[" * 100_000 + "]" * 100_000
    response = chief_api.generic("POST", "/api/v1/leads/", payload, content_type="application/json")
    assert_json_error(response, 400, "malformed_request")


def test_misspelled_filter_is_a_400_naming_it_and_lists_nothing(bureau, chief_api):
    make_lead(bureau.shanghai_officer)
    response = chief_api.get("/api/v1/leads/", {"stauts": "signed", "status": "valid"})
    body = assert_json_error(response, 400, "unknown_parameter")
    assert body["fields"] == {"stauts": [body["fields"]["stauts"][0]]}
    assert "results" not in body


def test_every_documented_list_parameter_is_still_accepted(bureau, chief_api):
    make_lead(bureau.shanghai_officer)
    params = {
        "status": "information",
        "ordering": "-id",
        "page_size": 5,
        "fields": "id,name",
        "updated_after": "2020-01-01T00:00:00Z",
    }
    response = chief_api.get("/api/v1/leads/", params)
    assert response.status_code == 200, response.json()


def test_first_contact_in_year_one_is_refused_with_a_field_error(bureau, chief_api):
    from leads.models import Lead

    investor = make_investor(bureau.shanghai_officer)
    before = Lead.objects.count()
    response = chief_api.post(
        "/api/v1/leads/",
        {
            "investor": investor.pk,
            "name": "某某新材料项目",
            "industry": "electronics",
            "source_channel": "stationed",
            "unit": bureau.shanghai.pk,
            "first_contact_on": "0001-01-01",
        },
        format="json",
    )
    body = assert_json_error(response, 400, "rule_violation")
    assert "first_contact_on" in body["fields"]
    assert Lead.objects.count() == before


def _documented_lists():
    from pathlib import Path

    import yaml

    schema = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text()
    )
    for path, operations in schema["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        names = [p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"]
        yield path, names


@pytest.mark.parametrize(("path", "names"), list(_documented_lists()))
def test_every_list_takes_its_documented_parameters_and_refuses_others(
    bureau, chief_api, path, names
):
    response = chief_api.get(path, {name: "" for name in names})
    assert response.status_code == 200 or response.json()["code"] != "unknown_parameter", (
        response.json()
    )
    response = chief_api.get(path, {**{name: "" for name in names}, "stauts": "signed"})
    body = assert_json_error(response, 400, "unknown_parameter")
    assert set(body["fields"]) == {"stauts"}


@pytest.mark.parametrize("resource", ["units", "officers", "investors", "leads", "problems"])
def test_fields_is_a_known_parameter_of_every_list(bureau, chief_api, resource):
    response = chief_api.get(f"/api/v1/{resource}/", {"fields": "id"})
    assert response.status_code == 200, response.json()
    assert all(set(row) == {"id"} for row in response.json()["results"])
