"""The calendar feed's file: an officer's calendar as iCalendar (RFC 5545) for phone calendars."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import icalendar
from django.utils import timezone
from django.utils.translation import gettext

from .selectors import Calendar

# Phones poll a subscribed calendar on their own schedule; this asks for hourly (RFC 7986's
# REFRESH-INTERVAL, and the older X-PUBLISHED-TTL that Apple and Microsoft read).
REFRESH = timedelta(hours=1)


def calendar_ics(calendar: Calendar, *, absolute: Callable[[str], str]) -> bytes:
    """The calendar as an iCalendar file: one all-day event per item (a due date has no hour),
    its UID stable so a phone updates an event instead of adding a copy; summaries and
    descriptions in the active language; ``absolute(path)`` makes each record's link."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//promo//calendar//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", gettext("promo 日程"))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", REFRESH)
    stamp = timezone.now()
    for item in calendar.items:
        link = absolute(item.url)
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", f"{item.summary}\n{link}")
        event.add("url", link)
        event.add("transp", "TRANSPARENT")  # a due date does not make the officer busy
        cal.add_component(event)
    return bytes(cal.to_ical())
