"""A request budget per API client or officer."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

log = logging.getLogger("promo.security")

# What a stopped or hung Redis raises through Django's cache (the timeouts are short: CACHES).
_CACHE_DOWN = (RedisError, OSError)


class OfficerRateThrottle(UserRateThrottle):
    """A request budget per caller, counted in the Redis cache; 429 with Retry-After when spent.

    The caller is the API client when a token is used (each system has its own budget), else
    the signed-in officer.

    When Redis is unreachable the throttle fails open, like the sign-in lockout
    (promo.accounts.security): the request is served unthrottled and the outage is logged once
    for the request. Callers are still authenticated and scoped; only the budget is skipped.
    """

    scope = "officer"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        client_id = getattr(request.auth, "token_prefix", None)
        if client_id is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"client-{client_id}"}
        return super().get_cache_key(request, view)

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)
        except _CACHE_DOWN as exc:
            log.warning(
                "API throttle unavailable (cache down), request served unthrottled "
                "method=%s path=%s: %s",
                request.method,
                request.path,
                exc,
            )
            return True
