"""Writes of the officer's own workspace: the calendar feed's address (日历订阅)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from officers.models import Officer
from promo.core.tokens import new_secret, secret_hash

from .models import CalendarFeed

# A feed read writes ``last_used_at`` at most this often: phones poll every hour or so.
FEED_TOUCH_INTERVAL = timedelta(hours=1)


def feed_token_hash(token: str) -> str:
    """The stored form of a feed token (promo.core.tokens), looked up on a unique index."""
    return secret_hash(token)


def calendar_feed_issue(*, actor: Officer) -> tuple[CalendarFeed, str]:
    """Issue the officer's calendar feed address (日历订阅), revoking any earlier one; return the
    row and its token, which is not kept and so is shown this once."""
    token = new_secret()
    with transaction.atomic():
        # Lock the officer's row: two taps at once must not leave two live addresses (the
        # unique constraint would refuse the second with an error instead).
        # (The officers' default order joins their unit, which FOR UPDATE cannot lock.)
        list(Officer.objects.select_for_update().filter(pk=actor.pk).order_by().values("pk"))
        _revoke_live(actor=actor, owner=actor)
        feed = CalendarFeed.objects.create(officer=actor, token_hash=feed_token_hash(token))
    return feed, token


def calendar_feed_revoke(*, actor: Officer) -> CalendarFeed | None:
    """Stop the officer's calendar feed address (停用): it answers 404 from now on. Returns the
    revoked row, or None when there was no live address (nothing changes)."""
    with transaction.atomic():
        return _revoke_live(actor=actor, owner=actor)


def _revoke_live(*, actor: Officer, owner: Officer) -> CalendarFeed | None:
    feed = (
        CalendarFeed.objects.select_for_update()
        .filter(officer_id=owner.pk, revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    feed.revoked_at = timezone.now()
    feed.revoked_by = actor
    feed.save(update_fields=["revoked_at", "revoked_by"])
    return feed


def calendar_feed_touch(*, feed: CalendarFeed) -> None:
    """Note that the feed address was read (最近读取), at most once an hour: the officer sees
    whether a phone still reads it, and a read they do not expect tells them to replace it."""
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > FEED_TOUCH_INTERVAL:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        feed.last_used_at = now
