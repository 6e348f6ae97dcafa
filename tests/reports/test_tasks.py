"""The scheduled jobs: declared in the beat schedule, thin, and reporting the period just ended."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from projects.services import progress_record
from promo.celery import app
from promo.reports import tasks
from promo.reports.choices import BulletinKind
from promo.reports.models import Bulletin, BulletinAmendment
from promo.reports.services import (
    NOTICE_DELIVERY_TASKS,
    bulletin_generate,
    bulletin_publish,
    recheck_published_bulletins,
)
from tests.reports.seed import START, TODAY, build_october

SHANGHAI_TZ = ZoneInfo("Asia/Shanghai")


def test_beat_schedule_runs_each_reports_task_and_the_tasks_exist():
    entries = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if name.startswith("reports-")
    }
    # The periodic work reconciles (docs/operations.md): one sweep makes what should exist
    # by now (bulletins, ten-day reports, the day's lights and amendment check), and the
    # outboxes are swept every minute. Nothing fires once and is lost.
    assert {entry["task"] for entry in entries.values()} == {
        "promo.reports.tasks.sweep",
        "promo.reports.tasks.send_alert_emails",
        "promo.reports.tasks.send_alert_webhooks",
    }
    for entry in entries.values():
        assert entry["task"] in app.tasks
        # A message older than its interval is dropped: the next run does the work.
        assert 0 < entry["options"]["expires"] <= 60 * settings.PROMO_SWEEP_MINUTES
    sweep = entries["reports-sweep"]["schedule"]
    assert sweep.minute == set(range(0, 60, settings.PROMO_SWEEP_MINUTES))
    assert sweep.hour == set(range(24)) and sweep.day_of_month == set(range(1, 32))
    for name in ("reports-send-alert-emails", "reports-send-alert-webhooks"):
        assert entries[name]["schedule"].minute == set(range(60))


def test_new_notices_are_delivered_by_tasks_that_exist_under_the_names_sent():
    # The services send the delivery tasks by name (tasks.py imports the services, not back).
    assert NOTICE_DELIVERY_TASKS == (tasks.send_alert_emails.name, tasks.send_alert_webhooks.name)
    for name in NOTICE_DELIVERY_TASKS:
        assert name in app.tasks


@pytest.mark.parametrize("task", [tasks.sweep, tasks.send_alert_emails, tasks.send_alert_webhooks])
def test_swept_tasks_ack_late_and_leave_retrying_to_their_next_run(task):
    assert task.acks_late is True
    assert not getattr(task, "autoretry_for", ())


@pytest.mark.parametrize(
    "task",
    [
        tasks.generate_monthly_bulletin,
        tasks.generate_ten_day_report,
        tasks.check_bulletin_amendments,
        tasks.evaluate_alerts,
    ],
)
def test_on_demand_tasks_ack_late_and_retry_without_a_cap_on_attempts(task):
    # Retried by time (PROMO_RETRY_HORIZON_HOURS), not by count (tests/reports/test_sweep.py).
    assert task.acks_late is True
    assert task.max_retries is None


@pytest.mark.django_db
def test_jobs_run_on_the_first_report_the_month_and_the_ten_days_just_ended(bureau):
    with time_machine.travel(datetime(2026, 11, 1, 6, 0, tzinfo=SHANGHAI_TZ), tick=False):
        monthly = Bulletin.objects.get(pk=tasks.generate_monthly_bulletin.apply().get())
        ten_day = Bulletin.objects.get(pk=tasks.generate_ten_day_report.apply().get())
    assert (monthly.kind, monthly.period_start) == (BulletinKind.MONTHLY, date(2026, 10, 1))
    assert (ten_day.kind, ten_day.period_start) == (BulletinKind.TEN_DAY, date(2026, 10, 21))


@pytest.mark.django_db
def test_daily_check_records_a_late_correction_to_a_published_month_once(bureau):
    with time_machine.travel(TODAY, tick=False) as clock:
        october = build_october(bureau)
        bulletin_publish(
            bulletin=bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START),
            actor=bureau.chief,
        )
        clock.shift(3600)
        progress_record(
            project=october.l4_project,
            actor=bureau.shanghai_officer,
            month=date(2026, 10, 1),
            agreed_investment=12000,
            paid_in=100,
            fixed_asset_investment=50,
            arrived_fdi=45,
            note="更正到账外资",
        )
        assert tasks.check_bulletin_amendments.apply().get() == 2  # Shanghai line and total
        assert tasks.check_bulletin_amendments.apply().get() == 0
    assert BulletinAmendment.objects.count() == 2


@pytest.mark.django_db
def test_daily_alert_job_evaluates_for_today(bureau):
    with time_machine.travel(datetime(2026, 11, 20, 7, 0, tzinfo=SHANGHAI_TZ), tick=False):
        result = tasks.evaluate_alerts.apply().get()
    # The 20th: every unit but the bureau itself still owes November's valid lead.
    assert result == {"opened": 4, "cleared": 0, "notices": 4}


@pytest.mark.django_db
def test_a_month_that_cannot_be_rechecked_does_not_stop_the_others(bureau, caplog):
    with time_machine.travel(TODAY, tick=False) as clock:
        october = build_october(bureau)
        for start in (date(2026, 9, 1), START):
            bulletin_publish(
                bulletin=bulletin_generate(kind=BulletinKind.MONTHLY, period_start=start),
                actor=bureau.chief,
            )
        clock.shift(3600)
        progress_record(
            project=october.l4_project,
            actor=bureau.shanghai_officer,
            month=date(2026, 10, 1),
            agreed_investment=12000,
            paid_in=100,
            fixed_asset_investment=50,
            arrived_fdi=45,
        )
        # September's bulletin gets a line for a unit that now sits inside another line's unit.
        september = Bulletin.objects.get(period_start=date(2026, 9, 1))
        september.lines.filter(unit=bureau.department).update(unit=bureau.shanghai_team)
        assert recheck_published_bulletins(since=date(2026, 1, 1)) == 2  # October still checked
    assert "cannot be re-checked" in caplog.text
