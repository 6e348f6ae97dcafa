"""The agreement pages' forms: what an officer types; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.forms import DateInput
from officers.models import Unit, tree_order
from promo.core.services import today
from promo.core.submissions import OnceForm

from .choices import DATE_METRICS, AgreementKind, ClawbackRule, IncentiveAction, Metric, PromiseKind
from .models import Promise, Term


class TermChoice(forms.ModelChoiceField):
    """A commitment named by what it measures, its target and its due date."""

    def label_from_instance(self, obj: Any) -> str:
        target = "" if obj.metric in DATE_METRICS else f" ≥ {obj.target}"
        return f"{obj.get_metric_display()}{target}（{obj.due_on:%Y-%m-%d}）"


class TermChoices(TermChoice, forms.ModelMultipleChoiceField):
    """Several commitments, each named as ``TermChoice`` names one."""


class AgreementForm(OnceForm):
    kind = forms.ChoiceField(label=_("协议类型"), choices=AgreementKind.choices)
    title = forms.CharField(label=_("协议名称"), max_length=200)
    signed_on = forms.DateField(label=_("签订日期"), widget=DateInput())
    parties = forms.CharField(
        label=_("签约各方"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    clawback_rule = forms.ChoiceField(label=_("追回规则"), choices=ClawbackRule.choices)


class TermForm(OnceForm):
    metric = forms.ChoiceField(label=_("承诺事项"), choices=[("", "—"), *Metric.choices])
    target = forms.DecimalField(
        label=_("承诺值"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("按期开工、竣工、投产不填，以项目阶段的实际日期为准。"),
    )
    due_on = forms.DateField(label=_("承诺期限"), widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("metric") and data["metric"] not in DATE_METRICS and data.get("target") is None:
            self.add_error("target", _("请填写承诺值。"))
        return data


class MeasurementForm(OnceForm):
    term = TermChoice(label=_("承诺事项"), queryset=Term.objects.none())
    measured_on = forms.DateField(label=_("测定日期"), widget=DateInput())
    value = forms.DecimalField(label=_("实测值"), min_value=0, max_digits=14, decimal_places=2)
    source = forms.CharField(label=_("数据来源"), max_length=200)

    def __init__(self, *args: Any, terms: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("measured_on", today())
        super().__init__(*args, **kwargs)
        field = self.fields["term"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = terms if terms is not None else Term.objects.none()


class WaiveForm(OnceForm):
    term = TermChoice(label=_("承诺事项"), queryset=Term.objects.none())
    reason = forms.CharField(label=_("豁免理由"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, terms: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["term"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = terms if terms is not None else Term.objects.none()


class PromiseForm(OnceForm):
    kind = forms.ChoiceField(label=_("承诺类型"), choices=[("", "—"), *PromiseKind.choices])
    description = forms.CharField(label=_("承诺内容"), max_length=300)
    owner_unit = forms.ModelChoiceField(label=_("责任单位"), queryset=Unit.objects.none())
    due_on = forms.DateField(label=_("兑现期限"), widget=DateInput())
    amount = forms.DecimalField(
        label=_("奖补金额(万元)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    conditions = TermChoices(
        label=_("兑现条件"),
        required=False,
        queryset=Term.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("奖补资金在所选投资方承诺全部履约后方可兑现。"),
    )

    def __init__(self, *args: Any, terms: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        unit = self.fields["owner_unit"]
        assert isinstance(unit, forms.ModelChoiceField)
        unit.queryset = Unit.objects.order_by(tree_order())
        conditions = self.fields["conditions"]
        assert isinstance(conditions, forms.ModelMultipleChoiceField)
        conditions.queryset = terms if terms is not None else Term.objects.none()


class DeliverForm(OnceForm):
    promise = forms.ModelChoiceField(label=_("承诺事项"), queryset=Promise.objects.none())
    delivered_on = forms.DateField(label=_("兑现日期"), widget=DateInput())
    note = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args: Any, promises: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("delivered_on", today())
        super().__init__(*args, **kwargs)
        field = self.fields["promise"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = promises if promises is not None else Promise.objects.none()


class IncentiveRequestForm(OnceForm):
    promise = forms.ModelChoiceField(label=_("奖补事项"), queryset=Promise.objects.none())
    action = forms.ChoiceField(label=_("操作"), choices=[("", "—"), *IncentiveAction.choices])
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, promises: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["promise"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = promises if promises is not None else Promise.objects.none()


class DecideForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.ChoiceField(
        choices=[("1", _("批准")), ("0", _("驳回"))], widget=forms.HiddenInput
    )
    note = forms.CharField(label=_("审批意见"), required=False, max_length=1000)


class TalkForm(OnceForm):
    note = forms.CharField(label=_("约谈情况"), widget=forms.Textarea(attrs={"rows": 3}))
    decision = forms.CharField(label=_("处理决定"), widget=forms.Textarea(attrs={"rows": 2}))
