"""A visit form sent twice saves one visit (issue #15, finding 2: a double tap saved two).

The form carries a submission key (promo/core/submissions.py). The same POST sent again —
a double tap, or the browser resending after a dropped connection — and the same POST sent
twice at once both end with one visit and the officer on what the first one made.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client

from leads.choices import LeadStatus
from leads.models import Lead, Visit
from promo.core.models import FormSubmission
from promo.core.services import today
from tests.factories import make_investor, make_lead


def _form_post(client: Client, lead) -> dict:
    page = client.get(f"/visits/new/?lead={lead.pk}").content.decode()
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', page)
    assert key, "the form carries a submission key"
    return {
        "submission": key.group(1),
        "kind": "visit",
        "visited_on": today().isoformat(),
        "investor": lead.investor_id,
        "lead": lead.pk,
        "summary": "双击提交的走访",
        "city": "上海",
    }


def _signed_in_twice(officer) -> list[Client]:
    """Two browsers of one officer (two tabs' worth of sessions)."""
    clients = []
    for _ in range(2):
        client = Client()
        client.force_login(officer)
        clients.append(client)
    return clients


def _sent_at_once(clients: list[Client], url: str, data: dict) -> list[tuple[int, str]]:
    """The same POST from each client at the same moment; each answer's status and Location."""
    start = threading.Barrier(len(clients))
    answers: list[tuple[int, str]] = []

    def tap(client: Client) -> None:
        try:
            start.wait()
            response = client.post(url, data)
            answers.append((response.status_code, response.get("Location", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=tap, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.django_db
def test_the_same_form_sent_twice_saves_one_visit(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    client = Client()
    client.force_login(bureau.shanghai_officer)
    data = _form_post(client, lead)
    first = client.post("/visits/new/", data)
    second = client.post("/visits/new/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/leads/{lead.pk}/"
    assert Visit.objects.filter(lead=lead).count() == 1
    page = client.get(second["Location"]).content.decode()
    assert "这次提交已经保存过，没有重复登记。" in page


@pytest.mark.django_db
def test_a_new_form_saves_a_new_visit(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    client = Client()
    client.force_login(bureau.shanghai_officer)
    client.post("/visits/new/", _form_post(client, lead))
    client.post("/visits/new/", _form_post(client, lead))
    assert Visit.objects.filter(lead=lead).count() == 2


@pytest.mark.django_db
def test_a_form_shown_again_with_errors_keeps_its_key(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    client = Client()
    client.force_login(bureau.shanghai_officer)
    data = _form_post(client, lead)
    refused = client.post("/visits/new/", {**data, "summary": ""})
    assert refused.status_code == 200
    assert f'value="{data["submission"]}"' in refused.content.decode()
    assert client.post("/visits/new/", data).status_code == 302
    assert client.post("/visits/new/", data).status_code == 302
    assert Visit.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db
def test_another_officer_cannot_use_a_key_to_see_where_it_led(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    mine = Client()
    mine.force_login(bureau.shanghai_officer)
    data = _form_post(mine, lead)
    mine.post("/visits/new/", data)
    other = Client()
    other.force_login(bureau.outsider)
    answer = other.post("/visits/new/", data)
    # Not recognised as a resend (the key is the officer's own): an ordinary refusal.
    assert answer.status_code in (200, 404)
    assert Visit.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_once_saves_one_visit(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    clients = _signed_in_twice(bureau.shanghai_officer)
    data = _form_post(clients[0], lead)
    answers = _sent_at_once(clients, "/visits/new/", data)
    assert answers == [(302, f"/leads/{lead.pk}/")] * 2
    assert Visit.objects.filter(lead=lead).count() == 1
    assert FormSubmission.objects.filter(key=data["submission"]).count() == 1


# --- The lead form (登记项目信息): the same key, the same answer -------------------------------


def _lead_post(client: Client, investor) -> dict:
    page = client.get(f"/leads/new/?investor={investor.pk}").content.decode()
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', page)
    assert key, "the lead form carries a submission key"
    return {
        "submission": key.group(1),
        "investor": investor.pk,
        "name": "双击登记的项目",
        "industry": "new_energy",
        "chain_role": "fill",
        "source_channel": "stationed",
        "estimated_amount": "1000",
        "first_contact_on": today().isoformat(),
    }


@pytest.mark.django_db
def test_the_same_lead_form_sent_twice_saves_one_lead(bureau):
    investor = make_investor(bureau.shanghai_officer)
    client = Client()
    client.force_login(bureau.shanghai_officer)
    data = _lead_post(client, investor)
    first = client.post("/leads/new/", data)
    second = client.post("/leads/new/", data)
    lead = Lead.objects.get(investor=investor)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/leads/{lead.pk}/"
    assert "这次提交已经保存过，没有重复登记。" in client.get(second["Location"]).content.decode()
    # A new form is a new registration: the same-unit duplicate rule answers it.
    again = client.post("/leads/new/", _lead_post(client, investor))
    assert again.status_code == 200 and Lead.objects.filter(investor=investor).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_lead_form_sent_twice_at_once_saves_one_lead(bureau):
    investor = make_investor(bureau.shanghai_officer)
    clients = _signed_in_twice(bureau.shanghai_officer)
    data = _lead_post(clients[0], investor)
    answers = _sent_at_once(clients, "/leads/new/", data)
    lead = Lead.objects.get(investor=investor)
    assert answers == [(302, f"/leads/{lead.pk}/")] * 2
    assert FormSubmission.objects.filter(key=data["submission"]).count() == 1


# --- What a draft asks before it is put back (issue #15, finding 3) ----------------------------


@pytest.mark.django_db
def test_a_draft_learns_whether_its_form_was_saved_and_only_for_its_own_officer(bureau):
    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    mine = Client()
    mine.force_login(bureau.shanghai_officer)
    data = _form_post(mine, lead)
    url = f"/submissions/{data['submission']}/"
    assert mine.get(url).json() == {"saved": False}
    mine.post("/visits/new/", data)
    answer = mine.get(url)
    assert answer.json() == {"saved": True} and answer["Cache-Control"] == "no-store"
    other = Client()
    other.force_login(bureau.teammate)
    assert other.get(url).json() == {"saved": False}  # not theirs: as unknown as any key
    assert Client().get(url).status_code == 302  # signed out: to the sign-in page
    assert mine.get("/submissions/not-a-key/").status_code == 404
    assert mine.post(url).status_code == 405


# --- Feedback to the referrer (反馈引荐人, issue #20): recorded once ---------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_referrer_feedback_sent_twice_at_once_is_recorded_once(bureau):
    from leads.choices import SourceChannel
    from leads.models import Intermediary, ReferrerFeedback

    me = bureau.shanghai_officer
    broker = Intermediary.objects.create(name="王顾问", kind="person", unit=me.unit)
    lead = make_lead(me, source_channel=SourceChannel.INTERMEDIARY, intermediary=broker)
    clients = _signed_in_twice(me)
    page = clients[0].get(f"/leads/{lead.pk}/").content.decode()
    key = re.search(r'name="feedback-submission" value="([0-9a-f-]{36})"', page)
    assert key, "the feedback form carries a submission key"
    data = {"feedback-submission": key.group(1), "feedback-note": "电话告知王顾问"}
    answers = _sent_at_once(clients, f"/leads/{lead.pk}/feedback/", data)
    assert answers == [(302, f"/leads/{lead.pk}/#h-clock")] * 2
    assert ReferrerFeedback.objects.filter(lead=lead).count() == 1
    assert FormSubmission.objects.filter(key=data["feedback-submission"]).count() == 1


# --- the project page's create forms: a problem, a file added to a stage change -----------


def _key(page: str, prefix: str = "") -> str:
    name = f"{prefix}-submission" if prefix else "submission"
    found = re.search(rf'name="{name}" value="([0-9a-f-]{{36}})"', page)
    assert found, f"the form carries a submission key ({name})"
    return found.group(1)


@pytest.mark.django_db
def test_the_same_problem_form_sent_twice_raises_one_problem(bureau):
    from projects.models import Problem
    from tests.factories import make_project

    me = bureau.shanghai_officer
    project = make_project(me)
    client = Client()
    client.force_login(me)
    url = f"/projects/{project.pk}/problems/new/"
    data = {
        "submission": _key(client.get(url).content.decode()),
        "kind": "land_quota",
        "title": "用地指标尚未落实",
        "owner_unit": bureau.shanghai.pk,
        "due_on": today().isoformat(),
    }
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert Problem.objects.filter(project=project).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_problem_form_sent_twice_at_once_raises_one_problem(bureau):
    from projects.models import Problem
    from tests.factories import make_project

    me = bureau.shanghai_officer
    project = make_project(me)
    clients = _signed_in_twice(me)
    url = f"/projects/{project.pk}/problems/new/"
    data = {
        "submission": _key(clients[0].get(url).content.decode()),
        "kind": "land_quota",
        "title": "用地指标尚未落实",
        "owner_unit": bureau.shanghai.pk,
        "due_on": today().isoformat(),
    }
    answers = _sent_at_once(clients, url, data)
    assert [status for status, _where in answers] == [302, 302]
    assert Problem.objects.filter(project=project).count() == 1
    problem = Problem.objects.get(project=project)
    assert {where for _status, where in answers} == {f"/problems/{problem.pk}/"}


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["stages", "milestones"])
def test_the_same_file_sent_twice_is_attached_once(bureau, settings, tmp_path, route):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from projects.choices import Milestone
    from projects.models import MilestoneEvidence, ProjectStageEvent, StageEvidence
    from projects.services import project_milestone_record
    from tests.factories import EVIDENCE_PDF, make_project

    settings.MEDIA_ROOT = tmp_path
    me = bureau.shanghai_officer
    project = make_project(me)
    if route == "stages":
        event = ProjectStageEvent.objects.get(project=project)
        prefix, kept = f"ev{event.pk}", StageEvidence.objects.filter(stage_event=event)
    else:
        _project, event = project_milestone_record(
            project=project,
            actor=me,
            milestone=Milestone.REGISTERED,
            actual_date=today(),
            credit_code="91310000MA1FL0000N",
        )
        prefix = f"mev{event.pk}"
        kept = MilestoneEvidence.objects.filter(milestone_event=event)
    client = Client()
    client.force_login(me)
    key = _key(client.get(f"/projects/{project.pk}/").content.decode(), prefix)
    url = f"/projects/{project.pk}/{route}/{event.pk}/evidence/"

    def post():
        upload = SimpleUploadedFile("营业执照.pdf", EVIDENCE_PDF, content_type="application/pdf")
        return client.post(
            url,
            {
                f"{prefix}-submission": key,
                f"{prefix}-kind": "business_licence",
                f"{prefix}-file": upload,
            },
        )

    first, second = post(), post()
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert kept.count() == 1
