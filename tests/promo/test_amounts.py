"""Amounts for people (promo.core.amounts, issue 17 finding 3): grouped exact 万元 figures for
tables and exports, 亿元 (or million / billion in English) in headlines."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from promo.core import amounts
from tests.web.test_i18n import compiled  # noqa: F401  (the compiled catalogue fixture)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1961956.00"), "1,961,956"),
        (Decimal("1234.50"), "1,234.50"),
        (Decimal("1234.56"), "1,234.56"),
        (Decimal("999.999"), "1,000"),
        (Decimal("0.00"), "0"),
        (Decimal("-25000.10"), "-25,000.10"),
        (7, "7"),
        (1234567.5, "1,234,567.50"),
        (None, "—"),
        ("", "—"),
    ],
)
def test_exact_amounts_are_grouped_and_show_cents_only_when_there_are_some(value, text):
    assert amounts.exact(value) == text


def test_number_formats_of_the_exact_form():
    assert amounts.number_format(Decimal("1961956.00")) == "#,##0"
    assert amounts.number_format(Decimal("12.30")) == "#,##0.00"
    assert amounts.number_format(None) == "#,##0"


@pytest.mark.parametrize(
    ("value", "currency", "zh", "en"),
    [
        (Decimal("1961956.00"), "cny", "196.2 亿元", "19.62 billion CNY"),
        (Decimal("10000"), "cny", "1 亿元", "100 million CNY"),
        (Decimal("15000"), "cny", "1.5 亿元", "150 million CNY"),
        (Decimal("9999.50"), "cny", "9,999.50 万元", "100 million CNY"),
        (Decimal("12345.67"), "cny", "1.2 亿元", "123.5 million CNY"),
        (Decimal("1234.56"), "cny", "1,234.56 万元", "12.35 million CNY"),
        (Decimal("9949.10"), "cny", "9,949.10 万元", "99.49 million CNY"),
        (Decimal("800"), "cny", "800 万元", "8 million CNY"),
        (Decimal("250000"), "usd", "25 亿美元", "2.5 billion USD"),
        (Decimal("150"), "usd", "150 万美元", "1.5 million USD"),
        (None, "cny", "—", "—"),
    ],
)
@pytest.mark.usefixtures("compiled")
def test_headlines_switch_to_yi_above_one_yi_in_each_language(value, currency, zh, en):
    with translation.override("zh-hans"):
        assert amounts.headline(value, currency) == zh
    with translation.override("en"):
        assert amounts.headline(value, currency) == en


@pytest.mark.usefixtures("compiled")
def test_the_template_filters():
    template = Template(
        "{% load amounts %}{{ v|amount }} · {{ v|amount_headline }} · {{ v|amount_headline:'usd' }}"
    )
    with translation.override("zh-hans"):
        assert template.render(Context({"v": Decimal("1961956.00")})) == (
            "1,961,956 · 196.2 亿元 · 196.2 亿美元"
        )
    with translation.override("en"):
        assert template.render(Context({"v": Decimal("1961956.00")})) == (
            "1,961,956 · 19.62 billion CNY · 19.62 billion USD"
        )
