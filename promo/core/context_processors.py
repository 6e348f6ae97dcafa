"""Template context shared by every officers' page: the main navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# (url name, label, path prefix that marks the item as current)
_NAV = (
    ("home", _("我的工作"), "/"),
    ("calendar", _("日程"), "/calendar/"),
    ("leads:list", _("项目信息"), "/leads/"),
    ("projects:list", _("项目"), "/projects/"),
    ("agreements:list", _("投资协议"), "/agreements/"),
    ("leads:visit_new", _("登记走访"), "/visits/"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    from django.urls import NoReverseMatch, reverse

    items = []
    for name, label, prefix in _NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = request.path == "/" if prefix == "/" else request.path.startswith(prefix)
        items.append({"url": url, "label": label, "current": current})
    return {"promo_nav": items}
