"""Alert e-mails and webhook posts are sent with no transaction open and no row locked: a
slow SMTP server or robot holds nothing up, and a lease keeps two runs from sending twice."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction

from projects.services import project_create
from promo.core.choices import Industry
from promo.reports import services
from promo.reports.choices import EscalationStep
from promo.reports.models import AlertNotice, WebhookChannel, WebhookDelivery
from promo.reports.services import alert_notices_send_email, alert_webhooks_deliver, alerts_evaluate
from tests.factories import make_investor

# Real commits: inside a test transaction every send would look "in a transaction".
pytestmark = pytest.mark.django_db(transaction=True)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def lit(bureau, settings):
    return light(bureau, settings)


def light(bureau, settings):
    """A signed-but-not-started project of the Shanghai officer: a red light, notified."""
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32
    bureau.shanghai_officer.email = "zhang@promo.test"
    bureau.shanghai_officer.save(update_fields=["email"])
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=TZ), tick=False):
        project_create(
            actor=bureau.shanghai_officer,
            investor=make_investor(bureau.shanghai_officer),
            name="新能源电池项目",
            industry=Industry.ELECTRONICS,
            contract_date=date(2026, 8, 1),
            total_investment=500,
        )
        alerts_evaluate(on=date(2026, 11, 25))
    return bureau


def _lockable_from_another_connection(model, pk) -> bool:
    """Can another session lock the row right now (NOWAIT), i.e. is nobody holding it?"""
    answer: list[bool] = []

    def probe():
        try:
            with transaction.atomic():
                model.objects.select_for_update(nowait=True).get(pk=pk)
            answer.append(True)
        except Exception:
            answer.append(False)
        finally:
            connections.close_all()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return answer == [True]


def test_an_alert_e_mail_is_sent_outside_any_transaction_and_row_lock(lit, monkeypatch):
    notice = AlertNotice.objects.get(recipient=lit.shanghai_officer)
    seen: list[tuple[bool, bool]] = []

    def observing_send(subject, body, sender, recipients):
        seen.append(
            (connection.in_atomic_block, _lockable_from_another_connection(AlertNotice, notice.pk))
        )

    monkeypatch.setattr(services, "send_mail", observing_send)
    assert alert_notices_send_email() == (1, 0)
    assert seen == [(False, True)]
    notice.refresh_from_db()
    assert notice.emailed_at is not None
    assert (notice.email_attempts, notice.email_lease_until) == (1, None)


def test_a_webhook_is_posted_outside_any_transaction_and_row_lock(bureau, settings, monkeypatch):
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=TZ), tick=False):
        WebhookChannel.objects.create(
            name="招商群", url="https://robot.promo.test/ok", min_step=EscalationStep.OFFICER
        )
    light(bureau, settings)
    seen: list[tuple[bool, bool]] = []

    def observing_post(url, body):
        delivery = WebhookDelivery.objects.get()
        seen.append(
            (
                connection.in_atomic_block,
                _lockable_from_another_connection(WebhookDelivery, delivery.pk),
            )
        )

    monkeypatch.setattr(services, "_post", observing_post)
    assert alert_webhooks_deliver() == (1, 0)
    assert seen == [(False, True)]
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered_at is not None
    assert (delivery.attempts, delivery.lease_until) == (1, None)


def test_a_notice_leased_by_another_sender_is_not_sent_twice_until_the_lease_lapses(
    lit, mailoutbox
):
    notice = AlertNotice.objects.get(recipient=lit.shanghai_officer)
    # Another run leased it and is sending right now.
    AlertNotice.objects.filter(pk=notice.pk).update(
        email_lease_until=services.timezone.now() + timedelta(minutes=5), email_attempts=1
    )
    assert alert_notices_send_email() == (0, 0)
    assert mailoutbox == []
    # That run died mid-send: once its lease lapses, the next run sends the notice.
    AlertNotice.objects.filter(pk=notice.pk).update(
        email_lease_until=services.timezone.now() - timedelta(seconds=1)
    )
    assert alert_notices_send_email() == (1, 0)
    assert len(mailoutbox) == 1
    notice.refresh_from_db()
    assert notice.email_attempts == 2
