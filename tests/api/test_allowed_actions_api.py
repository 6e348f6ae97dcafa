"""What the API offers a caller is what the predicates allow and what the web page shows.

A lead's ``allowed_transitions`` and a project's ``allowed_stages`` are the caller's: the
transition table's targets each asked of the predicate the service enforces
(``permissions.may_move_lead_to``; ``may_work_records`` and ``may_advance_project``). For
several roles, on the detail and in the list, the field equals the predicate's answer and
the buttons of the web detail page: a colleague who is not 主办 nor head is not offered
signing, a 协办 from another unit nothing, the 主办 and the head everything.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from leads.choices import LEAD_TRANSITIONS, LeadStatus
from leads.forms import LEAD_ACTIONS
from officers import permissions
from officers.choices import AssignmentRole
from officers.models import Assignment
from projects.choices import STAGE_TRANSITIONS
from tests.factories import make_lead, make_project

pytestmark = pytest.mark.django_db

SLUG_STATUS = {slug: status for slug, status, _label, _form in LEAD_ACTIONS}


def _web_transitions(officer, lead) -> list[str]:
    """The status changes the lead's web page offers the officer: its action forms and the
    signing link."""
    web = Client()
    web.force_login(officer)
    html = web.get(f"/leads/{lead.pk}/").content.decode()
    offered = {SLUG_STATUS[slug] for slug in re.findall(rf'action="/leads/{lead.pk}/(\w+)/"', html)}
    if f'href="/leads/{lead.pk}/sign/"' in html:
        offered.add(LeadStatus.SIGNED)
    return sorted(offered)


def _predicate_transitions(officer, lead) -> list[str]:
    return sorted(
        status
        for status in LEAD_TRANSITIONS[lead.status]
        if permissions.may_move_lead_to(officer, lead, status)
    )


@pytest.fixture
def negotiating(bureau):
    """Shanghai's lead in negotiation: the officer is 主办, Shenzhen's officer assists."""
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    Assignment.objects.create(officer=bureau.outsider, lead=lead, role=AssignmentRole.ASSISTING)
    return lead


def test_the_signed_status_the_predicates_name_is_the_leads(bureau):
    assert permissions.SIGNED == LeadStatus.SIGNED


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("shanghai_officer", ["dropped", "rejected", "signed"]),  # 主办
        ("shanghai_head", ["dropped", "rejected", "signed"]),  # the unit's head
        ("chief", ["dropped", "rejected", "signed"]),  # 局领导
        ("teammate", ["dropped", "rejected"]),  # a colleague: no signing
        ("outsider", []),  # 协办 from another unit: neither
    ],
)
def test_a_leads_allowed_transitions_are_the_predicates_and_the_pages(
    bureau, client_for, negotiating, persona, expected
):
    officer = getattr(bureau, persona)
    api = client_for(officer)
    detail = api.get(f"/api/v1/leads/{negotiating.pk}/").json()["allowed_transitions"]
    (row,) = [
        r
        for r in api.get("/api/v1/leads/?fields=id,allowed_transitions").json()["results"]
        if r["id"] == negotiating.pk
    ]
    assert detail == row["allowed_transitions"] == expected
    assert detail == _predicate_transitions(officer, negotiating)
    assert detail == _web_transitions(officer, negotiating)


def test_a_lead_in_its_first_status_offers_its_unit_everything_but_its_guest_nothing(
    bureau, client_for
):
    lead = make_lead(bureau.shanghai_officer)
    Assignment.objects.create(officer=bureau.outsider, lead=lead, role=AssignmentRole.ASSISTING)
    for officer, expected in [
        (bureau.teammate, ["dropped", "rejected", "valid"]),
        (bureau.outsider, []),
    ]:
        body = client_for(officer).get(f"/api/v1/leads/{lead.pk}/").json()
        assert body["allowed_transitions"] == expected
        assert expected == _predicate_transitions(officer, lead) == _web_transitions(officer, lead)


def _web_stages(officer, project) -> list[str]:
    web = Client()
    web.force_login(officer)
    html = web.get(f"/projects/{project.pk}/").content.decode()
    return (
        list(STAGE_TRANSITIONS[project.stage]) if f"/projects/{project.pk}/advance/" in html else []
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("shanghai_officer", ["groundbreaking"]),  # 主办
        ("shanghai_head", ["groundbreaking"]),
        ("chief", ["groundbreaking"]),
        ("teammate", []),  # a colleague does not report the project's milestones
        ("outsider", []),  # 协办 from another unit
    ],
)
def test_a_projects_allowed_stages_are_the_predicates_and_the_pages(
    bureau, client_for, persona, expected
):
    project = make_project(bureau.shanghai_officer)
    Assignment.objects.create(
        officer=bureau.outsider, project=project, role=AssignmentRole.ASSISTING
    )
    officer = getattr(bureau, persona)
    api = client_for(officer)
    detail = api.get(f"/api/v1/projects/{project.pk}/").json()["allowed_stages"]
    (row,) = [
        r
        for r in api.get("/api/v1/projects/?fields=id,allowed_stages").json()["results"]
        if r["id"] == project.pk
    ]
    assert detail == row["allowed_stages"] == expected
    may = permissions.may_work_records(officer) and permissions.may_advance_project(
        officer, project
    )
    assert detail == (sorted(STAGE_TRANSITIONS[project.stage]) if may else [])
    assert detail == _web_stages(officer, project)
