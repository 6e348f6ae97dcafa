"""Admin of campaigns: chiefs and administrators launch and change them through the services.

The metrics are entered as one line (``signed_amount:30, signed_count:20``) so that the
whole campaign goes through campaign_create / campaign_update in one call; the saved
metrics are listed read-only below.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from officers import permissions
from promo.core.admin import (
    BureauLevelAdminMixin,
    HistoryLinkMixin,
    ScopedAdmin,
    ScopedModelForm,
    TrailInline,
)
from promo.core.errors import RuleViolation

from . import services
from .choices import CampaignFigure
from .models import Campaign, CampaignMetric
from .selectors import campaigns_visible_to


class CampaignForm(ScopedModelForm):
    metrics_text = forms.CharField(
        label=_("排名指标与权重"),
        max_length=500,
        help_text=_("格式：指标:权重，逗号分隔。可用指标：%(names)s")
        % {"names": ", ".join(CampaignFigure.values)},
    )

    class Meta:
        model = Campaign
        fields = ("name", "start", "end", "unit", "rank_officers", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["metrics_text"].initial = ", ".join(
                f"{m.figure}:{m.weight.normalize():f}" for m in self.instance.metrics.all()
            )

    def clean_metrics_text(self):
        text = self.cleaned_data["metrics_text"]
        try:
            services.parse_metrics(text)
        except RuleViolation as refusal:
            raise forms.ValidationError(str(refusal.message)) from None
        return text


class CampaignMetricInline(TrailInline):
    model = CampaignMetric
    fields = ("figure", "weight")
    show_change_link = False


@admin.register(Campaign)
class CampaignAdmin(BureauLevelAdminMixin, HistoryLinkMixin, ScopedAdmin):
    # Switched off (启用), never deleted: a published league table stays on record.
    form = CampaignForm
    list_display = ("name", "start", "end", "unit", "rank_officers", "is_active", "created_by")
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("unit", "created_by")
    autocomplete_fields = ("unit",)
    inlines = (CampaignMetricInline,)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "start",
                    "end",
                    "unit",
                    "metrics_text",
                    "rank_officers",
                    "is_active",
                )
            },
        ),
        (_("系统"), {"fields": ("created_by", "created_at", "updated_at", "history_link")}),
    )
    add_fieldsets = (
        (
            None,
            {"fields": ("name", "start", "end", "unit", "metrics_text", "rank_officers")},
        ),
    )
    readonly_fields = ("created_by", "created_at", "updated_at", "history_link")
    change_editable = ("name", "start", "end", "unit", "metrics_text", "rank_officers", "is_active")

    def visible_to(self, officer):
        return campaigns_visible_to(officer)

    def may_manage(self, user):
        # The predicate campaign_create and campaign_update enforce.
        return permissions.may_manage_campaigns(user)

    def create_with_service(self, request, obj, form):
        data = form.cleaned_data
        return services.campaign_create(
            actor=request.user,
            name=data["name"],
            start=data["start"],
            end=data["end"],
            unit=data["unit"],
            metrics=data["metrics_text"],
            rank_officers=data.get("rank_officers", True),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        fields = [f for f in form.changed_data if f in self.change_editable]
        if not fields:
            return None
        changes = {f: form.cleaned_data[f] for f in fields if f != "metrics_text"}
        if "metrics_text" in fields:
            changes["metrics"] = form.cleaned_data["metrics_text"]
        # The admin's instance already carries the form's values; the service works on the
        # locked row, so hand it the original campaign id.
        original = Campaign.objects.get(pk=obj.pk)
        updated = services.campaign_update(actor=request.user, campaign=original, **changes)
        obj.updated_at = updated.updated_at
        return None
