"""Small helpers shared by the services of every app."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Choices, Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from promo.core.errors import PermissionDenied, rule


def today() -> date:
    """Today in the bureau's time zone (Asia/Shanghai), not the server's."""
    return timezone.localdate()


# The earliest date a record of the bureau's work can carry. Investment promotion as this
# CRM records it (contacts, visits, contracts with outside investors) began with the reform
# and opening: the first special economic zones date from 1980. An earlier date is a typing
# or import slip ("0001-01-01", "1900-01-01" from an empty spreadsheet cell), and it would
# distort every duration and period figure computed from it.
EARLIEST_PLAUSIBLE_DATE = date(1980, 1, 1)


def require_not_future(field: str, value: date | None) -> None:
    """A date of the bureau's work: neither after today nor before 1980 (implausible)."""
    if value is None:
        return
    if value > today():
        raise rule(field, _("日期不能晚于今天。"))
    if value < EARLIEST_PLAUSIBLE_DATE:
        raise rule(
            field,
            _("日期不能早于 %(date)s。") % {"date": EARLIEST_PLAUSIBLE_DATE.isoformat()},
        )


def require_amount(field: str, value: Any, *, allow_zero: bool = True) -> Decimal:
    """A non-negative amount as Decimal, or a RuleViolation on that field."""
    try:
        amount = Decimal(str(value if value is not None else "0"))
    except (InvalidOperation, ValueError) as exc:
        raise rule(field, _("请输入有效的数字。")) from exc
    if not amount.is_finite():
        raise rule(field, _("请输入有效的数字。"))
    if amount < 0 or (not allow_zero and amount == 0):
        raise rule(field, _("金额必须大于零。") if not allow_zero else _("金额不能为负数。"))
    if amount >= Decimal("1e12"):
        raise rule(field, _("金额超出范围。"))
    return amount.quantize(Decimal("0.01"))


def require_text(field: str, value: str | None, message: Any) -> str:
    text = (value or "").strip()
    if not text:
        raise rule(field, message)
    return text


def require_choice(field: str, value: Any, choices: type[Choices]) -> str:
    """``value`` must be one of a TextChoices' values; a RuleViolation on ``field`` otherwise."""
    if value not in choices.values:
        raise rule(field, _("请从列表中选择。"))
    return str(value)


def touch(*querysets: QuerySet[Any]) -> None:
    """Move ``updated_at`` (and with it the ETag) of the rows whose representation shows
    something that just changed elsewhere: a nested name, the list of assignments. Call it
    in the writing service's transaction, so a mirror never sees one without the other."""
    now = timezone.now()
    for queryset in querysets:
        queryset.update(updated_at=now)


def touch_row(row: Model) -> None:
    """``touch`` for one row already loaded (and locked) by the service."""
    touch(type(row)._default_manager.filter(pk=row.pk))


_M = TypeVar("_M", bound=Model)


def lock_visible(visible: QuerySet[_M], obj: _M) -> _M:
    """Lock one row for update, inside what the actor may see; refuse otherwise.

    Lock first: an officer may advance the same record from phone and laptop at once, and
    the second request must see the first one's result, not a stale copy.
    """
    locked = visible.model._default_manager.select_for_update().filter(pk=obj.pk).first()
    if locked is None or not visible.filter(pk=obj.pk).exists():
        raise PermissionDenied()
    return locked


def lock_key(*parts: str) -> None:
    """Hold a lock on a key that may have no row yet, until the transaction ends.

    ``select_for_update`` locks rows; a key nobody has created yet has none, so two callers
    creating it at once would both find nothing. The second now waits here and then finds
    the first one's row. Keys are hashed to a PostgreSQL advisory lock: a rare collision of
    two keys only makes one wait for the other.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_key needs a transaction: the lock ends with it.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["\x1f".join(parts)])
