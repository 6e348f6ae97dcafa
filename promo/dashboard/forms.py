"""The cockpit's filter form: unit (sub-tree), period, industry, region, source channel."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.choices import SourceChannel
from promo.core.choices import Industry, Region


class PeriodKind:
    MONTH = "month"
    QUARTER = "quarter"
    YTD = "ytd"
    CUSTOM = "custom"
    CHOICES = (
        (MONTH, _("本月")),
        (QUARTER, _("本季度")),
        (YTD, _("年初至今")),
        (CUSTOM, _("自定义")),
    )


@dataclass(frozen=True)
class Period:
    """A closed date range ``[start, end]`` and the same range one year earlier."""

    kind: str
    start: date
    end: date

    @property
    def last_year(self) -> Period:
        return Period(self.kind, _year_back(self.start), _year_back(self.end))

    @property
    def year(self) -> int:
        return self.end.year


def _year_back(day: date) -> date:
    # 29 February has no twin a year earlier: the 28th stands in.
    last = calendar.monthrange(day.year - 1, day.month)[1]
    return day.replace(year=day.year - 1, day=min(day.day, last))


def period_for(kind: str, on: date, start: date | None = None, end: date | None = None) -> Period:
    """The period of ``kind`` that contains ``on`` (year to date ends on ``on``)."""
    if kind == PeriodKind.MONTH:
        last = calendar.monthrange(on.year, on.month)[1]
        return Period(kind, on.replace(day=1), on.replace(day=last))
    if kind == PeriodKind.QUARTER:
        first_month = (on.month - 1) // 3 * 3 + 1
        last_month = first_month + 2
        last = calendar.monthrange(on.year, last_month)[1]
        return Period(kind, date(on.year, first_month, 1), date(on.year, last_month, last))
    if kind == PeriodKind.CUSTOM and start and end:
        return Period(kind, start, end)
    return Period(PeriodKind.YTD, date(on.year, 1, 1), on)


class DashboardFilterForm(forms.Form):
    """The filters; every field is optional and an invalid value falls back to the default."""

    unit = forms.TypedChoiceField(label=_("单位"), coerce=int, required=False, empty_value=None)
    period = forms.ChoiceField(
        label=_("期间"), choices=PeriodKind.CHOICES, required=False, initial=PeriodKind.YTD
    )
    on = forms.DateField(
        label=_("截至日期"), required=False, widget=forms.DateInput({"type": "date"})
    )
    start = forms.DateField(label=_("起"), required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label=_("止"), required=False, widget=forms.DateInput({"type": "date"}))
    industry = forms.ChoiceField(
        label=_("行业"), choices=[("", _("全部")), *list(Industry.choices)], required=False
    )
    region = forms.ChoiceField(
        label=_("投资方国别/地区"), choices=[("", _("全部")), *list(Region.choices)], required=False
    )
    source_channel = forms.ChoiceField(
        label=_("信息来源"), choices=[("", _("全部")), *list(SourceChannel.choices)], required=False
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", _("全部"))] + [
            (u.pk, "\u3000" * max(u.path.count("/") - 2, 0) + u.name) for u in units
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if data.get("period") == PeriodKind.CUSTOM:
            if not (start and end):
                raise forms.ValidationError(_("自定义期间需要起止日期。"))
            if end < start:
                raise forms.ValidationError(_("止日不能早于起日。"))
            if (end - start).days > 366 * 3:
                raise forms.ValidationError(_("自定义期间不超过三年。"))
        return data
