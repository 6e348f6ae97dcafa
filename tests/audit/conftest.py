"""Fixtures of the audit tests: a private lockout cache per test."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _private_cache(private_cache) -> None:
    """Every audit test gets a cache of its own (tests/conftest.py ``private_cache``)."""


@pytest.fixture
def app_role(settings):
    """A role of this test's own, granted by the command (roles are cluster-wide; the test's
    transaction drops it again)."""
    settings.PROMO_DB_APP_PASSWORD = ""
    name = f"promo_app_{uuid.uuid4().hex[:10]}"
    call_command("db_roles", app_role=name, no_login=True)
    return name
