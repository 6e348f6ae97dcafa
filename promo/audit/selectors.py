"""Reads of the audit trail: the audit administrator's list, filtered."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from promo.audit.filters import AuditEntryFilter
from promo.audit.models import AuditEntry


def audit_entries(params: Any) -> tuple[QuerySet[AuditEntry], AuditEntryFilter]:
    """The trail filtered by the page's parameters, newest first (who may read it is the
    view's question: ``officers.permissions.may_read_audit_trail``)."""
    filters = AuditEntryFilter(params, queryset=AuditEntry.objects.order_by("-id"))
    rows = filters.qs if filters.is_valid() else AuditEntry.objects.none()
    return rows, filters
