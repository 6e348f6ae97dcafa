"""The operations page (运行状况) for system administrators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from officers import permissions
from promo.operations.selectors import heartbeat_max_age, operations_status


@login_required
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    if not permissions.may_read_operations(request.user):
        raise PermissionDenied
    context = operations_status()
    context["max_age_seconds"] = int(heartbeat_max_age().total_seconds())
    return render(request, "operations/status.html", context)
