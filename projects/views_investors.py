"""The investor's page (客商, /investors/<id>/) and its contacts (联系人).

Here, not in leads: the page lists the investor's projects and problems, and leads sits below
projects (the imports point one way). Interfaces only: reads through
``projects.selectors.investor_page``, writes through ``leads.services.contact_*``; a refusal
is shown next to its field and the typed values come back.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leads import services as lead_services
from leads.forms import ContactForm
from leads.models import Investor, InvestorContact
from leads.selectors import intermediaries_visible_to
from officers import permissions
from projects.selectors import investor_page, investor_pages_visible_to
from promo.core import submissions
from promo.core.errors import DomainError, PermissionDenied
from promo.core.forms import add_domain_error


def _visible_investor(request: HttpRequest, pk: int) -> Investor:
    """The investor if the officer may open its page; a 404 otherwise (as if it did not
    exist), before anything is read or written."""
    return get_object_or_404(investor_pages_visible_to(request.user).select_related("unit"), pk=pk)


def _page(
    request: HttpRequest,
    investor: Investor,
    *,
    new_form: ContactForm | None = None,
    bound: tuple[int, ContactForm] | None = None,
    revealed: int | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page; ``revealed`` is the contact shown in full (after ``contact_reveal``), every
    other contact's phone, e-mail and WeChat id masked, and blank in its edit form."""
    me = request.user
    page = investor_page(me, investor)
    may_edit = permissions.may_edit_investor_contacts(me, investor)
    contacts = []
    for contact in page.contacts:
        form = None
        shown = contact.pk == revealed
        if may_edit:
            if bound and bound[0] == contact.pk:
                form = bound[1]
            else:
                form = ContactForm.for_contact(contact, revealed=shown, prefix=f"c{contact.pk}")
        contacts.append(
            {
                "contact": contact,
                "form": form,
                "open": bool(bound and bound[0] == contact.pk) or shown,
                "revealed": shown,
                # may_edit_investor_contacts is the reveal predicate's answer for every
                # contact of this investor (asked once, not per row).
                "may_reveal": may_edit,
            }
        )
    revealable = {
        intermediary.pk
        for intermediary in page.intermediaries
        if (intermediary.phone or intermediary.email)
        and permissions.may_reveal_intermediary_details(me, intermediary)
    }
    return render(
        request,
        "projects/investor_detail.html",
        {
            "investor": investor,
            "revealable_intermediaries": revealable,
            "page": page,
            "contacts": contacts,
            "may_edit_contacts": may_edit,
            "may_work": permissions.may_work_records(me),
            "new_form": (new_form or ContactForm(prefix="new")) if may_edit else None,
            "new_open": new_form is not None,
        },
        status=status,
    )


@login_required
@require_GET
def investor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An investor's page: profile, who holds it, its leads, visits, projects, problems,
    intermediaries and contacts — each as far as the officer may see."""
    return _page(request, _visible_investor(request, pk))


@login_required
@require_POST
def contact_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a contact to an investor; a double tap or a resent POST saves once."""
    me = request.user
    investor = _visible_investor(request, pk)
    form = ContactForm(request.POST, prefix="new")
    earlier = submissions.earlier_result(me, form.submission_key())
    if earlier is not None:
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        target = reverse("projects:investor", args=[investor.pk]) + "#h-contacts"
        try:
            with transaction.atomic():
                lead_services.contact_add(actor=me, investor=investor, **form.values())
                submissions.record(me, form.submission_key(), target)
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("联系人已添加。"))
            return redirect(target)
    return _page(request, investor, new_form=form)


def _contact(request: HttpRequest, pk: int) -> InvestorContact:
    """A current contact of an investor whose page the officer may open; a 404 otherwise."""
    contact = (
        InvestorContact.objects.filter(pk=pk, is_archived=False).select_related("investor").first()
    )
    if contact is None:
        raise Http404
    contact.investor = _visible_investor(request, contact.investor_id)
    return contact


@login_required
@require_POST
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a contact's details (the history keeps the old ones)."""
    me = request.user
    contact = _contact(request, pk)
    form = ContactForm(request.POST, prefix=f"c{contact.pk}")
    target = reverse("projects:investor", args=[contact.investor_id]) + "#h-contacts"
    earlier = submissions.earlier_result(me, form.submission_key())
    if earlier is not None:
        messages.info(request, submissions.ALREADY_SAVED)
        return redirect(earlier)
    if form.is_valid():
        try:
            with transaction.atomic():
                lead_services.contact_update(actor=me, contact=contact, changes=form.values())
                submissions.record(me, form.submission_key(), target)
        except submissions.AlreadySubmitted as exc:
            messages.info(request, submissions.ALREADY_SAVED)
            return redirect(exc.url)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("联系人已更新。"))
            return redirect(target)
    return _page(request, contact.investor, bound=(contact.pk, form))


@login_required
@require_POST
def contact_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a contact from the page; it stays in the history."""
    contact = _contact(request, pk)
    try:
        lead_services.contact_remove(actor=request.user, contact=contact)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    messages.success(request, _("联系人已移除，历史记录仍保留。"))
    return redirect(reverse("projects:investor", args=[contact.investor_id]) + "#h-contacts")


@login_required
@require_POST
def contact_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one contact's phone number, e-mail and WeChat id in full (查看完整联系方式) to an
    officer who may and who says why; the page comes back with it shown and its edit form
    filled in. Recorded by ``leads.services.contact_reveal``; a refusal records nothing."""
    contact = _contact(request, pk)
    try:
        lead_services.contact_reveal(
            actor=request.user,
            contact=contact,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(reverse("projects:investor", args=[contact.investor_id]) + "#h-contacts")
    return _page(request, contact.investor, revealed=contact.pk)


@login_required
@require_POST
def intermediary_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an intermediary's phone number and e-mail in full to an officer of its unit who
    says why (recorded by ``leads.services.intermediary_reveal``); another unit's answers 404."""
    intermediary = get_object_or_404(intermediaries_visible_to(request.user), pk=pk)
    try:
        lead_services.intermediary_reveal(
            actor=request.user,
            intermediary=intermediary,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("home")
    return render(
        request,
        "projects/personal_data_revealed.html",
        {
            "title": intermediary.name,
            "rows": [
                (_("电话"), intermediary.phone, "tel"),
                (_("邮箱"), intermediary.email, "mailto"),
            ],
        },
    )
