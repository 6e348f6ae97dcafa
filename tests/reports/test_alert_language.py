"""Alert messages in the reader's language: kept as a rule and parameters, worded when shown.

The daily run used to write each alert's message once, in Chinese, in SQL; an officer who
reads English got it in Chinese on every page, in the bell and by e-mail. Now the run keeps
the parameters (``Alert.params``) and the message is made through gettext when rendered.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from projects.services import project_create
from promo.core.choices import Industry
from promo.reports.choices import AlertRule
from promo.reports.messages import alert_message
from promo.reports.models import Alert
from promo.reports.services import alert_notices_send_email, alerts_evaluate
from tests.factories import make_investor
from tests.web.test_i18n import CJK, compiled  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("compiled")]
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def lit(bureau, settings):
    """A project signed on 1 August and not started: red on 1 November, 92 days on."""
    settings.PROMO_ALERT_VALID_LEAD_DAY = 32
    me = bureau.shanghai_officer
    me.email = "zhang@promo.test"
    me.save(update_fields=["email"])
    with time_machine.travel(datetime(2026, 11, 25, 10, 0, tzinfo=TZ), tick=False):
        project_create(
            actor=me,
            investor=make_investor(me, name="Acme Holdings"),
            name="Battery Plant",
            industry=Industry.ELECTRONICS,
            contract_date=date(2026, 8, 1),
            total_investment=500,
        )
        alerts_evaluate(on=date(2026, 11, 1))
    return Alert.objects.get(rule=AlertRule.NOT_STARTED)


def test_the_message_is_worded_in_the_readers_language(lit):
    assert lit.params == {"name": "Battery Plant", "days": 92}
    with translation.override("zh-hans"):
        # Chinese: exactly the text the run stored (and the admin searches).
        assert lit.message == lit.detail == "Battery Plant：签约 92 天未开工"
    with translation.override("en"):
        assert lit.message == "Battery Plant: signed 92 days ago, not started"
        assert str(lit).endswith("Battery Plant: signed 92 days ago, not started")


def test_an_alert_opened_before_the_parameters_were_kept_shows_its_stored_text(lit):
    Alert.objects.filter(pk=lit.pk).update(params={})
    lit.refresh_from_db()
    with translation.override("en"):
        assert lit.message == lit.detail


def test_the_next_run_gives_an_old_alert_its_parameters(lit):
    Alert.objects.filter(pk=lit.pk).update(params={})
    alerts_evaluate(on=date(2026, 11, 2))
    lit.refresh_from_db()
    assert lit.params == {"name": "Battery Plant", "days": 93}


SAMPLES: dict[str, dict[str, Any]] = {
    AlertRule.MILESTONE_OVERDUE: {"name": "P", "days": 3},
    AlertRule.NOT_STARTED: {"name": "P", "days": 1},
    AlertRule.NOT_PRODUCING: {"name": "P", "days": 40},
    AlertRule.LEAD_NO_FOLLOW_UP: {"name": "L", "days": 31},
    AlertRule.NEGOTIATION_QUIET: {"name": "L", "days": 61},
    AlertRule.NO_VALID_LEAD: {"name": "Unit A", "month": "2026-11-01"},
    AlertRule.PROBLEM_OVERDUE: {"name": "Water", "days": 2},
    AlertRule.PROBLEM_ASKED_TWICE: {"name": "Water"},
    AlertRule.CLOCK_OVERDUE: {"name": "L", "step": "respond", "days": 2},
    AlertRule.AGREEMENT_AT_RISK: {"name": "P", "metric": "annual_tax", "due": "2026-12-03"},
    AlertRule.AGREEMENT_BREACH: {"name": "P", "metric": "land", "due": "2026-12-03"},
    AlertRule.PROMISE_OVERDUE: {"name": "P", "description": "Road", "days": 5},
    AlertRule.SERVICE_VISIT_OVERDUE: {"name": "P", "days": 12},
}


def test_every_rule_has_an_english_message_with_english_dates_and_colons():
    assert set(SAMPLES) == set(AlertRule)
    with translation.override("en"):
        for rule, params in SAMPLES.items():
            text = alert_message(rule, params, "回退")
            assert text != "回退" and not CJK.findall(text), (rule, text)
            assert text.startswith(f"{params['name']}: ")
        assert "3 Dec 2026" in alert_message(
            AlertRule.AGREEMENT_AT_RISK, SAMPLES[AlertRule.AGREEMENT_AT_RISK], ""
        )
        assert "Nov 2026" in alert_message(
            AlertRule.NO_VALID_LEAD, SAMPLES[AlertRule.NO_VALID_LEAD], ""
        )
        assert alert_message(AlertRule.NOT_STARTED, {"name": "P", "days": 1}, "") == (
            "P: signed 1 day ago, not started"
        )
    with translation.override("zh-hans"):
        assert alert_message(
            AlertRule.AGREEMENT_AT_RISK, SAMPLES[AlertRule.AGREEMENT_AT_RISK], ""
        ) == ("P：年税收(万元)承诺 2026年12月3日 到期，尚未达成")


def test_the_e_mail_is_written_in_the_recipients_language(lit, bureau, mailoutbox):
    me = bureau.shanghai_officer
    me.language = "en"
    me.save(update_fields=["language"])

    assert alert_notices_send_email() == (1, 0)

    [message] = mailoutbox
    assert message.subject == (
        "[promo] Red Signed, not broken ground: Battery Plant: signed 92 days ago, not started"
    )
    text = message.subject + message.body
    left = CJK.findall(text.replace(me.display_name, ""))
    assert left == [], left
    assert "Raised on: 1 Nov 2026" in message.body and "2026-11-01" not in message.body
