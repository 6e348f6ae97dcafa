"""Fixtures of the audit tests: a private lockout cache per test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_cache(private_cache) -> None:
    """Every audit test gets a cache of its own (tests/conftest.py ``private_cache``)."""
