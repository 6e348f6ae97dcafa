"""Admin of units, officers, assignments and targets."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm, UsernameField
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from promo.core.admin import (
    HistoryLinkMixin,
    PersonalDataFormMixin,
    ScopedAdmin,
    form_values,
    keep_current_choices,
)
from promo.core.audit import audited

from . import permissions, services
from .choices import Role
from .models import Officer, Target, Unit
from .selectors import (
    org_officers_visible_to,
    org_units_visible_to,
    targets_visible_to,
)

security_log = logging.getLogger("promo.security")

# --- Unit ---------------------------------------------------------------------------------


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ("name", "short_name", "kind", "parent", "city", "is_active")

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        unit = self.instance
        # A unit under its own sub-tree would make the org tree a loop.
        if parent is not None and unit.pk and parent.path.startswith(unit.path or "\0"):
            raise forms.ValidationError(_("上级单位不能是本单位或其下级单位。"))
        return parent


@admin.register(Unit)
class UnitAdmin(HistoryLinkMixin, ScopedAdmin):
    form = UnitForm
    list_display = (
        "tree_name",
        "short_name",
        "kind",
        "parent",
        "city",
        "officer_count",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name", "short_name", "city")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    ordering = ("path",)
    fieldsets = (
        (None, {"fields": ("name", "short_name", "kind", "parent", "city", "is_active")}),
        (_("系统"), {"fields": ("history_link",)}),
    )
    add_fieldsets = ((None, {"fields": ("name", "short_name", "kind", "parent", "city")}),)
    change_editable = ("name", "short_name", "kind", "parent", "city", "is_active")

    def visible_to(self, officer):
        return org_units_visible_to(officer)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(officer_total=Count("officers"))

    @admin.display(description=_("名称"), ordering="path")
    def tree_name(self, unit: Unit) -> str:
        depth = max(unit.path.count("/") - 2, 0)
        return f"{'— ' * depth}{unit.name}"

    @admin.display(description=_("干部数"), ordering="officer_total")
    def officer_count(self, unit: Unit) -> int:
        return unit.officer_total

    def create_with_service(self, request, obj, form):
        return services.unit_create(
            actor=request.user,
            **form_values(form, ("name", "kind", "parent", "city", "short_name")),
        )


# --- Officer ------------------------------------------------------------------------------


class OfficerCreationForm(UserCreationForm):
    """Django's user-creation form (two password fields, validators) plus unit and role."""

    class Meta(UserCreationForm.Meta):
        model = Officer
        fields = ("username", "full_name", "unit", "role", "title", "phone", "email")
        field_classes = {"username": UsernameField}


class OfficerChangeForm(PersonalDataFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = Officer
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        keep_current_choices(self)


@admin.register(Officer)
class OfficerAdmin(HistoryLinkMixin, ScopedAdmin, UserAdmin):
    form = OfficerChangeForm
    add_form = OfficerCreationForm
    list_display = (
        "username",
        "full_name",
        "unit",
        "role",
        "title",
        "is_full_time",
        "is_staff",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "unit", "is_full_time", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "full_name", "email", "unit__name")
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    ordering = ("unit__path", "username")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("full_name", "title", "phone", "email", "language")}),
        (_("单位与角色"), {"fields": ("unit", "role", "is_full_time")}),
        (
            _("权限"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "must_change_password",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined", "history_link")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "full_name",
                    "unit",
                    "role",
                    "title",
                    "phone",
                    "email",
                ),
            },
        ),
    )
    change_editable = (
        "username",
        "password",  # Django's read-only hash with its "change password" link
        "full_name",
        "title",
        "phone",
        "email",
        "language",
        "unit",
        "role",
        "is_full_time",
        "is_active",
        "is_staff",
        "is_superuser",
        "must_change_password",
        "groups",
        "user_permissions",
    )
    # 三员分立 (decision 0019): staff status, groups and raw permissions are the security
    # administrator's to grant; superuser status a superuser's alone.
    privileges = ("is_staff", "groups", "user_permissions")
    superuser_only = ("is_superuser",)

    def visible_to(self, officer):
        return org_officers_visible_to(officer)

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        if not permissions.may_grant_privileges(request.user):
            readonly += self.privileges
        if not permissions.may_grant_superuser(request.user):
            readonly += self.superuser_only
        if not permissions.may_grant_role(request.user, obj.role):
            # A role the actor may not give is not theirs to take away either: a system
            # administrator does not demote a 局领导 or another administrator.
            readonly += ("role",)
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        role = form.base_fields.get("role")
        if role is not None:
            # Only the roles the actor may give (officer_create asks the same predicate), and
            # the one the officer has: no one edits their way to a role they cannot grant —
            # an officer allowed to edit colleagues does not make anyone (himself) a head.
            current = obj.role if obj is not None else None
            role.choices = [
                (value, label)
                for value, label in Role.choices
                if value == current or permissions.may_grant_role(request.user, value)
            ]
        return form

    def user_change_password(self, request, id, form_url=""):
        """Reset another officer's password: a security administrator only (a reset lets
        whoever does it sign in as the other), logged, and the officer must choose a new
        password at the next sign-in."""
        target = self.get_queryset(request).filter(pk=id).first()
        if target is None or not permissions.may_reset_password(request.user, target):
            security_log.warning(
                "password reset refused by=%s target_id=%s", request.user.get_username(), id
            )
            raise PermissionDenied
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            with audited(request.user, "password_reset"):
                Officer.objects.filter(pk=target.pk).update(must_change_password=True)
            security_log.warning(
                "password reset by=%s username=%s", request.user.get_username(), target.username
            )
        return response

    def has_delete_permission(self, request, obj=None):
        # Officers are never deleted: their leads, visits and history point at them.
        # One who leaves is deactivated (is_active), which keeps the record attributable.
        return False

    def create_with_service(self, request, obj, form):
        # officer_create checks the unit is the actor's and the role is one they may grant.
        return services.officer_create(
            actor=request.user,
            password=form.cleaned_data["password1"],
            **form_values(
                form, ("username", "full_name", "unit", "role", "title", "phone", "email")
            ),
        )


# --- Target -------------------------------------------------------------------------------


class TargetForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("调整原因"),
        required=False,
        max_length=200,
        help_text=_("记入变更历史。"),
    )

    class Meta:
        model = Target
        fields = ("year", "metric", "unit", "officer", "value")


@admin.register(Target)
class TargetAdmin(HistoryLinkMixin, ScopedAdmin):
    """Targets rank units and people, so the value is written only by officers.services.target_set.

    Editing through the service rather than making the value read-only keeps the admin
    useful at the start of the year (targets are set and broken down in bulk) while the
    service still decides who may set which target and records who set it and why. The
    year, metric and holder are fixed once created: target_set keys on them, so changing
    them would create a second target instead of moving this one.
    """

    form = TargetForm
    list_display = ("year", "unit", "officer", "metric", "value", "set_by", "updated_at")
    list_filter = ("year", "metric", "unit")
    search_fields = ("unit__name", "officer__full_name", "officer__username")
    list_select_related = ("unit", "officer", "set_by")
    autocomplete_fields = ("unit", "officer")
    fieldsets = (
        (None, {"fields": ("year", "metric", "unit", "officer", "value", "reason")}),
        (_("系统"), {"fields": ("set_by", "updated_at", "history_link")}),
    )
    add_fieldsets = ((None, {"fields": ("year", "metric", "unit", "officer", "value", "reason")}),)
    change_editable = ("value", "reason")

    def visible_to(self, officer):
        return targets_visible_to(officer)

    def has_change_permission(self, request, obj=None):
        # A target the officer sees but may not set (a head and their unit's own figure) is
        # shown read-only, not offered and then refused by target_set.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or permissions.may_set_target(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return False

    def create_with_service(self, request, obj, form):
        return services.target_set(
            actor=request.user,
            **form_values(form, ("year", "metric", "value", "unit", "officer", "reason")),
        )

    def update_with_service(self, request, obj, form, fields):
        services.target_set(
            actor=request.user,
            year=obj.year,
            metric=obj.metric,
            unit=obj.unit,
            officer=obj.officer,
            value=form.cleaned_data["value"],
            reason=form.cleaned_data.get("reason", ""),
        )
