"""The demo bureau's enquiry clocks (办理时限, issue #20): one lead of the Shanghai office's
officer (the demo login) in each state — met on time, met late, due, overdue, stopped.

The clock reads the moments records were written (a lead's registration, a visit's logging, a
status change, a recorded feedback), which no service lets anyone set: that is what makes it
hard to game. The demo's other leads are all written on the day the demo is loaded, so their
clocks all start today. These few are written through the same services as they would have
been on earlier days: ``_as_of`` stamps what is written inside it with that moment.

Called once by promo.devtools.demo.bureau.DemoBureau.build, after the leads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any
from unittest import mock

from django.utils import timezone

from leads import services as lead_services
from leads.choices import SourceChannel, VisitKind
from leads.models import Intermediary, Lead
from officers.choices import Role
from officers.models import Officer
from promo.core.audit import audited
from promo.core.choices import Industry

from . import names as N

# (investor, lead, channel, industry): distinctive names, so no duplicate check trips on them.
_CASES = {
    "on_time": ("沪东晨曦光电科技有限公司", "晨曦光电车载显示模组项目", SourceChannel.INTERMEDIARY),
    "late": (
        "甬江澄明新材料股份有限公司",
        "澄明新材料高端膜材项目",
        SourceChannel.INVESTOR_REFERRAL,
    ),
    "due": ("申江启衡智能装备有限公司", "启衡智能协作机器人项目", SourceChannel.INTERMEDIARY),
    "overdue": ("松江远澈生物医药有限公司", "远澈生物制剂中试基地项目", SourceChannel.STATIONED),
    "quiet": ("浦江拓朴储能技术有限公司", "拓朴储能电池包项目", SourceChannel.STATIONED),
    "stopped": ("嘉定衡岳精工有限公司", "衡岳精工轴承扩产项目", SourceChannel.INTERMEDIARY),
}


@contextmanager
def _as_of(moment: datetime) -> Iterator[None]:
    """Everything written inside is stamped ``moment`` (auto_now_add, today(), the services'
    timezone.now()): the record as it would have been written that day."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def add_demo_clocks(demo: Any) -> list[Lead]:
    """The showcase leads, each with its clock in one state on the day the demo is loaded."""
    unit = demo.teams["上海办事处"].unit
    officer = (
        Officer.objects.filter(unit=unit, role=Role.OFFICER).order_by("pk").first()
    )  # the demo login (demo_logins)
    assert officer is not None
    now = timezone.now()
    today = timezone.localdate()

    def moment(days_ago: int, hour: int = 10) -> datetime:
        day = today - timedelta(days=days_ago)
        stamp = timezone.make_aware(datetime.combine(day, time(hour)))
        return min(stamp, now)

    broker = Intermediary.objects.filter(unit=unit).order_by("pk").first()
    if broker is None:
        with audited(demo.chief, "seed_demo: 登记中介人"):
            broker = Intermediary.objects.create(
                name="沈立群", kind="person", organization="上海浦江投资咨询", unit=unit
            )

    registered: list[Lead] = []

    def register(case: str, days_ago: int) -> Lead:
        investor_name, lead_name, channel = _CASES[case]
        with _as_of(moment(days_ago, 9)):
            investor = lead_services.investor_create(
                actor=officer,
                name=investor_name,
                industry=Industry.ELECTRONICS,
                credit_code=N.credit_code("310115", 99_000_000 + len(registered)),
                city="上海",
            )
            lead = lead_services.lead_create(
                actor=officer,
                investor=investor,
                name=lead_name,
                industry=Industry.ELECTRONICS,
                source_channel=channel,
                intermediary=broker if channel == SourceChannel.INTERMEDIARY else None,
                estimated_amount=20_000,
                description="办理时限演示：见项目信息页的“办理时限”。",
            )
        registered.append(lead)
        return lead

    def visit(lead: Lead, days_ago: int, summary: str) -> None:
        with _as_of(moment(days_ago, 15)):
            lead_services.visit_log(
                actor=officer,
                kind=VisitKind.CALL,
                visited_on=timezone.localdate(),
                investor=lead.investor,
                lead=lead,
                summary=summary,
            )

    def step(days_ago: int, action: Any, **kwargs: Any) -> None:
        with _as_of(moment(days_ago, 16)):
            action(actor=officer, **kwargs)

    # Every step met on time, and a progress report due within the fortnight.
    lead = register("on_time", 30)
    visit(lead, 30, "电话联系投资方，了解模组项目的用地和产能需求。")
    step(28, lead_services.lead_qualify, lead=lead)
    step(25, lead_services.referrer_feedback_record, lead=lead, note="电话告知中介人：已对接。")
    step(20, lead_services.lead_start_negotiation, lead=lead)
    visit(lead, 8, "洽谈厂房租赁条件，投资方提出代建需求。")
    # Every step met, each three days late.
    lead = register("late", 40)
    visit(lead, 36, "首次电话沟通，约定赴企业考察。")
    step(34, lead_services.lead_qualify, lead=lead)
    step(30, lead_services.referrer_feedback_record, lead=lead, note="向推荐企业反馈对接情况。")
    # Registered this morning: the response, the assessment and the feedback all due.
    register("due", 0)
    # Registered six days ago and not yet answered: the response and the assessment overdue.
    register("overdue", 6)
    # Negotiating, the last progress report five weeks ago: overdue three weeks.
    lead = register("quiet", 60)
    visit(lead, 59, "电话沟通储能项目意向。")
    step(58, lead_services.lead_qualify, lead=lead)
    step(50, lead_services.lead_start_negotiation, lead=lead)
    visit(lead, 35, "洽谈电池包产线落地方案。")
    # Dropped before anyone answered: the clock stopped, its steps unmet.
    lead = register("stopped", 12)
    step(11, lead_services.lead_drop, lead=lead, reason="投资方转投其他地区")
    return registered
