"""Sign-in page, lockout per account and per address, sign-out and the security log."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.test import Client, override_settings

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(username: str, password: str, ip: str = "10.0.0.1"):
    client = Client(REMOTE_ADDR=ip)
    return client, client.post("/login/", {"username": username, "password": password})


def test_sign_in_page_renders_in_chinese_with_labels():
    response = Client().get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'for="id_username"' in html and 'for="id_password"' in html
    assert "登录" in html


def test_correct_password_signs_in_and_is_logged(bureau, caplog):
    with caplog.at_level(logging.INFO, logger="promo.security"):
        client, response = attempt("sh_officer", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session.get("_auth_user_id") == str(bureau.shanghai_officer.pk)
    assert "sign-in username=sh_officer" in caplog.text


def test_wrong_password_comes_back_with_error_and_username_kept(bureau, caplog):
    with caplog.at_level(logging.INFO, logger="promo.security"):
        _client, response = attempt("sh_officer", "wrong-password")
    assert response.status_code == 200
    html = response.content.decode()
    assert "用户名或密码不正确" in html
    assert 'value="sh_officer"' in html
    assert "sign-in failed username=sh_officer" in caplog.text


@override_settings(PROMO_LOGIN_FAILURES_PER_ACCOUNT=3, PROMO_LOGIN_FAILURES_PER_IP=50)
def test_account_locks_after_n_failures_even_for_the_right_password(bureau):
    for _ in range(3):
        attempt("sh_officer", "wrong-password", ip="10.0.0.1")
    client, response = attempt("sh_officer", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(PROMO_LOGIN_FAILURES_PER_ACCOUNT=3, PROMO_LOGIN_FAILURES_PER_IP=50)
def test_locked_account_still_signs_in_from_an_address_that_did_not_fail(bureau):
    for _ in range(3):
        attempt("sh_officer", "wrong-password", ip="10.0.0.1")
    client, response = attempt("sh_officer", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(bureau.shanghai_officer.pk)


@override_settings(PROMO_LOGIN_FAILURES_PER_ACCOUNT=3, PROMO_LOGIN_FAILURES_PER_IP=50)
def test_one_persons_failures_do_not_lock_colleagues_behind_the_same_proxy(bureau):
    for _ in range(5):
        attempt("sh_officer", "wrong-password", ip="10.0.0.1")
    _client, response = attempt("sh_teammate", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 302


@override_settings(PROMO_LOGIN_FAILURES_PER_ACCOUNT=100, PROMO_LOGIN_FAILURES_PER_IP=4)
def test_password_spraying_from_one_address_locks_that_address(bureau):
    for name in ("a", "b", "c", "d"):
        attempt(name, "wrong-password", ip="10.0.0.7")
    _client, response = attempt("sh_teammate", PASSWORD, ip="10.0.0.7")
    assert response.status_code == 200
    assert "登录失败次数过多" in response.content.decode()
    _client, response = attempt("sh_teammate", PASSWORD, ip="10.0.0.8")
    assert response.status_code == 302


@override_settings(PROMO_LOGIN_FAILURES_PER_ACCOUNT=3)
def test_success_below_the_threshold_clears_that_address(bureau):
    attempt("sh_officer", "wrong-password")
    attempt("sh_officer", "wrong-password")
    attempt("sh_officer", PASSWORD)
    # The account counter still holds 2, but this address has no failure left on record.
    attempt("sh_officer", "wrong-password", ip="10.0.0.2")
    _client, response = attempt("sh_officer", PASSWORD)
    assert response.status_code == 302


def test_sign_out_is_post_only_and_logged(bureau, client_for, caplog):
    client = client_for(bureau.shanghai_officer)
    assert client.get("/logout/").status_code == 405
    with caplog.at_level(logging.INFO, logger="promo.security"):
        response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "sign-out username=sh_officer" in caplog.text
    assert "_auth_user_id" not in client.session


def test_language_switch_renders_the_page_in_english():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/login/").content.decode()


def test_sign_in_sets_the_officers_own_language(bureau):
    bureau.shanghai_officer.language = "en"
    bureau.shanghai_officer.save(update_fields=["language"])
    client, response = attempt("sh_officer", PASSWORD)
    assert response.status_code == 302
    assert client.cookies["django_language"].value == "en"


@override_settings(PROMO_LOGIN_FAILURES_PER_ACCOUNT=3)
def test_admin_sign_in_counts_failures_and_honours_the_lock(bureau):
    client = Client(REMOTE_ADDR="10.0.0.3")
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "sh_head", "password": "nope"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": "sh_head", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    # The lock is shared with /login/.
    _client, response = attempt("sh_head", PASSWORD, ip="10.0.0.3")
    assert response.status_code == 200 and "登录失败次数过多" in response.content.decode()


def test_denied_access_is_logged(bureau, client_for, caplog):
    from tests.factories import make_lead

    lead = make_lead(bureau.shanghai_officer)
    with caplog.at_level(logging.INFO, logger="promo.security"):
        response = client_for(bureau.outsider).get(f"/leads/{lead.pk}/")
        Client().get("/leads/")
    assert response.status_code == 404
    assert (
        f"access denied status=404 username=sz_officer ip=127.0.0.1 method=GET path=/leads/{lead.pk}/"
        in caplog.text
    )
    assert "sign-in required ip=127.0.0.1 method=GET path=/leads/" in caplog.text


def test_password_change_applies_the_password_rules(bureau, client_for, caplog):
    client = client_for(bureau.shanghai_officer)
    assert client.get("/password/").status_code == 200
    response = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"},
    )
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    with caplog.at_level(logging.INFO, logger="promo.security"):
        response = client.post(
            "/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "Huangpu-River-2027",
                "new_password2": "Huangpu-River-2027",
            },
        )
    assert response.status_code == 302
    bureau.shanghai_officer.refresh_from_db()
    assert bureau.shanghai_officer.check_password("Huangpu-River-2027")
    assert "password changed username=sh_officer" in caplog.text


# -- idle expiry: the session's expiry moves with use, written at most once a minute -----


def _expiry(client) -> datetime.datetime:
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_in_use_is_kept_alive_but_written_at_most_once_a_minute(bureau, settings):
    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    start = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(bureau.shanghai_officer)
        signed_in = _expiry(client)
        assert signed_in == start + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)

        traveller.shift(30)
        with CaptureQueriesContext(connection) as read:
            assert client.get("/leads/").status_code == 200
        assert not any("django_session" in q["sql"] and "UPDATE" in q["sql"] for q in read)
        assert _expiry(client) == signed_in

        traveller.shift(60)
        assert client.get("/leads/").status_code == 200
        assert _expiry(client) == start + datetime.timedelta(
            seconds=90 + settings.SESSION_COOKIE_AGE
        )


def test_an_idle_session_ends_after_the_configured_time(bureau, settings):
    import time_machine

    client = Client()
    start = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(bureau.shanghai_officer)
        assert client.get("/leads/").status_code == 200
        traveller.shift(settings.SESSION_COOKIE_AGE + 1)
        response = client.get("/leads/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_busy_session_still_ends_at_its_absolute_lifetime(bureau, settings):
    """Issue #16 (会话): an officer who never stops clicking is signed out after
    SESSION_ABSOLUTE_SECONDS all the same, told why, and signs in again to a fresh clock."""
    import time_machine

    settings.SESSION_ABSOLUTE_SECONDS = 3600
    client = Client()
    start = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(bureau.shanghai_officer)
        for _step in range(3):  # busy: a page every 20 minutes, never idle
            traveller.shift(20 * 60 - 1)
            assert client.get("/leads/").status_code == 200
        traveller.shift(3)  # one hour after signing in
        ended = client.get("/leads/")
        assert ended.status_code == 302 and ended["Location"].startswith("/login/")
        page = client.get(ended["Location"]).content.decode()
        assert "登录已达最长时限" in page
        assert "登录已达最长时限" not in client.get("/login/").content.decode()  # said once
        # The API with the same session is signed out too.
        assert client.get("/api/v1/leads/").status_code in (401, 403)
        response = client.post("/login/", {"username": "sh_officer", "password": PASSWORD})
        assert response.status_code == 302
        traveller.shift(20 * 60)
        assert client.get("/leads/").status_code == 200


def test_a_session_from_before_the_rule_starts_its_clock_at_its_next_request(bureau, settings):
    import time_machine

    from promo.accounts.security import SESSION_STARTED

    settings.SESSION_ABSOLUTE_SECONDS = 3600
    client = Client()
    start = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(bureau.shanghai_officer)
        session = client.session
        del session[SESSION_STARTED]
        session.save()
        traveller.shift(600)
        assert client.get("/leads/").status_code == 200
        assert client.session[SESSION_STARTED] == int(
            (start + datetime.timedelta(seconds=600)).timestamp()
        )
        for _step in range(3):  # busy until 50 minutes after its first request
            traveller.shift(1000)
            assert client.get("/leads/").status_code == 200
        traveller.shift(700)
        assert client.get("/leads/").status_code == 302


@override_settings(
    PROMO_LOGIN_TRUSTED_PROXIES=1,
    PROMO_LOGIN_FAILURES_PER_ACCOUNT=5,
    PROMO_LOGIN_FAILURES_PER_IP=50,
)
def test_a_client_reaching_the_app_port_directly_cannot_dodge_the_lockout_with_the_header(bureau):
    """Issue #16: with the trusted-proxy setting on, rotating X-Forwarded-For from a public
    address gave 30 guesses out of 30. The header is read only on a proxy's connection now."""
    refused = 0
    for n in range(30):
        client = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        response = client.post("/login/", {"username": "sh_officer", "password": "wrong-password"})
        refused += "登录失败次数过多" in response.content.decode()
    assert refused == 25  # the sixth guess on is refused before the password is even checked
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.200")
    response = client.post("/login/", {"username": "sh_officer", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


@override_settings(PROMO_LOGIN_TRUSTED_PROXIES=1, PROMO_LOGIN_FAILURES_PER_ACCOUNT=3)
def test_behind_the_proxy_each_client_is_still_told_apart(bureau):
    # The proxy (a private address) appends the client's address: one person's failures do not
    # lock a colleague who signs in through the same proxy.
    for _ in range(3):
        Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1").post(
            "/login/", {"username": "sh_officer", "password": "wrong-password"}
        )
    colleague = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.2")
    response = colleague.post("/login/", {"username": "sh_officer", "password": PASSWORD})
    assert response.status_code == 302
