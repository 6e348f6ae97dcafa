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
