"""The agreement ledger's export (协议履约台账): one row per commitment of the agreements the
list shows, statuses as the page computes them, the outsider's file empty, a large one a job."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from promo.imports.export_services import export_run
from promo.imports.models import ExportJob
from tests.agreements.test_agreement_pages import _agreement_in_state

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_the_export_lists_the_commitments_of_the_agreements_the_list_shows(bureau, client_for):
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    for state in ("keeping", "breached", "breached", "pending"):
        _agreement_in_state(officer, head, state)
    client = client_for(bureau.chief)
    page = client.get(reverse("agreements:list"), {"status": "breached"}).content.decode()
    assert reverse("imports:export", args=["agreement_terms", "csv"]) in page
    response = client.get(
        reverse("imports:export", args=["agreement_terms", "csv"]), {"status": "breached"}
    )
    assert response.status_code == 200
    header, *rows = rows_of(response)
    assert header[:3] == ["系统编号", "项目名称", "责任单位"]
    status = header.index("履约状态")
    assert len(rows) == 2 and {row[status] for row in rows} == {"部分履约"}
    everything = rows_of(client.get(reverse("imports:export", args=["agreement_terms", "csv"])))
    assert len(everything) - 1 == 4
    outsider = rows_of(
        client_for(bureau.outsider).get(reverse("imports:export", args=["agreement_terms", "csv"]))
    )
    assert outsider == [header]


def test_a_large_ledger_is_an_export_job_with_the_same_rows(bureau, client_for, settings):
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    for state in ("keeping", "breached", "owing"):
        _agreement_in_state(officer, head, state)
    settings.PROMO_EXPORT_SYNC_MAX_ROWS = 2
    client = client_for(bureau.chief)
    response = client.get(reverse("imports:export", args=["agreement_terms", "csv"]))
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.kind == "agreement_terms"
    export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.total_rows == 3
    body = job.file.read().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(body)))) == 4


def test_a_foreign_unit_in_the_query_is_404_not_a_file(bureau, client_for):
    response = client_for(bureau.shanghai_officer).get(
        reverse("imports:export", args=["agreement_terms", "csv"]), {"unit": bureau.shenzhen.pk}
    )
    assert response.status_code == 404
