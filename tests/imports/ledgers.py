"""A realistic, messy 招商项目台账 of a few thousand rows, generated in code.

What a bureau really keeps in Excel: a title row and a 填报单位 line above the header, header
variations (全角括号, 投资方（企业名称）, 所属行业), columns promo does not know (序号, 联系人,
备注), merged cells, dates written four ways (2023.5.6, 2023年5月6日, an Excel serial, a date
cell), amounts with 万元/亿元 suffixes and thousands separators, a handful of real errors, and
projects already in the system written under a slightly different investor name.

Under the table, as in every real ledger: a 合计 row and the 填表人 line (skipped, and said so).
``Ledger.fixed()`` gives the same ledger with the errors corrected, as an officer would after
reading the preview. ``xlsx()`` and ``gb18030_csv()`` write it as Excel and as the CSV that
Chinese Excel saves.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl

TITLE = "2024年度招商引资签约项目台账"
SUBTITLE = "填报单位：上海办事处        填报日期：2024.12.31        单位：万元"
HEADERS = [
    "序号",
    "项目名称",
    "投资方（企业名称）",
    "所属行业",
    "总投资（万元）",
    "签约时间",
    "开工时间",
    "落户园区",
    "责任单位",
    "联系人",
    "备注",
]
# Where each column is, by name (0-based).
COL = {name: index for index, name in enumerate(HEADERS)}
# The sheet's first data row: title (1), subtitle (2), header (3).
FIRST_ROW = 4
UNIT = "上海办事处"

_CITIES = "苏州 无锡 常州 南京 杭州 宁波 深圳 广州 东莞 佛山 青岛 成都 武汉 合肥 西安".split()
_BRANDS_A = "华 博 宏 瑞 恒 鼎 嘉 晟 中 天 联 兴 科 信 凯 盛 汇 远 通 新".split()
_BRANDS_B = "芯 远 达 泰 昌 源 润 创 辉 锐 德 宇 星 铭 越 腾 安 力 驰 拓".split()
_TRADES = [
    ("半导体科技", "电子信息", "晶圆封测"),
    ("精密机械", "高端装备", "精密零部件"),
    ("汽车零部件", "汽车及零部件", "新能源汽车零部件"),
    ("新能源科技", "新能源", "动力电池"),
    ("新材料科技", "新材料", "高性能膜材料"),
    ("生物医药", "生物医药", "创新药研发生产"),
    ("智能装备", "装备制造", "工业机器人"),  # 装备制造: a synonym, not the label
    ("数字科技", "数字经济", "数据中心"),
    ("供应链管理", "现代物流", "智慧物流园"),
    ("食品", "食品加工", "中央厨房"),
]
_SUFFIXES = ["有限公司", "有限公司", "股份有限公司", "有限责任公司", "（中国）有限公司"]
_PARKS = ["经开区", "高新区", "临港产业园", "综合保税区", ""]
_PHASES = ["", "一期", "二期", "扩建", "总部"]
_PEOPLE = "王 李 张 刘 陈 杨 赵 黄 周 吴".split()


@dataclass(frozen=True)
class Known:
    """A project already in the system, as the ledger writes it (investor name varies)."""

    investor: str
    name: str
    contract_date: date
    total: int
    industry: str = "电子信息"


@dataclass
class Ledger:
    rows: list[list[Any]]
    # sheet row number -> (column header, what is wrong): the errors the preview must list.
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    # sheet row numbers of the known projects and of the likely duplicates.
    known_rows: list[int] = field(default_factory=list)
    similar_rows: list[int] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    fixes: dict[int, tuple[int, Any]] = field(default_factory=dict)

    @property
    def footer(self) -> list[list[Any]]:
        """Under the table: a 合计 row (a SUM formula in Excel) and the 填表人 line."""
        last = FIRST_ROW + len(self.rows) - 1
        total = [None] * len(HEADERS)
        total[0] = "合计"
        total[COL["总投资（万元）"]] = f"=SUM(E{FIRST_ROW}:E{last})"
        return [
            total,
            ["注：总投资单位为万元，开工时间为实际开工日期。"],
            ["填表人：张明    审核人：王强"],
        ]

    @property
    def footer_rows(self) -> list[int]:
        """The sheet row numbers of the footer (none of them data)."""
        first = FIRST_ROW + len(self.rows)
        return list(range(first, first + len(self.footer)))

    @property
    def data_rows(self) -> int:
        return len(self.rows)

    def sheet_row(self, number: int) -> list[Any]:
        return self.rows[number - FIRST_ROW]

    def fixed(self) -> Ledger:
        """The ledger after the officer corrected every reported error."""
        rows = [row[:] for row in self.rows]
        for number, (column, value) in self.fixes.items():
            rows[number - FIRST_ROW][column] = value
        return Ledger(
            rows=rows,
            known_rows=self.known_rows,
            similar_rows=self.similar_rows,
            merges=self.merges,
        )

    def xlsx(self) -> bytes:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "签约项目"
        sheet.append([TITLE])
        sheet.append([SUBTITLE])
        sheet.append(HEADERS)
        for row in [*self.rows, *self.footer]:
            sheet.append(row)
        last = openpyxl.utils.get_column_letter(len(HEADERS))
        sheet.merge_cells(f"A1:{last}1")
        sheet.merge_cells(f"A2:{last}2")
        for cells in self.merges:
            sheet.merge_cells(cells)
        for row in sheet.iter_rows(min_row=FIRST_ROW, min_col=6, max_col=7):
            for cell in row:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy/m/d"
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    def gb18030_csv(self) -> bytes:
        """What 另存为 CSV in Chinese Excel writes: GB18030, dates as shown, merged cells blank."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        blank = [""] * (len(HEADERS) - 1)
        writer.writerow([TITLE, *blank])
        writer.writerow([SUBTITLE, *blank])
        writer.writerow(HEADERS)
        for row in self.rows:
            writer.writerow([_shown(v) for v in row])
        for row in self.footer:
            # Excel writes what a formula shows, not the formula.
            writer.writerow([*(_shown(v) if not str(v).startswith("=") else "1234567" for v in row),
                             *blank[len(row) - 1 :]])  # fmt: skip
        return buffer.getvalue().encode("gb18030")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.year}/{value.month}/{value.day}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _date_as_written(day: date, style: int) -> Any:
    """Four ways ledgers write a date."""
    if style == 0:
        return f"{day.year}.{day.month}.{day.day}"
    if style == 1:
        return f"{day.year}年{day.month}月{day.day}日"
    if style == 2:
        return (day - date(1899, 12, 30)).days  # an Excel serial typed as a number
    return datetime(day.year, day.month, day.day)  # a real date cell


def _amount_as_written(amount: int, style: int) -> Any:
    if style == 0:
        return amount
    if style == 1:
        return f"{amount:,}"
    if style == 2:
        return f"{amount}万元"
    if style == 3 and amount % 1000 == 0:
        return f"{amount / 10000:g}亿元"
    return float(amount) + 0.5 if style == 4 else str(amount)


def project_ledger(
    rows: int = 3000,
    *,
    known: list[Known] = (),
    similar: list[Known] = (),
    seed: int = 2024,
) -> Ledger:
    """``rows`` data rows: new projects, then ``known`` (update/unchanged) and ``similar``
    (likely duplicates) spread through the file, and five errors at fixed places."""
    rng = random.Random(seed)
    # Every investor its own brand and trade (no two alike but for the city): ~4,000 of them.
    pairs = [(a + b, t) for a in _BRANDS_A for b in _BRANDS_B if a != b for t in _TRADES]
    rng.shuffle(pairs)
    investors = []
    for index, (brand, (trade, industry, product)) in enumerate(pairs):
        city = _CITIES[index % len(_CITIES)]
        suffix = _SUFFIXES[index % len(_SUFFIXES)]
        investors.append((f"{city}{brand}{trade}{suffix}", brand, industry, product))

    data: list[list[Any]] = []
    specials = len(known) + len(similar)
    plain = rows - specials
    # Three projects per investor, each with its own name.
    for i in range(plain):
        name, brand, industry, product = investors[i // 3]
        phase = _PHASES[i % 3 + (i // 3) % 3]
        park = _PARKS[i % len(_PARKS)]
        signed = date(2021, 1, 4) + timedelta(days=rng.randrange(0, 1200))
        amount = (
            rng.choice([3000, 5000, 8000, 12000, 20000, 50000, 100000]) + rng.randrange(0, 9) * 100
        )
        started = None
        if i % 5 == 0:
            started = _date_as_written(signed + timedelta(days=rng.randrange(30, 300)), i % 4)
        data.append(
            [
                i + 1,
                f"{brand}{product}{phase}项目" if i % 3 else f"{brand}{product}基地{phase}",
                f" {name}" if i % 97 == 0 else name,  # stray spaces typed in
                industry,
                _amount_as_written(amount, i % 5),
                _date_as_written(signed, (i // 2) % 4),
                started,
                park,
                UNIT if i % 11 else f" {UNIT} ",
                f"{_PEOPLE[i % len(_PEOPLE)]}经理 138{i:08d}"[:20],
                "已投产" if i % 17 == 0 else "",
            ]
        )
    # The known projects and the likely duplicates go in among the others.
    places = sorted(rng.sample(range(10, plain), specials))
    specials_rows = [(k, "known") for k in known] + [(s, "similar") for s in similar]
    ledger = Ledger(rows=[])
    inserted = sorted(zip(places, specials_rows, strict=True), key=lambda p: p[0], reverse=True)
    for place, (project, _what) in inserted:
        data.insert(
            place,
            [
                0,
                project.name,
                project.investor,
                project.industry,
                _amount_as_written(project.total, place % 3),
                _date_as_written(project.contract_date, place % 4),
                None,
                "",
                UNIT,
                "",
                "老项目",
            ],
        )
    for number, row in enumerate(data, start=1):
        row[0] = number  # 序号 follows the rows, as Excel's fill does
    ledger.rows = data
    for index, row in enumerate(data):
        if row[10] == "老项目":
            sheet_number = FIRST_ROW + index
            investor = row[2]
            if any(s.investor == investor for s in similar):
                ledger.similar_rows.append(sheet_number)
            else:
                ledger.known_rows.append(sheet_number)
    _spoil(ledger, rng)
    # A few merged cells in the data: one 备注 over three rows, and one 联系人 over two.
    ledger.merges = [f"K{FIRST_ROW + 40}:K{FIRST_ROW + 42}", f"J{FIRST_ROW + 60}:J{FIRST_ROW + 61}"]
    for number in (FIRST_ROW + 41, FIRST_ROW + 42, FIRST_ROW + 61):
        ledger.rows[number - FIRST_ROW][COL["备注" if number < FIRST_ROW + 60 else "联系人"]] = None
    return ledger


def _spoil(ledger: Ledger, rng: random.Random) -> None:
    """Five real errors, each where a tired officer would make it (away from special rows)."""
    taken = set(ledger.known_rows) | set(ledger.similar_rows)
    free = [n for n in range(FIRST_ROW + 100, FIRST_ROW + len(ledger.rows)) if n not in taken]
    spots = sorted(rng.sample(free, 5))
    amount, unit, formula, name, day = spots

    def spoil(number: int, header: str, bad: Any, reason: str) -> None:
        row = ledger.sheet_row(number)
        column = COL[header]
        ledger.fixes[number] = (column, row[column])
        row[column] = bad
        ledger.errors[number] = (header, reason)

    spoil(amount, "总投资（万元）", "-3,500", "负数")
    spoil(unit, "责任单位", "广州办事处", "不存在")
    spoil(formula, "总投资（万元）", f"=E{formula - 1}*2", "公式")
    # The officer replaces the formula with its value.
    ledger.fixes[formula] = (COL["总投资（万元）"], 16000)
    spoil(name, "项目名称", "", "不能为空")
    spoil(day, "签约时间", "2022年2月30日", "不是存在的日期")
