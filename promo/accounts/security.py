"""Sign-in lockout and the security log (logger ``promo.security``).

Lockout design (why it is shaped this way)
------------------------------------------
A government office usually reaches promo through one proxy or NAT address, so a lockout
keyed on the IP alone would let one person's typos (or one attacker) lock out the whole
Shanghai office, and a lockout keyed on the username alone would let anyone lock out any
officer from everywhere by typing their username wrong five times.

So three counters live in the cache (Redis), each expiring ``PROMO_LOGIN_LOCKOUT_MINUTES``
after the last failure that touched it:

* ``account``  — failures for one username, from any address;
* ``account+ip`` — failures for one username from one address;
* ``ip`` — failures for any username from one address.

An attempt for username U from address A is refused when

* ``account[U] >= PROMO_LOGIN_FAILURES_PER_ACCOUNT`` **and** ``account+ip[U, A] >= 1``:
  the account is locked, but only for the addresses that took part in the failures. An
  attacker spreading guesses over many addresses locks every one of them; the officer on a
  clean address (their phone, another office) still signs in; or
* ``ip[A] >= PROMO_LOGIN_FAILURES_PER_IP``: a much higher threshold, so a whole office
  behind one address can mistype many times a day, while password spraying (many usernames
  from one address) is still stopped.

While locked, the password is not even checked: a correct password is refused too, so a
lockout cannot be used as an oracle. A successful sign-in clears that address's counter for
the username.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseRedirect,
    JsonResponse,
)
from django.urls import reverse
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from officers.services import officer_session_closed, officer_session_record
from promo.core.health import HEALTH_PATHS

log = logging.getLogger("promo.security")

_PREFIX = "login-fail"


@functools.cache
def _proxy_networks(
    networks: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(net, strict=False) for net in networks)


def _from_proxy(remote: str) -> bool:
    """The connection comes from a network where promo's reverse proxies sit."""
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    networks = _proxy_networks(tuple(settings.PROMO_LOGIN_PROXY_NETWORKS))
    return any(address in network for network in networks if network.version == address.version)


def client_ip(request: HttpRequest | None) -> str:
    """The client's address; trusts X-Forwarded-For only for the configured number of proxies."""
    if request is None:
        return "-"
    remote = request.META.get("REMOTE_ADDR", "") or "-"
    proxies = settings.PROMO_LOGIN_TRUSTED_PROXIES
    if proxies <= 0 or not _from_proxy(remote):
        # No proxy configured, or a connection that does not come from one: its own address.
        return remote
    # Each trusted proxy appends the address it saw; the client is `proxies` entries from the end.
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    return remote


def _normal_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _keys(username: str, ip: str) -> tuple[str, str, str]:
    user = _normal_username(username)
    return (
        f"{_PREFIX}:account:{user}",
        f"{_PREFIX}:account-ip:{user}:{ip}",
        f"{_PREFIX}:ip:{ip}",
    )


def _window_seconds() -> int:
    return max(1, settings.PROMO_LOGIN_LOCKOUT_MINUTES) * 60


@dataclass(frozen=True)
class LockState:
    locked: bool
    reason: str = ""  # "account" or "ip"


# The counters live in Redis. If Redis is down, sign-in stays open (the lockout is skipped
# and the outage logged): officers must keep working through a cache outage, and the
# passwords themselves are still checked against PostgreSQL.
_CACHE_DOWN = (RedisError, OSError)
CACHE_DOWN = _CACHE_DOWN


def lock_state(username: str, ip: str) -> LockState:
    """Whether a sign-in for ``username`` from ``ip`` must be refused now."""
    account, account_ip, ip_key = _keys(username, ip)
    try:
        counts = cache.get_many([account, account_ip, ip_key])
    except _CACHE_DOWN as exc:
        log.error("sign-in lockout unavailable (cache down): %s", exc)
        return LockState(False)
    if counts.get(ip_key, 0) >= settings.PROMO_LOGIN_FAILURES_PER_IP:
        return LockState(True, "ip")
    if (
        counts.get(account, 0) >= settings.PROMO_LOGIN_FAILURES_PER_ACCOUNT
        and counts.get(account_ip, 0) >= 1
    ):
        return LockState(True, "account")
    return LockState(False)


def _bump(key: str) -> int:
    timeout = _window_seconds()
    cache.add(key, 0, timeout)
    try:
        value = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        value = 1
    # Sliding window: the lock lasts M minutes after the *last* failure.
    cache.touch(key, timeout)
    return value


def record_failure(username: str, ip: str) -> None:
    account, account_ip, ip_key = _keys(username, ip)
    try:
        failures = _bump(account)
        _bump(account_ip)
        ip_failures = _bump(ip_key)
    except _CACHE_DOWN as exc:
        log.error("sign-in failure not counted (cache down): %s", exc)
        return
    if failures == settings.PROMO_LOGIN_FAILURES_PER_ACCOUNT:
        log.warning("account locked username=%s ip=%s", _normal_username(username), ip)
    if ip_failures == settings.PROMO_LOGIN_FAILURES_PER_IP:
        log.warning("address locked ip=%s", ip)


def record_success(username: str, ip: str) -> None:
    _account, account_ip, _ip = _keys(username, ip)
    try:
        cache.delete(account_ip)
    except _CACHE_DOWN as exc:
        log.error("sign-in counter not cleared (cache down): %s", exc)


def _keys_matching(pattern: str) -> list[str]:
    """The cache keys matching ``pattern`` (SCAN through promo's Redis cache)."""
    from django.core.cache import caches

    from promo.core.cache import GuardedRedisCache

    backend = caches["default"]
    if not isinstance(backend, GuardedRedisCache):
        return []  # a cache that cannot list its keys: nothing to show
    return backend.keys_matching(pattern)


@dataclass(frozen=True)
class Lockout:
    """A lockout in force: an account (with the addresses that took part) or an address."""

    kind: str  # "account" or "ip"
    name: str  # the username, or the address
    failures: int
    addresses: tuple[str, ...] = ()


def lockouts() -> list[Lockout]:
    """The accounts and addresses locked now, for the security administrator's page
    (``/account/lockouts/``). Raises a Redis error when the cache is away."""
    found = []
    per_account = settings.PROMO_LOGIN_FAILURES_PER_ACCOUNT
    for key in _keys_matching(f"{_PREFIX}:account:*"):
        failures = cache.get(key) or 0
        if failures < per_account:
            continue
        user = key[len(f"{_PREFIX}:account:") :]
        head = f"{_PREFIX}:account-ip:{user}:"
        addresses = tuple(sorted(k[len(head) :] for k in _keys_matching(f"{head}*")))
        found.append(Lockout("account", user, failures, addresses))
    for key in _keys_matching(f"{_PREFIX}:ip:*"):
        failures = cache.get(key) or 0
        if failures >= settings.PROMO_LOGIN_FAILURES_PER_IP:
            found.append(Lockout("ip", key[len(f"{_PREFIX}:ip:") :], failures))
    return sorted(found, key=lambda lockout: (lockout.kind, lockout.name))


def lockout_clear(*, username: str = "", ip: str = "") -> int:
    """End a lockout (解锁): an account's counters (from every address), or an address's.
    Returns how many counters were deleted. Raises a Redis error when the cache is away."""
    keys: list[str] = []
    if username:
        account, _account_ip, _ip = _keys(username, "-")
        user = _normal_username(username)
        keys += [account, *_keys_matching(f"{_PREFIX}:account-ip:{user}:*")]
    if ip:
        keys.append(_keys("", ip)[2])
    return sum(1 for key in keys if cache.delete(key))


# --- The security log --------------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="promo.accounts.security.logged_in")
def _logged_in(sender, request, user, **kwargs) -> None:
    log.info("sign-in username=%s ip=%s", user.get_username(), client_ip(request))
    from promo.accounts.two_factor import start_pending

    if start_pending(request, user):
        # A second factor is asked next: the sign-in is recorded once it is passed
        # (promo.accounts.two_factor), so a password alone ends none of the officer's sessions.
        log.info("second factor asked username=%s ip=%s", user.get_username(), client_ip(request))
        return
    record_session(request, user)


def record_session(request: HttpRequest | None, user) -> None:
    """Record a sign-in with where it came from; the oldest beyond PROMO_MAX_SESSIONS end."""
    session = getattr(request, "session", None)
    if request is not None and session is not None and session.session_key and user.pk:
        officer_session_record(
            officer=user,
            session_key=session.session_key,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )


@receiver(user_logged_out, dispatch_uid="promo.accounts.security.logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    name = user.get_username() if user is not None else "-"
    log.info("sign-out username=%s ip=%s", name, client_ip(request))
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        officer_session_closed(session_key=session.session_key)


@receiver(user_login_failed, dispatch_uid="promo.accounts.security.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Every failed password check counts, whichever form asked (sign-in page, admin, API).
    username = credentials.get("username", "") if credentials else ""
    ip = client_ip(request)
    log.warning("sign-in failed username=%s ip=%s", _normal_username(username), ip)
    record_failure(username, ip)


class AccessAuditMiddleware:
    """Log every denied access: 401/403 responses, 404s served to a signed-in officer
    (another unit's record is answered with 404 so its existence is not revealed), and
    anonymous requests sent to the sign-in page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in HEALTH_PATHS:  # probes are not officers' accesses; no session read
            return self.get_response(request)
        refused = self._refuse_locked_sign_in(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        status = response.status_code
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        who = user.get_username() if user is not None and signed_in else "-"
        if status in (401, 403) or (status == 404 and signed_in):
            log.warning(
                "access denied status=%s username=%s ip=%s method=%s path=%s",
                status,
                who,
                client_ip(request),
                request.method,
                request.path,
            )
        elif status == 302 and not signed_in:
            location = response.get("Location", "")
            login = str(settings.LOGIN_URL)
            if location.startswith(login) and request.path != login:
                log.info(
                    "sign-in required ip=%s method=%s path=%s",
                    client_ip(request),
                    request.method,
                    request.path,
                )
        return response

    @staticmethod
    def _refuse_locked_sign_in(request: HttpRequest) -> HttpResponse | None:
        """Apply the lockout to every other sign-in form too (the admin's), not only /login/.

        /login/ refuses with a message in its own form; any other form posting a username
        and a password is refused here, before the password is checked.
        """
        if request.method != "POST" or request.path == str(settings.LOGIN_URL):
            return None
        if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return None
        username = request.POST.get("username")
        if not username or "password" not in request.POST:
            return None
        ip = client_ip(request)
        state = lock_state(username, ip)
        if not state.locked:
            return None
        log.warning(
            "sign-in refused (%s locked) username=%s ip=%s path=%s",
            state.reason,
            _normal_username(username),
            ip,
            request.path,
        )
        return HttpResponseForbidden(
            _("登录失败次数过多，请稍后再试，或联系系统管理员。"),
            content_type="text/plain; charset=utf-8",
        )


class SuperuserAuditMiddleware:
    """Write every request by a superuser to the security log: what (method, path, status),
    when (the log record's time, and the request's own in ``at=``), from where (address) and
    by whom. The superuser is for installing promo only (三员分立, issue #16, decision 0019): a
    bureau's log collector shows each use, so an account kept for daily work stands out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import timezone

        from officers.permissions import is_superuser

        if request.path in HEALTH_PATHS:  # probes: no session read
            return self.get_response(request)
        at = timezone.now()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and is_superuser(user):
            log.warning(
                "superuser request username=%s ip=%s at=%s method=%s path=%s status=%s",
                user.get_username(),
                client_ip(request),
                at.isoformat(timespec="seconds"),
                request.method,
                request.path,
                response.status_code,
            )
        return response


class SignedInNoStoreMiddleware:
    """Pages served to a signed-in officer are not kept by the browser or any cache between
    (``Cache-Control: no-store, private``): on a shared office PC the back button after
    signing out must not show the last officer's leads (issue #16, 等保 hygiene). A page
    that says how it may be cached keeps its own header; the API, whose clients revalidate
    with ETags, is left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path in HEALTH_PATHS:  # a probe must not load a session (a database read)
            return response
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith("/api/")
            and not response.has_header("Cache-Control")
        ):
            response["Cache-Control"] = "no-store, private"
        return response


class ContentSecurityPolicyMiddleware:
    """Content-Security-Policy (``PROMO_CSP``) on every answer that has none: scripts only
    from promo's own static files, never inline or from elsewhere — an injected ``<script>``
    or ``onclick=`` does not run even if a template ever failed to escape it (issue #16).
    Inline styles stay allowed: the printable bulletin and the meeting-room screen carry
    their own ``<style>``, and a style cannot run script. An empty ``PROMO_CSP`` sends none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.PROMO_CSP
        if policy and not response.has_header("Content-Security-Policy"):
            response["Content-Security-Policy"] = policy
        return response


class PasswordChangeRequiredMiddleware:
    """After someone else reset an officer's password (``Officer.must_change_password``),
    every page sends them to /password/ until they have chosen their own; API calls made
    with the session are refused with a stable code."""

    allowed = ("/password/", "/logout/", "/language/", "/static/", "/account/two-factor/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in HEALTH_PATHS:  # a probe must not load a session (a database read)
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.allowed)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "code": "password_change_required",
                        "message": str(_("请先修改密码。")),
                    },
                    status=403,
                )
            return HttpResponseRedirect(reverse("password_change"))
        return self.get_response(request)


SESSION_TOUCHED = "_promo_touched"
# When the session was signed in (epoch seconds), for its absolute lifetime.
SESSION_STARTED = "_promo_started"
# Set in the fresh session of an officer signed out by the lifetime: the sign-in page says why.
SESSION_ENDED = "_promo_ended"


class SessionIdleMiddleware:
    """Keep a session in use alive, writing it at most once a minute; end it at its absolute
    lifetime however busy it is (等保 2.0: an active session does not live forever).

    Sessions expire after ``SESSION_COOKIE_AGE`` without use (settings). Saving the session
    on every request (``SESSION_SAVE_EVERY_REQUEST``) would cost every page and API call a
    write and a commit; instead the session's expiry moves on when it was last moved more
    than ``SESSION_TOUCH_SECONDS`` ago, so an idle session ends between ``SESSION_COOKIE_AGE``
    minus that and ``SESSION_COOKIE_AGE`` after its last use.

    ``SESSION_ABSOLUTE_SECONDS`` after signing in (default 12 hours: a working day) the
    session is flushed before authentication runs: the request goes on signed out (a page
    sends to the sign-in page, which says why; an API call with the session is a 401). A
    session signed in before this rule existed starts its clock at its next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.session_key and request.path not in HEALTH_PATHS:
            now = int(time.time())
            started = session.get(SESSION_STARTED)
            if session.get("_auth_user_id") is not None:
                if not isinstance(started, int):
                    session[SESSION_STARTED] = now
                elif now - started >= settings.SESSION_ABSOLUTE_SECONDS:
                    session.flush()
                    session[SESSION_ENDED] = "lifetime"
                    return self.get_response(request)
            last = session.get(SESSION_TOUCHED)
            if not isinstance(last, int) or not 0 <= now - last < settings.SESSION_TOUCH_SECONDS:
                session[SESSION_TOUCHED] = now  # modified: the middleware saves it
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="promo.accounts.security.session_touched_at_login")
def _touched_at_login(sender, request=None, **kwargs) -> None:
    # Signing in saves the session: its expiry starts there, no need to move it again at once.
    session = getattr(request, "session", None)
    if session is not None:
        now = int(time.time())
        session[SESSION_TOUCHED] = now
        session[SESSION_STARTED] = now  # the absolute lifetime counts from here
        session.pop(SESSION_ENDED, None)
