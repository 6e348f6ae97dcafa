"""Writes of the imports app: upload, dry run (预检), confirm and commit of a ledger.

Nothing of the ledger is written before the officer confirms the dry run; the commit then
writes every row or none (one transaction) through the apps' own services, so each record
gets the same checks, events and history as one typed by hand, and every history row names
the import (``import:<batch>:<file name>``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leads import services as lead_services
from leads.choices import OPEN_LEAD_STATUSES, ChainRole, LeadStatus, SourceChannel, VisitKind
from leads.models import Investor, InvestorContact, Lead, Visit
from leads.normalize import (
    core_name,
    is_valid_credit_code,
    normalize_credit_code,
    normalize_name,
)
from officers import permissions
from officers.choices import AssignmentRole
from officers.models import Assignment, Officer, Unit
from officers.selectors import units_visible_to
from projects import services as project_services
from projects.choices import STAGE_ORDER, Stage
from projects.models import EvidenceKind, Project
from promo.agreements import services as agreement_services
from promo.agreements.choices import DATE_METRICS, AgreementKind, ClawbackRule, Metric
from promo.agreements.models import Agreement, Term
from promo.agreements.selectors import terms_visible_to
from promo.core.audit import audited
from promo.core.choices import Industry, Region
from promo.core.crypto import blind_index
from promo.core.errors import DomainError, PermissionDenied, TransitionNotAllowed, rule
from promo.core.prune import update_in_batches
from promo.core.services import lock_key, today
from promo.core.signals import audit

from . import parsing
from .choices import BATCH_TRANSITIONS, BatchStatus, ImportKind, RowAction, batch_can_transition
from .models import ImportBatch, ImportMapping, ImportProgress, ImportRow
from .parsing import CellError, FileRefused

SOURCE_SYSTEM = "import"
_CHUNK = 2000
_PROGRESS_EVERY = 500
_ROWS_PER_CONTEXT = 200


# --- upload and mapping ----------------------------------------------------------------


def batch_upload(
    *,
    actor: Officer,
    data: bytes,
    file_name: str,
    kind: str,
    unit: Unit | None = None,
    sheet_name: str = "",
) -> ImportBatch:
    """Receive a ledger file (上传台账): size and type are checked now, rows by the dry run."""
    if kind not in ImportKind.values:
        raise rule("kind", _("请选择导入的数据类型。"))
    if kind == ImportKind.AGREEMENT_TERMS and not permissions.may_work_records(actor):
        # Agreements are kept by who may keep them (permissions.may_keep_agreement, asked
        # again for each row's project): never by a department submitter.
        raise PermissionDenied(_("您无权导入协议履约台账。"))
    owner = unit or actor.unit
    if owner is None:
        raise rule("unit", _("请选择单位。"))
    if not units_visible_to(actor).filter(pk=owner.pk).exists():
        raise PermissionDenied(_("您不能为该单位导入数据。"))
    if not data:
        raise rule("file", _("文件是空的。"))
    require_import_size(len(data))
    if not parsing.looks_like_xlsx(data):
        # Decoding the text now refuses random bytes before anything is stored.
        try:
            parsing.decode_text(data)
        except FileRefused as exc:
            raise rule("file", exc.message) from exc
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic(), audited(actor, "import_upload"):
        # Two posts of one upload (a retry after a timeout, a double click) wait for each
        # other here; the second then finds the first's batch.
        lock_key("imports.upload", str(actor.pk), digest)
        first = batch_recent_same_upload(actor=actor, sha256=digest, kind=kind, unit=owner)
        if first is not None:
            first.repeated_upload = True
            return first
        return ImportBatch.objects.create(
            file_name=_clean_name(file_name),
            kind=kind,
            unit=owner,
            uploaded_by=actor,
            content=data,
            size=len(data),
            sha256=digest,
            sheet_name=sheet_name.strip(),
        )


# A batch whose dry run has not finished: uploading its file again opens it (batch_upload).
# Once checked, the same file uploaded again is a new dry run against today's records.
_NOT_CHECKED_YET = (BatchStatus.QUEUED, BatchStatus.CHECKING)


def batch_recent_same_upload(
    *, actor: Officer, sha256: str, kind: str, unit: Unit
) -> ImportBatch | None:
    """The officer's batch of the same file (same bytes, kind and unit) uploaded less than
    PROMO_IMPORT_DEDUPE_SECONDS ago and still waiting for or in its dry run, if any: a second
    upload then is a retry (the first answer was slow or lost), not a second import. A file
    changed by one byte is a new upload, and so is the same file once its dry run is done
    (checking it again against today's records) or after the window."""
    since = timezone.now() - timedelta(seconds=settings.PROMO_IMPORT_DEDUPE_SECONDS)
    return (
        ImportBatch.objects.filter(
            uploaded_by=actor,
            sha256=sha256,
            kind=kind,
            unit=unit,
            created_at__gte=since,
            status__in=_NOT_CHECKED_YET,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def require_import_size(size: int) -> None:
    """Refuse a file over PROMO_IMPORT_MAX_BYTES before it is read into memory."""
    limit = settings.PROMO_IMPORT_MAX_BYTES
    if size > limit:
        raise rule(
            "file",
            _("文件过大（%(size).1f MB），上限为 %(limit).0f MB，请拆分后分批导入。")
            % {"size": size / 1_048_576, "limit": limit / 1_048_576},
        )


def _clean_name(name: str) -> str:
    base = PurePath(unicodedata.normalize("NFKC", name or "")).name
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '\\/:*?"<>|')
    return cleaned[:200] or "ledger"


def mapping_save(
    *, actor: Officer, unit: Unit, kind: str, columns: dict[str, str]
) -> ImportMapping:
    """Remember how this unit's headers map to fields (列对应), for its next ledger."""
    if not units_visible_to(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied()
    known = parsing.FIELD_ALIASES[kind]
    cleaned = {
        parsing.normalize_header(header): name
        for header, name in columns.items()
        if parsing.normalize_header(header) and (name == "" or name in known)
    }
    with transaction.atomic(), audited(actor, "import_mapping_save"):
        mapping = ImportMapping.objects.select_for_update().filter(unit=unit, kind=kind).first()
        if mapping is None:
            return ImportMapping.objects.create(
                unit=unit, kind=kind, columns=cleaned, updated_by=actor
            )
        # Headers of earlier ledgers stay remembered; this ledger's choices win.
        mapping.columns = {**mapping.columns, **cleaned}
        mapping.updated_by = actor
        mapping.save(update_fields=["columns", "updated_by", "updated_at"])
        return mapping


def batch_recheck(*, batch: ImportBatch, actor: Officer) -> ImportBatch:
    """Check the same file again (after the unit's mapping changed) as a new batch.

    A checked or failed batch is never rewound: the new batch has its own dry run and the old
    one stays as it was, so what was shown to the officer is never silently replaced.
    """
    if batch.uploaded_by_id != actor.pk:
        raise PermissionDenied(_("只有上传人可以重新检查。"))
    if batch.status in (BatchStatus.COMMITTED, BatchStatus.COMMITTING):
        raise TransitionNotAllowed(_("该批次已导入，不能重新检查。"))
    if batch.file_pruned_at is not None:
        raise rule("file", _("该批次的文件已超过保存期限被删除，请重新上传。"))
    with audited(actor, "import_recheck"):
        return ImportBatch.objects.create(
            file_name=batch.file_name,
            kind=batch.kind,
            unit=batch.unit,
            uploaded_by=actor,
            content=bytes(batch.content),
            size=batch.size,
            sha256=batch.sha256,
            sheet_name=batch.sheet_name,
        )


def batch_remap(*, batch: ImportBatch, actor: Officer, columns: dict[str, str]) -> ImportBatch:
    """列对应 on a batch's page: remember the unit's mapping and check the file again.

    One step of the batch's uploader, all or nothing: a refusal of the new check (someone
    else's batch, a batch already imported) saves no mapping either — the permission matrix
    (issue #13) found the mapping saved under the name of whoever was then refused.
    """
    with transaction.atomic():
        mapping_save(actor=actor, unit=batch.unit, kind=batch.kind, columns=columns)
        return batch_recheck(batch=batch, actor=actor)


# How many times a batch whose worker died is put back before it fails for good.
STALL_RETRIES = 3


class _ClaimLost(Exception):
    """The batch was taken back from this worker (it was silent too long): stop, write nothing."""


def batch_transition(
    *,
    batch: ImportBatch,
    from_status: str,
    to_status: str,
    where: dict[str, Any] | None = None,
    **fields: Any,
) -> bool:
    """The one function that changes an import batch's status (导入批次状态流转).

    Refuses a step BATCH_TRANSITIONS does not list, then moves the batch with a conditional
    UPDATE that also requires ``from_status`` (and ``where``, e.g. the worker's claim token):
    of two workers racing for the same step exactly one wins. Returns whether it moved.
    """
    if not batch_can_transition(from_status, to_status):
        raise TransitionNotAllowed(
            _("导入批次不能从“%(current)s”变为“%(target)s”。")
            % {
                "current": BatchStatus(from_status).label,
                "target": BatchStatus(to_status).label,
            },
            extra={"status": from_status, "allowed": sorted(BATCH_TRANSITIONS[from_status])},
        )
    moved = ImportBatch.objects.filter(pk=batch.pk, status=from_status, **(where or {})).update(
        status=to_status, **fields
    )
    return moved == 1


def _claim(batch: ImportBatch, from_status: str, to_status: str, **also: Any) -> str | None:
    """Check-then-claim: exactly one worker moves the batch on; a second delivery does nothing.

    Returns the claim's token: every later write of this worker is conditional on it, so a
    worker that wakes up after its batch was put back and claimed again writes nothing.
    """
    token = uuid.uuid4().hex
    claimed = batch_transition(
        batch=batch,
        from_status=from_status,
        to_status=to_status,
        where=also,
        claim=token,
        heartbeat_at=timezone.now(),
    )
    return token if claimed else None


def _beat(batch: ImportBatch, token: str) -> None:
    """The worker is alive and still holds the batch; _ClaimLost if it was taken back."""
    if not ImportBatch.objects.filter(pk=batch.pk, claim=token).update(heartbeat_at=timezone.now()):
        raise _ClaimLost


def _lock_claimed(batch: ImportBatch, status: str, token: str) -> None:
    """Inside a transaction: lock the batch row if this worker still holds it.

    The lock is held to the end of the transaction, so ``batch_resume_stalled`` (which skips
    locked rows) can never take back a batch whose worker is alive and writing.
    """
    held = ImportBatch.objects.select_for_update().filter(pk=batch.pk, status=status, claim=token)
    if not list(held.values_list("pk", flat=True)):
        raise _ClaimLost


log = logging.getLogger("promo.operations")

# How often the heartbeat thread writes the rows done, when they changed (seconds).
_PROGRESS_TICK = 1.0


class Heartbeat:
    """While a worker checks or commits a batch: a thread on its own database connection.

    Every second it writes how many rows are done (``ImportProgress``, read by the batch's
    page), and every PROMO_IMPORT_HEARTBEAT_SECONDS the batch's ``heartbeat_at`` if this
    worker still holds it — whatever the main thread is doing (reading a large file, planning
    a slow row). A worker that dies stops beating, and ``batch_resume_stalled`` takes the
    batch back PROMO_IMPORT_STALL_SECONDS later. While the commit's transaction holds the
    batch's row the beat skips it (SKIP LOCKED) rather than wait: a held lock already keeps
    the sweep away.
    """

    def __init__(self, batch: ImportBatch, token: str) -> None:
        self.batch_pk = batch.pk
        self.token = token
        self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"import-heartbeat-{batch.pk}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        written = -1
        last_beat = time.monotonic()
        try:
            while not self._stop.wait(_PROGRESS_TICK):
                if self.done != written:
                    written = self.done
                    ImportProgress.objects.update_or_create(
                        batch_id=self.batch_pk,
                        defaults={"done": written, "updated_at": timezone.now()},
                    )
                if time.monotonic() - last_beat >= settings.PROMO_IMPORT_HEARTBEAT_SECONDS:
                    last_beat = time.monotonic()
                    self.beat()
        except Exception:  # a beat missed is not the import failed; the sweep decides
            log.warning("import batch %s: heartbeat failed", self.batch_pk, exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                ImportProgress.objects.filter(batch_id=self.batch_pk).delete()
            connection.close()

    def beat(self) -> bool:
        """Write the heartbeat if the batch is still this worker's and its row is free."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportBatch._meta.db_table} SET heartbeat_at = %s WHERE id = ("
                f"SELECT id FROM {ImportBatch._meta.db_table} WHERE id = %s AND claim = %s "
                "AND status IN (%s, %s) FOR UPDATE SKIP LOCKED)",
                [
                    timezone.now(),
                    self.batch_pk,
                    self.token,
                    BatchStatus.CHECKING,
                    BatchStatus.COMMITTING,
                ],
            )
            return bool(cursor.rowcount == 1)


def batch_progress_done(batch: ImportBatch) -> int:
    """Rows done by the worker running ``batch`` now (PostgreSQL only: the page never needs
    Redis); 0 before it starts."""
    return (
        ImportProgress.objects.filter(batch_id=batch.pk).values_list("done", flat=True).first() or 0
    )


# --- dry run ---------------------------------------------------------------------------


@dataclass
class RowPlan:
    action: str = RowAction.CREATE
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    matched_pk: int | None = None
    match_note: str = ""

    def error(self, column: str, message: Any) -> None:
        self.errors.append({"column": column, "message": str(message)})


def batch_check(*, batch: ImportBatch) -> ImportBatch:
    """预检 (dry run): read the file, map its columns and say what every row would do."""
    token = _claim(batch, BatchStatus.QUEUED, BatchStatus.CHECKING)
    if token is None:
        return ImportBatch.objects.get(pk=batch.pk)
    try:
        with Heartbeat(batch, token) as heartbeat:
            _check(batch, token, heartbeat)
    except _ClaimLost:
        pass
    return ImportBatch.objects.get(pk=batch.pk)


def _check(batch: ImportBatch, token: str, heartbeat: Heartbeat | None = None) -> None:
    heartbeat = heartbeat or Heartbeat(batch, token)  # not started: only counts
    started = time.monotonic()
    batch.refresh_from_db()
    mine = ImportBatch.objects.filter(pk=batch.pk, status=BatchStatus.CHECKING, claim=token)
    saved = ImportMapping.objects.filter(unit=batch.unit, kind=batch.kind).first()
    try:
        table = parsing.read_table(
            bytes(batch.content),
            kind=batch.kind,
            sheet=batch.sheet_name,
            max_rows=settings.PROMO_IMPORT_MAX_ROWS,
            saved=saved.columns if saved else None,
        )
    except FileRefused as exc:
        _check_failed(batch, token, message=str(exc.message))
        return
    _beat(batch, token)
    columns = parsing.guess_columns(table.headers, batch.kind, saved.columns if saved else None)
    hint = _kind_hint(table.headers, batch.kind, columns) + _skipped_note(table.skipped)
    missing = [f for f in parsing.REQUIRED_FIELDS[batch.kind] if f not in columns.values()]
    if missing:
        names = "、".join(parsing.FIELD_ALIASES[batch.kind][f][0] for f in missing)
        message = _("缺少必需的列：%(names)s。请检查表头，或在列对应中指定。") % {"names": names}
        _check_failed(batch, token, message=f"{message}{hint}", headers=table.headers)
        return
    mine.update(
        headers=table.headers,
        columns={str(k): v for k, v in columns.items()},
        sheet_name=table.sheet_name,
        total_rows=len(table.rows),
    )
    batch.refresh_from_db()
    planner = PLANNERS[batch.kind](batch, table, columns)
    counts = dict.fromkeys(RowAction.values, 0)
    pending: list[ImportRow] = []
    done = 0
    for number, plan in planner.plan_all():
        if plan.errors:
            plan.action = RowAction.ERROR
        counts[plan.action] += 1
        pending.append(
            ImportRow(
                batch=batch,
                row_number=number,
                action=plan.action,
                values=_jsonable(plan.values),
                errors=plan.errors,
                changes=_jsonable(plan.changes),
                matched_pk=plan.matched_pk,
                match_note=plan.match_note[:300],
            )
        )
        done += 1
        heartbeat.done = done
        if done % _PROGRESS_EVERY == 0:
            _beat(batch, token)
    # The rows and the status land together, written only by the worker still holding the
    # batch: a worker killed halfway leaves no rows behind, a late one writes none.
    with transaction.atomic():
        _lock_claimed(batch, BatchStatus.CHECKING, token)
        ImportRow.objects.filter(batch=batch).delete()
        ImportRow.objects.bulk_create(pending, batch_size=_CHUNK)
        _finish_check(batch, token, counts, done, started, message=hint)


def _check_failed(batch: ImportBatch, token: str, **fields: Any) -> None:
    """The file cannot be read (or lacks a required column): checking → failed, for good."""
    batch_transition(
        batch=batch,
        from_status=BatchStatus.CHECKING,
        to_status=BatchStatus.FAILED,
        where={"claim": token},
        checked_at=timezone.now(),
        **fields,
    )


def _skipped_note(numbers: list[int]) -> str:
    """Rows left out as not data (合计 rows, notes under the table), named so none is lost."""
    if not numbers:
        return ""
    shown = "、".join(str(n) for n in numbers[:20]) + ("…" if len(numbers) > 20 else "")
    return _("第 %(rows)s 行是合计行或表格下方的说明，不是数据，未导入（共 %(n)d 行）。") % {
        "rows": shown,
        "n": len(numbers),
    }


def _kind_hint(headers: list[str], kind: str, columns: dict[int, str]) -> str:
    """A word when the headers fit another data type better (项目台账 uploaded as 客商名录):
    the dry run of the wrong type 'works' and lists thousands of puzzling rows."""
    best, best_count = None, len(columns)
    for other in ImportKind.values:
        if other == kind:
            continue
        found = parsing.guess_columns(headers, other)
        if len(found) > best_count and all(
            f in found.values() for f in parsing.REQUIRED_FIELDS[other]
        ):
            best, best_count = other, len(found)
    if best is None:
        return ""
    return _(
        "这个文件的表头更像“%(better)s”（可识别 %(n)d 列，按“%(kind)s”只识别 %(m)d 列）。"
        "如果选错了数据类型，请重新上传并选择“%(better)s”。"
    ) % {
        "better": ImportKind(best).label,
        "n": best_count,
        "kind": ImportKind(kind).label,
        "m": len(columns),
    }


def _finish_check(
    batch: ImportBatch,
    token: str,
    counts: dict[str, int],
    done: int,
    started: float,
    message: str = "",
) -> None:
    batch_transition(
        batch=batch,
        from_status=BatchStatus.CHECKING,
        to_status=BatchStatus.CHECKED,
        where={"claim": token},
        processed_rows=done,
        created_count=counts[RowAction.CREATE],
        updated_count=counts[RowAction.UPDATE],
        unchanged_count=counts[RowAction.UNCHANGED],
        duplicate_count=counts[RowAction.DUPLICATE],
        error_count=counts[RowAction.ERROR],
        checked_at=timezone.now(),
        seconds_checking=round(time.monotonic() - started, 2),
        heartbeat_at=timezone.now(),
        message=message,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _chunks(values: Iterable[Any], size: int = 5000) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


_VISIT_KIND_SYNONYMS = {
    "拜访": VisitKind.VISIT,
    "走访": VisitKind.VISIT,
    "外出走访": VisitKind.VISIT,
    "接待": VisitKind.RECEPTION,
    "来访": VisitKind.RECEPTION,
    "考察": VisitKind.INSPECTION,
    "实地考察": VisitKind.INSPECTION,
    "洽谈": VisitKind.NEGOTIATION,
    "电话": VisitKind.CALL,
    "视频": VisitKind.CALL,
    "视频会议": VisitKind.CALL,
    "推介会": VisitKind.EVENT,
    "活动": VisitKind.EVENT,
}
_SOURCE_SYNONYMS = {
    "以商招商": SourceChannel.INVESTOR_REFERRAL,
    "驻点": SourceChannel.STATIONED,
    "展会": SourceChannel.EVENT,
    "活动": SourceChannel.EVENT,
    "部门": SourceChannel.DEPARTMENT,
    "科技": SourceChannel.RESEARCH,
}
_REGION_SYNONYMS = {
    "国内": Region.DOMESTIC,
    "中国": Region.DOMESTIC,
    "内资": Region.DOMESTIC,
    "港": Region.HONG_KONG,
    "中国香港": Region.HONG_KONG,
    "美国": Region.NORTH_AMERICA,
    "加拿大": Region.NORTH_AMERICA,
    "德国": Region.EUROPE,
    "新加坡": Region.SINGAPORE_ASEAN,
}
_STATUS_SYNONYMS = {
    "已签约": LeadStatus.SIGNED,
    "洽谈中": LeadStatus.NEGOTIATING,
    "已放弃": LeadStatus.DROPPED,
    "已否决": LeadStatus.REJECTED,
}
_INDUSTRY_SYNONYMS = {"电子": Industry.ELECTRONICS, "装备制造": Industry.EQUIPMENT}


class Planner:
    """Reads a table's rows into values, matches them with existing records, says what to do."""

    kind: str = ""
    model: type[Investor] | type[Lead] | type[Visit] | type[Project] | type[Term] = Investor
    resolver: InvestorResolver  # set by the planners of rows that name an investor

    def __init__(self, batch: ImportBatch, table: parsing.Table, columns: dict[int, str]):
        self.batch = batch
        self.table = table
        self.columns = columns
        self.header_of = {name: table.headers[index] for index, name in columns.items()}
        self.unit_of_column = {
            name: parsing.header_unit(table.headers[index]) for index, name in columns.items()
        }
        self.actor = batch.uploaded_by
        self.today = today()
        visible_units = units_visible_to(self.actor)
        self.units_by_name: dict[str, Unit] = {}
        for unit in Unit.objects.all():
            for label in (unit.name, unit.short_name):
                if label:
                    self.units_by_name[parsing.normalize_header(label)] = unit
        self.visible_unit_ids = set(visible_units.values_list("pk", flat=True))

    # Values ------------------------------------------------------------------------

    def read(self, raw: dict[str, Any], number: int, plan: RowPlan) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in raw.items():
            index = next(i for i, n in self.columns.items() if n == name)
            if (number, index) in self.table.formulas_without_value:
                plan.error(
                    self.header_of[name],
                    _(
                        "该单元格是公式但没有计算结果，请在 Excel 中打开并保存，或复制后“粘贴为数值”。"
                    ),
                )
                continue
            try:
                values[name] = self.convert(name, value)
            except CellError as exc:
                plan.error(self.header_of[name], exc.args[0])
        return values

    def convert(self, name: str, value: Any) -> Any:
        if name in parsing.DATE_FIELDS:
            parsed = parsing.parse_date(value)
            if parsed is not None and parsed > self.today:
                raise CellError(_("日期 %(d)s 晚于今天。") % {"d": parsed.isoformat()})
            return parsed
        if name in parsing.AMOUNT_FIELDS:
            return parsing.parse_amount(value, column_unit=self.unit_of_column.get(name, ""))
        if name == "industry":
            return parsing.parse_choice(value, Industry, synonyms=_INDUSTRY_SYNONYMS)
        if name == "region":
            return parsing.parse_choice(value, Region, synonyms=_REGION_SYNONYMS)
        if name == "kind":
            return parsing.parse_choice(value, VisitKind, synonyms=_VISIT_KIND_SYNONYMS)
        if name == "source_channel":
            return parsing.parse_choice(value, SourceChannel, synonyms=_SOURCE_SYNONYMS)
        if name == "chain_role":
            return parsing.parse_choice(value, ChainRole)
        if name == "status":
            return parsing.parse_choice(value, LeadStatus, synonyms=_STATUS_SYNONYMS)
        if name == "credit_code":
            code = normalize_credit_code(parsing.parse_text(value))
            if code and not is_valid_credit_code(code):
                raise CellError(
                    _("统一社会信用代码“%(code)s”格式或校验位不正确。") % {"code": code}
                )
            return code
        if name == "promo_id":
            text = parsing.parse_text(value)
            if text and not text.isdigit():
                raise CellError(_("系统编号应为数字。"))
            return int(text) if text else None
        if name == "unit":
            text = parsing.parse_text(value)
            if not text:
                return None
            unit = self.units_by_name.get(parsing.normalize_header(text))
            if unit is None:
                raise CellError(
                    _("单位“%(name)s”不存在，请使用系统中的单位名称。") % {"name": text}
                )
            if unit.pk not in self.visible_unit_ids:
                raise CellError(_("您不能为单位“%(name)s”导入数据。") % {"name": text})
            return unit.pk
        return parsing.parse_text(value)

    def records(self) -> Iterator[tuple[int, RowPlan]]:
        for number, raw in parsing.iter_records(self.table, self.columns):
            plan = RowPlan()
            plan.values = self.read(raw, number, plan)
            yield number, plan

    def plan_all(self) -> Iterator[tuple[int, RowPlan]]:
        rows = list(self.records())
        self.prefetch([plan.values for _n, plan in rows])
        for number, plan in rows:
            self.row_number = number
            self.plan(plan)
            yield number, plan

    def prefetch(self, values: list[dict[str, Any]]) -> None:
        self.by_pk = {}
        self.by_external = {}
        pks = [v["promo_id"] for v in values if v.get("promo_id")]
        for chunk in _chunks(pks):
            for obj in self.visible().filter(pk__in=chunk):
                self.by_pk[obj.pk] = obj
        ext = [v["external_id"] for v in values if v.get("external_id")]
        for chunk in _chunks(ext):
            for obj in self.model.objects.filter(
                source_system=SOURCE_SYSTEM, external_id__in=chunk
            ):
                self.by_external[obj.external_id] = obj

    def visible(self) -> QuerySet[Any]:
        raise NotImplementedError

    def prefetch_editable(self, records: Iterable[Any]) -> None:
        """Which of the records rows may match the importer may change: one query per chunk."""
        self.editable_ids: set[int] = set(self.by_pk)
        pks = {obj.pk for obj in records} - self.editable_ids
        for chunk in _chunks(pks):
            self.editable_ids.update(
                self.visible().filter(pk__in=chunk).values_list("pk", flat=True)
            )

    def may_see(self, obj: Any) -> bool:
        """The importer may see ``obj`` (one query per record not already known visible)."""
        known = getattr(self, "editable_ids", None)
        if obj.pk in self.by_pk or (known is not None and obj.pk in known):
            return True
        return self.visible().filter(pk=obj.pk).exists()

    def held_elsewhere(self, plan: RowPlan, obj: Any, column: str, *, refuse: bool) -> None:
        """A row matches a record the importer may not see: name only its unit, never its
        fields (the API answers 404 for it), and decide nothing from its values either —
        "unchanged" against "different" would tell them."""
        plan.changes = []
        plan.matched_pk = None
        message = _("已被其他单位登记：%(unit)s。") % {"unit": obj.unit.name}
        if refuse:
            plan.match_note = ""
            plan.error(
                column,
                message + _("导入不能查看或修改该记录，请在系统中申请协办或撞单协调。"),
            )
        else:
            plan.action = RowAction.UNCHANGED
            plan.match_note = message + _("本行不导入。")

    def match_common(self, plan: RowPlan) -> Any:
        values = plan.values
        if values.get("promo_id"):
            obj = self.by_pk.get(values["promo_id"])
            if obj is None:
                plan.error(
                    self.header_of["promo_id"],
                    _("系统编号 %(pk)s 不存在或您无权修改。") % {"pk": values["promo_id"]},
                )
                return None
            plan.match_note = _("按系统编号匹配")
            return obj
        if values.get("external_id") and values["external_id"] in self.by_external:
            plan.match_note = _("按外部编号匹配")
            return self.by_external[values["external_id"]]
        return None

    def compare(self, plan: RowPlan, obj: Any, fields: Iterable[str], *, applies: bool) -> None:
        """Fill plan.changes with the fields the file changes; unchanged if there are none."""
        plan.matched_pk = obj.pk
        for name in fields:
            if name not in plan.values:
                continue
            new = plan.values[name]
            if new in (None, ""):
                continue  # an empty cell never blanks what the system knows
            old = getattr(obj, name)
            if isinstance(old, Decimal) and new is not None:
                same = old == Decimal(str(new))
            else:
                same = old == new
            if not same:
                plan.changes.append(
                    {"field": name, "column": self.header_of[name], "old": old, "new": new}
                )
        if not plan.changes:
            plan.action = RowAction.UNCHANGED
        elif applies:
            plan.action = RowAction.UPDATE
        else:
            plan.action = RowAction.UNCHANGED
            plan.match_note = (
                f"{plan.match_note}；"
                + _("以下差异未导入，请在系统中办理：")
                + "、".join(c["column"] for c in plan.changes)
            )

    def plan(self, plan: RowPlan) -> None:
        raise NotImplementedError


class InvestorResolver:
    """Finds the investor a row names (credit code first, then the normalised name)."""

    def __init__(self) -> None:
        self.by_code: dict[str, Investor] = {}
        self.by_name: dict[str, Investor] = {}
        self.by_core: dict[str, Investor] = {}
        self.new_in_file: dict[str, int] = {}

    def prefetch(self, names: Iterable[str], codes: Iterable[str]) -> None:
        normalized = {normalize_name(n) for n in names if n}
        normalized.discard("")
        cores = {core_name(n) for n in normalized}
        codes = {c for c in codes if c}
        for chunk in _chunks(codes):
            for inv in Investor.objects.filter(credit_code__in=chunk).select_related("unit"):
                self.by_code[inv.credit_code] = inv
        for chunk in _chunks(normalized):
            for inv in Investor.objects.filter(normalized_name__in=chunk).select_related("unit"):
                self.by_name.setdefault(inv.normalized_name, inv)
        for chunk in _chunks(cores):
            for inv in Investor.objects.filter(core_name__in=chunk).select_related("unit"):
                self.by_core.setdefault(inv.core_name, inv)

    def find(self, name: str, code: str) -> tuple[Investor | None, str]:
        if code and code in self.by_code:
            return self.by_code[code], _("按统一社会信用代码匹配")
        normalized = normalize_name(name)
        existing = self.by_name.get(normalized)
        if existing is not None and (not code or not existing.credit_code):
            return existing, _("按规范化名称匹配")
        return None, ""

    def similar(self, name: str) -> Investor | None:
        normalized = normalize_name(name)
        return self.by_core.get(core_name(normalized)) if normalized else None


class InvestorPlanner(Planner):
    kind = ImportKind.INVESTORS
    model = Investor
    FIELDS = (
        "name",
        "name_en",
        "credit_code",
        "industry",
        "region",
        "province_or_country",
        "city",
        "notes",
    )

    def visible(self) -> QuerySet[Any]:
        from leads.selectors import investors_visible_to

        return investors_visible_to(self.actor)

    def prefetch(self, values: list[dict[str, Any]]) -> None:
        super().prefetch(values)
        self.resolver = InvestorResolver()
        self.resolver.prefetch(
            [v.get("name", "") for v in values], [v.get("credit_code", "") for v in values]
        )
        self.seen: dict[str, int] = {}

    def plan(self, plan: RowPlan) -> None:
        values = plan.values
        name = values.get("name", "")
        if not name:
            plan.error(self.header_of["name"], _("客商名称不能为空。"))
            return
        if not normalize_name(name):
            plan.error(self.header_of["name"], _("客商名称不能只包含公司类型或标点。"))
            return
        key = values.get("credit_code") or normalize_name(name)
        if key in self.seen:
            plan.error(
                self.header_of["name"], _("与第 %(row)s 行是同一客商。") % {"row": self.seen[key]}
            )
            return
        self.seen[key] = self.row_number
        obj = self.match_common(plan)
        if plan.errors:
            return
        if obj is None:
            obj, note = self.resolver.find(name, values.get("credit_code", ""))
            plan.match_note = note
        if obj is not None:
            if not self.may_see(obj):
                self.held_elsewhere(plan, obj, self.header_of["name"], refuse=False)
                return
            self.compare(plan, obj, self.FIELDS, applies=True)
            return
        similar = self.resolver.similar(name)
        if similar is not None:
            plan.action = RowAction.DUPLICATE
            plan.matched_pk = similar.pk
            plan.match_note = _("与已有客商“%(name)s”（%(unit)s）相近") % {
                "name": similar.name,
                "unit": similar.unit.name,
            }
            return
        plan.action = RowAction.CREATE


def _investor_row_check(planner: Planner, plan: RowPlan) -> Investor | None:
    """Resolve the investor of a lead/visit/project row; None with a note if it is new."""
    values = plan.values
    name = values.get("investor", "")
    if not name:
        plan.error(planner.header_of["investor"], _("投资方名称不能为空。"))
        return None
    investor, _note = planner.resolver.find(name, values.get("credit_code", ""))
    if investor is None:
        if not normalize_name(name):
            plan.error(planner.header_of["investor"], _("投资方名称不能只包含公司类型或标点。"))
            return None
        similar = planner.resolver.similar(name)
        if similar is not None:
            plan.action = RowAction.DUPLICATE
            plan.match_note = _("投资方与已有客商“%(name)s”（%(unit)s）相近") % {
                "name": similar.name,
                "unit": similar.unit.name,
            }
        else:
            plan.match_note = _("将新建客商“%(name)s”") % {"name": name}
    return investor


class LeadPlanner(Planner):
    kind = ImportKind.LEADS
    model = Lead
    FIELDS = (
        "name",
        "industry",
        "estimated_amount",
        "estimated_fdi",
        "source_channel",
        "chain_role",
        "description",
    )

    def visible(self) -> QuerySet[Any]:
        from leads.selectors import leads_visible_to

        return leads_visible_to(self.actor)

    def prefetch(self, values: list[dict[str, Any]]) -> None:
        super().prefetch(values)
        self.resolver = InvestorResolver()
        self.resolver.prefetch(
            [v.get("investor", "") for v in values], [v.get("credit_code", "") for v in values]
        )
        investor_ids = {
            i.pk for i in (*self.resolver.by_code.values(), *self.resolver.by_name.values())
        }
        self.leads_by_key: dict[tuple[int, str], Lead] = {}
        self.holders: dict[int, list[Lead]] = {}
        for chunk in _chunks(investor_ids):
            for lead in Lead.objects.filter(investor_id__in=chunk).select_related("unit"):
                self.leads_by_key.setdefault((lead.investor_id, normalize_name(lead.name)), lead)
                if lead.status in OPEN_LEAD_STATUSES:
                    self.holders.setdefault(lead.investor_id, []).append(lead)
        self.prefetch_editable([*self.leads_by_key.values(), *self.by_external.values()])
        self.seen: set[tuple[str, str]] = set()
        # New leads of this file by (investor, unit): a second one is a same-unit duplicate.
        self.new_leads: dict[tuple[Any, Any], int] = {}

    def plan(self, plan: RowPlan) -> None:
        values = plan.values
        if not values.get("name"):
            plan.error(self.header_of["name"], _("项目名称不能为空。"))
        investor = _investor_row_check(self, plan)
        if plan.errors:
            return
        key = (normalize_name(values["investor"]), normalize_name(values["name"]))
        if key in self.seen:
            plan.error(self.header_of["name"], _("文件中已有同一投资方的同名项目。"))
            return
        self.seen.add(key)
        obj = self.match_common(plan)
        if plan.errors:
            return
        if obj is None and investor is not None:
            obj = self.leads_by_key.get((investor.pk, normalize_name(values["name"])))
            if obj is not None:
                plan.match_note = _("按投资方+项目名称匹配")
        if obj is not None:
            if obj.pk not in self.editable_ids and not self.may_see(obj):
                self.held_elsewhere(plan, obj, self.header_of["name"], refuse=True)
                return
            self._plan_update(plan, obj)
            return
        if values.get("source_channel") == SourceChannel.INTERMEDIARY:
            self._intermediary_error(plan)
            return
        if values.get("status") not in (None, "", LeadStatus.INFORMATION):
            plan.match_note = "；".join(
                filter(
                    None,
                    [plan.match_note, _("新登记的项目信息为“信息”状态，其后的状态请在系统中办理")],
                )
            )
        unit_pk = values.get("unit") or self.batch.unit_id
        if investor is not None:
            held = [lead for lead in self.holders.get(investor.pk, []) if lead.unit_id != unit_pk]
            if held:
                plan.error(
                    self.header_of["investor"],
                    _("%(unit)s 已在跟进该客商的项目信息（防撞单），请在系统中申请协办或撞单协调。")
                    % {"unit": held[0].unit.name},
                )
                return
        # Same-unit duplicates (decision 0013): an import never confirms a second open lead
        # of one unit on one investor; the officer registers it in promo, where the form
        # names the first and asks.
        if investor is not None:
            same = [lead for lead in self.holders.get(investor.pk, []) if lead.unit_id == unit_pk]
            if same:
                newest = max(same, key=lambda lead: (lead.created_at, lead.pk))
                plan.error(
                    self.header_of["investor"],
                    _(
                        "本单位已有该客商在跟进的项目信息“%(name)s”（编号 %(pk)s）。如是同一项目"
                        "请勿重复导入；确属另一个项目的，请在系统中登记并确认。"
                    )
                    % {"name": newest.name, "pk": newest.pk},
                )
                return
        investor_key = investor.pk if investor is not None else normalize_name(values["investor"])
        first_row = self.new_leads.setdefault((investor_key, unit_pk), self.row_number)
        if first_row != self.row_number:
            plan.error(
                self.header_of["investor"],
                _(
                    "文件第 %(row)d 行已为本单位登记该客商的项目信息，同一单位在同一客商只能导入"
                    "一条；确属另一个项目的，请在系统中登记并确认。"
                )
                % {"row": first_row},
            )
            return
        if plan.action != RowAction.DUPLICATE:
            plan.action = RowAction.CREATE

    def _intermediary_error(self, plan: RowPlan) -> None:
        plan.error(
            self.header_of["source_channel"],
            _("中介招商的项目信息须注明中介人，请在系统中登记，或改为其他来源后导入。"),
        )

    def _plan_update(self, plan: RowPlan, obj: Lead) -> None:
        """A known lead: its own fields update through lead_update; status and unit never do."""
        values = plan.values
        editable = obj.pk in self.editable_ids
        self.compare(plan, obj, self.FIELDS, applies=True)
        if (
            any(c["field"] == "source_channel" for c in plan.changes)
            and values["source_channel"] == SourceChannel.INTERMEDIARY
            and obj.intermediary_id is None
        ):
            self._intermediary_error(plan)
        if plan.changes and not editable:
            plan.error(
                plan.changes[0]["column"],
                _("该项目信息由%(unit)s跟进，您无权修改。") % {"unit": obj.unit.name},
            )
        if values.get("status") and values["status"] != obj.status:
            plan.error(
                self.header_of["status"],
                _(
                    "状态与系统（%(status)s）不同：导入不能变更状态，请在项目信息页通过"
                    "“确认有效”“进入洽谈”“放弃”等操作办理。"
                )
                % {"status": obj.get_status_display()},
            )
        if values.get("unit") and values["unit"] != obj.unit_id:
            plan.error(
                self.header_of["unit"],
                _("责任单位与系统（%(unit)s）不同，导入不能修改责任单位。")
                % {"unit": obj.unit.name},
            )


class VisitPlanner(Planner):
    kind = ImportKind.VISITS
    model = Visit
    FIELDS = ("visited_on", "kind", "summary", "city", "next_step", "next_step_due")

    def visible(self) -> QuerySet[Any]:
        from leads.selectors import visits_visible_to

        return visits_visible_to(self.actor)

    def prefetch(self, values: list[dict[str, Any]]) -> None:
        super().prefetch(values)
        self.resolver = InvestorResolver()
        self.resolver.prefetch(
            [v.get("investor", "") for v in values], [v.get("credit_code", "") for v in values]
        )
        investor_ids = {
            i.pk for i in (*self.resolver.by_code.values(), *self.resolver.by_name.values())
        }
        self.visits_by_key: dict[tuple[Any, ...], Visit] = {}
        self.leads_by_key: dict[tuple[int, str], Lead] = {}
        for chunk in _chunks(investor_ids):
            for visit in Visit.objects.filter(investor_id__in=chunk):
                self.visits_by_key.setdefault(
                    self._key(visit.investor_id, visit.visited_on, visit.kind, visit.summary), visit
                )
            for lead in self_leads(self.actor).filter(investor_id__in=chunk):
                self.leads_by_key.setdefault((lead.investor_id, normalize_name(lead.name)), lead)
        self.prefetch_editable([*self.visits_by_key.values(), *self.by_external.values()])
        self.seen: set[tuple[Any, ...]] = set()

    @staticmethod
    def _key(investor_id: int, visited_on: Any, kind: str, summary: Any) -> tuple[Any, ...]:
        return (investor_id, visited_on, kind, "".join(str(summary).split()))

    def plan(self, plan: RowPlan) -> None:
        values = plan.values
        if not values.get("visited_on") and "visited_on" not in [e["column"] for e in plan.errors]:
            plan.error(self.header_of["visited_on"], _("走访日期不能为空。"))
        if not values.get("summary"):
            plan.error(self.header_of["summary"], _("洽谈内容不能为空。"))
        values.setdefault("kind", "")
        kind_given = bool(values["kind"])
        if not values["kind"]:
            values["kind"] = VisitKind.VISIT
        if values.get("unit") and values["unit"] != self.actor.unit_id:
            plan.error(
                self.header_of["unit"], _("走访记录登记在导入人所在单位，请只导入本单位的走访。")
            )
        if values.get("next_step_due") and not values.get("next_step"):
            plan.error(self.header_of["next_step_due"], _("设置了期限，请填写下一步工作。"))
        if (
            values.get("next_step_due")
            and values.get("visited_on")
            and values["next_step_due"] < values["visited_on"]
        ):
            plan.error(self.header_of["next_step_due"], _("下一步期限不能早于走访日期。"))
        investor = _investor_row_check(self, plan)
        if plan.errors:
            return
        key = (
            normalize_name(values["investor"]),
            values["visited_on"],
            values["kind"],
            "".join(values["summary"].split()),
        )
        if key in self.seen:
            plan.error(self.header_of["summary"], _("文件中已有同一天、同一客商、同样内容的走访。"))
            return
        self.seen.add(key)
        lead = None
        if investor is not None and values.get("lead"):
            lead = self.leads_by_key.get((investor.pk, normalize_name(values["lead"])))
            if lead is None:
                plan.error(
                    self.header_of["lead"],
                    _("未找到该投资方名下的项目信息“%(name)s”。") % {"name": values["lead"]},
                )
                return
            values["lead_pk"] = lead.pk
        elif values.get("lead"):
            plan.error(self.header_of["lead"], _("投资方是新客商，不能关联已有的项目信息。"))
            return
        obj = self.match_common(plan)
        if plan.errors:
            return
        if obj is None and investor is not None:
            obj = self.visits_by_key.get(
                self._key(investor.pk, values["visited_on"], values["kind"], values["summary"])
            )
            if obj is not None:
                plan.match_note = _("按客商+日期+类型+内容匹配")
        if obj is not None:
            if obj.pk not in self.editable_ids and not self.may_see(obj):
                self.held_elsewhere(plan, obj, self.header_of["summary"], refuse=True)
                return
            self._plan_update(plan, obj, investor, kind_given)
            return
        if plan.action != RowAction.DUPLICATE:
            plan.action = RowAction.CREATE

    def _plan_update(
        self, plan: RowPlan, obj: Visit, investor: Investor | None, kind_given: bool
    ) -> None:
        """A known visit: its own fields update through visit_update; investor and lead stay."""
        values = plan.values
        if investor is None or obj.investor_id != investor.pk:
            plan.error(
                self.header_of["investor"],
                _("客商与系统中该走访记录的客商不同，导入不能修改走访的客商。"),
            )
            return
        if values.get("lead_pk") and values["lead_pk"] != obj.lead_id:
            plan.error(
                self.header_of["lead"],
                _("项目信息与系统中该走访记录关联的不同，导入不能修改走访关联的项目信息。"),
            )
            return
        editable = obj.pk in self.editable_ids
        fields = [f for f in self.FIELDS if f != "kind" or kind_given]
        self.compare(plan, obj, fields, applies=True)
        if plan.changes and not editable:
            plan.error(
                plan.changes[0]["column"],
                _("该走访记录由%(unit)s登记，您无权修改。") % {"unit": obj.unit.name},
            )


def self_leads(actor: Officer) -> QuerySet[Lead]:
    from leads.selectors import leads_visible_to

    return leads_visible_to(actor)


class ProjectPlanner(Planner):
    kind = ImportKind.PROJECTS
    model = Project
    FIGURES = ("registered_capital", "contracted_fdi", "land_area")
    PLAN = ("groundbreaking_planned", "completed_planned", "producing_planned")
    ACTUAL = ("groundbreaking_actual", "completed_actual", "producing_actual")

    def visible(self) -> QuerySet[Any]:
        from projects.selectors import projects_visible_to

        return projects_visible_to(self.actor)

    def prefetch(self, values: list[dict[str, Any]]) -> None:
        super().prefetch(values)
        self.resolver = InvestorResolver()
        self.resolver.prefetch(
            [v.get("investor", "") for v in values], [v.get("credit_code", "") for v in values]
        )
        investor_ids = {
            i.pk for i in (*self.resolver.by_code.values(), *self.resolver.by_name.values())
        }
        self.projects_by_key: dict[tuple[int, str], Project] = {}
        for chunk in _chunks(investor_ids):
            for project in Project.objects.filter(investor_id__in=chunk):
                self.projects_by_key.setdefault(
                    (project.investor_id, normalize_name(project.name)), project
                )
        self.seen: set[tuple[str, str]] = set()
        from projects.selectors import accepted_evidence_kinds

        # The bureau's evidence rules (issue #15, finding 9), read once per batch.
        self.evidence_rules = {
            name: accepted_evidence_kinds(name.removesuffix("_actual")) for name in self.ACTUAL
        }

    def plan(self, plan: RowPlan) -> None:
        values = plan.values
        for name, message in (
            ("name", _("项目名称不能为空。")),
            ("contract_date", _("签约日期不能为空。")),
            ("total_investment", _("总投资不能为空，且须大于零。")),
        ):
            if not values.get(name) and self.header_of[name] not in [
                e["column"] for e in plan.errors
            ]:
                plan.error(self.header_of[name], message)
        self._check_dates(plan)
        investor = _investor_row_check(self, plan)
        if plan.errors:
            return
        key = (normalize_name(values["investor"]), normalize_name(values["name"]))
        if key in self.seen:
            plan.error(self.header_of["name"], _("文件中已有同一投资方的同名项目。"))
            return
        self.seen.add(key)
        obj = self.match_common(plan)
        if plan.errors:
            return
        if obj is None and investor is not None:
            obj = self.projects_by_key.get((investor.pk, normalize_name(values["name"])))
            if obj is not None:
                plan.match_note = _("按投资方+项目名称匹配")
        if obj is None:
            if plan.action != RowAction.DUPLICATE:
                plan.action = RowAction.CREATE
            self._check_stage_evidence(plan, None)
            return
        if not self.may_see(obj):
            self.held_elsewhere(plan, obj, self.header_of["name"], refuse=True)
            return
        self._check_stage_evidence(plan, obj)
        self.compare(
            plan,
            obj,
            ("total_investment", *self.FIGURES, *self.PLAN, *self.ACTUAL),
            applies=True,
        )
        fixed = [c for c in plan.changes if c["field"] in self.ACTUAL and c["old"] is not None]
        if fixed and plan.action == RowAction.UPDATE:
            plan.error(
                fixed[0]["column"],
                _("实际日期已登记为 %(old)s，导入不能修改已登记的阶段日期。")
                % {"old": fixed[0]["old"]},
            )
        if "contract_date" in values and values["contract_date"] != obj.contract_date:
            plan.error(
                self.header_of["contract_date"],
                _("签约日期与系统（%(d)s）不同，导入不能修改签约日期。") % {"d": obj.contract_date},
            )

    def _check_stage_evidence(self, plan: RowPlan, obj: Project | None) -> None:
        """A row may not move a project into a stage whose evidence the bureau requires: the
        ledger carries no files, and project_advance would refuse the change at the commit,
        taking the whole batch with it. Refused here, on its own row, while the other rows
        are checked as usual; a date the project already has moves nothing and passes."""
        values = plan.values
        for name in self.ACTUAL:
            accepted = self.evidence_rules[name]
            if values.get(name) is None or not accepted:
                continue
            if obj is not None and getattr(obj, name) is not None:
                continue
            stage = Stage(name.removesuffix("_actual"))
            plan.error(
                self.header_of[name],
                _(
                    "“%(stage)s”须附佐证材料（%(kinds)s），导入不能附文件：请删去该实际日期，"
                    "导入后在项目页面推进阶段并上传材料。"
                )
                % {
                    "stage": stage.label,
                    "kinds": _("、").join(str(EvidenceKind(k).label) for k in accepted),
                },
            )
            return

    def _check_dates(self, plan: RowPlan) -> None:
        values = plan.values
        previous = ("contract_date", values.get("contract_date"))
        for name in self.ACTUAL:
            value = values.get(name)
            if value is None:
                continue
            if previous[1] is None:
                plan.error(
                    self.header_of[name], _("须先有上一阶段的日期，才能填写该阶段的实际日期。")
                )
                return
            if value < previous[1]:
                plan.error(self.header_of[name], _("实际日期须按签约、开工、竣工、投产的顺序。"))
                return
            previous = (name, value)
        planned = [values.get(n) for n in ("contract_date", *self.PLAN)]
        known = [(i, d) for i, d in enumerate(planned) if d is not None]
        for (_i, earlier), (j, later) in pairwise(known):
            if later < earlier:
                plan.error(
                    self.header_of[("contract_date", *self.PLAN)[j]],
                    _("计划节点须按签约、开工、竣工、投产的顺序排列。"),
                )
                return


def _choice_labels(choices: type[Any], **more: Any) -> dict[str, str]:
    """A choice's labels in Chinese and in English as synonyms of its value (a ledger
    exported in either language reads back whatever language checks it), and ``more``."""
    synonyms: dict[str, str] = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for choice in choices:
                synonyms[parsing.normalize_header(str(choice.label))] = choice.value
    synonyms.update({parsing.normalize_header(k): v for k, v in more.items()})
    return synonyms


_METRIC_SYNONYMS = {
    "投资总额": Metric.TOTAL_INVESTMENT,
    "计划总投资": Metric.TOTAL_INVESTMENT,
    "固投": Metric.FIXED_ASSET,
    "注册资本": Metric.CAPITAL_PAID,
    "实缴注册资本": Metric.CAPITAL_PAID,
    "注册资本到位": Metric.CAPITAL_PAID,
    "用地面积": Metric.LAND,
    "土地面积": Metric.LAND,
    "亩均投资": Metric.INTENSITY,
    "产值": Metric.FULL_OUTPUT,
    "年产值": Metric.FULL_OUTPUT,
    "达产后年产值": Metric.FULL_OUTPUT,
    "税收": Metric.ANNUAL_TAX,
    "年纳税": Metric.ANNUAL_TAX,
    "年纳税额": Metric.ANNUAL_TAX,
    "用工": Metric.JOBS,
    "就业人数": Metric.JOBS,
    "新增就业": Metric.JOBS,
    "开工": Metric.START_BY,
    "竣工": Metric.COMPLETE_BY,
    "投产": Metric.PRODUCE_BY,
}
_AGREEMENT_KIND_SYNONYMS = {
    "主合同": AgreementKind.MAIN,
    "投资协议": AgreementKind.MAIN,
    "补充": AgreementKind.SUPPLEMENT,
    "补充合同": AgreementKind.SUPPLEMENT,
}
_CLAWBACK_SYNONYMS = {
    "按比例": ClawbackRule.PRO_RATA,
    "按比例追回": ClawbackRule.PRO_RATA,
    "全额": ClawbackRule.FULL,
    "全部追回": ClawbackRule.FULL,
}


def _title_key(title: str) -> str:
    """An agreement title as rows compare it: full-width folded, spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", title).split())


def _metric_unit(metric: str) -> str:
    """The unit in a metric's Chinese label: 万元, 亩, 万元/亩, or none (人数, dates)."""
    with translation.override("zh-hans"):
        return parsing.header_unit(str(Metric(metric).label))


class AgreementTermPlanner(Planner):
    """协议履约台账: one row per investor commitment (投资方承诺); the rows naming one agreement
    (same project, title and signing date, or the same 协议编号) create or update it once.

    The project is found as the projects ledger finds it — by its system id, or by investor
    and name; by name alone when exactly one project the importer sees has it — and is never
    created. A project the importer does not see is "not found". Rows are written by
    promo.agreements' services (agreement_create / term_add / term_update / agreement_update)
    for whoever may keep the project's agreements (``permissions.may_keep_agreement``); an
    import never records a figure, waives a commitment or touches an incentive."""

    kind = ImportKind.AGREEMENT_TERMS
    model = Term
    TERM_FIELDS = ("target", "due_on")
    # The row's column → the agreement's field.
    AGREEMENT_FIELDS = {
        "agreement_kind": "kind",
        "parties": "parties",
        "clawback_rule": "clawback_rule",
    }

    def __init__(self, batch: ImportBatch, table: parsing.Table, columns: dict[int, str]):
        super().__init__(batch, table, columns)
        self.metric_synonyms = _choice_labels(Metric, **_METRIC_SYNONYMS)
        self.kind_synonyms = _choice_labels(AgreementKind, **_AGREEMENT_KIND_SYNONYMS)
        self.clawback_synonyms = _choice_labels(ClawbackRule, **_CLAWBACK_SYNONYMS)

    def visible(self) -> QuerySet[Any]:
        return terms_visible_to(self.actor).select_related("agreement__project__unit")

    def convert(self, name: str, value: Any) -> Any:
        if name == "metric":
            return parsing.parse_choice(value, Metric, synonyms=self.metric_synonyms)
        if name == "agreement_kind":
            return parsing.parse_choice(value, AgreementKind, synonyms=self.kind_synonyms)
        if name == "clawback_rule":
            return parsing.parse_choice(value, ClawbackRule, synonyms=self.clawback_synonyms)
        if name == "due_on":
            return parsing.parse_date(value)  # a commitment falls due in the future
        if name == "target":
            return value  # read with its metric's unit (plan)
        if name == "project_id":
            text = parsing.parse_text(value)
            if text and not text.isdigit():
                raise CellError(_("项目系统编号应为数字。"))
            return int(text) if text else None
        return super().convert(name, value)

    def prefetch(self, values: list[dict[str, Any]]) -> None:
        from projects.selectors import projects_visible_to

        super().prefetch(values)
        for chunk in _chunks([t.pk for t in self.by_external.values()]):
            for term in Term.objects.filter(pk__in=chunk).select_related(
                "agreement__project__unit"
            ):
                self.by_external[term.external_id] = term
        self.resolver = InvestorResolver()
        self.resolver.prefetch(
            [v.get("investor", "") for v in values], [v.get("credit_code", "") for v in values]
        )
        investor_ids = {
            i.pk for i in (*self.resolver.by_code.values(), *self.resolver.by_name.values())
        }
        visible = projects_visible_to(self.actor).select_related("unit")
        self.projects_by_key: dict[tuple[int, str], Project] = {}
        for chunk in _chunks(investor_ids):
            for project in Project.objects.filter(investor_id__in=chunk).select_related("unit"):
                self.projects_by_key.setdefault(
                    (project.investor_id, normalize_name(project.name)), project
                )
        self.projects_by_name: dict[str, list[Project]] = {}
        names = {str(v["project"]).strip() for v in values if v.get("project")}
        for chunk in _chunks(names):
            for project in visible.filter(name__in=chunk):
                self.projects_by_name.setdefault(project.name.strip(), []).append(project)
        self.projects_by_pk: dict[int, Project] = {}
        pks = {v["project_id"] for v in values if v.get("project_id")}
        for chunk in _chunks(pks):
            for project in visible.filter(pk__in=chunk):
                self.projects_by_pk[project.pk] = project
        self.visible_project_ids: set[int] = set(self.projects_by_pk)
        for chunk in _chunks({p.pk for p in self.projects_by_key.values()}):
            self.visible_project_ids.update(
                visible.filter(pk__in=chunk).values_list("pk", flat=True)
            )
        for projects in self.projects_by_name.values():
            self.visible_project_ids.update(p.pk for p in projects)
        # The projects of the commitments the file names by id, seen (by_pk) or not.
        terms: dict[int, Term] = {
            t.pk: t for t in (*self.by_pk.values(), *self.by_external.values())
        }
        self.visible_project_ids.update(
            t.agreement.project_id for t in terms.values() if t.pk in self.by_pk
        )
        # The agreements of those projects, and those a 协议编号 names.
        self.agreements_by_project: dict[int, list[Agreement]] = {}
        self.agreements_by_external: dict[str, Agreement] = {}
        project_ids = self.visible_project_ids | {t.agreement.project_id for t in terms.values()}
        for chunk in _chunks(project_ids):
            for agreement in Agreement.objects.filter(project_id__in=chunk):
                self.agreements_by_project.setdefault(agreement.project_id, []).append(agreement)
        ext = {v["agreement_external_id"] for v in values if v.get("agreement_external_id")}
        for chunk in _chunks(ext):
            for agreement in Agreement.objects.filter(
                source_system=SOURCE_SYSTEM, external_id__in=chunk
            ).select_related("project__unit"):
                self.agreements_by_external[agreement.external_id] = agreement
        self.terms_by_key: dict[tuple[int, str, date], Term] = {}
        agreement_ids = {a.pk for group in self.agreements_by_project.values() for a in group}
        for chunk in _chunks(agreement_ids):
            for term in Term.objects.filter(agreement_id__in=chunk).order_by("id"):
                self.terms_by_key.setdefault((term.agreement_id, term.metric, term.due_on), term)
        # Each project's 主办, for may_keep_agreement without a query per project.
        self.lead_officers: dict[int, int] = {}
        for chunk in _chunks(project_ids):
            self.lead_officers.update(
                Assignment.objects.filter(
                    project_id__in=chunk, role=AssignmentRole.LEAD
                ).values_list("project_id", "officer_id")
            )
        # Which commitments named by 承诺编号 the importer sees: one query, not one a row.
        self.prefetch_editable(self.by_external.values())
        self.may_keep: dict[int, bool] = {}
        # In this file: agreements by (project, title) and by 协议编号, commitments by key.
        self.file_agreements: dict[tuple[int, str], tuple[int, dict[str, Any]]] = {}
        self.file_external: dict[str, tuple[int, tuple[int, str, Any]]] = {}
        self.file_terms: dict[tuple[str, str, date], int] = {}
        self.agreement_changes_at: dict[int, int] = {}

    # The row --------------------------------------------------------------------------

    def plan(self, plan: RowPlan) -> None:
        values = plan.values
        errored = {e["column"] for e in plan.errors}
        for name, message in (
            ("title", _("协议名称不能为空。")),
            ("signed_on", _("签订日期不能为空。")),
            ("metric", _("承诺事项不能为空。")),
            ("due_on", _("承诺期限不能为空。")),
        ):
            if not values.get(name) and self.header_of[name] not in errored:
                plan.error(self.header_of[name], message)
        if (
            not values.get("project")
            and not values.get("project_id")
            and not values.get("promo_id")
        ):
            plan.error(self.header_of["project"], _("项目名称不能为空。"))
        self._read_target(plan)
        if (
            values.get("due_on")
            and values.get("signed_on")
            and values["due_on"] < values["signed_on"]
        ):
            plan.error(self.header_of["due_on"], _("承诺期限不能早于协议签订日期。"))
        if plan.errors:
            return
        term = self._match_term(plan)
        if plan.errors:
            return
        project = self._project(plan, term)
        if project is None or plan.errors:
            return
        if not self._may_keep(project):
            plan.error(
                self.header_of["project"],
                _("只有主办人、本单位负责人或局领导可以登记协议履约情况。"),
            )
            return
        agreement = self._agreement(plan, project, term)
        if plan.errors:
            return
        values["project_pk"] = project.pk
        if agreement is not None:
            values["agreement_pk"] = agreement.pk
        else:
            values["agreement_key"] = (
                f"{project.pk}|{_title_key(values['title'])}|{values['signed_on']}"
            )
        if term is None and agreement is not None:
            term = self.terms_by_key.get((agreement.pk, values["metric"], values["due_on"]))
            if term is not None:
                plan.match_note = _("按协议+承诺事项+承诺期限匹配")
        key = (
            str(agreement.pk if agreement is not None else values["agreement_key"]),
            values["metric"],
            values["due_on"],
        )
        first = self.file_terms.setdefault(key, self.row_number)
        if first != self.row_number:
            plan.error(
                self.header_of["metric"],
                _("与第 %(row)d 行是同一协议、同一承诺事项和承诺期限。") % {"row": first},
            )
            return
        if term is None:
            self._plan_new_term(plan, agreement)
        else:
            self._plan_known_term(plan, term, agreement)
        if plan.errors or agreement is None:
            return
        self._agreement_changes(plan, agreement)

    def _read_target(self, plan: RowPlan) -> None:
        """The target, in its metric's unit: 万元 (a 亿元 header or suffix scales it), 亩,
        人 — a money unit on a land or jobs commitment is an error, not a guess."""
        values = plan.values
        if "target" not in values:
            return
        raw, metric = values.pop("target"), values.get("metric")
        header = self.header_of["target"]
        column_unit = self.unit_of_column.get("target", "")
        try:
            if metric and metric not in DATE_METRICS and _metric_unit(metric) != "万元":
                text = unicodedata.normalize("NFKC", str(raw if raw is not None else ""))
                if "元" in text or column_unit.startswith("亿"):
                    raise CellError(
                        _("“%(metric)s”的承诺值不是金额，请按其单位填写数字。")
                        % {"metric": Metric(metric).label}
                    )
                column_unit = ""
            amount = parsing.parse_amount(raw, column_unit=column_unit)
        except CellError as exc:
            plan.error(header, exc.args[0])
            return
        if amount is not None:
            values["target"] = amount

    def _match_term(self, plan: RowPlan) -> Term | None:
        """The commitment the row's 系统编号 or 外部编号 names; another unit's is an error."""
        term: Term | None = self.match_common(plan)
        if term is None or plan.errors:
            return None
        if term.pk not in self.by_pk and not self.may_see(term):
            plan.match_note = ""
            plan.error(
                self.header_of["external_id"],
                _("外部编号 %(id)s 的承诺属于其他单位（%(unit)s）的协议，导入不能查看或修改。")
                % {"id": term.external_id, "unit": term.agreement.project.unit.name},
            )
            return None
        return term

    def _project(self, plan: RowPlan, term: Term | None) -> Project | None:
        values = plan.values
        column = self.header_of.get("project") or self.header_of.get("project_id", "")
        name = str(values.get("project") or "").strip()
        project: Project | None
        if term is not None:
            # Seen already (_match_term): the commitment's own project.
            project = term.agreement.project
            self.visible_project_ids.add(project.pk)
            given = values.get("project_id")
            if (given and given != project.pk) or (
                name and normalize_name(name) != normalize_name(project.name)
            ):
                plan.error(
                    column,
                    _("项目与系统中该承诺所属的项目（%(name)s）不同，导入不能把承诺移到其他项目。")
                    % {"name": project.name},
                )
                return None
        elif values.get("project_id"):
            project = self.projects_by_pk.get(values["project_id"])
        elif values.get("investor"):
            investor, _note = self.resolver.find(values["investor"], values.get("credit_code", ""))
            project = (
                self.projects_by_key.get((investor.pk, normalize_name(name)))
                if investor is not None
                else None
            )
        else:
            found = self.projects_by_name.get(name, [])
            if values.get("unit"):
                found = [p for p in found if p.unit_id == values["unit"]]
            if len(found) > 1:
                plan.error(
                    column,
                    _(
                        "有 %(n)d 个名为“%(name)s”的项目，无法确定是哪一个：请填写投资方或"
                        "项目系统编号。"
                    )
                    % {"n": len(found), "name": name},
                )
                return None
            project = found[0] if found else None
        if project is None or project.pk not in self.visible_project_ids:
            plan.error(
                column,
                _("未找到项目“%(name)s”，或您无权查看该项目。导入不会新建项目，请先登记项目。")
                % {"name": name or values.get("project_id")},
            )
            return None
        if values.get("unit") and values["unit"] != project.unit_id:
            plan.error(
                self.header_of["unit"],
                _("责任单位与该项目的责任单位（%(unit)s）不同。") % {"unit": project.unit.name},
            )
            return None
        return project

    def _may_keep(self, project: Project) -> bool:
        if project.pk not in self.may_keep:
            # The 主办 as a list annotates it (permissions.lead_officer_id reads it).
            setattr(project, "lead_officer_pk", self.lead_officers.get(project.pk))  # noqa: B010
            self.may_keep[project.pk] = permissions.may_keep_agreement(self.actor, project)
        return self.may_keep[project.pk]

    def _agreement(self, plan: RowPlan, project: Project, term: Term | None) -> Agreement | None:
        """The row's agreement if it exists (None: the file creates it); errors on the plan
        when the row's title, date or 协议编号 contradict the system or an earlier row."""
        values = plan.values
        title, signed_on = values["title"], values["signed_on"]
        ext = values.get("agreement_external_id", "")
        agreement: Agreement | None = None
        if term is not None:
            agreement = term.agreement
        elif ext and ext in self.agreements_by_external:
            agreement = self.agreements_by_external[ext]
            if agreement.project_id != project.pk:
                held = agreement.project_id not in self.visible_project_ids
                plan.error(
                    self.header_of["agreement_external_id"],
                    (
                        _("协议编号 %(id)s 属于其他单位（%(unit)s）的协议，导入不能查看或修改。")
                        if held
                        else _("协议编号 %(id)s 已用于另一个项目（%(name)s）的协议。")
                    )
                    % {
                        "id": ext,
                        "unit": agreement.project.unit.name,
                        "name": agreement.project.name,
                    },
                )
                return None
        if agreement is not None:
            if _title_key(agreement.title) != _title_key(title) or agreement.signed_on != signed_on:
                plan.error(
                    self.header_of["title"],
                    _(
                        "协议名称或签订日期与系统中的协议（“%(title)s”，%(date)s 签订）不同，"
                        "导入不能修改协议名称或签订日期。"
                    )
                    % {"title": agreement.title, "date": agreement.signed_on.isoformat()},
                )
                return None
            if ext and agreement.external_id != ext:
                plan.error(
                    self.header_of["agreement_external_id"],
                    _("协议编号与系统中该协议的编号（%(id)s）不同。")
                    % {"id": agreement.external_id or "—"},
                )
                return None
        else:
            for known in self.agreements_by_project.get(project.pk, []):
                if _title_key(known.title) != _title_key(title):
                    continue
                if known.signed_on != signed_on:
                    plan.error(
                        self.header_of["signed_on"],
                        _(
                            "该项目已有名为“%(title)s”的协议，签订日期为 %(date)s：同一协议名称"
                            "不能用于不同签订日期的协议。补充协议请另取名称。"
                        )
                        % {"title": known.title, "date": known.signed_on.isoformat()},
                    )
                    return None
                agreement = known
                break
        self._same_in_file(plan, project, ext)
        if plan.errors:
            return None
        if agreement is None:
            plan.match_note = _("将新建协议“%(title)s”") % {"title": title}
            if (
                values.get("agreement_kind") == AgreementKind.SUPPLEMENT
                and signed_on < project.contract_date
            ):
                plan.error(
                    self.header_of["signed_on"], _("补充协议的签订日期不能早于项目签约日期。")
                )
        return agreement

    def _same_in_file(self, plan: RowPlan, project: Project, ext: str) -> None:
        """Rows naming one agreement agree on its date, 协议编号, kind, parties and rule."""
        values = plan.values
        title_key = _title_key(values["title"])
        first_row, first = self.file_agreements.setdefault(
            (project.pk, title_key), (self.row_number, values)
        )
        if first_row != self.row_number:
            if first["signed_on"] != values["signed_on"]:
                plan.error(
                    self.header_of["signed_on"],
                    _(
                        "第 %(row)d 行的同名协议签订日期为 %(date)s：同一协议名称不能用于不同"
                        "签订日期的协议。"
                    )
                    % {"row": first_row, "date": first["signed_on"].isoformat()},
                )
                return
            for name in ("agreement_external_id", *self.AGREEMENT_FIELDS):
                mine, theirs = values.get(name), first.get(name)
                if mine not in (None, "") and theirs not in (None, "") and mine != theirs:
                    plan.error(
                        self.header_of[name],
                        _("与第 %(row)d 行是同一协议，但“%(column)s”不同。")
                        % {"row": first_row, "column": self.header_of[name]},
                    )
                    return
        if ext:
            same = (project.pk, title_key, values["signed_on"])
            ext_row, named = self.file_external.setdefault(ext, (self.row_number, same))
            if named != same:
                plan.error(
                    self.header_of["agreement_external_id"],
                    _("协议编号 %(id)s 在第 %(row)d 行用于另一份协议。")
                    % {"id": ext, "row": ext_row},
                )

    def _plan_new_term(self, plan: RowPlan, agreement: Agreement | None) -> None:
        values = plan.values
        if values.get("waived_reason"):
            plan.error(self.header_of["waived_reason"], self._no_waiver())
            return
        if values["metric"] not in DATE_METRICS and not values.get("target"):
            plan.error(
                self.header_of.get("target") or self.header_of["metric"],
                _("承诺值不能为空，且须大于零。"),
            )
            return
        if values["metric"] in DATE_METRICS and values.get("target"):
            plan.error(self.header_of["target"], self._date_target())
            return
        if agreement is not None and values["due_on"] < agreement.signed_on:
            plan.error(self.header_of["due_on"], _("承诺期限不能早于协议签订日期。"))
            return
        plan.action = RowAction.CREATE

    def _plan_known_term(self, plan: RowPlan, term: Term, agreement: Agreement | None) -> None:
        values = plan.values
        if values["metric"] != term.metric:
            plan.error(
                self.header_of["metric"],
                _("承诺事项与系统（%(metric)s）不同，导入不能修改承诺事项。")
                % {"metric": term.get_metric_display()},
            )
            return
        if term.metric in DATE_METRICS and values.get("target"):
            plan.error(self.header_of["target"], self._date_target())
            return
        if "waived_reason" in values and values["waived_reason"] != term.waived_reason:
            plan.error(self.header_of["waived_reason"], self._no_waiver())
            return
        self.compare(plan, term, self.TERM_FIELDS, applies=True)
        if plan.changes and term.waived_at is not None:
            plan.error(plan.changes[0]["column"], _("该承诺已豁免，不能修改。"))

    @staticmethod
    def _no_waiver() -> str:
        return _("导入不能豁免承诺或修改豁免理由：豁免须由本单位负责人或局领导在协议页办理。")

    @staticmethod
    def _date_target() -> str:
        return _("按期开工、竣工、投产的承诺以项目阶段的实际日期为准，承诺值请留空或填 0。")

    def _agreement_changes(self, plan: RowPlan, agreement: Agreement) -> None:
        """The agreement's kind, parties or rule the file changes: on its first row only."""
        values = plan.values
        changes = []
        for name, field_name in self.AGREEMENT_FIELDS.items():
            new = values.get(name)
            old = getattr(agreement, field_name)
            if new not in (None, "") and new != old:
                changes.append(
                    {"field": name, "column": self.header_of[name], "old": old, "new": new}
                )
        if not changes:
            return
        first = self.agreement_changes_at.setdefault(agreement.pk, self.row_number)
        if first != self.row_number:
            plan.match_note = "；".join(
                filter(None, [plan.match_note, _("协议的修改见第 %(row)d 行") % {"row": first}])
            )
            return
        if values.get("agreement_kind") == AgreementKind.SUPPLEMENT and (
            agreement.signed_on
            < Project.objects.values_list("contract_date", flat=True).get(pk=agreement.project_id)
        ):
            plan.error(
                self.header_of["agreement_kind"], _("补充协议的签订日期不能早于项目签约日期。")
            )
            return
        plan.changes.extend(changes)
        plan.action = RowAction.UPDATE if plan.action != RowAction.CREATE else RowAction.CREATE


PLANNERS: dict[str, type[Planner]] = {
    ImportKind.INVESTORS: InvestorPlanner,
    ImportKind.LEADS: LeadPlanner,
    ImportKind.VISITS: VisitPlanner,
    ImportKind.PROJECTS: ProjectPlanner,
    ImportKind.AGREEMENT_TERMS: AgreementTermPlanner,
}


# --- confirm and commit ----------------------------------------------------------------


def batch_confirm(
    *, batch: ImportBatch, actor: Officer, confirm_distinct: bool = False
) -> ImportBatch:
    """The officer confirms the dry run; the commit is queued (nothing is written yet)."""
    if batch.uploaded_by_id != actor.pk:
        raise PermissionDenied(_("只有上传人可以确认导入。"))
    batch.refresh_from_db()
    if batch.status != BatchStatus.CHECKED:
        raise TransitionNotAllowed(
            _("该批次当前为“%(s)s”，不能确认导入。") % {"s": batch.get_status_display()}
        )
    if batch.error_count:
        raise rule(
            "file", _("还有 %(n)d 行有错误，请修改文件后重新上传。") % {"n": batch.error_count}
        )
    if batch.duplicate_count and not confirm_distinct:
        raise rule(
            "confirm_distinct",
            _("有 %(n)d 行与已有客商相近，请核对后勾选“确认为不同企业”，或修改文件。")
            % {"n": batch.duplicate_count},
        )
    ImportBatch.objects.filter(pk=batch.pk).update(
        confirm_distinct=confirm_distinct, confirmed_at=timezone.now()
    )
    # The dry run's count (every row checked) must not show as the commit's progress: the
    # bar would start full, then fall back to 16 % when the commit reports its first rows.
    ImportProgress.objects.filter(batch_id=batch.pk).delete()
    batch.refresh_from_db()
    return batch


def batch_commit(*, batch: ImportBatch) -> ImportBatch:
    """Write every row of a confirmed batch, or none: one transaction, the apps' own services."""
    token = _claim(batch, BatchStatus.CHECKED, BatchStatus.COMMITTING, confirmed_at__isnull=False)
    if token is None:
        return ImportBatch.objects.get(pk=batch.pk)
    with Heartbeat(batch, token) as heartbeat:
        _commit(batch, token, heartbeat)
    done = ImportBatch.objects.get(pk=batch.pk)
    if done.status in (BatchStatus.COMMITTED, BatchStatus.REFUSED):
        # The audit trail (安全审计): who imported which ledger, how many rows, how it ended.
        audit(
            "import",
            actor=Officer.objects.filter(pk=done.uploaded_by_id).first(),
            outcome="success" if done.status == BatchStatus.COMMITTED else "failed",
            obj=done,
            details={"kind": done.kind, "rows": done.total_rows, "status": done.status},
        )
    return done


def _commit(batch: ImportBatch, token: str, heartbeat: Heartbeat | None = None) -> None:
    heartbeat = heartbeat or Heartbeat(batch, token)  # not started: only counts
    started = time.monotonic()
    batch.refresh_from_db()
    actor = Officer.objects.get(pk=batch.uploaded_by_id)
    writer = Writer(batch, actor)
    row = None
    try:
        with transaction.atomic():
            # Held to the end: while this worker writes, nobody can take the batch back.
            _lock_claimed(batch, BatchStatus.COMMITTING, token)
            rows = batch.rows.exclude(action=RowAction.UNCHANGED).order_by("row_number")
            done = 0
            results: list[ImportRow] = []
            with contextlib.ExitStack() as context:
                for row in rows.iterator(chunk_size=_CHUNK):
                    if done % _ROWS_PER_CONTEXT == 0:
                        # A fresh history context (same actor, same why) every few hundred
                        # rows: pghistory upserts its context row with every tracked write,
                        # and one row updated 100,000 times in one transaction makes each
                        # upsert slower than the last.
                        context.close()
                        context.enter_context(audited(actor, batch.why))
                    row.record_pk = writer.apply(row)
                    results.append(row)
                    done += 1
                    heartbeat.done = done
            ImportRow.objects.bulk_update(results, ["record_pk"], batch_size=_CHUNK)
            batch_transition(
                batch=batch,
                from_status=BatchStatus.COMMITTING,
                to_status=BatchStatus.COMMITTED,
                where={"claim": token},
                processed_rows=batch.total_rows,
                committed_at=timezone.now(),
                seconds_committing=round(time.monotonic() - started, 2),
                message="",
            )
    except _ClaimLost:
        pass
    except DomainError as exc:
        where = _("第 %(row)d 行：") % {"row": row.row_number} if row is not None else ""
        batch_transition(
            batch=batch,
            from_status=BatchStatus.COMMITTING,
            to_status=BatchStatus.REFUSED,
            where={"claim": token},
            message=_("导入未完成，没有写入任何数据。%(where)s%(message)s")
            % {"where": where, "message": exc.message},
        )


def batch_resume_stalled() -> list[int]:
    """Take back batches whose worker died mid-check or mid-commit; returns those to re-send.

    A batch in checking or committing whose worker has not reported for
    PROMO_IMPORT_STALL_SECONDS goes back one step (checking → queued, committing → checked and
    still confirmed; a commit is one transaction, so nothing of it was written). After
    STALL_RETRIES times it fails with a message on its page instead. A committing worker that
    is alive holds its batch's row lock, which this skips, so a long commit is never taken back.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.PROMO_IMPORT_STALL_SECONDS)
    resend: list[int] = []
    with transaction.atomic():
        stalled = (
            ImportBatch.objects.select_for_update(skip_locked=True)
            .filter(status__in=(BatchStatus.CHECKING, BatchStatus.COMMITTING))
            .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True))
            .only("pk", "status", "claim", "stall_count")
        )
        for batch in stalled:
            checking = batch.status == BatchStatus.CHECKING
            held = {"claim": batch.claim}
            if batch.stall_count >= STALL_RETRIES:
                batch_transition(
                    batch=batch,
                    from_status=batch.status,
                    to_status=BatchStatus.FAILED if checking else BatchStatus.REFUSED,
                    where=held,
                    claim="",
                    message=(
                        _(
                            "后台检查中断了 %(n)d 次，已停止。文件可能过大或过于复杂，"
                            "请拆分后重新上传；如仍失败，请联系管理员。"
                        )
                        if checking
                        else _(
                            "后台导入中断了 %(n)d 次，已停止，没有写入任何数据。"
                            "请重新上传该文件；如仍失败，请联系管理员。"
                        )
                    )
                    % {"n": batch.stall_count + 1},
                    checked_at=timezone.now() if checking else F("checked_at"),
                )
                continue
            batch_transition(
                batch=batch,
                from_status=batch.status,
                to_status=BatchStatus.QUEUED if checking else BatchStatus.CHECKED,
                where=held,
                claim="",
                heartbeat_at=None,
                stall_count=F("stall_count") + 1,
                message=_("后台任务中断，已自动重新排队（第 %(n)d 次）。")
                % {"n": batch.stall_count + 1},
            )
            resend.append(batch.pk)
    return resend


def batch_files_prune() -> int:
    """Delete uploaded files older than PROMO_IMPORT_FILE_RETENTION_DAYS (台账文件清理).

    The batch and its row results stay (what was imported, by whom, row by row); only the
    stored file is cleared. A batch still to be checked keeps its file whatever its age.
    """
    cutoff = timezone.now() - timedelta(days=settings.PROMO_IMPORT_FILE_RETENTION_DAYS)
    old = ImportBatch.objects.filter(created_at__lt=cutoff, file_pruned_at__isnull=True).exclude(
        status__in=(BatchStatus.QUEUED, BatchStatus.CHECKING)
    )
    return update_in_batches(old, {"content": b"", "file_pruned_at": timezone.now()})


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in parsing.DATE_FIELDS:
        if out.get(name):
            out[name] = date.fromisoformat(out[name])
    for name in parsing.AMOUNT_FIELDS:
        if out.get(name) not in (None, ""):
            out[name] = Decimal(out[name])
    return out


class Writer:
    """Applies stored rows through the services, inside the commit's transaction."""

    def __init__(self, batch: ImportBatch, actor: Officer):
        self.batch = batch
        self.actor = actor
        self.units = {u.pk: u for u in Unit.objects.all()}
        self.new_investors: dict[str, Investor] = {}
        self.new_agreements: dict[str, Agreement] = {}

    def unit(self, values: dict[str, Any]) -> Unit:
        return self.units[values.get("unit") or self.batch.unit_id]

    def apply(self, row: ImportRow) -> int | None:
        values = _typed(row.values)
        method: Callable[[ImportRow, dict[str, Any]], int] = getattr(
            self, f"apply_{self.batch.kind}"
        )
        return method(row, values)

    def _external(self, values: dict[str, Any]) -> dict[str, Any]:
        if values.get("external_id"):
            return {"source_system": SOURCE_SYSTEM, "external_id": values["external_id"]}
        return {}

    def investor_for(self, values: dict[str, Any]) -> Investor:
        resolver = InvestorResolver()
        code = values.get("credit_code", "")
        resolver.prefetch([values["investor"]], [code])
        found, _note = resolver.find(values["investor"], code)
        if found is not None:
            return found
        key = code or normalize_name(values["investor"])
        if key not in self.new_investors:
            self.new_investors[key] = lead_services.investor_create(
                actor=self.actor,
                name=values["investor"],
                credit_code=code,
                industry=values.get("industry") or Industry.OTHER,
                unit=self.unit(values),
                confirm_distinct=self.batch.confirm_distinct,
            )
        return self.new_investors[key]

    def apply_investors(self, row: ImportRow, values: dict[str, Any]) -> int:
        fields = {k: values[k] for k in InvestorPlanner.FIELDS if values.get(k) not in (None, "")}
        if row.action == RowAction.UPDATE:
            investor = Investor.objects.get(pk=self._matched(row))
            changes = {c["field"]: fields[c["field"]] for c in row.changes}
            investor = lead_services.investor_update(
                actor=self.actor, investor=investor, reason=self.batch.why, **changes
            )
        else:
            fields.setdefault("industry", Industry.OTHER)
            investor = lead_services.investor_create(
                actor=self.actor,
                unit=self.unit(values),
                confirm_distinct=self.batch.confirm_distinct,
                **fields,
                **self._external(values),
            )
        if values.get("contact_name"):
            # Contacts have no service of their own; they are written under the import's context
            # (the phone number encrypted by its field). The same name, or the same phone number
            # (blind index: nothing decrypted to compare), is the contact already there.
            name = values["contact_name"][:50]
            phone = values.get("contact_phone", "")[:40]
            same = Q(name=name)
            if blind_index("phone", phone):
                same |= Q(phone_index=blind_index("phone", phone))
            if not InvestorContact.objects.filter(same, investor=investor).exists():
                InvestorContact.objects.create(
                    investor=investor, name=name, phone=phone, is_primary=True
                )
        return investor.pk

    def _matched(self, row: ImportRow) -> int:
        """The record an update row was matched with when the file was checked."""
        assert row.matched_pk is not None  # the check sets it on every update row
        return row.matched_pk

    def _changes(self, row: ImportRow, values: dict[str, Any]) -> dict[str, Any]:
        return {c["field"]: values[c["field"]] for c in row.changes}

    def apply_leads(self, row: ImportRow, values: dict[str, Any]) -> int:
        if row.action == RowAction.UPDATE:
            lead = lead_services.lead_update(
                actor=self.actor,
                lead=Lead.objects.get(pk=self._matched(row)),
                changes=self._changes(row, values),
                why=self.batch.why,
            )
            return lead.pk
        lead = lead_services.lead_create(
            actor=self.actor,
            investor=self.investor_for(values),
            name=values["name"],
            industry=values.get("industry") or Industry.OTHER,
            source_channel=values.get("source_channel") or SourceChannel.OTHER,
            chain_role=values.get("chain_role") or ChainRole.NONE,
            estimated_amount=values.get("estimated_amount") or 0,
            estimated_fdi=values.get("estimated_fdi") or 0,
            description=values.get("description", ""),
            unit=self.unit(values),
            first_contact_on=values.get("first_contact_on"),
            **self._external(values),
        )
        return lead.pk

    def apply_visits(self, row: ImportRow, values: dict[str, Any]) -> int:
        if row.action == RowAction.UPDATE:
            visit = lead_services.visit_update(
                actor=self.actor,
                visit=Visit.objects.get(pk=self._matched(row)),
                changes=self._changes(row, values),
                why=self.batch.why,
            )
            return visit.pk
        lead = Lead.objects.get(pk=values["lead_pk"]) if values.get("lead_pk") else None
        visit = lead_services.visit_log(
            actor=self.actor,
            kind=values.get("kind") or VisitKind.VISIT,
            visited_on=values["visited_on"],
            investor=self.investor_for(values),
            summary=values["summary"],
            lead=lead,
            city=values.get("city", ""),
            next_step=values.get("next_step", ""),
            next_step_due=values.get("next_step_due"),
            **self._external(values),
        )
        return visit.pk

    def apply_projects(self, row: ImportRow, values: dict[str, Any]) -> int:
        if row.action == RowAction.UPDATE:
            project = Project.objects.get(pk=self._matched(row))
            changed = {c["field"] for c in row.changes}
            figures = {}
            if "total_investment" in changed:
                increments = project.total_investment - project.signed_investment
                figures["signed_investment"] = values["total_investment"] - increments
            figures.update({f: values[f] for f in ProjectPlanner.FIGURES if f in changed})
            if figures:
                project = project_services.project_update_figures(
                    project=project, actor=self.actor, reason=self.batch.why, **figures
                )
            if changed & set(ProjectPlanner.PLAN):
                project = project_services.project_set_plan(
                    project=project,
                    actor=self.actor,
                    reason=self.batch.why,
                    **{f: values.get(f) or getattr(project, f) for f in ProjectPlanner.PLAN},
                )
        else:
            project = project_services.project_create(
                actor=self.actor,
                investor=self.investor_for(values),
                name=values["name"],
                industry=values.get("industry") or Industry.OTHER,
                contract_date=values["contract_date"],
                total_investment=values["total_investment"],
                unit=self.unit(values),
                registered_capital=values.get("registered_capital") or 0,
                contracted_fdi=values.get("contracted_fdi") or 0,
                land_area=values.get("land_area") or 0,
                park_name=values.get("park_name", ""),
                description=values.get("description", ""),
                groundbreaking_planned=values.get("groundbreaking_planned"),
                completed_planned=values.get("completed_planned"),
                producing_planned=values.get("producing_planned"),
                **self._external(values),
            )
        self._advance(project, values)
        return project.pk

    def _advance(self, project: Project, values: dict[str, Any]) -> None:
        """Actual dates in the ledger move the project on, one stage at a time (project_advance)."""
        for stage in STAGE_ORDER[1:]:
            actual = values.get(f"{stage}_actual")
            if actual is None:
                break
            if STAGE_ORDER.index(project.stage) >= STAGE_ORDER.index(stage):
                continue
            project, _event = project_services.project_advance(
                project=project, actor=self.actor, to_stage=stage, actual_date=actual
            )

    def apply_agreement_terms(self, row: ImportRow, values: dict[str, Any]) -> int:
        """A commitment row: its agreement (created by the first row naming it, or changed by
        the first row changing it), then the commitment added or corrected — each through
        promo.agreements' services, with their checks and log entries."""
        agreement = self._agreement_of(values)
        fields = AgreementTermPlanner.AGREEMENT_FIELDS
        changes = {
            fields[c["field"]]: values[c["field"]] for c in row.changes if c["field"] in fields
        }
        if changes:
            agreement = agreement_services.agreement_update(
                agreement=agreement, actor=self.actor, reason=self.batch.why, **changes
            )
        if row.matched_pk is not None:
            term = Term.objects.get(pk=row.matched_pk)
            corrections = {
                c["field"]: values[c["field"]]
                for c in row.changes
                if c["field"] in AgreementTermPlanner.TERM_FIELDS
            }
            if corrections:
                term = agreement_services.term_update(
                    term=term, actor=self.actor, reason=self.batch.why, **corrections
                )
            return term.pk
        term = agreement_services.term_add(
            agreement=agreement,
            actor=self.actor,
            metric=values["metric"],
            target=values.get("target") or 0,
            due_on=values["due_on"],
            **self._external(values),
        )
        return term.pk

    def _agreement_of(self, values: dict[str, Any]) -> Agreement:
        if values.get("agreement_pk"):
            return Agreement.objects.get(pk=values["agreement_pk"])
        key = values["agreement_key"]
        if key not in self.new_agreements:
            external = values.get("agreement_external_id", "")
            self.new_agreements[key] = agreement_services.agreement_create(
                project=Project.objects.get(pk=values["project_pk"]),
                actor=self.actor,
                kind=values.get("agreement_kind") or AgreementKind.MAIN,
                title=values["title"],
                signed_on=values["signed_on"],
                parties=values.get("parties", ""),
                clawback_rule=values.get("clawback_rule") or ClawbackRule.PRO_RATA,
                source_system=SOURCE_SYSTEM if external else "",
                external_id=external,
            )
        return self.new_agreements[key]
