"""Forms of the reports app's pages."""

from __future__ import annotations

from datetime import date
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from promo.core.services import EARLIEST_PLAUSIBLE_DATE, today


class AgreementAnalysisForm(forms.Form):
    """协议履约分析's filters: a unit the officer sees (its sub-tree) and the day the statuses
    are read on (today by default; not in the future: a status then is a guess)."""

    unit = forms.TypedChoiceField(label=_("单位"), coerce=int, required=False, empty_value=None)
    on = forms.DateField(
        label=_("截至日期"), required=False, widget=forms.DateInput({"type": "date"})
    )

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        unit = cast(forms.TypedChoiceField, self.fields["unit"])
        unit.choices = [("", _("全部"))] + [
            (u.pk, "\u3000" * max(u.path.count("/") - 2, 0) + u.name) for u in units
        ]

    @staticmethod
    def default_on() -> date:
        return today()

    def clean_on(self) -> date:
        on = self.cleaned_data.get("on") or today()
        if on > today():
            raise forms.ValidationError(_("截至日期不能晚于今天。"))
        if on < EARLIEST_PLAUSIBLE_DATE:
            raise forms.ValidationError(
                _("日期不能早于 %(date)s。") % {"date": EARLIEST_PLAUSIBLE_DATE.isoformat()}
            )
        return on
