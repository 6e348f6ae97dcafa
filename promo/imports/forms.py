"""Forms of the imports app: the upload and the confirmation of a dry run."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import ImportKind


class UploadForm(forms.Form):
    # No default: a 项目台账 sent as 客商名录 (the first choice) is checked as the wrong thing.
    kind = forms.ChoiceField(
        label=_("数据类型"),
        choices=[("", _("请选择数据类型")), *ImportKind.choices],
        error_messages={"required": _("请选择文件中是哪一类数据（如项目台账）。")},
    )
    unit = forms.ModelChoiceField(label=_("单位"), queryset=None, required=False)
    sheet_name = forms.CharField(
        label=_("工作表名称"),
        required=False,
        max_length=100,
        help_text=_("留空则自动选择有可识别表头的工作表。"),
    )
    file = forms.FileField(label=_("台账文件（.xlsx 或 .csv）"))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["unit"].empty_label = _("本人所在单位")


class ConfirmForm(forms.Form):
    confirm_distinct = forms.BooleanField(
        label=_("我已核对疑似重复的客商，确认为不同企业"), required=False
    )
