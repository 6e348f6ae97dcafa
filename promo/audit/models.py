"""The application audit trail (安全审计记录): append-only and chained by hash.

Each entry's ``hash`` is the SHA-256 of the previous entry's hash and the entry's own
canonical serialization (``promo.audit.services.canonical``), so editing or removing a row
breaks the chain where it happened (``manage.py audit_verify``). PostgreSQL triggers refuse
UPDATE, DELETE and TRUNCATE (migration 0002); only ``audit_prune(days)``, a SECURITY DEFINER
function owned by the schema owner, deletes entries older than the retention, leaving an
``AuditAnchor`` from which the remaining chain is verified.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from promo.audit.choices import Action, Outcome


class AuditEntry(models.Model):
    """审计记录: one security-relevant event, who did it from where, on what, and how it ended."""

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        # The trail outlives accounts: a removed officer's entries keep the name snapshot.
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(_("用户名"), max_length=150, blank=True)
    api_client = models.ForeignKey(
        "promo.ApiClient",
        verbose_name=_("接口客户端"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    address = models.CharField(_("地址"), max_length=64, blank=True)
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_text = models.CharField(_("对象"), max_length=300, blank=True)
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    prev_hash = models.CharField(_("前一条的摘要"), max_length=64)
    hash = models.CharField(_("摘要"), max_length=64)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]
        indexes = [
            # The audit page filters by actor or action and pages newest first.
            models.Index(fields=["actor", "-id"], name="audit_entry_actor_idx"),
            models.Index(fields=["action", "-id"], name="audit_entry_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"


class AuditAnchor(models.Model):
    """审计链锚点: where the chain starts after a prune (the last pruned entry's id and hash)."""

    pruned_at = models.DateTimeField(_("清理时间"))
    last_id = models.BigIntegerField(_("最后清理的记录编号"))
    last_hash = models.CharField(_("最后清理的记录摘要"), max_length=64)
    deleted = models.IntegerField(_("清理条数"))

    class Meta:
        verbose_name = _("审计链锚点")
        verbose_name_plural = _("审计链锚点")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.pruned_at:%Y-%m-%d} #{self.last_id}"
