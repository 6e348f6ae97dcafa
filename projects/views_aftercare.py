"""Officers' pages of aftercare (亲商服务): an enterprise's envoy, rhythm and service visits.

Interfaces only: reads through projects.selectors, writes through projects.services; a
refusal is shown next to its field and the typed values come back.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from officers import permissions
from officers.models import Officer, Unit, tree_order
from projects import services
from projects.choices import Stage
from projects.forms import EnvoyForm, ServiceVisitForm
from projects.models import Project
from projects.selectors import (
    envoy_candidates,
    projects_visible_to,
    service_visits_by_year,
    with_service_rhythm,
)
from promo.core import submissions
from promo.core.errors import DomainError, PermissionDenied
from promo.core.forms import add_domain_error
from promo.core.services import today


def _enterprise(request: HttpRequest, pk: int) -> Project:
    return get_object_or_404(
        with_service_rhythm(projects_visible_to(cast(Officer, request.user))).select_related(
            "investor", "unit", "service_envoy", "service_envoy_named_by"
        ),
        pk=pk,
    )


def _page(
    request: HttpRequest, project: Project, *, envoy_form=None, status: int = 200
) -> HttpResponse:
    me = cast(Officer, request.user)
    may_name = project.stage == Stage.PRODUCING and permissions.may_name_envoy(me, project)
    if envoy_form is None and may_name:
        envoy_form = EnvoyForm(
            officers=envoy_candidates(project),
            initial={"service_envoy": project.service_envoy_id, "green_card": project.green_card},
        )
    due = project.service_visit_due  # type: ignore[attr-defined]
    return render(
        request,
        "projects/aftercare.html",
        {
            "project": project,
            "years": service_visits_by_year(me, project),
            "envoy_form": envoy_form if may_name else None,
            "may_log": project.stage == Stage.PRODUCING
            and permissions.may_log_service_visit(me, project),
            "producing": project.stage == Stage.PRODUCING,
            "due": due,
            "overdue": project.stage == Stage.PRODUCING and due < today(),
        },
        status=status,
    )


@login_required
@require_GET
def aftercare(request: HttpRequest, pk: int) -> HttpResponse:
    """An enterprise's aftercare (亲商服务): its envoy, when the next visit is due, and its
    service visits year by year, so answers compare over the years."""
    return _page(request, _enterprise(request, pk))


@login_required
@require_POST
def envoy_name(request: HttpRequest, pk: int) -> HttpResponse:
    """Name the enterprise's service envoy (企业服务专员) and its 服务绿卡 mark."""
    project = _enterprise(request, pk)
    form = EnvoyForm(request.POST, officers=envoy_candidates(project))
    if form.is_valid():
        try:
            services.project_envoy_name(
                project=project,
                actor=cast(Officer, request.user),
                envoy=form.cleaned_data["service_envoy"],
                green_card=form.cleaned_data["green_card"],
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("企业服务专员已保存。"))
            return redirect("projects:aftercare", pk=project.pk)
    return _page(request, project, envoy_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def service_visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a service visit (企业服务走访) with its structured answers."""
    me = cast(Officer, request.user)
    project = _enterprise(request, pk)
    if not permissions.may_log_service_visit(me, project):
        raise DjangoPermissionDenied(
            _("只有企业服务专员、主办人、本单位负责人或局领导可以登记服务走访。")
        )
    # A problem may be routed to any unit of the bureau (a department owns approvals).
    units = Unit.objects.filter(is_active=True).order_by(tree_order())
    context = {"project": project}
    if request.method == "GET":
        form = ServiceVisitForm(units=units, initial={"problem_owner_unit": project.unit_id})
        return render(request, "projects/service_visit_form.html", {**context, "form": form})
    form = ServiceVisitForm(request.POST, units=units)
    key = form.submission_key()
    earlier = submissions.earlier_result(me, key)
    if earlier is not None:
        # A double tap, or the browser resending after a dropped connection: recorded once.
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        try:
            with transaction.atomic():
                visit = services.service_visit_log(
                    project=project, actor=me, **form.service_kwargs()
                )
                url = reverse("projects:aftercare", args=[project.pk])
                submissions.record(me, key, f"{url}#visit-{visit.pk}")
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("服务走访已登记。"))
            return redirect(f"{url}#visit-{visit.pk}")
    return render(request, "projects/service_visit_form.html", {**context, "form": form})
