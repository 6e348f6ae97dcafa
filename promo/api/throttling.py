"""A request budget per API client or officer."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle


class OfficerRateThrottle(UserRateThrottle):
    """A request budget per caller, counted in the Redis cache; 429 with Retry-After when spent.

    The caller is the API client when a token is used (each system has its own budget), else
    the signed-in officer.
    """

    scope = "officer"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client_id = getattr(request.auth, "token_prefix", None)
        if client_id is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"client-{client_id}"}
        return super().get_cache_key(request, view)
