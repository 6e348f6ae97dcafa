"""Sign-in, sign-out, password change and the language switch (界面语言).

Django's own ``set_language`` only sets the cookie, so the choice would stay on one
browser; here a signed-in officer's choice is also saved on their account, and sign-in
(``SignInView``) brings it to every device they use.
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from officers.models import Officer
from officers.permissions import may_clear_lockouts
from officers.selectors import open_sessions_of, sessions_visible_to
from officers.services import officer_session_end, officer_set_language
from promo.accounts import security
from promo.accounts.forms import SignInForm


class SignInView(auth_views.LoginView):
    """Sign-in page (登录) with lockout; the officer's language follows them to every device."""

    form_class = SignInForm
    template_name = "promo/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Signed out by the session's absolute lifetime (promo.accounts.security): say why once.
        context["lifetime_ended"] = (
            self.request.session.pop(security.SESSION_ENDED, None) == "lifetime"
        )
        return context

    def form_valid(self, form):
        officer = form.get_user()
        previous = sessions_visible_to(officer).order_by("-created_at", "-id").first()
        response = super().form_valid(form)
        if previous is not None:
            # 等保 2.0: the officer is told of the last sign-in, to notice one that was not theirs.
            messages.info(
                self.request,
                _("上次登录：%(when)s，地址 %(ip)s。")
                % {
                    "when": date_format(
                        timezone.localtime(previous.created_at), "SHORT_DATETIME_FORMAT"
                    ),
                    "ip": previous.ip or "-",
                },
            )
        language = getattr(officer, "language", "")
        if language in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change my password (修改密码); the bureau's password rules (AUTH_PASSWORD_VALIDATORS) apply."""

    template_name = "promo/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        if form.user.must_change_password:
            # The officer has chosen their own password after a reset by someone else.
            Officer.objects.filter(pk=form.user.pk).update(must_change_password=False)
        security.log.info(
            "password changed username=%s ip=%s",
            self.request.user.get_username(),
            security.client_ip(self.request),
        )
        messages.success(self.request, _("密码已修改。"))
        return response


@login_required
@require_http_methods(["GET"])
def session_list(request: HttpRequest) -> HttpResponse:
    """My sign-ins (登录会话): the open ones, this one marked, each with a way to end it; and the
    last ended ones, so an officer notices a sign-in that was not theirs."""
    me = cast(Officer, request.user)
    current = request.session.session_key
    open_rows = list(open_sessions_of(me).order_by("-created_at", "-id"))
    open_ids = {row.pk for row in open_rows}
    recent = [
        row
        for row in sessions_visible_to(me).order_by("-created_at", "-id")[:20]
        if row.pk not in open_ids
    ][:10]
    return render(
        request,
        "promo/sessions.html",
        {
            "open_rows": open_rows,
            "recent": recent,
            "current": current,
            "max_sessions": settings.PROMO_MAX_SESSIONS,
        },
    )


@login_required
@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End one of my sessions (another browser, a phone left signed in). Ending this one signs
    out here too."""
    me = cast(Officer, request.user)
    row = get_object_or_404(sessions_visible_to(me), pk=pk)
    officer_session_end(actor=me, officer_session=row)
    if row.session_key == request.session.session_key:
        return redirect("login")
    messages.success(request, _("已结束该登录会话。"))
    return redirect("sessions")


class SignOutView(auth_views.LogoutView):
    """Sign-out (退出); POST only, so a link in a page cannot sign an officer out."""

    next_page = "login"


@login_required
@require_http_methods(["GET", "POST"])
def lockout_list(request: HttpRequest) -> HttpResponse:
    """Sign-in lockouts in force (锁定): the accounts and addresses refused now, for the
    security administrator to see and end (解锁, issue #16). Every clearing goes to the
    security log; the counters live in Redis, so nothing is written to the database."""
    from django.core.exceptions import PermissionDenied

    me = cast(Officer, request.user)
    if not may_clear_lockouts(me):
        raise PermissionDenied
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        ip = request.POST.get("ip", "").strip()[:45]
        try:
            cleared = security.lockout_clear(username=username, ip=ip) if username or ip else 0
        except security.CACHE_DOWN:
            messages.error(request, _("缓存服务不可用，暂时无法解锁。"))
            return redirect("lockouts")
        security.log.warning(
            "lockout cleared by=%s username=%s address=%s counters=%s ip=%s",
            me.get_username(),
            username or "-",
            ip or "-",
            cleared,
            security.client_ip(request),
        )
        messages.success(request, _("已解除锁定。"))
        return redirect("lockouts")
    try:
        found: list[security.Lockout] | None = security.lockouts()
    except security.CACHE_DOWN:
        found = None
    context = {
        "lockouts": found,
        "minutes": settings.PROMO_LOGIN_LOCKOUT_MINUTES,
    }
    return render(request, "promo/lockouts.html", context)


def _safe_next(request: HttpRequest) -> str:
    """Where to go back to: ``next`` or the referring page, only if it is on this site."""
    for candidate in (request.POST.get("next"), request.headers.get("referer")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        ):
            return candidate
    return reverse("home")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; an unknown language changes nothing."""
    response = HttpResponseRedirect(_safe_next(request))
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        officer_set_language(officer=request.user, actor=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE or settings.SESSION_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )
    return response
