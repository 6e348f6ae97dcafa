"""The campaigns' tests compute live league tables unless a test asks for the cache."""

import pytest


@pytest.fixture(autouse=True)
def _live_figures(settings):
    settings.PROMO_DASHBOARD_CACHE_SECONDS = 0
