"""The API's records: clients (other government systems) and idempotency records."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """Idempotency record (幂等记录): the first answer to a POST, replayed when its key comes again.

    A system that retries a POST after a timeout sends the same ``Idempotency-Key``; the
    retry gets the stored answer and writes nothing. Keys belong to the caller — the API
    client for a token (two systems acting for one officer each have their own keys), the
    officer for a browser session — and expire after PROMO_IDEMPOTENCY_TTL_HOURS and are
    pruned nightly.
    """

    officer = models.ForeignKey(
        "officers.Officer", verbose_name=_("调用人"), on_delete=models.CASCADE, related_name="+"
    )
    client = models.ForeignKey(
        "promo.ApiClient",
        verbose_name=_("接口客户端"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("幂等键"), max_length=255)
    # sha256 of method, path and canonical body: the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [
            # A session's keys are the officer's; a token's keys are its client's.
            models.UniqueConstraint(
                fields=["officer", "key"],
                condition=models.Q(client__isnull=True),
                name="%(app_label)s_%(class)s_unique_key",
            ),
            models.UniqueConstraint(
                fields=["client", "key"],
                condition=models.Q(client__isnull=False),
                name="%(app_label)s_%(class)s_unique_client_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id or self.officer_id}:{self.key}"


class ApiClientAccess(models.TextChoices):
    READ = "read", _("只读")
    READ_WRITE = "read_write", _("读写")


class ApiClient(models.Model):
    """API client (接口客户端): another government system calling the API with a token.

    A client acts as one officer, so it sees exactly what that officer's visibility scope
    allows (a chief: the whole bureau; an officer: their unit's sub-tree) and its writes are
    attributed to that officer. Only a hash of the token is stored; the token is shown once.
    """

    name = models.CharField(_("系统名称"), max_length=100, unique=True)
    officer = models.ForeignKey(
        "officers.Officer",
        verbose_name=_("代表干部"),
        on_delete=models.PROTECT,
        related_name="api_clients",
        help_text=_("客户端以该干部的身份和可见范围调用接口。"),
    )
    access = models.CharField(
        _("权限"), max_length=20, choices=ApiClientAccess.choices, default=ApiClientAccess.READ
    )
    # The token is "promo_<prefix>_<secret>"; the prefix finds the row, the hash proves it.
    token_prefix = models.CharField(max_length=12, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    # A token expires (PROMO_API_TOKEN_DAYS after it was issued, 等保 2.0, issue #16); a rotation
    # issues a new one and keeps the previous valid until ``previous_valid_until`` (an overlap
    # for the calling system to switch without an outage).
    expires_at = models.DateTimeField(_("令牌到期时间"))
    previous_token_prefix = models.CharField(max_length=12, blank=True, default="", editable=False)
    previous_token_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    previous_valid_until = models.DateTimeField(_("旧令牌有效至"), null=True, blank=True)
    rotated_at = models.DateTimeField(_("最近轮换时间"), null=True, blank=True)
    rotated_by = models.ForeignKey(
        "officers.Officer",
        verbose_name=_("轮换人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "officers.Officer",
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        "officers.Officer",
        verbose_name=_("吊销人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Personal data in full (issue #16): a syncing system that needs contacts' phone numbers
    # reads them unmasked, as far as its officer may reveal them, each read announced
    # (personal_data_revealed). Granted and withdrawn by whoever manages API clients
    # (api_client_set_personal_data), who and when kept here.
    reads_personal_data = models.BooleanField(
        _("读取完整个人信息"),
        default=False,
        help_text=_(
            "开启后，接口返回其代表干部有权查看的联系人完整电话、邮箱和微信，每次读取均记录。"
        ),
    )
    personal_data_set_at = models.DateTimeField(_("个人信息权限变更时间"), null=True, blank=True)
    personal_data_set_by = models.ForeignKey(
        "officers.Officer",
        verbose_name=_("个人信息权限变更人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")
        ordering = ["name"]
        indexes = [
            # A token of the previous generation, during its overlap (authentication).
            models.Index(fields=["previous_token_prefix"], name="api_apiclient_previous_prefix"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ScopeChange(models.Model):
    """Scope change (可见范围变动): a record may have left what some callers see.

    Written by triggers in PostgreSQL (docs/decisions/0012-scope-change-journal.md), never by
    Python: a lead moved to another unit by a claim, an officer taken off a lead or project
    (with the lead's visits and investor), a visit deleted (its investor), a unit column
    changed by a data fix. ``units`` and ``officers`` say whose scope it may have been: the
    unit columns before (and after) the change, the officers whose assignment went. The
    deletion feeds list the record to a caller those name, if the caller no longer sees it.

    A row without ``object_id`` is a reset: the scope of ``officers`` (an officer moved to
    another unit or role; ``NULL``: everyone, a unit moved in the tree) changed as a whole,
    and their mirrors must sync again from scratch (``410 resync_required``).
    """

    # "<app_label>.<model_name>" of the record ("leads.lead"); "" for a reset.
    model = models.CharField(max_length=40, blank=True)
    object_id = models.BigIntegerField(null=True)
    units = ArrayField(models.BigIntegerField(), default=list)
    # NULL on a reset of everyone's scope.
    officers = ArrayField(models.BigIntegerField(), null=True, default=list)
    # clock_timestamp() of the change, not its transaction's start: close to its commit.
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("可见范围变动")
        verbose_name_plural = _("可见范围变动")
        indexes = [
            models.Index(fields=["model", "at"], name="promo_scopechange_model_at"),
        ]

    def __str__(self) -> str:
        return f"{self.model or 'reset'}:{self.object_id} @ {self.at:%Y-%m-%d %H:%M:%S}"
