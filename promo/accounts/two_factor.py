"""Second factor (双因素认证, issue #16): TOTP apps and single-use recovery codes (django-otp).

Who must use one is ``officers.permissions.must_use_two_factor`` (局领导, administrators, staff,
superusers; everyone with ``PROMO_2FA_REQUIRED_FOR_ALL``). Anyone else may enrol a device of
their own choice, and from then on it is asked at every sign-in.

The flow
--------
1. The password step is unchanged (``SignInView``, its lockout and failure counting). When it
   signs in an officer who has a confirmed device, the session is marked *pending*
   (``PENDING``) and is not yet recorded as a sign-in (``OfficerSession``): a password alone
   neither takes a place among the officer's capped sessions nor ends an older one.
2. ``TwoFactorMiddleware`` lets a session that must pass a second factor and has not
   (pending, or an officer who must use one) reach only /account/two-factor/, sign-out, the
   language switch and static files: a page is redirected there, an API call with the
   session is refused with 403 ``two_factor_required`` (the API's error format). An API token
   carries no session and is not concerned.
3. At /account/two-factor/ the officer enters the app's code or one recovery code (used
   once: ``StaticDevice`` deletes the token it matched); a wrong code is a sign-in failure for
   the lockout (``security.record_failure``). An officer who must use a second factor and
   has none is enrolled there first.

A verified session holds django-otp's ``otp_device_id`` (``django_otp.login``). The
middleware reads that key from the session and installs ``user.is_verified()`` without a
query (django-otp's own ``OTPMiddleware`` loads the device on every request, a query on
every page). The key stays true because a device is only ever removed together with the
sessions verified by it: a security administrator's reset ends all the officer's sessions,
and an officer replacing or removing their own device ends their other sessions.
"""

from __future__ import annotations

import functools
import time
from base64 import b32encode
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from officers.models import OfficerSession
from officers.permissions import must_use_two_factor
from promo.core.health import HEALTH_PATHS

# Set at sign-in for an officer with a device, until the second factor is passed.
PENDING = "_promo_2fa_pending"
RECOVERY_CODES = 10
TOTP_NAME = "app"
RECOVERY_NAME = "recovery"
PAGE = "/account/two-factor/"


def confirmed_totp(officer: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=officer.pk, confirmed=True).order_by("-id").first()


def has_second_factor(officer: Any) -> bool:
    return TOTPDevice.objects.filter(user_id=officer.pk, confirmed=True).exists()


def session_verified(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(DEVICE_ID_SESSION_KEY))


def needs_verification(request: HttpRequest) -> bool:
    """This signed-in session must pass a second factor before anything else."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or session_verified(request):
        return False
    return bool(request.session.get(PENDING)) or must_use_two_factor(user)


def start_pending(request: HttpRequest | None, user: Any) -> bool:
    """At sign-in: an officer with a device must enter a code next. True when pending."""
    session = getattr(request, "session", None)
    if session is None or not getattr(user, "pk", None):
        return False
    session.pop(DEVICE_ID_SESSION_KEY, None)
    if has_second_factor(user):
        session[PENDING] = True
        return True
    session.pop(PENDING, None)
    return False


def mark_verified(request: HttpRequest, device: Any) -> None:
    """The session passed the second factor with ``device`` (django-otp's login)."""
    otp_login(request, device)
    request.session.pop(PENDING, None)


def secret_text(device: TOTPDevice) -> str:
    """The key as the apps take it typed by hand: base32, in groups of four."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline <svg> (CSP allows it; no script, no data: URL)."""
    import segno

    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))


# The secret being enrolled, kept in the (server-side) session between the page showing it and
# the first code: nothing is written until a code confirms it.
ENROL_KEY = "_promo_2fa_enrol_key"


def pending_device(request: HttpRequest, officer: Any) -> TOTPDevice:
    """The device being enrolled, not saved: the same secret on every reload of the page."""
    key = request.session.get(ENROL_KEY)
    if not isinstance(key, str) or len(key) != 40:
        key = default_key()
        request.session[ENROL_KEY] = key
    return TOTPDevice(user=officer, name=TOTP_NAME, key=key, confirmed=False)


def confirms(device: TOTPDevice, code: str) -> bool:
    """The first code from the app matches the secret shown (django-otp's TOTP, with its
    tolerance of one step either side for a phone's clock)."""
    code = "".join((code or "").split())
    if not code.isdigit():
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance):
        return False
    device.last_t = totp.t()  # this code is used: it cannot sign in again
    device.drift = totp.drift
    return True


def new_recovery_codes(officer: Any) -> list[str]:
    """Ten new single-use codes; the old ones no longer work. Shown once, stored as given
    (django-otp's StaticToken)."""
    with transaction.atomic():
        StaticDevice.objects.filter(user_id=officer.pk).delete()
        device = StaticDevice.objects.create(user=officer, name=RECOVERY_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def recovery_codes_left(officer: Any) -> int:
    return StaticToken.objects.filter(device__user_id=officer.pk, device__confirmed=True).count()


def match(officer: Any, code: str) -> Any:
    """The officer's device that accepts ``code`` (the app's code, or a recovery code, which
    is then used up), or None. Each device is locked while checked, so one code cannot be used
    twice by two requests at once; TOTP also refuses a code already used
    (``last_t``) and slows down repeated failures (django-otp's throttling)."""
    code = "".join((code or "").split()).lower()
    if not code:
        return None
    with transaction.atomic():
        totp = (
            TOTPDevice.objects.select_for_update()
            .filter(user_id=officer.pk, confirmed=True)
            .order_by("-id")
            .first()
        )
        if totp is not None and code.isdigit() and totp.verify_token(code):
            return totp
        for device in StaticDevice.objects.select_for_update().filter(
            user_id=officer.pk, confirmed=True
        ):
            if device.verify_token(code):
                return device
    return None


def end_sessions(officer: Any, *, why: str, keep: str | None = None) -> int:
    """End the officer's open sessions (but ``keep``): the browsers are signed out at their
    next request, each row kept with why (as ``officers.services`` ends them)."""
    rows = OfficerSession.objects.filter(officer_id=officer.pk, ended_at__isnull=True)
    if keep:
        rows = rows.exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    ended: int = rows.update(ended_at=timezone.now(), ended_why=why)
    return ended


def remove_devices(officer: Any) -> None:
    TOTPDevice.objects.filter(user_id=officer.pk).delete()
    StaticDevice.objects.filter(user_id=officer.pk).delete()


def _is_verified(request: HttpRequest) -> bool:
    return session_verified(request)


class TwoFactorMiddleware:
    """Installs ``user.is_verified()`` (django-otp's API, read from the session) and keeps a
    session that must pass a second factor on /account/two-factor/ until it has."""

    # Only the code / enrolment pages themselves: not the other /account/two-factor/ pages
    # (new recovery codes, removal, a security administrator's reset).
    allowed_paths = frozenset({PAGE, PAGE + "enrol/"})
    allowed_prefixes = ("/logout/", "/language/", "/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in HEALTH_PATHS:  # a probe must not load a session (a database read)
            return self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return self.get_response(request)
        user = request.user
        if user.is_authenticated:
            user.is_verified = functools.partial(_is_verified, request)  # type: ignore[attr-defined]
        if (
            not needs_verification(request)
            or request.path in self.allowed_paths
            or request.path.startswith(self.allowed_prefixes)
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "two_factor_required",
                    "message": _("请先在网页上完成双因素认证（验证码或恢复码）。"),
                },
                status=403,
            )
        target = reverse("two_factor")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)


def issuer() -> str:
    return str(getattr(settings, "OTP_TOTP_ISSUER", "promo"))
