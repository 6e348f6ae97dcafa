"""What should exist by when: the due times of the reports' rhythms (docs/operations.md).

The sweep (``services.schedule_sweep``) asks these pure functions what should exist by now
and makes what does not. Times are local (``settings.TIME_ZONE``):

- 每月一通报: the 1st of each month at 06:00, the bulletin of the month before;
- 旬汇报: days 1, 11 and 21 at 08:00, the report of the 旬 just ended;
- 红黄灯督办: every day at 07:00, that day's evaluation of the traffic lights;
- 月度台账更正: every day at 05:30, that day's re-check of the published bulletins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from .choices import BulletinKind, DailyJob

MONTHLY_AT = time(6, 0)
TEN_DAY_AT = time(8, 0)
DAILY_AT: dict[str, time] = {DailyJob.AMENDMENTS: time(5, 30), DailyJob.ALERTS: time(7, 0)}
TEN_DAY_STARTS = (1, 11, 21)


@dataclass(frozen=True)
class DueBulletin:
    """A bulletin that should exist from ``due_at`` on."""

    kind: str
    period_start: date
    due_at: datetime


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def _ten_day_start(day: date) -> date:
    """The first day of the 旬 ``day`` falls in (1, 11 or 21)."""
    return day.replace(day=1 if day.day <= 10 else 11 if day.day <= 20 else 21)


def bulletin_due_at(kind: str, period_start: date, period_end: date) -> datetime:
    """When the bulletin of this period is due: the morning after the period closes."""
    after = period_end + timedelta(days=1)
    return _local(after, MONTHLY_AT if kind == BulletinKind.MONTHLY else TEN_DAY_AT)


def bulletins_due(*, now: datetime, since: datetime) -> list[DueBulletin]:
    """Every bulletin whose due time falls in (``since``, ``now``], oldest first."""
    due: list[DueBulletin] = []
    day = timezone.localtime(since).date().replace(day=1)
    last = timezone.localtime(now).date()
    while day <= last:
        closed = day - timedelta(days=1)  # the last day of the period this day reports
        if day.day == 1:
            at = _local(day, MONTHLY_AT)
            if since < at <= now:
                due.append(DueBulletin(BulletinKind.MONTHLY, closed.replace(day=1), at))
        if day.day in TEN_DAY_STARTS:
            at = _local(day, TEN_DAY_AT)
            if since < at <= now:
                due.append(DueBulletin(BulletinKind.TEN_DAY, _ten_day_start(closed), at))
        day += timedelta(days=1)
    return sorted(due, key=lambda item: item.due_at)


def daily_due_at(job: str, on: date) -> datetime:
    """When the daily ``job`` of the day ``on`` is due."""
    return _local(on, DAILY_AT[job])
