"""The cockpit's funnel chart in a real browser (issue #17): ECharts draws the period's
funnel from its json_script data under the Content-Security-Policy, each stage labelled with
its count and, from the second stage on, the conversion from the previous one."""

from __future__ import annotations

import pytest

from leads.choices import LeadStatus
from tests.browser.conftest import screenshot, sign_in, wait_until
from tests.browser.test_csp import WATCH, _open
from tests.factories import make_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_funnel_chart_draws_with_conversions(desktop, bureau):
    # Registered today: 信息 4, 有效 3, 在谈 2 in the year to date (the default period).
    for status in (LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING):
        make_lead(bureau.shanghai_officer, status=status)
    make_lead(bureau.outsider, status=LeadStatus.NEGOTIATING)
    page = desktop
    page.add_init_script(WATCH)
    sign_in(page, "chief")
    _open(page, "/dashboard/")
    page.wait_for_selector("#chart-funnel svg")
    chart = "document.querySelector('#chart-funnel svg').textContent"
    wait_until(page, f"{chart}.includes('转化率')")
    text = page.evaluate(chart)
    assert "信息 4" in text and "有效 3" in text and "在谈 2" in text, text
    assert "转化率 75.0%" in text and "转化率 66.7%" in text, text
    # The table says the same for those who do not see the chart.
    table = page.locator("table.funnel").inner_text()
    assert "75.0%" in table and "66.7%" in table
    assert page.evaluate("window.__violations") == []
    screenshot(page, "cockpit-funnel")
