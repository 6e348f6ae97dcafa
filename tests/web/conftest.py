"""Fixtures of the web tests: a private lockout cache per test (signed-in clients come from
tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache(private_cache) -> None:
    """Every web test gets a cache of its own (tests/conftest.py ``private_cache``)."""
