"""The streamed single-sheet XLSX writer of list exports (promo.core.exports.write_xlsx_table):
what it writes, openpyxl reads back as the values written."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import openpyxl

from promo.core.exports import Column, _cell, table_rows, write_table


def test_values_come_back_as_written_and_illegal_characters_do_not_break_the_file(tmp_path):
    columns = tuple(
        Column(h, lambda o: o) for h in ("文本", "整数", "小数", "日期", "时间", "空", "是否")
    )
    rows = [
        [
            "甲 & <乙> \x01控制符\x0b 保留  空格 ",
            1200,
            _cell(Decimal("1234.5")),
            date(2026, 12, 3),
            datetime(2026, 12, 3, 8, 30),
            None,
            True,
        ],
        ["", 0, -0.25, None, None, "", False],
    ]
    path = tmp_path / "t.xlsx"
    assert write_table(columns, rows, path, fmt="xlsx", title="项目信息") == 2
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet.title == "项目信息"
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == ["文本", "整数", "小数", "日期", "时间", "空", "是否"]
    assert sheet["A1"].font.b
    assert values[1] == [
        "甲 & <乙> 控制符 保留  空格 ",
        1200,
        1234.5,
        datetime(2026, 12, 3),
        datetime(2026, 12, 3, 8, 30),
        None,
        True,
    ]
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    assert values[2][:3] == [None, 0, -0.25] and values[2][6] is False


def test_labels_are_looked_up_once_per_value_not_per_row(tmp_path):
    calls = []

    class Label:
        def __init__(self, text):
            self.text = text

        def __str__(self):
            calls.append(self.text)
            return self.text

    labels = [("a", Label("甲")), ("b", Label("乙"))]
    column = Column("类型", lambda o: o, labels=labels)
    rows = list(table_rows((column,), _Objects(["a", "b", "a"] * 1000)))
    assert [r[0] for r in rows[:3]] == ["甲", "乙", "甲"]
    assert sorted(calls) == ["乙", "甲"]  # two translations for 3,000 rows


class _Objects(list):
    """A list that answers ``iterator()`` as a queryset does (the object path)."""

    def iterator(self, chunk_size=None):
        return iter(self)
