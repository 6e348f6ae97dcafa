"""End-to-end tests in real headless Chromium (Debian's package), driven by Playwright.

`make test` installs Chromium through `make browser`; nothing is downloaded by Playwright.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# This machine's network is closed: without these flags Chromium keeps dialling out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 375, "height": 667}
# The phone of issue #15's walk (an iPhone X-class screen).
TALL_PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make browser` (Debian packages chromium).")
    # Playwright's sync API runs an event loop in the test thread; Django would then refuse
    # ORM calls made by the test itself (the live server runs in its own thread). Allowed
    # for the browser tests only, and put back afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Playwright gives every launch a new, empty profile directory of its own.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def phone(browser, live_server) -> Iterator[object]:
    """A phone-sized page (375 px) in Chinese, pointed at the live server."""
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", base_url=live_server.url, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def tall_phone(browser, live_server) -> Iterator[object]:
    """A 375 × 812 phone page in Chinese, with touch: the scripted phone walk's screen."""
    context = browser.new_context(
        viewport=TALL_PHONE,
        locale="zh-CN",
        base_url=live_server.url,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser, live_server) -> Iterator[object]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Keep a picture of the page under docs/screenshots/ for readers of the docs.

    Only with PROMO_SCREENSHOTS=1 (`make screenshots`), so a test run leaves the committed
    pictures alone.
    """
    if os.environ.get("PROMO_SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Wait until a JavaScript expression is true in the page.

    Not Playwright's ``wait_for_function``: it compiles its predicate with ``eval`` inside the
    page, which promo's Content-Security-Policy (no 'unsafe-eval') refuses. ``evaluate`` runs
    through the DevTools protocol, outside the page's policy.
    """
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)


def totp_code(key: bytes, *, after_step: int = -1) -> str:
    """The code an authenticator app shows now for ``key`` — or, when the current time step
    is not after ``after_step`` (its code was used: TOTP refuses it twice), the next step's,
    which django-otp accepts (a step of tolerance for the phone's clock)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(key)
    totp.time = time.time()
    if totp.t() <= after_step:
        totp.time += 30
    return f"{totp.token():06d}"


def key_of(secret_text: str) -> bytes:
    """The key behind the text shown on the enrolment page (base32 in groups of four)."""
    from base64 import b32decode

    text = secret_text.replace(" ", "").strip()
    return b32decode(text + "=" * (-len(text) % 8))


def pass_second_factor(page, username: str) -> None:
    """After the password step: if promo asks for the second factor, give it as the officer
    would — the app's code, or, for one who must use a second factor and has none yet,
    enrolling the app first (the key read from the page, the recovery codes acknowledged)."""
    import re

    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.wait_for_load_state("load")
    if "/account/two-factor/" not in page.url:
        return
    if "/enrol/" in page.url:
        secret = page.locator("[data-secret]").inner_text()
        page.locator("#id_code").fill(totp_code(key_of(secret)))
        page.get_by_role("button", name="确认启用").click()
        page.wait_for_selector("[data-recovery-codes]")
        page.get_by_role("link", name="我已保存，继续").click()
        page.wait_for_url(re.compile(r"^(?!.*/account/two-factor/)"))
        return
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    page.locator("#id_code").fill(totp_code(device.bin_key, after_step=device.last_t))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url(re.compile(r"^(?!.*/account/two-factor/)"))


def sign_in(page, username: str) -> None:
    """Sign in through the form as ``username`` (the test password), passing the second factor
    when promo asks for it, and land on the home page."""
    import re

    from tests.factories import PASSWORD

    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    pass_second_factor(page, username)  # a chief enrols or enters the app's code
    page.wait_for_url(re.compile(r"/$"))
