"""Pages: upload → dry run → confirm; export of the list pages and the round trip."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from leads.choices import LeadStatus
from leads.models import Lead
from projects.models import Project
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch, ImportMapping
from promo.imports.services import batch_check, batch_upload
from tests.factories import make_lead, make_project
from tests.imports.files import xlsx

pytestmark = pytest.mark.django_db


def login(client, officer):
    client.force_login(officer)
    return client


def run_now(batch_pk):
    from promo.imports.tasks import run_import

    return run_import(batch_pk)


def test_upload_runs_the_dry_run_and_the_confirmation_commits(client, bureau):
    me = bureau.shanghai_officer
    login(client, me)
    data = xlsx([["项目名称", "投资方", "总投资(万元)"], ["甲项目", "甲公司", "1,200"]])
    response = client.post(
        "/imports/new/",
        {"kind": ImportKind.LEADS, "file": SimpleUploadedFile("台账.xlsx", data)},
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    # on_commit does not fire inside the test transaction: run the job as the worker would.
    run_now(batch.pk)
    page = client.get(f"/imports/{batch.pk}/")
    assert "新增 1" in page.content.decode()
    assert not Lead.objects.exists()
    client.post(f"/imports/{batch.pk}/confirm/")
    run_now(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMMITTED
    lead = Lead.objects.get()
    assert lead.estimated_amount == Decimal("1200") and lead.unit == bureau.shanghai
    progress = client.get(f"/imports/{batch.pk}/progress/").json()
    assert progress["percent"] == 100 and not progress["running"]


@override_settings(PROMO_IMPORT_MAX_BYTES=1_000_000)
def test_a_20mb_file_of_random_bytes_gets_a_clear_answer_and_nothing_is_stored(client, bureau):
    import os

    login(client, bureau.shanghai_officer)
    junk = SimpleUploadedFile("台账.xlsx", os.urandom(20 * 1024 * 1024))
    response = client.post("/imports/new/", {"kind": ImportKind.LEADS, "file": junk})
    assert response.status_code == 200
    assert "文件过大" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_random_bytes_under_the_cap_are_refused_by_content(client, bureau):
    import os

    login(client, bureau.shanghai_officer)
    junk = SimpleUploadedFile("台账.csv", os.urandom(100_000))
    response = client.post("/imports/new/", {"kind": ImportKind.LEADS, "file": junk})
    assert response.status_code == 200 and "无法识别" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_outsider_cannot_see_or_confirm_anothers_batch(client, bureau):
    batch = batch_upload(
        actor=bureau.shanghai_officer,
        data=xlsx([["客商名称", "行业"], ["甲公司", "电子信息"]]),
        file_name="a.xlsx",
        kind=ImportKind.INVESTORS,
    )
    batch_check(batch=batch)
    login(client, bureau.outsider)
    assert client.get(f"/imports/{batch.pk}/").status_code == 404
    assert client.post(f"/imports/{batch.pk}/confirm/").status_code == 404
    batch.refresh_from_db()
    assert batch.confirmed_at is None


def _sheet_rows(body: bytes) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [list(r) for r in workbook.active.iter_rows(values_only=True)]


def test_lead_export_keeps_filters_and_visibility_with_numbers_as_numbers(client, bureau):
    me = bureau.shanghai_officer
    make_lead(me, name="上海甲项目", amount=1200)
    make_lead(me, name="上海乙项目", status=LeadStatus.VALID)
    make_lead(bureau.outsider, name="深圳项目")
    login(client, me)
    response = client.get("/imports/export/leads.xlsx?status=information")
    assert response.status_code == 200
    rows = _sheet_rows(response.getvalue())
    assert rows[0][:4] == ["系统编号", "外部编号", "项目名称", "投资方"]
    assert [r[2] for r in rows[1:]] == ["上海甲项目"]
    assert rows[1][6] == 1200 and isinstance(rows[1][6], int)
    text = client.get("/imports/export/leads.csv").getvalue()
    assert text.startswith(b"\xef\xbb\xbf")
    names = [r[2] for r in csv.reader(io.StringIO(text.decode("utf-8-sig")))][1:]
    assert sorted(names) == ["上海乙项目", "上海甲项目"]


def test_the_list_pages_offer_export_with_their_filters(client, bureau):
    login(client, bureau.shanghai_officer)
    page = client.get("/leads/?status=valid").content.decode()
    assert "/imports/export/leads.xlsx?status=valid" in page
    assert "/imports/export/projects.csv?" in client.get("/projects/").content.decode()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize(
    "what,kind", [("leads", ImportKind.LEADS), ("projects", ImportKind.PROJECTS)]
)
def test_round_trip_export_then_reimport_changes_nothing(client, bureau, fmt, what, kind):
    me = bureau.shanghai_officer
    make_lead(me, amount=Decimal("1234.5"), description="厂房租赁")
    make_lead(me, status=LeadStatus.VALID)
    make_project(me, amount=15000, registered_capital=3000, land_area=Decimal("52.5"))
    login(client, me)
    body = client.get(f"/imports/export/{what}.{fmt}").getvalue()
    batch = batch_check(
        batch=batch_upload(actor=me, data=body, file_name=f"export.{fmt}", kind=kind)
    )
    assert batch.status == BatchStatus.CHECKED, batch.message
    expected = Lead.objects.count() if what == "leads" else Project.objects.count()
    assert (batch.total_rows, batch.unchanged_count) == (expected, expected), list(
        batch.rows.values("errors", "changes", "match_note")
    )


def test_a_units_own_headers_are_mapped_once_and_remembered(client, bureau):
    me = bureau.shanghai_officer
    login(client, me)
    ledger = xlsx([["项目名称", "甲方单位", "总投资"], ["甲项目", "甲公司", "100"]])
    batch = batch_check(
        batch=batch_upload(actor=me, data=ledger, file_name="a.xlsx", kind=ImportKind.LEADS)
    )
    assert batch.status == BatchStatus.FAILED and "投资方" in batch.message
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "甲方单位" in page and 'name="col_1"' in page
    response = client.post(
        f"/imports/{batch.pk}/mapping/",
        {"col_0": "name", "col_1": "investor", "col_2": "estimated_amount"},
    )
    again = ImportBatch.objects.exclude(pk=batch.pk).get()
    assert response.url == f"/imports/{again.pk}/"
    assert batch_check(batch=again).created_count == 1
    # The next ledger of the unit uses the remembered mapping without being asked.
    later = batch_upload(actor=me, data=ledger, file_name="b.xlsx", kind=ImportKind.LEADS)
    assert batch_check(batch=later).status == BatchStatus.CHECKED
    # …and another unit's is unaffected.
    other = batch_upload(actor=bureau.outsider, data=ledger, file_name="c.xlsx", kind="leads")
    assert batch_check(batch=other).status == BatchStatus.FAILED


def test_only_the_uploader_remaps_a_batch_and_a_refusal_saves_no_mapping(client, bureau):
    """Found by the permission matrix (issue #13): the unit's head, a colleague or a chief who
    opened someone else's batch was refused the new check — after the unit's column mapping
    had been saved under their name."""
    ledger = xlsx([["项目名称", "甲方单位", "总投资"], ["甲项目", "甲公司", "100"]])
    batch = batch_check(
        batch=batch_upload(
            actor=bureau.shanghai_officer, data=ledger, file_name="a.xlsx", kind=ImportKind.LEADS
        )
    )
    columns = {"col_0": "name", "col_1": "investor", "col_2": "estimated_amount"}
    for other in (bureau.shanghai_head, bureau.teammate, bureau.chief):
        login(client, other)
        response = client.post(f"/imports/{batch.pk}/mapping/", columns)
        assert response.status_code == 302
        assert "只有上传人可以重新检查。" in [str(m) for m in get_messages(response.wsgi_request)]
        assert not ImportMapping.objects.exists()
        assert list(ImportBatch.objects.all()) == [batch]
