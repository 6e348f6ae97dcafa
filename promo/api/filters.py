"""Query-parameter helpers shared by the apps' API filters."""

from __future__ import annotations

from datetime import UTC

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError


def as_utc(value, name: str):
    """An aware datetime in UTC, as PostgreSQL takes it.

    ISO 8601 allows offsets PostgreSQL refuses (-18:58 is valid Python, a DataError in SQL),
    and a time near year 1 may not convert at all: both are the caller's bad input.
    """
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValidationError({name: [_("时间超出范围。")]}) from exc
