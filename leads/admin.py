"""Admin of investors, intermediaries, promotion events, leads and visits."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from promo.core.admin import (
    HistoryLinkMixin,
    ScopedAdmin,
    ScopedModelForm,
    ScopedTabularInline,
    TrailAdmin,
    TrailInline,
    form_values,
    https_url_formfield,
    masked_display,
)
from promo.core.errors import DomainError, DuplicateSuspected

from . import services
from .models import (
    Intermediary,
    Introduction,
    Investor,
    InvestorContact,
    Lead,
    LeadStatusEvent,
    PromotionEvent,
    ReferrerFeedback,
    Visit,
)
from .normalize import normalize_credit_code, normalize_name
from .selectors import (
    intermediaries_visible_to,
    investors_visible_to,
    leads_visible_to,
    promotion_events_visible_to,
    visits_visible_to,
)

SYSTEM_FIELDS = ("created_at", "updated_at", "source_system", "external_id", "history_link")


def _optional_on_add(form: forms.ModelForm, *names: str) -> None:
    """Fields the service fills in when left blank (the actor's unit, today, the actor)."""
    if form.instance.pk is None:
        for name in names:
            if name in form.fields:
                form.fields[name].required = False


# --- Investor -----------------------------------------------------------------------------


class InvestorContactInline(ScopedTabularInline):
    """The contacts, their personal data masked (issue #16): it is changed on the investor's
    page, where those with a need reveal it and their reveal is recorded."""

    model = InvestorContact
    _masked = tuple(masked_display(InvestorContact, f) for f in ("phone", "email", "wechat"))
    fields = ("name", "title", *_masked, "note", "is_primary", "is_archived")
    readonly_fields = _masked


INVESTOR_FLAGS = ("is_fortune_global_500", "is_china_top_500", "is_central_soe", "is_listed")
INVESTOR_DETAILS = (
    "name",
    "name_en",
    "credit_code",
    "kind",
    "region",
    "province_or_country",
    "city",
    "industry",
    *INVESTOR_FLAGS,
    "website",
    "notes",
)


class InvestorForm(ScopedModelForm):
    confirm_distinct = forms.BooleanField(
        label=_("确认不是重复客商"),
        required=False,
        help_text=_("系统发现名称相近的客商时，核实后勾选此项再保存。"),
    )

    class Meta:
        model = Investor
        fields = (*INVESTOR_DETAILS, "unit")
        formfield_callback = https_url_formfield

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _optional_on_add(self, "unit")


@admin.register(Investor)
class InvestorAdmin(HistoryLinkMixin, ScopedAdmin):
    form = InvestorForm
    inlines = (InvestorContactInline,)
    list_display = ("name", "name_en", "credit_code", "region", "industry", "flag_list", "unit")
    list_filter = ("region", "industry", "kind", *INVESTOR_FLAGS, "unit")
    search_fields = ("name", "name_en", "credit_code", "city")
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": INVESTOR_DETAILS}),
        (_("登记"), {"fields": ("unit", "created_by")}),
        (_("系统"), {"fields": SYSTEM_FIELDS}),
    )
    add_fieldsets = ((None, {"fields": (*INVESTOR_DETAILS, "unit", "confirm_distinct")}),)
    change_editable = tuple(sorted(services.INVESTOR_EDITABLE_FIELDS))

    def visible_to(self, officer):
        return investors_visible_to(officer)

    @admin.display(description=_("标签"))
    def flag_list(self, investor: Investor) -> str:
        return "、".join(investor.flags) or "-"

    def get_search_results(self, request, queryset, search_term):
        # Also match the normalised name, so "ＡＢＣ电子" finds "ABC电子有限公司".
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        normalized = normalize_name(search_term)
        code = normalize_credit_code(search_term)
        extra = Q()
        if normalized:
            extra |= Q(normalized_name__contains=normalized)
            extra |= Q(normalized_name_en__contains=normalized)
        if code:
            extra |= Q(credit_code=code)
        if extra:
            results = results | queryset.filter(extra)
        return results, may_have_duplicates

    def create_with_service(self, request, obj, form):
        values = form_values(form, (*INVESTOR_DETAILS, "unit"))
        try:
            return services.investor_create(
                actor=request.user,
                confirm_distinct=form.cleaned_data.get("confirm_distinct", False),
                **values,
            )
        except DuplicateSuspected as exc:
            names = "、".join(
                f"{c['name']}（{c['unit']}）" for c in exc.extra.get("candidates", [])
            )
            if names:
                raise DuplicateSuspected(
                    _("%(message)s 已有：%(names)s") % {"message": exc.message, "names": names},
                    extra=exc.extra,
                ) from exc
            raise

    def update_with_service(self, request, obj, form, fields):
        services.investor_update(
            actor=request.user,
            investor=obj,
            reason="admin",
            **form_values(form, fields),
        )


# --- Intermediary, introductions, rewards -------------------------------------------------


class IntroductionInline(ScopedTabularInline):
    model = Introduction
    fields = ("investor", "lead", "introduced_on", "note")
    autocomplete_fields = ("investor", "lead")


@admin.register(Intermediary)
class IntermediaryAdmin(HistoryLinkMixin, ScopedAdmin):
    inlines = (IntroductionInline,)
    list_display = ("name", "kind", "organization", "phone", "unit")
    list_filter = ("kind", "unit")
    # An exact phone number or e-mail also finds the intermediary (ScopedAdmin's blind index).
    search_fields = ("name", "organization")
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "organization", "phone", "email", "notes", "unit")}),
        (_("系统"), {"fields": SYSTEM_FIELDS}),
    )
    add_fieldsets = (
        (None, {"fields": ("name", "kind", "organization", "phone", "email", "notes", "unit")}),
    )
    change_editable = ("name", "kind", "organization", "phone", "email", "notes", "unit")

    def visible_to(self, officer):
        return intermediaries_visible_to(officer)


# --- Promotion event ----------------------------------------------------------------------


@admin.register(PromotionEvent)
class PromotionEventAdmin(HistoryLinkMixin, ScopedAdmin):
    list_display = ("name", "city", "venue", "starts_on", "ends_on", "organizer")
    list_filter = ("organizer", "city")
    search_fields = ("name", "city", "venue")
    list_select_related = ("organizer",)
    autocomplete_fields = ("organizer", "investors")
    date_hierarchy = "starts_on"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "city",
                    "venue",
                    "starts_on",
                    "ends_on",
                    "organizer",
                    "investors",
                    "description",
                )
            },
        ),
        (_("系统"), {"fields": SYSTEM_FIELDS}),
    )
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "city",
                    "venue",
                    "starts_on",
                    "ends_on",
                    "organizer",
                    "investors",
                    "description",
                )
            },
        ),
    )
    change_editable = (
        "name",
        "city",
        "venue",
        "starts_on",
        "ends_on",
        "organizer",
        "investors",
        "description",
    )

    def visible_to(self, officer):
        return promotion_events_visible_to(officer)


# --- Lead ---------------------------------------------------------------------------------


class LeadStatusEventInline(TrailInline):
    model = LeadStatusEvent
    fields = ("created_at", "from_status", "to_status", "actor", "reason", "note")
    ordering = ("created_at", "id")


LEAD_ADD_FIELDS = (
    "investor",
    "name",
    "industry",
    "chain_role",
    "estimated_amount",
    "estimated_fdi",
    "source_channel",
    "intermediary",
    "event",
    "unit",
    "first_contact_on",
    "description",
)


class LeadForm(ScopedModelForm):
    class Meta:
        model = Lead
        fields = LEAD_ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _optional_on_add(self, "unit")
        if "unit" in self.fields and self.instance.pk is None:
            self.fields["unit"].help_text = _("留空为本人所在单位。")


@admin.register(Lead)
class LeadAdmin(HistoryLinkMixin, ScopedAdmin):
    """Leads are created through lead_create and move only through lead_transition.

    Status, its dates and reasons, and the attribution fields (unit, provider, investor,
    source channel, intermediary) are read-only: they decide rankings and rewards.
    """

    form = LeadForm
    inlines = (LeadStatusEventInline,)
    list_display = (
        "name",
        "investor",
        "unit",
        "status",
        "industry",
        "chain_role",
        "estimated_amount",
        "source_channel",
        "created_by",
        "last_activity_on",
        "created_at",
    )
    list_filter = ("status", "unit", "industry", "chain_role", "source_channel", "reject_reason")
    search_fields = ("name", "investor__name", "investor__name_en", "investor__credit_code")
    list_select_related = ("investor", "unit", "created_by")
    autocomplete_fields = ("investor", "unit", "intermediary", "event")
    date_hierarchy = "created_at"
    actions = ("qualify_leads", "start_negotiation")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "investor",
                    "unit",
                    "created_by",
                    "industry",
                    "chain_role",
                    "estimated_amount",
                    "estimated_fdi",
                    "source_channel",
                    "intermediary",
                    "event",
                    "description",
                    "duplicate_of",
                )
            },
        ),
        (
            _("状态"),
            {
                "fields": (
                    "status",
                    "status_changed_at",
                    "qualified_on",
                    "negotiating_on",
                    "signed_on",
                    "closed_on",
                    "drop_reason",
                    "reject_reason",
                )
            },
        ),
        (_("跟进"), {"fields": ("first_contact_on", "first_inspection_on", "last_activity_on")}),
        (_("系统"), {"fields": SYSTEM_FIELDS}),
    )
    add_fieldsets = ((None, {"fields": LEAD_ADD_FIELDS}),)
    change_editable = (
        "name",
        "industry",
        "chain_role",
        "estimated_amount",
        "estimated_fdi",
        "event",
        "description",
    )

    def visible_to(self, officer):
        return leads_visible_to(officer)

    def has_delete_permission(self, request, obj=None):
        # A lead is dropped (放弃, with a reason), never deleted: the pipeline counts it.
        return False

    def create_with_service(self, request, obj, form):
        return services.lead_create(actor=request.user, **form_values(form, LEAD_ADD_FIELDS))

    def _transition_each(self, request, queryset, service, done_message) -> None:
        for lead in queryset:
            try:
                service(lead=lead, actor=request.user)
            except DomainError as refusal:
                self.message_user(request, f"{lead}：{refusal.message}", messages.ERROR)
            else:
                self.message_user(request, f"{lead}：{done_message}", messages.SUCCESS)

    @admin.action(description=_("确认有效"), permissions=["change"])
    def qualify_leads(self, request, queryset):
        self._transition_each(request, queryset, services.lead_qualify, _("已确认有效。"))

    @admin.action(description=_("进入洽谈"), permissions=["change"])
    def start_negotiation(self, request, queryset):
        self._transition_each(request, queryset, services.lead_start_negotiation, _("已进入洽谈。"))


@admin.register(LeadStatusEvent)
class LeadStatusEventAdmin(TrailAdmin):
    list_display = ("lead", "from_status", "to_status", "actor", "reason", "created_at")
    list_filter = ("to_status", "from_status")
    search_fields = ("lead__name", "reason", "note")
    list_select_related = ("lead", "actor")
    date_hierarchy = "created_at"

    def visible_to(self, officer):
        return LeadStatusEvent.objects.filter(lead__in=leads_visible_to(officer).values("pk"))


@admin.register(ReferrerFeedback)
class ReferrerFeedbackAdmin(TrailAdmin):
    list_display = ("lead", "actor", "note", "created_at")
    search_fields = ("lead__name", "note")
    list_select_related = ("lead", "actor")
    date_hierarchy = "created_at"

    def visible_to(self, officer):
        return ReferrerFeedback.objects.filter(lead__in=leads_visible_to(officer).values("pk"))


# --- Visit --------------------------------------------------------------------------------


VISIT_ADD_FIELDS = (
    "kind",
    "visited_on",
    "investor",
    "lead",
    "event",
    "officers",
    "city",
    "summary",
    "next_step",
    "next_step_due",
)


class VisitForm(ScopedModelForm):
    class Meta:
        model = Visit
        fields = VISIT_ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # visit_log always adds the officer who logs the visit to those present.
        _optional_on_add(self, "officers")


@admin.register(Visit)
class VisitAdmin(HistoryLinkMixin, ScopedAdmin):
    """Visits are logged through visit_log, which keeps the lead's activity dates right.

    Kind, date, investor, lead and attendees feed the dashboard counts and the lead's
    first-contact / first-inspection dates, so they are fixed once logged.
    """

    form = VisitForm
    list_display = (
        "visited_on",
        "kind",
        "investor",
        "lead",
        "unit",
        "created_by",
        "attendees",
        "city",
        "next_step_due",
    )
    list_filter = ("kind", "unit")
    search_fields = ("summary", "investor__name", "lead__name", "city", "next_step")
    list_select_related = ("investor", "lead", "unit", "created_by")
    autocomplete_fields = ("investor", "lead", "event", "officers")
    date_hierarchy = "visited_on"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "kind",
                    "visited_on",
                    "investor",
                    "lead",
                    "event",
                    "unit",
                    "created_by",
                    "officers",
                )
            },
        ),
        (_("内容"), {"fields": ("city", "summary", "next_step", "next_step_due")}),
        (_("系统"), {"fields": SYSTEM_FIELDS}),
    )
    add_fieldsets = ((None, {"fields": VISIT_ADD_FIELDS}),)
    change_editable = ("city", "summary", "next_step", "next_step_due")

    def visible_to(self, officer):
        return visits_visible_to(officer).prefetch_related("officers")

    @admin.display(description=_("参加人员"))
    def attendees(self, visit: Visit) -> str:
        return "、".join(str(officer) for officer in visit.officers.all())

    def has_delete_permission(self, request, obj=None):
        # Visits are counted ("investors visiting") and date the lead's first contact.
        return False

    def create_with_service(self, request, obj, form):
        values = form_values(form, VISIT_ADD_FIELDS)
        values["officers"] = list(values.get("officers") or ())
        return services.visit_log(actor=request.user, **values)
