"""Fixtures of the API tests: an APIClient signed in as one of the personas."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from officers.models import Officer


@pytest.fixture
def client_for() -> Callable[[Officer], APIClient]:
    def make(officer: Officer) -> APIClient:
        client = APIClient()
        client.force_login(officer)
        return client

    return make
