"""A mixed bureau for the cockpit's link tests: the reports' hand-built October 2026, plus
two years of leads, projects and visits spread over units, industries, investor regions and
source channels, with status dates in the past (so periods ending before today differ from
the current statuses).

Build it with the clock frozen at ``TODAY`` (services refuse future dates).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from leads import services as lead_services
from leads.choices import LeadStatus, SourceChannel, VisitKind
from officers.choices import TargetMetric
from officers.services import target_set
from projects.choices import Milestone, Stage
from projects.models import Project
from projects.services import (
    progress_record,
    project_advance,
    project_create,
    project_milestone_record,
)
from promo.core.choices import Industry, Region
from tests.factories import Bureau, make_investor, make_lead, sign_lead, stage_evidence
from tests.reports.seed import TODAY, build_october

INDUSTRIES = (Industry.ELECTRONICS, Industry.AUTO, Industry.BIOMEDICINE)
REGIONS = (Region.DOMESTIC, Region.JAPAN, Region.EUROPE)
CHANNELS = (SourceChannel.STATIONED, SourceChannel.EVENT, SourceChannel.INVESTOR_REFERRAL)
FIRST_DAY = date(2025, 1, 1)
LAST_DAY = TODAY.date()
YEARS = (2025, 2026)


def _day(rng: random.Random, after: date) -> date:
    """A day from ``after`` to the last day of the data, skewed towards ``after``."""
    span = (LAST_DAY - after).days
    return after + timedelta(days=min(span, int(rng.expovariate(1 / 60))))


def build_mixed(b: Bureau, *, leads: int = 30, seed: int = 7) -> None:
    build_october(b)
    rng = random.Random(seed)
    actors = (b.shanghai_officer, b.sub_unit_officer, b.outsider, b.chief, b.teammate)
    for i in range(leads):
        actor = actors[i % len(actors)]
        region = rng.choice(REGIONS)
        investor = make_investor(actor, name=f"混合客商{i}", region=region)
        lead = make_lead(
            actor,
            investor=investor,
            industry=rng.choice(INDUSTRIES),
            source_channel=rng.choice(CHANNELS),
        )
        day = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days - 60))
        fate = rng.random()
        if fate < 0.15:
            _visits(rng, actor, investor, None, day)
            continue  # information only
        lead = _step(lead, actor, LeadStatus.VALID, day)
        if fate < 0.3:
            _visits(rng, actor, investor, lead, day)
            continue  # valid, still in hand
        day = _day(rng, day)
        lead = _step(lead, actor, LeadStatus.NEGOTIATING, day)
        _visits(rng, actor, investor, lead, day)
        if fate < 0.45:
            continue  # negotiating
        day = _day(rng, day)
        if fate < 0.6:
            lead_services.lead_transition(
                lead=lead,
                actor=actor,
                to_status=LeadStatus.DROPPED,
                reason="投资方战略调整",
                on_date=day,
            )
            continue
        project = sign_lead(
            actor,
            lead,
            contract_date=day,
            amount=rng.choice((800, 3000, 20000)),
            contracted_fdi=rng.choice((0, 150)),
            groundbreaking_planned=day + timedelta(days=rng.choice((20, 90, 400))),
        )
        # Monthly progress (the arrived FDI is its growth): one or two reports, some in
        # the month of signing, some months later; later months stay on or before TODAY.
        if rng.random() < 0.6:
            month = day.replace(day=1)
            for arrived in (rng.choice((0, 40)), rng.choice((60, 120))):
                if month > TODAY.date().replace(day=1):
                    break
                progress_record(
                    project=project, actor=actor, month=month, agreed_investment=800,
                    paid_in=100, fixed_asset_investment=50, arrived_fdi=arrived,
                )  # fmt: skip
                month = (month + timedelta(days=rng.choice((35, 70, 100)))).replace(day=1)
        if fate < 0.8:
            project_advance(
                project=project,
                actor=actor,
                to_stage=Stage.GROUNDBREAKING,
                actual_date=_day(rng, day),
                evidence=stage_evidence(Stage.GROUNDBREAKING),
            )
    # Targets of every metric (the cockpit links the completion of those a list can show).
    for year in YEARS:
        for unit in (b.bureau, b.shanghai, b.shanghai_team, b.shenzhen):
            for metric in TargetMetric.values:
                if (year, unit, metric) == (2026, b.shanghai, TargetMetric.SIGNED_AMOUNT):
                    continue  # set by build_october
                if (year, unit, metric) == (2026, b.shenzhen, TargetMetric.SIGNED_AMOUNT):
                    continue
                target_set(actor=b.chief, year=year, metric=metric, value=10, unit=unit)
    # Projects entered without a lead: no source channel.
    for i, actor in enumerate((b.shanghai_officer, b.outsider, b.sub_unit_officer)):
        signed = date(2025 + i % 2, 3 + i, 10)
        project = project_create(
            actor=actor,
            investor=make_investor(actor, name=f"直录客商{i}", region=REGIONS[i]),
            name=f"直录项目{i}",
            industry=INDUSTRIES[i],
            contract_date=signed,
            total_investment=20000,
            groundbreaking_planned=signed + timedelta(days=60),
        )
        if i == 0:
            project_advance(
                project=project,
                actor=actor,
                to_stage=Stage.GROUNDBREAKING,
                actual_date=signed + timedelta(days=30),
                evidence=stage_evidence(Stage.GROUNDBREAKING),
            )

    _milestones(b, random.Random(seed + 1))


def _milestones(b: Bureau, rng: random.Random) -> None:
    """新入统 / 新入规 spread over the two years: some projects enter the statistics, some of
    those become 规上 later. Their own random stream, so the rest of the data stays as it was."""
    for project in Project.objects.filter(in_statistics_actual__isnull=True).order_by("pk"):
        if rng.random() < 0.4:
            continue
        stats = _day(rng, project.contract_date)
        project, _event = project_milestone_record(
            project=project, actor=b.chief, milestone=Milestone.IN_STATISTICS, actual_date=stats
        )
        if rng.random() < 0.5:
            project_milestone_record(
                project=project,
                actor=b.chief,
                milestone=Milestone.ABOVE_SIZE,
                actual_date=_day(rng, stats),
            )


def _step(lead, actor, status, day):
    return lead_services.lead_transition(lead=lead, actor=actor, to_status=status, on_date=day)


def _visits(rng, actor, investor, lead, after: date) -> None:
    for _ in range(rng.randrange(3)):
        lead_services.visit_log(
            actor=actor,
            kind=rng.choice((VisitKind.RECEPTION, VisitKind.INSPECTION, VisitKind.VISIT)),
            visited_on=_day(rng, after),
            investor=investor,
            lead=lead,
            summary="洽谈",
        )
