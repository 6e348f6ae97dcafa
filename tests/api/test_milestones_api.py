"""The milestones after signing over the API: read-only columns on the project, the
``milestone`` and ``milestone-correction`` actions through the same services, errors by field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from projects.models import MilestoneEvent
from promo.core.services import today
from tests.factories import make_project

pytestmark = pytest.mark.django_db

CODE = "91310000MA1FL0000N"


def _project(bureau):
    return make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=30))


def test_recording_registration_shows_the_date_and_code_on_the_project(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)
    response = client.post(
        f"/api/v1/projects/{project.pk}/milestone/",
        {"milestone": "registered", "actual_date": today().isoformat(), "credit_code": CODE},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["registered_actual"] == today().isoformat()
    assert body["company_credit_code"] == CODE
    listed = client.get("/api/v1/projects/").json()["results"]
    assert [row["registered_actual"] for row in listed] == [today().isoformat()]


def test_the_columns_are_read_only_through_the_project_write(bureau, client_for):
    project = _project(bureau)
    response = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/figures/",
        {"reason": "试图改日期", "in_statistics_actual": today().isoformat()},
        format="json",
    )
    # Refused as an unknown field, not silently dropped: only the milestone actions write it.
    assert response.status_code == 400 and "in_statistics_actual" in response.json()["fields"]
    project.refresh_from_db()
    assert project.in_statistics_actual is None


def test_a_bad_code_is_400_on_the_field_and_a_second_recording_409(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)
    bad = client.post(
        f"/api/v1/projects/{project.pk}/milestone/",
        {"milestone": "registered", "actual_date": today().isoformat(), "credit_code": "123"},
        format="json",
    )
    assert bad.status_code == 400 and "credit_code" in bad.json()["fields"]
    body = {"milestone": "in_statistics", "actual_date": today().isoformat()}
    first = client.post(f"/api/v1/projects/{project.pk}/milestone/", body, format="json")
    assert first.status_code == 200, first.json()
    again = client.post(f"/api/v1/projects/{project.pk}/milestone/", body, format="json")
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"
    assert MilestoneEvent.objects.count() == 1


def test_correction_by_the_unit_head_and_refusal_for_the_officer(bureau, client_for):
    project = _project(bureau)
    client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/milestone/",
        {"milestone": "land_granted", "actual_date": today().isoformat()},
        format="json",
    )
    body = {"milestone": "land_granted", "actual_date": None, "reason": "登记错项目"}
    denied = client_for(bureau.shanghai_officer).post(
        f"/api/v1/projects/{project.pk}/milestone-correction/", body, format="json"
    )
    assert denied.status_code == 403
    project.refresh_from_db()
    assert project.land_granted_actual == today()
    done = client_for(bureau.shanghai_head).post(
        f"/api/v1/projects/{project.pk}/milestone-correction/", body, format="json"
    )
    assert done.status_code == 200, done.json()
    assert done.json()["land_granted_actual"] is None


def test_outsider_gets_404_and_nothing_is_written(bureau, client_for):
    project = _project(bureau)
    response = client_for(bureau.outsider).post(
        f"/api/v1/projects/{project.pk}/milestone/",
        {"milestone": "land_granted", "actual_date": today().isoformat()},
        format="json",
    )
    assert response.status_code == 404
    assert not MilestoneEvent.objects.exists()


def test_plan_reschedules_only_the_milestones_sent(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)
    base = {
        "reason": "排期",
        "groundbreaking_planned": None,
        "completed_planned": None,
        "producing_planned": None,
    }
    first = client.post(
        f"/api/v1/projects/{project.pk}/plan/",
        {**base, "in_statistics_planned": (today() + timedelta(days=90)).isoformat()},
        format="json",
    )
    assert first.status_code == 200, first.json()
    second = client.post(
        f"/api/v1/projects/{project.pk}/plan/",
        {**base, "above_size_planned": (today() + timedelta(days=30)).isoformat()},
        format="json",
    )
    assert second.status_code == 400 and "above_size_planned" in second.json()["fields"]
    project.refresh_from_db()
    assert project.in_statistics_planned == today() + timedelta(days=90)
    assert project.above_size_planned is None
