"""A new bureau's first import, walked in real headless Chromium as a unit officer would.

Upload a messy 招商项目台账 of 3,000 rows → check the recognised Chinese headers and save the
column mapping → the preview lists each error by row, column and reason → fix the file, upload
again → the preview shows creates, updates and a likely duplicate → confirm → the progress bar
reaches done (a REAL Celery worker on Redis runs the job against the test database) → the
batch lists the created records → the same fixed file again (as GB18030 CSV) changes nothing →
the project list exported to Excel from the list page and imported again changes nothing.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from leads.models import Investor
from projects.models import Project, StageEvidenceRule
from promo.imports.choices import BatchStatus
from promo.imports.models import ImportBatch, ImportMapping
from tests.browser.conftest import screenshot, sign_in
from tests.factories import make_bureau
from tests.imports.ledgers import COL, project_ledger
from tests.imports.test_ledger import seed_known
from tests.imports.test_worker_import import routed  # noqa: F401 - run_import to this worker
from tests.reports.test_worker import queue, worker  # noqa: F401 - the real worker fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 3000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(page, name: str, data: bytes, mime: str = XLSX) -> ImportBatch:
    """From the upload form: choose 项目台账, attach the file, wait for the dry run's result."""
    page.get_by_label("数据类型").select_option(label="项目台账")
    page.get_by_label("台账文件（.xlsx 或 .csv）").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    page.get_by_role("button", name="上传并预检").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    return wait_checked(page)


def wait_checked(page) -> ImportBatch:
    """The page refreshes itself while the worker checks; the counts appear when it is done."""
    page.get_by_text(re.compile(r"共 \d+ 行：")).wait_for(timeout=60_000)
    batch = ImportBatch.objects.get(pk=int(re.search(r"/imports/(\d+)/", page.url).group(1)))
    assert batch.status == BatchStatus.CHECKED, batch.message
    return batch


def counts(page) -> str:
    return page.get_by_text(re.compile(r"共 \d+ 行：")).inner_text()


def test_a_new_officer_imports_a_messy_ledger_fixes_it_and_nothing_duplicates(
    desktop,
    worker,  # noqa: F811
    routed,  # noqa: F811
):
    page = desktop
    bureau = make_bureau()
    # A historical ledger: its 开工 dates come without files, so the bureau switches its stage
    # evidence rules off for the import (tests/imports/conftest.py ``evidence_rules_off``).
    StageEvidenceRule.objects.update(active=False)
    me = bureau.shanghai_officer
    known, similar = seed_known(me)
    ledger = project_ledger(ROWS, known=known, similar=similar)
    sign_in(page, me.username)

    # From the menu to the upload form.
    page.get_by_role("link", name="导入台账").first.click()
    page.get_by_role("link", name="上传台账文件").click()
    batch = upload(page, "2024年签约项目台账.xlsx", ledger.xlsx())

    # 列对应: the Chinese headers are recognised; 序号/联系人/备注 are left out; saved for the unit.
    page.locator("summary", has_text="列对应").click()
    expected = {
        "项目名称": "项目名称",
        "投资方（企业名称）": "投资方",
        "所属行业": "行业",
        "总投资（万元）": "总投资",
        "签约时间": "签约时间",
        "开工时间": "开工时间",
        "落户园区": "落户园区",
        "责任单位": "责任单位",
        "联系人": "（不导入）",
        "序号": "（不导入）",
    }
    for header, field in expected.items():
        chosen = page.get_by_label(header, exact=True).locator("option:checked").inner_text()
        assert chosen == field, (header, chosen)
    page.get_by_role("button", name="保存列对应并重新预检").click()
    page.get_by_text("列对应已保存").wait_for()
    batch = wait_checked(page)
    assert ImportMapping.objects.get(unit=bureau.shanghai).columns["投资方"] == "investor"

    # The preview: nothing written, five errors, each with its row, column and reason; the
    # 合计 row and the notes under the table are named as left out, not silently dropped.
    skipped = "、".join(str(n) for n in ledger.footer_rows)
    note = page.get_by_role("status").filter(has_text="合计行").inner_text()
    assert f"第 {skipped} 行是合计行或表格下方的说明，不是数据，未导入（共 3 行）" in note
    assert f"共 {ROWS} 行" in counts(page) and "错误 5" in counts(page)
    assert not page.get_by_role("button", name="确认导入").count()
    # The errors come first, not on page 17 of 30.
    assert page.locator("nav.filters [aria-current=page]").inner_text() == "有错误"
    table = page.locator("#rows tbody tr")
    assert table.count() == 5
    for number, (column, reason) in ledger.errors.items():
        line = table.filter(has=page.locator("td", has_text=re.compile(rf"^{number}$")))
        text = line.inner_text()
        letter = "ABCDEFGHIJK"[COL[column]]
        assert f"{letter} 列「{column}」" in text and reason in text, text
    screenshot(page, "import_preview")
    assert Project.objects.count() == 3

    # The officer fixes the file and uploads it again from the page's own link.
    page.get_by_role("link", name="修改文件后重新上传").click()
    fixed = ledger.fixed()
    batch = upload(page, "2024年签约项目台账（修改）.xlsx", fixed.xlsx())
    text = counts(page)
    assert f"新增 {ROWS - 3}" in text and "更新 1" in text, text
    assert "无变化 1" in text and "疑似重复 1" in text and "错误 0" in text, text
    # The likely duplicate is what the page shows first, with what to do about it.
    assert page.locator("nav.filters [aria-current=page]").inner_text() == "疑似重复"
    assert "昆山德赛电子有限公司" in page.locator("#rows tbody").inner_text()

    # Confirm (the likely duplicate checked by hand: another city's company), watch the bar.
    page.get_by_label("我已核对疑似重复的客商，确认为不同企业").check()
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("已确认，正在导入").wait_for()
    seen = []
    # Generous: on a busy 2-core machine the worker writes a few rows a second.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        bar = page.locator("progress")
        if bar.count():
            seen.append(int(bar.first.get_attribute("value") or 0))
        elif "已导入" in page.locator("h1").inner_text():
            break
        page.wait_for_timeout(500)
    else:
        raise AssertionError(f"the import did not finish: {seen}")
    # The bar only moves forward, from the start to the end (the dry run's 100 % is not shown).
    assert seen and seen == sorted(seen) and seen[0] < 100, seen
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMMITTED, batch.message
    assert Project.objects.count() == ROWS + 3 - 2

    # The batch lists the records it created, each a link to its project.
    page.get_by_role("link", name="查看新增的记录").click()
    first = page.locator("#rows tbody tr").first
    name = first.locator("td").nth(1).inner_text().split(" · ")[0]
    assert Project.objects.filter(name=name).exists(), name
    first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/projects/\d+/$"))
    assert name in page.locator("h1").inner_text()

    # The same fixed file again, as the GB18030 CSV Excel saves: nothing to write.
    projects, investors = Project.objects.count(), Investor.objects.count()
    page.goto("/imports/new/")
    upload(page, "2024年签约项目台账.csv", fixed.gb18030_csv(), "text/csv")
    text = counts(page)
    assert f"无变化 {ROWS}" in text and "新增 0" in text and "疑似重复 0" in text, text
    assert page.get_by_text("文件与系统中的记录一致，无需导入。").is_visible()
    assert not page.get_by_role("button", name="确认导入").count()
    assert "无需导入" in page.locator("h1").inner_text()

    # The project list, exported to Excel from its page, imported again: nothing changes.
    page.goto("/projects/")
    with page.expect_download() as download:
        page.locator("p.export").get_by_role("link", name="Excel").click()
    exported = Path(download.value.path()).read_bytes()
    # The CSV export opens in Chinese Excel without garbling: UTF-8 with a BOM.
    with page.expect_download() as as_csv:
        page.locator("p.export").get_by_role("link", name="CSV").click()
    text = Path(as_csv.value.path()).read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "系统编号,外部编号,项目名称,投资方" in text.decode()
    page.goto("/imports/new/")
    upload(page, download.value.suggested_filename, exported)
    text = counts(page)
    assert f"无变化 {ROWS + 1}" in text and "新增 0" in text and "更新 0" in text, text
    assert (Project.objects.count(), Investor.objects.count()) == (projects, investors)
