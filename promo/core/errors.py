"""Domain errors: one place that names every refusal with a stable code.

Services raise these; the web views show ``message`` next to the field, the API maps
``code`` and ``status`` to its one error format.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule refused the change; nothing was written."""

    code = "domain_error"
    status = 400
    default_message = _("操作未完成。")

    def __init__(
        self,
        message: Any = None,
        *,
        field_errors: dict[str, list[Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.field_errors = field_errors or {}
        self.extra = extra or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.field_errors:
            data["fields"] = {
                name: [str(m) for m in messages] for name, messages in self.field_errors.items()
            }
        if self.extra:
            data.update(self.extra)
        return data


class RuleViolation(DomainError):
    """Input breaks a business rule (negative amount, date in the future, missing reason)."""

    code = "rule_violation"
    status = 400
    default_message = _("输入不符合规则。")


class EvidenceRequired(RuleViolation):
    """A stage change the bureau's evidence rules cover came without any evidence file."""

    code = "evidence_required"
    default_message = _("该阶段变更须附佐证材料。")


class EvidenceKindNotAccepted(RuleViolation):
    """The evidence carried is of no kind the bureau accepts for this stage change."""

    code = "evidence_kind_not_accepted"
    default_message = _("佐证材料类型不符合该阶段的要求。")


class TransitionNotAllowed(DomainError):
    """The transition table has no arrow from the current status to the requested one."""

    code = "transition_not_allowed"
    status = 409
    default_message = _("当前状态不允许此操作。")


class PermissionDenied(DomainError):
    """The acting officer may not change this record."""

    code = "permission_denied"
    status = 403
    default_message = _("您无权执行此操作。")


class DuplicateSuspected(DomainError):
    """A record that is probably the same already exists; the caller must choose."""

    code = "duplicate_suspected"
    status = 409
    default_message = _("已存在疑似重复的记录。")


class Conflict(DomainError):
    """The record changed or is held elsewhere; the caller must reload or choose."""

    code = "conflict"
    status = 409
    default_message = _("记录已被他人修改或占用。")


class HeldElsewhere(Conflict):
    """Another unit already follows this investor (防撞单): join it or file a claim instead."""

    code = "held_elsewhere"
    default_message = _("该客商已有其他单位在跟进的项目信息。")


class DuplicateInUnit(Conflict):
    """The same unit already follows this investor: a second open lead must name that one."""

    code = "duplicate_in_unit"
    default_message = _("本单位已有该投资方正在跟进的项目信息。")


def rule(field: str, message: Any) -> RuleViolation:
    """Build a RuleViolation for one field; ``raise rule("amount", _("…"))``."""
    return RuleViolation(message, field_errors={field: [message]})
