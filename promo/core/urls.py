"""A URL name's path, reversed once per script prefix and URL configuration.

Pages that link hundreds of figures to a dozen lists (the cockpit, 协议履约分析) reverse each
list's path once instead of once per figure; the path still follows the script prefix promo
is served under (a bureau intranet may mount it at ``/promo/``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


@lru_cache(maxsize=256)
def _path(name: str, prefix: str, urlconf: Any) -> str:
    return reverse(name, urlconf=urlconf)


def path_of(name: str) -> str:
    """``reverse(name)`` for a URL without arguments, cached per name, script prefix and URL
    configuration. Raises ``NoReverseMatch`` as ``reverse`` does (never cached)."""
    return _path(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


def clear() -> None:
    """Forget every cached path (tests that count the reversals)."""
    _path.cache_clear()
