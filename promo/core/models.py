"""The kernel's abstract models: what every synced record and every trail row carries."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SyncedModel(models.Model):
    """A record other government systems may create or mirror: timestamps and an external key.

    ``(source_system, external_id)`` is unique so a system that sends the same record twice
    updates it instead of creating a second one.
    """

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)
    source_system = models.CharField(_("来源系统"), max_length=40, blank=True, default="")
    external_id = models.CharField(_("外部编号"), max_length=100, blank=True, default="")

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"],
                condition=~Q(external_id=""),
                name="%(app_label)s_%(class)s_unique_external_id",
            ),
        ]


# Append-only: a trail row, once written, is never edited or removed — not even by SQL.
APPEND_ONLY = pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


class TrailEvent(models.Model):
    """A row of a lifecycle's trail (状态变更记录): who did it and when, never edited.

    Each lifecycle adds its record, its from/to states and its own words (reason, note).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]
        triggers = [APPEND_ONLY]
