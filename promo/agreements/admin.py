"""The agreement ledger in the admin: read-only. Every row is written by promo.agreements.services
from the agreement page (four eyes, log entries, computed amounts); the admin shows the rows and
their pghistory events, and offers no add, change or delete that would skip them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models

from promo.core.admin import HistoryLinkMixin, TrailAdmin

from .models import Agreement, AgreementLog, IncentiveRequest, Measurement, Promise, Term
from .selectors import (
    agreements_visible_to,
    measurements_visible_to,
    promises_visible_to,
    requests_visible_to,
    terms_visible_to,
)


@admin.register(Agreement)
class AgreementAdmin(HistoryLinkMixin, TrailAdmin):
    list_display = ("title", "project", "kind", "signed_on", "clawback_rule", "created_by")
    list_filter = ("kind", "clawback_rule")
    search_fields = ("title", "project__name", "parties")
    list_select_related = ("project", "created_by")
    date_hierarchy = "signed_on"

    def visible_to(self, officer: Any) -> models.QuerySet[Any]:
        return agreements_visible_to(officer)


@admin.register(Term)
class TermAdmin(HistoryLinkMixin, TrailAdmin):
    list_display = ("agreement", "metric", "target", "due_on", "waived_by")
    list_filter = ("metric",)
    search_fields = ("agreement__title", "agreement__project__name")
    list_select_related = ("agreement", "waived_by")

    def visible_to(self, officer: Any) -> models.QuerySet[Any]:
        return terms_visible_to(officer)


@admin.register(Measurement)
class MeasurementAdmin(HistoryLinkMixin, TrailAdmin):
    list_display = ("term", "measured_on", "value", "source", "recorded_by", "verified_by")
    search_fields = ("term__agreement__title", "source")
    list_select_related = ("term", "recorded_by", "verified_by")

    def visible_to(self, officer: Any) -> models.QuerySet[Any]:
        return measurements_visible_to(officer)


@admin.register(Promise)
class PromiseAdmin(HistoryLinkMixin, TrailAdmin):
    list_display = (
        "description",
        "agreement",
        "kind",
        "owner_unit",
        "due_on",
        "delivered_on",
        "payment",
    )
    list_filter = ("kind", "payment")
    search_fields = ("description", "agreement__title")
    list_select_related = ("agreement", "owner_unit")

    def visible_to(self, officer: Any) -> models.QuerySet[Any]:
        return promises_visible_to(officer)


@admin.register(IncentiveRequest)
class IncentiveRequestAdmin(HistoryLinkMixin, TrailAdmin):
    list_display = ("promise", "action", "amount", "status", "requested_by", "decided_by")
    list_filter = ("action", "status")
    search_fields = ("promise__description", "reason")
    list_select_related = ("promise", "requested_by", "decided_by")

    def visible_to(self, officer: Any) -> models.QuerySet[Any]:
        return requests_visible_to(officer)


@admin.register(AgreementLog)
class AgreementLogAdmin(TrailAdmin):
    list_display = ("agreement", "what", "actor", "created_at")
    list_filter = ("what",)
    search_fields = ("agreement__title", "note")
    list_select_related = ("agreement", "actor")
    date_hierarchy = "created_at"

    def visible_to(self, officer: Any) -> models.QuerySet[Any]:
        return AgreementLog.objects.filter(
            agreement__in=agreements_visible_to(officer).values("pk")
        )
