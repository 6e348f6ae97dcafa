"""The request being served, for receivers that record an event without being handed it
(a model saved from the admin, a device deleted by a reset)."""

from __future__ import annotations

import contextvars
from typing import Any

current_request: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "promo_audit_request", default=None
)
