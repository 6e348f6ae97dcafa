"""The nightly prune jobs: each deletes, in bounded batches, what outlived its retention and
keeps what is young (and what a running lifecycle still needs); the trails are never pruned."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from promo import celery as promo_celery
from promo.accounts.tasks import prune_expired_sessions
from promo.api.models import IdempotencyRecord
from promo.api.tasks import prune_idempotency_records
from promo.core.errors import RuleViolation
from promo.core.models import FormSubmission
from promo.core.prune import delete_in_batches
from promo.imports.choices import BatchStatus, ImportKind
from promo.imports.models import ImportBatch, ImportRow
from promo.imports.services import batch_recheck, batch_upload
from promo.imports.tasks import prune_export_files, prune_import_files
from promo.operations.tasks import prune_form_submission_keys
from promo.reports.choices import AlertLevel, AlertRule, EscalationStep
from promo.reports.models import Alert, AlertNotice, WebhookChannel, WebhookDelivery
from promo.reports.tasks import prune_alert_deliveries, prune_read_notices
from tests.imports.files import xlsx

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _age(model, pk, field: str, days: float) -> None:
    model.objects.filter(pk=pk).update(**{field: timezone.now() - days * DAY})


# --- idempotency records ---------------------------------------------------------------


def _record(officer, key: str) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        officer=officer, key=key, fingerprint="0" * 64, status_code=201, response_body={}
    )


def test_idempotency_records_older_than_their_ttl_are_pruned_young_ones_kept(bureau, settings):
    settings.PROMO_IDEMPOTENCY_TTL_HOURS = 24
    old, young = _record(bureau.chief, "old"), _record(bureau.chief, "young")
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    IdempotencyRecord.objects.filter(pk=young.pk).update(
        created_at=timezone.now() - timedelta(hours=23)
    )
    assert prune_idempotency_records.run() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]


# --- form submission keys ------------------------------------------------------------------


def test_form_submission_keys_older_than_their_retention_are_pruned(bureau, settings):
    settings.PROMO_FORM_SUBMISSION_DAYS = 7
    old, young = (
        FormSubmission.objects.create(officer=bureau.chief, key=uuid.uuid4(), url="/")
        for _ in range(2)
    )
    _age(FormSubmission, old.pk, "created_at", 7.5)
    _age(FormSubmission, young.pk, "created_at", 6.5)
    assert prune_form_submission_keys.run() == 1
    assert list(FormSubmission.objects.values_list("pk", flat=True)) == [young.pk]


# --- sessions ----------------------------------------------------------------------------


def _session(expires_in: timedelta) -> str:
    store = SessionStore()
    store["who"] = "x"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return store.session_key


def test_expired_sessions_are_pruned_live_ones_kept(db):
    expired, live = _session(-timedelta(minutes=1)), _session(timedelta(minutes=30))
    assert prune_expired_sessions.run() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    assert expired != live


def test_a_sign_in_whose_session_expired_is_ended_and_old_ones_deleted(bureau, settings):
    from officers.models import OfficerSession
    from officers.services import officer_session_record

    settings.PROMO_SESSION_LOG_RETENTION_DAYS = 180
    me = bureau.shanghai_officer
    rows = {}
    for name, expires_in in (("expired", -timedelta(hours=2)), ("live", timedelta(hours=2))):
        key = _session(expires_in)
        rows[name] = officer_session_record(
            officer=me, session_key=key, ip="203.0.113.7", user_agent="phone"
        )
    gone = officer_session_record(officer=me, session_key="x" * 32, ip="", user_agent="")
    old = OfficerSession.objects.create(
        officer=me, session_key="y" * 32, ended_at=timezone.now() - 181 * DAY, ended_why="cap"
    )
    young = OfficerSession.objects.create(
        officer=me, session_key="z" * 32, ended_at=timezone.now() - 179 * DAY, ended_why="cap"
    )

    assert prune_expired_sessions.run() == 2  # the expired session and the old sign-in row

    expired = OfficerSession.objects.get(pk=rows["expired"].pk)
    assert expired.ended_why == "expired"
    # Ended when its session expired, not when the prune ran.
    assert abs(expired.ended_at - (timezone.now() - timedelta(hours=2))) < timedelta(minutes=5)
    assert OfficerSession.objects.get(pk=gone.pk).ended_why == "expired"
    assert OfficerSession.objects.get(pk=rows["live"].pk).ended_at is None
    assert not OfficerSession.objects.filter(pk=old.pk).exists()
    assert OfficerSession.objects.filter(pk=young.pk).exists()
    assert prune_expired_sessions.run() == 0  # nothing left to do


def test_the_session_log_retention_cannot_be_zero():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "promo.settings",
            "PROMO_SESSION_LOG_RETENTION_DAYS": "0",
        },
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "PROMO_SESSION_LOG_RETENTION_DAYS must be at least 1" in done.stderr


# --- import files ------------------------------------------------------------------------

ROWS = [["项目名称", "投资方", "总投资(万元)"], ["第1号产业园", "第1号精密机械有限公司", 1001]]


def _batch(actor, status: str, days: float) -> ImportBatch:
    batch = batch_upload(actor=actor, data=xlsx(ROWS), file_name="台账.xlsx", kind=ImportKind.LEADS)
    ImportBatch.objects.filter(pk=batch.pk).update(status=status)
    _age(ImportBatch, batch.pk, "created_at", days)
    return batch


def test_old_import_files_are_deleted_and_their_batches_and_rows_kept(bureau, settings):
    settings.PROMO_IMPORT_FILE_RETENTION_DAYS = 90
    me = bureau.shanghai_officer
    old = _batch(me, BatchStatus.REFUSED, 91)
    ImportRow.objects.create(batch=old, row_number=2, action="create", values={"name": "x"})
    young = _batch(me, BatchStatus.REFUSED, 89)
    waiting = _batch(me, BatchStatus.QUEUED, 91)  # still to be checked: its file is needed
    size = old.size

    assert prune_import_files.run() == 1
    assert prune_import_files.run() == 0  # already cleared: not touched again

    old.refresh_from_db()
    assert bytes(old.content) == b"" and old.file_pruned_at is not None
    assert (old.size, old.status, old.rows.count()) == (size, BatchStatus.REFUSED, 1)
    for kept in (young, waiting):
        kept.refresh_from_db()
        assert bytes(kept.content) != b"" and kept.file_pruned_at is None


def test_a_batch_whose_file_was_deleted_cannot_be_checked_again(bureau):
    me = bureau.shanghai_officer
    old = _batch(me, BatchStatus.FAILED, 400)
    prune_import_files.run()
    before = ImportBatch.objects.count()
    with pytest.raises(RuleViolation):
        batch_recheck(batch=ImportBatch.objects.get(pk=old.pk), actor=me)
    assert ImportBatch.objects.count() == before


# --- alert deliveries and notices --------------------------------------------------------


def _alert(bureau, key: str, *, resolved_days_ago: int | None = None, acknowledged=False):
    today = timezone.localdate()
    return Alert.objects.create(
        rule=AlertRule.values[0],
        level=AlertLevel.values[0],
        subject_key=key,
        unit=bureau.shanghai,
        opened_on=today - 200 * DAY,
        last_seen_on=today,
        resolved_on=None if resolved_days_ago is None else today - resolved_days_ago * DAY,
        acknowledged_at=timezone.now() if acknowledged else None,
    )


def _notice(alert, recipient, *, read_days_ago: float | None = None) -> AlertNotice:
    notice = AlertNotice.objects.create(
        alert=alert, step=EscalationStep.OFFICER, recipient=recipient
    )
    if read_days_ago is not None:
        _age(AlertNotice, notice.pk, "read_at", read_days_ago)
    return notice


def test_old_webhook_deliveries_of_cleared_alerts_are_pruned_notices_kept(bureau, settings):
    settings.PROMO_DELIVERY_RETENTION_DAYS = 90
    me = bureau.shanghai_officer
    channel = WebhookChannel.objects.create(name="群", url="https://robot.promo.test/ok")
    cleared = _alert(bureau, "project:1", resolved_days_ago=10)
    still_open = _alert(bureau, "project:2")

    def delivery(alert, step, days):
        row = WebhookDelivery.objects.create(channel=channel, alert=alert, step=step, attempts=1)
        _age(WebhookDelivery, row.pk, "created_at", days)
        return row.pk

    def notice(alert, recipient, days):
        row = _notice(alert, recipient)
        _age(AlertNotice, row.pk, "created_at", days)
        return row.pk

    delivery(cleared, EscalationStep.OFFICER, 91)
    kept_deliveries = {
        delivery(cleared, EscalationStep.UNIT_HEAD, 89),  # young
        delivery(still_open, EscalationStep.OFFICER, 91),  # the next run would send it again
    }
    # Who was told, and when, stays with the alert until the notice is read (prune_read_notices).
    kept_notices = {notice(cleared, me, 91), notice(still_open, me, 91)}

    assert prune_alert_deliveries.run() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == kept_deliveries
    assert set(AlertNotice.objects.values_list("pk", flat=True)) == kept_notices
    assert Alert.objects.count() == 2  # the alerts themselves are the record: never pruned


def test_read_notices_of_alerts_off_the_ladder_are_pruned_after_their_retention(bureau, settings):
    settings.PROMO_READ_NOTICE_RETENTION_DAYS = 180
    me = bureau.shanghai_officer
    acknowledged = _alert(bureau, "project:1", acknowledged=True)
    cleared = _alert(bureau, "project:2", resolved_days_ago=1)
    on_the_ladder = _alert(bureau, "project:3")
    old_read = [_notice(a, me, read_days_ago=181) for a in (acknowledged, cleared)]
    kept = [
        _notice(on_the_ladder, me, read_days_ago=181),  # the ladder would raise it again
        _notice(acknowledged, bureau.shanghai_head, read_days_ago=179),  # young
        _notice(cleared, bureau.shanghai_head),  # unread
    ]
    assert prune_read_notices.run() == 2
    assert not AlertNotice.objects.filter(pk__in=[n.pk for n in old_read]).exists()
    assert set(AlertNotice.objects.values_list("pk", flat=True)) == {n.pk for n in kept}


# --- the bounded batches and the beat ----------------------------------------------------


def test_a_prune_deletes_in_bounded_batches_and_stops_after_max_batches(bureau):
    for i in range(7):
        _record(bureau.chief, f"k{i}")
    assert delete_in_batches(IdempotencyRecord.objects.all(), batch_size=2, max_batches=2) == 4
    assert IdempotencyRecord.objects.count() == 3
    assert delete_in_batches(IdempotencyRecord.objects.all(), batch_size=2, max_batches=9) == 3


def test_every_prune_task_is_on_the_beat_schedule():
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    for task in (
        prune_form_submission_keys,
        prune_idempotency_records,
        prune_expired_sessions,
        prune_import_files,
        prune_export_files,
        prune_alert_deliveries,
        prune_read_notices,
    ):
        assert task.name in scheduled
        assert task.name in promo_celery.app.tasks
