"""Amounts for people: 万元 figures as pages, XLSX and print show them (issue 17, finding 3).

The records keep amounts in 万元 (or 万美元 for foreign capital) as ``Decimal`` with two
places. Two forms, the same everywhere:

* **Exact** (tables, exports, print): thousands separators, no unit (the column header names
  it). Two decimals only when the amount has a fraction: ``1961956.00`` → ``1,961,956``,
  ``1234.5`` → ``1,234.50``. Why: almost every amount is entered in whole 万元, and ``.00`` on
  every figure is noise that makes a column harder to scan; where a fraction exists it is
  100 yuan (a 万元 amount with two places) and is shown in full, never rounded away. In XLSX
  the cell keeps the exact number and gets :func:`number_format` (``#,##0`` or
  ``#,##0.00``), so sums still work.
* **Headline** (the cockpit's band): with the unit, in the reader's language. Chinese keeps
  万元 below 1 亿 (exact, as above) and switches to 亿元 from 1 亿 (= 10,000 万元), one
  decimal: ``1,961,956 万元`` → ``196.2 亿元``. English readers count in millions and
  billions: ``19.62 billion CNY`` from 1 billion (two decimals), ``150 million CNY`` from 1 亿
  (one decimal), ``12.35 million CNY`` below it (1,234.56 万元, two decimals); trailing zeros
  are dropped in these rounded forms (``2.5 billion``, ``1 亿元``). The scale follows the
  active language (English when its code starts with "en"; Chinese, the source language,
  otherwise); the words are messages of context ``金额`` (百万元 / 十亿元 are the Chinese
  msgids of the English scales: "%(amount)s million CNY", "%(amount)s billion CNY").

A kernel module: it imports no app (promo.core's rule), only Django's translation.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import get_language, pgettext

WAN_PER_YI = Decimal(10000)  # 1 亿 = 10,000 万
WAN_PER_BILLION = Decimal(100000)  # 1 billion = 10 亿 = 100,000 万
WAN_PER_MILLION = Decimal(100)  # 1 million = 100 万
EMPTY = "—"

# Excel number formats of the exact form (grouped; decimals only where there is a fraction).
WHOLE_FORMAT = "#,##0"
CENTS_FORMAT = "#,##0.00"

USD = "usd"
CNY = "cny"


def as_decimal(value: Any) -> Decimal | None:
    """``value`` as a Decimal, or None for None, "" and what is no number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def grouped(value: Decimal, places: int) -> str:
    """``value`` rounded half up to ``places`` decimals, with comma thousands separators."""
    exponent = Decimal(1).scaleb(-places)
    return f"{value.quantize(exponent, ROUND_HALF_UP):,.{places}f}"


def is_whole(value: Decimal) -> bool:
    """Whole at the stored precision (two places): 12.004 counts as whole."""
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP) == value.to_integral_value(ROUND_HALF_UP)


def exact(value: Any) -> str:
    """The exact form: ``1,961,956`` or ``1,234.50``; ``—`` for no value."""
    number = as_decimal(value)
    if number is None:
        return EMPTY
    return grouped(number, 0 if is_whole(number) else 2)


def number_format(value: Any) -> str:
    """The XLSX number format of the exact form for this amount."""
    number = as_decimal(value)
    return WHOLE_FORMAT if number is None or is_whole(number) else CENTS_FORMAT


def _trimmed(value: Decimal, places: int) -> str:
    """Grouped with at most ``places`` decimals, trailing zeros dropped (2.50 → 2.5, 1.0 → 1)."""
    text = grouped(value, places)
    return text.rstrip("0").rstrip(".") if "." in text else text


def _english() -> bool:
    return (get_language() or "").lower().startswith("en")


def headline(value: Any, currency: str = CNY) -> str:
    """The headline form with its unit, in the active language (see the module docstring).

    ``value`` is in 万元 (``currency="cny"``) or 万美元 (``"usd"``).
    """
    number = as_decimal(value)
    if number is None:
        return EMPTY
    usd = currency == USD
    size = abs(number)
    if _english():
        if size >= WAN_PER_BILLION:
            amount = _trimmed(number / WAN_PER_BILLION, 2)
            text = (
                pgettext("金额", "%(amount)s 十亿美元")
                if usd
                else pgettext("金额", "%(amount)s 十亿元")
            )
        else:
            amount = _trimmed(number / WAN_PER_MILLION, 1 if size >= WAN_PER_YI else 2)
            text = (
                pgettext("金额", "%(amount)s 百万美元")
                if usd
                else pgettext("金额", "%(amount)s 百万元")
            )
    elif size >= WAN_PER_YI:
        amount = _trimmed(number / WAN_PER_YI, 1)
        text = pgettext("金额", "%(amount)s 亿美元") if usd else pgettext("金额", "%(amount)s 亿元")
    else:
        amount = exact(number)
        text = pgettext("金额", "%(amount)s 万美元") if usd else pgettext("金额", "%(amount)s 万元")
    return text % {"amount": amount}
