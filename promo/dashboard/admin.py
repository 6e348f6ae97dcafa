"""Admin of the cockpit's summary table: read-only, to see what is computed and how long it took."""

from __future__ import annotations

from django.contrib import admin

from .models import CockpitSnapshot


@admin.register(CockpitSnapshot)
class CockpitSnapshotAdmin(admin.ModelAdmin):
    list_display = ("key", "officer", "computed_at", "compute_ms", "read_at")
    list_select_related = ("officer",)
    ordering = ("-computed_at",)
    exclude = ("payload",)
    readonly_fields = ("key", "officer", "params", "computed_at", "compute_ms", "read_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
