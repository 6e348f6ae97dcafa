"""The browser can reach promo: the sign-in page in Chinese on a phone."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_on_a_phone_lands_on_my_work_in_chinese(phone, bureau):
    phone.goto("/login/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    phone.get_by_label("用户名").fill("sh_officer")
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/")
    assert "登记走访" in phone.content()
    # The page fits a 375-px screen: nothing wider than the viewport.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
