"""Sign-in lockouts seen and cleared by the security administrator (登录锁定, 解锁; issue #16,
三员分立): the page lists the locked accounts with the addresses that took part and the
locked addresses; clearing one lets the officer sign in again and is logged. Nobody else
sees the page or clears anything."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, override_settings

from officers.choices import Role
from tests.factories import PASSWORD, make_officer

pytestmark = pytest.mark.django_db

LOCKING = {"PROMO_LOGIN_FAILURES_PER_ACCOUNT": 3, "PROMO_LOGIN_FAILURES_PER_IP": 5}


def attempt(username: str, password: str, ip: str):
    client = Client(REMOTE_ADDR=ip)
    return client, client.post("/login/", {"username": username, "password": password})


def _lock_sh_officer_and_an_address() -> None:
    for _ in range(3):
        attempt("sh_officer", "wrong-password", ip="10.0.0.7")
    for n in range(5):
        attempt(f"nobody{n}", "wrong-password", ip="10.0.0.99")


def _locked_out() -> bool:
    client, _response = attempt("sh_officer", PASSWORD, ip="10.0.0.7")
    return "_auth_user_id" not in client.session


@override_settings(**LOCKING)
def test_the_security_administrator_sees_and_clears_a_lockout_and_it_is_logged(
    bureau, client, caplog
):
    _lock_sh_officer_and_an_address()
    assert _locked_out()
    client.force_login(make_officer(None, role=Role.SECURITY_ADMIN, username="anquan"))
    page = client.get("/account/lockouts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "sh_officer" in html and "10.0.0.7" in html and "10.0.0.99" in html
    with caplog.at_level(logging.INFO, logger="promo.security"):
        cleared = client.post("/account/lockouts/", {"username": "sh_officer"})
    assert cleared.status_code == 302
    assert "lockout cleared by=anquan username=sh_officer" in caplog.text
    assert not _locked_out()
    # The address stays locked until it is cleared too.
    assert "10.0.0.99" in client.get("/account/lockouts/").content.decode()
    client.post("/account/lockouts/", {"ip": "10.0.0.99"})
    assert "10.0.0.99" not in client.get("/account/lockouts/").content.decode()


@override_settings(**LOCKING)
@pytest.mark.parametrize("who", ["chief", "system_admin", "audit_admin", "shanghai_head"])
def test_nobody_else_sees_or_clears_a_lockout_and_it_stays(bureau, client, who):
    _lock_sh_officer_and_an_address()
    actor = {
        "chief": bureau.chief,
        "shanghai_head": bureau.shanghai_head,
        "system_admin": make_officer(None, role=Role.ADMIN),
        "audit_admin": make_officer(None, role=Role.AUDIT_ADMIN),
    }[who]
    client.force_login(actor)
    assert client.get("/account/lockouts/").status_code == 403
    assert client.post("/account/lockouts/", {"username": "sh_officer"}).status_code == 403
    assert _locked_out()
