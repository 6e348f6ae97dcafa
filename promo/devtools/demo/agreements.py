"""The demo bureau's investment agreements (投资协议) in every state a chief asks about.

Called once by promo.devtools.demo.bureau.DemoBureau.build, after the projects: everything goes
through promo.agreements.services with the people who would do it — the project's 主办 (or the
unit head) records, the unit head (or the chief) verifies, the chief decides. Dates are real:
the figures of producing projects are measured on their due dates, which have passed.

- producing projects keeping every commitment, one with its incentive paid;
- producing projects in breach (年税收 at 55–65 % of the target): one tranche clawed back pro
  rata, one clawback still to ask for, a talk held with the investor (约谈), one term waived;
- projects under construction with their start kept, an investment commitment not yet due and a
  tranche not yet payable; one tranche withheld, one payment waiting for the chief's decision,
  one figure waiting for verification;
- projects not yet started past their planned groundbreaking: the start commitment missed, and
  the bureau's land handover overdue (what the bureau owes).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from officers import permissions
from officers.models import Officer
from projects.choices import Stage
from projects.models import Project
from promo.agreements import services
from promo.agreements.choices import (
    AgreementKind,
    ClawbackRule,
    IncentiveAction,
    Metric,
    PromiseKind,
)
from promo.agreements.models import Agreement, Promise, Term

DAY = timedelta(days=1)


def add_demo_agreements(demo: Any) -> None:
    signed = [p for p in demo.plans if p.project is not None]
    by_stage: dict[str, list[Any]] = {stage: [] for stage in Stage.values}
    for plan in signed:
        by_stage[plan.signed_project.stage].append(plan)
    producing = by_stage[Stage.PRODUCING]
    building = by_stage[Stage.GROUNDBREAKING] + by_stage[Stage.COMPLETED]
    late = [
        p
        for p in by_stage[Stage.SIGNED]
        if p.signed_project.groundbreaking_planned
        and p.signed_project.groundbreaking_planned < demo.today - 30 * DAY
    ]
    for i, plan in enumerate(producing[:8]):
        _producing(demo, plan, kind=("keeping", "keeping_paid", "breach_clawed", "breach_open",
                                     "keeping", "breach_waived", "keeping", "keeping")[i])  # fmt: skip
    for i, plan in enumerate(building[:6]):
        _building(demo, plan, kind=("not_payable", "withheld", "awaiting", "unverified",
                                    "not_payable", "not_payable")[i])  # fmt: skip
    for plan in late[:3]:
        _not_started(demo, plan)


def _people(demo: Any, project: Project, worker: Officer) -> tuple[Officer, Officer]:
    """Who records (the 主办 if they may, else the unit head or the chief) and who verifies."""
    head = demo._unit_head(project.unit)
    keeper = worker if permissions.may_keep_agreement(worker, project) else (head or demo.chief)
    verifier = head if head is not None and head.pk != keeper.pk else demo.chief
    return keeper, verifier


def _agreement(
    demo: Any, plan: Any, keeper: Officer, rule: str = ClawbackRule.PRO_RATA
) -> Agreement:
    project = plan.signed_project
    return services.agreement_create(
        project=project,
        actor=keeper,
        kind=AgreementKind.MAIN,
        title=f"{project.name}投资协议",
        signed_on=project.contract_date,
        parties=f"甲方：{demo.bureau.name}（代表市人民政府）\n乙方：{project.investor.name}",
        clawback_rule=rule,
    )


def _term(keeper: Officer, agreement: Agreement, metric: str, target: Any, due: date) -> Term:
    return services.term_add(
        agreement=agreement, actor=keeper, metric=metric, target=target, due_on=due
    )


def _measure(
    keeper: Officer, verifier: Officer | None, term: Term, value: Any, on: date, source: str
) -> None:
    item = services.measurement_record(
        term=term, actor=keeper, measured_on=on, value=value, source=source
    )
    if verifier is not None:
        services.measurement_verify(measurement=item, actor=verifier)


def _tranche(keeper: Officer, agreement: Agreement, project: Project, amount: Decimal, due: date,
             conditions: list[Term]) -> Promise:  # fmt: skip
    return services.promise_add(
        agreement=agreement,
        actor=keeper,
        kind=PromiseKind.INCENTIVE,
        description="固定资产投资奖补（按设备投资额的5%）",
        owner_unit=project.unit,
        due_on=due,
        amount=amount,
        conditions=conditions,
    )


def _decide(demo: Any, keeper: Officer, promise: Promise, action: str, reason: str) -> None:
    request = services.incentive_request(
        promise=promise, actor=keeper, action=action, reason=reason
    )
    decider = demo.chief if demo.chief.pk != keeper.pk else demo.deputies[0]
    services.incentive_decide(request=request, actor=decider, approve=True, note="同意。")


def _producing(demo: Any, plan: Any, *, kind: str) -> None:
    project: Project = plan.signed_project
    keeper, verifier = _people(demo, project, plan.worker)
    agreement = _agreement(
        demo, plan, keeper, ClawbackRule.FULL if kind == "breach_open" else ClawbackRule.PRO_RATA
    )
    assert project.producing_actual is not None
    due = max(min(project.producing_actual + 60 * DAY, demo.today - DAY), project.contract_date)
    fixed = (project.total_investment * Decimal("0.7")).quantize(Decimal("1"))
    tax_target = max(
        (project.total_investment * Decimal("0.03")).quantize(Decimal("1")), Decimal("10")
    )
    investment = _term(keeper, agreement, Metric.FIXED_ASSET, fixed, due)
    tax = _term(keeper, agreement, Metric.ANNUAL_TAX, tax_target, due)
    _term(
        keeper,
        agreement,
        Metric.PRODUCE_BY,
        None,
        max(project.producing_actual, project.contract_date),
    )
    _measure(keeper, verifier, investment, fixed * Decimal("1.05"), due, "统计部门固定资产投资月报")
    # The whole investment, the land and the output promised, all kept (the bulletin's
    # 资金到位率, 亩均投资强度 / 亩均税收 and 达产率 read them); the breaches stay the tax's.
    land_target = project.land_area if project.land_area > 0 else Decimal("50")
    for metric, target, source in (
        (Metric.TOTAL_INVESTMENT, project.total_investment, "统计部门固定资产投资月报"),
        (Metric.LAND, land_target, "自然资源部门供地数据"),
        (Metric.FULL_OUTPUT, max(project.annual_output_value, Decimal("100")), "统计部门产值月报"),
    ):
        kept = _term(keeper, agreement, metric, target, due)
        _measure(keeper, verifier, kept, target, due, source)
    breach = kind.startswith("breach")
    share = Decimal("0.6") if breach else Decimal("1.1")
    _measure(
        keeper, verifier, tax, (tax_target * share).quantize(Decimal("1")), due, "税务部门入库数据"
    )
    if kind in ("keeping_paid", "breach_clawed", "breach_open"):
        promise = _tranche(keeper, agreement, project, (fixed * Decimal("0.05")).quantize(Decimal("1")),
                           due, [investment])  # fmt: skip
        _decide(
            demo, keeper, promise, IncentiveAction.PAY, "设备投资已达协议约定，申请兑现第一期奖补。"
        )
        if kind == "breach_clawed":
            _decide(
                demo,
                keeper,
                promise,
                IncentiveAction.CLAWBACK,
                "达产后年税收未达协议承诺，按约定比例追回。",
            )
        if kind == "breach_open":
            services.agreement_talk(
                agreement=agreement,
                actor=keeper,
                note="约谈企业负责人：受订单下滑影响，年税收未达承诺。",
                decision="限企业三个月内提交整改方案；逾期按协议追回奖补。",
            )
    if kind == "breach_waived":
        head = demo._unit_head(project.unit) or demo.chief
        services.term_waive(term=tax, actor=head if head.pk != keeper.pk else demo.chief,
                            reason="受上游原材料断供影响，经局务会研究同意豁免当年税收承诺。")  # fmt: skip


def _building(demo: Any, plan: Any, *, kind: str) -> None:
    project: Project = plan.signed_project
    keeper, verifier = _people(demo, project, plan.worker)
    agreement = _agreement(demo, plan, keeper)
    assert project.groundbreaking_actual is not None
    start_due = project.groundbreaking_actual + (15 * DAY if kind != "withheld" else -10 * DAY)
    _term(keeper, agreement, Metric.START_BY, None, max(start_due, project.contract_date))
    fixed = (project.total_investment * Decimal("0.7")).quantize(Decimal("1"))
    investment = _term(keeper, agreement, Metric.FIXED_ASSET, fixed, demo.today + 240 * DAY)
    measured = (fixed * Decimal("0.4")).quantize(Decimal("1"))
    _measure(keeper, None if kind == "unverified" else verifier, investment, measured, demo.today,
             "统计部门固定资产投资月报")  # fmt: skip
    land = services.promise_add(
        agreement=agreement,
        actor=keeper,
        kind=PromiseKind.LAND_DELIVERY,
        description="交付净地（三通一平）",
        owner_unit=project.unit,
        due_on=max(project.groundbreaking_actual - 20 * DAY, project.contract_date),
    )
    services.promise_deliver(
        promise=land,
        actor=keeper,
        delivered_on=max(project.groundbreaking_actual - 30 * DAY, project.contract_date),
    )
    tranche = (fixed * Decimal("0.05")).quantize(Decimal("1"))
    if kind == "withheld":
        promise = _tranche(keeper, agreement, project, tranche, demo.today + 30 * DAY, [])
        _decide(
            demo, keeper, promise, IncentiveAction.WITHHOLD, "企业存在欠缴社保，整改前暂缓兑现。"
        )
    elif kind == "awaiting":
        promise = _tranche(keeper, agreement, project, tranche, demo.today + 30 * DAY, [])
        services.incentive_request(
            promise=promise,
            actor=keeper,
            action=IncentiveAction.PAY,
            reason="企业已按期开工，申请兑现开工奖补。",
        )
    else:
        _tranche(keeper, agreement, project, tranche, demo.today + 270 * DAY, [investment])


def _not_started(demo: Any, plan: Any) -> None:
    project: Project = plan.signed_project
    keeper, _verifier = _people(demo, project, plan.worker)
    agreement = _agreement(demo, plan, keeper)
    assert project.groundbreaking_planned is not None
    due = max(project.groundbreaking_planned, project.contract_date)
    _term(keeper, agreement, Metric.START_BY, None, due)
    services.promise_add(
        agreement=agreement,
        actor=keeper,
        kind=PromiseKind.LAND_DELIVERY,
        description="交付项目用地（招拍挂后）",
        owner_unit=project.unit,
        due_on=max(project.groundbreaking_planned - 30 * DAY, project.contract_date),
    )
    services.promise_add(
        agreement=agreement,
        actor=keeper,
        kind=PromiseKind.APPROVAL,
        description="协助办理规划许可与施工许可",
        owner_unit=project.unit,
        due_on=demo.today + 60 * DAY,
    )
