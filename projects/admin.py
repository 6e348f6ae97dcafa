"""Admin of projects, their trails, investment progress and problems."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leads import services as lead_services
from leads.choices import RewardStatus
from leads.models import IntermediaryReward, IntermediaryRewardStatusEvent
from leads.selectors import intermediaries_visible_to
from officers.models import Assignment
from promo.core.admin import (
    BureauLevelAdminMixin,
    HistoryLinkMixin,
    ScopedAdmin,
    ScopedModelForm,
    TrailAdmin,
    TrailInline,
    form_values,
)
from promo.core.errors import DomainError

from . import services
from .models import (
    InvestmentProgress,
    MilestoneEvent,
    MilestoneEvidence,
    Problem,
    ProblemAction,
    Project,
    ProjectIncrement,
    ProjectStageEvent,
    StageEvidence,
    StageEvidenceRule,
)
from .selectors import (
    assignments_visible_to,
    problems_visible_to,
    progress_visible_to,
    projects_visible_to,
)

SYSTEM_FIELDS = ("created_at", "updated_at", "source_system", "external_id", "history_link")
PLAN_FIELDS = ("groundbreaking_planned", "completed_planned", "producing_planned")


def _projects_of(officer):
    return projects_visible_to(officer).values("pk")


# --- Project ------------------------------------------------------------------------------


class ProjectStageEventInline(TrailInline):
    model = ProjectStageEvent
    fields = ("to_stage", "actual_date", "actor", "note", "created_at")
    ordering = ("created_at", "id")


class ProjectIncrementInline(TrailInline):
    model = ProjectIncrement
    fields = ("increased_on", "amount", "contracted_fdi", "actor", "note")


PROJECT_ADD_FIELDS = (
    "investor",
    "name",
    "industry",
    "unit",
    "contract_date",
    "total_investment",
    "registered_capital",
    "contracted_fdi",
    "land_area",
    "park_kind",
    "park_name",
    "description",
    *PLAN_FIELDS,
)


class ProjectForm(ScopedModelForm):
    # Named like project_set_plan's argument, so its refusal lands on this field.
    reason = forms.CharField(
        label=_("计划调整原因"),
        required=False,
        max_length=300,
        help_text=_("修改计划节点时必填，记入变更历史。"),
    )

    class Meta:
        model = Project
        fields = PROJECT_ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "unit" in self.fields:
            self.fields["unit"].required = False
            self.fields["unit"].help_text = _("留空为本人所在单位。")


@admin.register(Project)
class ProjectAdmin(HistoryLinkMixin, ScopedAdmin):
    """Projects are entered through project_create (or born from a signed lead).

    Stage, actual dates and every reported figure are read-only: they change only through
    project_advance, project_update_figures, project_record_increment and progress_record,
    which keep the trail. Planned dates go through project_set_plan, with a reason.
    """

    form = ProjectForm
    inlines = (ProjectStageEventInline, ProjectIncrementInline)
    list_display = (
        "name",
        "investor",
        "unit",
        "stage",
        "size_class",
        "total_investment",
        "invested_to_date",
        "completion_rate_display",
        "contract_date",
        "groundbreaking_planned",
        "groundbreaking_actual",
    )
    list_filter = ("stage", "size_class", "unit", "industry", "park_kind")
    search_fields = ("name", "investor__name", "investor__credit_code", "park_name")
    list_select_related = ("investor", "unit")
    autocomplete_fields = ("investor", "unit")
    date_hierarchy = "contract_date"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "investor",
                    "unit",
                    "lead",
                    "created_by",
                    "industry",
                    "park_kind",
                    "park_name",
                    "description",
                )
            },
        ),
        (
            _("投资"),
            {
                "fields": (
                    "contract_date",
                    "signed_investment",
                    "total_investment",
                    "size_class",
                    "registered_capital",
                    "contracted_fdi",
                    "arrived_fdi",
                    "land_area",
                    "invested_to_date",
                    "completion_rate_display",
                )
            },
        ),
        (
            _("节点"),
            {
                "fields": (
                    "stage",
                    "stage_changed_at",
                    "groundbreaking_planned",
                    "groundbreaking_actual",
                    "completed_planned",
                    "completed_actual",
                    "producing_planned",
                    "producing_actual",
                    "reason",
                )
            },
        ),
        (
            # Read-only here: project_milestone_record / _correct keep the trail and evidence.
            _("签约后节点"),
            {
                "fields": (
                    "registered_planned",
                    "registered_actual",
                    "company_credit_code",
                    "land_granted_planned",
                    "land_granted_actual",
                    "in_statistics_planned",
                    "in_statistics_actual",
                    "above_size_planned",
                    "above_size_actual",
                )
            },
        ),
        (_("投产"), {"fields": ("annual_output_value", "annual_tax", "jobs")}),
        (_("系统"), {"fields": SYSTEM_FIELDS}),
    )
    add_fieldsets = ((None, {"fields": PROJECT_ADD_FIELDS}),)
    change_editable = (
        "name",
        "industry",
        "park_kind",
        "park_name",
        "description",
        *PLAN_FIELDS,
        "reason",
    )

    def visible_to(self, officer):
        return projects_visible_to(officer)

    @admin.display(description=_("投资完成率(%)"))
    def completion_rate_display(self, project: Project):
        rate = project.completion_rate
        return "-" if rate is None else rate

    def has_delete_permission(self, request, obj=None):
        # A signed project counts in the year's figures; it is never deleted.
        return False

    def create_with_service(self, request, obj, form):
        return services.project_create(actor=request.user, **form_values(form, PROJECT_ADD_FIELDS))

    def update_with_service(self, request, obj, form, fields):
        plan_changed = [name for name in fields if name in PLAN_FIELDS]
        if plan_changed:
            services.project_set_plan(
                project=obj,
                actor=request.user,
                reason=form.cleaned_data.get("reason", ""),
                **{name: form.cleaned_data[name] for name in PLAN_FIELDS},
            )
        other = [name for name in fields if name not in PLAN_FIELDS]
        if other:
            super().update_with_service(request, obj, form, other)


@admin.register(ProjectStageEvent)
class ProjectStageEventAdmin(TrailAdmin):
    list_display = ("project", "from_stage", "to_stage", "actual_date", "actor", "created_at")
    list_filter = ("to_stage",)
    search_fields = ("project__name", "note")
    list_select_related = ("project", "actor")
    date_hierarchy = "actual_date"

    def visible_to(self, officer):
        return ProjectStageEvent.objects.filter(project__in=_projects_of(officer))


@admin.register(StageEvidence)
class StageEvidenceAdmin(TrailAdmin):
    list_display = ("original_name", "kind", "stage_event", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind",)
    search_fields = ("original_name", "stage_event__project__name")
    list_select_related = ("stage_event__project", "uploaded_by")

    def visible_to(self, officer):
        return StageEvidence.objects.filter(stage_event__project__in=_projects_of(officer))


@admin.register(StageEvidenceRule)
class StageEvidenceRuleAdmin(BureauLevelAdminMixin, ScopedAdmin):
    """The bureau's evidence rules (阶段佐证要求): which document kinds a stage change needs,
    any one of a stage's active rows. Chiefs and administrators add a kind, or switch one off
    (启用); a row is never deleted nor re-pointed, so what a past change had to meet stays
    readable. project_advance reads the rows at every change."""

    list_display = ("stage", "kind", "active")
    list_filter = ("stage", "active")
    fields = ("stage", "kind", "active")
    change_editable = ("active",)

    def visible_to(self, officer):
        # Bureau-wide configuration, not a record of a unit: the mixin decides who sees it.
        return StageEvidenceRule.objects.all()


@admin.register(MilestoneEvent)
class MilestoneEventAdmin(TrailAdmin):
    list_display = ("project", "milestone", "action", "actual_date", "previous_date", "actor")
    list_filter = ("milestone", "action")
    search_fields = ("project__name", "note", "credit_code")
    list_select_related = ("project", "actor")
    date_hierarchy = "created_at"

    def visible_to(self, officer):
        return MilestoneEvent.objects.filter(project__in=_projects_of(officer))


@admin.register(MilestoneEvidence)
class MilestoneEvidenceAdmin(TrailAdmin):
    list_display = ("original_name", "kind", "milestone_event", "size", "uploaded_by")
    list_filter = ("kind",)
    search_fields = ("original_name", "milestone_event__project__name")
    list_select_related = ("milestone_event__project", "uploaded_by")

    def visible_to(self, officer):
        return MilestoneEvidence.objects.filter(milestone_event__project__in=_projects_of(officer))


@admin.register(ProjectIncrement)
class ProjectIncrementAdmin(TrailAdmin):
    list_display = ("project", "increased_on", "amount", "contracted_fdi", "actor", "created_at")
    search_fields = ("project__name", "note")
    list_select_related = ("project", "actor")
    date_hierarchy = "increased_on"

    def visible_to(self, officer):
        return ProjectIncrement.objects.filter(project__in=_projects_of(officer))


# --- Investment progress ------------------------------------------------------------------


@admin.register(InvestmentProgress)
class InvestmentProgressAdmin(HistoryLinkMixin, ScopedAdmin):
    """Monthly figures are reported through progress_record, which also moves the project's
    running totals; here they are read-only and only the note may be corrected."""

    list_display = (
        "project",
        "month",
        "agreed_investment",
        "paid_in",
        "fixed_asset_investment",
        "arrived_fdi",
        "reported_by",
        "updated_at",
    )
    search_fields = ("project__name",)
    list_select_related = ("project", "reported_by")
    date_hierarchy = "month"
    fields = (
        "project",
        "month",
        "agreed_investment",
        "paid_in",
        "fixed_asset_investment",
        "arrived_fdi",
        "note",
        "reported_by",
        "updated_at",
        "history_link",
    )
    change_editable = ("note",)

    def visible_to(self, officer):
        return progress_visible_to(officer)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Problem ------------------------------------------------------------------------------


class ProblemActionInline(TrailInline):
    model = ProblemAction
    fields = ("created_at", "action", "from_status", "to_status", "actor", "note")
    ordering = ("created_at", "id")


PROBLEM_ADD_FIELDS = (
    "project",
    "kind",
    "title",
    "description",
    "investor_contact",
    "owner_unit",
    "first_asked",
    "raised_on",
    "due_on",
)


class ProblemForm(ScopedModelForm):
    class Meta:
        model = Problem
        fields = PROBLEM_ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # problem_raise fills these in: today, and the officer raising it (首问负责).
            for name in ("raised_on", "first_asked"):
                if name in self.fields:
                    self.fields[name].required = False


@admin.register(Problem)
class ProblemAdmin(HistoryLinkMixin, ScopedAdmin):
    """Problems are raised through problem_raise; status, asks, escalation, the deadline and
    who is responsible (首问负责, 承办单位) are read-only and move only through the services."""

    form = ProblemForm
    inlines = (ProblemActionInline,)
    list_display = (
        "title",
        "project",
        "kind",
        "status",
        "owner_unit",
        "first_asked",
        "raised_on",
        "due_on",
        "ask_count",
        "resolved_on",
    )
    list_filter = ("status", "kind", "owner_unit", "ask_count")
    search_fields = ("title", "description", "project__name", "investor_contact")
    list_select_related = ("project", "owner_unit", "first_asked")
    autocomplete_fields = ("project", "owner_unit", "first_asked")
    date_hierarchy = "raised_on"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "project",
                    "kind",
                    "title",
                    "description",
                    "investor_contact",
                    "owner_unit",
                    "first_asked",
                    "raised_by",
                    "raised_on",
                    "due_on",
                )
            },
        ),
        (
            _("办理"),
            {
                "fields": (
                    "status",
                    "ask_count",
                    "second_asked_on",
                    "escalated_at",
                    "resolved_on",
                    "resolution",
                )
            },
        ),
        (_("系统"), {"fields": SYSTEM_FIELDS}),
    )
    add_fieldsets = ((None, {"fields": PROBLEM_ADD_FIELDS}),)
    change_editable = ("kind", "title", "description", "investor_contact")

    def visible_to(self, officer):
        return problems_visible_to(officer)

    def has_delete_permission(self, request, obj=None):
        return False

    def create_with_service(self, request, obj, form):
        return services.problem_raise(actor=request.user, **form_values(form, PROBLEM_ADD_FIELDS))


@admin.register(ProblemAction)
class ProblemActionAdmin(TrailAdmin):
    list_display = ("problem", "action", "from_status", "to_status", "actor", "created_at")
    list_filter = ("action", "to_status")
    search_fields = ("problem__title", "note")
    list_select_related = ("problem", "actor")
    date_hierarchy = "created_at"

    def visible_to(self, officer):
        return ProblemAction.objects.filter(problem__in=problems_visible_to(officer).values("pk"))


# --- Assignments and intermediary rewards -------------------------------------------------
# Records of officers and leads that point at leads or projects: their admin is here, where
# both apps' visibility can be seen.


@admin.register(Assignment)
class AssignmentAdmin(HistoryLinkMixin, ScopedAdmin):
    list_display = ("officer", "role", "lead", "project", "assigned_by", "created_at")
    list_filter = ("role",)
    search_fields = ("officer__full_name", "officer__username", "lead__name", "project__name")
    list_select_related = ("officer", "lead", "project", "assigned_by")
    autocomplete_fields = ("officer", "lead", "project")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("officer", "role", "lead", "project")}),
        (_("系统"), {"fields": ("assigned_by", "created_at", "history_link")}),
    )
    add_fieldsets = ((None, {"fields": ("officer", "role", "lead", "project")}),)

    def visible_to(self, officer):
        return assignments_visible_to(officer)

    def has_change_permission(self, request, obj=None):
        # Who leads a lead is credit: change it by removing and adding (both in history).
        return False

    def _remove(self, request, assignment) -> None:
        # Through the service: the lead or project shown moves its version (updated_at, ETag).
        if assignment.project_id is not None:
            services.project_assignment_remove(actor=request.user, assignment=assignment)
        else:
            lead_services.assignment_remove(actor=request.user, assignment=assignment)

    def delete_model(self, request, obj):
        self._remove(request, obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("lead", "project"):
            self._remove(request, assignment)

    def create_with_service(self, request, obj, form):
        # The form has checked the model's constraints: exactly one of lead and project
        # (officers_assignment_one_target), a 挂钩领导 only on a project.
        values = form_values(form, ("officer", "role"))
        if form.cleaned_data.get("project") is not None:
            project = form.cleaned_data["project"]
            return services.project_assignment_add(actor=request.user, project=project, **values)
        lead = form.cleaned_data["lead"]
        return lead_services.assignment_add(actor=request.user, lead=lead, **values)


class IntermediaryRewardStatusEventInline(TrailInline):
    model = IntermediaryRewardStatusEvent
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    ordering = ("created_at", "id")


REWARD_ADD_FIELDS = ("intermediary", "project", "amount", "note")


def _rewards_visible_to(officer):
    # No selector of its own: a reward is seen with its intermediary or its project.
    return IntermediaryReward.objects.filter(
        Q(intermediary__in=intermediaries_visible_to(officer).values("pk"))
        | Q(project__in=projects_visible_to(officer).values("pk"))
    )


@admin.register(IntermediaryReward)
class IntermediaryRewardAdmin(HistoryLinkMixin, ScopedAdmin):
    """The status is read-only: it moves only by the approve/pay actions, through the service."""

    list_display = ("intermediary", "project", "amount", "status", "decided_by", "decided_on")
    list_filter = ("status",)
    search_fields = ("intermediary__name", "project__name")
    list_select_related = ("intermediary", "project", "decided_by")
    autocomplete_fields = ("intermediary", "project")
    fields = (
        "intermediary",
        "project",
        "amount",
        "status",
        "proposed_by",
        "decided_by",
        "decided_on",
        "note",
    )
    add_fieldsets = ((None, {"fields": REWARD_ADD_FIELDS}),)
    # The amount may be corrected while the reward is only proposed; once approved, nothing.
    change_editable = ("amount", "note")
    inlines = (IntermediaryRewardStatusEventInline,)
    actions = ("approve_rewards", "pay_rewards")

    def visible_to(self, officer):
        return _rewards_visible_to(officer)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status != RewardStatus.PROPOSED:
            return tuple(self.fields)
        return readonly

    def create_with_service(self, request, obj, form):
        return lead_services.intermediary_reward_propose(
            actor=request.user, **form_values(form, REWARD_ADD_FIELDS)
        )

    def _transition_each(self, request, queryset, service, done_message) -> None:
        for reward in queryset:
            try:
                service(reward=reward, actor=request.user, reason=str(_("管理后台操作")))
            except DomainError as refusal:
                self.message_user(request, f"{reward}：{refusal.message}", messages.ERROR)
            else:
                self.message_user(request, f"{reward}：{done_message}", messages.SUCCESS)

    @admin.action(description=_("批准奖励"), permissions=["change"])
    def approve_rewards(self, request, queryset):
        self._transition_each(
            request, queryset, lead_services.intermediary_reward_approve, _("已批准。")
        )

    @admin.action(description=_("兑现奖励"), permissions=["change"])
    def pay_rewards(self, request, queryset):
        self._transition_each(
            request, queryset, lead_services.intermediary_reward_pay, _("已兑现。")
        )


@admin.register(IntermediaryRewardStatusEvent)
class IntermediaryRewardStatusEventAdmin(TrailAdmin):
    list_display = ("reward", "from_status", "to_status", "actor", "reason", "created_at")
    list_filter = ("to_status", "from_status")
    search_fields = ("reward__intermediary__name", "reward__project__name", "reason")
    list_select_related = ("reward__intermediary", "reward__project", "actor")
    date_hierarchy = "created_at"

    def visible_to(self, officer):
        return IntermediaryRewardStatusEvent.objects.filter(
            reward__in=_rewards_visible_to(officer).values("pk")
        )
