"""Admin of bulletins and alerts: read-only, with publish, regenerate, print and XLSX.

Bulletins are written only by promo.reports.services; nothing here edits a figure.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from officers import permissions
from promo.core.errors import DomainError

from . import services
from .choices import BulletinStatus, Figure
from .documents import document_context
from .exports import bulletin_download
from .models import (
    Alert,
    AlertNotice,
    Bulletin,
    BulletinAmendment,
    BulletinAmendmentCause,
    BulletinLine,
    WebhookChannel,
    WebhookDelivery,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BulletinLineInline(ReadOnlyMixin, admin.TabularInline):
    model = BulletinLine
    fields = ["position", "unit", "own_records_only", "rank", *Figure.values]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "kind", "period_start", "period_end", "status", "published_at"]
    list_filter = ["kind", "status"]
    date_hierarchy = "period_start"
    readonly_fields = [
        "print_page",
        "kind",
        "period_start",
        "period_end",
        "status",
        "generated_at",
        "made_up_at",
        "published_at",
        "published_by",
    ]
    inlines = [BulletinLineInline]
    actions = ["publish", "regenerate", "download_xlsx"]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/print/", view(self.print_view), name="reports_bulletin_print"),
            path("<int:pk>/xlsx/", view(self.xlsx_view), name="reports_bulletin_xlsx"),
            *super().get_urls(),
        ]

    @admin.display(description=_("打印 / 下载"))
    def print_page(self, obj: Bulletin) -> str:
        return format_html(
            '<a href="{}" target="_blank">{}</a> · <a href="{}">XLSX</a>',
            reverse("admin:reports_bulletin_print", args=[obj.pk]),
            _("打印版"),
            reverse("admin:reports_bulletin_xlsx", args=[obj.pk]),
        )

    def print_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        """The bulletin as a page fit to print (A4 landscape), amendments beside the figures."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        bulletin = get_object_or_404(self.get_queryset(request), pk=pk)
        context = {
            **document_context(bulletin),
            "official": False,
            "xlsx_url": reverse("admin:reports_bulletin_xlsx", args=[pk]),
        }
        return TemplateResponse(request, "reports/bulletin_print.html", context)

    def xlsx_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        return bulletin_download(get_object_or_404(self.get_queryset(request), pk=pk))

    # The bulletin is published to the whole bureau (公示通报): every officer who may use the
    # admin reads it once published; drafts stay with the chiefs, as on the web pages; only
    # chiefs publish or regenerate (the service checks publishing again).
    def get_queryset(self, request: HttpRequest) -> QuerySet[Bulletin]:
        qs = super().get_queryset(request)
        if permissions.may_read_draft_bulletin(request.user):
            return qs
        return qs.filter(status=BulletinStatus.PUBLISHED)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.may_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return permissions.may_use_admin(request.user)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return permissions.may_publish_bulletin(request.user)

    @admin.action(description=_("发布所选通报"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Bulletin]) -> None:
        for bulletin in queryset:
            try:
                services.bulletin_publish(bulletin=bulletin, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{bulletin}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("已发布：%s") % bulletin, messages.SUCCESS)

    @admin.action(
        description=_("重新生成（草稿重算，已发布的只记录更正）"), permissions=["publish"]
    )
    def regenerate(self, request: HttpRequest, queryset: QuerySet[Bulletin]) -> None:
        for bulletin in queryset:
            services.bulletin_generate(kind=bulletin.kind, period_start=bulletin.period_start)
        self.message_user(request, _("已重新生成。"), messages.SUCCESS)

    @admin.action(description=_("下载 XLSX"), permissions=["view"])
    def download_xlsx(self, request: HttpRequest, queryset: QuerySet[Bulletin]) -> HttpResponse:
        bulletin = queryset.order_by("-period_start").first()
        return bulletin_download(bulletin) if bulletin is not None else None


class BulletinAmendmentCauseInline(ReadOnlyMixin, admin.TabularInline):
    model = BulletinAmendmentCause
    fields = [
        "record_type",
        "record_id",
        "label",
        "old_part",
        "new_part",
        "changed_by",
        "changed_at",
        "reason_shown",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("修改原因"))
    def reason_shown(self, obj: BulletinAmendmentCause) -> str:
        return obj.reason_text


@admin.register(BulletinAmendment)
class BulletinAmendmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Amendments with their causes; those recorded before causes were kept show the old
    unit-wide guess (changed_by, reason) for what it was."""

    list_display = [
        "line",
        "figure",
        "old_value",
        "new_value",
        "detected_at",
        "causes_shown",
    ]
    list_filter = ["figure"]
    list_select_related = ["line__bulletin", "line__unit", "changed_by"]
    fields = [
        "line",
        "figure",
        "old_value",
        "new_value",
        "detected_at",
        "unlisted_causes",
        "changed_by",
        "reason",
    ]
    readonly_fields = fields
    inlines = [BulletinAmendmentCauseInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BulletinAmendment]:
        causes = BulletinAmendmentCause.objects.select_related("changed_by")
        return super().get_queryset(request).prefetch_related(Prefetch("causes", causes))

    @admin.display(description=_("更正原因"))
    def causes_shown(self, obj: BulletinAmendment) -> str:
        if obj.is_legacy:
            who = obj.changed_by.display_name if obj.changed_by_id else ""
            return "；".join(part for part in (str(who), obj.legacy_reason) if part)
        return "；".join(cause.summary for cause in obj.causes.all())


class AlertNoticeInline(ReadOnlyMixin, admin.TabularInline):
    model = AlertNotice
    fields = [
        "step",
        "recipient",
        "created_at",
        "read_at",
        "email_status",
        "email_attempts",
        "email_next_attempt_at",
        "email_last_error",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Alert)
class AlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "level",
        "rule",
        "message",
        "unit",
        "responsible",
        "opened_on",
        "resolved_on",
        "acknowledged_at",
    ]
    list_filter = ["level", "rule", ("resolved_on", admin.EmptyFieldListFilter)]
    list_select_related = ["unit", "responsible"]
    search_fields = ["detail"]
    readonly_fields = [
        "rule",
        "level",
        "message",
        "detail",
        "unit",
        "responsible",
        "project",
        "lead",
        "problem",
        "opened_on",
        "last_seen_on",
        "resolved_on",
        "acknowledged_at",
        "acknowledged_by",
    ]
    fields = readonly_fields
    inlines = [AlertNoticeInline]

    @admin.display(description=_("说明"))
    def message(self, obj: Alert) -> str:
        """The message in the reader's language; ``detail`` is the Chinese text as stored."""
        return obj.message


@admin.register(WebhookChannel)
class WebhookChannelAdmin(admin.ModelAdmin):
    """Channels are configuration, not figures: administrators add and change them here."""

    list_display = ["name", "style", "min_step", "is_active", "owner", "created_at"]
    list_filter = ["is_active", "style"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "channel",
        "alert",
        "step",
        "status",
        "created_at",
        "delivered_at",
        "attempts",
        "next_attempt_at",
        "failed_at",
        "last_error",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["channel", "alert"]
