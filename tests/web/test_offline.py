"""Offline visit capture (离线登记走访, issue #15), the server's side: the service worker and
the manifest served from the site root to anyone, and the visit form's answer to a visit
sent from the browser's queue — JSON, saved once per submission key, refused with the form's
reasons, and never under another officer's session. The browser's side:
tests/browser/test_offline.py."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from leads.models import Visit
from promo.core.services import today
from tests.factories import make_investor

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_from_the_root_to_anyone(bureau, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert '"/visits/new/"' in body and "/static/promo/promo.js" in body


def test_the_service_worker_changes_when_a_file_it_keeps_changes(bureau, settings, tmp_path):
    first = Client().get("/sw.js").content.decode()
    copy = tmp_path / "promo"
    copy.mkdir()
    original = finders.find("promo/promo.js")
    assert isinstance(original, str)
    (copy / "promo.js").write_text(open(original, encoding="utf-8").read() + "\n// changed\n")
    settings.STATICFILES_DIRS = [tmp_path, *settings.STATICFILES_DIRS]
    finders.get_finder.cache_clear()
    try:
        second = Client().get("/sw.js").content.decode()
    finally:
        finders.get_finder.cache_clear()
    version = [line for line in first.splitlines() if line.startswith("var VERSION")]
    assert version and version[0] not in second


def test_the_manifest_names_promo_and_starts_at_home(bureau, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "招商 promo"
    assert (manifest["start_url"], manifest["display"], manifest["scope"]) == (
        "/",
        "standalone",
        "/",
    )
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_every_page_links_the_manifest_and_a_signed_in_one_the_worker(bureau, client_for):
    assert 'rel="manifest" href="/manifest.webmanifest"' in Client().get("/login/").content.decode()
    page = client_for(bureau.shanghai_officer).get("/").content.decode()
    assert 'data-sw="/sw.js"' in page and "data-queue-count" in page


def _queued_post(client: Client, officer, investor, **fields) -> object:
    data = {
        "submission": str(uuid.uuid4()),
        "kind": "visit",
        "visited_on": today().isoformat(),
        "investor": investor.pk,
        "summary": "离线保存的走访",
        **fields,
    }
    return client.post(
        "/visits/new/",
        data,
        headers={"X-Promo-Queue": str(officer.pk), "Accept": "application/json"},
    )


def test_a_queued_visit_is_answered_in_json_and_saved_once_when_sent_again(bureau, client_for):
    me = bureau.shanghai_officer
    investor = make_investor(me)
    client = client_for(me)
    key = str(uuid.uuid4())
    first = _queued_post(client, me, investor, submission=key)
    assert first.status_code == 200 and first.json() == {"saved": True, "url": "/"}
    # The answer was lost and the browser sends it again: one visit, and the same answer.
    again = _queued_post(client, me, investor, submission=key)
    assert again.status_code == 200 and again.json() == {"saved": True, "url": "/"}
    assert Visit.objects.filter(summary="离线保存的走访").count() == 1


def test_a_queued_visit_the_form_refuses_gets_its_reasons_and_nothing_is_saved(bureau, client_for):
    me = bureau.shanghai_officer
    investor = make_investor(me)
    response = _queued_post(client_for(me), me, investor, summary="")
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "invalid"
    assert any(message.startswith("洽谈内容：") for message in answer["errors"])
    assert not Visit.objects.exists()


def test_an_outsiders_queued_visit_on_an_investor_they_cannot_see_is_refused(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    outsider = bureau.outsider
    response = _queued_post(client_for(outsider), outsider, investor)
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not Visit.objects.exists()


def test_a_queue_saved_by_another_officer_is_not_sent_under_this_session(bureau, client_for):
    investor = make_investor(bureau.shanghai_officer)
    teammate = client_for(bureau.teammate)
    response = _queued_post(teammate, bureau.shanghai_officer, investor)
    assert response.status_code == 409 and response.json()["code"] == "other_officer"
    assert not Visit.objects.exists()


def test_a_queued_visit_without_a_session_is_sent_to_sign_in_and_not_saved(bureau):
    me = bureau.shanghai_officer
    response = _queued_post(Client(), me, make_investor(me))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Visit.objects.exists()
