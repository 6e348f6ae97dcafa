"""The officer's own calendar feed (日历订阅): a secret address a phone calendar subscribes to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CalendarFeed(models.Model):
    """日历订阅: one officer's private iCalendar feed address (issue #15).

    The address carries a secret token (256 random bits), which is the only credential a phone
    calendar can send; like an API client's token (promo.api.clients) only its SHA-256 is kept,
    and the address is shown once. An officer has at most one live feed: replacing it revokes
    the old one. A revoked row is kept (who revoked it and when) rather than deleted, so the
    officer and an auditor can see when an address stopped working.
    """

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("干部"),
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # Written at most once an hour (phones poll): when the address was last read.
    last_used_at = models.DateTimeField(_("最近读取"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("停用人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("日历订阅")
        verbose_name_plural = _("日历订阅")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live address per officer: a second one would be a credential nobody sees.
            models.UniqueConstraint(
                fields=["officer"],
                condition=Q(revoked_at__isnull=True),
                name="%(app_label)s_%(class)s_one_live_per_officer",
            ),
            # Who revoked it is recorded only with when.
            models.CheckConstraint(
                condition=Q(revoked_by__isnull=True) | Q(revoked_at__isnull=False),
                name="%(app_label)s_%(class)s_revoked_by_with_revoked_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.officer_id} @ {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
