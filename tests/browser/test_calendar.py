"""The calendar on a phone (issue #15): it fits 375 px, and the feed address made from it works."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest

from leads import services as lead_services
from projects import services as project_services
from promo.core.services import today
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_investor, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_calendar_fits_a_phone_and_its_feed_address_subscribes(phone, bureau):
    me = bureau.shanghai_officer
    investor = make_investor(me, "苏州华鑫精密电子科技股份有限公司")
    visit = lead_services.visit_log(
        actor=me,
        kind="visit",
        visited_on=today() - timedelta(days=1),
        investor=investor,
        summary="洽谈二期扩产",
        next_step="寄送园区政策资料和用地方案给投资发展部",
        next_step_due=today() + timedelta(days=2),
    )
    project = make_project(me, name="华鑫精密二期扩产项目")
    project_services.project_set_plan(
        project=project,
        actor=me,
        reason="排定节点",
        groundbreaking_planned=today() + timedelta(days=12),
        completed_planned=today() + timedelta(days=150),
        producing_planned=None,
        milestones_planned={"registered": today() - timedelta(days=3)},
    )
    phone.goto("/login/")
    phone.get_by_label("用户名").fill("sh_officer")
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/")
    phone.get_by_role("link", name="日程：今后的跟进和项目节点").click()
    phone.wait_for_url("**/calendar/")
    assert "寄送园区政策资料和用地方案给投资发展部" in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    phone.get_by_role("button", name="生成订阅地址").click()
    phone.wait_for_url("**/calendar/")
    address = phone.get_by_label("订阅地址").input_value()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone, "calendar-phone")
    # The phone's calendar fetches it without the session.
    phone.context.clear_cookies()
    response = phone.request.get(address)
    assert response.status == 200
    events = icalendar.Calendar.from_ical(response.body()).walk("VEVENT")
    assert {str(event["uid"]) for event in events} == {
        f"follow-up-{visit.pk}@promo",
        f"project-{project.pk}-registered@promo",
        f"project-{project.pk}-groundbreaking@promo",
        f"project-{project.pk}-completed@promo",
    }
