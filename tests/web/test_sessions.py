"""Issue #16 (会话管理): sign-ins recorded with where they came from, a cap on open sessions
(the oldest ends), the previous sign-in shown after signing in, and one's own sessions listed
and ended — nobody else's."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from officers.models import OfficerSession
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(username: str, ip: str) -> Client:
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=f"Browser at {ip}")
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_fourth_sign_in_ends_the_oldest_of_three(bureau, settings):
    settings.PROMO_MAX_SESSIONS = 3
    clients = [signed_in("sh_officer", f"10.0.0.{n}") for n in range(1, 5)]
    assert clients[0].get("/leads/").status_code == 302  # signed out by the cap
    assert all(client.get("/leads/").status_code == 200 for client in clients[1:])
    rows = OfficerSession.objects.filter(officer=bureau.shanghai_officer).order_by("created_at")
    assert [(row.ip, row.ended_why) for row in rows] == [
        ("10.0.0.1", "cap"),
        ("10.0.0.2", ""),
        ("10.0.0.3", ""),
        ("10.0.0.4", ""),
    ]
    # A colleague's sessions are not counted against the officer's.
    signed_in("sh_teammate", "10.0.0.9")
    assert clients[1].get("/leads/").status_code == 200


def test_the_previous_sign_in_is_shown_after_signing_in(bureau):
    signed_in("sh_officer", "10.1.1.1")
    client = Client(REMOTE_ADDR="10.2.2.2")
    page = client.post(
        "/login/", {"username": "sh_officer", "password": PASSWORD}, follow=True
    ).content.decode()
    assert "上次登录" in page and "10.1.1.1" in page


def test_an_officer_ends_another_of_their_sessions_and_nobody_elses(bureau):
    phone = signed_in("sh_officer", "10.0.0.1")
    laptop = signed_in("sh_officer", "10.0.0.2")
    page = laptop.get("/sessions/").content.decode()
    rows = re.findall(r'data-session="(\d+)"', page)
    assert len(rows) == 2 and "当前" in page
    phone_row = OfficerSession.objects.get(ip="10.0.0.1")
    outsider = signed_in("sz_officer", "10.9.9.9")
    assert outsider.post(f"/sessions/{phone_row.pk}/end/").status_code == 404
    assert phone.get("/leads/").status_code == 200
    assert laptop.post(f"/sessions/{phone_row.pk}/end/").status_code == 302
    assert phone.get("/leads/").status_code == 302
    phone_row.refresh_from_db()
    assert phone_row.ended_why == "ended_by_owner"
    assert laptop.get("/leads/").status_code == 200
    # Ending this session signs out here.
    own = OfficerSession.objects.get(ip="10.0.0.2")
    assert laptop.post(f"/sessions/{own.pk}/end/")["Location"].startswith("/login/")
    assert laptop.get("/leads/").status_code == 302


def test_signing_out_ends_the_row_and_the_sessions_page_needs_a_sign_in(bureau):
    client = signed_in("sh_officer", "10.0.0.1")
    client.post("/logout/")
    assert OfficerSession.objects.get().ended_why == "signed_out"
    assert Client().get("/sessions/").status_code == 302
