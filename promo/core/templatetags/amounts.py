"""Template filters of promo.core.amounts: ``{% load amounts %}`` then ``{{ x|amount }}`` (the
exact form, for tables) and ``{{ x|amount_headline }}`` / ``{{ x|amount_headline:"usd" }}``
(with the unit, 亿 above 1 亿, in the reader's language)."""

from __future__ import annotations

from typing import Any

from django import template

from promo.core import amounts

register = template.Library()


@register.filter
def amount(value: Any) -> str:
    return amounts.exact(value)


@register.filter
def amount_headline(value: Any, currency: str = amounts.CNY) -> str:
    return amounts.headline(value, currency)
