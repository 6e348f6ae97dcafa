"""Officers' pages of the projects app: list, project page, stage, progress and problems (马上办).

Interfaces only: reads through the selectors, writes through projects.services; a refusal is
shown next to its field and the typed values come back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory.models
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Count, DecimalField, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leads.choices import LeadStatus
from leads.selectors import lead_list
from officers import permissions
from officers.models import Officer, Unit, tree_order
from officers.selectors import units_visible_to
from projects import services
from projects.choices import (
    MILESTONE_ORDER,
    STAGE_ORDER,
    Milestone,
    ProblemStatus,
    Stage,
    next_stage,
)
from projects.forms import (
    AdvanceForm,
    AskAgainForm,
    EvidenceAttachForm,
    FiguresForm,
    MilestoneCorrectForm,
    MilestoneForm,
    PlanForm,
    ProblemForm,
    ProgressForm,
    ProjectFilterForm,
    ProjectSignForm,
    ResolveForm,
)
from projects.models import MilestoneEvidence, Project, StageEvidence
from projects.selectors import (
    accepted_evidence_kinds,
    allowed_stages,
    problems_visible_to,
    project_list_for,
    projects_visible_to,
)
from projects.selectors import (
    project_board as project_board_query,
)
from projects.selectors import project_list as project_list_query
from promo.core import submissions
from promo.core.errors import DomainError, PermissionDenied
from promo.core.forms import PlainSelect, add_domain_error
from promo.core.paging import KeysetPage, deep_page_redirect, list_query
from promo.core.services import today

PAGE_SIZE = 20


def _refused(exc: PermissionDenied) -> DjangoPermissionDenied:
    return DjangoPermissionDenied(str(exc.message))


# The FilterSet fields the list page shows (stage and size come from ProjectFilterForm's
# checkboxes); the others (investor, sync keys) still filter when a link names them.
LIST_FILTERS = (
    "unit",
    "without_subunits",
    "industry",
    "investor_region",
    "source_channel",
    "contract_date",
    "groundbreaking_actual",
    "in_statistics_actual",
    "above_size_actual",
    "signed_investment_min",
    "progress_month",
    "overdue",
    "light",
)


def _dress_filter_form(form, me) -> None:
    """A unit <select> (indented by level) for the FilterSet's unit id."""
    units = units_visible_to(me).order_by(tree_order()).values_list("pk", "name", "path")
    form.fields["unit"].widget = PlainSelect(
        choices=[
            ("", "—"),
            *((pk, "\u3000" * max(path.count("/") - 2, 0) + name) for pk, name, path in units),
        ]
    )


_SUM = DecimalField(max_digits=18, decimal_places=2)


@login_required
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    """Projects (项目) the officer may see, filtered by the shared ProjectFilter (unit sub-tree,
    industry, region, channel, dates, overdue) plus stage and size class checkboxes and a search
    box: the same rows as the export and the cockpit's links."""
    me = request.user
    filterset, form, qs = project_list_for(me, request.GET, request=request)
    _dress_filter_form(filterset.form, me)
    # The count and the two sums of the whole list in one query: the cockpit's 新签约总投资
    # links here and sums the amount signed, so that is the column and total to check it by;
    # its 新开工项目总投资 links with investment_as_of, and the 总投资 column follows it.
    totals = qs.order_by().aggregate(
        count=Count("pk"),
        signed_investment=Coalesce(Sum("signed_investment"), Decimal("0"), output_field=_SUM),
        total_investment=Coalesce(Sum("shown_total"), Decimal("0"), output_field=_SUM),
    )
    # Latest signing first, id as the tie-breaker; deep pages by cursor (issue #19). The total
    # is known already: no second COUNT query.
    page = KeysetPage(qs, request.GET, per_page=PAGE_SIZE, count=totals["count"])
    if page.too_deep:
        return deep_page_redirect(request, page)
    if page.invalid:
        messages.error(request, _("翻页链接无效，已显示第一页。"))
    day = today()
    for project in page.object_list:
        following = next_stage(project.stage)
        project.next_label = Stage(following).label if following else ""
        project.next_planned = project.planned_date(following) if following else None
        project.next_overdue = bool(project.next_planned and project.next_planned < day)
    query = list_query(request.GET)
    return render(
        request,
        "projects/project_list.html",
        {
            "form": form,
            "filter_form": filterset.form,
            "filter_fields": [filterset.form[name] for name in LIST_FILTERS],
            "page": page,
            "totals": totals,
            "investment_as_of": form.cleaned_data.get("investment_as_of")
            if form.is_valid()
            else None,
            "query": query,
            "filtered": any(key.startswith(LIST_FILTERS) for key in request.GET),
        },
    )


def _milestones(project) -> list[dict]:
    day = today()
    rows = []
    for stage in STAGE_ORDER:
        planned = project.planned_date(stage)
        actual = project.actual_date(stage)
        late = bool(planned and ((actual and actual > planned) or (not actual and planned < day)))
        rows.append(
            {
                "label": Stage(stage).label,
                "planned": planned,
                "actual": actual,
                "overdue": late,
                "current": project.stage == stage,
            }
        )
    return rows


def _milestones_after_signing(project) -> tuple[list[dict], list]:
    """注册 / 供地 / 入统 / 入规: planned, actual, who recorded it and the evidence (rows), and
    every recording, correction and withdrawal, oldest first (the trail)."""
    day = today()
    events = list(
        project.milestone_events.select_related("actor")
        .prefetch_related("evidence")
        .order_by("created_at", "id")
    )
    rows = []
    for milestone in MILESTONE_ORDER:
        planned = project.milestone_planned(milestone)
        actual = project.milestone_actual(milestone)
        mine = [e for e in events if e.milestone == milestone]
        rows.append(
            {
                "label": Milestone(milestone).label,
                "planned": planned,
                "actual": actual,
                "overdue": bool(
                    planned and ((actual and actual > planned) or (not actual and planned < day))
                ),
                "last": mine[-1] if mine and actual else None,
                "credit_code": project.company_credit_code
                if milestone == Milestone.REGISTERED
                else "",
                "evidence": [ev for e in mine for ev in e.evidence.all()],
            }
        )
    return rows, events


# Fields of a project whose every change is shown with who, when and why (数据变更记录).
HISTORY_FIELDS = (
    "stage",
    "contract_date",
    "signed_investment",
    "total_investment",
    "registered_capital",
    "contracted_fdi",
    "arrived_fdi",
    "land_area",
    "invested_to_date",
    "groundbreaking_planned",
    "groundbreaking_actual",
    "completed_planned",
    "completed_actual",
    "producing_planned",
    "producing_actual",
    "registered_planned",
    "registered_actual",
    "company_credit_code",
    "land_granted_planned",
    "land_granted_actual",
    "in_statistics_planned",
    "in_statistics_actual",
    "above_size_planned",
    "above_size_actual",
    "annual_output_value",
    "annual_tax",
    "jobs",
)
HISTORY_ROWS = 50


def _figure_history(project) -> list[dict]:
    """Every change of a reported figure, newest first, from the history triggers' trail."""
    events = list(
        pghistory.models.Events.objects.tracks(project)
        .exclude(pgh_diff__isnull=True)
        .order_by("-pgh_created_at", "-pgh_id")[:HISTORY_ROWS]
    )
    user_ids = {(e.pgh_context or {}).get("user") for e in events} - {None}
    names = {o.pk: o.display_name for o in Officer.objects.filter(pk__in=user_ids)}
    rows = []
    for event in events:
        context = event.pgh_context or {}
        for field, (old, new) in sorted((event.pgh_diff or {}).items()):
            if field not in HISTORY_FIELDS:
                continue
            model_field = Project._meta.get_field(field)
            # A stage reads as 签约 → 开工, not as its stored value.
            labels = dict(model_field.flatchoices) if model_field.choices else {}
            rows.append(
                {
                    "at": event.pgh_created_at,
                    "field": model_field.verbose_name,
                    "old": labels.get(old, old),
                    "new": labels.get(new, new),
                    "who": names.get(context.get("user"), "—"),
                    "why": context.get("why", ""),
                }
            )
    return rows


def _stage_events(project, attach=None) -> list:
    """Stage changes with their evidence, each with a form to add a file (bound if refused)."""
    events = list(
        project.stage_events.select_related("actor")
        .prefetch_related("evidence")
        .order_by("created_at")
    )
    for event in events:
        bound_id, bound_form = attach or (None, None)
        event.attach_form = (
            bound_form if bound_id == event.pk else EvidenceAttachForm(prefix=f"ev{event.pk}")
        )
    return events


def _advance_rule(stage: str | None) -> dict[str, Any]:
    """The advance form's view of the bureau's evidence rule for the target stage."""
    if stage is None:
        return {}
    return {"accepted_kinds": accepted_evidence_kinds(stage), "stage_label": Stage(stage).label}


def _project_page(
    request: HttpRequest,
    project,
    *,
    advance=None,
    progress=None,
    plan=None,
    figures=None,
    attach=None,
    milestone=None,
    milestone_fix=None,
    milestone_attach=None,
    status=200,
):
    me = request.user
    following = next_stage(project.stage)
    # The same predicates project_advance enforces (and the API's allowed_stages reads): a 协办
    # is not offered the stage change.
    may_advance = following in allowed_stages(me, project)
    # And those of project_milestone_record / _correct.
    may_record = permissions.may_work_records(me) and permissions.may_advance_project(me, project)
    may_fix = permissions.may_work_records(me) and permissions.may_correct_milestone(me, project)
    milestone_rows, milestone_events = _milestones_after_signing(project)
    for event in milestone_events:
        bound_id, bound_form = milestone_attach or (None, None)
        event.attach_form = (
            bound_form if bound_id == event.pk else EvidenceAttachForm(prefix=f"mev{event.pk}")
        )
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "milestones": _milestones(project),
            "milestone_rows": milestone_rows,
            "milestone_events": milestone_events,
            "milestone_form": milestone or (MilestoneForm() if may_record else None),
            "milestone_fix_form": milestone_fix or (MilestoneCorrectForm() if may_fix else None),
            "next_stage": Stage(following) if following else None,
            "advance_form": advance
            or (AdvanceForm(**_advance_rule(following)) if following and may_advance else None),
            "progress_form": progress or ProgressForm(),
            "plan_form": plan or PlanForm(record=project),
            "figures_form": figures or FiguresForm(record=project),
            "stage_events": _stage_events(project, attach),
            "history": _figure_history(project),
            "progress_rows": project.progress.select_related("reported_by").order_by("-month")[:12],
            "problems": problems_visible_to(request.user)
            .filter(project=project)
            .select_related("owner_unit", "first_asked")
            .order_by("status", "due_on"),
        },
        status=status,
    )


@login_required
@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project's page: milestones planned vs actual, stage history, progress, problems."""
    project = get_object_or_404(project_list_query(request.user), pk=pk)
    return _project_page(request, project)


@login_required
@require_POST
def project_advance(request: HttpRequest, pk: int) -> HttpResponse:
    """Advance the project to its next stage on an actual date."""
    me = request.user
    project = get_object_or_404(project_list_query(me), pk=pk)
    following = next_stage(project.stage)
    form = AdvanceForm(request.POST, request.FILES, **_advance_rule(following))
    if following is None:
        form.is_valid()
        form.add_error(None, _("项目已投产，没有下一个阶段。"))
    elif form.is_valid():
        try:
            services.project_advance(
                project=project,
                actor=me,
                to_stage=following,
                actual_date=form.cleaned_data["actual_date"],
                note=form.cleaned_data["note"],
                evidence=form.evidence_pairs(),
            )
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("项目已进入“%(stage)s”阶段。") % {"stage": Stage(following).label}
            )
            return redirect("projects:detail", pk=project.pk)
    project.refresh_from_db()
    return _project_page(request, project, advance=form)


def _milestone_post(request, pk, *, form_class, service, page_key, done_message):
    """Record or correct a milestone after signing: service call, errors next to the field.

    The form's submission key sends a double tap (or a resent POST) to what the first one
    saved; a second recording without it (another officer, another tab) finds the milestone
    recorded and is refused next to the milestone (the service locks the project).
    """
    me = request.user
    project = get_object_or_404(project_list_query(me), pk=pk)
    form = form_class(request.POST, request.FILES)
    earlier = submissions.earlier_result(me, form.submission_key())
    if earlier is not None:
        # A double tap, or the browser resending after a dropped connection: saved once.
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        target = reverse("projects:detail", args=[project.pk])
        try:
            with transaction.atomic():
                _project, event = service(project=project, actor=me, **form.service_kwargs())
                submissions.record(me, form.submission_key(), target)
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        except DomainError as exc:
            # Sent twice at once, the second waited on the project's lock and found the
            # milestone recorded: by its own first tap, if the key was used meanwhile.
            earlier = submissions.earlier_result(me, form.submission_key())
            if earlier is not None:
                messages.info(request, submissions.ALREADY_SAVED)
                return redirect(earlier)
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                done_message
                % {
                    "milestone": event.get_milestone_display(),
                    "action": event.get_action_display(),
                },
            )
            return redirect("projects:detail", pk=project.pk)
    project.refresh_from_db()
    return _project_page(request, project, **{page_key: form})


@login_required
@require_POST
def project_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a milestone after signing (注册 / 供地 / 入统 / 入规) on its actual date."""
    return _milestone_post(
        request,
        pk,
        form_class=MilestoneForm,
        service=services.project_milestone_record,
        page_key="milestone",
        done_message=_("已登记“%(milestone)s”。"),
    )


@login_required
@require_POST
def project_milestone_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct (更正) or withdraw (撤销) a recorded milestone, with a reason."""
    return _milestone_post(
        request,
        pk,
        form_class=MilestoneCorrectForm,
        service=services.project_milestone_correct,
        page_key="milestone_fix",
        done_message=_("“%(milestone)s”已%(action)s。"),
    )


def _refuse_stale(request, project, form, **page) -> HttpResponse:
    """The project changed since the form was opened: say who and when, keep the input."""
    latest = _figure_history(project)[:1]
    form.add_error(
        None,
        _(
            "该项目在您打开表单后已被 %(who)s 于 %(at)s 修改，请核对上方最新数据后再次保存；"
            "您填写的内容保留在下方。"
        )
        % {
            "who": latest[0]["who"] if latest else "—",
            "at": date_format(timezone.localtime(project.updated_at), "SHORT_DATETIME_FORMAT"),
        },
    )
    form.reopen(project)
    return _project_page(request, project, status=409, **page)


def _correct_project(request, pk, *, form_class, service, page_key, done_message):
    """One correction form on the project page: stale check, service call, errors in place."""
    me = request.user
    project = get_object_or_404(project_list_query(me), pk=pk)
    form = form_class(request.POST, record=project)
    if form.is_valid():
        if form.is_stale(project):
            return _refuse_stale(request, project, form, **{page_key: form})
        try:
            service(project=project, actor=me, **form.service_kwargs())
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, done_message)
            return redirect("projects:detail", pk=project.pk)
    return _project_page(request, project, **{page_key: form})


@login_required
@require_POST
def project_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """Reschedule the planned milestones (调整计划节点); a reason is required."""
    return _correct_project(
        request,
        pk,
        form_class=PlanForm,
        service=services.project_set_plan,
        page_key="plan",
        done_message=_("计划节点已调整。"),
    )


@login_required
@require_POST
def project_figures(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct reported figures (修正项目数据); the reason goes into the figure history."""
    return _correct_project(
        request,
        pk,
        form_class=FiguresForm,
        service=services.project_update_figures,
        page_key="figures",
        done_message=_("项目数据已修正。"),
    )


def _progress_changed_since(project, month, opened_at):
    """The month's report if someone changed it after the form was opened (stale edit)."""
    if month is None or opened_at is None:
        return None
    return (
        project.progress.filter(month=month.replace(day=1), updated_at__gt=opened_at)
        .select_related("reported_by")
        .first()
    )


@login_required
@require_POST
def project_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Report (or amend) one month's investment progress."""
    me = request.user
    project = get_object_or_404(project_list_query(me), pk=pk)
    form = ProgressForm(request.POST)
    if form.is_valid():
        data = form.service_kwargs()
        newer = _progress_changed_since(project, data["month"], form.cleaned_data["opened_at"])
        if newer is not None:
            form.add_error(
                None,
                _(
                    "%(month)s 的进度已由 %(who)s 于 %(at)s 修改（固定资产投资 %(fixed)s 万元），"
                    "请核对后再次保存；您填写的内容保留在下方。"
                )
                % {
                    "month": newer.month.strftime("%Y-%m"),
                    "who": newer.reported_by.display_name,
                    "at": date_format(
                        timezone.localtime(newer.updated_at), "SHORT_DATETIME_FORMAT"
                    ),
                    "fixed": newer.fixed_asset_investment,
                },
            )
            form.reopen()
            return _project_page(request, project, progress=form, status=409)
        try:
            services.progress_record(project=project, actor=me, **data)
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("月度进度已保存。"))
            return redirect("projects:detail", pk=project.pk)
    return _project_page(request, project, progress=form)


@login_required
@require_http_methods(["GET", "POST"])
def problem_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Raise a problem (马上办) on a project; the officer asked first stays responsible."""
    me = request.user
    project = get_object_or_404(project_list_query(me), pk=pk)
    # A problem may be routed to any unit of the bureau (a department owns approvals).
    units = Unit.objects.filter(is_active=True).order_by(tree_order())
    if request.method == "GET":
        form = ProblemForm(units=units, initial={"owner_unit": project.unit_id})
        return render(request, "projects/problem_form.html", {"project": project, "form": form})
    form = ProblemForm(request.POST, units=units)
    key = form.submission_key()
    earlier = submissions.earlier_result(me, key)
    if earlier is not None:
        # A double tap, or the browser resending after a dropped connection: raised once.
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        try:
            with transaction.atomic():
                problem = services.problem_raise(project=project, actor=me, **form.service_kwargs())
                submissions.record(me, key, reverse("projects:problem", args=[problem.pk]))
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("问题已登记，您是首问责任人。"))
            return redirect("projects:problem", pk=problem.pk)
    return render(request, "projects/problem_form.html", {"project": project, "form": form})


def _problem_page(request, problem, *, ask=None, resolve=None):
    open_ = problem.status != ProblemStatus.RESOLVED
    return render(
        request,
        "projects/problem_detail.html",
        {
            "problem": problem,
            "days_left": (problem.due_on - today()).days,
            "actions": problem.actions.select_related("actor").order_by("created_at", "id"),
            "can_start": problem.can_transition_to(ProblemStatus.IN_PROGRESS),
            "ask_form": ask or (AskAgainForm() if open_ and problem.ask_count < 2 else None),
            "resolve_form": resolve
            or (
                ResolveForm()
                if problem.can_transition_to(ProblemStatus.RESOLVED)
                and permissions.may_resolve_problem(request.user, problem)
                else None
            ),
            "escalated_to": problem.escalated_to.all(),
        },
    )


def _visible_problem(request, pk):
    return get_object_or_404(
        problems_visible_to(request.user).select_related(
            "project", "owner_unit", "first_asked", "raised_by"
        ),
        pk=pk,
    )


@login_required
@require_GET
def problem_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _problem_page(request, _visible_problem(request, pk))


@login_required
@require_POST
def problem_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take up (开始办理), ask again (二次催办, escalates) or resolve (办结) a problem."""
    me = request.user
    problem = _visible_problem(request, pk)
    forms = {"ask": None, "resolve": None}
    try:
        if action == "start":
            services.problem_start(problem=problem, actor=me)
        elif action == "ask":
            form = forms["ask"] = AskAgainForm(request.POST)
            if not form.is_valid():
                return _problem_page(request, problem, ask=form)
            problem = services.problem_ask_again(
                problem=problem, actor=me, note=form.cleaned_data["note"]
            )
            messages.success(request, services.escalation_note(problem.escalated_to.order_by("pk")))
            return redirect("projects:problem", pk=problem.pk)
        elif action == "resolve":
            form = forms["resolve"] = ResolveForm(request.POST)
            if not form.is_valid():
                return _problem_page(request, problem, resolve=form)
            services.problem_resolve(problem=problem, actor=me, **form.cleaned_data)
        else:
            return redirect("projects:problem", pk=problem.pk)
    except PermissionDenied as exc:
        raise _refused(exc) from exc
    except DomainError as exc:
        target = forms.get(action)
        if target is None:
            messages.error(request, str(exc.message))
            return redirect("projects:problem", pk=problem.pk)
        add_domain_error(target, exc)
        problem.refresh_from_db()
        return _problem_page(request, problem, **{action: target})
    messages.success(request, _("已保存。"))
    return redirect("projects:problem", pk=problem.pk)


BOARD_ROWS_PER_STAGE = 30


@login_required
@require_GET
def project_board(request: HttpRequest) -> HttpResponse:
    """Board by stage (签约 / 开工 / 竣工 / 投产), filtered by size class."""
    form = ProjectFilterForm(request.GET or None)
    sizes, q = (), ""
    if form.is_valid():
        sizes, q = form.cleaned_data["size"], form.cleaned_data["q"].strip()
    counts, columns = project_board_query(
        request.user, sizes=sizes, q=q, rows_per_stage=BOARD_ROWS_PER_STAGE
    )
    return render(
        request,
        "projects/project_board.html",
        {
            "form": form,
            "columns": [
                {
                    "stage": stage,
                    "label": Stage(stage).label,
                    "projects": columns[stage],
                    "count": counts.get(stage, 0),
                }
                for stage in STAGE_ORDER
            ],
        },
    )


@login_required
@require_POST
def evidence_attach(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    """Add an evidence file to a stage change already recorded (补充佐证材料)."""
    return _attach_post(
        request,
        pk,
        events="stage_events",
        event_id=event_id,
        prefix="ev",
        attach=lambda event, **kwargs: services.stage_evidence_attach(stage_event=event, **kwargs),
        page_key="attach",
    )


def _attach_post(request, pk, *, events, event_id, prefix, attach, page_key) -> HttpResponse:
    """Add a file to a recorded stage change or milestone (the two differ only in the event
    and the service): errors next to the field on the project page; the form's submission
    key attaches a double-tapped file once."""
    me = request.user
    project = get_object_or_404(project_list_query(me), pk=pk)
    event = get_object_or_404(getattr(project, events), pk=event_id)
    form = EvidenceAttachForm(request.POST, request.FILES, prefix=f"{prefix}{event.pk}")
    key = form.submission_key()
    earlier = submissions.earlier_result(me, key)
    if earlier is not None:
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        done = reverse("projects:detail", args=[project.pk])
        try:
            with transaction.atomic():
                attach(
                    event,
                    actor=me,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                )
                submissions.record(me, key, done)
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise _refused(exc) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("佐证材料已上传。"))
            return redirect(done)
    return _project_page(request, project, **{page_key: (event.pk, form)})


@login_required
@require_GET
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Download one evidence file (佐证材料) of a project the officer may see.

    Files are never served from MEDIA_URL: this view checks visibility, forces a download
    and forbids the browser from guessing another type than the one checked at upload.
    """
    evidence = get_object_or_404(
        StageEvidence.objects.filter(stage_event__project__in=projects_visible_to(request.user)),
        pk=pk,
    )
    return _evidence_response(evidence)


def _evidence_response(evidence) -> FileResponse:
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def milestone_evidence_attach(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    """Add an evidence file to a milestone already recorded (补充节点佐证材料)."""
    return _attach_post(
        request,
        pk,
        events="milestone_events",
        event_id=event_id,
        prefix="mev",
        attach=lambda event, **kwargs: services.milestone_evidence_attach(
            milestone_event=event, **kwargs
        ),
        page_key="milestone_attach",
    )


@login_required
@require_GET
def milestone_evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Download one evidence file of a milestone after signing (节点佐证材料), as the stage
    evidence is: visibility checked, forced download, no type sniffing."""
    evidence = get_object_or_404(
        MilestoneEvidence.objects.filter(
            milestone_event__project__in=projects_visible_to(request.user)
        ),
        pk=pk,
    )
    return _evidence_response(evidence)


# --- Signing a lead ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lead_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign a lead (签约): a project form prefilled from the lead.

    Served under /leads/ but here: signing makes a project, which the leads app cannot see.
    """
    me = request.user
    lead = get_object_or_404(lead_list(me), pk=pk)
    if not permissions.may_sign_lead(me, lead):
        raise DjangoPermissionDenied(_("只有主办人、本单位负责人或局领导可以签约。"))
    if request.method == "GET":
        if not lead.can_transition_to(LeadStatus.SIGNED):
            messages.error(request, _("只有“在谈”的项目信息可以签约。"))
            return redirect("leads:detail", pk=lead.pk)
        form = ProjectSignForm(
            initial={
                "name": lead.name,
                "contract_date": today(),
                "total_investment": lead.estimated_amount or None,
                "contracted_fdi": lead.estimated_fdi,
                "description": lead.description,
            }
        )
        return render(request, "projects/lead_sign.html", {"lead": lead, "form": form})
    form = ProjectSignForm(request.POST)
    if form.is_valid():
        try:
            project = services.project_sign_lead(lead=lead, actor=me, **form.service_kwargs())
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("已签约，项目已建立。"))
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/lead_sign.html", {"lead": lead, "form": form})
