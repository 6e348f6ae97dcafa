"""lead_update / visit_update: a lead's or visit's own fields, inside what the actor may see."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from leads import services
from leads.choices import LeadStatus, SourceChannel, VisitKind
from leads.models import Lead, Visit
from promo.core.errors import PermissionDenied, RuleViolation
from promo.core.services import today
from tests.factories import make_investor, make_lead

pytestmark = pytest.mark.django_db


def _events(model, pk):
    return model.pgh_event_model.objects.filter(pgh_obj_id=pk)


def _log(actor, lead, days_ago, kind=VisitKind.VISIT, **fields):
    return services.visit_log(
        actor=actor,
        kind=kind,
        visited_on=today() - timedelta(days=days_ago),
        investor=lead.investor,
        summary=fields.pop("summary", "洽谈"),
        lead=lead,
        **fields,
    )


def test_lead_update_saves_only_the_changed_fields_with_the_reason(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me, amount=5000, name="甲项目")
    before = _events(Lead, lead.pk).count()
    updated = services.lead_update(
        actor=me,
        lead=lead,
        changes={"estimated_amount": "6000.5", "name": " 甲项目二期 ", "industry": lead.industry},
        why="import:1:a.xlsx",
    )
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.name, fresh.estimated_amount) == ("甲项目二期", Decimal("6000.50"))
    assert updated.status == LeadStatus.INFORMATION
    events = _events(Lead, lead.pk).order_by("pgh_id")
    assert events.count() == before + 1
    assert events.last().pgh_context.metadata["why"] == "import:1:a.xlsx"


def test_lead_update_with_nothing_different_writes_nothing(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me, amount=5000)
    before = _events(Lead, lead.pk).count()
    services.lead_update(
        actor=me, lead=lead, changes={"estimated_amount": 5000, "name": lead.name}, why="x"
    )
    assert _events(Lead, lead.pk).count() == before


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"status": LeadStatus.VALID}, "status"),
        ({"unit": 1}, "unit"),
        ({"estimated_amount": "-1"}, "estimated_amount"),
        ({"name": "  "}, "name"),
        ({"industry": "nonsense"}, "industry"),
        ({"source_channel": SourceChannel.INTERMEDIARY}, "intermediary"),
    ],
)
def test_lead_update_refuses_what_create_refuses_and_what_it_may_not_touch(bureau, changes, field):
    me = bureau.shanghai_officer
    lead = make_lead(me, amount=5000)
    with pytest.raises(RuleViolation) as caught:
        services.lead_update(actor=me, lead=lead, changes=changes, why="x")
    assert field in caught.value.field_errors
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.status, fresh.estimated_amount, fresh.unit_id) == (
        LeadStatus.INFORMATION,
        Decimal("5000.00"),
        bureau.shanghai.pk,
    )


def test_an_outsider_cannot_update_another_units_lead_or_visit(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me, amount=5000)
    visit = _log(me, lead, 3)
    with pytest.raises(PermissionDenied):
        services.lead_update(
            actor=bureau.outsider, lead=lead, changes={"estimated_amount": 1}, why="x"
        )
    with pytest.raises(PermissionDenied):
        services.visit_update(
            actor=bureau.outsider, visit=visit, changes={"summary": "改"}, why="x"
        )
    assert Lead.objects.get(pk=lead.pk).estimated_amount == Decimal("5000.00")
    assert Visit.objects.get(pk=visit.pk).summary == "洽谈"


def test_a_department_submitter_cannot_edit_a_lead(bureau):
    lead = make_lead(bureau.shanghai_officer)
    with pytest.raises(PermissionDenied):
        services.lead_update(actor=bureau.submitter, lead=lead, changes={"name": "x"}, why="x")


def test_visit_update_recomputes_the_leads_dates_as_visit_log_does(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me)
    first = _log(me, lead, 20)
    _log(me, lead, 10)
    lead.refresh_from_db()
    assert lead.first_inspection_on is None
    assert lead.last_activity_on == today() - timedelta(days=10)
    services.visit_update(
        actor=me,
        visit=first,
        changes={"kind": VisitKind.INSPECTION, "visited_on": today() - timedelta(days=2)},
        why="import:9:走访.xlsx",
    )
    lead.refresh_from_db()
    assert lead.first_inspection_on == today() - timedelta(days=2)
    assert lead.last_activity_on == today() - timedelta(days=2)
    assert lead.first_contact_on == today() - timedelta(days=20)  # kept, as visit_log keeps it
    event = _events(Visit, first.pk).order_by("pgh_id").last()
    assert event.pgh_context.metadata["why"] == "import:9:走访.xlsx"


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"visited_on": today() + timedelta(days=1)}, "visited_on"),
        ({"kind": "party"}, "kind"),
        ({"summary": ""}, "summary"),
        ({"next_step_due": today()}, "next_step"),
        ({"investor": 1}, "investor"),
        ({"lead": None}, "lead"),
    ],
)
def test_visit_update_validates_like_visit_log(bureau, changes, field):
    me = bureau.shanghai_officer
    lead = make_lead(me)
    visit = _log(me, lead, 5)
    with pytest.raises(RuleViolation) as caught:
        services.visit_update(actor=me, visit=visit, changes=changes, why="x")
    assert field in caught.value.field_errors
    fresh = Visit.objects.get(pk=visit.pk)
    assert (fresh.visited_on, fresh.kind, fresh.lead_id) == (visit.visited_on, visit.kind, lead.pk)


def test_visit_update_checks_the_due_date_against_the_date_it_keeps(bureau):
    me = bureau.shanghai_officer
    lead = make_lead(me)
    visit = _log(me, lead, 5, next_step="报价", next_step_due=today())
    with pytest.raises(RuleViolation) as caught:
        services.visit_update(
            actor=me, visit=visit, changes={"next_step_due": today() - timedelta(days=6)}, why="x"
        )
    assert "next_step_due" in caught.value.field_errors
    services.visit_update(
        actor=me, visit=visit, changes={"next_step": "寄送方案", "city": "苏州"}, why="x"
    )
    fresh = Visit.objects.get(pk=visit.pk)
    assert (fresh.next_step, fresh.city, fresh.next_step_due) == ("寄送方案", "苏州", today())


# Found by the permission matrix (issue #13): may_work_records says a department submitter
# (部门信息员) only submits leads, but visit_log and visit_update did not ask it.


def test_a_department_submitter_cannot_log_a_visit_even_on_their_own_investor(bureau):
    investor = make_investor(bureau.submitter)
    with pytest.raises(PermissionDenied):
        services.visit_log(
            actor=bureau.submitter,
            kind=VisitKind.VISIT,
            visited_on=today(),
            investor=investor,
            summary="上门走访",
        )
    assert not Visit.objects.exists()


def test_a_department_submitter_cannot_edit_a_visit_they_attended(bureau):
    visit = services.visit_log(
        actor=bureau.shanghai_officer,
        kind=VisitKind.VISIT,
        visited_on=today(),
        investor=make_investor(bureau.shanghai_officer),
        summary="洽谈",
        officers=[bureau.submitter],
    )
    with pytest.raises(PermissionDenied):
        services.visit_update(
            actor=bureau.submitter, visit=visit, changes={"summary": "改"}, why="x"
        )
    assert Visit.objects.get(pk=visit.pk).summary == "洽谈"
