"""Every figure that ranks people is attributable: history rows name the actor and the reason.

The test walks the audited models: each writing service must leave a pghistory event for
the records it changed, tagged with the acting officer.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pghistory.models
import pytest
from django.db import connection

from leads.choices import VisitKind
from leads.models import Investor, Lead, Visit
from leads.services import investor_update, lead_qualify, visit_log
from officers.models import Target
from officers.services import target_set
from projects.choices import ProblemKind, Stage
from projects.models import InvestmentProgress, Problem, Project
from projects.services import (
    problem_ask_again,
    problem_raise,
    progress_record,
    project_advance,
    project_update_figures,
)
from promo.core.services import today
from tests.factories import make_lead, make_project, stage_evidence

# Every model that carries a figure people are judged by must be history-tracked.
AUDITED_MODELS = [Investor, Lead, Visit, Project, InvestmentProgress, Problem, Target]


def events_for(obj):
    # Inside one transaction now() does not move, so the id breaks the tie.
    return pghistory.models.Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_id")


def last_event(obj):
    return events_for(obj).last()


@pytest.mark.parametrize("model", AUDITED_MODELS, ids=lambda m: m.__name__)
def test_audited_model_has_history_triggers(db, model):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [model._meta.db_table],
        )
        triggers = {row[0] for row in cursor.fetchall()}
    assert any(name.startswith("pgtrigger_update_update") for name in triggers), triggers
    assert any(name.startswith("pgtrigger_insert_insert") for name in triggers), triggers


def assert_attributed(obj, actor, field, value):
    """The newest history row of ``obj`` holds ``value`` and names ``actor``."""
    event = last_event(obj)
    assert event is not None, obj
    stored = event.pgh_data[field]
    expected = {value, str(value)}
    if isinstance(value, Decimal):
        expected.add(float(value))
    assert stored in expected, (obj, field, event.pgh_data)
    assert event.pgh_context["user"] == actor.pk, (obj, event.pgh_context)
    return type(obj)


def test_each_writing_service_leaves_an_attributed_event(bureau):
    officer = bureau.shanghai_officer
    covered = set()

    lead = make_lead(officer)
    lead_qualify(lead=lead, actor=bureau.teammate)
    covered.add(assert_attributed(lead, bureau.teammate, "status", "valid"))

    investor_update(
        actor=bureau.teammate, investor=lead.investor, reason="更正行业", industry="biomedicine"
    )
    covered.add(assert_attributed(lead.investor, bureau.teammate, "industry", "biomedicine"))

    visit = visit_log(
        actor=officer,
        kind=VisitKind.INSPECTION,
        visited_on=today(),
        investor=lead.investor,
        lead=lead,
        summary="首次实地考察",
    )
    covered.add(assert_attributed(visit, officer, "summary", "首次实地考察"))
    # The visit moved the lead's activity dates: that change is attributed too.
    assert_attributed(lead, officer, "first_inspection_on", str(today()))

    project = make_project(officer, amount=Decimal("3000"))
    project_update_figures(
        project=project, actor=bureau.shanghai_head, reason="按合同更正", registered_capital=900
    )
    covered.add(
        assert_attributed(project, bureau.shanghai_head, "registered_capital", Decimal("900.00"))
    )

    project_advance(
        project=project,
        actor=bureau.shanghai_head,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=project.contract_date + timedelta(days=1),
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    assert_attributed(project, bureau.shanghai_head, "stage", Stage.GROUNDBREAKING)

    progress = progress_record(
        project=project,
        actor=bureau.teammate,
        month=today(),
        agreed_investment=3000,
        paid_in=500,
        fixed_asset_investment=400,
    )
    covered.add(
        assert_attributed(progress, bureau.teammate, "fixed_asset_investment", Decimal("400.00"))
    )
    assert_attributed(project, bureau.teammate, "invested_to_date", Decimal("400.00"))

    problem = problem_raise(
        project=project,
        actor=officer,
        kind=ProblemKind.FINANCING,
        title="贷款审批慢",
        owner_unit=bureau.bureau,
        due_on=today() + timedelta(days=10),
    )
    problem_ask_again(problem=problem, actor=bureau.chief)
    covered.add(assert_attributed(problem, bureau.chief, "ask_count", 2))

    target = target_set(
        actor=bureau.chief, year=today().year, metric="signed_count", value=8, unit=bureau.shanghai
    )
    target_set(
        actor=bureau.chief,
        year=today().year,
        metric="signed_count",
        value=10,
        unit=bureau.shanghai,
        reason="年中调整",
    )
    covered.add(assert_attributed(target, bureau.chief, "value", Decimal("10.00")))

    assert covered == set(AUDITED_MODELS)


def test_history_keeps_old_and_new_value_of_a_changed_figure(bureau):
    project = make_project(bureau.shanghai_officer, amount=Decimal("5000"))
    project_update_figures(
        project=project, actor=bureau.chief, reason="合同补充协议", signed_investment=5600
    )
    values = [e.pgh_data["total_investment"] for e in events_for(project)]
    assert values[0] in ("5000.00", 5000.0, "5000")
    assert values[-1] in ("5600.00", 5600.0, "5600")
    assert last_event(project).pgh_context["why"] == "合同补充协议"


def test_a_raw_sql_change_is_still_recorded(bureau):
    project = make_project(bureau.shanghai_officer)
    before = events_for(project).count()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE projects_project SET land_area = 99 WHERE id = %s", [project.pk])
    assert events_for(project).count() == before + 1


def test_signing_keeps_one_reason_for_the_project_and_the_lead(bureau):
    from leads.choices import LeadStatus
    from tests.factories import sign_lead

    lead = make_lead(bureau.shanghai_officer, status=LeadStatus.NEGOTIATING)
    project = sign_lead(bureau.shanghai_officer, lead)
    assert last_event(project).pgh_context["why"] == "project_sign_lead"
    assert last_event(lead).pgh_context["why"] == "project_sign_lead"


def test_a_second_actor_inside_one_history_context_is_refused(bureau):
    from promo.core.audit import audited

    with pytest.raises(RuntimeError), audited(bureau.chief, "outer"):
        with audited(bureau.teammate, "inner"):
            pass
