"""Forms of the leads pages: log a visit (with an inline new investor), search, status actions.

Forms only shape input; every rule is the services' (a refusal comes back as a DomainError
and is shown next to its field by ``promo.core.forms.add_domain_error``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leads.choices import (
    ChainRole,
    ClaimOutcome,
    LeadStatus,
    RejectReason,
    SourceChannel,
    VisitKind,
)
from leads.models import Intermediary, Investor, Lead
from officers.models import Officer
from promo.core.choices import Industry
from promo.core.masking import mask
from promo.core.services import today
from promo.core.submissions import OnceForm


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class LeadChoiceField(forms.ModelChoiceField):
    """A lead <select> whose options carry their investor, so the page can narrow them."""

    def label_from_instance(self, obj: Lead) -> str:
        return f"{obj.name}（{obj.get_status_display()}）"


class LeadSelect(forms.Select):
    investor_of: dict[str, int] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        investor_id = self.investor_of.get(str(getattr(value, "value", value)))
        if investor_id:
            option["attrs"]["data-investor"] = str(investor_id)
        return option


class OfficersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Officer) -> str:
        return obj.display_name


class VisitForm(OnceForm):
    """Log a visit (登记走访): an existing investor, or a new one registered on the spot."""

    kind = forms.ChoiceField(label=_("类型"), choices=VisitKind.choices)
    visited_on = forms.DateField(label=_("日期"), widget=DateInput())
    investor = forms.ModelChoiceField(
        label=_("客商"),
        queryset=Investor.objects.none(),
        required=False,
        empty_label=_("— 选择已有客商 —"),
        help_text=_("输入名称搜索；没有的话在下面登记新客商。"),
    )
    new_investor_name = forms.CharField(
        label=_("新客商名称"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"data-clears": "id_investor"}),
    )
    new_investor_name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    new_investor_credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=30, required=False
    )
    new_investor_industry = forms.ChoiceField(
        label=_("行业"), choices=[("", "—"), *Industry.choices], required=False
    )
    use_candidate = forms.TypedChoiceField(
        label=_("选用已有客商"), coerce=int, required=False, widget=forms.RadioSelect
    )
    confirm_distinct = forms.BooleanField(label=_("确认是不同的客商，仍然新建"), required=False)
    officers = OfficersField(
        label=_("同行人员"),
        queryset=Officer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lead = LeadChoiceField(
        label=_("推进的项目信息"),
        queryset=Lead.objects.none(),
        required=False,
        empty_label=_("— 不关联 —"),
    )
    city = forms.CharField(label=_("城市"), max_length=50, required=False)
    summary = forms.CharField(label=_("洽谈内容"), widget=forms.Textarea(attrs={"rows": 4}))
    next_step = forms.CharField(label=_("下一步"), max_length=300, required=False)
    next_step_due = forms.DateField(label=_("下一步期限"), required=False, widget=DateInput())

    def __init__(self, *args, investors, officers, leads, candidates=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("visited_on", today())
        super().__init__(*args, **kwargs)
        self.fields["investor"].queryset = investors
        self.fields["officers"].queryset = officers
        lead_field = self.fields["lead"]
        lead_field.queryset = leads
        widget = LeadSelect()
        widget.choices = lead_field.choices
        widget.investor_of = {str(pk): inv for pk, inv in leads.values_list("pk", "investor_id")}
        widget.attrs["data-filter-by"] = "id_investor"
        lead_field.widget = widget
        self.set_candidates(candidates)

    # Quick choices for the next step's due date: one tap instead of a phone's date picker
    # (open, pick a day, confirm), so a visit with a next step fits in six taps (issue #15).
    DUE_CHOICES = ((1, _("明天")), (3, _("三天后")), (7, _("一周后")), (14, _("两周后")))

    def due_choices(self) -> list[tuple[date, str]]:
        """The quick due dates counted from today in the bureau's zone (never the server's)."""
        start = today()
        return [(start + timedelta(days=days), str(label)) for days, label in self.DUE_CHOICES]

    def set_candidates(self, candidates) -> None:
        """Offer the likely duplicates the service found (客商查重) as a choice."""
        self.candidates = list(candidates)
        # Only an investor the officer may see can be picked; another unit's match is shown
        # (name, holding unit, since when) in ``held_candidates`` and cannot be used.
        self.fields["use_candidate"].choices = [
            (c["id"], f"{c['name']}（{c['unit']}）") for c in self.candidates if c.get("selectable")
        ]
        self.held_candidates = [c for c in self.candidates if not c.get("selectable")]

    def clean(self):
        data = super().clean()
        has_new = bool((data.get("new_investor_name") or "").strip())
        if not data.get("investor") and not has_new and not data.get("use_candidate"):
            self.add_error("investor", _("请选择客商，或登记新客商。"))
        if has_new and data.get("investor"):
            # The search picked an investor, then the officer typed a new one's name: which
            # one is meant is not ours to guess (issue #15: it went to the picked one, silently).
            self.add_error(
                "new_investor_name",
                _(
                    "已选择客商“%(name)s”，又填写了新客商名称。请清空其中一项："
                    "记到已选客商，还是登记新客商？"
                )
                % {"name": data["investor"].name},
            )
        picked = data.get("investor") or data.get("use_candidate")
        if has_new and not picked and not data.get("new_investor_industry"):
            # Not when the officer chose the known investor the duplicate check offered: no
            # new investor is made then (the phone walk of issue #15 stalled here).
            self.add_error("new_investor_industry", _("新客商须选择行业。"))
        return data


class LeadSearchForm(forms.Form):
    """The search box, "only mine" and the sort beside the LeadFilter (which filters ``q``)."""

    SORTS = {
        "-created": ("-created_at", "-id"),
        "stale": ("last_activity_on", "id"),
        "-amount": ("-estimated_amount", "-id"),
        "name": ("name", "id"),
    }

    q = forms.CharField(label=_("搜索项目或投资方名称"), max_length=100, required=False)
    mine = forms.BooleanField(label=_("只看我的"), required=False)
    sort = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[
            ("-created", _("最新登记")),
            ("stale", _("最久未跟进")),
            ("-amount", _("投资额从高到低")),
            ("name", _("名称")),
        ],
    )


class DropForm(forms.Form):
    reason = forms.CharField(label=_("放弃原因"), widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=_("备注"), required=False, max_length=500)


class RejectForm(forms.Form):
    reject_reason = forms.ChoiceField(
        label=_("否决原因"), choices=[("", "—"), *RejectReason.choices]
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=500)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("备注"), required=False, max_length=500)


# The status actions a lead page offers, in the order shown; "sign" opens the project form.
LEAD_ACTIONS = (
    ("qualify", LeadStatus.VALID, _("确认有效"), NoteForm),
    ("negotiate", LeadStatus.NEGOTIATING, _("进入洽谈"), NoteForm),
    ("drop", LeadStatus.DROPPED, _("放弃"), DropForm),
    ("reject", LeadStatus.REJECTED, _("否决"), RejectForm),
)


class LeadForm(OnceForm):
    """Register a lead (登记项目信息) for an investor the officer may see; saved once however
    often it is sent (promo.core.submissions)."""

    investor = forms.ModelChoiceField(label=_("投资方"), queryset=Investor.objects.none())
    name = forms.CharField(label=_("项目名称"), max_length=200)
    # No choice is made for the officer (issue #15): the first entry of a list, selected
    # by default, was saved unnoticed as 电子信息 / 建链 and counted in the industry chain
    # figures. Starting from an investor, its recorded industry is filled in, visibly.
    industry = forms.ChoiceField(
        label=_("行业"),
        choices=[("", "—"), *Industry.choices],
        error_messages={"required": _("请选择行业。")},
    )
    chain_role = forms.ChoiceField(
        label=_("产业链定位"),
        choices=[("", "—"), *ChainRole.choices],
        error_messages={"required": _("请选择产业链定位。")},
    )
    source_channel = forms.ChoiceField(
        label=_("信息来源"),
        choices=[("", "—"), *SourceChannel.choices],
        error_messages={"required": _("请选择信息来源。")},
    )
    intermediary = forms.ModelChoiceField(
        label=_("中介人"), queryset=Intermediary.objects.none(), required=False
    )
    estimated_amount = forms.DecimalField(
        label=_("预计总投资(万元)"), max_digits=14, decimal_places=2, min_value=0, initial=0
    )
    estimated_fdi = forms.DecimalField(
        label=_("预计外资(万美元)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        initial=0,
        required=False,
    )
    first_contact_on = forms.DateField(label=_("首次接触日期"), required=False, widget=DateInput())
    description = forms.CharField(
        label=_("项目概况"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    # Same-unit duplicates (decision 0013): a checkbox that carries the id of the unit's lead
    # the refusal named; shown only once the service has named one (or it was posted back).
    confirm_duplicate = forms.TypedMultipleChoiceField(
        label=_("确认登记"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, investors, intermediaries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["investor"].queryset = investors
        self.fields["intermediary"].queryset = intermediaries
        self.holders: list = []
        self.same_unit_lead = None
        posted = self.data.getlist("confirm_duplicate") if hasattr(self.data, "getlist") else []
        named = [value for value in posted if str(value).isdigit()][:1]
        if named:
            # Valid as posted: whether it names the right lead is the service's question.
            self.fields["confirm_duplicate"].choices = [(named[0], _("确属另一个项目，仍要登记"))]
        else:
            del self.fields["confirm_duplicate"]

    def confirmed_duplicate(self) -> int | None:
        """The lead id the officer confirmed registering beside, if any."""
        values = self.cleaned_data.get("confirm_duplicate") or []
        return values[0] if values else None

    def offer_duplicate_confirmation(self, lead) -> None:
        """After a refusal naming ``lead``: show it and a checkbox that confirms beside it."""
        self.same_unit_lead = lead
        field = forms.TypedMultipleChoiceField(
            label=_("确认登记"),
            coerce=int,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            choices=[
                (
                    lead.pk,
                    _("本单位已有“%(name)s”（编号 %(pk)s），确属另一个项目，仍要登记")
                    % {"name": lead.name, "pk": lead.pk},
                )
            ],
        )
        self.fields["confirm_duplicate"] = field
        self._bound_fields_cache.pop("confirm_duplicate", None)


class ClaimFileForm(forms.Form):
    """File a claim (提出撞单协调) on another unit's lead: why this unit should follow it."""

    reason = forms.CharField(
        label=_("申请理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ClaimDecideForm(forms.Form):
    """A unit head's (or a chief's) decision on a claim (撞单协调)."""

    outcome = forms.ChoiceField(label=_("协调意见"), choices=[("", "—"), *ClaimOutcome.choices])
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class ContactForm(OnceForm):
    """Add or change an investor's contact (联系人); ``leads.services.contact_add`` and
    ``contact_update`` check the phone and e-mail and say what is wrong next to the field."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    title = forms.CharField(label=_("职务"), max_length=50, required=False)
    phone = forms.CharField(
        label=_("电话"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    # Plain text: the service checks the address, so the message is the same on the page
    # and in the API.
    email = forms.CharField(
        label=_("邮箱"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )
    wechat = forms.CharField(label=_("微信"), max_length=50, required=False)
    note = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_primary = forms.BooleanField(label=_("主要联系人"), required=False)

    # Set when the form was shown holding the current values (after a reveal): a field left
    # blank then clears the value. Otherwise the personal-data fields are shown blank, with
    # the masked value as a hint, and a blank one keeps the value (issue #16).
    revealed = forms.BooleanField(widget=forms.HiddenInput, required=False)

    FIELDS = ("name", "title", "phone", "email", "wechat", "note", "is_primary")
    PERSONAL = ("phone", "email", "wechat")

    @classmethod
    def for_contact(cls, contact: Any, *, revealed: bool, **kwargs: Any) -> ContactForm:
        """The edit form of ``contact``: its values, the personal data only when revealed."""
        initial = {
            name: getattr(contact, name)
            for name in cls.FIELDS
            if revealed or name not in cls.PERSONAL
        }
        initial["revealed"] = revealed
        form = cls(initial=initial, **kwargs)
        if not revealed:
            for name in cls.PERSONAL:
                current = getattr(contact, name)
                if current:
                    form.fields[name].widget.attrs["placeholder"] = mask(current, name)
                    form.fields[name].help_text = _("留空则保持不变。")
        return form

    def values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in self.FIELDS}
        if self.is_bound and not self.cleaned_data.get("revealed"):
            for name in self.PERSONAL:
                if not values[name]:
                    values.pop(name)  # shown blank: kept as it is
        return values


class ReferrerFeedbackForm(OnceForm):
    """Record feedback to the referrer (反馈引荐人): what whoever brought the lead was told."""

    note = forms.CharField(
        label=_("反馈内容"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("例如：已电话告知引荐人项目进展。登记时间即为反馈时间，登记后不能修改。"),
    )
