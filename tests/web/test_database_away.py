"""While the database is away, officers get a friendly 503 (Chinese or English), not a bare 500."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

pytestmark = pytest.mark.urls("tests.web.urls_database_away")


@pytest.fixture
def anonymous() -> Client:
    # Answer uncaught exceptions the way production does instead of re-raising them here.
    return Client(raise_request_exception=False)


def test_a_page_answers_503_with_retry_after_in_chinese_while_the_database_is_away(anonymous):
    response = anonymous.get("/test-db-away/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "系统暂时无法使用" in page
    assert "127.0.0.1" not in page  # the error itself is logged, never shown


def test_the_503_page_speaks_english_to_an_english_reader(anonymous):
    anonymous.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    response = anonymous.get("/test-db-away/")
    assert response.status_code == 503
    page = response.content.decode()
    assert 'lang="en"' in page
    assert "temporarily unavailable" in page
    assert "系统暂时无法使用" not in page


def test_the_api_answers_503_service_unavailable_in_its_error_format(anonymous):
    response = anonymous.get("/api/test-db-away/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["message"]
    assert body["retry_after"] == int(response["Retry-After"])


def test_any_other_error_is_still_a_500_page_without_retry_after(anonymous):
    response = anonymous.get("/test-bug/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "服务器内部错误" in response.content.decode()


def test_an_api_bug_is_a_500_in_the_api_error_format(anonymous):
    response = anonymous.get("/api/test-bug/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
