"""The officer's home page, "my work" (我的工作); and the phone app's two public files.

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

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from promo.core import submissions
from promo.core.services import today
from promo.reports.selectors import home_alerts

from . import selectors


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
            "projects": selectors.my_projects(me, day=day),
            "problems": selectors.my_open_problems(me, day=day),
            "claims": selectors.claims_to_decide(me),
            "assists": selectors.assist_requests_to_decide(me),
            **home_alerts(me),  # 红黄灯: my open alerts; a head's or chief's red items
        },
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


# What a page needs to draw itself without a connection (the app shell).
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
