"""The campaigns' pages: list, league table, XLSX and the meeting-room screen. Interfaces only.

Access: any signed-in officer, through ``campaigns_visible_to`` — chiefs see every campaign;
unit heads and officers the campaigns that cover their unit (a league table is there to be
seen by those racing); anyone else gets a 404, as if the campaign did not exist. The screen
also requires a sign-in: the meeting-room PC signs in as the chief (or a unit head), so no
figure is ever served to an anonymous browser.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_GET

from promo.core.exports import xlsx_download
from promo.core.services import today

from . import exports
from .selectors import campaigns_visible_to, league_cached, with_links

SCREEN_REFRESH_SECONDS = 60
SCREEN_ROWS = 10


def _campaign(request: HttpRequest, pk: int):
    return get_object_or_404(campaigns_visible_to(request.user).prefetch_related("metrics"), pk=pk)


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    day = today()
    campaigns = list(campaigns_visible_to(request.user).order_by("-start", "-id"))
    for campaign in campaigns:
        campaign.status = (
            "upcoming" if day < campaign.start else "finished" if day > campaign.end else "running"
        )
    return render(request, "campaigns/campaign_list.html", {"campaigns": campaigns})


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    table = with_links(league_cached(campaign, today=today()), request.user)
    return render(request, "campaigns/campaign_detail.html", {"campaign": campaign, **table})


@login_required
@require_GET
def campaign_export(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    table = league_cached(campaign, today=today())
    return xlsx_download(exports.sheets(campaign, table), filename=exports.xlsx_filename(campaign))


def _screen_language(request: HttpRequest) -> str:
    """Chinese unless asked otherwise (``?lang=en`` or the officer's language cookie): the
    meeting-room browser's own locale is nobody's choice."""
    languages = dict(settings.LANGUAGES)
    for candidate in (
        request.GET.get("lang", ""),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""),
    ):
        if candidate in languages:
            return candidate
    return settings.LANGUAGE_CODE


@login_required
@require_GET
def campaign_screen(request: HttpRequest, pk: int) -> HttpResponse:
    """The public screen (大屏) for the meeting room: large type, no navigation, refreshed
    every minute by a meta refresh (no script to break on an old display PC) unless paused."""
    campaign = _campaign(request, pk)
    table = league_cached(campaign, today=today())
    language = _screen_language(request)
    # WCAG 2.2.1 (timing adjustable): whoever reads the screen can stop the refresh, without
    # a script — a link to the same screen with ?paused=1, and one back (issue #17).
    paused = request.GET.get("paused") == "1"
    toggled = request.GET.copy()  # the other parameters (?lang=) stay as they are
    toggled.pop("paused", None)
    if not paused:
        toggled["paused"] = "1"
    toggle_url = request.path + (f"?{toggled.urlencode()}" if toggled else "")
    with translation.override(language):
        response = render(
            request,
            "campaigns/campaign_screen.html",
            {
                "campaign": campaign,
                **table,
                # The first ten places, with everyone tied on the tenth.
                "top_units": [r for r in table["units"] if r["rank"] <= SCREEN_ROWS],
                "top_officers": [r for r in table["officers"] if r["rank"] <= SCREEN_ROWS],
                "refresh_seconds": None if paused else SCREEN_REFRESH_SECONDS,
                "toggle_url": toggle_url,
                "screen_language": language,
            },
        )
    response["Content-Language"] = language
    return response
