"""Mirroring promo through the API: a client that walks the list, then follows
``updated_after`` and the deletion feed, ends with an exact copy through concurrent
creates, updates and deletions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from leads.models import Investor, Visit
from leads.services import investor_update, visit_log
from promo.core.services import today
from tests.factories import make_investor

# Real commits: history rows take their time from their own transaction, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

# docs/api.md: re-read a minute of overlap each pass. A row written by a transaction that
# began before the last pass but committed after it carries an older timestamp; re-reading
# (an idempotent upsert or delete) is harmless, missing it is not.
OVERLAP = timedelta(minutes=1)

LIST = "/api/v1/investors/"
DELETED = "/api/v1/investors/deleted/"


def fetch_all(client, url, params, between=None) -> list[dict]:
    """Every row of a paginated list; ``between()`` runs once between the first two pages."""
    rows, response = [], client.get(url, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        if body["next"] is None:
            return rows
        if between is not None:
            between()
            between = None
        response = client.get(body["next"])


class Mirror:
    """What an integrator keeps: rows by id, a change high-water mark, a deletion mark."""

    def __init__(self, client):
        self.client = client
        self.rows: dict[int, dict] = {}
        self.changed_since = "2000-01-01T00:00:00+00:00"
        self.deleted_since = "2000-01-01T00:00:00+00:00"

    def sync(self, between=None) -> None:
        started = timezone.now()
        since = _minus(self.changed_since, OVERLAP)
        params = {"updated_after": since, "page_size": 3}
        newest = self.changed_since
        for row in fetch_all(self.client, LIST, params, between):
            self.rows[row["id"]] = row
            newest = max(newest, row["updated_at"], key=datetime.fromisoformat)
        self.changed_since = newest
        deleted_after = _minus(self.deleted_since, OVERLAP)
        for tomb in fetch_all(self.client, DELETED, {"deleted_after": deleted_after}):
            self.rows.pop(tomb["object_id"], None)
        self.deleted_since = started.isoformat()


def _minus(stamp: str, delta: timedelta) -> str:
    return (datetime.fromisoformat(stamp) - delta).isoformat()


def server_state(client) -> dict[int, dict]:
    return {row["id"]: row for row in fetch_all(client, LIST, {"page_size": 500})}


def test_mirror_stays_exact_through_creates_updates_and_deletions(bureau, client_for):
    officer = bureau.shanghai_officer
    investors = [make_investor(officer) for _ in range(7)]
    client = client_for(bureau.chief)
    mirror = Mirror(client)

    def concurrent_writes():
        investor_update(actor=officer, investor=investors[0], city="苏州")
        make_investor(officer)
        Investor.objects.filter(pk=investors[6].pk).delete()

    mirror.sync(between=concurrent_writes)

    # More writes between passes.
    investor_update(actor=officer, investor=investors[1], notes="更新")
    make_investor(officer)
    Investor.objects.filter(pk=investors[2].pk).delete()
    mirror.sync()
    mirror.sync()  # a pass with nothing new changes nothing

    assert mirror.rows == server_state(client)
    assert investors[6].pk not in mirror.rows
    assert investors[2].pk not in mirror.rows
    assert mirror.rows[investors[0].pk]["city"] == "苏州"
    assert len(mirror.rows) == 7


def test_deletion_feed_is_scoped_to_the_callers_units(bureau, client_for):
    visit = visit_log(
        actor=bureau.shanghai_officer,
        kind="call",
        visited_on=today() - timedelta(days=1),
        investor=make_investor(bureau.shanghai_officer),
        summary="电话沟通",
    )
    Visit.objects.filter(pk=visit.pk).delete()
    chief_feed = client_for(bureau.chief).get("/api/v1/visits/deleted/").json()["results"]
    assert [t["object_id"] for t in chief_feed] == [visit.pk]
    assert client_for(bureau.teammate).get("/api/v1/visits/deleted/").json()["results"] != []
    outsider = client_for(bureau.outsider).get("/api/v1/visits/deleted/")
    assert outsider.json()["results"] == []


def test_deletion_feed_rejects_a_bad_time(bureau, client_for):
    response = client_for(bureau.chief).get(DELETED, {"deleted_after": "last tuesday"})
    assert response.status_code == 400
    assert "deleted_after" in response.json()["fields"]
