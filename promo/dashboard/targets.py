"""目标分解: unit targets beside what has been broken down to people, and the breakdown form.

Chiefs set unit targets (the admin, through ``officers.services.target_set``); a unit head
breaks the unit's targets down to the people of the unit here, and sees at once whether the
people's sum covers the unit's figure. Saving below the unit's figure is allowed (a
breakdown is entered person by person) but the page says how much is missing, and the
summary marks the metric 未分解完.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from officers import services as officer_services
from officers.choices import TargetMetric
from officers.models import Target
from officers.selectors import breakdown_officers, breakdown_units_for, target_breakdown
from promo.core.errors import DomainError
from promo.core.forms import add_domain_error
from promo.core.services import today


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return today().year


@login_required
@require_GET
def summary(request: HttpRequest) -> HttpResponse:
    """Each unit target of the year beside the sum broken down to its people."""
    me = request.user
    if not breakdown_units_for(me).exists():
        # Targets are broken down by those who run units; officers read theirs on the cockpit.
        raise Http404
    year = _year(request)
    return render(
        request,
        "dashboard/targets.html",
        {"year": year, "rows": target_breakdown(me, year), "years": range(year - 2, year + 2)},
    )


class BreakdownForm(forms.Form):
    """One optional figure per person; left blank, a person's target stays as it is."""

    reason = forms.CharField(
        label=gettext_lazy("分解说明"), required=False, max_length=200, strip=True
    )

    def __init__(self, *args, people=(), current=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = current or {}
        self.people = list(people)
        for person in self.people:
            self.fields[f"p{person.pk}"] = forms.DecimalField(
                label=f"{person.display_name} · {person.unit.short_name or person.unit.name}",
                required=False,
                min_value=Decimal("0"),
                max_digits=14,
                decimal_places=2,
                initial=current.get(person.pk),
            )

    def figures(self):
        """(person, new value) for every person whose figure was filled in and changed."""
        for person in self.people:
            value = self.cleaned_data.get(f"p{person.pk}")
            if value is not None and value != self.fields[f"p{person.pk}"].initial:
                yield person, value


@login_required
@require_http_methods(["GET", "POST"])
def breakdown(request: HttpRequest, unit_id: int, metric: str) -> HttpResponse:
    """Break one unit target down to the people of the unit (all figures saved, or none)."""
    me = request.user
    unit = get_object_or_404(breakdown_units_for(me), pk=unit_id)
    if metric not in TargetMetric.values:
        raise Http404
    year = _year(request)
    unit_target = Target.objects.filter(year=year, unit=unit, metric=metric).first()
    people = list(breakdown_officers(unit))
    current = dict(
        Target.objects.filter(year=year, metric=metric, officer__in=people).values_list(
            "officer_id", "value"
        )
    )
    form = BreakdownForm(request.POST or None, people=people, current=current)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"] or _("目标任务分解到人")
        try:
            with transaction.atomic():
                for person, value in form.figures():
                    officer_services.target_set(
                        actor=me,
                        year=year,
                        metric=metric,
                        value=value,
                        officer=person,
                        reason=reason,
                    )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            total = sum(
                Target.objects.filter(year=year, metric=metric, officer__in=people).values_list(
                    "value", flat=True
                ),
                Decimal("0"),
            )
            if unit_target is not None and total < unit_target.value:
                messages.warning(
                    request,
                    _("已保存。分解合计 %(sum)s，低于单位目标 %(target)s，尚差 %(gap)s。")
                    % {"sum": total, "target": unit_target.value, "gap": unit_target.value - total},
                )
            else:
                messages.success(request, _("已保存。分解合计 %(sum)s。") % {"sum": total})
            return redirect(f"{reverse('dashboard:targets')}?year={year}")
    people_sum = sum(current.values(), Decimal("0"))
    return render(
        request,
        "dashboard/target_breakdown.html",
        {
            "form": form,
            "unit": unit,
            "year": year,
            "metric_label": TargetMetric(metric).label,
            "unit_target": unit_target,
            "people_sum": people_sum,
            "gap": unit_target.value - people_sum if unit_target else None,
        },
        status=400 if request.method == "POST" else 200,
    )
