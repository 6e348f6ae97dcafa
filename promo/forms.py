"""Forms shared by the officers' pages: sign-in, and the bridge from service errors to fields."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from promo import security
from promo.errors import DomainError


class SignInForm(AuthenticationForm):
    """Sign-in (登录) with lockout: a locked account or address is refused before the password is checked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。"),
        "locked": _("登录失败次数过多，请 %(minutes)s 分钟后再试，或联系系统管理员。"),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            ip = security.client_ip(self.request)
            state = security.lock_state(username, ip)
            if state.locked:
                security.log.warning(
                    "sign-in refused (%s locked) username=%s ip=%s", state.reason, username, ip
                )
                raise forms.ValidationError(
                    self.error_messages["locked"],
                    code="locked",
                    params={"minutes": settings.PROMO_LOGIN_LOCKOUT_MINUTES},
                )
        cleaned = super().clean()
        if self.user_cache is not None:
            security.record_success(username, security.client_ip(self.request))
        return cleaned


def add_domain_error(
    form: forms.Form, exc: DomainError, field_map: Mapping[str, str] | None = None
) -> None:
    """Show a service's refusal on the form: each field error next to its field, the rest on top.

    ``field_map`` renames the service's argument names to the form's field names.
    """
    field_map = field_map or {}
    placed = False
    for name, messages in exc.field_errors.items():
        target = field_map.get(name, name)
        if target in form.fields:
            for message in messages:
                form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))
