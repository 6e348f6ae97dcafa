"""Import batches (导入批次), their row-by-row results, and the column mapping each unit keeps."""

from __future__ import annotations

import secrets

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import (
    BatchStatus,
    ExportFormat,
    ExportKind,
    ExportStatus,
    ImportKind,
    RowAction,
    batch_can_transition,
)


class ImportMapping(models.Model):
    """Column mapping (列对应关系): how one unit's ledger headers map to promo's fields."""

    unit = models.ForeignKey(
        "officers.Unit", verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("数据类型"), max_length=20, choices=ImportKind.choices)
    # {"normalised header": "field"}; "" maps a header to nothing (ignored on purpose).
    columns = models.JSONField(_("列对应"), default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("导入列对应")
        verbose_name_plural = _("导入列对应")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "kind"], name="%(app_label)s_%(class)s_one_per_unit_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_kind_display()}"


class ImportBatch(models.Model):
    """Import batch (导入批次): one uploaded ledger, checked first and written only when confirmed."""

    file_name = models.CharField(_("文件名"), max_length=255)
    kind = models.CharField(_("数据类型"), max_length=20, choices=ImportKind.choices)
    unit = models.ForeignKey(
        "officers.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="import_batches",
    )
    # Kept in the database so any worker can read it; capped by PROMO_IMPORT_MAX_BYTES.
    content = models.BinaryField(editable=False)
    # When the file (content) was deleted, PROMO_IMPORT_FILE_RETENTION_DAYS after upload; size
    # and sha256 still say what it was, the rows what it did.
    file_pruned_at = models.DateTimeField(_("文件删除时间"), null=True, blank=True)
    size = models.PositiveIntegerField(_("大小(字节)"), default=0)
    sha256 = models.CharField(max_length=64, editable=False)
    sheet_name = models.CharField(_("工作表"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=BatchStatus.choices, default=BatchStatus.QUEUED
    )
    # The officer's decision at confirmation: likely duplicates are different companies.
    confirm_distinct = models.BooleanField(_("疑似重复确认为不同企业"), default=False)
    message = models.TextField(_("说明"), blank=True)
    headers = models.JSONField(_("表头"), default=list)
    columns = models.JSONField(_("列对应"), default=dict)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("无变化"), default=0)
    duplicate_count = models.PositiveIntegerField(_("疑似重复"), default=0)
    error_count = models.PositiveIntegerField(_("错误"), default=0)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    checked_at = models.DateTimeField(_("检查完成时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    committed_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    # The worker holding the batch (checking or committing): a token set by its claim, and
    # when it last reported progress. A batch silent for PROMO_IMPORT_STALL_SECONDS is put
    # back and re-sent (stall_count times at most, then it fails with a message).
    claim = models.CharField(max_length=32, blank=True, default="", editable=False)
    heartbeat_at = models.DateTimeField(_("最近进展时间"), null=True, blank=True)
    stall_count = models.PositiveSmallIntegerField(_("中断后重试次数"), default=0)
    seconds_checking = models.FloatField(_("检查耗时(秒)"), null=True, blank=True)
    seconds_committing = models.FloatField(_("导入耗时(秒)"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BatchStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=BatchStatus.COMMITTED) | Q(committed_at__isnull=False),
                name="%(app_label)s_%(class)s_committed_has_time",
            ),
        ]
        indexes = [
            # "My imports" list of an officer, newest first.
            models.Index(fields=["uploaded_by", "-created_at"], name="imports_batch_uploader"),
        ]

    # Not stored: set by batch_upload on the batch it returns instead of making a second one
    # when the same file is uploaded again (a retried or double-clicked upload).
    repeated_upload: bool = False

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_kind_display()})"

    def can_transition_to(self, status: str) -> bool:
        return batch_can_transition(self.status, status)

    @property
    def why(self) -> str:
        """The reason written on every history row the import causes."""
        return f"import:{self.pk}:{self.file_name}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def is_running(self) -> bool:
        return self.status in (BatchStatus.QUEUED, BatchStatus.CHECKING, BatchStatus.COMMITTING)


class ImportRow(models.Model):
    """Import row (导入行): what one data row of the file will do, or did, and what is wrong."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("导入批次"), on_delete=models.CASCADE, related_name="rows"
    )
    row_number = models.PositiveIntegerField(_("行号"))
    action = models.CharField(_("处理"), max_length=20, choices=RowAction.choices)
    values = models.JSONField(_("解析后的值"), default=dict)
    # [{"column": "总投资(万元)", "message": "…"}]
    errors = models.JSONField(_("错误"), default=list)
    changes = models.JSONField(_("变化"), default=list)
    matched_pk = models.BigIntegerField(_("匹配到的记录"), null=True, blank=True)
    match_note = models.CharField(_("匹配说明"), max_length=300, blank=True)
    record_pk = models.BigIntegerField(_("写入的记录"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入行")
        verbose_name_plural = _("导入行")
        ordering = ["batch", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "row_number"], name="%(app_label)s_%(class)s_one_per_row"
            )
        ]
        indexes = [
            # The preview page filters a batch's rows by action (errors first).
            models.Index(fields=["batch", "action", "row_number"], name="imports_row_action"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row_number} {self.action}"


class ImportProgress(models.Model):
    """How far the worker running a batch has got (导入进度), for the batch's page.

    Written by the worker's heartbeat thread on a connection of its own, while the commit's
    transaction holds the batch's row: so no foreign key (its check would wait for that
    transaction), only the batch's id. The row goes when the run ends.
    """

    batch_id = models.BigIntegerField(primary_key=True)
    done = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("导入进度")
        verbose_name_plural = _("导入进度")

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.done}"


def export_file_path(job: ExportJob, filename: str) -> str:
    """exports/<random>/<name>: a path nobody guesses; the file is served only by the
    requester's download view (never from MEDIA_URL)."""
    return f"exports/{secrets.token_urlsafe(24)}/{filename}"


# History of every export (who asked for which list, with which filters, and what came of
# it): insert and status changes; the progress counter is not history.
@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["done_rows", "heartbeat_at"]
)
class ExportJob(models.Model):
    """Export job (导出任务): a list too large to download at once, written by the worker.

    The filters and the requester are stored, and the worker applies the same selector as
    the requester at the time of the request would: the file holds only what they may see.
    """

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导出人"),
        on_delete=models.PROTECT,
        related_name="export_jobs",
    )
    kind = models.CharField(_("数据类型"), max_length=20, choices=ExportKind.choices)
    fmt = models.CharField(_("格式"), max_length=10, choices=ExportFormat.choices)
    # The list page's query parameters: {"status": ["valid"], …} (QueryDict.lists()).
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    # The requester's language at the request: headers stay Chinese (the import reads them),
    # choice labels are written in it.
    language = models.CharField(_("语言"), max_length=10, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已写行数"), default=0)
    file = models.FileField(_("文件"), upload_to=export_file_path, max_length=300, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近进展时间"), null=True, blank=True)
    # When the file was deleted (PROMO_EXPORT_RETENTION_DAYS after it was written).
    file_pruned_at = models.DateTimeField(_("文件删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExportStatus.values),
                name="%(app_label)s_%(class)s_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExportStatus.DONE) | Q(finished_at__isnull=False),
                name="%(app_label)s_%(class)s_done_has_time",
            ),
        ]
        indexes = [
            # "My exports", newest first.
            models.Index(fields=["requester", "-created_at"], name="imports_export_requester"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}.{self.fmt} #{self.pk}"

    @property
    def why(self) -> str:
        """The reason written on the history rows of this export."""
        return f"export:{self.pk}:{self.kind}.{self.fmt}"

    @property
    def is_running(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.done_rows * 100 / self.total_rows))
