"""Issue #13, finding 1, end to end in real headless Chromium: an officer of another unit who
knows only a company's name cannot take over the lead that names it, nor its credit.

The Shanghai officer types Shenzhen's investor on the visit form: the duplicate check names
it (holding unit, since when) but does not offer it, so no visit is logged on it. Asking to
join Shenzhen's lead as 协办 only files a request that Shenzhen's head decides (and the lead's
主办 is told of); the lead itself, its dropping and its signing stay out of reach. After every
step the rows that a takeover would write are counted again: none changed. Shenzhen's head
then finds the request on the home page and refuses it.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from leads.choices import AssistRequestStatus, LeadStatus
from leads.models import Lead, LeadAssistRequest, LeadStatusEvent, Visit
from officers.choices import Role
from officers.models import Assignment
from projects.models import Project
from tests.browser.conftest import sign_in
from tests.factories import make_bureau, make_investor, make_lead, make_officer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "宁德样例新能源科技有限公司"


def written(lead: Lead) -> tuple:
    """What a takeover would write, counted; and the lead's status."""
    return (
        Lead.objects.count(),
        Visit.objects.count(),
        Assignment.objects.count(),
        Project.objects.count(),
        LeadStatusEvent.objects.count(),
        Lead.objects.get(pk=lead.pk).status,
    )


def post_as_page(page, path: str, form: dict) -> int:
    """A POST from the signed-in browser, with its session and CSRF token, as a hand-made
    form would send it; the answer's status."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(
        path, form=form, headers={"X-CSRFToken": token, "Referer": page.url}, max_redirects=0
    )
    return answer.status


@pytest.fixture
def held():
    """Shenzhen's lead in negotiation, with a 主办 and a head; Shanghai has never met it."""
    bureau = make_bureau()
    investor = make_investor(bureau.outsider, name=NAME)
    lead = make_lead(
        bureau.outsider, investor=investor, name="宁德储能华东基地", status=LeadStatus.NEGOTIATING
    )
    head = make_officer(
        bureau.shenzhen, role=Role.UNIT_HEAD, username="sz_head", full_name="孙主任"
    )
    return bureau, lead, head


def test_another_units_lead_cannot_be_taken_over_from_the_visit_form(desktop, held):
    bureau, lead, head = held
    before = written(lead)
    sign_in(desktop, "sh_officer")

    # 1. The visit form: the name typed as a new investor is found, named, and not offered.
    desktop.goto("/visits/new/")
    desktop.get_by_text("没有找到？登记新客商").click()
    desktop.get_by_label("新客商名称").fill(NAME)
    desktop.get_by_label("行业:", exact=True).select_option(label="新能源")
    desktop.get_by_label("洽谈内容").fill("在上海拜访其华东区负责人")
    desktop.get_by_role("button", name="保存走访").click()
    held_list = desktop.locator(".candidates .held")
    held_list.wait_for()
    text = held_list.inner_text()
    assert NAME in text and "深圳办事处" in text
    assert timezone.localdate(lead.investor.created_at).isoformat() in text
    assert desktop.locator("input[name=use_candidate]").count() == 0
    # Confirming "a different investor" cannot register the same name a second time.
    desktop.get_by_label("确认是不同的客商，仍然新建").check()
    desktop.get_by_role("button", name="保存走访").click()
    desktop.locator(".candidates .held").wait_for()
    assert written(lead) == before

    # 2. Asking to join as 协办: a request for Shenzhen's head, nothing granted.
    desktop.get_by_role("button", name="申请协办").click()
    desktop.wait_for_url("**/claims/")
    assert "待审批" in desktop.content()
    request = LeadAssistRequest.objects.get(lead=lead)
    assert (request.requester, request.status, request.notified) == (
        bureau.shanghai_officer,
        AssistRequestStatus.OPEN,
        bureau.outsider,  # the lead's 主办 is told
    )
    assert written(lead) == before

    # 3. The lead, its dropping and its signing stay out of reach.
    assert desktop.goto(f"/leads/{lead.pk}/").status == 404
    assert desktop.goto(f"/leads/{lead.pk}/sign/").status == 404
    desktop.goto("/")
    assert post_as_page(desktop, f"/leads/{lead.pk}/drop/", {"drop-reason": "不跟了"}) == 404
    sign = {"contract_date": "2026-01-05", "total_investment": "990000"}
    assert post_as_page(desktop, f"/leads/{lead.pk}/sign/", sign) == 404
    assert written(lead) == before

    # 4. Shenzhen's head finds the request at home and refuses it: still nothing granted.
    desktop.context.clear_cookies()
    sign_in(desktop, "sz_head")
    awaiting = desktop.locator("section[aria-labelledby=h-assists]")
    assert NAME in awaiting.inner_text() and "张明" in awaiting.inner_text()
    awaiting.get_by_role("button", name="不同意").click()
    desktop.wait_for_url(re.compile(r"/$"))
    request.refresh_from_db()
    assert (request.status, request.decided_by) == (AssistRequestStatus.REFUSED, head)
    assert desktop.locator("section[aria-labelledby=h-assists]").count() == 0
    assert written(lead) == before
