"""Content-Security-Policy in a real browser (issue #16): every page promo serves carries the
policy, and under it nothing is blocked — the cockpit's charts draw, the bulletin's print
button prints, the API viewer and the admin load. A page that still relied on an inline
script or handler would report a violation here."""

from __future__ import annotations

import pytest
import time_machine

from promo.reports.choices import BulletinKind
from promo.reports.services import bulletin_generate
from tests.browser.conftest import sign_in, wait_until
from tests.reports.seed import START, TODAY, build_october

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
window.__printed = 0;
window.print = function () { window.__printed += 1; };
"""


def _open(page, path: str) -> None:
    answer = page.goto(path)
    assert answer is not None and answer.status == 200, (path, answer and answer.status)
    policy = answer.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, (path, policy)
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_every_main_page_runs_under_the_policy_with_nothing_blocked(desktop, bureau):
    with time_machine.travel(TODAY, tick=False):
        build_october(bureau)
        bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    page = desktop
    page.add_init_script(WATCH)
    sign_in(page, "chief")

    for path in (
        "/",
        "/leads/",
        "/leads/visits/",
        "/visits/new/",
        "/projects/",
        "/agreements/",
        "/calendar/",
        "/sessions/",
    ):
        _open(page, path)
        assert page.evaluate("window.__violations") == [], path

    _open(page, "/dashboard/")
    page.wait_for_selector("#chart-trend svg")  # ECharts drew, from its static file
    assert page.evaluate("window.__violations") == []

    _open(page, f"/reports/bulletins/{bulletin.pk}/")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1
    assert page.evaluate("window.__violations") == []

    _open(page, "/api/docs/")
    page.wait_for_selector(".swagger-ui .info")  # its set-up script is a file, not inline
    assert page.evaluate("window.__violations") == []

    _open(page, "/admin/")
    _open(page, f"/admin/reports/bulletin/{bulletin.pk}/print/")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1
    assert page.evaluate("window.__violations") == []


def test_an_inline_script_is_refused_by_the_browser(desktop, bureau):
    """What the policy is for: a script slipped into a page does not run."""
    page = desktop
    page.add_init_script(WATCH)
    sign_in(page, "sh_officer")
    _open(page, "/leads/")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__ran = true";
          document.body.appendChild(s);
        }"""
    )
    wait_until(page, "window.__violations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("window.__violations")[0].startswith("script-src")
