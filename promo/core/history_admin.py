"""The bureau-wide history (django-pghistory events) in the admin, for chiefs and admins only.

The events table mixes every unit's records, so it cannot be cut to an officer's scope
row by row; officers read a record's history on that record's own page instead.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from pghistory.admin import EventsAdmin


class BureauEventsAdmin(EventsAdmin):
    def _sees_whole_bureau(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and getattr(user, "sees_whole_bureau", False))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._sees_whole_bureau(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._sees_whole_bureau(request) and super().has_view_permission(request, obj)
