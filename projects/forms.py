"""Forms of the project pages: sign a lead, advance a stage, monthly progress, problems."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leads.forms import DateInput
from officers.models import Officer, Unit
from projects.choices import MILESTONE_ORDER, Milestone, ParkKind, ProblemKind, SizeClass, Stage
from projects.models import EvidenceKind
from promo.core.forms import PlainCheckboxes
from promo.core.services import today
from promo.core.submissions import OnceForm

_MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2, "min_value": 0}


class ProjectSignForm(forms.Form):
    """Sign a lead (签约): the project form, prefilled from the lead."""

    name = forms.CharField(label=_("项目名称"), max_length=200)
    contract_date = forms.DateField(label=_("签约日期"), widget=DateInput())
    total_investment = forms.DecimalField(label=_("签约总投资(万元)"), **_MONEY)
    registered_capital = forms.DecimalField(
        label=_("注册资本(万元)"), required=False, initial=0, **_MONEY
    )
    contracted_fdi = forms.DecimalField(
        label=_("合同外资(万美元)"), required=False, initial=0, **_MONEY
    )
    land_area = forms.DecimalField(
        label=_("用地(亩)"), required=False, initial=0, max_digits=10, decimal_places=2, min_value=0
    )
    park_kind = forms.ChoiceField(label=_("园区类型"), choices=ParkKind.choices)
    park_name = forms.CharField(label=_("落户园区"), max_length=100, required=False)
    description = forms.CharField(
        label=_("建设内容"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    groundbreaking_planned = forms.DateField(
        label=_("计划开工"), required=False, widget=DateInput()
    )
    completed_planned = forms.DateField(label=_("计划竣工"), required=False, widget=DateInput())
    producing_planned = forms.DateField(label=_("计划投产"), required=False, widget=DateInput())

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("registered_capital", "contracted_fdi", "land_area"):
            data[name] = data[name] or 0
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); each is checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class AdvanceForm(forms.Form):
    """Advance a project one stage (开工 / 竣工 / 投产) on its actual date, with evidence."""

    actual_date = forms.DateField(label=_("实际日期"), widget=DateInput())
    note = forms.CharField(label=_("说明"), required=False, max_length=500)
    evidence_kind = forms.ChoiceField(
        label=_("佐证材料类型"), choices=[("", "—"), *EvidenceKind.choices], required=False
    )
    evidence = MultipleFileField(
        label=_("佐证材料"),
        required=False,
        help_text=_("施工许可证、土地出让合同等；PDF、JPEG 或 PNG，可选多个文件。"),
    )

    def __init__(self, *args, accepted_kinds: Sequence[str] = (), stage_label: Any = "", **kwargs):
        """``accepted_kinds``: the kinds the bureau's rule accepts for the target stage
        (projects.selectors.accepted_evidence_kinds), shown beside the fields so the officer
        knows before saving what project_advance will ask for; the service still decides.
        Every kind stays in the list (no silent default, and a refused kind gets the service's
        own message next to the field)."""
        kwargs.setdefault("initial", {}).setdefault("actual_date", today())
        super().__init__(*args, **kwargs)
        if accepted_kinds:
            names = gettext("、").join(str(EvidenceKind(kind).label) for kind in accepted_kinds)
            required = _("“%(stage)s”须附以下任一种佐证材料：%(kinds)s。") % {
                "stage": stage_label,
                "kinds": names,
            }
            self.fields["evidence_kind"].help_text = required
            self.fields["evidence"].help_text = _("PDF、JPEG 或 PNG，可选多个文件。")

    def clean(self):
        data = super().clean()
        if data.get("evidence") and not data.get("evidence_kind"):
            self.add_error("evidence_kind", _("请选择佐证材料类型。"))
        return data

    def evidence_pairs(self) -> list[tuple[str, object]]:
        kind = self.cleaned_data.get("evidence_kind")
        return [(kind, upload) for upload in self.cleaned_data.get("evidence") or []]


class MilestoneForm(OnceForm, AdvanceForm):
    """Record a milestone after signing (注册 / 供地 / 入统 / 入规) on its actual date, with evidence.

    A submission key (promo.core.submissions): a double tap lands on what the first one saved.
    """

    milestone = forms.ChoiceField(label=_("节点类型"), choices=Milestone.choices)
    credit_code = forms.CharField(
        label=_("项目公司统一社会信用代码"),
        required=False,
        max_length=30,
        help_text=_("登记“注册”时必填，18 位。"),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    field_order = ["milestone", "actual_date", "credit_code", "note", "evidence_kind", "evidence"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].help_text = _(
            "营业执照、土地出让合同、入统/入规证明等；PDF、JPEG 或 PNG，可选多个文件。"
        )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "milestone": data["milestone"],
            "actual_date": data["actual_date"],
            "credit_code": data["credit_code"],
            "note": data["note"],
            "evidence": self.evidence_pairs(),
        }


class MilestoneCorrectForm(MilestoneForm):
    """Correct a recorded milestone's date (更正) or withdraw it (撤销), with a reason."""

    actual_date = forms.DateField(
        label=_("正确日期"), required=False, widget=DateInput(), help_text=_("撤销时不填。")
    )
    withdraw = forms.BooleanField(label=_("撤销该节点（登记有误）"), required=False)
    reason = forms.CharField(label=_("更正或撤销原因"), max_length=500)
    field_order = [
        "milestone",
        "actual_date",
        "withdraw",
        "credit_code",
        "reason",
        "evidence_kind",
        "evidence",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["note"]
        self.fields["credit_code"].help_text = _("更正“注册”时填写；不填则保留原代码。")
        self.initial.pop("actual_date", None)

    def clean(self):
        data = super().clean()
        if data.get("withdraw") and data.get("actual_date"):
            self.add_error("actual_date", _("撤销节点时不填日期。"))
        elif not data.get("withdraw") and not data.get("actual_date") and "actual_date" in data:
            self.add_error("actual_date", _("请填写正确日期，或勾选撤销。"))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "milestone": data["milestone"],
            "actual_date": None if data["withdraw"] else data["actual_date"],
            "credit_code": data["credit_code"],
            "reason": data["reason"],
            "evidence": self.evidence_pairs(),
        }


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m")


class ProgressForm(forms.Form):
    """Monthly investment progress (月度投资进度): figures to date."""

    month = forms.DateField(
        label=_("月份"), widget=MonthInput(), input_formats=["%Y-%m", "%Y-%m-%d"]
    )
    agreed_investment = forms.DecimalField(label=_("协议投资(万元)"), **_MONEY)
    paid_in = forms.DecimalField(label=_("实缴/到位资金(万元)"), **_MONEY)
    fixed_asset_investment = forms.DecimalField(label=_("累计完成固定资产投资(万元)"), **_MONEY)
    arrived_fdi = forms.DecimalField(
        label=_("累计到账外资(万美元)"), required=False, initial=0, **_MONEY
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=500)
    # When the form was opened: a month amended by someone else since then is not silently
    # overwritten (two officers often report the same project's month).
    opened_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("month", today().replace(day=1))
        initial.setdefault("opened_at", timezone.now().isoformat())
        super().__init__(*args, **kwargs)

    def reopen(self) -> None:
        """After a refused stale save: the officer has now seen the newer figures."""
        self.data = self.data.copy()
        self.data["opened_at"] = timezone.now().isoformat()

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("opened_at", None)
        data["arrived_fdi"] = data["arrived_fdi"] or 0
        return data


class ProjectFilterForm(forms.Form):
    """The project list's stage and size checkboxes, search box and 总投资截至 date
    (ProjectFilter filters ``stage`` and ``q``; ``size`` and ``investment_as_of`` are read by
    projects.selectors.project_list_for)."""

    stage = forms.MultipleChoiceField(
        label=_("阶段"), choices=Stage.choices, required=False, widget=PlainCheckboxes
    )
    size = forms.MultipleChoiceField(
        label=_("规模"),
        choices=SizeClass.choices,
        required=False,
        widget=PlainCheckboxes,
    )
    q = forms.CharField(label=_("搜索项目或投资方名称"), max_length=100, required=False)
    # The cockpit's 新开工项目总投资 links here with its period's end: the 总投资 column and
    # total then leave out capital increases (增资) dated after it, as the figure does.
    investment_as_of = forms.DateField(
        label=_("总投资截至"),
        required=False,
        widget=DateInput(),
        help_text=_("按该日及以前的增资计算总投资；不填为当前总投资。"),
    )


class ProblemForm(OnceForm):
    """Raise a problem (马上办) on behalf of an investor; saved once however often it is sent."""

    kind = forms.ChoiceField(label=_("问题类型"), choices=ProblemKind.choices)
    title = forms.CharField(label=_("问题"), max_length=200)
    description = forms.CharField(
        label=_("详细情况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    investor_contact = forms.CharField(label=_("企业反映人"), max_length=100, required=False)
    owner_unit = forms.ModelChoiceField(label=_("承办单位"), queryset=Unit.objects.none())
    due_on = forms.DateField(label=_("办结期限"), widget=DateInput())

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_unit"].queryset = units

    def service_kwargs(self) -> dict:
        """What ``problem_raise`` takes: the fields without the submission key."""
        return {name: value for name, value in self.cleaned_data.items() if name != "submission"}


class AskAgainForm(forms.Form):
    note = forms.CharField(label=_("企业再次反映的情况"), required=False, max_length=500)


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("办理结果"), widget=forms.Textarea(attrs={"rows": 3}))
    resolved_on = forms.DateField(label=_("办结日期"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("resolved_on", today())
        super().__init__(*args, **kwargs)


class VersionedForm(forms.Form):
    """An edit form that remembers which version of the record it was opened on.

    Two officers may edit the same project from phone and laptop; the later save must not
    silently overwrite the earlier one. The record's ``updated_at`` rides along hidden and
    a save is refused when the record has changed since.
    """

    updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, record, **kwargs):
        kwargs.setdefault("initial", {})["updated_at"] = record.updated_at.isoformat()
        super().__init__(*args, **kwargs)

    def is_stale(self, record) -> bool:
        raw = (self.data.get(self.add_prefix("updated_at")) or "").strip()
        try:
            seen = datetime.fromisoformat(raw)
        except ValueError:
            return True
        return seen != record.updated_at

    def reopen(self, record) -> None:
        """After a refused stale save: the officer now sees the current version."""
        self.data = self.data.copy()
        self.data[self.add_prefix("updated_at")] = record.updated_at.isoformat()


class PlanForm(VersionedForm):
    """Reschedule the planned milestones (调整倒排节点), with a reason."""

    groundbreaking_planned = forms.DateField(
        label=_("计划开工"), required=False, widget=DateInput()
    )
    completed_planned = forms.DateField(label=_("计划竣工"), required=False, widget=DateInput())
    producing_planned = forms.DateField(label=_("计划投产"), required=False, widget=DateInput())
    registered_planned = forms.DateField(label=_("计划注册"), required=False, widget=DateInput())
    land_granted_planned = forms.DateField(label=_("计划供地"), required=False, widget=DateInput())
    in_statistics_planned = forms.DateField(label=_("计划入统"), required=False, widget=DateInput())
    above_size_planned = forms.DateField(label=_("计划入规"), required=False, widget=DateInput())
    reason = forms.CharField(label=_("调整原因"), max_length=500)

    def __init__(self, *args, record, **kwargs):
        initial = kwargs.setdefault("initial", {})
        for name in (
            "groundbreaking_planned",
            "completed_planned",
            "producing_planned",
            *(f"{milestone}_planned" for milestone in MILESTONE_ORDER),
        ):
            initial.setdefault(name, getattr(record, name))
        super().__init__(*args, record=record, **kwargs)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("updated_at", None)
        data["milestones_planned"] = {
            milestone: data.pop(f"{milestone}_planned") for milestone in MILESTONE_ORDER
        }
        return data


class FiguresForm(VersionedForm):
    """Correct a project's reported figures (修正项目数据); every change keeps who and why."""

    FIELDS = (
        "signed_investment",
        "registered_capital",
        "contracted_fdi",
        "land_area",
        "annual_output_value",
        "annual_tax",
        "jobs",
    )

    signed_investment = forms.DecimalField(label=_("签约总投资(万元)"), **_MONEY)
    registered_capital = forms.DecimalField(label=_("注册资本(万元)"), **_MONEY)
    contracted_fdi = forms.DecimalField(label=_("合同外资(万美元)"), **_MONEY)
    land_area = forms.DecimalField(
        label=_("用地(亩)"), max_digits=10, decimal_places=2, min_value=0
    )
    annual_output_value = forms.DecimalField(label=_("年产值(万元)"), **_MONEY)
    annual_tax = forms.DecimalField(label=_("年税收(万元)"), **_MONEY)
    jobs = forms.IntegerField(label=_("用工人数"), min_value=0)
    reason = forms.CharField(label=_("修改原因"), max_length=500)

    def __init__(self, *args, record, **kwargs):
        initial = kwargs.setdefault("initial", {})
        for name in self.FIELDS:
            initial.setdefault(name, getattr(record, name))
        super().__init__(*args, record=record, **kwargs)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("updated_at", None)
        return data


class EvidenceAttachForm(OnceForm):
    """Add a file to a stage change or a milestone already recorded (补充佐证材料), e.g. a
    permit issued later; a double tap attaches it once."""

    kind = forms.ChoiceField(label=_("佐证材料类型"), choices=[("", "—"), *EvidenceKind.choices])
    file = forms.FileField(
        label=_("文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        help_text=_("PDF、JPEG 或 PNG。"),
    )


# --- aftercare (亲商服务) ---------------------------------------------------------------------


class EnvoyForm(forms.Form):
    """Name a producing enterprise's service envoy (企业服务专员) and its 服务绿卡 mark."""

    service_envoy = forms.ModelChoiceField(
        label=_("企业服务专员"), queryset=Officer.objects.none(), required=False
    )
    green_card = forms.BooleanField(
        label=_("服务绿卡"),
        required=False,
        help_text=_("绿卡企业每月走访一次，其他投产企业按默认周期走访。"),
    )

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_envoy"].queryset = officers


class ServiceVisitForm(OnceForm):
    """A service visit's structured answers (企业服务走访); saved once however often it is sent."""

    visited_on = forms.DateField(label=_("走访日期"), widget=DateInput())
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        help_text=_("5 分最满意，1 分最不满意。"),
    )
    employment = forms.IntegerField(label=_("现有用工人数"), min_value=0)
    has_expansion_plan = forms.TypedChoiceField(
        label=_("有增资扩产计划"),
        coerce=lambda value: value == "yes",
        choices=[("no", _("否")), ("yes", _("是"))],
        widget=forms.RadioSelect,
        initial="no",
    )
    expansion_amount = forms.DecimalField(
        label=_("计划增资(万元)"),
        required=False,
        help_text=_("有计划时必填：将登记一条“增资扩产”项目信息。"),
        **_MONEY,
    )
    expansion_description = forms.CharField(
        label=_("增资扩产内容"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    problem_title = forms.CharField(
        label=_("企业反映的问题"),
        max_length=200,
        required=False,
        help_text=_("填写后转入马上办，您是首问责任人。"),
    )
    problem_kind = forms.ChoiceField(
        label=_("问题类型"), choices=[("", "—"), *ProblemKind.choices], required=False
    )
    problem_owner_unit = forms.ModelChoiceField(
        label=_("承办单位"), queryset=Unit.objects.none(), required=False
    )
    problem_due_on = forms.DateField(label=_("办结期限"), required=False, widget=DateInput())
    notes = forms.CharField(
        label=_("走访情况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, units, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("visited_on", today())
        super().__init__(*args, **kwargs)
        self.fields["problem_owner_unit"].queryset = units

    def service_kwargs(self) -> dict:
        """What ``service_visit_log`` takes: the fields without the submission key."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "submission"}
        data["expansion_amount"] = data.get("expansion_amount") or 0
        return data
