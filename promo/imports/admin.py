"""Admin of the imports app: batches are reviewed, never edited (history names them)."""

from __future__ import annotations

from django.contrib import admin

from .models import ImportBatch, ImportMapping, ImportRow


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = (
        "file_name",
        "kind",
        "unit",
        "uploaded_by",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "error_count",
        "created_at",
    )
    list_filter = ("kind", "status")
    search_fields = ("file_name",)
    exclude = ("content",)
    readonly_fields = [f.name for f in ImportBatch._meta.fields if f.name != "content"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportRow)
class ImportRowAdmin(admin.ModelAdmin):
    list_display = ("batch", "row_number", "action", "matched_pk", "record_pk")
    list_filter = ("action",)
    list_select_related = ("batch",)
    raw_id_fields = ("batch",)
    readonly_fields = [f.name for f in ImportRow._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    list_display = ("unit", "kind", "updated_by", "updated_at")
    list_filter = ("kind",)
