"""Shared fixtures: the named personas on a real PostgreSQL database."""

from __future__ import annotations

import pytest

from tests.factories import Bureau, make_bureau


@pytest.fixture
def bureau(db) -> Bureau:
    return make_bureau()
