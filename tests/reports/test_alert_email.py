"""E-mail of alert notices: the unsent notices are an outbox; one failure never blocks the rest."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from projects.services import project_create
from promo.core.choices import Industry
from promo.reports import services, tasks
from promo.reports.models import AlertNotice
from promo.reports.services import alert_notices_send_email, alerts_evaluate
from tests.factories import make_investor

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def lit(bureau, settings):
    """Two signed-but-not-started projects, one each for Shanghai and Shenzhen, notified."""
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32
    for officer, email in ((bureau.shanghai_officer, "zhang@promo.test"), (bureau.outsider, "")):
        officer.email = email
        officer.save(update_fields=["email"])
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=TZ), tick=False):
        for officer in (bureau.shanghai_officer, bureau.outsider):
            project_create(
                actor=officer,
                investor=make_investor(officer),
                name=f"{officer.username}项目",
                industry=Industry.ELECTRONICS,
                contract_date=date(2026, 8, 1),
                total_investment=500,
            )
        alerts_evaluate(on=date(2026, 11, 1))
    return bureau


def test_new_notices_enqueue_the_delivery_after_commit(
    bureau, settings, django_capture_on_commit_callbacks
):
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=TZ), tick=False):
        project_create(
            actor=bureau.shanghai_officer,
            investor=make_investor(bureau.shanghai_officer),
            name="项目",
            industry=Industry.ELECTRONICS,
            contract_date=date(2026, 8, 1),
            total_investment=500,
        )
    with django_capture_on_commit_callbacks() as callbacks:
        alerts_evaluate(on=date(2026, 11, 1))
    assert [cb.__name__ for cb in callbacks] == ["_enqueue_notice_delivery"]
    with django_capture_on_commit_callbacks() as callbacks:
        alerts_evaluate(on=date(2026, 11, 2))  # nothing new: nothing enqueued
    assert callbacks == []


def test_outbox_is_sent_once_to_recipients_with_an_address(lit, mailoutbox):
    assert alert_notices_send_email() == (1, 0)
    assert alert_notices_send_email() == (0, 0)
    [message] = mailoutbox
    assert message.to == ["zhang@promo.test"]
    assert "红灯" in message.subject and "签约未开工" in message.subject
    sent = AlertNotice.objects.get(recipient=lit.shanghai_officer)
    assert sent.emailed_at is not None and sent.email_attempts == 1
    # The outsider has no address: the bell alone tells them.
    assert AlertNotice.objects.get(recipient=lit.outsider).emailed_at is None


def test_a_failed_e_mail_is_counted_retried_and_does_not_block_the_others(
    lit, mailoutbox, monkeypatch
):
    lit.outsider.email = "liu@promo.test"
    lit.outsider.save(update_fields=["email"])
    real_send = services.send_mail

    def flaky(subject, body, sender, recipients):
        if recipients == ["zhang@promo.test"]:
            raise OSError("SMTP server refused")
        return real_send(subject, body, sender, recipients)

    monkeypatch.setattr(services, "send_mail", flaky)
    assert alert_notices_send_email() == (1, 1)
    assert [m.to for m in mailoutbox] == [["liu@promo.test"]]
    failed = AlertNotice.objects.get(recipient=lit.shanghai_officer)
    assert (failed.emailed_at, failed.email_attempts) == (None, 1)
    assert failed.email_last_error == "SMTP server refused"
    # The task does not retry: the failed e-mail waits its backoff in the outbox.
    assert tasks.send_alert_emails.run() == {"sent": 0, "failed": 0}
    failed.refresh_from_db()
    assert failed.email_next_attempt_at > timezone.now()

    monkeypatch.setattr(services, "send_mail", real_send)
    with time_machine.travel(failed.email_next_attempt_at, tick=False):
        assert alert_notices_send_email() == (1, 0)
    assert sorted(m.to[0] for m in mailoutbox) == ["liu@promo.test", "zhang@promo.test"]
