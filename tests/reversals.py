"""Counting the URL reversals a page makes through ``promo.core.urls.path_of``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from promo.core import urls


@contextmanager
def counted_reversals() -> Iterator[list[str]]:
    """The names reversed inside the block, its cache emptied first (so each list's path is
    reversed once, and each reversal is seen)."""
    urls.clear()
    calls: list[str] = []
    real = urls.reverse

    def counted(name, *args, **kwargs):
        calls.append(name)
        return real(name, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(urls, "reverse", counted)
        yield calls
