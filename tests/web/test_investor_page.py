"""The investor's page (客商, /investors/<id>/) and its contacts (issue #15, finding 6).

One place shows a company's profile, who holds it (unit and 主办), its leads, visits, projects,
problems, intermediaries and contacts, each as far as the viewer may see; contacts are added,
changed and removed through leads.services (history kept); every investor name links here.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pghistory.models
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from leads import services as lead_services
from leads.choices import LeadStatus
from leads.models import InvestorContact
from officers.choices import AssignmentRole
from projects import services as project_services
from promo.core.services import today
from tests.factories import make_investor, make_lead, met_elsewhere, sign_lead
from tests.web import test_i18n

pytestmark = pytest.mark.django_db

# A private copy of locale/, compiled for the test (the .mo files are not committed).
compiled = test_i18n.compiled


def _world(bureau, *, leads: int = 1, visits: int = 1):
    """An investor of the Shanghai office with ``leads`` leads (the first signed, with a
    problem), ``visits`` visits and a primary contact."""
    me = bureau.shanghai_officer
    investor = make_investor(me, "华鑫精密电子有限公司")
    signed = make_lead(me, investor=investor, status=LeadStatus.NEGOTIATING, name="华鑫一期")
    project = sign_lead(me, signed)
    for n in range(1, leads):
        make_lead(me, investor=investor, name=f"华鑫二期{n}")
    for n in range(visits):
        lead_services.visit_log(
            actor=me,
            kind="visit",
            visited_on=today() - timedelta(days=n),
            investor=investor,
            summary=f"第{n + 1}次洽谈",
            officers=[bureau.teammate],
        )
    project_services.problem_raise(
        project=project,
        actor=me,
        kind="power",
        title="临时用电迟迟未接",
        owner_unit=bureau.shanghai,
        due_on=today() + timedelta(days=5),
    )
    lead_services.contact_add(
        actor=me,
        investor=investor,
        name="李经理",
        title="投资总监",
        phone="+86 138-0000-0000",
        is_primary=True,
    )
    return investor, project


def _key(page: str, prefix: str = "new") -> str:
    found = re.search(rf'name="{prefix}-submission" value="([0-9a-f-]{{36}})"', page)
    assert found, "the contact form carries a submission key"
    return found.group(1)


def test_an_insider_sees_the_whole_picture(bureau, client_for):
    investor, project = _world(bureau, leads=2, visits=2)
    page = client_for(bureau.shanghai_officer).get(f"/investors/{investor.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "华鑫精密电子有限公司",
        "上海办事处",  # the holding unit
        "张明",  # the 主办 of the open lead
        "华鑫一期",
        "华鑫二期1",
        "第1次洽谈",
        "第2次洽谈",
        project.name,
        "临时用电迟迟未接",
        "李经理",
        "投资总监",
        "861****0000",  # masked until revealed (issue #16, tests/promo/test_personal_data.py)
    ):
        assert text in html, text
    assert "138-0000-0000" not in html and 'href="tel:' not in html
    assert f'href="/leads/visits/?investor={investor.pk}"' in html
    assert f'href="/projects/{project.pk}/"' in html


def test_an_outsider_gets_a_404_and_changes_nothing(bureau, client_for):
    investor, _project = _world(bureau)
    contact = investor.contacts.get()
    client = client_for(bureau.outsider)
    assert client.get(f"/investors/{investor.pk}/").status_code == 404
    new = {"new-name": "王五", "new-phone": "123"}
    assert client.post(f"/investors/{investor.pk}/contacts/new/", new).status_code == 404
    edit = {f"c{contact.pk}-name": "改名"}
    assert client.post(f"/contacts/{contact.pk}/edit/", edit).status_code == 404
    assert client.post(f"/contacts/{contact.pk}/remove/").status_code == 404
    contact.refresh_from_db()
    assert (contact.name, contact.is_archived) == ("李经理", False)
    assert investor.contacts.count() == 1


def test_another_unit_that_met_the_investor_sees_the_holder_not_the_lead(bureau, client_for):
    investor, _project = _world(bureau, leads=2)
    met_elsewhere(bureau.outsider, investor)
    client = client_for(bureau.outsider)
    html = client.get(f"/investors/{investor.pk}/").content.decode()
    assert "上海办事处" in html and "华鑫精密电子有限公司" in html
    assert "华鑫二期1" not in html  # the open lead is the Shanghai office's
    assert "张明" not in html  # nor its 主办
    # It may read the page but not keep the contacts: no form, and a POST is refused.
    assert 'name="new-name"' not in html
    response = client.post(f"/investors/{investor.pk}/contacts/new/", {"new-name": "王五"})
    assert response.status_code == 403
    assert investor.contacts.count() == 1


def test_an_assistant_from_another_unit_may_keep_the_contacts(bureau, client_for):
    investor, _project = _world(bureau, leads=2)
    lead = investor.leads.get(name="华鑫二期1")
    lead_services.assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.outsider,
        role=AssignmentRole.ASSISTING,
        lead=lead,
    )
    client = client_for(bureau.outsider)
    html = client.get(f"/investors/{investor.pk}/").content.decode()
    response = client.post(
        f"/investors/{investor.pk}/contacts/new/",
        {"new-submission": _key(html), "new-name": "王五", "new-wechat": "wangwu88"},
    )
    assert response.status_code == 302
    assert investor.contacts.filter(name="王五", created_by=bureau.outsider).exists()


def test_the_page_reads_in_a_fixed_number_of_queries(bureau, client_for):
    small, _ = _world(bureau, leads=2, visits=1)
    client = client_for(bureau.shanghai_officer)
    client.get(f"/investors/{small.pk}/")  # warm the session and the officer's scope
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/investors/{small.pk}/").status_code == 200
    big = make_investor(bureau.shanghai_officer, "远景动力科技有限公司")
    for n in range(4):
        lead = make_lead(
            bureau.shanghai_officer, investor=big, status=LeadStatus.NEGOTIATING, name=f"远景{n}"
        )
        project = sign_lead(bureau.shanghai_officer, lead)
        project_services.problem_raise(
            project=project,
            actor=bureau.shanghai_officer,
            kind="power",
            title=f"问题{n}",
            owner_unit=bureau.shanghai,
            due_on=today() + timedelta(days=5),
        )
        lead_services.visit_log(
            actor=bureau.shanghai_officer,
            kind="visit",
            visited_on=today(),
            investor=big,
            lead=lead,
            summary=f"远景洽谈{n}",
            officers=[bureau.teammate],
        )
        lead_services.contact_add(actor=bureau.shanghai_officer, investor=big, name=f"联系人{n}")
    make_lead(bureau.shanghai_officer, investor=big, name="远景在谈")
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/investors/{big.pk}/")
    assert response.status_code == 200
    assert "远景洽谈3" in response.content.decode()
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]
    assert len(many) <= 25


def test_contacts_are_added_changed_and_removed_with_history(bureau, client_for):
    investor, _project = _world(bureau)
    client = client_for(bureau.teammate)
    page = client.get(f"/investors/{investor.pk}/").content.decode()
    added = client.post(
        f"/investors/{investor.pk}/contacts/new/",
        {
            "new-submission": _key(page),
            "new-name": "王五",
            "new-title": "厂长",
            "new-phone": "021-5555 0000",
            "new-email": "wangwu@example.com",
            "new-is_primary": "on",
        },
    )
    assert added.status_code == 302
    contact = investor.contacts.get(name="王五")
    assert (contact.created_by, contact.is_primary) == (bureau.teammate, True)
    assert not investor.contacts.get(name="李经理").is_primary  # one primary contact
    page = client.get(f"/investors/{investor.pk}/").content.decode()
    prefix = f"c{contact.pk}"
    changed = client.post(
        f"/contacts/{contact.pk}/edit/",
        {
            f"{prefix}-submission": _key(page, prefix),
            f"{prefix}-name": "王五",
            f"{prefix}-title": "总经理",
            f"{prefix}-phone": "021-5555 0000",
            f"{prefix}-email": "wangwu@example.com",
        },
    )
    assert changed.status_code == 302
    contact.refresh_from_db()
    assert (contact.title, contact.is_primary) == ("总经理", False)
    removed = client.post(f"/contacts/{contact.pk}/remove/")
    assert removed.status_code == 302
    contact.refresh_from_db()
    assert contact.is_archived
    assert "王五" not in client.get(f"/investors/{investor.pk}/").content.decode()
    events = list(
        pghistory.models.Events.objects.tracks(contact).order_by("pgh_created_at", "pgh_id")
    )
    assert [e.pgh_label for e in events] == ["insert", "update", "update"]
    assert events[1].pgh_data["title"] == "总经理" and events[0].pgh_data["title"] == "厂长"
    assert all(e.pgh_context["user"] == bureau.teammate.pk for e in events)
    assert [e.pgh_context["why"] for e in events] == [
        "contact_add",
        "contact_update",
        "contact_remove",
    ]


def test_bad_contact_input_is_named_next_to_its_field_in_chinese(bureau, client_for):
    investor, _project = _world(bureau)
    client = client_for(bureau.shanghai_officer)
    url = f"/investors/{investor.pk}/contacts/new/"
    cases = [
        ({"new-name": "王五", "new-phone": "call me"}, "phone", "电话只能包含数字"),
        ({"new-name": "王五", "new-email": "wangwu@"}, "email", "请输入有效的邮箱地址"),
        ({"new-name": "  ", "new-phone": "123"}, "name", "该字段是必填项"),
    ]
    for data, field, message in cases:
        response = client.post(url, data)
        assert response.status_code == 200
        html = response.content.decode()
        block = re.search(
            rf'<div class="field has-error[^"]*">(?:(?!<div class="field).)*?id="id_new-{field}"',
            html,
            re.S,
        )
        assert block and message in block.group(0), (field, message)
        assert 'value="王五"' in html or field == "name"  # what was typed comes back
    assert investor.contacts.count() == 1


def test_the_same_contact_form_sent_twice_saves_once(bureau, client_for):
    investor, _project = _world(bureau)
    client = client_for(bureau.shanghai_officer)
    page = client.get(f"/investors/{investor.pk}/").content.decode()
    data = {"new-submission": _key(page), "new-name": "王五", "new-phone": "13900000000"}
    first = client.post(f"/investors/{investor.pk}/contacts/new/", data)
    second = client.post(f"/investors/{investor.pk}/contacts/new/", data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert investor.contacts.filter(name="王五").count() == 1
    assert "这次提交已经保存过" in client.get(second["Location"]).content.decode()


def test_investor_names_link_to_the_investor_page(bureau, client_for):
    investor, project = _world(bureau, leads=2)
    client = client_for(bureau.shanghai_officer)
    link = f'href="/investors/{investor.pk}/"'
    lead = investor.leads.get(name="华鑫二期1")
    for url in (
        f"/leads/{lead.pk}/",
        f"/projects/{project.pk}/",
        "/leads/",
        "/leads/visits/",
        "/projects/",
    ):
        assert link in client.get(url).content.decode(), url


def test_contact_services_refuse_who_may_not_keep_them(bureau):
    investor, _project = _world(bureau)
    from promo.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        lead_services.contact_add(actor=bureau.outsider, investor=investor, name="王五")
    met_elsewhere(bureau.outsider, investor)
    with pytest.raises(PermissionDenied):
        lead_services.contact_add(actor=bureau.outsider, investor=investor, name="王五")
    with pytest.raises(PermissionDenied):
        lead_services.contact_remove(actor=bureau.outsider, contact=investor.contacts.get())
    assert InvestorContact.objects.filter(investor=investor).count() == 1


def test_the_page_and_its_errors_in_english(compiled, bureau, client_for):
    """English from a freshly compiled catalogue (the .mo is not committed)."""
    investor, _project = _world(bureau)
    me = bureau.shanghai_officer
    me.language = "en"
    me.save(update_fields=["language"])
    client = client_for(me)
    try:
        html = client.get(f"/investors/{investor.pk}/", HTTP_ACCEPT_LANGUAGE="en").content
        assert "Holding unit and lead officer" in html.decode()
        refused = client.post(
            f"/investors/{investor.pk}/contacts/new/",
            {"new-name": "Wang", "new-phone": "call me"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert 'A phone number may contain only digits, "+", "-" and spaces.' in (
            refused.content.decode().replace("&quot;", '"')
        )
    finally:
        translation.activate(settings.LANGUAGE_CODE)


def test_log_a_visit_from_the_page_preselects_the_investor(bureau, client_for):
    investor, _project = _world(bureau)
    client = client_for(bureau.shanghai_officer)
    html = client.get(f"/investors/{investor.pk}/").content.decode()
    assert f'href="/visits/new/?investor={investor.pk}"' in html
    form = client.get(f"/visits/new/?investor={investor.pk}").content.decode()
    assert re.search(rf'<option value="{investor.pk}" selected>', form)
    # Nothing is preselected from an investor the officer may not see.
    other = make_investor(bureau.outsider, "深圳远方科技有限公司")
    form = client.get(f"/visits/new/?investor={other.pk}").content.decode()
    assert "深圳远方科技有限公司" not in form


def test_a_null_byte_in_a_contact_is_a_field_error_not_a_500(bureau, client_for):
    investor, _project = _world(bureau)
    response = client_for(bureau.shanghai_officer).post(
        f"/investors/{investor.pk}/contacts/new/", {"new-name": "王\x00五"}
    )
    assert response.status_code == 200
    assert investor.contacts.count() == 1
