"""Shared fixtures: the named personas on a real PostgreSQL database."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.factories import Bureau, make_bureau


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Evidence files of the suite's stage changes (every 开工 / 竣工 / 投产 carries one since
    issue #15) go to a temporary folder, never into the checkout's var/media."""
    previous = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    yield
    settings.MEDIA_ROOT = previous


@pytest.fixture
def bureau(db) -> Bureau:
    return make_bureau()
