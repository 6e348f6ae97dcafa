"""The audit trail's export columns (built by promo.core.exports: formulas neutralised).

Headers in Chinese whatever the language, as every export's (leads/exports.py); the choices' labels
are written in the reader's language."""

from __future__ import annotations

from promo.audit.choices import Action, Outcome
from promo.core.exports import column

COLUMNS = (
    column("编号", "id"),
    column("时间", "at"),
    column("用户名", "actor_username"),
    column("接口客户端", "api_client_id"),
    column("地址", "address"),
    column("操作", "action", labels=Action.choices),
    column("对象类型", "object_type"),
    column("对象编号", "object_id"),
    column("对象", "object_text"),
    column("结果", "outcome", labels=Outcome.choices),
    column("详情", "details"),
    column("摘要", "hash"),
)
