"""Shared pieces of promo's Django admin: visibility, service-backed saves, read-only trails.

The admin is one more interface over the services (STYLE.md §1): it reads through the
``*_visible_to`` selectors, creates records through the services where one exists, and
shows a service's refusal (a DomainError) on the form instead of a 500.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten, flatten_fieldsets, quote
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from promo.core import crypto, masking
from promo.core.audit import audited
from promo.core.errors import DomainError, RuleViolation
from promo.core.fields import BlindIndexField, EncryptedTextField

if TYPE_CHECKING:  # generic in django-stubs only, not at run time
    _ModelForm = forms.ModelForm[Any]
    _ModelAdmin = admin.ModelAdmin[Any]
    _InlineModelAdmin = admin.options.InlineModelAdmin[Any, Any]
    _TabularInline = admin.TabularInline[Any, Any]
    _StackedInline = admin.StackedInline[Any, Any]
else:
    _ModelForm = forms.ModelForm
    _ModelAdmin = admin.ModelAdmin
    _InlineModelAdmin = admin.options.InlineModelAdmin
    _TabularInline = admin.TabularInline
    _StackedInline = admin.StackedInline

# Set on the request when a service refused a save, so the form is shown again with the reason.
_REFUSAL_ATTR = "_promo_admin_refusal"


def refusal_from_integrity_error(exc: IntegrityError) -> RuleViolation:
    """A database constraint refused a direct save: say which rule, as a form error."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    return RuleViolation(
        _("保存被数据库规则拒绝（%(rule)s），请检查填写的内容。") % {"rule": name or "?"}
    )


def add_refusal_to_form(form: forms.BaseForm, refusal: DomainError) -> None:
    """Put a service's refusal on the form: on the named field if the form has it, else on top."""
    placed = False
    for field, messages in refusal.field_errors.items():
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, refusal.message)


def https_url_formfield(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """Form fields of a ModelForm, with URLs assumed https (Django 6's default)."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


# --- personal data (issue #16): masked in the admin, never shown in full ------------------


def encrypted_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)}


_MASKED: dict[tuple[str, str], Any] = {}


def masked_display(model: type[models.Model], name: str) -> Any:
    """A read-only admin column showing ``name`` masked (one object per field, so the same
    callable stands in the fieldsets and in the read-only fields)."""
    key = (model._meta.label_lower, name)
    if key not in _MASKED:
        field = model._meta.get_field(name)

        def show(obj: Any) -> str:
            return masking.mask_field(name, getattr(obj, name, "")) or "-"

        show.__name__ = f"masked_{name}"
        show.short_description = getattr(field, "verbose_name", name)  # type: ignore[attr-defined]
        _MASKED[key] = show
    return _MASKED[key]


class PersonalDataFormMixin:
    """On a change form, a personal-data field is shown blank with the masked value as its
    hint, and left blank it keeps the value: the admin never writes one into the page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        if instance is None or instance.pk is None:
            return
        fields: dict[str, forms.Field] = self.fields  # type: ignore[attr-defined]
        initial: dict[str, Any] = self.initial  # type: ignore[attr-defined]
        for name in encrypted_names(type(instance)) & set(fields):
            current = getattr(instance, name, "")
            initial[name] = ""
            fields[name].required = False
            if current:
                fields[name].widget.attrs["placeholder"] = masking.mask_field(name, current)
                fields[name].help_text = _("留空则保持不变。")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        instance = getattr(self, "instance", None)
        if instance is not None and instance.pk is not None:
            for name in encrypted_names(type(instance)):
                if name in cleaned and not cleaned[name]:
                    cleaned[name] = getattr(instance, name)
        return cleaned


class ScopedModelForm(PersonalDataFormMixin, _ModelForm):
    """Keep the current value of each relation selectable even when it is outside the scope.

    Relation choices are narrowed to what the officer sees; without this, a lead whose
    event belongs to another unit would silently lose it on the next save. Personal data is
    blank-to-keep (``PersonalDataFormMixin``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keep_current_choices(self)


def keep_current_choices(form: forms.BaseForm) -> None:
    instance = getattr(form, "instance", None)
    if instance is None or instance.pk is None:
        return
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField) or field.queryset is None:
            continue
        try:
            model_field = instance._meta.get_field(name)
        except Exception:  # a form-only field
            continue
        if isinstance(model_field, models.ForeignKey):
            current = getattr(instance, model_field.attname)
            current_pks = [current] if current is not None else []
        elif isinstance(model_field, models.ManyToManyField):
            current_pks = list(getattr(instance, name).values_list("pk", flat=True))
        else:
            continue
        if current_pks:
            scoped = field.queryset
            # A pk subquery rather than ``|``: the scoped queryset may carry annotations.
            field.queryset = scoped.model._default_manager.filter(
                Q(pk__in=scoped.values("pk")) | Q(pk__in=current_pks)
            ).order_by(*scoped.query.order_by)


class ScopedAdmin(_ModelAdmin):
    """Base admin of promo.

    * ``visible_to(officer)`` names the selector; every queryset of the admin (changelist,
      change page, actions, autocomplete of other admins, relation choices) starts from it,
      so to a staff officer of one unit another unit's record "doesn't exist".
    * ``change_editable``: the fields a change form may edit; everything else shown is
      read-only, so a new field is safe until someone decides it may be edited.
    * ``create_with_service`` / ``update_with_service``: route saves through a service; a
      DomainError it raises comes back as a form error.
    """

    form = ScopedModelForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_per_page = 50
    show_full_result_count = False
    add_fieldsets: Any = None
    change_editable: tuple[str, ...] = ()
    add_readonly: tuple[str, ...] = ()
    # Prefix of the "why" the history records for a direct (service-less) save.
    audit_label = "admin"

    # --- visibility ---------------------------------------------------------------------

    def visible_to(self, officer: Any) -> models.QuerySet[Any]:
        raise NotImplementedError(f"{type(self).__name__} must name its visibility selector")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        qs = self.visible_to(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            qs = qs.order_by(*ordering)
        return qs

    def get_field_queryset(
        self, db: str | None, db_field: Any, request: HttpRequest
    ) -> models.QuerySet[Any] | None:
        # Relation choices come from the related admin's scoped queryset, never the whole table.
        related = self.admin_site._registry.get(db_field.remote_field.model)
        if isinstance(related, ScopedAdmin):
            return related.get_queryset(request)
        return super().get_field_queryset(db, db_field, request)

    # --- forms: add vs change -------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None and self.add_fieldsets is not None:
            return self.add_fieldsets
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # A personal-data field the form does not edit is shown masked, never in full.
        editable = set(self.change_editable) if self.has_change_permission(request, obj) else set()
        hidden = encrypted_names(self.model) - editable
        if not hidden:
            return fieldsets
        return [
            (
                title,
                {
                    **options,
                    "fields": tuple(
                        masked_display(self.model, f) if isinstance(f, str) and f in hidden else f
                        for f in options.get("fields", ())
                    ),
                },
            )
            for title, options in fieldsets
        ]

    def get_list_display(self, request: HttpRequest) -> Any:
        hidden = encrypted_names(self.model)
        return [
            masked_display(self.model, name) if isinstance(name, str) and name in hidden else name
            for name in super().get_list_display(request)
        ]

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet[Any], search_term: str
    ) -> tuple[models.QuerySet[Any], bool]:
        """The search fields, and an exact phone number or e-mail through the blind index
        (encrypted fields cannot be searched by their content)."""
        qs, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        indexes = [f for f in self.model._meta.concrete_fields if isinstance(f, BlindIndexField)]
        if term and indexes:
            match = Q(pk__in=[])
            for f in indexes:
                digest = crypto.blind_index(f.kind, term)
                if digest:
                    match |= Q(**{f.name: digest})
            qs = qs | queryset.filter(match)
        return qs, may_have_duplicates

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return tuple(self.add_readonly)
        # Not get_fieldsets(): without declared fieldsets Django builds them from the form,
        # which asks for the read-only fields again.
        if self.fieldsets:
            shown = flatten_fieldsets(self.fieldsets)
        elif self.fields:
            shown = flatten(self.fields)
        else:
            shown = [
                f.name
                for f in self.model._meta.get_fields()
                if f.concrete and not f.auto_created and f.editable
            ] + list(self.readonly_fields)
        hidden = encrypted_names(self.model)
        return tuple(
            masked_display(self.model, name) if name in hidden else name
            for name in shown
            if name not in self.change_editable
        )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Any]]:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, _REFUSAL_ATTR, None)
        if refusal is None:
            return form_class
        refused: DomainError = refusal

        class RefusedForm(form_class):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                add_refusal_to_form(self, refused)
                return cleaned

        RefusedForm.__name__ = form_class.__name__
        return RefusedForm

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            # The save ran inside the admin's transaction, which has been rolled back; show
            # the same form again with the refusal on it (never a 500).
            if getattr(request, _REFUSAL_ATTR, None) is not None:
                raise
            setattr(request, _REFUSAL_ATTR, refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)

    # --- saving ---------------------------------------------------------------------------

    def create_with_service(self, request: HttpRequest, obj: Any, form: Any) -> models.Model | None:
        """Create the record through its service and return it; None saves the form directly."""
        return None

    def update_with_service(
        self, request: HttpRequest, obj: Any, form: Any, fields: list[str]
    ) -> None:
        """Save the changed, editable fields only, so a figure written meanwhile by a
        service is never overwritten with the value the form was opened with."""
        update_fields = list(fields)
        if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
            update_fields.append("updated_at")
        self.save_directly(request, obj, update_fields=update_fields)

    def save_directly(self, request: HttpRequest, obj: Any, **save_kwargs: Any) -> None:
        model = obj._meta.model_name
        why = f"{self.audit_label}:{model}_{'change' if obj.pk else 'add'}"
        try:
            with transaction.atomic(), audited(request.user, why):
                obj.save(**save_kwargs)
        except IntegrityError as exc:
            raise refusal_from_integrity_error(exc) from exc

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            created = self.create_with_service(request, obj, form)
            if created is None:
                self.save_directly(request, obj)
            else:
                adopt(obj, created)
                obj._promo_created_by_service = True
            return
        fields = changed_model_fields(obj, form)
        if fields:
            self.update_with_service(request, obj, form, fields)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if getattr(form.instance, "_promo_created_by_service", False):
            # The service set the relations it owns (e.g. a visit's attendees); only the
            # inlines remain to be saved.
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)
            return
        super().save_related(request, form, formsets, change)


class ScopedInline(_InlineModelAdmin):
    """Inline whose relation choices come from the related admins' scoped querysets."""

    form = ScopedModelForm
    extra = 0

    def get_field_queryset(
        self, db: str | None, db_field: Any, request: HttpRequest
    ) -> models.QuerySet[Any] | None:
        related = self.admin_site._registry.get(db_field.remote_field.model)
        if isinstance(related, ScopedAdmin):
            return related.get_queryset(request)
        return super().get_field_queryset(db, db_field, request)


class ScopedTabularInline(ScopedInline, _TabularInline):
    pass


class ScopedStackedInline(ScopedInline, _StackedInline):
    pass


class TrailInline(_TabularInline):
    """The trail of a record shown on its page: read-only, never added to by hand."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def adopt(obj: models.Model, created: models.Model) -> None:
    """Make the admin's unsaved instance the row the service created (for m2m, inlines, log)."""
    obj.pk = created.pk
    obj._state.adding = False
    obj._state.db = created._state.db
    obj.refresh_from_db()


def changed_model_fields(obj: models.Model, form: forms.BaseForm) -> list[str]:
    concrete = {f.name for f in obj._meta.concrete_fields}
    return [name for name in form.changed_data if name in concrete]


def form_values(form: forms.BaseForm, names: Iterable[str]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


class TrailAdmin(ScopedAdmin):
    """An append-only trail (status events, stage events, increments, evidence, actions).

    Rows are written by services only; the database refuses updates and deletes
    (pgtrigger), and the admin does not offer them either.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HistoryLinkMixin:
    """Send the change page's "history" button to the django-pghistory events of the row.

    Django's own history shows only admin LogEntry rows; the pghistory events hold every
    change, whoever made it (service, API, task or admin).
    """

    admin_site: admin.AdminSite

    def events_url(self, obj: Any) -> str:
        query = urlencode(
            {
                "method": "tracks",
                "obj": f"{obj._meta.label}:{obj.pk}",
                "back": reverse(
                    f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change",
                    args=[quote(obj.pk)],
                ),
            }
        )
        return f"{reverse('admin:pghistory_events_changelist')}?{query}"

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):  # type: ignore[attr-defined]
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return HttpResponseRedirect(self.events_url(obj))

    @admin.display(description=_("变更历史"))
    def history_link(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "-"
        return format_html('<a href="{}">{}</a>', self.events_url(obj), _("查看全部变更记录"))


# --- API clients (接口客户端) ---------------------------------------------------------------


class BureauLevelAdminMixin:
    """Bureau-level configuration: chiefs and administrators manage it, by role rather than by
    Django model permissions (which nobody would remember to grant). Never deleted: switched
    off or revoked, so the record stays.

    The kernel knows no role (it imports no app): ``may_manage`` reads the officer's own
    ``sees_whole_bureau``, the attribute ``officers.permissions.is_bureau_wide`` reads too. An
    admin above officers names its predicate instead (CampaignAdmin:
    ``may_manage_campaigns``); docs/decisions/0011-role-checks-below-officers.md.
    """

    # The officer's attribute that decides (decision 0011): "sees_whole_bureau" for the
    # bureau's business configuration; the API clients' admin names "grants_access" (the
    # security administrator's, decision 0019).
    manager_attribute = "sees_whole_bureau"

    def may_manage(self, user: Any) -> bool:
        return bool(getattr(user, self.manager_attribute, False))

    def _bureau_level(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and self.may_manage(user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._bureau_level(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._bureau_level(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._bureau_level(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._bureau_level(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
