"""An alert's message (预警说明) in the reader's language, rendered when it is shown.

The daily run stores each alert's rule with its parameters (``Alert.params``: the record's
name, the days, the due date…), worked out in SQL; the text is made here, through gettext,
in the language active when a page, a notice, an e-mail or a webhook is rendered. The
Chinese text the run also stores (``Alert.detail``) is the fallback for alerts opened before
the parameters were kept, and what the admin searches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from leads.choices import ClockStep
from promo.agreements.choices import Metric

from .choices import AlertRule

# The rules whose message counts days (params["days"]).
_DAYS = frozenset(
    {
        AlertRule.MILESTONE_OVERDUE,
        AlertRule.NOT_STARTED,
        AlertRule.NOT_PRODUCING,
        AlertRule.LEAD_NO_FOLLOW_UP,
        AlertRule.NEGOTIATION_QUIET,
        AlertRule.CLOCK_OVERDUE,
        AlertRule.PROMISE_OVERDUE,
        AlertRule.PROBLEM_OVERDUE,
        AlertRule.SERVICE_VISIT_OVERDUE,
    }
)


def _plain(rule: str) -> str | None:
    """The rules without a count of days (gettext is called with literals, for makemessages)."""
    if rule == AlertRule.AGREEMENT_AT_RISK:
        return gettext("%(name)s：%(metric)s承诺 %(due)s 到期，尚未达成")
    if rule == AlertRule.AGREEMENT_BREACH:
        return gettext("%(name)s：%(metric)s承诺未履约（期限 %(due)s）")
    if rule == AlertRule.NO_VALID_LEAD:
        return gettext("%(name)s：%(month)s尚未报送有效信息")
    if rule == AlertRule.PROBLEM_ASKED_TWICE:
        return gettext("%(name)s：企业二次催办")
    return None


def _days(rule: str, days: int) -> str:
    # Literal msgids, so that makemessages finds every pair.
    texts: dict[str, Callable[[], str]] = {
        AlertRule.MILESTONE_OVERDUE: lambda: ngettext(
            "%(name)s：节点逾期 %(days)s 天", "%(name)s：节点逾期 %(days)s 天", days
        ),
        AlertRule.NOT_STARTED: lambda: ngettext(
            "%(name)s：签约 %(days)s 天未开工", "%(name)s：签约 %(days)s 天未开工", days
        ),
        AlertRule.NOT_PRODUCING: lambda: ngettext(
            "%(name)s：竣工 %(days)s 天未投产", "%(name)s：竣工 %(days)s 天未投产", days
        ),
        AlertRule.LEAD_NO_FOLLOW_UP: lambda: ngettext(
            "%(name)s：%(days)s 天未跟进", "%(name)s：%(days)s 天未跟进", days
        ),
        AlertRule.NEGOTIATION_QUIET: lambda: ngettext(
            "%(name)s：在谈 %(days)s 天无进展", "%(name)s：在谈 %(days)s 天无进展", days
        ),
        AlertRule.CLOCK_OVERDUE: lambda: ngettext(
            "%(name)s：%(step)s逾期 %(days)s 天", "%(name)s：%(step)s逾期 %(days)s 天", days
        ),
        AlertRule.PROMISE_OVERDUE: lambda: ngettext(
            "%(name)s：政府承诺“%(description)s”逾期 %(days)s 天未兑现",
            "%(name)s：政府承诺“%(description)s”逾期 %(days)s 天未兑现",
            days,
        ),
        AlertRule.PROBLEM_OVERDUE: lambda: ngettext(
            "%(name)s：超期 %(days)s 天未办结", "%(name)s：超期 %(days)s 天未办结", days
        ),
        AlertRule.SERVICE_VISIT_OVERDUE: lambda: ngettext(
            "%(name)s：服务走访逾期 %(days)s 天", "%(name)s：服务走访逾期 %(days)s 天", days
        ),
    }
    return texts[rule]()


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def alert_message(rule: str, params: Mapping[str, Any] | None, fallback: str) -> str:
    """The alert's message in the active language; ``fallback`` (the stored Chinese text)
    when the parameters were not kept (alerts opened before they were) or do not fit."""
    if not params:
        return fallback
    values: dict[str, Any] = dict(params)
    try:
        if values.get("due"):
            values["due"] = date_format(date.fromisoformat(str(values["due"])), "SHORT_DATE_FORMAT")
        if values.get("month"):
            month = date.fromisoformat(str(values["month"]))
            values["month"] = date_format(month, "YEAR_MONTH_FORMAT")
        if "metric" in values:
            values["metric"] = _label(Metric, str(values["metric"]))
        if "step" in values:
            values["step"] = _label(ClockStep, str(values["step"]))
        if rule in _DAYS:
            values["days"] = int(values["days"])
            return _days(rule, values["days"]) % values
        text = _plain(rule)
        return text % values if text is not None else fallback
    except (KeyError, TypeError, ValueError):
        return fallback
