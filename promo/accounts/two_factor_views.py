"""The second-factor pages (双因素认证): enter a code, enrol a TOTP app, recovery codes,
remove one's own device, and a security administrator's reset of another officer's.

The rules and the middleware are in ``promo.accounts.two_factor``.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from officers.models import Officer
from officers.permissions import may_reset_two_factor, must_use_two_factor
from officers.selectors import org_officers_visible_to
from promo.accounts import security
from promo.accounts import two_factor as tf
from promo.core.audit import audited


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("验证码"),
        max_length=32,
        help_text=gettext_lazy("身份验证器应用显示的 6 位数字，或一个恢复码。"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("应用显示的验证码"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReplaceForm(EnrolForm):
    current_code = forms.CharField(
        label=gettext_lazy("原设备的验证码或一个恢复码"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off"}),
    )


def _next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _wrong_code(request: HttpRequest, officer: Officer, what: str) -> bool:
    """A wrong code is a sign-in failure (the lockout's counters). True when the account is
    now locked from here: the session is then signed out."""
    ip = security.client_ip(request)
    security.log.warning(
        "second factor failed (%s) username=%s ip=%s", what, officer.get_username(), ip
    )
    security.record_failure(officer.get_username(), ip)
    return security.lock_state(officer.get_username(), ip).locked


def _locked_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.error(request, _("登录失败次数过多，请稍后再试，或联系系统管理员。"))
    return redirect("login")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """双因素认证: asks the code of a session that must pass it; otherwise the officer's
    second factor — whether one is set, the recovery codes left, replace or remove."""
    me = cast(Officer, request.user)
    device = tf.confirmed_totp(me)
    if device is None and tf.needs_verification(request):
        # Must use a second factor and has none: enrol first (nothing else is reachable).
        url = reverse("two_factor_enrol")
        if request.GET.get("next"):
            url += "?" + urlencode({"next": request.GET["next"]})
        return redirect(url)
    if not tf.needs_verification(request):
        if request.method == "POST":
            return redirect("two_factor")
        return render(
            request,
            "promo/two_factor.html",
            {
                "device": device,
                "codes_left": tf.recovery_codes_left(me) if device else 0,
                "required": must_use_two_factor(me),
                "verify": False,
            },
        )
    ip = security.client_ip(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if security.lock_state(me.get_username(), ip).locked:
            return _locked_out(request)
        matched = tf.match(me, form.cleaned_data["code"])
        if matched is None:
            if _wrong_code(request, me, "sign-in"):
                return _locked_out(request)
            form.add_error("code", _("验证码不正确或已过期，恢复码只能用一次。"))
        else:
            request.session.cycle_key()
            tf.mark_verified(request, matched)
            security.record_success(me.get_username(), ip)
            security.record_session(request, me)
            kind = "recovery code" if matched.__class__.__name__ == "StaticDevice" else "app"
            security.log.info(
                "second factor passed (%s) username=%s ip=%s", kind, me.get_username(), ip
            )
            if kind == "recovery code":
                messages.warning(
                    request,
                    _("已使用一个恢复码，还剩 %(n)s 个。恢复码用完前请在“双因素认证”页重新生成。")
                    % {"n": tf.recovery_codes_left(me)},
                )
            return redirect(_next(request))
    return render(
        request,
        "promo/two_factor.html",
        {"form": form, "verify": True, "next": request.GET.get("next") or request.POST.get("next")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP app: the QR code and the key in text, confirmed by a first code; then ten
    recovery codes shown once. With a device already, this replaces it (its current code or a
    recovery code is asked too)."""
    me = cast(Officer, request.user)
    current = tf.confirmed_totp(me)
    if current is not None and tf.needs_verification(request):
        return redirect("two_factor")  # the code of the existing device first
    device = tf.pending_device(request, me)
    form_class = ReplaceForm if current is not None else EnrolForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok = True
        if current is not None and tf.match(me, form.cleaned_data["current_code"]) is None:
            ok = False
            if _wrong_code(request, me, "replace"):
                return _locked_out(request)
            form.add_error("current_code", _("原设备的验证码不正确。"))
        code = "".join(form.cleaned_data["code"].split())
        if ok and not tf.confirms(device, code):
            ok = False
            form.add_error("code", _("验证码不正确，请核对手机时间后输入最新的 6 位数字。"))
        if ok:
            with audited(me, "two_factor_enrolled"), transaction.atomic():
                tf.TOTPDevice.objects.filter(user_id=me.pk).delete()
                device.confirmed = True
                device.save()
                codes = tf.new_recovery_codes(me)
                if current is not None:
                    # Sessions verified by the replaced device are ended (see two_factor.py).
                    tf.end_sessions(me, why="2fa_replaced", keep=request.session.session_key)
            request.session.pop(tf.ENROL_KEY, None)
            tf.mark_verified(request, device)
            security.log.warning(
                "second factor %s username=%s ip=%s",
                "replaced" if current is not None else "enrolled",
                me.get_username(),
                security.client_ip(request),
            )
            return render(
                request,
                "promo/two_factor_codes.html",
                {"codes": codes, "next": _next(request), "enrolled": True},
            )
    return render(
        request,
        "promo/two_factor_enrol.html",
        {
            "form": form,
            "qr": mark_safe(tf.qr_svg(device)),
            "secret": tf.secret_text(device),
            "issuer": tf.issuer(),
            "replacing": current is not None,
            "required": must_use_two_factor(me),
            "next": request.GET.get("next") or request.POST.get("next") or "",
        },
    )


def _verified_or_redirect(request: HttpRequest) -> HttpResponse | None:
    if tf.needs_verification(request):
        return redirect("two_factor")
    return None


@login_required
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Ten new recovery codes; the old ones stop working."""
    me = cast(Officer, request.user)
    refused = _verified_or_redirect(request)
    if refused is not None:
        return refused
    if tf.confirmed_totp(me) is None:
        return redirect("two_factor")
    codes = tf.new_recovery_codes(me)
    security.log.warning(
        "recovery codes regenerated username=%s ip=%s",
        me.get_username(),
        security.client_ip(request),
    )
    return render(
        request,
        "promo/two_factor_codes.html",
        {"codes": codes, "next": reverse("two_factor"), "enrolled": False},
    )


@login_required
@require_POST
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    """Remove one's own second factor, with a current code: only for an officer who need not
    use one (the others replace it instead)."""
    me = cast(Officer, request.user)
    refused = _verified_or_redirect(request)
    if refused is not None:
        return refused
    if must_use_two_factor(me):
        messages.error(request, _("您的账号必须使用双因素认证，只能更换设备，不能关闭。"))
        return redirect("two_factor")
    form = CodeForm(request.POST)
    if not form.is_valid() or tf.match(me, form.cleaned_data["code"]) is None:
        if form.is_valid() and _wrong_code(request, me, "remove"):
            return _locked_out(request)
        messages.error(request, _("验证码不正确，双因素认证未关闭。"))
        return redirect("two_factor")
    with audited(me, "two_factor_removed"):
        tf.remove_devices(me)
        tf.end_sessions(me, why="2fa_removed", keep=request.session.session_key)
    request.session.pop(tf.DEVICE_ID_SESSION_KEY, None)
    security.log.warning(
        "second factor removed username=%s ip=%s", me.get_username(), security.client_ip(request)
    )
    messages.success(request, _("已关闭双因素认证。"))
    return redirect("two_factor")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """A security administrator removes another officer's second factor (a lost phone): the
    officer's sessions are ended, and one who must use a second factor enrols again at the
    next sign-in. Logged to the security log."""
    me = cast(Officer, request.user)
    refused = _verified_or_redirect(request)  # the middleware holds it too; kept here as well
    if refused is not None:
        return refused
    target = get_object_or_404(org_officers_visible_to(me), pk=pk)
    if not may_reset_two_factor(me, target):
        security.log.warning(
            "second factor reset refused by=%s target_id=%s", me.get_username(), pk
        )
        raise PermissionDenied
    if request.method == "POST":
        with audited(me, "two_factor_reset"):
            tf.remove_devices(target)
            ended = tf.end_sessions(target, why="2fa_reset")
        security.log.warning(
            "second factor reset by=%s username=%s sessions_ended=%s ip=%s",
            me.get_username(),
            target.get_username(),
            ended,
            security.client_ip(request),
        )
        messages.success(
            request,
            _("已重置 %(name)s 的双因素认证，其登录会话已结束。") % {"name": target.display_name},
        )
        return redirect("two_factor_reset", pk=target.pk)
    context: dict[str, Any] = {
        "target": target,
        "has_device": tf.has_second_factor(target),
        "required": must_use_two_factor(target),
    }
    return render(request, "promo/two_factor_reset.html", context)
