"""Second factor in headless Chromium (issue #16): a chief without a device is taken to the
enrolment page at sign-in, scans (here: reads) the key, confirms with the app's code, is shown
ten recovery codes once; the next sign-in asks the app's code, the one after a recovery code."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import key_of, screenshot, totp_code
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password_step(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("load")


def sign_out(page) -> None:
    page.locator("form.signout button").click()
    page.wait_for_url("**/login/**")


def test_a_chief_enrols_then_signs_in_with_the_apps_code_and_a_recovery_code(desktop, bureau):
    page = desktop
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )

    password_step(page, "chief")
    # Must use a second factor and has none: the enrolment page, and nothing else.
    assert "/account/two-factor/enrol/" in page.url
    assert page.locator("figure.qr svg").is_visible()  # the QR code, inline SVG
    secret = page.locator("[data-secret]").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ?)+", secret)
    screenshot(page, "two-factor-enrol")
    page.goto("/leads/")
    assert "/account/two-factor/" in page.url  # refused elsewhere until enrolled
    page.locator("#id_code").fill(totp_code(key_of(secret)))
    page.get_by_role("button", name="确认启用").click()
    codes = page.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_url(re.compile(r"/leads/$"))
    device = TOTPDevice.objects.get(user=bureau.chief, confirmed=True)
    assert device.bin_key == key_of(secret)

    # The next sign-in asks the app's code before any page.
    sign_out(page)
    password_step(page, "chief")
    assert "/account/two-factor/" in page.url and "/enrol/" not in page.url
    page.locator("#id_code").fill("000000")
    page.get_by_role("button", name="验证").click()
    assert "验证码不正确" in page.locator("main").inner_text()
    page.wait_for_timeout(1100)  # django-otp slows a device down 1 s after a wrong code
    device.refresh_from_db()
    page.locator("#id_code").fill(totp_code(key_of(secret), after_step=device.last_t))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(re.compile(r"/$"))
    assert "/account/two-factor/" not in page.url

    # Without the phone: a recovery code, once.
    sign_out(page)
    password_step(page, "chief")
    page.locator("#id_code").fill(codes[0])
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(re.compile(r"/$"))
    assert "还剩 9 个" in page.locator(".messages").inner_text()
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert violations == []
