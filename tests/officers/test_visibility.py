"""Who sees what: one scope per officer, used by every selector."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads.choices import LeadStatus, VisitKind
from leads.selectors import (
    investors_visible_to,
    lead_visible_q,
    leads_visible_to,
    visits_visible_to,
)
from leads.services import assignment_add, lead_create, visit_log
from officers.choices import AssignmentRole
from officers.selectors import officers_visible_to, scope_for, targets_visible_to, units_visible_to
from officers.services import target_set
from projects.choices import ProblemKind
from projects.selectors import assignments_visible_to, problems_visible_to, projects_visible_to
from projects.services import problem_raise, project_assignment_add
from promo.core.errors import PermissionDenied, RuleViolation
from promo.core.services import today
from tests.factories import fresh, make_investor, make_lead, make_project


@pytest.fixture
def records(bureau):
    sh_lead = make_lead(bureau.shanghai_officer, name="上海线索")
    sub_lead = make_lead(bureau.sub_unit_officer, name="浦东线索")
    sz_lead = make_lead(bureau.outsider, name="深圳线索")
    sh_project = make_project(bureau.shanghai_officer, name="上海项目")
    sz_project = make_project(bureau.outsider, name="深圳项目")
    sh_visit = visit_log(
        actor=bureau.shanghai_officer,
        kind=VisitKind.VISIT,
        visited_on=today(),
        investor=sh_lead.investor,
        lead=sh_lead,
        summary="初次拜访",
    )
    sz_visit = visit_log(
        actor=bureau.outsider,
        kind=VisitKind.CALL,
        visited_on=today(),
        investor=sz_lead.investor,
        lead=sz_lead,
        summary="电话沟通",
    )
    return {
        "sh_lead": sh_lead,
        "sub_lead": sub_lead,
        "sz_lead": sz_lead,
        "sh_project": sh_project,
        "sz_project": sz_project,
        "sh_visit": sh_visit,
        "sz_visit": sz_visit,
    }


def names(qs):
    return set(qs.values_list("name", flat=True))


def test_scope_of_each_persona(bureau):
    assert scope_for(bureau.chief).is_everything
    assert scope_for(bureau.shanghai_officer).unit_ids == {
        bureau.shanghai.pk,
        bureau.shanghai_team.pk,
    }
    assert scope_for(bureau.sub_unit_officer).unit_ids == {bureau.shanghai_team.pk}
    assert scope_for(bureau.submitter).own_records_only
    inactive = fresh(bureau.outsider)
    inactive.is_active = False
    assert scope_for(inactive).unit_ids == frozenset()


def test_officer_sees_own_unit_and_sub_units_but_not_another_unit(bureau, records):
    visible = names(leads_visible_to(bureau.shanghai_officer))
    assert {"上海线索", "浦东线索"} <= visible
    assert "深圳线索" not in visible
    assert names(leads_visible_to(bureau.sub_unit_officer)) >= {"浦东线索"}
    assert "上海线索" not in names(leads_visible_to(bureau.sub_unit_officer))
    assert names(projects_visible_to(bureau.shanghai_officer)) == {"上海项目"}
    assert set(visits_visible_to(bureau.shanghai_officer)) == {records["sh_visit"]}
    assert records["sz_lead"].investor not in investors_visible_to(bureau.shanghai_officer)


def test_chief_sees_the_whole_bureau(bureau, records):
    assert names(leads_visible_to(bureau.chief)) >= {"上海线索", "浦东线索", "深圳线索"}
    assert names(projects_visible_to(bureau.chief)) == {"上海项目", "深圳项目"}
    assert visits_visible_to(bureau.chief).count() == 2
    assert units_visible_to(bureau.chief).count() == 5


def test_department_submitter_sees_only_what_they_submitted(bureau, records):
    investor = make_investor(bureau.submitter, name="部门推荐客商有限公司")
    own = lead_create(
        actor=bureau.submitter,
        investor=investor,
        name="部门提供线索",
        industry="biomedicine",
        source_channel="department",
        unit=bureau.department,
    )
    assert list(leads_visible_to(bureau.submitter)) == [own]
    assert not projects_visible_to(bureau.submitter).exists()
    assert list(officers_visible_to(bureau.submitter)) == [bureau.submitter]


@pytest.fixture
def assisting(bureau, records):
    """The Shenzhen outsider assists (协办) on the Shanghai lead."""
    assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.outsider,
        role=AssignmentRole.ASSISTING,
        lead=records["sh_lead"],
    )


def test_assisting_officer_from_another_unit_sees_that_lead_only(bureau, records, assisting):
    visible = names(leads_visible_to(fresh(bureau.outsider)))
    assert "上海线索" in visible
    assert "浦东线索" not in visible


def test_outsider_cannot_assign_themselves_onto_another_units_lead(bureau, records):
    with pytest.raises(PermissionDenied):
        assignment_add(
            actor=bureau.outsider,
            officer=bureau.outsider,
            role=AssignmentRole.ASSISTING,
            lead=records["sh_lead"],
        )
    assert not records["sh_lead"].assignments.filter(officer=bureau.outsider).exists()


def test_outsider_cannot_assign_themselves_onto_another_units_project(bureau, records):
    with pytest.raises(PermissionDenied):
        project_assignment_add(
            actor=bureau.outsider,
            officer=bureau.outsider,
            role=AssignmentRole.ASSISTING,
            project=records["sh_project"],
        )
    assert not records["sh_project"].assignments.filter(officer=bureau.outsider).exists()


def test_a_leader_is_assigned_to_a_project_and_refused_on_a_lead(bureau, records):
    with pytest.raises(RuleViolation):
        assignment_add(
            actor=bureau.shanghai_head,
            officer=bureau.chief,
            role=AssignmentRole.LEADER,
            lead=records["sh_lead"],
        )
    assert not records["sh_lead"].assignments.filter(officer=bureau.chief).exists()
    project_assignment_add(
        actor=bureau.shanghai_head,
        officer=bureau.chief,
        role=AssignmentRole.LEADER,
        project=records["sh_project"],
    )
    assert records["sh_project"].assignments.get(officer=bureau.chief).role == (
        AssignmentRole.LEADER
    )


def test_assignments_are_visible_with_their_lead_or_project(bureau, records, assisting):
    project_assignment_add(
        actor=bureau.outsider,
        officer=bureau.outsider,
        role=AssignmentRole.ASSISTING,
        project=records["sz_project"],
    )
    seen = {
        (a.lead and a.lead.name, a.project and a.project.name)
        for a in assignments_visible_to(fresh(bureau.shanghai_head))
    }
    assert (None, "深圳项目") not in seen
    assert ("上海线索", None) in seen
    outsider_sees = {
        (a.lead and a.lead.name, a.project and a.project.name, a.officer_id)
        for a in assignments_visible_to(fresh(bureau.outsider))
    }
    assert ("上海线索", None, bureau.outsider.pk) in outsider_sees
    assert (None, "深圳项目", bureau.outsider.pk) in outsider_sees


def test_outsider_cannot_log_a_visit_on_another_units_lead(bureau, records):
    lead = records["sh_lead"]
    with pytest.raises(PermissionDenied):
        visit_log(
            actor=bureau.outsider,
            kind=VisitKind.VISIT,
            visited_on=today(),
            investor=lead.investor,
            lead=lead,
            summary="越权登记",
        )
    assert lead.visits.count() == 1


def test_problem_owner_unit_sees_problem_on_a_project_it_cannot_otherwise_see(bureau, records):
    problem = problem_raise(
        project=records["sh_project"],
        actor=bureau.shanghai_officer,
        kind=ProblemKind.LAND_APPROVAL,
        title="土地证办理",
        owner_unit=bureau.shenzhen,
        due_on=today() + timedelta(days=5),
    )
    assert problem in problems_visible_to(bureau.outsider)
    assert records["sh_project"] not in projects_visible_to(bureau.outsider)
    assert problem in problems_visible_to(bureau.shanghai_officer)
    assert problem not in problems_visible_to(bureau.submitter)


def test_targets_follow_the_unit_scope(bureau):
    sh = target_set(
        actor=bureau.chief, year=today().year, metric="signed_count", value=6, unit=bureau.shanghai
    )
    sz = target_set(
        actor=bureau.chief, year=today().year, metric="signed_count", value=4, unit=bureau.shenzhen
    )
    assert set(targets_visible_to(bureau.shanghai_officer)) == {sh}
    assert set(targets_visible_to(bureau.chief)) == {sh, sz}


def test_only_a_chief_sets_unit_targets_and_a_head_breaks_them_down(bureau):
    year = today().year
    with pytest.raises(PermissionDenied):
        target_set(
            actor=bureau.shanghai_head,
            year=year,
            metric="signed_count",
            value=9,
            unit=bureau.shanghai,
        )
    target_set(
        actor=bureau.shanghai_head,
        year=year,
        metric="signed_count",
        value=2,
        officer=bureau.shanghai_officer,
    )
    with pytest.raises(PermissionDenied):
        target_set(
            actor=bureau.shanghai_head,
            year=year,
            metric="signed_count",
            value=2,
            officer=bureau.outsider,
        )
    assert not bureau.outsider.targets.exists()


def test_lead_statuses_do_not_widen_visibility(bureau):
    lead = make_lead(bureau.outsider, status=LeadStatus.SIGNED)
    assert lead not in leads_visible_to(bureau.shanghai_officer)


def test_a_unit_cannot_move_under_its_own_sub_unit(bureau):
    from django.core.exceptions import ValidationError

    from officers.models import Unit

    shanghai = Unit.objects.get(pk=bureau.shanghai.pk)
    shanghai.parent = bureau.shanghai_team
    with pytest.raises(ValidationError):
        shanghai.save()
    assert Unit.objects.get(pk=bureau.shanghai.pk).parent == bureau.bureau


def test_moving_a_unit_moves_its_sub_tree_and_the_scope_follows(bureau):
    from officers.models import Unit

    team = Unit.objects.get(pk=bureau.shanghai_team.pk)
    team.parent = bureau.shenzhen
    team.save()
    assert Unit.objects.get(pk=team.pk).path == f"{bureau.shenzhen.path}{team.pk}/"
    assert team.pk in scope_for(fresh(bureau.outsider)).unit_ids
    assert team.pk not in scope_for(fresh(bureau.shanghai_officer)).unit_ids


def test_lead_visible_condition_names_exactly_the_visible_leads(bureau, records, assisting):
    """lead_visible_q (the visit scope's index-friendly form) selects leads_visible_to's set."""
    from leads.models import Lead

    personas = [
        bureau.chief,
        bureau.shanghai_head,
        bureau.shanghai_officer,
        bureau.sub_unit_officer,
        bureau.outsider,
        bureau.submitter,
    ]
    for officer in map(fresh, personas):
        by_condition = set(Lead.objects.filter(lead_visible_q(officer, "pk")))
        assert by_condition == set(leads_visible_to(officer)), officer.username
    # And the condition is not trivially everything: the outsider sees one Shanghai lead.
    outsider = set(Lead.objects.filter(lead_visible_q(fresh(bureau.outsider), "pk")))
    assert records["sh_lead"] in outsider and records["sub_lead"] not in outsider


def test_lead_scope_parts_are_disjoint_and_make_up_the_visible_leads(bureau, records, assisting):
    """The lead list counts the scope in parts; they must neither overlap nor miss a lead."""
    from leads.models import Lead
    from leads.selectors import lead_scope_parts

    checked = 0
    for officer in map(fresh, [bureau.chief, bureau.shanghai_head, bureau.outsider]):
        parts = lead_scope_parts(officer)
        if parts is None:  # the whole bureau: one condition, nothing to split
            assert officer.sees_whole_bureau
            continue
        sets = [set(Lead.objects.filter(part).values_list("pk", flat=True)) for part in parts]
        for i, one in enumerate(sets):
            for other in sets[i + 1 :]:
                assert not one & other, officer.username
        assert set().union(*sets) == set(leads_visible_to(officer).values_list("pk", flat=True))
        checked += 1
    assert checked == 2
    # The outsider's assisted Shanghai lead is in the second part, not lost.
    outsider_parts = lead_scope_parts(fresh(bureau.outsider))
    assert Lead.objects.filter(outsider_parts[1], pk=records["sh_lead"].pk).exists()


def test_the_lead_list_counts_its_parts_exactly_and_caps_them(bureau, records, assisting):
    from django.http import QueryDict

    from leads.models import Lead
    from leads.selectors import lead_scope_parts
    from promo.core.paging import KeysetPage

    outsider = fresh(bureau.outsider)
    for _ in range(3):
        make_lead(outsider)
    rows = leads_visible_to(outsider).order_by("-id")
    exact = rows.count()
    assert exact >= 5  # the Shenzhen leads, three new ones and the assisted Shanghai lead
    parts = lead_scope_parts(outsider)
    assert KeysetPage(rows, QueryDict(""), per_page=20, parts=parts).count == exact
    # Two shown, and at least three past them counted up to two: "4+".
    capped = KeysetPage(rows, QueryDict(""), per_page=2, bound=2, parts=parts)
    assert capped.count == 4 and capped.capped
    assert Lead.objects.count() > exact  # the others' leads exist and are not counted


def test_the_officer_read_for_a_request_carries_the_same_scope_without_a_query(bureau):
    """officers.backends reads a request's officer with their sub-tree's ids: the scope is the
    one computed from the unit's path, costs no query, follows a moved unit on the next
    request, and is not used for an officer whose unit changed in memory since."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from officers.backends import OfficerBackend
    from officers.models import Unit

    backend = OfficerBackend()
    personas = (bureau.chief, bureau.shanghai_head, bureau.sub_unit_officer, bureau.submitter)
    for persona in personas:
        read = backend.get_user(persona.pk)
        with CaptureQueriesContext(connection) as queries:
            scope = scope_for(read)
        assert len(queries) == 0, persona.username
        assert scope == scope_for(fresh(persona)), persona.username
    team = Unit.objects.get(pk=bureau.shanghai_team.pk)
    team.parent = bureau.shenzhen
    team.save()
    assert team.pk not in scope_for(backend.get_user(bureau.shanghai_head.pk)).unit_ids
    moved = backend.get_user(bureau.shanghai_head.pk)
    moved.unit_id = bureau.shenzhen.pk  # not the unit read with it: its ids are not used
    assert scope_for(moved).unit_ids == {bureau.shenzhen.pk, team.pk}
