"""Second factor (双因素认证, issue #16): TOTP enrolment with a QR code, the code at sign-in,
single-use recovery codes, who must use one, and where it is enforced (the officers' site, the
admin, the API with a session — not an API token)."""

from __future__ import annotations

import logging
import re
import time
from base64 import b32decode

import pytest
import time_machine
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from leads.models import Lead
from officers.choices import Role
from officers.models import OfficerSession
from promo.api.clients import api_client_create
from tests.conftest import sign_in_password_only
from tests.factories import PASSWORD, make_lead, make_officer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # django-otp slows down a device after a failure (1 s, 2 s, 4 s…); the tests that mix a
    # wrong and a right code would otherwise wait. The lockout is promo's, and stays.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice) -> str:
    """The code the officer's app shows now (django-otp's own TOTP)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def code_from_secret(secret: str) -> str:
    """The code an app set up by hand with the key shown on the page shows now."""
    key = b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    return f"{totp(key):06d}"


def sign_in(username: str, ip: str = "10.0.0.9") -> tuple[Client, object]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    return client, response


def enrol(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Enrol through the pages, as an officer does: the secret read from the page."""
    page = client.get("/account/two-factor/enrol/").content.decode()
    secret = re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", page).group(1)
    response = client.post("/account/two-factor/enrol/", {"code": code_from_secret(secret)})
    assert response.status_code == 200, response.content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    return TOTPDevice.objects.get(confirmed=True, user_id=client.session["_auth_user_id"]), codes


def test_enrolment_shows_the_qr_and_the_key_and_gives_ten_recovery_codes_once(bureau):
    client = Client()
    client.force_login(bureau.shanghai_officer)  # may use a second factor, need not
    assert "尚未启用" in client.get("/account/two-factor/").content.decode()
    page = client.get("/account/two-factor/enrol/").content.decode()
    assert re.search(r"<svg[^>]*>.*</svg>", page, re.S)  # inline SVG: no data: URL, no script
    secret = re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", page).group(1)
    # The same secret on a reload; nothing stored until a code confirms it.
    assert secret in client.get("/account/two-factor/enrol/").content.decode()
    assert not TOTPDevice.objects.filter(user=bureau.shanghai_officer).exists()
    refused = client.post("/account/two-factor/enrol/", {"code": "000000"})
    assert refused.status_code == 200 and "验证码不正确" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=bureau.shanghai_officer).exists()
    response = client.post("/account/two-factor/enrol/", {"code": code_from_secret(secret)})
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    device = TOTPDevice.objects.get(user=bureau.shanghai_officer)
    assert device.confirmed
    assert b32decode(secret.replace(" ", "")) == device.bin_key
    assert "issuer=promo" in device.config_url and "sh_officer" in device.config_url
    assert sorted(
        StaticToken.objects.filter(device__user=bureau.shanghai_officer).values_list(
            "token", flat=True
        )
    ) == sorted(codes)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    # Shown once: the status page gives the count, not the codes.
    status = client.get("/account/two-factor/").content.decode()
    assert "已启用" in status and "还剩 10 个恢复码" in status
    assert not any(code in status for code in codes)


def test_sign_in_with_a_device_asks_the_code_before_anything_else(bureau):
    client = Client()
    sign_in_password_only(client, bureau.chief)
    device, _codes = enrol(client)
    OfficerSession.objects.all().delete()

    client, response = sign_in("chief")
    assert response.status_code == 302
    # The password alone is not yet a sign-in: no session row, nothing reachable.
    assert not OfficerSession.objects.filter(officer=bureau.chief).exists()
    page = client.get("/leads/")
    assert page.status_code == 302
    assert page["Location"] == "/account/two-factor/?next=%2Fleads%2F"
    assert client.get("/dashboard/").status_code == 302
    ask = client.get(page["Location"]).content.decode()
    assert "6 位验证码" in ask
    # The next time step: the enrolment's code is used, TOTP refuses it twice.
    with time_machine.travel(time.time() + 30, tick=True):
        verified = client.post(
            "/account/two-factor/", {"code": code_for(device), "next": "/leads/"}
        )
        assert verified.status_code == 302 and verified["Location"] == "/leads/"
    assert client.get("/leads/").status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    row = OfficerSession.objects.get(officer=bureau.chief)
    assert row.session_key == client.session.session_key and row.ended_at is None


def test_a_wrong_code_is_a_sign_in_failure_and_locks_like_a_wrong_password(
    bureau, settings, caplog
):
    settings.PROMO_LOGIN_FAILURES_PER_ACCOUNT = 3
    TOTPDevice.objects.create(user=bureau.shanghai_head, name="app", confirmed=True)
    client, _ = sign_in("sh_head", ip="10.0.0.5")
    with caplog.at_level(logging.INFO, logger="promo.security"):
        for _ in range(2):
            response = client.post("/account/two-factor/", {"code": "123456"})
            assert response.status_code == 200 and "验证码不正确" in response.content.decode()
        locked = client.post("/account/two-factor/", {"code": "123456"})
    assert locked.status_code == 302 and locked["Location"] == "/login/"
    assert "_auth_user_id" not in client.session  # signed out
    assert caplog.text.count("second factor failed (sign-in) username=sh_head") == 3
    assert "account locked username=sh_head" in caplog.text
    # The lock is the password's lock: the right password is refused from that address.
    _client, again = sign_in("sh_head", ip="10.0.0.5")
    assert again.status_code == 200 and "登录失败次数过多" in again.content.decode()


def test_a_recovery_code_works_once(bureau):
    client = Client()
    sign_in_password_only(client, bureau.shanghai_officer)
    _device, codes = enrol(client)
    client, _ = sign_in("sh_officer")
    used = client.post("/account/two-factor/", {"code": codes[3].upper()})  # case is forgiven
    assert used.status_code == 302
    assert client.get("/leads/").status_code == 200
    assert StaticToken.objects.filter(token=codes[3]).count() == 0
    assert StaticToken.objects.filter(device__user=bureau.shanghai_officer).count() == 9
    client.post("/logout/")
    client, _ = sign_in("sh_officer")
    again = client.post("/account/two-factor/", {"code": codes[3]})
    assert again.status_code == 200 and "恢复码只能用一次" in again.content.decode()
    assert client.get("/leads/").status_code == 302
    assert client.post("/account/two-factor/", {"code": codes[4]}).status_code == 302


def test_regenerated_recovery_codes_replace_the_old(bureau):
    client = Client()
    sign_in_password_only(client, bureau.shanghai_officer)
    _device, old = enrol(client)
    response = client.post("/account/two-factor/recovery-codes/")
    new = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    client, _ = sign_in("sh_officer")
    assert client.post("/account/two-factor/", {"code": old[0]}).status_code == 200
    assert client.post("/account/two-factor/", {"code": new[0]}).status_code == 302


def test_a_chief_without_a_device_must_enrol_and_reaches_nothing_else(bureau):
    lead = make_lead(bureau.shanghai_officer)
    client, response = sign_in("chief")
    assert response.status_code == 302
    for path in ("/", "/leads/", f"/leads/{lead.pk}/", "/dashboard/", "/password/", "/admin/"):
        page = client.get(path)
        assert page.status_code == 302, path
        assert page["Location"].startswith("/account/two-factor/"), path
    assert client.get("/account/two-factor/")["Location"].startswith("/account/two-factor/enrol/")
    api = client.get("/api/v1/leads/")
    assert api.status_code == 403
    assert api.json()["code"] == "two_factor_required"
    # A write through the API is refused too, and nothing is written.
    leads = Lead.objects.count()
    write = client.post("/api/v1/leads/", {}, content_type="application/json")
    assert write.status_code == 403 and write.json()["code"] == "two_factor_required"
    assert Lead.objects.count() == leads
    # Recovery codes cannot be made, nor another's factor reset, before enrolling.
    assert client.post("/account/two-factor/recovery-codes/").status_code == 302
    assert not StaticDevice.objects.filter(user=bureau.chief).exists()
    enrol(client)
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/api/v1/leads/").status_code == 200


def test_the_bureau_wide_switch_requires_it_of_every_officer(bureau, settings):
    client, _ = sign_in("sh_officer")
    assert client.get("/leads/").status_code == 200
    settings.PROMO_2FA_REQUIRED_FOR_ALL = True
    page = client.get("/leads/")
    assert page.status_code == 302 and page["Location"].startswith("/account/two-factor/")
    enrol(client)
    assert client.get("/leads/").status_code == 200
    # And it cannot be turned off by the officer while the switch is on.
    refused = client.post("/account/two-factor/remove/", {"code": "000000"})
    assert refused.status_code == 302
    assert TOTPDevice.objects.filter(user=bureau.shanghai_officer, confirmed=True).exists()


def test_an_officer_who_need_not_use_it_may_remove_it_with_a_code(bureau):
    client = Client()
    sign_in_password_only(client, bureau.shanghai_officer)
    _device, codes = enrol(client)
    wrong = client.post("/account/two-factor/remove/", {"code": "000000"})
    assert wrong.status_code == 302
    assert TOTPDevice.objects.filter(user=bureau.shanghai_officer).exists()
    client.post("/account/two-factor/remove/", {"code": codes[0]})
    assert not TOTPDevice.objects.filter(user=bureau.shanghai_officer).exists()
    assert not StaticDevice.objects.filter(user=bureau.shanghai_officer).exists()
    client, _ = sign_in("sh_officer")
    assert client.get("/leads/").status_code == 200  # no code asked any more


def test_a_chief_replaces_the_device_but_cannot_remove_it(bureau):
    client = Client()
    sign_in_password_only(client, bureau.chief)
    TOTPDevice.objects.filter(user=bureau.chief).delete()
    old, codes = enrol(client)
    assert client.post("/account/two-factor/remove/", {"code": codes[0]}).status_code == 302
    assert TOTPDevice.objects.filter(pk=old.pk).exists()
    page = client.get("/account/two-factor/enrol/").content.decode()
    assert "原设备的验证码" in page
    secret = re.search(r"<code data-secret>([A-Z2-7 ]+)</code>", page).group(1)
    refused = client.post(
        "/account/two-factor/enrol/", {"code": code_from_secret(secret), "current_code": "1"}
    )
    assert refused.status_code == 200 and TOTPDevice.objects.filter(pk=old.pk).exists()
    replaced = client.post(
        "/account/two-factor/enrol/",
        {"code": code_from_secret(secret), "current_code": codes[1]},
    )
    assert replaced.status_code == 200
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert TOTPDevice.objects.filter(user=bureau.chief, confirmed=True).count() == 1
    assert client.get("/dashboard/").status_code == 200


def test_the_admin_requires_the_second_factor(bureau):
    device = TOTPDevice.objects.create(user=bureau.chief, name="app", confirmed=True)
    client = Client()
    response = client.post("/admin/login/", {"username": "chief", "password": PASSWORD})
    assert response.status_code == 302
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/account/two-factor/")
    assert client.get("/admin/officers/officer/").status_code == 302
    client.post("/account/two-factor/", {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200


def test_a_session_api_call_needs_the_second_factor_a_token_does_not(bureau):
    make_lead(bureau.shanghai_officer)
    _, token = api_client_create(
        actor=make_officer(None, role=Role.SECURITY_ADMIN),
        name="发改项目库",
        officer=bureau.chief,
        access="read",
    )
    client, _ = sign_in("chief")  # no device: must enrol first
    refused = client.get("/api/v1/leads/")
    assert refused.status_code == 403
    assert refused.json() == {
        "code": "two_factor_required",
        "message": "请先在网页上完成双因素认证（验证码或恢复码）。",
    }
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    answer = api.get("/api/v1/leads/")
    assert answer.status_code == 200 and len(answer.json()["results"]) == 1


def test_a_security_administrator_resets_an_officers_second_factor(bureau, caplog):
    security_admin = make_officer(None, role=Role.SECURITY_ADMIN, username="anquan")
    chief = Client()
    sign_in_password_only(chief, bureau.chief)
    TOTPDevice.objects.filter(user=bureau.chief).delete()
    enrol(chief)
    assert chief.get("/dashboard/").status_code == 200

    # Nobody else may: a unit head (who does not even see the chief: 404), the chief on
    # himself. Nothing changes.
    for who, status in ((bureau.shanghai_head, 404), (bureau.chief, 403)):
        other = Client()
        other.force_login(who)
        assert other.post(f"/account/two-factor/reset/{bureau.chief.pk}/").status_code == status
    assert TOTPDevice.objects.filter(user=bureau.chief, confirmed=True).exists()

    # A security administrator's session that has not passed the second factor cannot.
    pending = Client()
    sign_in_password_only(pending, security_admin)  # must use one, has none yet
    held = pending.post(f"/account/two-factor/reset/{bureau.chief.pk}/")
    assert held.status_code == 302 and held["Location"].startswith("/account/two-factor/")
    assert TOTPDevice.objects.filter(user=bureau.chief, confirmed=True).exists()

    admin = Client()
    admin.force_login(security_admin)
    page = admin.get(f"/account/two-factor/reset/{bureau.chief.pk}/").content.decode()
    assert "已启用双因素认证" in page
    with caplog.at_level(logging.INFO, logger="promo.security"):
        response = admin.post(f"/account/two-factor/reset/{bureau.chief.pk}/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=bureau.chief).exists()
    assert not StaticDevice.objects.filter(user=bureau.chief).exists()
    assert "second factor reset by=anquan username=chief" in caplog.text
    # The chief's sessions are ended; at the next sign-in he enrols again.
    assert chief.get("/dashboard/").status_code == 302
    assert not OfficerSession.objects.filter(officer=bureau.chief, ended_at__isnull=True).exists()
    assert OfficerSession.objects.filter(officer=bureau.chief, ended_why="2fa_reset").exists()
    again, _ = sign_in("chief")
    assert again.get("/")["Location"].startswith("/account/two-factor/")
