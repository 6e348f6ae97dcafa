"""Officers' pages of the leads app: log a visit, the lead list and a lead's page.

Views are interfaces only: they read through the selectors, write through the services, and
turn a service's refusal into an error next to the field (nothing typed is lost).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads import services
from leads.choices import OPEN_LEAD_STATUSES, ClaimStatus, ClockStep, LeadStatus
from leads.forms import (
    LEAD_ACTIONS,
    ClaimDecideForm,
    ClaimFileForm,
    LeadForm,
    ReferrerFeedbackForm,
    VisitForm,
)
from leads.models import Lead
from leads.selectors import (
    allowed_transitions,
    assist_requests_visible_to,
    claims_visible_to,
    duplicate_candidates,
    intermediaries_visible_to,
    investor_find_similar,
    investors_visible_to,
    lead_clock,
    lead_list_for,
    lead_scope_parts,
    leads_visible_to,
    search_match,
    with_next_step_due,
)
from leads.selectors import (
    lead_list as lead_list_query,
)
from officers import permissions
from officers.models import tree_order
from officers.selectors import officers_visible_to, units_visible_to
from promo.core import submissions
from promo.core.errors import (
    DomainError,
    DuplicateInUnit,
    DuplicateSuspected,
    HeldElsewhere,
    PermissionDenied,
)
from promo.core.forms import PlainCheckboxes, PlainSelect, add_domain_error
from promo.core.paging import (
    KeysetPage,
    deep_page_redirect,
    list_query,
)
from promo.core.services import today

PAGE_SIZE = 20
# The lead list counts exactly up to this many rows past the page shown, "n+" beyond.
COUNT_BOUND = 1000
TYPEAHEAD_ROWS = 20
# Investors offered in the <select> before the officer types: the most recently touched.
INVESTOR_CHOICES = 30
# Sent by promo.js with a visit saved offline: the officer whose queue it came from.
QUEUE_HEADER = "X-Promo-Queue"

_INVESTOR_FIELDS = {
    "name": "new_investor_name",
    "name_en": "new_investor_name_en",
    "credit_code": "new_investor_credit_code",
    "industry": "new_investor_industry",
}


def _visit_form(request: HttpRequest, data=None) -> VisitForm:
    me = request.user
    investors = investors_visible_to(me)
    candidates = []
    if data is not None and (data.get("new_investor_name") or "").strip():
        # Recomputed on every POST, so the officer can only pick a real likely duplicate.
        candidates = duplicate_candidates(
            me,
            investor_find_similar(
                name=data.get("new_investor_name", ""),
                name_en=data.get("new_investor_name_en", ""),
                credit_code=data.get("new_investor_credit_code", ""),
            )[:5],
        )
    initial = {}
    lead_id = request.GET.get("lead", "") if data is None else ""
    if lead_id.isdigit():
        # "Log a visit" from a lead's page: that lead and its investor are preselected.
        lead = leads_visible_to(me).filter(pk=int(lead_id)).first()
        if lead is not None:
            initial = {"lead": lead.pk, "investor": lead.investor_id}
    investor_id = request.GET.get("investor", "") if data is None else ""
    if not initial and investor_id.isdigit():
        # "Log a visit" from an investor's page: that investor is preselected.
        if investors.filter(pk=int(investor_id)).exists():
            initial = {"investor": int(investor_id)}
    form = VisitForm(
        data,
        initial=initial,
        investors=investors,
        officers=officers_visible_to(me).filter(unit_id=me.unit_id).exclude(pk=me.pk),
        leads=leads_visible_to(me)
        .filter(status__in=OPEN_LEAD_STATUSES)
        .select_related("investor")
        .order_by("name"),
        candidates=candidates if data is not None and candidates else (),
    )
    # Render a short list; the typeahead (or the page's search) fetches the rest.
    shown = list(investors.order_by("-updated_at", "-id")[:INVESTOR_CHOICES])
    chosen = (data or {}).get("investor") or initial.get("investor")
    if chosen and str(chosen).isdigit() and all(inv.pk != int(chosen) for inv in shown):
        shown += list(investors.filter(pk=int(chosen)))
    form.fields["investor"].widget.choices = [
        ("", form.fields["investor"].empty_label),
        *((inv.pk, inv.name) for inv in sorted(shown, key=lambda inv: inv.name)),
    ]
    return form


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest) -> HttpResponse:
    """Log a visit (登记走访) in one form, new investor included."""
    me = request.user
    if request.method == "GET":
        return render(request, "leads/visit_form.html", {"form": _visit_form(request)})
    # A visit saved offline is sent later by the page's script (promo.js), which names the
    # officer whose queue it came from and reads the answer as JSON.
    queued = request.headers.get(QUEUE_HEADER)
    if queued is not None and queued != str(me.pk):
        # Another officer signed in on the same phone: their session must not carry it.
        return JsonResponse(
            {"code": "other_officer", "message": _("这条走访是另一位干部在本机保存的。")},
            status=409,
        )
    form = _visit_form(request, request.POST)
    earlier = submissions.earlier_result(me, form.submission_key())
    if earlier is not None:
        # A double tap, or the browser resending after a dropped connection: saved once.
        if queued is not None:
            return JsonResponse({"saved": True, "url": earlier})
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    investors = investors_visible_to(me)
    if form.is_valid():
        data = form.cleaned_data
        try:
            # One transaction: a new investor is not kept if the visit itself is refused.
            with transaction.atomic():
                investor = data["investor"]
                if investor is None and data.get("use_candidate"):
                    # Only the candidates the officer may see are offered; the service
                    # checks again (visit_log refuses another unit's investor).
                    investor = investors.filter(pk=data["use_candidate"]).first()
                elif investor is None:
                    investor = services.investor_create(
                        actor=me,
                        name=data["new_investor_name"],
                        name_en=data["new_investor_name_en"],
                        credit_code=data["new_investor_credit_code"],
                        industry=data["new_investor_industry"],
                        confirm_distinct=data["confirm_distinct"],
                    )
                visit = services.visit_log(
                    actor=me,
                    kind=data["kind"],
                    visited_on=data["visited_on"],
                    investor=investor,
                    summary=data["summary"],
                    lead=data["lead"],
                    officers=data["officers"],
                    city=data["city"],
                    next_step=data["next_step"],
                    next_step_due=data["next_step_due"],
                )
                target = (
                    reverse("leads:detail", args=[visit.lead_id])
                    if visit.lead_id
                    else reverse("home")
                )
                submissions.record(me, form.submission_key(), target)
        except submissions.AlreadySubmitted as exc:
            if queued is not None:
                return JsonResponse({"saved": True, "url": exc.url})
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except DuplicateSuspected as exc:
            form.set_candidates(exc.extra.get("candidates") or form.candidates)
            form.add_error("new_investor_name", str(exc.message))
        except PermissionDenied as exc:
            raise Http404 from exc
        except DomainError as exc:
            add_domain_error(form, exc, _INVESTOR_FIELDS)
        else:
            if queued is not None:
                return JsonResponse({"saved": True, "url": target})
            messages.success(request, _("走访已登记。"))
            return redirect(target)
    if queued is not None:
        return JsonResponse({"code": "invalid", "errors": _form_errors(form)}, status=400)
    return render(request, "leads/visit_form.html", {"form": form})


def _form_errors(form) -> list[str]:
    """A refused form's errors as the officer reads them, each with its field's label."""
    out = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else ""
        for message in errors:
            out.append(
                _("%(label)s：%(message)s") % {"label": label, "message": message}
                if label
                else str(message)
            )
    return out


@login_required
@require_GET
def investor_search(request: HttpRequest) -> JsonResponse:
    """Typeahead over the investors the officer may see: ``/investors/search/?q=``."""
    q = (request.GET.get("q") or "").strip()[:100]
    if "\x00" in q:  # PostgreSQL refuses a NUL byte in text: the query would fail
        return JsonResponse(
            {"code": "invalid", "message": _("不能包含空字符（NUL）。")}, status=400
        )
    rows = []
    if q:
        # Pinyin, initials, English name or credit code through the search keys; a Chinese
        # substring of the name (one character too) as before.
        match = search_match(q)
        rows = list(
            investors_visible_to(request.user)
            .filter(Q(name__icontains=q) | (match if match is not None else Q(pk__in=[])))
            .order_by("name")
            .values("id", "name")[:TYPEAHEAD_ROWS]
        )
    return JsonResponse({"results": rows})


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    """Leads (项目信息) the officer may see, filtered by the shared LeadFilter."""
    me = request.user
    filterset, search, qs = lead_list_for(me, request.GET, request=request)
    _dress_filter_form(filterset.form, me)
    # In the selected sort, id as the tie-breaker; deep pages by cursor (issue #19).
    page = KeysetPage(
        with_next_step_due(qs),
        request.GET,
        per_page=PAGE_SIZE,
        bound=COUNT_BOUND,
        parts=lead_scope_parts(me),
    )
    if page.too_deep:
        return deep_page_redirect(request, page)
    if page.invalid:
        messages.error(request, _("翻页链接无效，已显示第一页。"))
    query = list_query(request.GET)
    return render(
        request,
        "leads/lead_list.html",
        {
            "filter_form": filterset.form,
            "search_form": search,
            "sheet_fields": [search["mine"], search["sort"], *filterset.form],
            "page": page,
            "query": query,
            "filtered": bool(query),
            "today": today(),
        },
    )


def unit_select(me) -> PlainSelect:
    """A <select> of the units the officer sees, in tree order, for a list's unit filter."""
    return PlainSelect(choices=[("", "—"), *units_visible_to(me).values_list("pk", "name")])


def officer_select(me) -> PlainSelect:
    """A <select> of the active officers the officer sees, by unit, for a list's filter."""
    return PlainSelect(
        choices=[
            ("", "—"),
            *(
                (pk, full_name or username)
                for pk, full_name, username in officers_visible_to(me)
                .filter(is_active=True)
                .order_by(tree_order("unit__path"), "username")
                .values_list("pk", "full_name", "username")
            ),
        ]
    )


def _dress_filter_form(form, me) -> None:
    """UI widgets for the FilterSet's fields: checkboxes and a unit <select> instead of ids."""

    for name in ("status", "chain_role"):
        form.fields[name].widget = PlainCheckboxes(choices=form.fields[name].choices)
    form.fields["unit"].widget = unit_select(me)
    form.fields["officer"].widget = officer_select(me)
    # ``q`` is filtered by the FilterSet but typed in the search form beside it.
    for name in ("investor", "updated_after", "q"):
        form.fields.pop(name, None)


def _lead_page(
    request: HttpRequest, lead: Lead, *, bound: tuple[str, object] | None = None, status=200
):
    visits = list(
        lead.visits.select_related("created_by")
        .prefetch_related("officers")
        .order_by("-visited_on", "-id")
    )
    events = list(lead.status_events.select_related("actor").order_by("-created_at", "-id"))
    timeline = [{"kind": "visit", "date": v.visited_on, "visit": v} for v in visits] + [
        {"kind": "status", "date": timezone.localdate(e.created_at), "event": e} for e in events
    ]
    timeline.sort(key=lambda item: item["date"], reverse=True)
    actions = []
    # The statuses the officer may move the lead to: the transition table asked of the same
    # predicates lead_transition and project_sign_lead enforce (and the API's
    # allowed_transitions reads).
    allowed = allowed_transitions(request.user, lead)
    may_steer = permissions.may_change_lead_status(request.user, lead)
    for slug, status_value, label, form_class in LEAD_ACTIONS:
        if status_value not in allowed:
            continue
        form = bound[1] if bound and bound[0] == slug else form_class(prefix=slug)
        actions.append(
            {"slug": slug, "label": label, "form": form, "open": bool(bound and bound[0] == slug)}
        )
    project = lead.project if hasattr(lead, "project") else None
    clock = lead_clock(lead, on=today())
    may_give_feedback = any(
        item["row"].step == ClockStep.REFERRER_FEEDBACK for item in clock
    ) and permissions.may_give_referrer_feedback(request.user, lead)
    feedback_form = None
    if may_give_feedback:
        feedback_form = bound[1] if bound and bound[0] == "feedback" else None
        feedback_form = feedback_form or ReferrerFeedbackForm(prefix="feedback")
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "timeline": timeline,
            "assignments": lead.assignments.select_related("officer").order_by("role", "id"),
            "actions": actions,
            "can_sign": LeadStatus.SIGNED in allowed,
            "may_steer": may_steer,
            # 防撞单: another unit has asked to follow this lead; the heads settle it.
            "open_claims": claims_visible_to(request.user)
            .filter(lead=lead, status=ClaimStatus.OPEN)
            .order_by("created_at"),
            "project": project,
            # 办理时限: each step due, met on, by whom, or overdue by N days.
            "clock": clock,
            "feedback_form": feedback_form,
            "feedback": list(
                lead.referrer_feedback.select_related("actor").order_by("created_at", "id")
            )
            if any(item["row"].step == ClockStep.REFERRER_FEEDBACK for item in clock)
            else [],
        },
        status=status,
    )


@login_required
@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A lead's page: facts, timeline of visits and status changes, allowed actions."""
    lead = get_object_or_404(lead_list_query(request.user), pk=pk)
    return _lead_page(request, lead)


@login_required
@require_POST
def lead_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    """Record feedback to the lead's referrer (反馈引荐人), the enquiry clock's explicit step."""
    me = request.user
    lead = get_object_or_404(lead_list_query(me), pk=pk)
    page = reverse("leads:detail", args=[lead.pk])
    form = ReferrerFeedbackForm(request.POST, prefix="feedback")
    earlier = submissions.earlier_result(me, form.submission_key())
    if earlier is not None:
        # A double tap, or the browser resending after a dropped connection: saved once.
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.referrer_feedback_record(
                    lead=lead, actor=me, note=form.cleaned_data["note"]
                )
                submissions.record(me, form.submission_key(), f"{page}#h-clock")
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            if not exc.field_errors:
                messages.error(request, str(exc.message))
                return redirect(f"{page}#h-clock")
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已登记引荐人反馈。"))
            return redirect(f"{page}#h-clock")
    # The note is kept and its error shown next to it, on the lead's page.
    return _lead_page(request, lead, bound=("feedback", form))


@login_required
@require_POST
def lead_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Qualify, negotiate, drop (with a reason) or reject (with a red line) a lead."""
    me = request.user
    lead = get_object_or_404(lead_list_query(me), pk=pk)
    spec = {slug: (status, form_class) for slug, status, _label, form_class in LEAD_ACTIONS}
    if action not in spec:
        raise Http404
    to_status, form_class = spec[action]
    form = form_class(request.POST, prefix=action)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.lead_transition(
                lead=lead,
                actor=me,
                to_status=to_status,
                reason=data.get("reason", ""),
                reject_reason=data.get("reject_reason", ""),
                note=data.get("note", ""),
            )
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            if exc.field_errors:
                add_domain_error(form, exc)
            else:
                # A refused transition: say why at the top, whichever buttons are shown.
                messages.error(request, str(exc.message))
        else:
            messages.success(
                request, _("状态已更新为“%(status)s”。") % {"status": LeadStatus(to_status).label}
            )
            return redirect("leads:detail", pk=lead.pk)
    lead.refresh_from_db()
    return _lead_page(request, lead, bound=(action, form))


@login_required
@require_http_methods(["GET", "POST"])
def lead_new(request: HttpRequest) -> HttpResponse:
    """Register a lead (登记项目信息); warn when another unit already holds one (防撞单)."""
    me = request.user
    investors = investors_visible_to(me)
    kwargs = {"investors": investors, "intermediaries": intermediaries_visible_to(me)}
    if request.method == "GET":
        initial = {"first_contact_on": today()}
        investor_id = request.GET.get("investor", "")
        investor = investors.filter(pk=investor_id).first() if investor_id.isdigit() else None
        if investor is not None:
            initial.update(investor=investor.pk, industry=investor.industry)
        form = LeadForm(initial=initial, **kwargs)
        return render(request, "leads/lead_form.html", {"form": form})
    form = LeadForm(request.POST, **kwargs)
    earlier = submissions.earlier_result(me, form.submission_key())
    if earlier is not None:
        # A double tap, or the browser resending after a dropped connection: saved once.
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        data = dict(form.cleaned_data)
        investor = data.pop("investor")
        data.pop("confirm_duplicate", None)
        data.pop(submissions.FIELD, None)
        data["estimated_fdi"] = data["estimated_fdi"] or 0
        try:
            with transaction.atomic():
                lead = services.lead_create(
                    actor=me,
                    investor=investor,
                    confirm_duplicate=form.confirmed_duplicate(),
                    **data,
                )
                submissions.record(
                    me, form.submission_key(), reverse("leads:detail", args=[lead.pk])
                )
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except HeldElsewhere as exc:
            # Claim protection (防撞单): the service refuses a second lead; name who holds
            # the investor and since when, so the officer can join or file a claim instead.
            held_ids = [holder["lead"] for holder in exc.extra.get("holders", [])]
            form.holders = list(
                Lead.objects.filter(pk__in=held_ids).select_related("unit", "created_by")
            )
            for held in form.holders:
                held.claim_form = ClaimFileForm(prefix=f"claim{held.pk}")
            form.add_error(None, str(exc.message))
        except DuplicateInUnit as exc:
            earlier = submissions.earlier_result(me, form.submission_key())
            if earlier is not None:
                # The same form sent twice at once: the first made the lead this one found.
                messages.info(request, submissions.ALREADY_SAVED)
                return redirect(earlier)
            # Same-unit duplicate (decision 0013): name the unit's lead and offer a checkbox
            # that confirms registering beside that very lead.
            form.offer_duplicate_confirmation(
                Lead.objects.select_related("unit", "created_by").get(pk=exc.extra["lead"])
            )
            form.add_error("confirm_duplicate", str(exc.message))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("项目信息已登记。"))
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form})


def _held_lead(request: HttpRequest, pk: int) -> Lead:
    """Another unit's lead the officer may act on (防撞单): only if they know its investor.

    The lead itself is not visible yet (that is the point); an officer who cannot see the
    investor gets a 404, as if the lead did not exist.
    """
    lead = Lead.objects.select_related("unit", "investor", "created_by").filter(pk=pk).first()
    if lead is None or not investors_visible_to(request.user).filter(pk=lead.investor_id).exists():
        raise Http404
    return lead


@login_required
@require_POST
def lead_assist(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to join another unit's lead as 协办 (申请协办); its unit head decides.

    From the lead form's 防撞单 notice (the investor is the officer's), or from the visit
    form's duplicate check, whose button posts the names the officer typed: the service
    accepts a lead whose investor those names find. Anything else is a 404, as if the lead
    did not exist.
    """
    lead = Lead.objects.filter(pk=pk).first()
    if lead is None:
        raise Http404
    try:
        services.lead_assist_request(
            lead=lead,
            actor=request.user,
            known_name=request.POST.get("new_investor_name", ""),
            known_name_en=request.POST.get("new_investor_name_en", ""),
            known_credit_code=request.POST.get("new_investor_credit_code", ""),
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("leads:claims")
    messages.success(request, _("协办申请已提交，等待该项目信息所在单位负责人审批。"))
    return redirect("leads:claims")


@login_required
@require_POST
def assist_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The holding unit's head (or a chief) approves or refuses a request to join as 协办."""
    me = request.user
    assist = get_object_or_404(assist_requests_visible_to(me), pk=pk)
    try:
        services.lead_assist_decide(
            request=assist, actor=me, approve=request.POST.get("approve") == "1"
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("审批意见已记录。"))
    # Back where the decision was taken: the claims page, or the home page's list.
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("leads:claims")


@login_required
@require_http_methods(["GET", "POST"])
def lead_claim(request: HttpRequest, pk: int) -> HttpResponse:
    """File a claim (提出撞单协调) that the two units' heads settle."""
    lead = _held_lead(request, pk)
    prefix = f"claim{lead.pk}"
    form = ClaimFileForm(request.POST or None, prefix=prefix)
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_claim_file(
                lead=lead, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("撞单协调申请已提交，等待双方单位负责人协调。"))
            return redirect("leads:claims")
    return render(request, "leads/claim_form.html", {"lead": lead, "form": form})


@login_required
@require_GET
def claim_list(request: HttpRequest) -> HttpResponse:
    """Claims (撞单协调) of my units: open ones first, each side's decision."""
    me = request.user
    claims = list(
        claims_visible_to(me)
        .select_related("decided_by", "lead__investor")
        .order_by("status", "-created_at", "-id")[:100]
    )
    for claim in claims:
        claim.decide_form = (
            ClaimDecideForm(prefix=f"c{claim.pk}")
            if permissions.may_decide_claim(me, claim)
            else None
        )
        claim.may_withdraw = claim.status == ClaimStatus.OPEN and claim.claimant_id == me.pk
    assists = list(assist_requests_visible_to(me).order_by("status", "-created_at", "-id")[:100])
    for assist in assists:
        assist.may_decide = permissions.may_decide_assist_request(me, assist)
        if assist.notified_id == me.pk and assist.notice_read_at is None:
            # The 主办's notice: shown (marked new) once, then read.
            assist.is_new = True
            services.assist_request_mark_read(request=assist, actor=me)
    return render(request, "leads/claim_list.html", {"claims": claims, "assists": assists})


@login_required
@require_POST
def claim_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record my side's decision on a claim; agreement of both sides (or a chief) settles it."""
    me = request.user
    claim = get_object_or_404(claims_visible_to(me), pk=pk)
    form = ClaimDecideForm(request.POST, prefix=f"c{claim.pk}")
    if not form.is_valid():
        messages.error(request, _("请选择协调意见。"))
        return redirect("leads:claims")
    try:
        services.lead_claim_decide(
            claim=claim,
            actor=me,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("协调意见已记录。"))
    return redirect("leads:claims")


@login_required
@require_POST
def claim_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """The claimant takes the claim back (撤回)."""
    me = request.user
    claim = get_object_or_404(claims_visible_to(me), pk=pk)
    try:
        services.lead_claim_withdraw(claim=claim, actor=me)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("leads:claims")
