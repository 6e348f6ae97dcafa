"""A retry budget in time, not in attempts (docs/operations.md).

A delivery or a job that fails for a reason outside promo (a robot, the e-mail server, the
database) is tried again after a growing, jittered wait, for as long as its horizon lasts,
however many attempts that takes: a short outage costs minutes, a long one is given up
after ``PROMO_RETRY_HORIZON_HOURS`` and said so.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings


def backoff(attempt: int) -> timedelta:
    """The wait after the ``attempt``-th failure (1, 2, …): exponential, jittered.

    ``PROMO_RETRY_FIRST_SECONDS * 2^(attempt-1)``, at most ``PROMO_RETRY_MAX_SECONDS``, of
    which a random half is taken off (so two senders that failed together do not come back
    together, and the wait is never below half the nominal one).
    """
    nominal = min(
        float(settings.PROMO_RETRY_MAX_SECONDS),
        float(settings.PROMO_RETRY_FIRST_SECONDS) * 2 ** max(0, attempt - 1),
    )
    return timedelta(seconds=nominal / 2 + random.uniform(0, nominal / 2))


def horizon() -> timedelta:
    return timedelta(hours=settings.PROMO_RETRY_HORIZON_HOURS)


def next_attempt(first_attempt_at: datetime, attempt: int, now: datetime) -> datetime | None:
    """When to try again after the ``attempt``-th failure, or None once past the horizon."""
    when = now + backoff(attempt)
    return when if when <= first_attempt_at + horizon() else None
