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


def test_anonymous_requests_and_the_api_keep_their_own_rules(bureau):
    probe = Client().get("/healthz")
    assert "no-store" not in probe.get("Cache-Control", "")
    client = Client()
    client.force_login(bureau.shanghai_officer)
    api = client.get("/api/v1/leads/")
    assert api.status_code == 200 and "no-store" not in api.get("Cache-Control", "")
