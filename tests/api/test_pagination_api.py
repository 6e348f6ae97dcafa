"""Cursor pagination: a walk through a list under concurrent writes never skips nor repeats."""

from __future__ import annotations

from collections import Counter

import pytest

from leads.models import Investor, Lead
from leads.services import investor_update, lead_update
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


def walk(client, url, params, between=None):
    """Every id of a paginated walk, in order, calling ``between(page_number)`` between pages."""
    seen: list[int] = []
    response = client.get(url, params)
    page = 0
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if body["next"] is None:
            return seen
        page += 1
        if between is not None:
            between(page)
        response = client.get(body["next"])


def test_walk_sees_every_existing_lead_once_while_new_ones_arrive(bureau, client_for):
    existing = {make_lead(bureau.shanghai_officer).pk for _ in range(13)}
    client = client_for(bureau.shanghai_officer)

    def insert(_page):
        make_lead(bureau.teammate)
        make_lead(bureau.shanghai_officer)

    seen = walk(client, "/api/v1/leads/", {"page_size": 3}, insert)
    counts = Counter(seen)
    assert all(counts[pk] == 1 for pk in existing)
    assert len(seen) == len(set(seen))
    assert Lead.objects.count() == 13 + 2 * 4  # five pages, four gaps between them


def test_walk_in_a_custom_order_survives_inserts_with_equal_sort_keys(bureau, client_for):
    # Every lead has the same creation time: only the id tie-breaker keeps the walk stable.
    existing = {make_lead(bureau.shanghai_officer).pk for _ in range(10)}
    Lead.objects.update(created_at=Lead.objects.earliest("id").created_at)
    client = client_for(bureau.shanghai_officer)

    def insert(_page):
        lead = make_lead(bureau.shanghai_officer)
        Lead.objects.filter(pk=lead.pk).update(created_at=Lead.objects.earliest("id").created_at)

    seen = walk(client, "/api/v1/leads/", {"page_size": 3, "ordering": "-created_at"}, insert)
    counts = Counter(seen)
    assert all(counts[pk] == 1 for pk in existing)
    assert len(seen) == len(set(seen))


def test_deleting_the_row_under_the_cursor_skips_nothing(bureau, client_for):
    existing = [make_investor(bureau.shanghai_officer).pk for _ in range(9)]
    client = client_for(bureau.shanghai_officer)
    first = client.get("/api/v1/investors/", {"page_size": 3}).json()
    last_seen = first["results"][-1]["id"]
    Investor.objects.filter(pk=last_seen).delete()
    rest = walk(client, first["next"], {})
    seen = [row["id"] for row in first["results"]] + rest
    assert sorted(seen) == sorted(existing)


def test_sync_walk_by_updated_at_sees_every_row_and_the_last_change(bureau, client_for):
    investors = [make_investor(bureau.shanghai_officer) for _ in range(8)]
    client = client_for(bureau.shanghai_officer)
    edited = investors[0]

    def edit_and_insert(page):
        # An already-read row changes: the walk must bring it back with its new value.
        investor_update(actor=bureau.shanghai_officer, investor=edited, city=f"城市{page}")
        make_investor(bureau.shanghai_officer)

    rows: list[dict] = []
    response = client.get(
        "/api/v1/investors/", {"page_size": 3, "updated_after": "2000-01-01T00:00:00Z"}
    )
    page = 0
    while True:
        body = response.json()
        rows += body["results"]
        if body["next"] is None:
            break
        page += 1
        edit_and_insert(page)
        response = client.get(body["next"])
    seen = {row["id"] for row in rows}
    assert {inv.pk for inv in investors} <= seen
    last_copy = [row for row in rows if row["id"] == edited.pk][-1]
    edited.refresh_from_db()
    assert last_copy["city"] == edited.city
    stamps = [row["updated_at"] for row in rows]
    assert stamps == sorted(stamps)


def test_bad_cursor_and_page_size_are_400(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    for params, field in (
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 100000}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
    ):
        response = client.get("/api/v1/leads/", params)
        assert response.status_code == 400, params
        assert field in response.json()["fields"]


def test_a_cursor_from_another_ordering_is_refused(bureau, client_for):
    for _ in range(3):
        make_lead(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    next_url = client.get("/api/v1/leads/", {"page_size": 1}).json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]
    response = client.get("/api/v1/leads/", {"cursor": cursor, "ordering": "name"})
    assert response.status_code == 400
    assert "cursor" in response.json()["fields"]


def _leads_by_name(officer, count):
    return [make_lead(officer, name=f"项目{chr(ord('乙') + i)}") for i in range(count)]


def _rename(officer, lead):
    lead_update(actor=officer, lead=lead, changes={"name": "甲项目"})


@pytest.mark.parametrize("ordering", ["id", "-id", "created_at", "-created_at"])
def test_walk_in_a_key_order_sees_a_lead_renamed_during_it_exactly_once(
    bureau, client_for, ordering
):
    leads = _leads_by_name(bureau.shanghai_officer, 9)
    client = client_for(bureau.shanghai_officer)
    # A lead the walk reaches last: renamed "甲…", by name it would jump into the pages read.
    unread = leads[0] if ordering.startswith("-") else leads[-1]

    def rename_unread(page):
        if page == 1:
            _rename(bureau.shanghai_officer, unread)

    seen = walk(client, "/api/v1/leads/", {"page_size": 3, "ordering": ordering}, rename_unread)
    assert sorted(seen) == sorted(lead.pk for lead in leads)
    assert Counter(seen)[unread.pk] == 1


@pytest.mark.parametrize("ordering", ["name", "-updated_at", "-estimated_amount"])
def test_walk_by_a_field_that_can_change_is_refused_after_the_first_page(
    bureau, client_for, ordering
):
    leads = _leads_by_name(bureau.shanghai_officer, 7)
    client = client_for(bureau.shanghai_officer)
    first = client.get("/api/v1/leads/", {"page_size": 3, "ordering": ordering})
    assert first.status_code == 200
    assert len(first.json()["results"]) == 3
    # Renaming moves a lead not read yet into the page already read (by name, by newest).
    unread = leads[-1] if ordering == "name" else leads[0]
    _rename(bureau.shanghai_officer, unread)
    unread.refresh_from_db()
    response = client.get(first.json()["next"])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "ordering_not_walkable"
    assert "cursor" in body["fields"]
    assert Lead.objects.get(pk=unread.pk).updated_at == unread.updated_at  # nothing changed


def test_walk_by_updated_at_never_loses_a_lead_changed_before_it_is_read(bureau, client_for):
    leads = _leads_by_name(bureau.shanghai_officer, 8)
    client = client_for(bureau.shanghai_officer)

    def rename_unread(page):
        if page == 1:
            _rename(bureau.shanghai_officer, leads[-1])

    seen = walk(client, "/api/v1/leads/", {"page_size": 3, "ordering": "updated_at"}, rename_unread)
    assert sorted(seen) == sorted(lead.pk for lead in leads)
    assert Counter(seen)[leads[-1].pk] == 1
