"""A hand-built October 2026 for the reports tests, with the figures worked out by hand.

Build it with the clock frozen at ``TODAY`` (services refuse future dates). Period: October
2026. Lines: the bureau's first-level units (Shanghai office with its Pudong group, Shenzhen
office, the 发改委 department); the chief's lead sits on the bureau itself, so it counts only
in the bureau total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from leads import services as lead_services
from leads.choices import LeadStatus, VisitKind
from leads.models import Lead
from officers.choices import TargetMetric
from officers.services import target_set
from projects.choices import Milestone, Stage
from projects.models import Project
from projects.services import (
    progress_record,
    project_advance,
    project_create,
    project_milestone_correct,
    project_milestone_record,
)
from promo.core.choices import Industry
from tests.factories import (
    Bureau,
    make_investor,
    make_lead,
    met_elsewhere,
    sign_lead,
    stage_evidence,
)

TODAY = datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
START = date(2026, 10, 1)
END = date(2026, 10, 31)

# Hand-computed figures for October 2026 (see build_october for each record's part).
SHANGHAI = {
    "leads_in_hand": 2,  # L1 (negotiating), L2 (valid); L3 dropped, L4 signed, L5 qualified in Nov
    "leads_negotiating": 1,  # L1
    "investors_visiting": 2,  # investor A (received and inspecting: once), investor B
    "signed_count": 1,  # L4's project
    "signed_amount": Decimal("12000.00"),
    "ten_million_count": 1,
    "hundred_million_count": 1,
    "groundbreaking_count": 1,  # P2 (Pudong group, signed in August)
    "groundbreaking_amount": Decimal("3000.00"),
    "completed_count": 0,
    "producing_count": 0,
    "arrived_fdi": Decimal("190.00"),  # P2 100 → 250 (+150), L4's project 0 → 40
    "valid_leads": 2,  # L2, L3 (qualified in October; L3 dropped later the same month)
    "in_statistics_count": 1,  # P2 entered the statistics on 8 October
    "above_size_count": 0,
}
SHENZHEN = {
    "leads_in_hand": 1,  # L7
    "leads_negotiating": 1,
    "investors_visiting": 2,  # investor E, investor A
    "signed_count": 1,  # P3, 800 万元: under 10M
    "signed_amount": Decimal("800.00"),
    "ten_million_count": 0,
    "hundred_million_count": 0,
    "groundbreaking_count": 0,
    "groundbreaking_amount": Decimal("0.00"),
    "completed_count": 1,  # P4
    "producing_count": 1,  # P4
    "arrived_fdi": Decimal("0.00"),
    "valid_leads": 1,
    "in_statistics_count": 0,  # P4 in September; P3's 入统 withdrawn by the chief
    "above_size_count": 1,  # P4 became 规上 on 20 October
}
DEPARTMENT = {
    key: (Decimal("0.00") if isinstance(value, Decimal) else 0) for key, value in SHENZHEN.items()
}
TOTAL = {
    "leads_in_hand": 4,  # Shanghai 2 + Shenzhen 1 + the chief's L8 on the bureau itself
    "leads_negotiating": 2,
    "investors_visiting": 3,  # A, B, E: A visited both offices but is one investor
    "signed_count": 2,
    "signed_amount": Decimal("12800.00"),
    "ten_million_count": 1,
    "hundred_million_count": 1,
    "groundbreaking_count": 1,
    "groundbreaking_amount": Decimal("3000.00"),
    "completed_count": 1,
    "producing_count": 1,
    "arrived_fdi": Decimal("190.00"),
    "valid_leads": 4,
    "in_statistics_count": 1,
    "above_size_count": 1,
}
# October 2025: one Shanghai signing of 2000 万元.
SHANGHAI_LAST_YEAR_SIGNED = Decimal("2000.00")
# Year-to-date signed amount against the 2026 targets.
SHANGHAI_TARGET = Decimal("50000")  # 12000 (Oct) + 3000 (P2, Aug) = 15000 → 30.0 %
SHENZHEN_TARGET = Decimal("10000")  # 800 (Oct) + 5000 (P4, Jun) = 5800 → 58.0 %


@dataclass
class October:
    p2: Project
    l4_project: Project
    l1: Lead


def _lead(actor, *, investor=None, steps=()) -> Lead:
    lead = make_lead(actor, investor=investor)
    for status, on in steps:
        if status == LeadStatus.DROPPED:
            lead = lead_services.lead_transition(
                lead=lead, actor=actor, to_status=status, reason="投资方战略调整", on_date=on
            )
        else:
            lead = lead_services.lead_transition(
                lead=lead, actor=actor, to_status=status, on_date=on
            )
    return lead


def _project(actor, *, signed: date, amount: int, unit=None) -> Project:
    return project_create(
        actor=actor,
        investor=make_investor(actor),
        name=f"项目{signed:%Y%m%d}{amount}",
        industry=Industry.ELECTRONICS,
        contract_date=signed,
        total_investment=amount,
        unit=unit,
    )


def _visit(actor, investor, kind, on) -> None:
    lead_services.visit_log(
        actor=actor, kind=kind, visited_on=on, investor=investor, summary="洽谈"
    )


def build_october(b: Bureau) -> October:
    V, N = LeadStatus.VALID, LeadStatus.NEGOTIATING
    sh, pd, sz = b.shanghai_officer, b.sub_unit_officer, b.outsider
    # Shanghai office.
    l1 = _lead(sh, steps=[(V, date(2026, 9, 15)), (N, date(2026, 10, 10))])
    _lead(sh, steps=[(V, date(2026, 10, 5))])  # L2
    _lead(pd, steps=[(V, date(2026, 10, 8)), (LeadStatus.DROPPED, date(2026, 10, 20))])  # L3
    l4 = _lead(sh, steps=[(V, date(2026, 9, 1)), (N, date(2026, 9, 10))])
    l4_project = sign_lead(sh, l4, contract_date=date(2026, 10, 15), amount=12000)
    _lead(sh, steps=[(V, date(2026, 11, 1))])  # L5
    _lead(sh)  # L6: information only
    p2 = _project(pd, signed=date(2026, 8, 20), amount=3000)
    project_milestone_record(
        project=p2, actor=pd, milestone=Milestone.IN_STATISTICS, actual_date=date(2026, 10, 8)
    )
    project_advance(
        project=p2,
        actor=pd,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=date(2026, 10, 3),
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    progress_record(
        project=p2, actor=pd, month=date(2026, 9, 1), agreed_investment=3000, paid_in=500,
        fixed_asset_investment=400, arrived_fdi=100,
    )  # fmt: skip
    progress_record(
        project=p2, actor=pd, month=date(2026, 10, 1), agreed_investment=3000, paid_in=900,
        fixed_asset_investment=800, arrived_fdi=250,
    )  # fmt: skip
    progress_record(
        project=l4_project, actor=sh, month=date(2026, 10, 1), agreed_investment=12000,
        paid_in=100, fixed_asset_investment=50, arrived_fdi=40,
    )  # fmt: skip
    investor_a = make_investor(sh, name="甲客商科技有限公司")
    investor_b = make_investor(pd, name="乙客商材料有限公司")
    _visit(sh, investor_a, VisitKind.RECEPTION, date(2026, 10, 5))
    _visit(sh, investor_a, VisitKind.INSPECTION, date(2026, 10, 12))
    _visit(pd, investor_b, VisitKind.INSPECTION, date(2026, 10, 20))
    _visit(sh, make_investor(sh), VisitKind.VISIT, date(2026, 10, 21))  # outbound: not counted
    _visit(sh, make_investor(sh), VisitKind.RECEPTION, date(2026, 9, 30))  # September
    # Shenzhen office.
    _lead(sz, steps=[(V, date(2026, 10, 2)), (N, date(2026, 10, 3))])  # L7
    p3 = _project(sz, signed=date(2026, 10, 28), amount=800)
    p4 = _project(sz, signed=date(2026, 6, 1), amount=5000)
    for stage, on in (
        (Stage.GROUNDBREAKING, date(2026, 7, 1)),
        (Stage.COMPLETED, date(2026, 10, 10)),
        (Stage.PRODUCING, date(2026, 10, 25)),
    ):
        project_advance(
            project=p4, actor=sz, to_stage=stage, actual_date=on, evidence=stage_evidence(stage)
        )
    # The milestones after signing: P4 in the statistics in September, 规上 in October; P3's
    # 入统 recorded by mistake and withdrawn by the chief (it counts nowhere).
    for milestone, on in (
        (Milestone.IN_STATISTICS, date(2026, 9, 10)),
        (Milestone.ABOVE_SIZE, date(2026, 10, 20)),
    ):
        project_milestone_record(project=p4, actor=sz, milestone=milestone, actual_date=on)
    project_milestone_record(
        project=p3, actor=sz, milestone=Milestone.IN_STATISTICS, actual_date=date(2026, 10, 29)
    )
    project_milestone_correct(
        project=p3,
        actor=b.chief,
        milestone=Milestone.IN_STATISTICS,
        actual_date=None,
        reason="误录：尚未入统",
    )
    _visit(sz, make_investor(sz, name="戊客商汽车有限公司"), VisitKind.RECEPTION, date(2026, 10, 9))
    # Shanghai's investor, inspected by Shenzhen: older data, from before visit_log refused
    # another unit's investor (issue #13); the figures still count it.
    met_elsewhere(sz, investor_a, kind=VisitKind.INSPECTION, on=date(2026, 10, 22), summary="洽谈")
    # The bureau itself (counts in the total only).
    _lead(b.chief, steps=[(V, date(2026, 10, 6))])  # L8
    # October 2025, for "same month last year".
    _project(sh, signed=date(2025, 10, 10), amount=2000)
    # 2026 targets.
    for unit, value in ((b.shanghai, SHANGHAI_TARGET), (b.shenzhen, SHENZHEN_TARGET)):
        target_set(
            actor=b.chief, year=2026, metric=TargetMetric.SIGNED_AMOUNT, value=value, unit=unit
        )
    return October(p2=p2, l4_project=l4_project, l1=l1)
