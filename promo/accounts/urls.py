"""Sign-in, sign-out, the second factor, password change and the language switch."""

from django.urls import path

from promo.accounts import two_factor_views, views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("language/", views.set_language, name="set_language"),
    path("sessions/", views.session_list, name="sessions"),
    path("sessions/<int:pk>/end/", views.session_end, name="session_end"),
    # Sign-in lockouts in force, seen and ended by the security administrator (#16).
    path("account/lockouts/", views.lockout_list, name="lockouts"),
    # Second factor (双因素认证): the code at sign-in, enrolment, recovery codes, reset.
    path("account/two-factor/", two_factor_views.two_factor, name="two_factor"),
    path("account/two-factor/enrol/", two_factor_views.two_factor_enrol, name="two_factor_enrol"),
    path(
        "account/two-factor/recovery-codes/",
        two_factor_views.two_factor_recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path(
        "account/two-factor/remove/", two_factor_views.two_factor_remove, name="two_factor_remove"
    ),
    path(
        "account/two-factor/reset/<int:pk>/",
        two_factor_views.two_factor_reset,
        name="two_factor_reset",
    ),
]
