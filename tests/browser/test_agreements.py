"""Issue #20, end to end in real headless Chromium: an incentive withheld and another clawed
back, each asked by the project's 主办 on a phone and approved by the unit head on a desktop.

The amount to claw back is computed by promo from the agreement's rule and shown with its
working; the 主办 is never offered the approval and a double tap queues one request; after the
head's approvals the tranche states, the amounts and the agreement's log agree, and the
figures page counts what was clawed back.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from promo.agreements import services
from promo.agreements.choices import Payment, RequestStatus
from promo.agreements.models import AgreementLog, IncentiveRequest, Promise
from promo.core.services import today
from tests.browser.conftest import sign_in
from tests.factories import make_bureau, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = timedelta(days=1)


@pytest.fixture
def ledger():
    """A Shanghai agreement: equipment investment met, tax at 40 % of its target (missed);
    one tranche paid on the investment, one not yet paid."""
    bureau = make_bureau()
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    project = make_project(officer, contract_date=today() - 80 * DAY, name="年产10万台电机项目")
    agreement = services.agreement_create(
        project=project,
        actor=officer,
        kind="main",
        title="电机项目投资协议",
        signed_on=today() - 80 * DAY,
    )
    investment = services.term_add(
        agreement=agreement,
        actor=officer,
        metric="fixed_asset",
        target="1000",
        due_on=today() - 20 * DAY,
    )
    tax = services.term_add(
        agreement=agreement,
        actor=officer,
        metric="annual_tax",
        target="100",
        due_on=today() - 5 * DAY,
    )
    for term, value in ((investment, "1100"), (tax, "40")):
        item = services.measurement_record(
            term=term, actor=officer, measured_on=term.due_on, value=value, source="统计与税务数据"
        )
        services.measurement_verify(measurement=item, actor=head)
    paid = services.promise_add(
        agreement=agreement,
        actor=officer,
        kind="incentive",
        description="设备投资奖补",
        owner_unit=bureau.shanghai,
        due_on=today(),
        amount="50",
        conditions=[investment],
    )
    request = services.incentive_request(
        promise=paid, actor=officer, action="pay", reason="设备已到位"
    )
    services.incentive_decide(request=request, actor=head, approve=True)
    unpaid = services.promise_add(
        agreement=agreement,
        actor=officer,
        kind="incentive",
        description="达产奖补",
        owner_unit=bureau.shanghai,
        due_on=today() + 30 * DAY,
        amount="80",
    )
    return bureau, agreement, paid, unpaid


def ask(page, tranche: str, action: str, reason: str, *, double: bool = False) -> None:
    page.get_by_text("申请兑现、暂缓或追回奖补").click()
    page.get_by_label("奖补事项").select_option(label=tranche)
    page.get_by_label("操作").select_option(label=action)
    page.get_by_label("理由").fill(reason)
    button = page.get_by_role("button", name="提交申请")
    with page.expect_navigation():
        if double:
            button.dblclick()
        else:
            button.click()
    page.wait_for_load_state("networkidle")


def test_a_withholding_and_a_clawback_asked_on_a_phone_and_approved_by_the_head(
    ledger, phone, browser, live_server
):
    bureau, agreement, paid, unpaid = ledger
    sign_in(phone, bureau.shanghai_officer.username)
    # From the list of agreements to claw back, to the agreement.
    phone.goto("/agreements/?status=clawback")
    phone.get_by_role("link", name="电机项目投资协议").click()
    assert phone.locator("[data-clawback]").count() == 1

    ask(phone, "达产奖补", "暂缓兑现", "企业欠缴社保，整改前暂缓。")
    assert phone.get_by_text("已保存。").is_visible()
    ask(phone, "设备投资奖补", "追回", "年税收未达协议承诺。", double=True)
    clawback = IncentiveRequest.objects.get(action="clawback")
    assert IncentiveRequest.objects.filter(status=RequestStatus.PENDING).count() == 2
    assert clawback.amount == Decimal("30.00")  # 50 × (1 − 40/100)
    # The double tap saved once and says so (or shows the one save): no error on the page.
    assert "已有待审批的申请" not in phone.locator("main").inner_text()
    page_text = phone.locator("main").inner_text()
    assert "30" in phone.locator(f"[data-request='{clawback.pk}']").inner_text()
    assert "40.00/100.00" in page_text  # the working, shown with the request
    # The one who asked is offered no decision.
    assert phone.locator("form.decide").count() == 0

    # The head, on a desktop, approves both.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    )
    desk = context.new_page()
    desk.set_default_timeout(10_000)
    sign_in(desk, bureau.shanghai_head.username)
    desk.goto(f"/agreements/{agreement.pk}/")
    for request in IncentiveRequest.objects.filter(status=RequestStatus.PENDING).order_by("pk"):
        item = desk.locator(f"[data-request='{request.pk}']")
        item.get_by_label("审批意见").fill("同意。")
        item.get_by_role("button", name="批准").click()
        desk.wait_for_load_state()
        assert desk.get_by_text("已保存。").is_visible()
    assert desk.locator("form.decide").count() == 0

    paid.refresh_from_db()
    unpaid.refresh_from_db()
    assert (unpaid.payment, paid.payment, paid.clawed_back_amount) == (
        Payment.WITHHELD,
        Payment.CLAWED_BACK,
        Decimal("30.00"),
    )
    steps = list(
        AgreementLog.objects.filter(
            agreement=agreement, what__in=("approved_withhold", "approved_clawback")
        )
        .values_list("what", "actor__username")
        .order_by("id")
    )
    assert steps == [("approved_withhold", "sh_head"), ("approved_clawback", "sh_head")]

    # The figures: 30 clawed back, 80 withheld; the clawed-back link lists the tranche.
    desk.goto("/agreements/")
    assert desk.locator("[data-figure='clawed_back']").inner_text().startswith("30")
    assert desk.locator("[data-figure='withheld']").inner_text().startswith("80")
    desk.locator("[data-figure='clawed_back']").click()
    assert desk.locator("[data-promise]").count() == 1
    assert "设备投资奖补" in desk.locator("[data-promise]").inner_text()
    context.close()
    assert Promise.objects.get(pk=paid.pk).payment == Payment.CLAWED_BACK
