"""Admin of bulletins: read-only ledgers, with publish, regenerate and XLSX as actions.

Bulletins are written only by promo.reports.services; nothing here edits a figure.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from promo.errors import DomainError

from . import services
from .choices import Figure
from .models import Bulletin, BulletinAmendment, BulletinLine


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BulletinLineInline(ReadOnlyMixin, admin.TabularInline):
    model = BulletinLine
    fields = ["position", "unit", "rank", *Figure.values]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "kind", "period_start", "period_end", "status", "published_at"]
    list_filter = ["kind", "status"]
    date_hierarchy = "period_start"
    readonly_fields = [
        "kind",
        "period_start",
        "period_end",
        "status",
        "generated_at",
        "published_at",
        "published_by",
    ]
    inlines = [BulletinLineInline]
    actions = ["publish", "regenerate", "download_xlsx"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Actions need the change permission; the fields stay read-only all the same.
        return bool(request.user.is_active and request.user.is_staff)

    @admin.action(description=_("发布所选通报"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Bulletin]) -> None:
        for bulletin in queryset:
            try:
                services.bulletin_publish(bulletin=bulletin, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{bulletin}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("已发布：%s") % bulletin, messages.SUCCESS)

    @admin.action(description=_("重新生成（草稿重算，已发布的只记录更正）"))
    def regenerate(self, request: HttpRequest, queryset: QuerySet[Bulletin]) -> None:
        for bulletin in queryset:
            services.bulletin_generate(kind=bulletin.kind, period_start=bulletin.period_start)
        self.message_user(request, _("已重新生成。"), messages.SUCCESS)

    @admin.action(description=_("下载 XLSX"))
    def download_xlsx(self, request: HttpRequest, queryset: QuerySet[Bulletin]) -> HttpResponse:
        bulletin = queryset.order_by("-period_start").first()
        if bulletin is None:
            return None
        response = HttpResponse(
            services.bulletin_export_xlsx(bulletin=bulletin),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        filename = f"bulletin-{bulletin.kind}-{bulletin.period_start:%Y-%m-%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


@admin.register(BulletinAmendment)
class BulletinAmendmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "line",
        "figure",
        "old_value",
        "new_value",
        "detected_at",
        "changed_by",
        "reason",
    ]
    list_filter = ["figure"]
    list_select_related = ["line__bulletin", "line__unit", "changed_by"]
