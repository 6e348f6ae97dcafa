"""Scope changes reach a mirror (issue #14, finding 2).

A record that *enters* what a caller sees (a 协办 added, a lead moved to the caller's unit)
comes with its dependants in the caller's next ``updated_after`` walk; a record that *leaves*
it (a 协办 removed, a lead moved away by a claim, a lead moved out of the ``?unit=`` filter) is
listed by the deletion feed with ``reason: "out_of_scope"``. A caller whose own scope changed
(another unit or role, a unit moved in the tree) is told to sync again from scratch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from leads.choices import ClaimOutcome, VisitKind
from leads.models import Lead
from leads.services import (
    assignment_add,
    assignment_remove,
    lead_claim_decide,
    lead_claim_file,
    visit_log,
)
from officers.choices import AssignmentRole, Role, UnitKind
from officers.models import Assignment, Officer, Unit
from projects.models import Project
from promo.core.services import today
from tests.factories import make_lead, make_officer, make_project, make_unit, met_elsewhere

pytestmark = pytest.mark.django_db


@pytest.fixture
def past():
    """Build records two days back: their own updated_at lies well before any mark."""

    def travel():
        return time_machine.travel(timezone.now() - timedelta(days=2), tick=True)

    return travel


def ids(client, path: str, **params) -> set[int]:
    """Every id a walk of ``path`` answers (following ``next``)."""
    found: set[int] = set()
    response = client.get(path, {"page_size": 500, **params})
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        found |= {row["id"] for row in body["results"]}
        if body["next"] is None:
            return found
        response = client.get(body["next"])


def feed(client, resource: str, since, **params) -> list[dict]:
    rows: list[dict] = []
    response = client.get(
        f"/api/v1/{resource}/deleted/", {"deleted_after": since.isoformat(), **params}
    )
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        rows += body["results"]
        if body["next"] is None:
            return rows
        response = client.get(body["next"])


def removed(client, resource: str, since, **params) -> set[int]:
    return {row["object_id"] for row in feed(client, resource, since, **params)}


def _visits(actor, lead, n: int) -> list[int]:
    return [
        visit_log(
            actor=actor,
            kind=VisitKind.VISIT,
            visited_on=today() - timedelta(days=3),
            investor=lead.investor,
            lead=lead,
            summary=f"第{i + 1}次拜访",
        ).pk
        for i in range(n)
    ]


def test_an_officer_added_as_assisting_receives_the_lead_with_its_visits_and_investor(
    bureau, client_for, past
):
    with past():
        lead = make_lead(bureau.outsider)  # a Shenzhen lead: not the Shanghai officer's
        visits = _visits(bureau.outsider, lead, 9)
    client = client_for(bureau.shanghai_officer)
    mark = timezone.now()
    assert lead.pk not in ids(client, "/api/v1/leads/")

    assignment_add(
        actor=bureau.chief,
        officer=bureau.shanghai_officer,
        role=AssignmentRole.ASSISTING,
        lead=lead,
    )

    since = {"updated_after": mark.isoformat()}
    assert lead.pk in ids(client, "/api/v1/leads/", **since)
    assert set(visits) <= ids(client, "/api/v1/visits/", **since), "the lead's visits stayed behind"
    assert lead.investor_id in ids(client, "/api/v1/investors/", **since)


def test_an_officer_taken_off_a_lead_has_it_its_visits_and_investor_removed(
    bureau, client_for, past
):
    with past():
        lead = make_lead(bureau.outsider)
        visits = _visits(bureau.outsider, lead, 3)
        assisting = assignment_add(
            actor=bureau.chief,
            officer=bureau.shanghai_officer,
            role=AssignmentRole.ASSISTING,
            lead=lead,
        )
    client = client_for(bureau.shanghai_officer)
    assert set(visits) <= ids(client, "/api/v1/visits/")
    mark = timezone.now()

    assignment_remove(actor=bureau.chief, assignment=assisting)

    rows = feed(client, "leads", mark)
    assert [(r["object_id"], r["op"], r["reason"]) for r in rows] == [
        (lead.pk, "remove", "out_of_scope")
    ]
    # Named by id only: promo describes nothing outside the caller's scope.
    assert rows[0]["source_system"] == rows[0]["external_id"] == ""
    assert set(visits) <= removed(client, "visits", mark)
    assert lead.investor_id in removed(client, "investors", mark)
    # The lead's own unit still sees all of it: nothing is removed there.
    outsider = client_for(bureau.outsider)
    assert removed(outsider, "leads", mark) == set()
    assert removed(outsider, "visits", mark) == set()


def _claim_to(claimant, lead, chief):
    """``claimant``'s unit takes ``lead`` over: a claim settled by a chief as a transfer."""
    met_elsewhere(claimant, lead.investor)  # the claimant's unit has met the investor
    claim = lead_claim_file(lead=lead, actor=claimant, reason="我单位先接触该客商")
    lead_claim_decide(claim=claim, actor=chief, outcome=ClaimOutcome.TRANSFER)


def test_a_lead_moved_to_another_unit_by_a_claim_leaves_the_holders_mirror(
    bureau, client_for, past
):
    with past():
        lead = make_lead(bureau.shanghai_officer)
        visits = _visits(bureau.shanghai_officer, lead, 2)
    head = client_for(bureau.shanghai_head)
    outsider = client_for(bureau.outsider)
    beijing = make_officer(make_unit("北京办事处", kind=UnitKind.RESIDENT_OFFICE))
    assert lead.pk in ids(head, "/api/v1/leads/")
    mark = timezone.now()

    _claim_to(bureau.outsider, lead, bureau.chief)
    assert Lead.objects.get(pk=lead.pk).unit_id == bureau.shenzhen.pk

    assert lead.pk in removed(head, "leads", mark)
    # The visits were logged by Shanghai and the investor is Shanghai's: they stay.
    assert removed(head, "visits", mark) == set()
    assert lead.investor_id not in removed(head, "investors", mark)
    # The former 主办 stays on as 协办: still his, not removed.
    assert lead.pk not in removed(client_for(bureau.shanghai_officer), "leads", mark)
    # A unit that never held it hears nothing of it.
    assert removed(client_for(beijing), "leads", mark) == set()
    # Shenzhen receives the lead and the visits it now sees through it.
    since = {"updated_after": mark.isoformat()}
    assert lead.pk in ids(outsider, "/api/v1/leads/", **since)
    assert set(visits) <= ids(outsider, "/api/v1/visits/", **since)


def test_the_unit_filter_of_the_feed_reports_a_lead_moved_out_of_the_unit(bureau, client_for, past):
    with past():
        lead = make_lead(bureau.shanghai_officer)
        staying = make_lead(bureau.shanghai_officer)
        arriving = make_lead(bureau.outsider)
    chief = client_for(bureau.chief)
    unit = {"unit": bureau.shanghai.pk}
    assert {lead.pk, staying.pk} <= ids(chief, "/api/v1/leads/", **unit)
    mark = timezone.now()

    _claim_to(bureau.outsider, lead, bureau.chief)
    _claim_to(bureau.shanghai_officer, arriving, bureau.chief)

    rows = feed(chief, "leads", mark, **unit)
    assert {(r["object_id"], r["reason"]) for r in rows} == {(lead.pk, "out_of_scope")}
    since = {"updated_after": mark.isoformat(), **unit}
    assert arriving.pk in ids(chief, "/api/v1/leads/", **since)
    # Without the filter the chief sees the whole bureau: nothing left it.
    assert removed(chief, "leads", mark) == set()


def test_the_unit_filter_of_the_feed_takes_a_unit_id(bureau, client_for):
    chief = client_for(bureau.chief)
    response = chief.get("/api/v1/leads/deleted/", {"unit": "shanghai"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"]["unit"] == ["请输入有效的单位编号。"]
    response = chief.get("/api/v1/leads/deleted/", {"unit": "-4"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["fields"]["unit"] == ["Enter a valid unit id."]
    # The feeds of records without a unit filter refuse it like any unknown parameter.
    response = chief.get("/api/v1/problems/deleted/", {"unit": bureau.shanghai.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_parameter"


def test_a_deleted_record_keeps_its_tombstone_shape_with_op_and_reason(bureau, client_for):
    # A tombstone is dated by its transaction's start: the test's, here.
    mark = timezone.now() - timedelta(hours=1)
    project = make_project(bureau.shanghai_officer)
    visit = visit_log(
        actor=bureau.shanghai_officer,
        kind=VisitKind.CALL,
        visited_on=today(),
        investor=project.investor,
        summary="电话回访",
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM leads_visit_officers WHERE visit_id = %s", [visit.pk])
        cursor.execute("DELETE FROM leads_visit WHERE id = %s", [visit.pk])
    [row] = feed(client_for(bureau.shanghai_head), "visits", mark)
    assert row["object_id"] == visit.pk
    assert (row["op"], row["reason"]) == ("remove", "deleted")
    assert set(row) == {
        "id",
        "object_id",
        "deleted_at",
        "source_system",
        "external_id",
        "op",
        "reason",
    }


def test_a_visit_deleted_by_sql_takes_the_investor_out_of_that_units_scope(
    bureau, client_for, past
):
    with past():
        lead = make_lead(bureau.outsider)
        visit = met_elsewhere(bureau.shanghai_officer, lead.investor)
    client = client_for(bureau.shanghai_head)
    assert lead.investor_id in ids(client, "/api/v1/investors/")
    mark = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM leads_visit_officers WHERE visit_id = %s", [visit.pk])
        cursor.execute("DELETE FROM leads_visit WHERE id = %s", [visit.pk])
    assert lead.investor_id not in ids(client, "/api/v1/investors/")
    assert lead.investor_id in removed(client, "investors", mark)


def test_a_project_moved_by_sql_leaves_one_unit_and_reaches_the_other(bureau, client_for, past):
    with past():
        project = make_project(bureau.shanghai_officer)
    head = client_for(bureau.shanghai_head)
    outsider = client_for(bureau.outsider)
    mark = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_project SET unit_id = %s WHERE id = %s",
            [bureau.shenzhen.pk, project.pk],
        )
    assert Project.objects.get(pk=project.pk).updated_at > mark
    assert project.pk in removed(head, "projects", mark)
    assert project.pk in ids(outsider, "/api/v1/projects/", updated_after=mark.isoformat())


def test_an_assignment_deleted_by_sql_is_a_scope_change_too(bureau, client_for, past):
    with past():
        project = make_project(bureau.outsider)
        project_assignment = Assignment.objects.create(
            officer=bureau.shanghai_officer, project=project, role=AssignmentRole.ASSISTING
        )
    client = client_for(bureau.shanghai_officer)
    assert project.pk in ids(client, "/api/v1/projects/")
    mark = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM officers_assignment WHERE id = %s", [project_assignment.pk])
    assert project.pk in removed(client, "projects", mark)
    # The project shows its team: the chief's copy is told it changed.
    chief = client_for(bureau.chief)
    assert project.pk in ids(chief, "/api/v1/projects/", updated_after=mark.isoformat())


def test_an_officer_moved_to_another_unit_is_told_to_sync_again(bureau, client_for):
    client = client_for(bureau.shanghai_officer)
    before = timezone.now()
    assert (
        client.get("/api/v1/leads/deleted/", {"deleted_after": before.isoformat()}).status_code
        == 200
    )
    officer = Officer.objects.get(pk=bureau.shanghai_officer.pk)
    officer.unit = bureau.shenzhen
    officer.save()
    changed_at = timezone.now()

    for resource in ("leads", "visits", "investors", "projects", "intermediaries", "problems"):
        response = client.get(f"/api/v1/{resource}/deleted/", {"deleted_after": before.isoformat()})
        assert response.status_code == 410, resource
        body = response.json()
        assert body["code"] == "resync_required"
        assert before <= datetime.fromisoformat(body["scope_changed_at"]) <= changed_at
    english = client.get(
        "/api/v1/leads/deleted/", {"deleted_after": before.isoformat()}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert english.json()["message"].startswith("Your whole scope has changed")
    # A mark no earlier than the change answers as usual; so does everyone else's.
    later = {"deleted_after": response.json()["scope_changed_at"]}
    assert client.get("/api/v1/leads/deleted/", later).status_code == 200
    other = client_for(bureau.shanghai_head)
    assert (
        other.get("/api/v1/leads/deleted/", {"deleted_after": before.isoformat()}).status_code
        == 200
    )


def test_a_role_change_is_a_scope_change(bureau, client_for):
    client = client_for(bureau.teammate)
    before = timezone.now()
    Officer.objects.filter(pk=bureau.teammate.pk).update(full_name="陈静静")  # not a scope
    assert (
        client.get("/api/v1/leads/deleted/", {"deleted_after": before.isoformat()}).status_code
        == 200
    )
    Officer.objects.filter(pk=bureau.teammate.pk).update(role=Role.CHIEF)
    # A chief must pass a second factor (issue #16): the session opened as an officer is held
    # until it has; signed in again with it, the scope change is what the feed answers.
    held = client.get("/api/v1/leads/deleted/", {"deleted_after": before.isoformat()})
    assert held.status_code == 403 and held.json()["code"] == "two_factor_required"
    client = client_for(Officer.objects.get(pk=bureau.teammate.pk))
    response = client.get("/api/v1/leads/deleted/", {"deleted_after": before.isoformat()})
    assert response.status_code == 410


def test_a_unit_moved_in_the_tree_makes_scoped_mirrors_sync_again(bureau, client_for):
    before = timezone.now()
    team = Unit.objects.get(pk=bureau.shanghai_team.pk)
    team.parent = bureau.shenzhen
    team.save()
    params = {"deleted_after": before.isoformat()}
    head = client_for(bureau.shanghai_head)
    assert head.get("/api/v1/projects/deleted/", params).status_code == 410
    chief = client_for(bureau.chief)
    assert chief.get("/api/v1/projects/deleted/", params).status_code == 200
    unit = {**params, "unit": bureau.shenzhen.pk}
    assert chief.get("/api/v1/projects/deleted/", unit).status_code == 410
    # A new unit is no move: nobody's scope changed.
    later = timezone.now()
    make_unit("上海办事处临港组", parent=bureau.shanghai)
    assert (
        head.get("/api/v1/projects/deleted/", {"deleted_after": later.isoformat()}).status_code
        == 200
    )


def test_the_feed_walks_the_tombstones_then_the_removals_page_by_page(bureau, client_for, past):
    with past():
        moved_away = make_lead(bureau.shanghai_officer)
        visits = _visits(bureau.shanghai_officer, make_lead(bureau.teammate), 2)
    mark = timezone.now() - timedelta(hours=1)  # tombstones carry their transaction's start
    with connection.cursor() as cursor:
        for visit in visits:
            cursor.execute("DELETE FROM leads_visit_officers WHERE visit_id = %s", [visit])
            cursor.execute("DELETE FROM leads_visit WHERE id = %s", [visit])
    _claim_to(bureau.outsider, moved_away, bureau.chief)
    head = client_for(bureau.shanghai_head)

    seen, pages = [], 0
    response = head.get(
        "/api/v1/leads/deleted/", {"deleted_after": mark.isoformat(), "page_size": 1}
    )
    while True:
        body = response.json()
        seen += [(row["object_id"], row["reason"]) for row in body["results"]]
        pages += 1
        if body["next"] is None:
            break
        response = head.get(body["next"])
    assert seen == [(moved_away.pk, "out_of_scope")] and pages == 1
    walked = []
    response = head.get(
        "/api/v1/visits/deleted/", {"deleted_after": mark.isoformat(), "page_size": 1}
    )
    while response.json()["next"]:
        walked += [row["object_id"] for row in response.json()["results"]]
        response = head.get(response.json()["next"])
    walked += [row["object_id"] for row in response.json()["results"]]
    assert walked == visits  # each once, in deletion order


def test_a_tampered_feed_cursor_is_a_400(bureau, client_for):
    from promo.api.pagination import StableCursorPagination

    client = client_for(bureau.chief)
    for values in ([7, 1], [1, "1"], [0, 2**70], [True, 1]):
        cursor = StableCursorPagination.encode_cursor(("part", "id"), values)
        response = client.get("/api/v1/leads/deleted/", {"cursor": cursor})
        assert response.status_code == 400, values
        assert "cursor" in response.json()["fields"]
