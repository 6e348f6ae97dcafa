"""Property-based fuzzing of the whole API with schemathesis, from the committed schema.

Every operation is called with generated input, as a chief's read-write API client: the
answer must never be a 5xx, must use a documented status and content type, and must match
the documented response schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from promo.api.clients import api_client_create
from promo.api.throttling import OfficerRateThrottle
from tests.api.test_api_clients import security_admin

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

schema = schemathesis.openapi.from_path(SCHEMA_FILE)
schema.app = get_wsgi_application()

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture
def keep_test_connection():
    """Calls go through the real WSGI handler, whose request signals close the database
    connection, and with it the test's transaction; Django's own test client detaches them
    the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_headers(bureau, monkeypatch, keep_test_connection) -> dict[str, str]:
    # The budget is not under test here; hundreds of calls a minute are.
    monkeypatch.setattr(OfficerRateThrottle, "rate", "1000000/min", raising=False)
    _, token = api_client_create(
        actor=security_admin(), name="fuzz", officer=bureau.chief, access="read_write"
    )
    return {"Authorization": f"Bearer {token}", "Host": "testserver"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_as_documented(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS)
