"""Writes of the officers app: units, officers, targets."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from promo.core.audit import audited
from promo.core.errors import PermissionDenied, RuleViolation, rule
from promo.core.services import require_amount, require_text

from . import permissions
from .choices import Role, TargetMetric, UnitKind
from .models import Officer, Target, Unit


def _refuse_unless(allowed: bool, message: Any = None) -> None:
    if not allowed:
        raise PermissionDenied(message or _("只有局领导或系统管理员可以执行此操作。"))


def unit_create(
    *,
    actor: Officer,
    name: str,
    kind: str,
    parent: Unit | None = None,
    city: str = "",
    short_name: str = "",
) -> Unit:
    """Add a unit (单位) to the org tree."""
    _refuse_unless(permissions.may_manage_units(actor))
    name = require_text("name", name, _("请填写单位名称。"))
    if kind not in UnitKind.values:
        raise rule("kind", _("请选择单位类型。"))
    with transaction.atomic(), audited(actor, "unit_create"):
        try:
            with transaction.atomic():
                return Unit.objects.create(
                    name=name, kind=kind, parent=parent, city=city, short_name=short_name
                )
        except IntegrityError as exc:
            raise rule("name", _("已有同名单位。")) from exc


def officer_create(
    *,
    actor: Officer,
    username: str,
    password: str,
    full_name: str,
    unit: Unit | None,
    role: str = Role.OFFICER,
    title: str = "",
    phone: str = "",
    email: str = "",
    must_change_password: bool = True,
) -> Officer:
    """Open an account for an officer (干部) in a unit the actor manages.

    The password was chosen by the actor, not its owner: the officer changes it at the first
    sign-in (``must_change_password``, 等保 2.0 身份鉴别, issue #16)."""
    _refuse_unless(
        permissions.may_open_accounts(actor), _("只有局领导、系统管理员或单位负责人可以开设账号。")
    )
    if unit is None and permissions.needs_unit(role):
        raise rule("unit", _("请选择所在单位。"))
    _refuse_unless(permissions.may_open_account_in(actor, unit), _("您不能为该单位开设账号。"))
    _refuse_unless(
        permissions.may_grant_role(actor, role),
        _("局领导和管理员角色只能由安全管理员授予。"),
    )
    officer = Officer(
        username=username.strip(),
        full_name=full_name.strip(),
        unit=unit,
        role=role,
        title=title,
        phone=phone,
        email=email,
        must_change_password=must_change_password,
    )
    try:
        validate_password(password, officer)
    except ValidationError as exc:
        raise RuleViolation(exc.messages[0], field_errors={"password": exc.messages}) from exc
    officer.set_password(password)
    with transaction.atomic(), audited(actor, "officer_create"):
        try:
            with transaction.atomic():
                officer.save()
        except IntegrityError as exc:
            raise rule("username", _("该用户名已被使用。")) from exc
    return officer


def target_set(
    *,
    actor: Officer,
    year: int,
    metric: str,
    value: Any,
    unit: Unit | None = None,
    officer: Officer | None = None,
    reason: str = "",
) -> Target:
    """Set an annual target (下达目标任务) for a unit or an officer; changes keep their history.

    Chiefs set unit targets; a unit head breaks the unit's target down to its officers.
    """
    if (unit is None) == (officer is None):
        raise rule("unit", _("目标须下达到一个单位或一名干部。"))
    if metric not in TargetMetric.values:
        raise rule("metric", _("请选择指标。"))
    if not 2000 <= int(year) <= 2100:
        raise rule("year", _("年度不正确。"))
    amount = require_amount("value", value)
    if unit is not None:
        _refuse_unless(permissions.may_set_unit_target(actor))
    elif officer is not None:
        _refuse_unless(
            permissions.may_set_officer_target(actor, officer),
            _("只有单位负责人可以把目标分解到本单位干部。"),
        )
    with transaction.atomic(), audited(actor, reason or "target_set"):
        target, _created = Target.objects.select_for_update().update_or_create(
            year=year,
            metric=metric,
            unit=unit,
            officer=officer,
            defaults={"value": amount, "set_by": actor},
        )
        return target


def officer_set_language(*, officer: Officer, actor: Officer, language: str) -> Officer:
    """Save the officer's interface language (界面语言); it follows them to every device.

    An officer chooses their own language; a bureau administrator may set anyone's.
    """
    _refuse_unless(permissions.may_set_language(actor, officer), _("只能设置自己的界面语言。"))
    if language not in dict(Officer._meta.get_field("language").choices or []):
        raise rule("language", _("请选择界面语言。"))
    if officer.language == language:
        return officer
    officer.language = language
    with transaction.atomic(), audited(actor, "officer_set_language"):
        officer.save(update_fields=["language"])
    return officer


def _end_sessions(sessions: Any, why: str) -> int:
    """End these sessions: their session rows deleted (the browser is signed out at its next
    request), each kept in the history with when and why."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    keys = list(sessions.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    ended: int = sessions.update(ended_at=timezone.now(), ended_why=why)
    return ended


def officer_session_record(*, officer: Officer, session_key: str, ip: str, user_agent: str) -> Any:
    """A sign-in (登录): recorded, and the officer's oldest open sessions ended beyond
    ``PROMO_MAX_SESSIONS`` (a stolen password opens no endless parallel sessions)."""
    from django.conf import settings

    from .models import OfficerSession
    from .selectors import open_sessions_of

    with transaction.atomic():
        try:
            address: str | None = str(ipaddress.ip_address(ip))
        except ValueError:
            address = None
        row, _created = OfficerSession.objects.update_or_create(
            session_key=session_key,
            defaults={
                "officer": officer,
                "ip": address,
                "user_agent": (user_agent or "")[:200],
                "ended_at": None,
                "ended_why": "",
            },
        )
        keep = max(settings.PROMO_MAX_SESSIONS, 1)
        others = open_sessions_of(officer).exclude(pk=row.pk).order_by("-created_at", "-id")
        stale = list(others.values_list("pk", flat=True)[keep - 1 :])
        if stale:
            _end_sessions(OfficerSession.objects.filter(pk__in=stale), "cap")
        return row


def officer_session_closed(*, session_key: str, why: str = "signed_out") -> None:
    """The officer signed out of this session (its row ended; the session itself is flushed
    by Django)."""
    from django.utils import timezone

    from .models import OfficerSession

    OfficerSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        ended_at=timezone.now(), ended_why=why
    )


def officer_session_end(*, actor: Officer, officer_session: Any) -> Any:
    """End one of one's own sessions (another browser, a phone left signed in)."""
    from .models import OfficerSession
    from .selectors import sessions_visible_to

    if not sessions_visible_to(actor).filter(pk=officer_session.pk).exists():
        raise PermissionDenied()
    _end_sessions(
        OfficerSession.objects.filter(pk=officer_session.pk, ended_at__isnull=True),
        "ended_by_owner",
    )
    return OfficerSession.objects.get(pk=officer_session.pk)
