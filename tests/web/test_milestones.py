"""The project page's milestones after signing (注册 / 供地 / 入统 / 入规): shown with planned,
actual, who and evidence; recorded and corrected through forms whose refusals come back next
to the field with the typed values; a double submit writes once; outsiders get 404."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects.choices import Milestone
from projects.models import MilestoneEvent, MilestoneEvidence
from projects.services import project_milestone_record
from promo.core.services import today
from tests.factories import make_project

pytestmark = pytest.mark.django_db

CODE = "91310000MA1FL0000N"
PDF = b"%PDF-1.4 licence\n"


def _project(bureau):
    return make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=30))


def test_recording_registration_with_a_licence_shows_it_on_the_page(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)
    licence = SimpleUploadedFile("营业执照.pdf", PDF, content_type="application/pdf")
    response = client.post(
        f"/projects/{project.pk}/milestones/",
        {
            "milestone": Milestone.REGISTERED,
            "actual_date": today().isoformat(),
            "credit_code": CODE.lower(),
            "note": "新设子公司",
            "evidence_kind": "business_licence",
            "evidence": licence,
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.registered_actual == today() and project.company_credit_code == CODE
    page = client.get(f"/projects/{project.pk}/")
    html = page.content.decode()
    rows = {row["label"]: row for row in page.context["milestone_rows"]}
    assert rows["注册"]["actual"] == today()
    assert rows["注册"]["last"].actor == bureau.shanghai_officer
    evidence = MilestoneEvidence.objects.get()
    assert f"/milestone-evidence/{evidence.pk}/" in html and CODE in html
    download = client.get(f"/milestone-evidence/{evidence.pk}/")
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF
    assert client_for(bureau.outsider).get(f"/milestone-evidence/{evidence.pk}/").status_code == 404


def test_a_bad_credit_code_comes_back_next_to_the_field_with_the_input(bureau, client_for):
    project = _project(bureau)
    response = client_for(bureau.shanghai_officer).post(
        f"/projects/{project.pk}/milestones/",
        {
            "milestone": Milestone.REGISTERED,
            "actual_date": today().isoformat(),
            "credit_code": "91310000MA1FL0000X",
            "note": "打错一位",
        },
    )
    assert response.status_code == 200
    assert "credit_code" in response.context["milestone_form"].errors
    html = response.content.decode()
    assert 'value="打错一位"' in html and "校验位" in html
    project.refresh_from_db()
    assert project.registered_actual is None and not MilestoneEvent.objects.exists()


def test_the_error_is_in_english_for_an_english_officer(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        f"/projects/{project.pk}/milestones/",
        {"milestone": Milestone.ABOVE_SIZE, "actual_date": today().isoformat()},
    )
    assert response.status_code == 200
    errors = response.context["milestone_form"].errors["milestone"]
    assert "statistics" in errors[0]


def _form_key(client, project) -> str:
    page = client.get(f"/projects/{project.pk}/").content.decode()
    found = re.search(
        r'action="/projects/\d+/milestones/".*?name="submission" value="([0-9a-f-]{36})"',
        page,
        re.S,
    )
    assert found, "the record form carries a submission key"
    return found.group(1)


def test_the_same_form_sent_twice_records_once_and_lands_on_the_project(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)
    data = {
        "submission": _form_key(client, project),
        "milestone": Milestone.LAND_GRANTED,
        "actual_date": today().isoformat(),
    }
    first = client.post(f"/projects/{project.pk}/milestones/", data)
    second = client.post(f"/projects/{project.pk}/milestones/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/projects/{project.pk}/"
    assert MilestoneEvent.objects.count() == 1
    assert "这次提交已经保存过" in client.get(second["Location"]).content.decode()


def test_a_second_recording_from_another_form_is_refused_next_to_the_milestone(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)
    data = {"milestone": Milestone.LAND_GRANTED, "actual_date": today().isoformat()}
    first = client.post(
        f"/projects/{project.pk}/milestones/", {**data, "submission": _form_key(client, project)}
    )
    assert first.status_code == 302
    again = client.post(
        f"/projects/{project.pk}/milestones/", {**data, "submission": _form_key(client, project)}
    )
    assert again.status_code == 200
    assert "已于" in again.context["milestone_form"].errors["milestone"][0]
    assert MilestoneEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_once_records_once(bureau):
    project = _project(bureau)
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(bureau.shanghai_officer)
        clients.append(client)
    data = {
        "submission": _form_key(clients[0], project),
        "milestone": Milestone.IN_STATISTICS,
        "actual_date": today().isoformat(),
    }
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def tap(client: Client) -> None:
        try:
            start.wait()
            response = client.post(f"/projects/{project.pk}/milestones/", data)
            answers.append((response.status_code, response.get("Location", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [(302, f"/projects/{project.pk}/")] * 2
    assert MilestoneEvent.objects.count() == 1


def test_outsider_gets_404_and_nothing_is_written(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.outsider)
    for url in ("milestones/", "milestones/correct/"):
        response = client.post(
            f"/projects/{project.pk}/{url}",
            {"milestone": Milestone.LAND_GRANTED, "actual_date": today().isoformat()},
        )
        assert response.status_code == 404
    project.refresh_from_db()
    assert project.land_granted_actual is None and not MilestoneEvent.objects.exists()


def test_only_the_unit_head_is_offered_the_correction_and_it_needs_a_reason(bureau, client_for):
    project = _project(bureau)
    project_milestone_record(
        project=project,
        actor=bureau.shanghai_officer,
        milestone=Milestone.IN_STATISTICS,
        actual_date=today(),
    )
    officer_page = client_for(bureau.shanghai_officer).get(f"/projects/{project.pk}/")
    assert officer_page.context["milestone_fix_form"] is None
    assert officer_page.context["milestone_form"] is not None
    denied = client_for(bureau.shanghai_officer).post(
        f"/projects/{project.pk}/milestones/correct/",
        {"milestone": Milestone.IN_STATISTICS, "withdraw": "on", "reason": "自己改"},
    )
    assert denied.status_code == 403
    head = client_for(bureau.shanghai_head)
    assert head.get(f"/projects/{project.pk}/").context["milestone_fix_form"] is not None
    no_reason = head.post(
        f"/projects/{project.pk}/milestones/correct/",
        {"milestone": Milestone.IN_STATISTICS, "actual_date": (today() - timedelta(1)).isoformat()},
    )
    assert no_reason.status_code == 200
    assert "reason" in no_reason.context["milestone_fix_form"].errors
    fixed = head.post(
        f"/projects/{project.pk}/milestones/correct/",
        {
            "milestone": Milestone.IN_STATISTICS,
            "actual_date": (today() - timedelta(days=1)).isoformat(),
            "reason": "以入库通知为准",
        },
    )
    assert fixed.status_code == 302
    project.refresh_from_db()
    assert project.in_statistics_actual == today() - timedelta(days=1)
    html = head.get(f"/projects/{project.pk}/").content.decode()
    assert "以入库通知为准" in html and "更正日期" in html


def test_the_page_reads_milestone_events_in_a_fixed_number_of_queries(bureau, client_for):
    project = _project(bureau)
    client = client_for(bureau.shanghai_officer)

    def record(milestone):
        project_milestone_record(
            project=project,
            actor=bureau.shanghai_officer,
            milestone=milestone,
            actual_date=today(),
            credit_code=CODE if milestone == Milestone.REGISTERED else "",
            evidence=[("other", SimpleUploadedFile("a.pdf", PDF))],
        )

    record(Milestone.REGISTERED)
    client.get(f"/projects/{project.pk}/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/projects/{project.pk}/")
    record(Milestone.LAND_GRANTED)
    record(Milestone.IN_STATISTICS)
    with CaptureQueriesContext(connection) as three:
        client.get(f"/projects/{project.pk}/")
    assert len(three) == len(one)


def test_evidence_arriving_later_is_attached_to_the_recorded_milestone(bureau, client_for):
    project = _project(bureau)
    _recorded, event = project_milestone_record(
        project=project,
        actor=bureau.shanghai_officer,
        milestone=Milestone.IN_STATISTICS,
        actual_date=today(),
    )
    url = f"/projects/{project.pk}/milestones/{event.pk}/evidence/"
    bad = client_for(bureau.shanghai_officer).post(
        url,
        {
            f"mev{event.pk}-kind": "statistics",
            f"mev{event.pk}-file": SimpleUploadedFile("通知.pdf", b"<html>"),
        },
    )
    assert bad.status_code == 200
    bound = next(e for e in bad.context["milestone_events"] if e.pk == event.pk).attach_form
    assert "file" in bound.errors and not MilestoneEvidence.objects.exists()
    denied = client_for(bureau.outsider).post(
        url,
        {
            f"mev{event.pk}-kind": "statistics",
            f"mev{event.pk}-file": SimpleUploadedFile("通知.pdf", PDF),
        },
    )
    assert denied.status_code == 404 and not MilestoneEvidence.objects.exists()
    done = client_for(bureau.shanghai_officer).post(
        url,
        {
            f"mev{event.pk}-kind": "statistics",
            f"mev{event.pk}-file": SimpleUploadedFile("入统通知书.pdf", PDF),
        },
    )
    assert done.status_code == 302
    evidence = MilestoneEvidence.objects.get()
    assert evidence.milestone_event == event and evidence.uploaded_by == bureau.shanghai_officer


def test_the_new_in_statistics_list_exports_with_its_dates(bureau):
    from django.http import QueryDict

    from projects.exports import PROJECT_COLUMNS, projects_for_export
    from promo.core.exports import table_rows

    project = _project(bureau)
    make_project(bureau.shanghai_officer)  # not in the statistics: not in the list
    project_milestone_record(
        project=project,
        actor=bureau.shanghai_officer,
        milestone=Milestone.IN_STATISTICS,
        actual_date=today(),
    )
    day = today().isoformat()
    params = QueryDict(mutable=True)
    params.update({"in_statistics_actual_after": day, "in_statistics_actual_before": day})
    rows = list(table_rows(PROJECT_COLUMNS, projects_for_export(bureau.shanghai_officer, params)))
    headers = [c.header for c in PROJECT_COLUMNS]
    assert len(rows) == 1 and rows[0][0] == project.pk
    assert rows[0][headers.index("实际入统")] == today()
