"""Issue #15, finding 11: there was no import template to download. Each kind now has one,
linked from the upload page, and the importer reads a filled-in template back as it is."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.models import Lead, Visit
from promo.agreements.models import Agreement
from promo.core.services import today
from promo.imports import parsing
from promo.imports.choices import BatchStatus, ImportKind, RowAction
from promo.imports.ledger_templates import CHOICES, template_fields
from promo.imports.models import ImportBatch
from promo.imports.tasks import run_import
from tests.factories import make_investor, make_lead, make_project

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(client, kind: str, **headers):
    response = client.get(f"/imports/template/{kind}.xlsx", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    return response, openpyxl.load_workbook(io.BytesIO(response.content))


@pytest.mark.parametrize("kind", ImportKind.values)
def test_every_kind_has_a_template_whose_every_column_the_importer_knows(bureau, client, kind):
    client.force_login(bureau.shanghai_officer)
    response, book = _download(client, kind)
    label = str(ImportKind(kind).label)
    assert unquote(response["Content-Disposition"]).endswith(f"{label}导入模板.xlsx")
    data = book.worksheets[0]
    headers = [cell.value for cell in data[1]]
    assert data.max_row == 1  # headers only: nothing to import by mistake
    mapping = parsing.guess_columns(headers, kind)
    assert sorted(mapping) == list(range(len(headers)))  # every column recognised
    assert list(mapping.values()) == template_fields(kind)
    assert set(parsing.REQUIRED_FIELDS[kind]) <= set(mapping.values())
    # A pick list on every column that takes a choice, and only there.
    picked = {
        parsing.normalize_header(headers[openpyxl.utils.column_index_from_string(ref[0]) - 1])
        for rule in data.data_validations.dataValidation
        for ref in [str(rule.sqref).split(":")[0].rstrip("0123456789")]
    }
    expected = {
        parsing.normalize_header(headers[i])
        for i, name in enumerate(template_fields(kind))
        if name in CHOICES
    }
    assert picked == expected
    assert book["选项"].sheet_state == "hidden"
    notes = [row for row in book.worksheets[2].iter_rows(values_only=True) if row and row[0]]
    assert notes[0] == ("列名", "必填", "填写要求")
    assert {row[0] for row in notes[1 : len(headers) + 1]} == set(headers)


def _filled(client, kind: str, rows: list[list]) -> bytes:
    _response, book = _download(client, kind)
    sheet = book.worksheets[0]
    headers = [parsing.normalize_header(cell.value) for cell in sheet[1]]
    for values in rows:
        by_header = {parsing.normalize_header(k): v for k, v in values}
        sheet.append([by_header.get(header) for header in headers])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(client, kind: str, data: bytes) -> ImportBatch:
    response = client.post(
        "/imports/new/", {"kind": kind, "file": SimpleUploadedFile("模板.xlsx", data)}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    batch = ImportBatch.objects.latest("pk")
    run_import(batch.pk)  # the dry run, as the worker runs it
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CHECKED, batch.status
    assert not batch.rows.filter(action=RowAction.ERROR).exists(), list(
        batch.rows.values_list("errors", flat=True)
    )
    client.post(f"/imports/{batch.pk}/confirm/")
    run_import(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMMITTED
    return batch


def test_a_filled_in_lead_template_imports(bureau, client):
    client.force_login(bureau.shanghai_officer)
    data = _filled(
        client,
        ImportKind.LEADS,
        [
            [
                ("项目名称", "储能电池模组项目"),
                ("投资方", "沪江储能科技有限公司"),
                ("行业", "新能源"),
                ("总投资", 56000),
                ("信息来源", "驻点招商"),
                ("产业链定位", "补链"),
                ("首次接触日期", "2026-03-18"),
            ]
        ],
    )
    _import(client, ImportKind.LEADS, data)
    lead = Lead.objects.get(name="储能电池模组项目")
    assert (lead.industry, lead.chain_role, lead.source_channel) == (
        "new_energy",
        "fill",
        "stationed",
    )
    assert lead.estimated_amount == 56000 and lead.unit == bureau.shanghai


def test_a_filled_in_visit_template_imports_in_english_too(bureau, client):
    me = bureau.shanghai_officer
    lead = make_lead(me, investor=make_investor(me, name="苏州精密机械有限公司"))
    client.force_login(me)
    headers = {"HTTP_ACCEPT_LANGUAGE": "en"}
    _response, book = _download(client, ImportKind.VISITS, **headers)
    assert [c.value for c in book.worksheets[2][1]] == ["Column", "Required", "What to write"]
    data = _filled(
        client,
        ImportKind.VISITS,
        [
            [
                ("走访日期", "2026年3月18日"),
                ("走访类型", "实地考察"),
                ("投资方", "苏州精密机械有限公司"),
                ("项目名称", lead.name),
                ("城市", "苏州"),
                ("洽谈内容", "考察二期用地"),
            ]
        ],
    )
    client.defaults.update(headers)
    _import(client, ImportKind.VISITS, data)
    visit = Visit.objects.get(summary="考察二期用地")
    assert (visit.kind, visit.lead, visit.investor) == ("inspection", lead, lead.investor)


def test_a_filled_in_agreement_template_imports(bureau, client):
    """Issue #20: the agreement ledger (协议履约台账), one row per commitment; two rows of one
    agreement make one agreement."""
    me = bureau.shanghai_officer
    project = make_project(me, contract_date=today() - timedelta(days=90))
    client.force_login(me)
    _response, book = _download(client, ImportKind.AGREEMENT_TERMS)
    headers = [cell.value for cell in book.worksheets[0][1]]
    assert "承诺值(按承诺事项的单位)" in headers and "承诺事项*" in headers
    signed = (today() - timedelta(days=60)).isoformat()
    agreement = [
        ("项目名称", project.name),
        ("协议名称", "年产5万吨新材料项目投资协议"),
        ("协议类型", "主协议"),
        ("签订日期", signed),
        ("追回规则", "全额追回"),
    ]
    data = _filled(
        client,
        ImportKind.AGREEMENT_TERMS,
        [
            [*agreement, ("承诺事项", "年税收(万元)"), ("承诺值", 800), ("承诺期限", "2029-12-31")],
            [*agreement, ("承诺事项", "用地(亩)"), ("承诺值", 150), ("承诺期限", "2027-06-30")],
            [*agreement, ("承诺事项", "按期投产"), ("承诺期限", "2028-06-30")],
        ],
    )
    batch = _import(client, ImportKind.AGREEMENT_TERMS, data)
    page = client.get(f"/imports/{batch.pk}/?action=create").content.decode()
    assert f"{project.name} · 年产5万吨新材料项目投资协议" in page
    assert 'href="/agreements/"' in page
    made = Agreement.objects.get()
    assert (made.project, made.title, made.clawback_rule) == (
        project,
        "年产5万吨新材料项目投资协议",
        "full",
    )
    assert sorted(made.terms.values_list("metric", "target")) == [
        ("annual_tax", Decimal("800.00")),
        ("land", Decimal("150.00")),
        ("produce_by", Decimal("0.00")),
    ]


def test_the_upload_page_links_every_template(bureau, client):
    client.force_login(bureau.shanghai_officer)
    html = client.get("/imports/new/").content.decode()
    for kind in ImportKind.values:
        assert f'href="/imports/template/{kind}.xlsx"' in html


def test_an_unknown_kind_is_404_and_a_stranger_is_sent_to_sign_in(bureau, client):
    assert client.get("/imports/template/leads.xlsx").status_code == 302
    client.force_login(bureau.shanghai_officer)
    assert client.get("/imports/template/salaries.xlsx").status_code == 404
