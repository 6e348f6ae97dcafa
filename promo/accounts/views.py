"""Sign-in, sign-out, password change and the language switch (界面语言).

Django's own ``set_language`` only sets the cookie, so the choice would stay on one
browser; here a signed-in officer's choice is also saved on their account, and sign-in
(``SignInView``) brings it to every device they use.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from officers.models import Officer
from officers.services import officer_set_language
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
        response = super().form_valid(form)
        language = getattr(form.get_user(), "language", "")
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Signed out by the session's absolute lifetime (promo.accounts.security): say why once.
        context["lifetime_ended"] = (
            self.request.session.pop(security.SESSION_ENDED, None) == "lifetime"
        )
        return context

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


class SignOutView(auth_views.LogoutView):
    """Sign-out (退出); POST only, so a link in a page cannot sign an officer out."""

    next_page = "login"


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
