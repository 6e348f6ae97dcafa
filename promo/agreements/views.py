"""Officers' pages of the agreements app (mounted at /agreements/ by promo/urls.py): the list
with the cockpit's categories, the bureau's promises, one agreement's ledger and its forms.

Interfaces only: reads through the selectors, writes through services; a refusal comes back
next to its field with what was typed, a permission refusal as 403/404 with nothing written.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from officers import permissions
from officers.models import Officer, Unit
from officers.selectors import units_visible_to
from projects.selectors import projects_visible_to
from promo.core import submissions
from promo.core.errors import DomainError, PermissionDenied
from promo.core.forms import add_domain_error

from . import selectors, services
from .choices import (
    DATE_METRICS,
    Metric,
    Payment,
    PromiseKind,
    PromiseStatus,
    RequestStatus,
    TermStatus,
)
from .forms import (
    AgreementForm,
    DecideForm,
    DeliverForm,
    IncentiveRequestForm,
    MeasurementForm,
    PromiseForm,
    TalkForm,
    TermForm,
    WaiveForm,
)
from .models import Agreement

PAGE_SIZE = 20


def _me(request: HttpRequest) -> Officer:
    """The signed-in officer (every view here is behind ``login_required``)."""
    return cast(Officer, request.user)


def _tabs() -> list[tuple[str, Any]]:
    return [
        ("", _("全部")),
        ("keeping", _("履约")),
        ("breached", _("违约")),
        ("owing", _("政府承诺逾期")),
        ("clawback", _("应追回")),
    ]


def _unit(request: HttpRequest, me: Officer) -> Unit | None:
    """The ``?unit=`` filter (the cockpit's links carry it): one of the units the officer sees."""
    value = request.GET.get("unit", "")
    if not value:
        return None
    unit = (
        units_visible_to(me).filter(pk=int(value)).first()
        if value.isascii() and value.isdigit()
        else None
    )
    if unit is None:
        raise Http404
    return unit


def _unit_query(unit: Unit | None) -> str:
    return f"&unit={unit.pk}" if unit is not None else ""


def _as_of(request: HttpRequest, unit: Unit | None) -> tuple[dict[str, Any], str]:
    """The filters a bulletin's links add (``on``: statuses on that day, agreements signed by
    then; ``cohort``: the signing year; ``own``: the unit's own records only, its 本级 line),
    as selector arguments and as the query string the tabs and pages keep."""
    filters: dict[str, Any] = {}
    query = ""
    typed = request.GET.get("on", "")
    try:
        on = parse_date(typed) if typed else None
    except ValueError:  # well formed but no such day (2026-02-30)
        on = None
    if typed and on is None:
        raise Http404
    if on is not None:
        filters["on"], query = on, f"&on={on.isoformat()}"
    cohort = request.GET.get("cohort", "")
    # A year the calendar has (1–9999, ASCII digits: "²".isdigit() is true too); another is ignored.
    if cohort.isascii() and cohort.isdigit() and 1 <= int(cohort) <= 9999:
        filters["cohort"], query = int(cohort), query + f"&cohort={int(cohort)}"
    if unit is not None and request.GET.get("own") == "1":
        filters["own"], query = True, query + "&own=1"
    return filters, query


@login_required
@require_GET
def agreement_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    status = request.GET.get("status", "")
    if status not in selectors.AGREEMENT_FILTERS:
        status = ""
    unit = _unit(request, me)
    as_of, as_of_q = _as_of(request, unit)
    measured = request.GET.get("measured", "")
    if measured not in selectors.PER_MU_FILTERS:
        measured = ""
    rows = selectors.agreement_list(me, status=status, unit=unit, measured=measured, **as_of)
    project_id = request.GET.get("project", "")
    project = None
    if project_id.isascii() and project_id.isdigit():
        project = projects_visible_to(me).filter(pk=int(project_id)).first()
        if project is None:
            raise Http404
        rows = rows.filter(project_id=project.pk)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_agreement_flags(page.object_list, as_of.get("on"))
    return render(
        request,
        "agreements/agreement_list.html",
        {
            "page": page,
            "status": status,
            "tabs": _tabs(),
            "page_q": _unit_query(unit)
            + as_of_q
            + (f"&measured={measured}" if measured else "")
            + (f"&project={project.pk}" if project else ""),
            "project": project,
            "figures": selectors.keeping_figures(me, unit=unit),
            "unit": unit,
            "unit_q": _unit_query(unit) + as_of_q,
            "can_add": project is not None and permissions.may_keep_agreement(me, project),
        },
    )


def _promise_tabs() -> list[tuple[str, Any]]:
    return [
        ("", _("全部")),
        (PromiseStatus.OVERDUE, PromiseStatus.OVERDUE.label),
        ("clawback_due", _("应追回")),
        (PromiseStatus.WITHHELD, PromiseStatus.WITHHELD.label),
    ]


@login_required
@require_GET
def promise_list(request: HttpRequest) -> HttpResponse:
    me = _me(request)
    status = request.GET.get("status", "")
    payment = request.GET.get("payment", "")
    unit = _unit(request, me)
    as_of, as_of_q = _as_of(request, unit)
    rows = selectors.promise_list(me, status=status, payment=payment, unit=unit, **as_of)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for promise in page.object_list:
        promise.status_label = PromiseStatus(promise.status).label
    return render(
        request,
        "agreements/promise_list.html",
        {
            "page": page,
            "status": status,
            "payment": payment if payment in (*Payment.values, "ever_paid") else "",
            "tabs": _promise_tabs(),
            "unit": unit,
            "unit_q": _unit_query(unit) + as_of_q,
        },
    )


def _term_tabs() -> list[tuple[str, Any]]:
    return [
        ("", _("全部")),
        ("judged", _("已到期或已履约")),
        (TermStatus.MET, TermStatus.MET.label),
        (TermStatus.MISSED, TermStatus.MISSED.label),
        (TermStatus.PARTLY_MET, TermStatus.PARTLY_MET.label),
        ("at_risk", _("趋势预警")),
    ]


@login_required
@require_GET
def term_list(request: HttpRequest) -> HttpResponse:
    """投资方承诺 across agreements, with status and trend: the list the bulletin's term rates
    (开工率, 资金到位率, 投产率, 达产率) link to, filtered the same way."""
    me = _me(request)
    status = request.GET.get("status", "")
    metric = request.GET.get("metric", "")
    metric = metric if metric in Metric.values else ""
    unit = _unit(request, me)
    as_of, as_of_q = _as_of(request, unit)
    rows = selectors.term_list(me, metric=metric, status=status, unit=unit, **as_of)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for term in page.object_list:
        term.status_label = TermStatus(term.status).label
    filters = _unit_query(unit) + as_of_q + (f"&metric={metric}" if metric else "")
    return render(
        request,
        "agreements/term_list.html",
        {
            "page": page,
            "status": status,
            "metric": Metric(metric).label if metric else "",
            "tabs": _term_tabs(),
            "filters_q": filters,
            "page_q": filters + f"&status={status}",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def agreement_new(request: HttpRequest, project_pk: int) -> HttpResponse:
    me = _me(request)
    project = get_object_or_404(projects_visible_to(me), pk=project_pk)
    if not permissions.may_keep_agreement(me, project):
        raise DjangoPermissionDenied(_("只有主办人、本单位负责人或局领导可以登记协议履约情况。"))
    if request.method == "GET":
        form = AgreementForm(initial={"signed_on": project.contract_date, "title": project.name})
        return render(request, "agreements/agreement_form.html", {"form": form, "project": project})
    form = AgreementForm(request.POST)
    earlier = submissions.earlier_result(me, form.submission_key())
    if earlier is not None:
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        try:
            with transaction.atomic():
                agreement = services.agreement_create(
                    project=project, actor=me, **_without_key(form)
                )
                target = reverse("agreements:detail", args=[agreement.pk])
                submissions.record(me, form.submission_key(), target)
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("协议已登记。"))
            return redirect(target)
    return render(request, "agreements/agreement_form.html", {"form": form, "project": project})


def _without_key(form: Any) -> dict[str, Any]:
    return {k: v for k, v in form.cleaned_data.items() if k != submissions.FIELD}


def _forms(
    agreement: Agreement, terms: list[Any], promises: list[Any], bound: dict[str, Any]
) -> dict[str, Any]:
    term_ids = [t.pk for t in terms]
    from .models import Promise, Term

    amount_terms = (
        Term.objects.filter(pk__in=term_ids)
        .exclude(metric__in=list(DATE_METRICS))
        .order_by("due_on", "id")
    )
    open_terms = Term.objects.filter(pk__in=term_ids, waived_at__isnull=True).order_by(
        "due_on", "id"
    )
    all_terms = Term.objects.filter(pk__in=term_ids).order_by("due_on", "id")
    promise_ids = [p.pk for p in promises]
    undelivered = Promise.objects.filter(pk__in=promise_ids, delivered_on__isnull=True).exclude(
        kind=PromiseKind.INCENTIVE
    )
    incentives = Promise.objects.filter(pk__in=promise_ids, kind=PromiseKind.INCENTIVE)
    return {
        "term_form": bound.get("term") or TermForm(auto_id="term_%s"),
        "measure_form": bound.get("measure")
        or MeasurementForm(auto_id="measure_%s", terms=amount_terms),
        "waive_form": bound.get("waive") or WaiveForm(auto_id="waive_%s", terms=open_terms),
        "promise_form": bound.get("promise") or PromiseForm(auto_id="promise_%s", terms=all_terms),
        "deliver_form": bound.get("deliver")
        or DeliverForm(auto_id="deliver_%s", promises=undelivered),
        "request_form": bound.get("request")
        or IncentiveRequestForm(auto_id="request_%s", promises=incentives),
        "talk_form": bound.get("talk") or TalkForm(auto_id="talk_%s"),
        "decide_form": bound.get("decide"),
    }


def _page(
    request: HttpRequest, pk: int, bound: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    me = _me(request)
    context = selectors.agreement_page(me, pk)
    agreement = context["agreement"]
    project = agreement.project
    can_keep = permissions.may_keep_agreement(me, project)
    for item in context["terms"]:
        for m in item.measured:
            m.can_verify = m.verified_at is None and permissions.may_verify_measurement(
                me, project, m
            )
    for req in context["requests"]:
        req.can_decide = req.status == RequestStatus.PENDING and permissions.may_decide_incentive(
            me, project, req
        )
    context.update(
        can_keep=can_keep,
        can_waive=permissions.may_waive_term(me, project),
        **_forms(agreement, context["terms"], context["promises"], bound or {}),
    )
    return render(request, "agreements/agreement_detail.html", context, status=status)


@login_required
@require_GET
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, pk)


ACTIONS = ("term", "measure", "verify", "waive", "promise", "deliver", "request", "decide", "talk")


@login_required
@require_POST
def agreement_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One POST per step; each form posts to its own action, so its errors come back beside it."""
    me = _me(request)
    if action not in ACTIONS:
        raise Http404
    agreement = get_object_or_404(
        selectors.agreements_visible_to(me).select_related("project"), pk=pk
    )
    terms = agreement.terms.all()
    promises = agreement.promises.all()
    done = reverse("agreements:detail", args=[agreement.pk])
    form: Any = None
    try:
        if action == "verify":
            measurement = get_object_or_404(
                selectors.measurements_visible_to(me).filter(term__agreement=agreement),
                pk=_int(request.POST.get("measurement")),
            )
            services.measurement_verify(measurement=measurement, actor=me)
        elif action == "decide":
            form = DecideForm(request.POST)
            if not form.is_valid():
                raise Http404
            incentive = get_object_or_404(
                selectors.requests_visible_to(me).filter(promise__agreement=agreement),
                pk=form.cleaned_data["request"],
            )
            services.incentive_decide(
                request=incentive,
                actor=me,
                approve=form.cleaned_data["approve"] == "1",
                note=form.cleaned_data["note"],
            )
        else:
            form = {
                "term": lambda: TermForm(auto_id="term_%s", data=request.POST),
                "measure": lambda: MeasurementForm(
                    auto_id="measure_%s",
                    data=request.POST,
                    terms=terms.exclude(metric__in=list(DATE_METRICS)),
                ),
                "waive": lambda: WaiveForm(
                    auto_id="waive_%s",
                    data=request.POST,
                    terms=terms.filter(waived_at__isnull=True),
                ),
                "promise": lambda: PromiseForm(
                    auto_id="promise_%s", data=request.POST, terms=terms
                ),
                "deliver": lambda: DeliverForm(
                    auto_id="deliver_%s", data=request.POST, promises=promises
                ),
                "request": lambda: IncentiveRequestForm(
                    auto_id="request_%s",
                    data=request.POST,
                    promises=promises.filter(kind=PromiseKind.INCENTIVE),
                ),
                "talk": lambda: TalkForm(auto_id="talk_%s", data=request.POST),
            }[action]()
            if isinstance(form, submissions.OnceForm):
                earlier = submissions.earlier_result(me, form.submission_key())
                if earlier is not None:
                    messages.info(request, submissions.ALREADY_SAVED)
                    return redirect(earlier)
            if not form.is_valid():
                return _page(request, pk, {action: form}, status=400)
            with transaction.atomic():
                _write(action, agreement, me, form.cleaned_data)
                if isinstance(form, submissions.OnceForm):
                    submissions.record(me, form.submission_key(), done)
    except submissions.AlreadySubmitted as exc:
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(exc.url)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        if isinstance(form, submissions.OnceForm):
            # The same form sent twice at once: the second waited for the first's lock and
            # was refused by what the first wrote (an open request, a waiver): saved once.
            earlier = submissions.earlier_result(me, form.submission_key())
            if earlier is not None:
                messages.info(request, submissions.ALREADY_SAVED)
                return redirect(earlier)
        if form is None or isinstance(form, DecideForm):
            messages.error(request, str(exc.message))
            return redirect(done)
        add_domain_error(form, exc)
        return _page(request, pk, {action: form}, status=400)
    messages.success(request, _("已保存。"))
    return redirect(done)


def _int(value: Any) -> int:
    text = str(value or "")
    if not text.isdigit():
        raise Http404
    return int(text)


def _write(action: str, agreement: Agreement, me: Any, data: dict[str, Any]) -> None:
    if action == "term":
        services.term_add(
            agreement=agreement,
            actor=me,
            metric=data["metric"],
            target=data["target"],
            due_on=data["due_on"],
        )
    elif action == "measure":
        services.measurement_record(
            term=data["term"],
            actor=me,
            measured_on=data["measured_on"],
            value=data["value"],
            source=data["source"],
        )
    elif action == "waive":
        services.term_waive(term=data["term"], actor=me, reason=data["reason"])
    elif action == "promise":
        services.promise_add(
            agreement=agreement,
            actor=me,
            kind=data["kind"],
            description=data["description"],
            owner_unit=data["owner_unit"],
            due_on=data["due_on"],
            amount=data["amount"] or 0,
            conditions=data["conditions"],
        )
    elif action == "deliver":
        services.promise_deliver(
            promise=data["promise"], actor=me, delivered_on=data["delivered_on"], note=data["note"]
        )
    elif action == "request":
        services.incentive_request(
            promise=data["promise"], actor=me, action=data["action"], reason=data["reason"]
        )
    elif action == "talk":
        services.agreement_talk(
            agreement=agreement, actor=me, note=data["note"], decision=data["decision"]
        )
