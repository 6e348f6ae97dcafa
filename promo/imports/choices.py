"""Choices of the imports app, with the batch status transition table beside its status."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    INVESTORS = "investors", _("客商名录")
    LEADS = "leads", _("项目信息")
    VISITS = "visits", _("走访记录")
    PROJECTS = "projects", _("项目台账")
    AGREEMENT_TERMS = "agreement_terms", _("协议履约台账")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    CHECKING = "checking", _("检查中")
    CHECKED = "checked", _("待确认")
    FAILED = "failed", _("文件无法读取")
    COMMITTING = "committing", _("导入中")
    COMMITTED = "committed", _("已导入")
    REFUSED = "refused", _("导入未完成")


# queued -> checking -> checked -> committing -> committed; a file that cannot be read ends
# in failed, a commit refused by a service rolls everything back and ends in refused (the
# officer fixes the file and uploads it again). Terminal states have no way out.
# A batch whose worker died goes back one step (checking -> queued, committing -> checked,
# still confirmed) a few times, then ends in failed or refused (services.batch_resume_stalled).
BATCH_TRANSITIONS: dict[str, frozenset[str]] = {
    BatchStatus.QUEUED: frozenset({BatchStatus.CHECKING}),
    BatchStatus.CHECKING: frozenset({BatchStatus.CHECKED, BatchStatus.FAILED, BatchStatus.QUEUED}),
    BatchStatus.CHECKED: frozenset({BatchStatus.COMMITTING}),
    BatchStatus.COMMITTING: frozenset(
        {BatchStatus.COMMITTED, BatchStatus.REFUSED, BatchStatus.CHECKED}
    ),
    BatchStatus.FAILED: frozenset(),
    BatchStatus.COMMITTED: frozenset(),
    BatchStatus.REFUSED: frozenset(),
}


def batch_can_transition(from_status: str, to_status: str) -> bool:
    return to_status in BATCH_TRANSITIONS.get(from_status, frozenset())


class RowAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("更新")
    UNCHANGED = "unchanged", _("无变化")
    DUPLICATE = "duplicate", _("疑似重复")
    ERROR = "error", _("有错误")


class ExportKind(models.TextChoices):
    """The lists an officer exports (导出), each read like its page."""

    LEADS = "leads", _("项目信息")
    PROJECTS = "projects", _("项目")
    VISITS = "visits", _("走访记录")
    AGREEMENT_TERMS = "agreement_terms", _("协议履约台账")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (.xlsx)"
    CSV = "csv", "CSV"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
