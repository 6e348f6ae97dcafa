"""Admin of the imports app: batches are reviewed, never edited (history names them)."""

from __future__ import annotations

from django.contrib import admin

from .models import ExportJob, ImportBatch, ImportMapping, ImportRow


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


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Export jobs are read here (who exported what, with which filters); files are
    downloaded by their requester only, on their page."""

    list_display = ("pk", "requester", "kind", "fmt", "status", "total_rows", "created_at")
    list_filter = ("kind", "status")
    list_select_related = ("requester",)
    raw_id_fields = ("requester",)
    exclude = ("file",)
    readonly_fields = [f.name for f in ExportJob._meta.fields if f.name != "file"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
