"""AuditMiddleware: the request for the receivers, and one trail entry per API client call
and per denied access."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from promo.audit.choices import Action, Outcome
from promo.audit.context import current_request
from promo.audit.services import record
from promo.core.health import HEALTH_PATHS


def _outcome(status: int) -> str:
    if status in (401, 403, 404):
        return Outcome.DENIED
    return Outcome.FAILED if status >= 400 else Outcome.SUCCESS


class AuditMiddleware:
    """Records, after the answer is made (outside any transaction of the view):

    * every call of an API client (接口调用): which client, acting as which officer, which
      operation (method and route), the status. One append, about a millisecond (docs/security.md);
    * every denied access (401/403, and 404 to a signed-in officer) of a browser session, the
      same ones ``promo.accounts.security.AccessAuditMiddleware`` logs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in HEALTH_PATHS:
            return self.get_response(request)
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        from promo.api.models import ApiClient

        client = getattr(request, "auth", None)
        status = response.status_code
        if isinstance(client, ApiClient):
            match = request.resolver_match
            record(
                action=Action.API_CALL,
                actor=client.officer,
                api_client=client,
                address=_address(request),
                outcome=_outcome(status),
                object_type=match.view_name if match else "",
                object_id=(match.kwargs.get("pk", "") if match else ""),
                details={"method": request.method, "path": request.path, "status": status},
                # A read's entry does not wait for the WAL flush (services._append); a
                # write's entry does, as the write itself did.
                durable=request.method not in ("GET", "HEAD", "OPTIONS"),
            )
            return response
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        if status in (401, 403) or (status == 404 and signed_in):
            record(
                action=Action.ACCESS_DENIED,
                actor=user if signed_in else None,
                address=_address(request),
                outcome=Outcome.DENIED,
                details={"method": request.method, "path": request.path, "status": status},
            )
        return response


def _address(request: HttpRequest) -> str:
    from promo.accounts.security import client_ip

    return client_ip(request)
