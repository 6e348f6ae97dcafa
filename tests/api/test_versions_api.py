"""Every change to what a representation shows moves its version: ``updated_at`` and the ETag.

A mirror syncing by ``updated_after`` and a client revalidating with ``If-None-Match`` both
rely on it: a lead whose credit list or nested investor name changed must not answer 304.
"""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from leads.choices import VisitKind
from leads.models import Lead
from leads.services import assignment_add, investor_update, lead_update, visit_log
from officers.choices import AssignmentRole
from officers.models import Assignment
from projects.models import Project
from projects.services import project_assignment_add
from promo.core.services import today
from tests.factories import make_lead, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def _etag(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response["ETag"]


def _changed_since(client, path: str, etag: str) -> dict:
    """The record answers 200 with a new ETag to If-None-Match of the old one."""
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200, "304: the change did not move the version"
    assert response["ETag"] != etag
    return response.json()


def test_adding_an_assisting_officer_moves_the_leads_version(bureau, client_for, clock):
    lead = make_lead(bureau.shanghai_officer)
    chief = client_for(bureau.chief)
    path = f"/api/v1/leads/{lead.pk}/"
    etag = _etag(chief, path)
    before = Lead.objects.get(pk=lead.pk).updated_at
    clock.shift(60)
    assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.teammate,
        role=AssignmentRole.ASSISTING,
        lead=lead,
    )
    assert Lead.objects.get(pk=lead.pk).updated_at > before
    body = _changed_since(chief, path, etag)
    assert bureau.teammate.pk in {a["officer"]["id"] for a in body["assignments"]}
    listed = chief.get("/api/v1/leads/", {"updated_after": before.isoformat(), "fields": "id"})
    assert lead.pk in {row["id"] for row in listed.json()["results"]}


def test_adding_an_assisting_officer_moves_the_projects_version(bureau, client_for, clock):
    project = make_project(bureau.shanghai_officer)
    chief = client_for(bureau.chief)
    path = f"/api/v1/projects/{project.pk}/"
    etag = _etag(chief, path)
    clock.shift(60)
    project_assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.teammate,
        role=AssignmentRole.ASSISTING,
        project=project,
    )
    body = _changed_since(chief, path, etag)
    assert bureau.teammate.pk in {a["officer"]["id"] for a in body["assignments"]}


def test_removing_an_assignment_moves_the_leads_version(bureau, client_for, clock):
    from leads.services import assignment_remove

    lead = make_lead(bureau.shanghai_officer)
    assisting = assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.teammate,
        role=AssignmentRole.ASSISTING,
        lead=lead,
    )
    chief = client_for(bureau.chief)
    path = f"/api/v1/leads/{lead.pk}/"
    etag = _etag(chief, path)
    clock.shift(60)
    assignment_remove(actor=bureau.shanghai_head, assignment=assisting)
    assert not Assignment.objects.filter(pk=assisting.pk).exists()
    body = _changed_since(chief, path, etag)
    assert bureau.teammate.pk not in {a["officer"]["id"] for a in body["assignments"]}


def test_an_outsider_cannot_remove_an_assignment_and_nothing_changes(bureau):
    from leads.services import assignment_remove
    from promo.core.errors import DomainError

    lead = make_lead(bureau.shanghai_officer)
    assisting = assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.teammate,
        role=AssignmentRole.ASSISTING,
        lead=lead,
    )
    stamp = Lead.objects.get(pk=lead.pk).updated_at
    with pytest.raises(DomainError):
        assignment_remove(actor=bureau.outsider, assignment=assisting)
    assert Assignment.objects.filter(pk=assisting.pk).exists()
    assert Lead.objects.get(pk=lead.pk).updated_at == stamp


def test_renaming_an_investor_moves_the_leads_visits_and_projects_that_show_it(
    bureau, client_for, clock
):
    officer = bureau.shanghai_officer
    project = make_project(officer)
    lead = project.lead
    visit = visit_log(
        actor=officer,
        kind=VisitKind.VISIT,
        visited_on=today(),
        investor=lead.investor,
        lead=lead,
        summary="洽谈二期",
    )
    chief = client_for(bureau.chief)
    paths = {
        "lead": f"/api/v1/leads/{lead.pk}/",
        "visit": f"/api/v1/visits/{visit.pk}/",
        "project": f"/api/v1/projects/{project.pk}/",
    }
    etags = {name: _etag(chief, path) for name, path in paths.items()}
    clock.shift(60)
    investor_update(actor=officer, investor=lead.investor, name="上海新名称科技有限公司")
    for name, path in paths.items():
        body = _changed_since(chief, path, etags[name])
        assert body["investor"]["name"] == "上海新名称科技有限公司", name


def test_renaming_a_lead_moves_the_visits_that_show_it(bureau, client_for, clock):
    officer = bureau.shanghai_officer
    lead = make_lead(officer)
    visit = visit_log(
        actor=officer,
        kind=VisitKind.VISIT,
        visited_on=today(),
        investor=lead.investor,
        lead=lead,
        summary="初次拜访",
    )
    chief = client_for(bureau.chief)
    path = f"/api/v1/visits/{visit.pk}/"
    etag = _etag(chief, path)
    clock.shift(60)
    lead_update(actor=officer, lead=lead, changes={"name": "新能源电池二期项目"})
    assert _changed_since(chief, path, etag)["lead"]["name"] == "新能源电池二期项目"


def test_an_edit_that_shows_nothing_new_leaves_other_records_alone(bureau, clock):
    officer = bureau.shanghai_officer
    project = make_project(officer)
    stamps = (
        Lead.objects.get(pk=project.lead_id).updated_at,
        Project.objects.get(pk=project.pk).updated_at,
    )
    clock.shift(60)
    investor_update(actor=officer, investor=project.investor, website="https://example.com")
    assert (
        Lead.objects.get(pk=project.lead_id).updated_at,
        Project.objects.get(pk=project.pk).updated_at,
    ) == stamps


def test_deleting_an_assignment_in_the_admin_goes_through_the_service(
    bureau, client, clock, settings
):
    lead = make_lead(bureau.shanghai_officer)
    assisting = assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.teammate,
        role=AssignmentRole.ASSISTING,
        lead=lead,
    )
    stamp = Lead.objects.get(pk=lead.pk).updated_at
    clock.shift(60)
    from officers.choices import Role
    from tests.factories import make_officer

    # The admin's all-seeing superuser, as in a development install (三员分立: not in production).
    settings.PROMO_SUPERUSER_READS_BUSINESS = True
    client.force_login(make_officer(None, role=Role.ADMIN, is_superuser=True))
    response = client.post(f"/admin/officers/assignment/{assisting.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content[:300]
    assert not Assignment.objects.filter(pk=assisting.pk).exists()
    assert Lead.objects.get(pk=lead.pk).updated_at > stamp
