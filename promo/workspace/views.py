"""The officer's home page, "my work" (我的工作); their calendar (日程) with its feed; and
the phone app's two public files.

The service worker and the web app manifest (离线登记走访, issue #15) are served from the site
root rather than /static/: a service worker controls only the pages under the folder it was
served from, and the visit form lives at /visits/new/. They are public (the browser fetches
them without asking who is signed in) and say nothing about anyone: the worker's list of
files is promo's own CSS, JS and icons.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from officers.models import Officer
from promo.core import submissions
from promo.core.services import today
from promo.reports.selectors import home_alerts

from . import selectors, services
from .exports import calendar_ics


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My work (我的工作): what is due, what I hold, what I was first asked."""
    me = request.user
    day = today()
    lead_list_url = reverse("leads:list")
    lead_counts = [
        {
            "status": status,
            "label": status.label,
            "count": count,
            "url": f"{lead_list_url}?{urlencode({'status': status.value, 'mine': '1'})}",
        }
        for status, count in selectors.my_lead_counts(me).items()
    ]
    soon = day + timedelta(days=3)
    projects = selectors.my_projects(me, day=day)
    return render(
        request,
        "promo/home.html",
        {
            "today": day,
            "soon": soon,
            "follow_ups": selectors.follow_ups_due(me, day=day),
            # 办理时限: my leads' steps overdue or due within the same three days.
            "clock_steps": selectors.my_clock_steps(me, day=day, until=soon),
            "lead_counts": lead_counts,
            "projects": projects.on,
            "problems": selectors.my_open_problems(me, day=day),
            # 亲商服务: the producing enterprises I serve whose service visit is overdue.
            "service_visits_overdue": projects.service_overdue,
            "claims": selectors.claims_to_decide(me),
            "assists": selectors.assist_requests_to_decide(me),
            **home_alerts(me),  # 红黄灯: my open alerts; a head's or chief's red items
        },
    )


SEARCH_GROUP_TITLES = {
    "investors": gettext_lazy("客商"),
    "leads": gettext_lazy("项目信息"),
    "projects": gettext_lazy("项目"),
}


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The header's search box (一框搜索): ``/search/?q=`` finds investors, leads and projects
    by name, pinyin, initials, English name or credit code; ``&only=leads`` lists one group at
    length. A query of one character gets a hint, not a scan of every record."""
    query = " ".join((request.GET.get("q") or "").split())[:100].replace("\x00", "")
    only = request.GET.get("only") or ""
    results = selectors.search_everything(request.user, query, only=only) if query else None
    groups = [
        {
            "kind": group.kind,
            "title": SEARCH_GROUP_TITLES[group.kind],
            "rows": group.rows,
            "more_url": (
                f"{reverse('search')}?{urlencode({'q': query, 'only': group.kind})}"
                if group.more and not only
                else ""
            ),
        }
        for group in (results.groups if results else [])
    ]
    return render(
        request,
        "promo/search.html",
        {"query": query, "results": results, "groups": groups, "only": only},
    )


@login_required
@require_GET
def submission_state(request: HttpRequest, key) -> JsonResponse:
    """Whether this officer's form with submission ``key`` was saved (草稿, issue #15).

    A form keeps what the officer types in the browser (static/promo/promo.js) so that an
    expired session or a dropped connection loses nothing; before the kept text is put back
    into a form, the page asks here: a form already saved is not offered again. Only the
    officer's own keys answer ``saved``; anyone else's are as unknown as a key never used.
    """
    saved = submissions.earlier_result(request.user, key) is not None
    return JsonResponse({"saved": saved}, headers={"Cache-Control": "no-store"})


# --- the calendar (日程) and its feed --------------------------------------------------------

# A new feed address waits here between the POST that made it and the page that shows it, once
# (a double tap's second POST finds its key used and is sent to the same page): only its hash
# is stored anywhere else, so it cannot be shown again.
NEW_FEED_URL = "calendar_new_feed_url"


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """日程: my follow-ups due and my projects' planned dates, overdue first, then by day (an
    agenda, which reads on a 375-px phone where a month grid does not); and my feed address."""
    me = cast(Officer, request.user)
    day = selectors.calendar_today()
    new_feed_url = request.session.pop(NEW_FEED_URL, None)
    feed = selectors.calendar_feeds_visible_to(me).filter(revoked_at__isnull=True).first()
    return render(
        request,
        "promo/calendar.html",
        {
            "calendar": selectors.officer_calendar(me, day=day),
            "tomorrow": day + timedelta(days=1),
            "feed": feed,
            "new_feed_url": new_feed_url,
            "new_feed_webcal": _webcal(new_feed_url) if new_feed_url else "",
            "form": submissions.OnceForm(),
        },
    )


def _webcal(url: str) -> str:
    """The same address with the webcal: scheme, which a phone opens as "subscribe"."""
    return "webcal://" + url.split("://", 1)[1]


@login_required
@require_POST
def calendar_feed_issue(request: HttpRequest) -> HttpResponse:
    """Make (or replace) my feed address; it is shown once, on the calendar page."""
    me = cast(Officer, request.user)
    form = submissions.OnceForm(request.POST)
    form.is_valid()
    key = form.submission_key()
    done = reverse("calendar")
    if submissions.earlier_result(me, key) is not None:
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(done)
    replacing = selectors.calendar_feeds_visible_to(me).filter(revoked_at__isnull=True).exists()
    try:
        with transaction.atomic():
            _feed, token = services.calendar_feed_issue(actor=me)
            submissions.record(me, key, done)
    except submissions.AlreadySubmitted as earlier:
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier.url)
    request.session[NEW_FEED_URL] = request.build_absolute_uri(
        reverse("calendar_feed", kwargs={"token": token})
    )
    if replacing:
        messages.success(request, _("已生成新的订阅地址；原来的地址已停用。"))
    else:
        messages.success(request, _("已生成订阅地址。"))
    return redirect(done)


@login_required
@require_POST
def calendar_feed_revoke(request: HttpRequest) -> HttpResponse:
    """Stop my feed address (停用): a phone subscribed to it gets nothing more."""
    me = cast(Officer, request.user)
    request.session.pop(NEW_FEED_URL, None)
    if services.calendar_feed_revoke(actor=me) is None:
        messages.info(request, _("没有在用的订阅地址。"))
    else:
        messages.success(request, _("订阅地址已停用。"))
    return redirect("calendar")


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The officer's calendar as an iCalendar file, for a phone calendar's subscription.

    No session: the token in the address is the credential, found by its hash. A revoked or
    unknown token, and the feed of a deactivated officer, answer the same bare 404. The items
    are computed now, through the visibility selectors, so the feed never shows a record its
    officer no longer sees; in the officer's language.
    """
    feed = selectors.calendar_feed_for_token(services.feed_token_hash(token))
    if feed is None:
        return _feed_not_found()
    officer = feed.officer
    services.calendar_feed_touch(feed=feed)
    with translation.override(officer.language or settings.LANGUAGE_CODE):
        calendar = selectors.officer_calendar(officer, day=selectors.calendar_today())
        body = calendar_ics(calendar, absolute=request.build_absolute_uri)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    _private(response)
    return response


def _feed_not_found() -> HttpResponse:
    response = HttpResponseNotFound(b"Not Found", content_type="text/plain; charset=utf-8")
    _private(response)
    # Django logs every 4xx with its path (django.request): the path is the token. The
    # refusal says nothing worth logging, and the access log of the proxy has it anyway.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _private(response: HttpResponse) -> None:
    """Kept by no cache, and the address (a credential) sent to no other site as a referrer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"


# What a page needs to draw itselfwithout a connection (the app shell).
SHELL_FILES = (
    "promo/promo.css",
    "reports/reports.css",
    "promo/promo.js",
    "promo/icons/promo-192.png",
    "promo/icons/promo-512.png",
)


def _version(source: str) -> str:
    """Changes whenever the worker or one of its files does, so browsers install it again
    and drop the old copies (in production the file addresses carry hashes already; in
    development the files' contents do the same)."""
    digest = hashlib.sha256(source.encode())
    for name in SHELL_FILES:
        found = finders.find(name)
        if isinstance(found, str):
            digest.update(Path(found).read_bytes())
    return digest.hexdigest()[:16]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """``/sw.js``: the worker that opens the visit form offline (templates/promo/sw.js)."""
    template = get_template("promo/sw.js")
    shell = [static(name) for name in SHELL_FILES]
    body = template.render(
        {
            "shell": shell,
            "form_url": reverse("leads:visit_new"),
            "version": _version("|".join(shell) + template.template.source),
        }
    )
    return HttpResponse(
        body,
        content_type="text/javascript; charset=utf-8",
        headers={
            "Service-Worker-Allowed": "/",
            # Always asked again: a new deploy reaches every phone at its next page.
            "Cache-Control": "no-cache",
        },
    )


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """``/manifest.webmanifest``: lets a phone keep promo on its home screen as an app."""
    return JsonResponse(
        {
            "name": _("招商 promo"),
            "short_name": "promo",
            "lang": get_language(),
            "start_url": reverse("home"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#f4f6f8",
            "theme_color": "#b3261e",
            "icons": [
                {
                    "src": static(f"promo/icons/promo-{size}.png"),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                }
                for size in (192, 512)
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
        headers={"Cache-Control": "no-cache"},
    )
