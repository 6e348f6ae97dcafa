"""The officer's day end to end, in Chinese, in real headless Chromium.

Log a visit on a phone, sign a lead into a project, advance it to groundbreaking with a PDF
permit, raise a problem, ask again (escalates) and resolve it. Each flow signs in through
the real login page and checks the database afterwards; screenshots of the main pages go
to docs/screenshots/ for readers.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leads.choices import LeadStatus, VisitKind
from leads.models import Lead, Visit
from leads.services import visit_log
from projects.choices import ProblemStatus, Stage
from projects.models import Problem, Project, StageEvidence
from promo.core.services import today
from tests.browser.conftest import screenshot, sign_in, wait_until
from tests.factories import (
    make_bureau,
    make_investor,
    make_lead,
    make_project,
    met_elsewhere,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def assert_fits(page, width: int) -> None:
    """Nothing wider than the viewport: no sideways scrolling on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def office():
    """The bureau's personas, with a Shanghai pipeline so the pages are not empty."""
    bureau = make_bureau()
    me = bureau.shanghai_officer
    investor = make_investor(me, name="华芯半导体科技有限公司", name_en="Huaxin Semiconductor")
    lead = make_lead(
        me,
        investor=investor,
        name="华芯12英寸晶圆封测基地",
        status=LeadStatus.NEGOTIATING,
        amount=150000,
    )
    make_lead(me, name="新能源电池材料项目", status=LeadStatus.VALID, amount=30000)
    make_lead(me, name="生物医药研发中心", amount=8000)
    make_project(
        me,
        name="智能装备产业园",
        amount=60000,
        contract_date=today() - timedelta(days=60),
        groundbreaking_planned=today() - timedelta(days=5),
    )
    return bureau, investor, lead


def test_log_a_visit_on_a_phone_and_see_the_follow_up_at_home(phone, office):
    bureau, investor, _lead = office
    sign_in(phone, "sh_officer")
    assert_fits(phone, 375)
    phone.get_by_role("link", name="登记走访").first.click()
    phone.wait_for_url("**/visits/new/")
    phone.get_by_label("搜索客商", exact=True).fill("华芯")
    # The typeahead narrows the investor <select> to the one match and picks it.
    wait_until(phone, f"document.getElementById('id_investor').value === '{investor.pk}'")
    phone.get_by_label("洽谈内容").fill("与华芯董事长面谈封测基地选址，对方关注用地和电力。")
    phone.get_by_label("下一步:", exact=True).fill("发送园区用地和电价资料")
    phone.get_by_role("textbox", name="下一步期限").fill(today().isoformat())
    assert_fits(phone, 375)
    screenshot(phone, "visit-form-phone")
    phone.get_by_role("button", name="保存走访").click()
    phone.wait_for_url(re.compile(r"/$"))

    visit = Visit.objects.get(investor=investor, created_by=bureau.shanghai_officer)
    assert visit.next_step == "发送园区用地和电价资料" and visit.next_step_due == today()
    assert visit.visited_on == today()
    follow_ups = phone.locator("section[aria-labelledby=h-followups]")
    assert "发送园区用地和电价资料" in follow_ups.inner_text()
    assert "今天到期" in follow_ups.inner_text()
    assert_fits(phone, 375)
    screenshot(phone, "home-phone")


def test_sign_a_lead_then_advance_the_project_with_a_permit(desktop, office, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bureau, investor, lead = office
    # A visit or two, so the lead's timeline reads like real work.
    visit_log(
        actor=bureau.shanghai_officer,
        kind=VisitKind.INSPECTION,
        visited_on=today() - timedelta(days=3),
        investor=investor,
        lead=lead,
        summary="客商来区实地考察，看了两块备选地块。",
        next_step="报送投资协议文本",
        next_step_due=today() + timedelta(days=7),
    )
    sign_in(desktop, "sh_officer")
    desktop.get_by_role("link", name="项目信息").first.click()
    desktop.wait_for_url("**/leads/**")
    screenshot(desktop, "lead-list")
    desktop.get_by_role("link", name=lead.name).click()
    desktop.wait_for_url(f"**/leads/{lead.pk}/")
    screenshot(desktop, "lead-detail")

    # Signing opens the project form prefilled from the lead.
    desktop.get_by_role("link", name="签约", exact=True).click()
    desktop.wait_for_url(f"**/leads/{lead.pk}/sign/")
    assert desktop.get_by_label("项目名称").input_value() == lead.name
    assert desktop.get_by_label("签约总投资(万元)").input_value() in ("150000", "150000.00")
    desktop.get_by_label("计划开工").fill((today() + timedelta(days=30)).isoformat())
    desktop.get_by_label("计划竣工").fill((today() + timedelta(days=400)).isoformat())
    desktop.get_by_label("计划投产").fill((today() + timedelta(days=500)).isoformat())
    desktop.get_by_role("button", name="确认签约并建立项目").click()
    desktop.wait_for_url(re.compile(r"/projects/\d+/$"))
    project = Project.objects.get(lead=lead)
    assert desktop.url.endswith(f"/projects/{project.pk}/")
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.SIGNED

    # Advance to groundbreaking with the construction permit as a PDF.
    permit = tmp_path / "施工许可证.pdf"
    permit.write_bytes(PDF)
    desktop.get_by_text("推进到“开工”").click()
    advance = desktop.locator("form[action$='/advance/']")
    advance.get_by_label("说明").fill("已取得施工许可证，桩基进场")
    advance.get_by_label("佐证材料类型").select_option(label="施工许可证")
    advance.get_by_label("佐证材料:", exact=True).set_input_files(str(permit))
    advance.get_by_role("button", name="确认开工").click()
    desktop.wait_for_url(f"**/projects/{project.pk}/")
    project.refresh_from_db()
    assert project.stage == Stage.GROUNDBREAKING and project.groundbreaking_actual == today()
    evidence = StageEvidence.objects.get(stage_event__project=project)
    assert evidence.kind == "construction_permit" and evidence.content_type == "application/pdf"
    assert evidence.original_name == "施工许可证.pdf"
    assert (tmp_path / evidence.file.name).read_bytes() == PDF
    assert "项目已进入“开工”阶段" in desktop.content()

    # The listed link downloads the stored file, as an attachment.
    with desktop.expect_download() as info:
        desktop.get_by_role("link", name="施工许可证.pdf").click()
    download = info.value
    assert download.suggested_filename == "施工许可证.pdf"
    assert open(download.path(), "rb").read() == PDF
    screenshot(desktop, "project-detail")

    desktop.goto("/projects/board/")
    assert lead.name in desktop.locator(".board").inner_text()
    screenshot(desktop, "project-board")


def test_raise_a_problem_ask_again_and_resolve_it(desktop, office):
    bureau, _investor, _lead = office
    project = Project.objects.get(name="智能装备产业园")
    sign_in(desktop, "sh_officer")
    desktop.goto(f"/projects/{project.pk}/")
    desktop.get_by_role("link", name="登记问题").click()
    desktop.get_by_label("问题类型").select_option(index=1)
    desktop.get_by_label("问题:", exact=True).fill("变电站扩容未落实，影响设备调试")
    desktop.get_by_label("企业反映人").fill("王经理")
    desktop.get_by_label("办结期限").fill((today() + timedelta(days=10)).isoformat())
    desktop.get_by_role("button", name="登记").click()
    desktop.wait_for_url(re.compile(r"/problems/\d+/$"))
    problem = Problem.objects.get(project=project)
    assert problem.first_asked == bureau.shanghai_officer and problem.ask_count == 1

    # The investor asks again: recorded, escalated, and on the owner unit's home page.
    desktop.get_by_text("企业再次反映（二次催办，自动升级）").click()
    desktop.get_by_label("企业再次反映的情况").fill("企业再次来电，设备已到厂")
    desktop.get_by_role("button", name="记录二次催办").click()
    desktop.wait_for_url(f"**/problems/{problem.pk}/")
    problem.refresh_from_db()
    assert problem.ask_count == 2
    screenshot(desktop, "problem")
    desktop.goto("/")
    assert "已二次催办" in desktop.locator("section[aria-labelledby=h-problems]").inner_text()

    # The unit's head closes it: the officer who raised it may not (issue #13).
    desktop.context.clear_cookies()
    sign_in(desktop, "sh_head")
    desktop.goto(f"/problems/{problem.pk}/")
    desktop.get_by_text("办结", exact=True).first.click()
    desktop.get_by_label("办理结果").fill("供电公司已完成扩容，恢复供电")
    desktop.locator("form[action$='/resolve/'] button[type=submit]").click()
    desktop.wait_for_url(f"**/problems/{problem.pk}/")
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.RESOLVED
    assert "供电公司已完成扩容" in desktop.content()


def test_registering_a_held_investor_offers_a_claim_and_joining_as_assisting(desktop, office):
    bureau, _investor, _lead = office
    held_investor = make_investor(bureau.outsider, name="鹏城智能终端有限公司")
    held = make_lead(bureau.outsider, investor=held_investor, name="鹏城智能终端华东基地")
    met_elsewhere(bureau.shanghai_officer, held_investor, summary="在上海拜访其华东总部")

    def register():
        desktop.goto("/leads/new/")
        desktop.get_by_label("投资方:", exact=True).select_option(label=held_investor.name)
        desktop.get_by_label("项目名称:", exact=True).fill("智能终端华东总部")
        desktop.get_by_label("行业:", exact=True).select_option(label="电子信息")
        desktop.get_by_label("产业链定位:", exact=True).select_option(label="补链")
        desktop.get_by_label("信息来源").select_option(label="驻点招商")
        desktop.get_by_role("button", name="登记", exact=True).click()
        desktop.get_by_text("该投资方已有其他单位在跟进").wait_for()

    sign_in(desktop, "sh_officer")
    register()
    assert "深圳办事处" in desktop.locator(".candidates").inner_text()
    desktop.get_by_text("提出撞单协调").first.click()
    desktop.get_by_label("申请理由").fill("投资方华东总部在上海，由上海办事处长期对接")
    desktop.get_by_role("button", name="提交协调申请").click()
    desktop.wait_for_url("**/claims/")
    assert "由上海办事处长期对接" in desktop.content()
    screenshot(desktop, "claims")

    register()
    desktop.get_by_role("button", name="申请协办").click()
    # A request the holding unit's head decides: nothing is granted yet.
    desktop.wait_for_url("**/claims/")
    assert "协办申请" in desktop.content() and "待审批" in desktop.content()
    assert Lead.objects.filter(investor=held_investor).count() == 1
    assert not held.assignments.filter(officer=bureau.shanghai_officer).exists()


def test_on_a_phone_the_follow_ups_come_before_the_alerts(phone, office):
    """Issue #15, finding 5: after the daily traffic-light run 14 alert cards came first and
    待跟进 started 2,928 px down the home page. The alerts are now one closed line."""
    from promo.reports.choices import AlertLevel, AlertRule
    from promo.reports.models import Alert

    bureau, investor, lead = office
    me = bureau.shanghai_officer
    for n in range(14):
        Alert.objects.create(
            rule=AlertRule.LEAD_NO_FOLLOW_UP,
            level=AlertLevel.RED if n % 3 == 0 else AlertLevel.YELLOW,
            subject_key=f"phone-home:{n}",
            unit=me.unit,
            responsible=me,
            detail=f"第 {n + 1} 条预警：项目信息久未跟进，请尽快联系客商并登记走访情况。",
            opened_on=today() - timedelta(days=n),
            last_seen_on=today(),
        )
    visit_log(
        actor=me,
        kind=VisitKind.VISIT,
        visited_on=today() - timedelta(days=2),
        investor=investor,
        lead=lead,
        summary="电话沟通用地需求。",
        next_step="寄送园区用地资料",
        next_step_due=today(),
    )
    sign_in(phone, "sh_officer")
    follow_ups = phone.locator("section[aria-labelledby=h-followups]")
    top = follow_ups.bounding_box()["y"]
    assert top < 812 / 2, f"待跟进 starts {top:.0f} px down"
    assert "寄送园区用地资料" in follow_ups.inner_text()
    summary = phone.locator("#home-alerts summary")
    assert "我的预警 14 条" in summary.inner_text() and "红灯 5" in summary.inner_text()
    assert not phone.locator("#h-my-alerts").is_visible()
    summary.click()
    assert phone.locator("#h-my-alerts").is_visible()
    assert phone.locator("#home-alerts li").count() == 14
    assert_fits(phone, 375)


TAP_TARGETS = """() => Array.from(document.querySelectorAll('input[type=checkbox], input[type=radio]'))
  .filter((box) => box.type !== 'hidden' && box.offsetParent !== null)
  .map((box) => {
    const labels = Array.from(box.labels || []);
    const heights = [box, ...labels].map((el) => el.getBoundingClientRect().height);
    const widths = [box, ...labels].map((el) => el.getBoundingClientRect().width);
    return {name: box.name, height: Math.max(...heights), width: Math.max(...widths)};
  })"""


def test_on_a_phone_every_checkbox_is_a_44_pixel_tap_target(phone, office):
    """Issue #15, finding 11: checkboxes were 20 × 20 px; a finger needs 44."""
    sign_in(phone, "sh_officer")
    seen = 0
    for url in ("/leads/", "/projects/", "/leads/visits/", "/visits/new/"):
        phone.goto(url)
        phone.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        boxes = phone.evaluate(TAP_TARGETS)
        small = [box for box in boxes if box["height"] < 44 or box["width"] < 44]
        assert not small, f"{url}: {small[:5]}"
        seen += len(boxes)
        assert_fits(phone, 375)
    assert seen > 20, "the filter panels and the visit form have checkboxes"
