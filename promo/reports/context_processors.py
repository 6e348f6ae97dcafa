"""Template context of every officers' page from the reports app: the bell (督办通知)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import can_read_bulletins, unread_notice_count


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

    return {"notices_unread": unread, "may_read_bulletins": can_read_bulletins(user)}
