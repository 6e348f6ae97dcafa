"""The officer's own pages: sign-in, sign-out and the home page "my work" (我的工作)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views

from promo.forms import SignInForm


class SignInView(auth_views.LoginView):
    """Sign-in page (登录) with lockout; the officer's language follows them to every device."""

    form_class = SignInForm
    template_name = "promo/login.html"
    redirect_authenticated_user = True

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


class SignOutView(auth_views.LogoutView):
    """Sign-out (退出); POST only, so a link in a page cannot sign an officer out."""

    next_page = "login"
