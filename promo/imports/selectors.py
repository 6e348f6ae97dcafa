"""Reads of the imports app: an officer sees the batches they uploaded (a chief sees all)."""

from __future__ import annotations

from django.db.models import QuerySet

from officers.models import Officer
from officers.selectors import scope_for

from .models import ExportJob, ImportBatch, ImportRow


def batches_visible_to(officer: Officer) -> QuerySet[ImportBatch]:
    """Batches the officer uploaded, or every batch of the officer's units' scope for a head."""
    scope = scope_for(officer)
    qs = ImportBatch.objects.select_related("unit", "uploaded_by").defer("content")
    if scope.is_everything:
        return qs
    if scope.officer_id is None:
        return qs.none()
    if scope.own_records_only:
        return qs.filter(uploaded_by_id=officer.pk)
    return qs.filter(unit_id__in=scope.unit_ids)


def batch_rows(batch: ImportBatch, action: str = "") -> QuerySet[ImportRow]:
    qs = batch.rows.order_by("row_number")
    return qs.filter(action=action) if action else qs


def export_jobs_visible_to(officer: Officer) -> QuerySet[ExportJob]:
    """Export jobs are their requester's alone, a chief's included: the file holds what the
    requester may see, and nobody else downloads it."""
    if officer is None or not officer.pk:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requester_id=officer.pk)
