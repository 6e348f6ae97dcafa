"""What the audit trail records, connected to the events the layers below announce.

Django's own signals (sign-in, sign-out, a failed sign-in, the admin's LogEntry), model saves
that change someone's privileges (an officer's role, staff and superuser flags, active state,
password; an API client's issue, rotation, revocation; a second factor removed), the kernel's
``personal_data_revealed`` and ``audit_event`` (exports, imports, lockouts).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from promo.audit.choices import Action, Outcome
from promo.audit.context import current_request
from promo.audit.services import record
from promo.core.signals import audit_event, personal_data_revealed


def _address(request: Any) -> str:
    if request is None:
        return ""
    from promo.accounts.security import client_ip

    return client_ip(request)


def _acting() -> tuple[Any, Any, str]:
    """(officer, API client, address) of the request being served, if any."""
    request = current_request.get()
    if request is None:
        return None, None, ""
    user = getattr(request, "user", None)
    officer = user if user is not None and user.is_authenticated else None
    return officer, _client(request), _address(request)


def _client(request: Any) -> Any:
    """The API client a request came through (DRF sets ``auth`` on the Django request)."""
    client = getattr(request, "auth", None)
    meta = getattr(client, "_meta", None)
    return client if meta is not None and meta.label == "promo.ApiClient" else None


# --- Signing in and out ------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="promo.audit.logged_in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(action=Action.SIGN_IN, actor=user, address=_address(request))


@receiver(user_logged_out, dispatch_uid="promo.audit.logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record(action=Action.SIGN_OUT, actor=user, address=_address(request))


@receiver(user_login_failed, dispatch_uid="promo.audit.login_failed")
def _login_failed(sender: Any, credentials: Any, request: Any = None, **kwargs: Any) -> None:
    from promo.accounts.security import lock_state

    username = str((credentials or {}).get("username", ""))[:150]
    address = _address(request)
    record(action=Action.SIGN_IN_FAILED, username=username, address=address, outcome=Outcome.FAILED)
    # promo.accounts counted this failure first (its receiver is connected earlier): if it
    # locked the account or the address, that is an entry of its own.
    state = lock_state(username, address)
    if state.locked:
        record(
            action=Action.LOCKOUT,
            username=username,
            address=address,
            outcome=Outcome.DENIED,
            details={"reason": state.reason},
        )


# --- The admin site ----------------------------------------------------------------------


@receiver(post_save, sender=LogEntry, dispatch_uid="promo.audit.admin_log")
def _admin_logged(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    _officer, _client, address = _acting()
    model = (
        ContentType.objects.get_for_id(instance.content_type_id).model_class()
        if (instance.content_type_id)
        else None
    )
    record(
        action=Action.ADMIN_CHANGE,
        actor=instance.user,
        address=address,
        object_type=model._meta.label if model is not None else "",
        object_id=instance.object_id or "",
        object_text=instance.object_repr,
        details={
            "flag": {1: "addition", 2: "change", 3: "deletion"}.get(instance.action_flag, ""),
            "message": instance.get_change_message(),
        },
    )


# --- Privileges: officers' roles and passwords, API clients, second factors ------------------

# An officer's privileges (the three administrators are roles: decision 0019), whichever of
# these the model has.
_PRIVILEGE_CANDIDATES = (
    "role",
    "is_staff",
    "is_superuser",
    "is_active",
    "unit_id",
)
_PRIVILEGE_FIELDS: tuple[str, ...] = ()


def _privilege_fields(model: Any) -> tuple[str, ...]:
    global _PRIVILEGE_FIELDS
    if not _PRIVILEGE_FIELDS:
        columns = {field.attname for field in model._meta.concrete_fields}
        _PRIVILEGE_FIELDS = tuple(name for name in _PRIVILEGE_CANDIDATES if name in columns)
    return _PRIVILEGE_FIELDS


@receiver(pre_save, sender="officers.Officer", dispatch_uid="promo.audit.officer_before")
def _officer_before(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    fields = _privilege_fields(sender)
    watched = {name.removesuffix("_id") for name in fields} | set(fields) | {"password"}
    if instance.pk is None or (update_fields is not None and not watched & set(update_fields)):
        instance._audit_before = None
        return
    instance._audit_before = (
        sender.objects.filter(pk=instance.pk).values(*fields, "password").first()
    )


@receiver(post_save, sender="officers.Officer", dispatch_uid="promo.audit.officer_after")
def _officer_after(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    before = getattr(instance, "_audit_before", None)
    officer, client, address = _acting()
    fields = _privilege_fields(sender)
    if created:
        changes = {name: [None, _jsonable(getattr(instance, name))] for name in fields}
    elif before is None:
        return
    else:
        changes = {
            name: [_jsonable(before[name]), _jsonable(getattr(instance, name))]
            for name in fields
            if before[name] != getattr(instance, name)
        }
    instance._audit_before = None
    if changes:
        record(
            action=Action.ROLE_CHANGE,
            actor=officer,
            api_client=client,
            address=address,
            obj=instance,
            details={"created": created, "changes": changes},
            required=True,
        )
    if not created and before is not None and before["password"] != instance.password:
        record(
            action=Action.PASSWORD_RESET,
            actor=officer,
            address=address,
            obj=instance,
            details={"own": officer is not None and officer.pk == instance.pk},
            required=True,
        )


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)


@receiver(post_save, sender="promo.ApiClient", dispatch_uid="promo.audit.api_client")
def _api_client_saved(
    sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    fields = set(update_fields or ())
    if created:
        what = "issued"
    elif "revoked_at" in fields:
        what = "revoked"
    elif "rotated_at" in fields:
        what = "rotated"
    elif fields == {"last_used_at"}:
        return
    else:
        what = "changed"
    officer, _client, address = _acting()
    record(
        action=Action.API_CLIENT_CHANGE,
        actor=officer,
        address=address,
        obj=instance,
        api_client=instance,
        details={"what": what, "acts_as": instance.officer_id, "access": instance.access},
        required=True,
    )


@receiver(post_delete, sender="otp_totp.TOTPDevice", dispatch_uid="promo.audit.totp_removed")
def _second_factor_removed(sender: Any, instance: Any, **kwargs: Any) -> None:
    officer, _client, address = _acting()
    if not getattr(instance, "confirmed", True):
        return
    record(
        action=Action.TWO_FACTOR_RESET,
        actor=officer,
        address=address,
        object_type="officers.Officer",
        object_id=instance.user_id,
        object_text=str(instance.user),
        details={"own": officer is not None and officer.pk == instance.user_id},
        required=True,
    )


# --- Personal data and the kernel's events -------------------------------------------------


@receiver(personal_data_revealed, dispatch_uid="promo.audit.personal_data")
def _personal_data(
    sender: Any,
    officer: Any,
    obj: Any,
    field: str,
    reason: str = "",
    request: Any = None,
    **kw: Any,
) -> None:
    record(
        action=Action.PERSONAL_DATA_READ,
        actor=officer,
        api_client=_client(request),
        address=_address(request),
        obj=obj,
        details={"field": field, "reason": reason},
    )


@receiver(audit_event, dispatch_uid="promo.audit.kernel_event")
def _kernel_event(sender: Any, action: str, **fields: Any) -> None:
    fields.pop("signal", None)
    request = fields.pop("request", None) or current_request.get()
    fields.setdefault("address", _address(request))
    if "api_client" not in fields and request is not None:
        fields["api_client"] = _client(request)
    record(action=action, **fields)
