"""The sign-in form, with lockout."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from promo.accounts import security


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
        if self.user_cache is not None and username:
            security.record_success(username, security.client_ip(self.request))
        return cleaned
