"""Issue #16 (等保 hygiene): signed-in pages carry ``Cache-Control: no-store`` so a shared
PC's back button or a cache between never shows them after the officer has left."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/leads/", "/leads/visits/", "/projects/", "/visits/new/"])
def test_every_signed_in_page_is_no_store(bureau, path):
    make_lead(bureau.shanghai_officer)
    client = Client()
    client.force_login(bureau.shanghai_officer)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_a_lead_page_and_a_download_too(bureau):
    lead = make_lead(bureau.shanghai_officer)
    client = Client()
    client.force_login(bureau.shanghai_officer)
    assert "no-store" in client.get(f"/leads/{lead.pk}/")["Cache-Control"]
    assert "no-store" in client.get("/imports/export/leads.csv")["Cache-Control"]


def test_the_api_keeps_its_own_rule(bureau):
    client = Client()
    client.force_login(bureau.shanghai_officer)
    api = client.get("/api/v1/leads/")
    # The API's own header (DRF's views never cache), not the pages' one.
    assert api.status_code == 200 and api.get("Cache-Control") != "no-store, private"
