"""What a new officer stumbled on in the browser walk (tests/browser/test_import_walk.py), fixed.

- errors hid among thousands of rows: a batch with errors opens on its errors;
- an error named its header but not where it is in Excel: the column letter is shown, and the
  row says what it is (project · investor);
- no way back to the upload after reading the errors: a link, with the kind and unit chosen;
- an unchanged re-import offered 确认导入 for nothing: it says there is nothing to import;
- the progress bar started full after confirming (the dry run's count), then fell back;
  a confirmed batch said 待确认 while it waited for its worker;
- created records were bare numbers: they link to their pages.
"""

from __future__ import annotations

import re

import pytest

from projects.models import Project
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportProgress
from promo.imports.services import batch_commit, batch_confirm
from tests.imports.files import xlsx
from tests.imports.test_import import checked

pytestmark = pytest.mark.django_db

HEADER = ["序号", "项目名称", "投资方", "总投资（万元）", "签约时间", "责任单位"]


def _ledger(rows: int, *, bad: dict[int, tuple[int, object]] | None = None) -> bytes:
    data = [["2024年签约项目台账"], HEADER]
    for i in range(1, rows + 1):
        data.append([i, f"第{i}号产业园", f"第{i}号精密机械有限公司", 1000 + i, "2024.5.6", ""])
    for index, (column, value) in (bad or {}).items():
        data[index + 1][column] = value
    return xlsx(data)


def test_errors_come_first_with_their_excel_column_and_the_rows_name(client, bureau):
    me = bureau.shanghai_officer
    batch = checked(me, _ledger(250, bad={240: (3, "-5"), 7: (5, "广州办事处")}), "projects")
    assert batch.error_count == 2
    client.force_login(me)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    rows = re.findall(r"<tr>\s*<td>(\d+)</td>", page)
    # Sheet rows 9 and 242 (title, header, then data), and nothing else on the first page.
    assert rows == ["9", "242"]
    assert "D 列「总投资（万元）」金额不能为负数" in page
    assert "F 列「责任单位」单位“广州办事处”不存在" in page
    assert "第240号产业园 · 第240号精密机械有限公司" in page
    assert "有错误，未导入" in page
    # The filter shown is marked, for the eye as well as for a screen reader.
    assert '<a href="?action=error" aria-current="page"><strong>有错误</strong></a>' in page
    # An error row will create nothing: no "将新建客商" beside its errors.
    assert "将新建客商" not in page
    # 全部 still lists every row, and its pages keep listing every row.
    everything = client.get(f"/imports/{batch.pk}/?action=all").content.decode()
    assert re.findall(r"<tr>\s*<td>(\d+)</td>", everything)[:2] == ["3", "4"]
    assert "?action=all&amp;page=2" in everything
    # The way back to the upload, with the ledger's kind and unit already chosen.
    link = f"/imports/new/?kind=projects&amp;unit={bureau.shanghai.pk}"
    assert link in page
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert re.search(r'<option value="projects" selected>', form)
    assert re.search(rf'<option value="{bureau.shanghai.pk}" selected>', form)


def test_an_unchanged_reimport_says_there_is_nothing_to_import(client, bureau):
    me = bureau.shanghai_officer
    first = checked(me, _ledger(3), ImportKind.PROJECTS)
    batch_confirm(batch=first, actor=me)
    assert batch_commit(batch=first).status == BatchStatus.COMMITTED
    again = checked(me, _ledger(3), ImportKind.PROJECTS)
    assert again.unchanged_count == 3
    client.force_login(me)
    page = client.get(f"/imports/{again.pk}/").content.decode()
    assert "文件与系统中的记录一致，无需导入。" in page
    assert "确认导入" not in page
    assert "· 无需导入</small>" in page and "待确认" not in page


def test_the_bar_starts_at_zero_after_confirming_and_created_records_link(
    client, bureau, django_assert_max_num_queries
):
    me = bureau.shanghai_officer
    batch = checked(me, _ledger(3), ImportKind.PROJECTS)
    # What the dry run's heartbeat left: every row checked.
    ImportProgress.objects.create(batch_id=batch.pk, done=3, updated_at=batch.created_at)
    client.force_login(me)
    client.post(f"/imports/{batch.pk}/confirm/")
    progress = client.get(f"/imports/{batch.pk}/progress/").json()
    assert (progress["running"], progress["percent"]) == (True, 0)
    assert progress["status_label"] == "已确认，等待导入"
    assert "已确认，等待导入" in client.get(f"/imports/{batch.pk}/").content.decode()

    batch_commit(batch=batch)
    with django_assert_max_num_queries(12):
        page = client.get(f"/imports/{batch.pk}/").content.decode()
    for project in Project.objects.all():
        assert f'<a href="/projects/{project.pk}/">{project.pk}</a>' in page
    assert "查看新增的记录" in page and 'href="/projects/"' in page


def test_an_outsider_gets_no_upload_form_for_anothers_unit(client, bureau):
    client.force_login(bureau.outsider)
    form = client.get(f"/imports/new/?kind=projects&unit={bureau.shanghai.pk}").content.decode()
    assert f'<option value="{bureau.shanghai.pk}"' not in form


def test_the_batch_list_says_a_batch_with_errors_needs_a_fixed_file(client, bureau):
    me = bureau.shanghai_officer
    checked(me, _ledger(3, bad={1: (3, "-5")}), ImportKind.PROJECTS)
    client.force_login(me)
    page = client.get("/imports/").content.decode()
    assert "有错误，未导入" in page and "待确认" not in page


def test_a_ledger_sent_as_the_wrong_data_type_says_which_type_it_looks_like(client, bureau):
    me = bureau.shanghai_officer
    # 客商名录 "works" on a project ledger (投资方 is a name column there) and lists puzzling
    # rows; the page says the headers fit 项目台账 better.
    wrong = checked(me, _ledger(3), ImportKind.INVESTORS)
    assert wrong.status == BatchStatus.CHECKED
    assert "更像“项目台账”" in wrong.message and "按“客商名录”只识别 2 列" in wrong.message
    client.force_login(me)
    assert "请重新上传并选择“项目台账”" in client.get(f"/imports/{wrong.pk}/").content.decode()
    # As 走访记录 it cannot even be read: the refusal says the same.
    refused = checked(me, _ledger(3), ImportKind.VISITS)
    assert refused.status == BatchStatus.FAILED
    assert "缺少必需的列" in refused.message and "更像“项目台账”" in refused.message
    # The right type: no such word.
    assert checked(me, _ledger(3), ImportKind.PROJECTS).message == ""


def test_the_upload_form_has_no_default_data_type(client, bureau):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from promo.imports.models import ImportBatch

    client.force_login(bureau.shanghai_officer)
    form = client.get("/imports/new/").content.decode()
    assert '<option value="" selected>请选择数据类型</option>' in form
    response = client.post("/imports/new/", {"file": SimpleUploadedFile("a.xlsx", _ledger(1))})
    assert response.status_code == 200 and "请选择文件中是哪一类数据" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_likely_duplicates_come_first_until_confirmed(client, bureau):
    from tests.factories import make_investor

    me = bureau.shanghai_officer
    make_investor(me, name="昆山第2号精密机械有限公司")
    batch = checked(me, _ledger(150), ImportKind.PROJECTS)
    assert (batch.duplicate_count, batch.error_count) == (1, 0)
    client.force_login(me)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert re.findall(r"<tr>\s*<td>(\d+)</td>", page) == ["4"]
    assert "如是同一企业，请在文件中改用已有客商的名称后重新上传" in page
    batch_confirm(batch=batch, actor=me, confirm_distinct=True)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert len(re.findall(r"<tr>\s*<td>(\d+)</td>", page)) == 100


def test_before_the_rows_are_counted_the_page_says_what_is_happening(client, bureau):
    from promo.imports.models import ImportBatch
    from promo.imports.services import batch_upload

    me = bureau.shanghai_officer
    batch = batch_upload(actor=me, data=_ledger(3), file_name="a.xlsx", kind="projects")
    client.force_login(me)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "排队中… 等待后台开始处理。" in page and "0 / 0" not in page
    assert '<progress max="100">' in page
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.CHECKING)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "检查中… 正在读取文件。" in page
    ImportBatch.objects.filter(pk=batch.pk).update(total_rows=3)
    ImportProgress.objects.create(batch_id=batch.pk, done=2, updated_at=batch.created_at)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "检查中… 2 / 3" in page and '<progress max="100" value="66">' in page
