"""Issue #18, finding 2: deliveries have a retry budget in time, not in attempts.

The robot is a real HTTP server on 127.0.0.1 (promo.devtools.drill.Robot); the beat
schedule and Celery's retries are walked on a frozen clock (promo.devtools.drill.BeatWalk);
the e-mail server is a closed port while it is "down".
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import translation

from officers.choices import Role
from projects.services import project_create
from promo.core.choices import Industry
from promo.devtools.drill import CLOSED_PORT, BeatWalk, Robot
from promo.reports.choices import DeliveryStatus, EscalationStep, SystemNoticeKind
from promo.reports.models import AlertNotice, SystemNotice, WebhookChannel, WebhookDelivery
from promo.reports.selectors import unread_notice_count
from promo.reports.services import (
    alert_notices_send_email,
    alert_webhooks_deliver,
    alerts_evaluate,
)
from tests.factories import make_investor, make_officer

TZ = ZoneInfo("Asia/Shanghai")
TEN = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)


@pytest.fixture
def robot():
    server = Robot()
    yield server
    server.close()


def light(bureau, django_settings):
    """A signed-but-not-started project of the Shanghai officer: a red light, notified."""
    django_settings.PROMO_ALERT_VALID_LEAD_DAY = 32
    bureau.shanghai_officer.email = "zhang@promo.test"
    bureau.shanghai_officer.save(update_fields=["email"])
    with time_machine.travel(TEN - timedelta(minutes=30), tick=False):
        project_create(
            actor=bureau.shanghai_officer,
            investor=make_investor(bureau.shanghai_officer),
            name="新能源电池项目",
            industry=Industry.ELECTRONICS,
            contract_date=date(2026, 8, 1),
            total_investment=500,
        )
        alerts_evaluate(on=date(2026, 11, 25))


def robot_channel(robot, created=TEN - timedelta(days=1)):
    with time_machine.travel(created, tick=False):
        return WebhookChannel.objects.create(
            name="招商群", url=robot.url, min_step=EscalationStep.OFFICER
        )


def walk(start, end, **faults):
    with time_machine.travel(start, tick=False) as traveller:
        beat = BeatWalk(traveller, schedule=settings.CELERY_BEAT_SCHEDULE, **faults)
        beat.walk(start, end)
    return beat


@pytest.mark.django_db
def test_a_robot_down_for_20_minutes_gets_the_message_once_after_it_is_back(
    bureau, settings, robot
):
    robot_channel(robot)
    light(bureau, settings)
    robot.down = True
    walk(TEN, TEN + timedelta(minutes=20))
    attempts_while_down = len(robot.requests)
    robot.down = False
    walk(TEN + timedelta(minutes=21), TEN + timedelta(minutes=90))

    assert robot.delivered == 1
    assert len(robot.requests) == attempts_while_down + 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered_at is not None
    # Backoff: far fewer tries than minutes down, and never two within a minute.
    assert 2 <= attempts_while_down <= 6


@pytest.mark.django_db(transaction=True)
def test_no_copy_is_sent_while_an_earlier_attempt_may_still_be_in_flight(
    bureau, settings, robot, monkeypatch
):
    # The robot takes 2 s to answer 500; the sender waits 0.5 s, then counts it failed. A
    # second sweep right after must not post again while the first post is still open.
    settings.PROMO_WEBHOOK_TIMEOUT_SECONDS = 0.5
    robot_channel(robot)
    light(bureau, settings)
    robot.down, robot.delay = True, 2.0
    assert alert_webhooks_deliver()[0] == 0
    alert_webhooks_deliver()
    alert_webhooks_deliver()
    robot.delay = 0
    assert robot.max_in_flight == 1
    assert WebhookDelivery.objects.get().attempts == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_one_copy(bureau, settings, robot):
    robot_channel(robot)
    light(bureau, settings)
    robot.delay = 0.5  # slow enough that both sweeps are inside their send at once
    start = threading.Barrier(2)
    results: list[tuple[int, int]] = []

    def sweep():
        try:
            start.wait()
            results.append(alert_webhooks_deliver())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sent for sent, _failed in results) == [0, 1]
    assert robot.delivered == 1 and len(robot.requests) == 1


@pytest.mark.django_db
def test_an_e_mail_server_down_for_20_minutes_sends_each_notice_once_after_it_is_back(
    bureau, settings, mailoutbox
):
    light(bureau, settings)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        "127.0.0.1",
        CLOSED_PORT,
        False,
    )
    walk(TEN, TEN + timedelta(minutes=20))
    notice = AlertNotice.objects.get(recipient=bureau.shanghai_officer)
    attempts_while_down = notice.email_attempts
    assert notice.emailed_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    walk(TEN + timedelta(minutes=21), TEN + timedelta(minutes=90))
    notice.refresh_from_db()
    assert notice.emailed_at is not None
    assert [m.to for m in mailoutbox] == [["zhang@promo.test"]]
    assert 2 <= attempts_while_down <= 6


def sweep_every(minutes, start, end, deliver):
    """Run ``deliver`` every ``minutes`` on a frozen clock from ``start`` to ``end``."""
    with time_machine.travel(start, tick=False) as traveller:
        at = start
        while at <= end:
            traveller.move_to(at)
            deliver()
            at += timedelta(minutes=minutes)


def officer_page(officer, path="/reports/notices/"):
    client = Client()
    client.force_login(officer)
    return client.get(path).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("owned", [True, False])
def test_a_robot_down_past_the_horizon_is_given_up_and_its_owner_told_in_the_bell(
    bureau, settings, robot, owned
):
    admin = make_officer(bureau.bureau, role=Role.ADMIN, username="sysadmin")
    channel = robot_channel(robot)
    if owned:
        channel.owner = bureau.shanghai_head
        channel.save(update_fields=["owner"])
    told = bureau.shanghai_head if owned else admin
    light(bureau, settings)
    robot.down = True
    sweep_every(5, TEN, TEN + timedelta(hours=26), alert_webhooks_deliver)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.delivered_at is None
    assert delivery.first_attempt_at == TEN
    assert TEN + timedelta(hours=22) <= delivery.failed_at <= TEN + timedelta(hours=24)
    # A budget in time: tried about hourly once the backoff reached its ceiling.
    assert 20 <= delivery.attempts == len(robot.requests) <= 40
    assert "500" in delivery.last_error
    [notice] = SystemNotice.objects.all()
    assert (notice.recipient, notice.kind, notice.channel) == (
        told,
        SystemNoticeKind.WEBHOOK_FAILED,
        channel,
    )
    assert unread_notice_count(told) == 1
    page = officer_page(told)
    assert "发往消息推送渠道“招商群”的推送在重试期限内未能送达，已放弃（1 条）" in page
    assert "HTTP Error 500" in page
    # Given up is final: the robot back, nothing is sent any more.
    robot.down = False
    sweep_every(5, TEN + timedelta(hours=27), TEN + timedelta(hours=28), alert_webhooks_deliver)
    assert robot.delivered == 0


@pytest.mark.django_db
def test_a_second_delivery_given_up_adds_to_the_unread_notice_and_reading_it_clears_the_bell(
    bureau, settings, robot
):
    settings.PROMO_RETRY_HORIZON_HOURS = 0.05  # three minutes
    channel = robot_channel(robot)
    channel.owner = bureau.shanghai_head
    channel.save(update_fields=["owner"])
    light(bureau, settings)
    robot.down = True
    sweep_every(1, TEN, TEN + timedelta(minutes=10), alert_webhooks_deliver)
    with time_machine.travel(TEN + timedelta(minutes=10), tick=False):
        # The next step of the ladder (the unit head's) is forwarded too, and fails too.
        alerts_evaluate(on=date(2026, 11, 28))
    sweep_every(1, TEN + timedelta(minutes=11), TEN + timedelta(minutes=20), alert_webhooks_deliver)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).count() == 2
    [notice] = SystemNotice.objects.all()
    assert notice.count == 2
    client = Client()
    client.force_login(bureau.shanghai_head)
    unread = unread_notice_count(bureau.shanghai_head)  # with the head's own alert notice
    client.post(f"/reports/system-notices/{notice.pk}/read/")
    assert unread_notice_count(bureau.shanghai_head) == unread - 1
    assert client.post(f"/reports/system-notices/{notice.pk}/read/").status_code == 302
    other = Client()
    other.force_login(bureau.shanghai_officer)
    assert other.post(f"/reports/system-notices/{notice.pk}/read/").status_code == 404


@pytest.mark.django_db
def test_an_e_mail_that_cannot_be_sent_within_the_horizon_is_given_up_and_its_recipient_told(
    bureau, settings, mailoutbox
):
    settings.PROMO_RETRY_HORIZON_HOURS = 0.25  # fifteen minutes
    light(bureau, settings)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        "127.0.0.1",
        CLOSED_PORT,
        False,
    )
    sweep_every(1, TEN, TEN + timedelta(minutes=30), alert_notices_send_email)
    notice = AlertNotice.objects.get(recipient=bureau.shanghai_officer)
    assert notice.email_status == DeliveryStatus.FAILED and notice.emailed_at is None
    assert notice.email_failed_at <= TEN + timedelta(minutes=15)
    assert "refused" in notice.email_last_error.lower()
    [told] = SystemNotice.objects.all()
    assert (told.recipient, told.kind, told.address) == (
        bureau.shanghai_officer,
        SystemNoticeKind.EMAIL_FAILED,
        "zhang@promo.test",
    )
    page = officer_page(bureau.shanghai_officer)
    assert "发往 zhang@promo.test 的督办通知邮件在重试期限内未能发送，已放弃（1 封）" in page
    with translation.override("en"):
        client = Client()
        client.force_login(bureau.shanghai_officer)
        client.cookies["django_language"] = "en"
        english = client.get("/reports/notices/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "could not be sent to zhang@promo.test" in english


@pytest.mark.django_db
def test_a_delivery_leased_by_a_sender_that_died_is_sent_once_the_lease_lapses(
    bureau, settings, robot
):
    robot_channel(robot)
    light(bureau, settings)
    with time_machine.travel(TEN, tick=False) as traveller:
        alert_webhooks_deliver()  # queues and sends the delivery…
        WebhookDelivery.objects.update(  # …as if another sender had taken it and died
            status=DeliveryStatus.PENDING,
            delivered_at=None,
            lease_until=TEN + timedelta(seconds=settings.PROMO_DELIVERY_LEASE_SECONDS),
        )
        robot.requests.clear()
        traveller.shift(60)
        assert alert_webhooks_deliver() == (0, 0)
        assert robot.requests == []
        traveller.shift(settings.PROMO_DELIVERY_LEASE_SECONDS)
        assert alert_webhooks_deliver() == (1, 0)
    assert robot.delivered == 1
    assert WebhookDelivery.objects.get().attempts == 2
