"""The scripted phone walk of issue #15 at 375 × 812: taps, typed characters, page loads.

Every tap and keystroke goes through ``Walk``, which counts them, and every page a tap loads
(``Walk.tap(..., loads=True)`` waits for it). The modelled human time is the issue's: 1.5 s a tap, 2 s a
(Chinese) character, 2 s a page load. The budget: a visit to a known investor with a
10-character note and a next step takes at most six taps besides the typed text, from the
home page. The other main flows are measured with the same counter and printed (run with
``-s``); docs/phone.md quotes the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from leads.choices import LeadStatus
from leads.models import Investor, Lead, Visit
from projects.choices import Stage
from projects.models import Project
from promo.core.services import today
from tests.browser.conftest import screenshot, sign_in, wait_until
from tests.factories import make_bureau, make_investor, make_lead, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAP_SECONDS, CHAR_SECONDS, LOAD_SECONDS = 1.5, 2.0, 2.0
KNOWN_VISIT_TAP_BUDGET = 6
NOTE = "董事长确认下月来考察"  # 10 characters
assert len(NOTE) == 10


@dataclass
class Walk:
    """A phone user's walk: each tap and typed character counted as the helpers do them."""

    page: object
    taps: int = 0
    chars: int = 0
    loads: int = 0
    steps: list[str] = field(default_factory=list)

    def arrive(self, pattern: str) -> None:
        """The page a tap loaded is the one expected (path and query, from the host on)."""
        assert re.search(pattern, self.page.url.split("//", 1)[1]), self.page.url

    def reset(self) -> None:
        self.taps = self.chars = self.loads = 0
        self.steps = []

    def tap(self, locator, why: str, *, loads: bool = False) -> None:
        """One tap; ``loads``: it loads a page (a redirect after a POST included), waited for."""
        if loads:
            with self.page.expect_navigation(wait_until="load"):
                locator.tap()
            self.loads += 1
        else:
            locator.tap()
        self.taps += 1
        self.steps.append(why)

    def type(self, locator, text: str, why: str) -> None:
        """Tap into a field, then type ``text`` one character at a time."""
        self.tap(locator, why)
        locator.press_sequentially(text)
        self.chars += len(text)

    def choose(self, select, label: str, why: str) -> None:
        """A native <select> on a phone: one tap opens the list, one picks the option."""
        select.select_option(label=label)
        self.taps += 2
        self.steps += [why, label]

    def pick_date(self, date_input, day, why: str) -> None:
        """A phone's date picker: open it, tap the day, confirm (three taps)."""
        date_input.fill(day.isoformat())
        self.taps += 3
        self.steps += [why, "day", "done"]

    def pick_file(self, file_input, path, why: str) -> None:
        """A file input: tap it, then tap the file in the phone's chooser."""
        file_input.set_input_files(str(path))
        self.taps += 2
        self.steps += [why, "file"]

    def seconds(self) -> float:
        return self.taps * TAP_SECONDS + self.chars * CHAR_SECONDS + self.loads * LOAD_SECONDS

    def report(self, flow: str) -> str:
        line = (
            f"PHONE WALK {flow}: {self.taps} taps, {self.chars} characters, "
            f"{self.loads} page loads, {self.seconds():.1f} s modelled"
        )
        print(line)
        return line


@pytest.fixture
def office():
    bureau = make_bureau()
    me = bureau.shanghai_officer
    investor = make_investor(me, name="华芯半导体科技有限公司", name_en="Huaxin Semiconductor")
    lead = make_lead(me, investor=investor, name="华芯12英寸晶圆封测基地", amount=150000)
    make_lead(me, name="新能源电池材料项目", status=LeadStatus.VALID, amount=30000)
    project = make_project(
        me,
        name="智能装备产业园",
        amount=60000,
        contract_date=today() - timedelta(days=60),
        groundbreaking_planned=today() + timedelta(days=5),
    )
    return bureau, investor, lead, project


def set_due(walk: Walk, form, day_offset: int) -> None:
    """The next step's due date: a quick choice when the form offers one, else the picker."""
    quick = form.locator("[data-date-for] button", has_text="明天")
    if quick.count() and quick.is_visible():
        walk.tap(quick, "明天")
    else:
        walk.pick_date(
            form.get_by_label("下一步期限"), today() + timedelta(days=day_offset), "期限"
        )


def test_a_visit_to_a_known_investor_with_a_next_step_fits_in_six_taps(tall_phone, office):
    bureau, investor, _lead, _project = office
    page = tall_phone
    sign_in(page, "sh_officer")
    walk = Walk(page)
    walk.reset()
    walk.tap(page.get_by_role("link", name="登记走访").first, "登记走访", loads=True)
    walk.arrive(r"/visits/new/$")
    walk.type(page.get_by_label("搜索客商", exact=True), "华芯", "搜索客商")
    # The typeahead finds the one match and picks it: no tap on the <select>.
    wait_until(page, f"document.getElementById('id_investor').value === '{investor.pk}'")
    walk.type(page.get_by_label("洽谈内容"), NOTE, "洽谈内容")
    walk.type(page.get_by_label("下一步:", exact=True), "寄送用地资料", "下一步")
    set_due(walk, page.locator("form[data-draft=visit]"), 1)
    screenshot(page, "visit-form-phone")
    walk.tap(page.get_by_role("button", name="保存走访"), "保存走访", loads=True)
    walk.arrive(r"^[^/]+/(leads/\d+/)?$")
    walk.report("known investor visit")

    visit = Visit.objects.get(investor=investor, created_by=bureau.shanghai_officer)
    assert visit.summary == NOTE and visit.next_step == "寄送用地资料"
    assert visit.next_step_due == today() + timedelta(days=1)
    assert walk.chars == 2 + 10 + 6
    assert walk.taps <= KNOWN_VISIT_TAP_BUDGET, f"{walk.taps} taps: {walk.steps}"


def test_a_visit_to_a_new_investor_with_a_near_duplicate_name_is_resolved_to_the_known_one(
    tall_phone, office
):
    bureau, investor, _lead, _project = office
    page = tall_phone
    investors_before = Investor.objects.count()
    sign_in(page, "sh_officer")
    walk = Walk(page)
    walk.reset()
    walk.tap(page.get_by_role("link", name="登记走访").first, "登记走访", loads=True)
    walk.arrive(r"/visits/new/$")
    walk.tap(page.get_by_text("没有找到？登记新客商"), "登记新客商")
    walk.type(page.get_by_label("新客商名称"), "华芯半导体科技公司", "新客商名称")
    walk.type(page.get_by_label("洽谈内容"), NOTE, "洽谈内容")
    # The server finds the near-duplicate (客商查重) and asks before creating anything.
    walk.tap(page.get_by_role("button", name="保存走访"), "保存走访", loads=True)
    walk.arrive(r"/visits/new/$")
    warning = page.locator(".candidates")
    warning.wait_for()
    assert "已有相近的客商" in warning.inner_text() and investor.name in warning.inner_text()
    assert Investor.objects.count() == investors_before and not Visit.objects.exists()
    screenshot(page, "visit-duplicate-phone")
    walk.tap(warning.get_by_label(re.compile(investor.name)), "选用已有客商")
    walk.tap(page.get_by_role("button", name="保存走访"), "保存走访", loads=True)
    walk.arrive(r"^[^/]+/$")
    walk.report("new investor, near-duplicate name")

    assert Investor.objects.count() == investors_before
    visit = Visit.objects.get(created_by=bureau.shanghai_officer)
    assert visit.investor == investor and visit.summary == NOTE


def test_the_other_main_flows_measured(tall_phone, office, settings, tmp_path):
    """Find a lead, register a lead, advance a project to groundbreaking: counted, printed."""
    settings.MEDIA_ROOT = tmp_path
    bureau, _investor, lead, project = office
    me = bureau.shanghai_officer
    fresh = make_investor(me, name="星海生物医药有限公司")
    page = tall_phone
    sign_in(page, "sh_officer")
    walk = Walk(page)

    # Find a lead by a word of its name and open it.
    walk.reset()
    walk.tap(page.locator(".mainnav").get_by_role("link", name="项目信息"), "项目信息", loads=True)
    walk.arrive(r"/leads/$")
    walk.type(page.get_by_label("搜索项目或投资方名称"), "晶圆", "搜索")
    walk.tap(page.get_by_role("button", name="查询"), "查询", loads=True)
    walk.arrive(r"/leads/\?")
    walk.tap(page.get_by_role("link", name=lead.name), lead.name, loads=True)
    walk.arrive(rf"/leads/{lead.pk}/$")
    walk.report("find a lead")
    assert walk.chars == 2

    # Register a lead on an investor met before.
    page.goto("/")
    walk.reset()
    walk.tap(page.locator(".mainnav").get_by_role("link", name="项目信息"), "项目信息", loads=True)
    walk.arrive(r"/leads/$")
    walk.tap(page.get_by_role("link", name="登记项目信息"), "登记项目信息", loads=True)
    walk.arrive(r"/leads/new/$")
    walk.choose(page.get_by_label("投资方:", exact=True), fresh.name, "投资方")
    walk.type(page.get_by_label("项目名称:", exact=True), "创新药研发生产基地", "项目名称")
    walk.choose(page.get_by_label("行业:", exact=True), "生物医药", "行业")
    walk.choose(page.get_by_label("产业链定位:", exact=True), "补链", "产业链定位")
    walk.choose(page.get_by_label("信息来源"), "驻点招商", "信息来源")
    walk.tap(page.get_by_role("button", name="登记", exact=True), "登记", loads=True)
    walk.arrive(r"/leads/\d+/$")
    walk.report("new lead")
    assert Lead.objects.filter(investor=fresh, name="创新药研发生产基地").exists()

    # Advance a project to groundbreaking with the permit photographed as a file.
    permit = tmp_path / "施工许可证.pdf"
    permit.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    page.goto("/")
    walk.reset()
    walk.tap(page.get_by_role("link", name=project.name).first, project.name, loads=True)
    walk.arrive(rf"/projects/{project.pk}/$")
    walk.tap(page.get_by_text("推进到“开工”"), "推进到开工")
    advance = page.locator("form[action$='/advance/']")
    walk.type(advance.get_by_label("说明"), "桩基进场", "说明")
    walk.choose(advance.get_by_label("佐证材料类型"), "施工许可证", "佐证材料类型")
    walk.pick_file(advance.get_by_label("佐证材料:", exact=True), permit, "佐证材料")
    walk.tap(advance.get_by_role("button", name="确认开工"), "确认开工", loads=True)
    walk.arrive(rf"/projects/{project.pk}/$")
    walk.report("advance a project stage")
    project.refresh_from_db()
    assert project.stage == Stage.GROUNDBREAKING
    assert Project.objects.filter(pk=project.pk, stage=Stage.GROUNDBREAKING).exists()
