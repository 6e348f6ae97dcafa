"""Blank ledgers to fill in (台账模板): one XLSX per import kind, read back by the importer as is.

The first sheet has one header per column the importer knows (its first name in
``parsing.FIELD_ALIASES``; a required column marked ``*``, an amount with its unit in
brackets, both of which the importer ignores when it matches headers), lists to pick from for
the columns that take a choice, and no rows. The second sheet says, in the officer's language,
what each column takes. tests/imports/test_ledger_templates.py fills a template in and imports
it.
"""

from __future__ import annotations

import io

from django.db.models import Choices
from django.utils import translation
from django.utils.translation import gettext as _

from leads.choices import ChainRole, SourceChannel, VisitKind
from promo.agreements.choices import AgreementKind, ClawbackRule, Metric
from promo.core.choices import Industry, Region

from . import parsing
from .choices import ImportKind

# Never in a blank ledger: the system ids (written by an export, for updating existing
# records), a lead's status and a commitment's waiver (read only to compare; they move by
# the record's own actions).
_LEFT_OUT = frozenset({"promo_id", "project_id", "status", "waived_reason"})

CHOICES: dict[str, type[Choices]] = {
    "industry": Industry,
    "region": Region,
    "kind": VisitKind,
    "source_channel": SourceChannel,
    "chain_role": ChainRole,
    "agreement_kind": AgreementKind,
    "clawback_rule": ClawbackRule,
    "metric": Metric,
}

# The unit an amount column is written in, shown in its header's brackets.
_AMOUNT_UNITS = {
    "estimated_fdi": "万美元",
    "contracted_fdi": "万美元",
    "land_area": "亩",
    # A commitment's target is in its metric's unit (万元, 亩, 人).
    "target": "按承诺事项的单位",
}

# How many rows get the pick lists (a ledger longer than this still imports; only the
# drop-downs stop there).
VALIDATED_ROWS = 2000


def template_fields(kind: str) -> list[str]:
    """The importer's fields of ``kind``, in its order, that a blank ledger offers."""
    return [name for name in parsing.FIELD_ALIASES[kind] if name not in _LEFT_OUT]


def template_header(kind: str, name: str) -> str:
    """A column's header: the importer's first name for it, its unit, ``*`` when required."""
    header = parsing.FIELD_ALIASES[kind][name][0]
    if name in parsing.AMOUNT_FIELDS:
        header += f"({_AMOUNT_UNITS.get(name, '万元')})"
    if name in parsing.REQUIRED_FIELDS[kind]:
        header += "*"
    return header


def _what_to_write(kind: str, name: str) -> str:
    if name in CHOICES:
        with translation.override("zh-hans"):
            labels = "、".join(str(choice.label) for choice in CHOICES[name])
        return _("从下拉列表中选择：%(labels)s") % {"labels": labels}
    if name == "due_on":
        return _("日期，如 2028-12-31，可晚于今天；不早于协议签订日期")
    if name in parsing.DATE_FIELDS:
        return _("日期，如 2026-03-18 或 2026年3月18日，不晚于今天")
    if name == "target":
        return _(
            "数字，按承诺事项的单位填写（金额以万元为单位，用地以亩为单位，用工以人为单位）；"
            "按期开工、竣工、投产不填"
        )
    if name in parsing.AMOUNT_FIELDS:
        unit = _AMOUNT_UNITS.get(name, "万元")
        if unit == "万元":
            return _("金额，以万元为单位；也可写“1.2亿元”")
        return _("数字，以%(unit)s为单位") % {"unit": unit}
    if kind == ImportKind.AGREEMENT_TERMS and name in ("investor", "credit_code", "unit"):
        return _("用于确定项目（同名项目有多个时填写）；导入不会新建客商或项目")
    if name == "credit_code":
        return _("18 位统一社会信用代码；填写后按代码匹配已有客商")
    if name == "investor":
        return _("投资方（客商）全称；已有客商按名称或信用代码匹配，否则新建")
    if name == "unit":
        return _("责任单位名称；不填则为上传时选择的单位")
    if name == "lead":
        return _("该客商已有的项目信息名称；不填则不关联")
    if name == "external_id":
        return _("原台账中的编号；再次导入同一编号时更新该记录")
    if name == "project":
        return _("系统中已有的项目名称（导入不会新建项目）；同名项目有多个时请同时填写投资方")
    if name == "title":
        return _("协议名称；同一项目、同一协议名称和签订日期的各行属于同一份协议")
    if name == "agreement_external_id":
        return _("原台账中协议的编号；同一编号的各行属于同一份协议")
    if name == "parties":
        return _("签约各方，如“甲方：某区人民政府；乙方：某公司”")
    return _("文字")


def ledger_template(kind: str) -> bytes:
    """The blank ledger of ``kind`` as XLSX bytes."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    fields = template_fields(kind)
    book = openpyxl.Workbook()
    data = book.active
    data.title = str(ImportKind(kind).label)[:31]
    lists = book.create_sheet("选项")
    notes = book.create_sheet(_("填写说明")[:31])

    data.append([template_header(kind, name) for name in fields])
    for cell in data[1]:
        cell.font = Font(bold=True)
    data.freeze_panes = "A2"
    list_column = 0
    for index, name in enumerate(fields, start=1):
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = max(12, 2 * len(template_header(kind, name)) + 4)
        if name not in CHOICES:
            continue
        # The pick list reads its labels (Chinese, as the importer matches them) from a
        # hidden sheet: a list written into the rule itself is limited to 255 characters.
        list_column += 1
        list_letter = get_column_letter(list_column)
        with translation.override("zh-hans"):
            labels = [str(choice.label) for choice in CHOICES[name]]
        for row, label in enumerate(labels, start=1):
            lists.cell(row=row, column=list_column, value=label)
        rule = DataValidation(
            type="list",
            formula1=f"'选项'!${list_letter}$1:${list_letter}${len(labels)}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("不在可选范围内"),
            error=_("请从下拉列表中选择。"),
        )
        rule.add(f"{letter}2:{letter}{VALIDATED_ROWS + 1}")
        data.add_data_validation(rule)
    lists.sheet_state = "hidden"

    notes.append([_("列名"), _("必填"), _("填写要求")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for name in fields:
        notes.append(
            [
                template_header(kind, name),
                _("是") if name in parsing.REQUIRED_FIELDS[kind] else "",
                _what_to_write(kind, name),
            ]
        )
    notes.append([])
    notes.append(
        [_("第一行是表头，请勿修改；每行一条记录。上传后先预检，确认之前不会写入任何数据。")]
    )
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 8
    notes.column_dimensions["C"].width = 80

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
