"""Template context of every officers' page from the reports app: the bell (督办通知), and
which of the bulletins, the cockpit and the campaigns the top bar links to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from officers import permissions

from .selectors import unread_notice_count


def notices(request: HttpRequest) -> dict[str, Any]:
    """The bell's unread count, counted lazily and at most once per request.

    Lazy: a page that never shows the bell (the admin, a download) costs no query; the
    template calls ``notices_unread`` and the answer is kept on the request.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread() -> int:
        if not hasattr(request, "_promo_unread_notices"):
            request._promo_unread_notices = unread_notice_count(user)  # type: ignore[attr-defined]
        return request._promo_unread_notices  # type: ignore[attr-defined]

    # What the top bar offers: the same predicates the pages behind the links ask.
    return {
        "notices_unread": unread,
        "may_read_bulletins": permissions.may_read_bulletins(user),
        "may_read_cockpit": permissions.may_read_cockpit(user),
        "may_read_campaigns": permissions.may_read_campaigns(user),
    }
