"""The kernel's abstract models: what every synced record and every trail row carries."""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .fields import BlindIndexField


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


class FormSubmission(models.Model):
    """一次提交: a web form's submission key, so a double tap or a resend saves once.

    Each form that creates a record carries a fresh key (a hidden UUID field); the view saves
    the record and this row in one transaction. A second POST with the same key — a double
    tap, the browser resending after a dropped connection — finds the row and is sent to what
    the first one made; two at once collide on the unique key and the second rolls back.
    Kept ``PROMO_FORM_SUBMISSION_DAYS``, then pruned nightly.
    """

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.UUIDField()
    url = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["officer", "key"], name="core_formsubmission_once")
        ]

    def __str__(self) -> str:
        return f"{self.officer_id}:{self.key}"


class BlindIndexedModel(models.Model):
    """A model with blind indexes (promo.core.fields.BlindIndexField): a save limited to some
    fields also refreshes the indexes of those fields."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            extra = {
                field.name
                for field in self._meta.concrete_fields
                if isinstance(field, BlindIndexField) and field.source in update_fields
            }
            kwargs["update_fields"] = set(update_fields) | extra
        super().save(*args, **kwargs)
