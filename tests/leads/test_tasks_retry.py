"""The nightly lead-activity refresh survives a database gap: it retries with backoff."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from leads.tasks import refresh_lead_activity


def test_refresh_lead_activity_retries_database_errors_with_backoff():
    retried = refresh_lead_activity.autoretry_for
    assert issubclass(OperationalError, retried) and issubclass(InterfaceError, retried)
    assert issubclass(ConnectionError, retried)
    assert refresh_lead_activity.retry_backoff
    assert refresh_lead_activity.retry_jitter
    assert refresh_lead_activity.acks_late
