"""Template filter of promo.core.masking: ``{% load personal_data %}`` then
``{{ contact.phone|mask:"phone" }}`` (``138****5678``), ``|mask:"email"``, ``|mask:"wechat"``."""

from __future__ import annotations

from typing import Any

from django import template

from promo.core import masking

register = template.Library()


@register.filter
def mask(value: Any, kind: str = "text") -> str:
    return masking.mask(value, kind)
