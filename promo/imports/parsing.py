"""Reading ledgers (台账) as they really are: XLSX or CSV, UTF-8 or GB18030, messy headers.

Everything here is pure (bytes in, rows out) so it can be tested without a database.
Every refusal is a ``FileRefused`` with a message an officer can act on.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Choices
from django.utils.translation import gettext_lazy as _

from promo.core.errors import RuleViolation
from promo.core.exports import FORMULA_STARTS

from .choices import ImportKind

# How many rows at the top may hold a title ("2023年招商项目台账") before the header row.
HEADER_SEARCH_ROWS = 10


class FileRefused(RuleViolation):
    """The file as a whole cannot be read; nothing was checked or written."""

    code = "import_file_refused"


class CellError(ValueError):
    """One cell cannot be understood; the message is shown with its row and column."""


# --- columns ---------------------------------------------------------------------------

_ID = ("系统编号", "promo编号")
_EXTERNAL = ("外部编号", "编号", "客商编号", "项目编号", "台账编号", "id")
_INVESTOR = ("投资方", "投资方名称", "客商名称", "客商", "企业名称", "公司名称", "投资主体")
_CREDIT = ("统一社会信用代码", "信用代码", "社会信用代码", "统一代码")
_UNIT = ("责任单位", "登记单位", "单位", "招商单位", "牵头单位", "所属单位")

FIELD_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.INVESTORS: {
        "promo_id": _ID,
        "external_id": _EXTERNAL,
        "name": _INVESTOR,
        "name_en": ("英文名称", "英文名"),
        "credit_code": _CREDIT,
        "industry": ("行业", "所属行业", "产业", "行业类别"),
        "region": ("国别/地区", "国别地区", "国别", "地区", "来源地"),
        "province_or_country": ("省份/国家", "省份", "国家"),
        "city": ("城市", "所在城市"),
        "contact_name": ("联系人", "联系人姓名"),
        "contact_phone": ("联系电话", "电话", "手机", "联系方式"),
        "notes": ("备注", "说明"),
        "unit": _UNIT,
    },
    ImportKind.LEADS: {
        "promo_id": _ID,
        "external_id": _EXTERNAL,
        "name": ("项目名称", "项目"),
        "investor": _INVESTOR,
        "credit_code": _CREDIT,
        "industry": ("行业", "所属行业", "产业", "行业类别"),
        "estimated_amount": ("总投资", "预计总投资", "计划总投资", "投资额", "投资总额"),
        "estimated_fdi": ("预计外资", "外资", "利用外资"),
        "source_channel": ("信息来源", "来源", "来源渠道"),
        "chain_role": ("产业链定位", "链条定位"),
        "description": ("项目概况", "项目简介", "项目内容", "建设内容"),
        "first_contact_on": ("首次接触日期", "首次接触时间", "登记日期"),
        # Read only to compare: a status moves through the lead's own actions, never an import.
        "status": ("状态", "项目状态", "跟进状态"),
        "unit": _UNIT,
    },
    ImportKind.VISITS: {
        "promo_id": _ID,
        "external_id": _EXTERNAL,
        "visited_on": ("走访日期", "走访时间", "拜访日期", "日期", "时间"),
        "kind": ("走访类型", "类型", "方式", "走访方式"),
        "investor": _INVESTOR,
        "credit_code": _CREDIT,
        "lead": ("项目名称", "项目"),
        "city": ("城市", "走访城市", "地点"),
        "summary": ("洽谈内容", "走访内容", "内容", "洽谈情况", "主要内容"),
        "next_step": ("下一步", "下一步工作", "后续安排"),
        "next_step_due": ("下一步期限", "期限"),
        "unit": _UNIT,
    },
    ImportKind.PROJECTS: {
        "promo_id": _ID,
        "external_id": _EXTERNAL,
        "name": ("项目名称", "项目"),
        "investor": _INVESTOR,
        "credit_code": _CREDIT,
        "industry": ("行业", "所属行业", "产业", "行业类别"),
        "contract_date": ("签约时间", "签约日期"),
        "total_investment": ("总投资", "签约总投资", "计划总投资", "投资总额", "协议投资"),
        "registered_capital": ("注册资本",),
        "contracted_fdi": ("合同外资",),
        "land_area": ("用地", "用地面积", "土地面积"),
        "park_name": ("落户园区", "园区", "所在园区"),
        "description": ("建设内容", "项目概况", "项目简介"),
        "groundbreaking_planned": ("计划开工", "计划开工时间", "计划开工日期"),
        "completed_planned": ("计划竣工", "计划竣工时间", "计划竣工日期"),
        "producing_planned": ("计划投产", "计划投产时间", "计划投产日期"),
        "groundbreaking_actual": ("开工时间", "开工日期", "实际开工", "实际开工时间"),
        "completed_actual": ("竣工时间", "竣工日期", "实际竣工", "实际竣工时间"),
        "producing_actual": ("投产时间", "投产日期", "实际投产", "实际投产时间"),
        "unit": _UNIT,
    },
    # One row per investor commitment (投资方承诺), as the 协议履约台账 export writes it; rows
    # naming the same agreement (project + title + signing date, or 协议编号) share it.
    ImportKind.AGREEMENT_TERMS: {
        # The commitment's system id, written by the export, for updating it.
        "promo_id": _ID,
        "external_id": ("承诺编号", "外部编号", "台账编号", "编号", "id"),
        "agreement_external_id": ("协议编号", "协议外部编号"),
        "project_id": ("项目系统编号",),
        "project": ("项目名称", "项目"),
        "investor": _INVESTOR,
        "credit_code": _CREDIT,
        "unit": _UNIT,
        "title": ("协议名称", "协议"),
        "agreement_kind": ("协议类型", "协议种类"),
        "signed_on": ("签订日期", "协议签订日期", "签署日期"),
        "parties": ("签约各方", "签约方", "协议各方", "签约主体"),
        "clawback_rule": ("追回规则", "追回方式", "追回条款"),
        "metric": ("承诺事项", "承诺指标", "考核指标", "指标"),
        "target": ("承诺值", "承诺目标", "目标值", "承诺数值"),
        "due_on": ("承诺期限", "完成期限", "期限", "到期日期"),
        # Read only to compare: a waiver is the unit head's decision, never an import's.
        "waived_reason": ("豁免理由",),
    },
}

# The fields a file must have for each kind (besides what a saved mapping adds).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    ImportKind.INVESTORS: ("name",),
    ImportKind.LEADS: ("name", "investor"),
    ImportKind.VISITS: ("visited_on", "investor", "summary"),
    ImportKind.PROJECTS: ("name", "investor", "contract_date", "total_investment"),
    ImportKind.AGREEMENT_TERMS: ("project", "title", "signed_on", "metric", "due_on"),
}

DATE_FIELDS = frozenset(
    {
        "first_contact_on",
        "visited_on",
        "next_step_due",
        "contract_date",
        "groundbreaking_planned",
        "completed_planned",
        "producing_planned",
        "groundbreaking_actual",
        "completed_actual",
        "producing_actual",
        "signed_on",
        "due_on",
    }
)
AMOUNT_FIELDS = frozenset(
    {
        "estimated_amount",
        "estimated_fdi",
        "total_investment",
        "registered_capital",
        "contracted_fdi",
        "land_area",
        "target",
    }
)

_BRACKETS = re.compile(r"[(\[【（][^)\]】）]*[)\]】）]")
_SPACES = re.compile(r"[\s*＊:：]+")


def normalize_header(text: Any) -> str:
    """ "总投资（万元）", " 总 投 资(万元) *" and "总投资" all compare as "总投资"."""
    value = unicodedata.normalize("NFKC", str(text if text is not None else "")).lower()
    value = _BRACKETS.sub("", value)
    return _SPACES.sub("", value)


def header_unit(text: Any) -> str:
    """The unit written in a header's brackets: "总投资(亿元)" → "亿元"."""
    value = unicodedata.normalize("NFKC", str(text or ""))
    found = re.search(r"[(\[【]([^)\]】]*)[)\]】]", value)
    return found.group(1).strip() if found else ""


def guess_columns(headers: list[str], kind: str, saved: dict[str, str] | None = None) -> dict:
    """{column index: field} from a unit's saved mapping first, then the known aliases."""
    aliases = {
        normalize_header(alias): name
        for name, names in FIELD_ALIASES[kind].items()
        for alias in names
    }
    saved = saved or {}
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        key = normalize_header(header)
        if not key:
            continue
        name = saved[key] if key in saved else aliases.get(key)
        if name and name not in taken and name in FIELD_ALIASES[kind]:
            mapping[index] = name
            taken.add(name)
    return mapping


# --- values ----------------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def parse_date(value: Any) -> date | None:
    """2023-05-06, 2023/5/6, 2023.5.6, 2023年5月6日, 20230506, 45052 (Excel serial), a date cell."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    text = _DATE_TIME_TAIL.sub("", text).strip()
    found = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if found:
        try:
            return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        except ValueError as exc:
            raise CellError(_("“%(text)s”不是存在的日期。") % {"text": text}) from exc
    if re.fullmatch(r"\d{4,5}(\.\d+)?", text):
        return _from_serial(float(text))
    raise CellError(
        _("无法识别日期“%(text)s”，请写成 2023-05-06 或 2023年5月6日。") % {"text": text}
    )


def _from_serial(serial: float) -> date:
    # Excel serials: 1 = 1900-01-01 (with Excel's 1900 leap-year bug, hence the 1899-12-30
    # epoch); anything outside 1950..2100 is more likely a typo than a date.
    if not 18264 <= serial <= 73051:
        raise CellError(_("数字 %(n)s 不像日期，请写成 2023-05-06。") % {"n": _plain(serial)})
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


_AMOUNT_UNITS = (("亿元", Decimal("10000")), ("万元", Decimal("1")), ("亿", Decimal("10000")))


def parse_amount(value: Any, *, column_unit: str = "") -> Decimal | None:
    """ "1,200", "1200万元", "1.2亿元", 1200 → Decimal in 万元; negatives refused."""
    if value is None:
        return None
    if isinstance(value, bool):  # a TRUE/FALSE cell
        raise _bad_amount(value)
    scale = Decimal("10000") if column_unit.startswith("亿") else Decimal("1")
    if isinstance(value, (int, float, Decimal)):
        amount = Decimal(str(value))
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
        text = text.replace(" ", "")
        if not text or text in ("-", "/", "无"):
            return None
        for suffix, factor in _AMOUNT_UNITS:
            if text.endswith(suffix):
                text, scale = text[: -len(suffix)], factor
                break
        else:
            if text.endswith("元"):
                raise CellError(_("金额“%(text)s”请以万元为单位填写。") % {"text": value})
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise _bad_amount(value) from exc
    if not amount.is_finite():
        raise _bad_amount(value)
    if amount < 0:
        raise CellError(_("金额不能为负数（%(text)s）。") % {"text": value})
    amount = (amount * scale).quantize(Decimal("0.01"))
    if amount >= Decimal("1e12"):
        raise CellError(_("金额超出范围。"))
    return amount


def _bad_amount(value: Any) -> CellError:
    return CellError(_("“%(text)s”不是有效的金额。") % {"text": value})


def parse_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value)
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        # promo's own CSV export wrote "'=…" so the cell opens as text: read back the text.
        text = text[1:]
    return text.strip()


def parse_choice(
    value: Any, choices: type[Choices], *, synonyms: Mapping[str, str] | None = None
) -> str:
    """A TextChoices value from its Chinese label, its code, or a synonym."""
    text = normalize_header(value)
    if not text:
        return ""
    for choice in choices:
        if text in (normalize_header(choice.label), choice.value.lower()):
            return choice.value
    if synonyms and text in synonyms:
        return synonyms[text]
    labels = "、".join(str(c.label) for c in choices)
    raise CellError(_("“%(text)s”不在可选范围内：%(labels)s。") % {"text": value, "labels": labels})


# --- files -----------------------------------------------------------------------------


@dataclass
class Table:
    """The data of one sheet: its header row and the data rows under it."""

    headers: list[str]
    header_row: int
    rows: list[tuple[int, list[Any]]]
    sheet_name: str = ""
    # (row number, column index) of formula cells that carry no computed value.
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    # Row numbers of 合计/小计 rows and of the notes under the table (注：…, 填表人：…): not data,
    # left out and named on the batch's page (never skipped silently).
    skipped: list[int] = field(default_factory=list)


def looks_like_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def read_table(
    data: bytes, *, kind: str, sheet: str = "", max_rows: int, saved: dict | None = None
) -> Table:
    """The table of a ledger file, the type decided by its content, never by its name."""
    if not data or not data.strip():
        raise FileRefused(_("文件是空的。"))
    if looks_like_xlsx(data):
        return _read_xlsx(data, kind=kind, sheet=sheet, max_rows=max_rows, saved=saved)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRefused(_("这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后再导入。"))
    return _read_csv(data, kind=kind, max_rows=max_rows, saved=saved)


def decode_text(data: bytes) -> str:
    """UTF-8 with BOM, UTF-8, then GB18030 (what Chinese Excel writes as "CSV")."""
    encodings: tuple[str, ...]
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _is_text(text):
            return text
    raise FileRefused(_("无法识别文件内容：只能导入 Excel（.xlsx）或 CSV（UTF-8 / GBK）文件。"))


def _is_text(text: str) -> bool:
    sample = text[:200_000]
    if "\x00" in sample:
        return False
    control = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cn"))
    allowed = sample.count("\n") + sample.count("\r") + sample.count("\t")
    return control - allowed <= len(sample) // 1000


def _read_csv(data: bytes, *, kind: str, max_rows: int, saved: dict | None) -> Table:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw = [(number, list(row)) for number, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise FileRefused(_("CSV 文件格式有误：%(error)s") % {"error": exc}) from exc
    return _table_from_rows(raw, kind=kind, max_rows=max_rows, saved=saved)


# XML markup no spreadsheet program writes: a DTD is how entity expansion ("billion laughs")
# and external entities (XXE) reach an XML parser.
_DECLARATIONS = (b"<!doctype", b"<!entity")


def _broken_xlsx() -> FileRefused:
    return FileRefused(_("Excel 文件已损坏或不是 .xlsx 文件，无法打开。"))


def refuse_hostile_xlsx(data: bytes) -> None:
    """Refuse, before any XML parser reads it, an .xlsx that unpacks to more than
    ``PROMO_IMPORT_MAX_UNPACKED_MB`` (a zip bomb) or whose XML declares a DTD (等保, issue
    #16). The sizes are counted while unpacking, not taken from the zip's own headers."""
    limit = settings.PROMO_IMPORT_MAX_UNPACKED_MB * 1024 * 1024
    too_big = FileRefused(
        _("Excel 文件解压后超过 %(mb)s MB，不像一份台账，未导入。")
        % {"mb": settings.PROMO_IMPORT_MAX_UNPACKED_MB}
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _broken_xlsx() from exc
    unpacked = 0
    with archive:
        members = archive.infolist()
        if sum(info.file_size for info in members) > limit:
            raise too_big
        for info in members:
            xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
            tail = b""
            try:
                with archive.open(info) as handle:
                    while chunk := handle.read(1 << 20):
                        unpacked += len(chunk)
                        if unpacked > limit:
                            raise too_big
                        if xml:
                            window = tail + chunk.lower()
                            if any(mark in window for mark in _DECLARATIONS):
                                raise FileRefused(
                                    _(
                                        "Excel 文件中含有 DTD 声明（<!DOCTYPE>），Excel 不会写出"
                                        "这种内容，出于安全原因未导入。请在 Excel 中另存为新的"
                                        " .xlsx 文件后再导入。"
                                    )
                                )
                            tail = window[-16:]
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                raise _broken_xlsx() from exc


def _read_xlsx(data: bytes, *, kind: str, sheet: str, max_rows: int, saved: dict | None) -> Table:
    import openpyxl

    refuse_hostile_xlsx(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or XML
        raise _broken_xlsx() from exc
    try:
        names = workbook.sheetnames
        if sheet:
            if sheet not in names:
                raise FileRefused(
                    _("文件中没有名为“%(sheet)s”的工作表；现有工作表：%(names)s。")
                    % {"sheet": sheet, "names": "、".join(names)}
                )
            candidates = [sheet]
        else:
            candidates = names
        refusals = []
        for name in candidates:
            worksheet = workbook[name]
            raw = []
            try:
                for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
                    raw.append((number, list(row)))
                    if number > max_rows + HEADER_SEARCH_ROWS + 1:
                        break
            except Exception as exc:  # the sheet's XML is read lazily, row by row
                raise _broken_xlsx() from exc
            try:
                table = _table_from_rows(raw, kind=kind, max_rows=max_rows, saved=saved)
            except FileRefused as exc:
                refusals.append((name, exc))
                continue
            table.sheet_name = name
            table.formulas_without_value = _formulas_without_value(data, name, table)
            return table
    finally:
        workbook.close()
    if len(refusals) == 1:
        raise refusals[0][1]
    raise FileRefused(
        _("所有工作表（%(names)s）中都没有找到可识别的表头，请检查是否选错了工作表或文件。")
        % {"names": "、".join(name for name, _exc in refusals)}
    )


def _formulas_without_value(data: bytes, sheet: str, table: Table) -> set[tuple[int, int]]:
    """Formula cells whose file holds no computed value (saved by a program, not by Excel)."""
    empty_cells = {
        (number, index)
        for number, row in table.rows
        for index, value in enumerate(row)
        if value is None
    }
    if not empty_cells or not _has_formulas(data):
        return set()
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        found = set()
        last = max(number for number, _row in table.rows)
        for number, row in enumerate(workbook[sheet].iter_rows(values_only=True), start=1):
            if number > last:
                break
            for index, value in enumerate(row):
                if (number, index) in empty_cells and isinstance(value, str) and value[:1] == "=":
                    found.add((number, index))
        return found
    finally:
        workbook.close()


def _has_formulas(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                with archive.open(info) as handle:
                    while chunk := handle.read(1 << 20):
                        if b"<f>" in chunk or b"<f " in chunk:
                            return True
    return False


def _table_from_rows(
    raw: list[tuple[int, list[Any]]], *, kind: str, max_rows: int, saved: dict | None = None
) -> Table:
    rows = [(n, row) for n, row in raw if any(_filled(v) for v in row)]
    if not rows:
        raise FileRefused(_("文件中没有任何数据。"))
    header_at = None
    for position, (_number, row) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len(guess_columns([parse_text(v) for v in row], kind, saved)) >= 2:
            header_at = position
            break
    if header_at is None:
        known = "、".join(FIELD_ALIASES[kind][REQUIRED_FIELDS[kind][0]][:3])
        raise FileRefused(
            _("没有找到可识别的表头行（前 %(n)d 行中应有“%(known)s”等列名）。")
            % {"n": HEADER_SEARCH_ROWS, "known": known}
        )
    header_number, header_row = rows[header_at]
    headers = [parse_text(v) for v in header_row]
    data_rows: list[tuple[int, Any]] = []
    skipped: list[tuple[int, Any]] = []
    for number, row in rows[header_at + 1 :]:
        (skipped if _not_data(row) else data_rows).append((number, row))
    if not data_rows:
        raise FileRefused(_("表头下面没有数据行。"))
    if len(data_rows) > max_rows:
        raise FileRefused(
            _("文件有 %(n)d 行数据，超过单次导入上限 %(max)d 行，请拆分后分批导入。")
            % {"n": len(data_rows), "max": max_rows}
        )
    _refuse_merged_header(headers, header_number, data_rows)
    return Table(
        headers=headers,
        header_row=header_number,
        rows=data_rows,
        skipped=[number for number, _row in skipped],
    )


_TOTALS = frozenset({"合计", "总计", "小计", "共计", "累计", "合计数"})
# "注：", "注1.", "填表人：张明", "审核人: 李四" — not "注塑件生产项目".
_NOTE = re.compile(
    r"^(注\s*[:：\d、.．]|(备注|说明|审核|负责人|联系人)\s*[:：]|填表人|填报人|制表|审核人)"
)


def _not_data(row: list[Any]) -> bool:
    """A 合计/小计 row (the word alone in one of its first cells), or a note written under
    the table in a single cell (注：…, 填表人：…)."""
    texts = [unicodedata.normalize("NFKC", parse_text(v)).strip() for v in row]
    if any(_SPACES.sub("", text) in _TOTALS for text in texts[:3]):
        return True
    filled = [text for text in texts if text]
    return len(filled) == 1 and bool(_NOTE.match(filled[0]))


def _refuse_merged_header(headers: list[str], number: int, data_rows) -> None:
    """A blank header above filled cells is almost always a merged header cell."""
    for index, header in enumerate(headers):
        if header:
            continue
        if any(index < len(row) and _filled(row[index]) for _n, row in data_rows[:200]):
            raise FileRefused(
                _(
                    "第 %(row)d 行表头的第 %(col)s 列为空，但下面有数据（可能是合并单元格或"
                    "多行表头）。请取消合并，让每一列都有自己的列名后再导入。"
                )
                % {"row": number, "col": column_letter(index)}
            )


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how Excel names a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def iter_records(table: Table, columns: dict[int, str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, {field: raw value}) for every data row."""
    for number, row in table.rows:
        yield (
            number,
            {name: (row[index] if index < len(row) else None) for index, name in columns.items()},
        )
