"""Bad input on the officers' pages: a clear 400 or a normal page, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(bureau) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(bureau.shanghai_officer)
    return client


def test_investor_typeahead_with_a_nul_byte_is_a_400_in_json(bureau, officer_client):
    make_investor(bureau.shanghai_officer)
    response = officer_client.get("/investors/search/?q=%E4%B8%8A%00")
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("path", ["/leads/", "/leads/visits/", "/projects/"])
def test_a_page_number_beyond_any_range_is_sent_to_the_deepest_bare_page(
    bureau, officer_client, path
):
    """A bare deep ?page=N is not read by OFFSET (issue #19): the officer is sent to page 5
    with a notice, which shows the list from its last page (here the first)."""
    make_lead(bureau.shanghai_officer)
    response = officer_client.get(path, {"page": "99999999999999999999"})
    assert response.status_code == 302, response.content[:200]
    assert response["Location"].endswith("page=5")
    response = officer_client.get(response["Location"])
    assert response.status_code == 200, response.content[:200]
