"""The header's search box on a phone (issue #15 finding 10): it fits 375 px, its field is a
44-px tap target, and typing an investor's initials there opens its page."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_investor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_header_box_finds_an_investor_by_initials_on_a_phone(phone, bureau):
    me = bureau.shanghai_officer
    investor = make_investor(me, "华为技术有限公司", name_en="Huawei Technologies Co., Ltd.")
    phone.goto("/login/")
    phone.get_by_label("用户名").fill("sh_officer")
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/")
    box = phone.get_by_role("searchbox", name="搜索客商、项目信息、项目")
    size = box.bounding_box()
    assert size is not None and size["height"] >= 44 and size["width"] >= 200
    box.fill("hwjs")
    box.press("Enter")
    phone.wait_for_url("**/search/?q=hwjs")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.get_by_role("link", name="华为技术有限公司").click()
    phone.wait_for_url(f"**/investors/{investor.pk}/")
