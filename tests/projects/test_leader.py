"""Issue #13, finding 5: the 挂钩领导 (leader attached to a project) is named by a chief or the
project's unit head — never by an officer about himself — in the service, the API and the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from officers.choices import AssignmentRole, Role
from officers.models import Assignment, Officer
from projects.services import project_assignment_add
from promo.core.errors import PermissionDenied
from tests.factories import make_officer, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(bureau):
    """A Shanghai project whose 主办 is the Shanghai officer."""
    return make_project(bureau.shanghai_officer)


def _leaders(project):
    return list(project.assignments.filter(role=AssignmentRole.LEADER).values_list("officer"))


def test_an_officer_cannot_name_himself_leader_of_his_own_project_and_nothing_changes(
    bureau, project
):
    before = Assignment.objects.count()
    for actor in (bureau.shanghai_officer, bureau.teammate):
        with pytest.raises(PermissionDenied):
            project_assignment_add(
                actor=actor, officer=actor, role=AssignmentRole.LEADER, project=project
            )
    assert Assignment.objects.count() == before and _leaders(project) == []


def test_the_unit_head_or_a_chief_names_the_leader(bureau, project):
    project_assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.chief,
        role=AssignmentRole.LEADER,
        project=project,
    )
    assert _leaders(project) == [(bureau.chief.pk,)]
    other = make_project(bureau.outsider)
    project_assignment_add(
        actor=bureau.chief, officer=bureau.chief, role=AssignmentRole.LEADER, project=other
    )
    assert _leaders(other) == [(bureau.chief.pk,)]


def test_naming_oneself_leader_over_the_api_is_refused_and_nothing_changes(bureau, project):
    api = APIClient()
    api.force_login(bureau.shanghai_officer)
    before = Assignment.objects.count()
    answer = api.post(
        f"/api/v1/projects/{project.pk}/assignments/",
        {"officer": bureau.shanghai_officer.pk, "role": "leader"},
        format="json",
    )
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
    assert Assignment.objects.count() == before and _leaders(project) == []


def test_naming_oneself_leader_in_the_admin_is_refused_and_nothing_changes(
    client, settings, bureau, project
):
    settings.SECURE_SSL_REDIRECT = False
    officer = bureau.shanghai_officer
    officer.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_assignment", "view_assignment"])
    )
    client.force_login(Officer.objects.get(pk=officer.pk))
    before = Assignment.objects.count()
    response = client.post(
        reverse("admin:officers_assignment_add"),
        {"officer": officer.pk, "role": "leader", "project": project.pk, "lead": ""},
    )
    assert response.status_code in (200, 403)
    assert Assignment.objects.count() == before and _leaders(project) == []


def test_a_unit_head_names_the_leader_of_his_units_projects_only(bureau, project):
    shenzhen_head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD)
    other = make_project(bureau.outsider)
    with pytest.raises(PermissionDenied):
        project_assignment_add(
            actor=bureau.shanghai_head,
            officer=bureau.shanghai_head,
            role=AssignmentRole.LEADER,
            project=other,
        )
    project_assignment_add(
        actor=shenzhen_head, officer=bureau.chief, role=AssignmentRole.LEADER, project=other
    )
    assert _leaders(project) == [] and _leaders(other) == [(bureau.chief.pk,)]
