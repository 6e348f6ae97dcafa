"""The audit administrator's page: only they read it; filters, paging, XLSX and CSV exports
with formulas neutralised; reading and exporting are themselves recorded; queries pinned."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from officers.choices import Role
from promo.audit.models import AuditEntry
from promo.audit.services import audit_verify, record
from tests.factories import make_officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(bureau):
    return make_officer(bureau.bureau, role=Role.AUDIT_ADMIN, username="auditor")


def entries(n: int, **fields) -> None:
    for i in range(n):
        record(action=fields.get("action", "sign_in"), username=fields.get("username", f"u{i}"),
               outcome=fields.get("outcome", "success"), address="10.0.0.1")  # fmt: skip


@pytest.mark.parametrize("persona", ["chief", "shanghai_head", "shanghai_officer"])
def test_nobody_but_the_audit_administrator_reads_the_trail(bureau, client_for, persona):
    client = client_for(getattr(bureau, persona))
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert not AuditEntry.objects.filter(action__in=["audit_read", "audit_export"]).exists()


def test_the_list_filters_by_action_outcome_and_actor_and_its_reading_is_recorded(
    bureau, client_for, auditor
):
    entries(3, action="sign_in_failed", outcome="failed", username="sh_officer")
    entries(2, action="sign_in", username="chief")
    client = client_for(auditor)
    response = client.get("/audit/?action=sign_in_failed&outcome=failed&actor=SH_OFFICER")
    assert response.status_code == 200
    shown = response.content.decode().count("data-entry=")
    assert shown == 3
    read = AuditEntry.objects.filter(action="audit_read").get()
    assert read.actor_id == auditor.pk
    assert read.details["filters"] == {
        "action": ["sign_in_failed"],
        "outcome": ["failed"],
        "actor": ["SH_OFFICER"],
    }
    assert audit_verify() == AuditEntry.objects.count()


def test_the_list_pages_by_cursor(bureau, client_for, auditor):
    entries(60, action="api_call")
    client = client_for(auditor)
    first = client.get("/audit/?action=api_call")
    assert first.content.decode().count("data-entry=") == 50
    assert "after=" in first.content.decode()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_reads_the_same_number_of_queries_for_2_and_20_rows(bureau, client_for, auditor):
    client = client_for(auditor)
    client.get("/audit/")  # the session's first page (its sign-in touches) is not counted
    entries(2, action="export")
    two = _queries(client, "/audit/?action=export")
    entries(18, action="export")
    twenty = _queries(client, "/audit/?action=export")
    assert two == twenty
    assert twenty <= 12


def test_the_exports_neutralise_formulas_and_are_recorded(bureau, client_for, auditor):
    record(action="sign_in_failed", username='=HYPERLINK("http://x")', outcome="failed")
    client = client_for(auditor)
    response = client.get("/audit/export.csv?action=sign_in_failed")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body
    response = client.get("/audit/export.xlsx?action=sign_in_failed")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    cell = next(c for c in sheet.iter_rows() for c in c if c.value == '=HYPERLINK("http://x")')
    assert cell.data_type == "s"  # text, not a live formula
    assert '=HYPERLINK("http://x")' in cells
    exported = AuditEntry.objects.filter(action="audit_export").order_by("id")
    assert [e.details["format"] for e in exported] == ["csv", "xlsx"]
    assert exported[0].details["rows"] == 1
    assert exported[0].details["filters"] == {"action": ["sign_in_failed"]}
