"""Exports as jobs (导出任务): a list above PROMO_EXPORT_SYNC_MAX_ROWS is written by the worker.

The request only records the job and redirects to its page; the task (called here as the
worker calls it) applies the requester's visibility and filters, writes the file, tells the
requester in the bell; only the requester downloads it; its history is the audit trail; the
nightly prune deletes old files. Small exports still download at once.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pghistory.models
import pytest
from django.conf import settings as django_settings
from django.utils import timezone, translation

from leads.choices import LeadStatus
from promo.imports.choices import ExportStatus
from promo.imports.export_services import export_files_prune, export_resume_waiting
from promo.imports.models import ExportJob, ExportJobEvent
from promo.imports.tasks import run_export
from promo.reports.choices import SystemNoticeKind
from promo.reports.models import SystemNotice
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_threshold(settings, tmp_path):
    # Three rows are "large" here; files go to a temporary MEDIA_ROOT.
    settings.PROMO_EXPORT_SYNC_MAX_ROWS = 2
    settings.MEDIA_ROOT = tmp_path
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture
def leads(bureau):
    me = bureau.shanghai_officer
    mine = [
        make_lead(me, name="上海甲项目", amount=1200),
        make_lead(me, name="上海乙项目", status=LeadStatus.VALID),
        make_lead(me, name="上海丙项目"),
    ]
    make_lead(bureau.outsider, name="深圳项目")  # not the requester's to see
    return mine


def sheet(body: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def ask(client, officer, path: str, **extra):
    client.force_login(officer)
    response = client.get(path, **extra)
    assert response.status_code == 302, response.status_code
    job = ExportJob.objects.get()
    assert response["Location"] == f"/imports/exports/{job.pk}/"
    return job


def test_a_large_export_is_a_job_not_a_download_and_the_worker_writes_what_the_requester_sees(
    client, bureau, leads
):
    me = bureau.shanghai_officer
    job = ask(client, me, "/imports/export/leads.xlsx")
    # Nothing was written in the request: the job waits for the worker.
    assert (job.status, job.requester, job.kind, job.fmt, bool(job.file)) == (
        ExportStatus.QUEUED,
        me,
        "leads",
        "xlsx",
        False,
    )
    page = client.get(f"/imports/exports/{job.pk}/")
    assert page.status_code == 200 and "排队中" in page.content.decode()
    assert client.get(f"/imports/exports/{job.pk}/download/").status_code == 404

    assert run_export(job.pk) == ExportStatus.DONE
    job.refresh_from_db()
    assert (job.total_rows, job.done_rows, job.percent) == (3, 3, 100)
    assert job.file.name.startswith("exports/") and len(job.file.name.split("/")[1]) >= 32
    progress = client.get(f"/imports/exports/{job.pk}/progress/").json()
    assert progress["status"] == "done" and progress["download"].endswith("/download/")

    response = client.get(f"/imports/exports/{job.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = sheet(response.getvalue())
    assert rows[0][:4] == ["系统编号", "外部编号", "项目名称", "投资方"]
    assert sorted(r[2] for r in rows[1:]) == ["上海丙项目", "上海乙项目", "上海甲项目"]
    assert {r[0] for r in rows[1:]} == {lead.pk for lead in leads}
    amounts = {r[2]: r[6] for r in rows[1:]}
    assert amounts["上海甲项目"] == 1200 and isinstance(amounts["上海甲项目"], int)
    # A second run (a re-delivered message) finds the job done and writes nothing more.
    assert run_export(job.pk) == ExportStatus.DONE


def test_the_job_keeps_the_page_filters_and_a_second_click_is_the_same_job(client, bureau, leads):
    me = bureau.shanghai_officer
    make_lead(me, name="上海丁项目", status=LeadStatus.VALID)
    make_lead(me, name="上海戊项目", status=LeadStatus.VALID)
    job = ask(client, me, "/imports/export/leads.csv?status=valid")
    assert job.filters == {"status": ["valid"]}
    again = client.get("/imports/export/leads.csv?status=valid")
    assert again["Location"] == f"/imports/exports/{job.pk}/"
    assert ExportJob.objects.count() == 1
    run_export(job.pk)
    body = client.get(f"/imports/exports/{job.pk}/download/").getvalue()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted(r[2] for r in rows[1:]) == ["上海丁项目", "上海乙项目", "上海戊项目"]


@pytest.mark.parametrize(
    "language,status,industry",
    [("zh-hans", "信息", "电子信息"), ("en", "New", "Electronics and IT")],
)
def test_choice_labels_are_written_in_the_requesters_language(
    client, bureau, leads, language, status, industry
):
    job = ask(
        client, bureau.shanghai_officer, "/imports/export/leads.xlsx", HTTP_ACCEPT_LANGUAGE=language
    )
    translation.activate(django_settings.LANGUAGE_CODE)  # the worker's own language
    assert job.language == language
    run_export(job.pk)
    rows = sheet(client.get(f"/imports/exports/{ExportJob.objects.get().pk}/download/").getvalue())
    by_name = {r[2]: r for r in rows[1:]}
    assert by_name["上海甲项目"][10] == status
    assert by_name["上海甲项目"][5] == industry
    # The headers stay the ledger's Chinese words (an exported file imports again).
    assert rows[0][10] == "状态"


def test_an_outsider_gets_404_for_the_job_its_progress_and_its_file_and_nothing_changes(
    client, bureau, leads
):
    job = ask(client, bureau.shanghai_officer, "/imports/export/leads.xlsx")
    run_export(job.pk)
    job.refresh_from_db()
    events = ExportJobEvent.objects.count()
    for outsider in (bureau.outsider, bureau.teammate, bureau.chief):
        client.force_login(outsider)
        for path in ("", "progress/", "download/"):
            assert client.get(f"/imports/exports/{job.pk}/{path}").status_code == 404
        assert f"/imports/exports/{job.pk}/" not in client.get("/imports/exports/").content.decode()
    after = ExportJob.objects.get(pk=job.pk)
    assert (after.status, after.file.name, after.finished_at) == (
        job.status,
        job.file.name,
        job.finished_at,
    )
    assert ExportJobEvent.objects.count() == events


def test_the_export_is_in_the_audit_trail_and_the_requester_is_told(
    client, bureau, leads, django_capture_on_commit_callbacks
):
    me = bureau.shanghai_officer
    make_lead(me, name="上海丁项目")
    job = ask(client, me, "/imports/export/leads.csv?status=information")
    # The notice is raised once the job's row says done (after commit).
    with django_capture_on_commit_callbacks(execute=True):
        run_export(job.pk)
    events = list(pghistory.models.Events.objects.tracks(job).order_by("pgh_created_at", "pgh_id"))
    statuses = [e.pgh_data["status"] for e in events]
    # Asked, claimed by the worker (then its row count known), written.
    assert [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s] == [
        "queued",
        "running",
        "done",
    ]
    assert events[-1].pgh_data["total_rows"] == 3
    assert all(e.pgh_context["user"] == me.pk for e in events), [e.pgh_context for e in events]
    assert events[0].pgh_context["why"] == "export_request"
    assert events[0].pgh_data["filters"] == {"status": ["information"]}
    assert events[-1].pgh_context["why"] == f"export:{job.pk}:leads.csv"
    notice = SystemNotice.objects.get(recipient=me)
    assert notice.kind == SystemNoticeKind.EXPORT_READY
    page = client.get("/reports/notices/").content.decode()
    assert "/imports/exports/" in page and "导出文件已生成" in page


def test_small_exports_still_download_at_once_and_record_no_job(client, bureau, settings):
    settings.PROMO_EXPORT_SYNC_MAX_ROWS = 5000
    me = bureau.shanghai_officer
    make_lead(me, name="上海甲项目")
    client.force_login(me)
    xlsx = client.get("/imports/export/leads.xlsx")
    assert xlsx.status_code == 200
    assert [r[2] for r in sheet(xlsx.getvalue())[1:]] == ["上海甲项目"]
    text = client.get("/imports/export/leads.csv").getvalue().decode("utf-8-sig")
    assert [r[2] for r in csv.reader(io.StringIO(text))][1:] == ["上海甲项目"]
    assert not ExportJob.objects.exists()


def test_queued_jobs_are_sent_again_and_a_silent_worker_fails_the_job(client, bureau, leads):
    job = ask(client, bureau.shanghai_officer, "/imports/export/leads.xlsx")
    assert export_resume_waiting(older_than_seconds=60) == []
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert export_resume_waiting(older_than_seconds=60) == [job.pk]
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert export_resume_waiting(older_than_seconds=60) == []
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and job.error


def test_the_nightly_prune_deletes_old_files_and_keeps_the_job(client, bureau, leads, settings):
    job = ask(client, bureau.shanghai_officer, "/imports/export/leads.xlsx")
    run_export(job.pk)
    job.refresh_from_db()
    path = job.file.path
    assert export_files_prune() == 0
    ExportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.PROMO_EXPORT_RETENTION_DAYS + 1)
    )
    assert export_files_prune() == 1
    job.refresh_from_db()
    assert not job.file and job.file_pruned_at is not None
    import os

    assert not os.path.exists(path)
    assert client.get(f"/imports/exports/{job.pk}/download/").status_code == 404
    assert "prune-export-files" in django_settings.CELERY_BEAT_SCHEDULE
    assert "resume-waiting-exports" in django_settings.CELERY_BEAT_SCHEDULE
