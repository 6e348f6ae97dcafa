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
    status: int = 200,
) -> HttpResponse:
    me = request.user
    page = investor_page(me, investor)
    may_edit = permissions.may_edit_investor_contacts(me, investor)
    contacts = []
    for contact in page.contacts:
        form = None
        if may_edit:
            if bound and bound[0] == contact.pk:
                form = bound[1]
            else:
                form = ContactForm(
                    prefix=f"c{contact.pk}",
                    initial={name: getattr(contact, name) for name in ContactForm.FIELDS},
                )
        contacts.append(
            {"contact": contact, "form": form, "open": bool(bound and bound[0] == contact.pk)}
        )
    return render(
        request,
        "projects/investor_detail.html",
        {
            "investor": investor,
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
