"""The board of a scoped officer reads its scope in disjoint parts ("my units' projects" and
"projects elsewhere I am assigned to") instead of their OR, with the same counts and rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from officers.choices import AssignmentRole
from officers.models import Assignment
from projects import services as project_services
from projects import views as project_views
from projects.choices import STAGE_ORDER, Stage
from projects.selectors import projects_visible_to
from promo.core.services import today
from tests.factories import make_project, stage_evidence
from tests.plans import captured_sql

pytestmark = pytest.mark.django_db


def _overlapping(bureau):
    """Shanghai's projects, two of them also assigned to the Shanghai officer; Shenzhen's,
    three assigned to the officer (one twice, under two roles); more of Shenzhen's unseen."""
    me = bureau.shanghai_officer
    day = today()
    mine = [make_project(me, contract_date=day - timedelta(days=i)) for i in range(5)]
    theirs = [
        make_project(bureau.outsider, contract_date=day - timedelta(days=i % 3), amount=800)
        for i in range(12)
    ]
    project_services.project_advance(
        project=theirs[0],
        actor=bureau.outsider,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=day,
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    project_services.project_advance(
        project=mine[1],
        actor=me,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=day,
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    for project, role in [
        (mine[0], AssignmentRole.ASSISTING),
        (mine[1], AssignmentRole.LEADER),
        (theirs[0], AssignmentRole.ASSISTING),
        (theirs[0], AssignmentRole.LEADER),
        (theirs[1], AssignmentRole.ASSISTING),
        (theirs[2], AssignmentRole.ASSISTING),
    ]:
        Assignment.objects.get_or_create(officer=me, project=project, role=role)
    return me, mine, theirs


def _old_board(officer, rows_per_stage, **narrow):
    """The board as it was read: the OR of the scope in every query."""
    qs = projects_visible_to(officer).filter(**narrow)
    counts = dict(qs.order_by().values_list("stage").annotate(n=Count("pk")))
    columns = {
        stage: [
            p.pk for p in qs.filter(stage=stage).order_by("-contract_date", "-id")[:rows_per_stage]
        ]
        for stage in STAGE_ORDER
    }
    return counts, columns


@pytest.mark.parametrize("rows_per_stage", [2, 30])
@pytest.mark.parametrize("narrow", [{}, {"size": "small"}])
def test_scoped_board_matches_the_or_and_counts_each_project_once(
    bureau, client_for, monkeypatch, rows_per_stage, narrow
):
    monkeypatch.setattr(project_views, "BOARD_ROWS_PER_STAGE", rows_per_stage)
    me, _mine, theirs = _overlapping(bureau)
    response = client_for(me).get("/projects/board/", narrow)
    assert response.status_code == 200
    columns = {c["stage"]: c for c in response.context["columns"]}
    counts, rows = _old_board(me, rows_per_stage, **({"size_class": "small"} if narrow else {}))
    assert {stage: c["count"] for stage, c in columns.items() if c["count"]} == counts
    assert {stage: [p.pk for p in c["projects"]] for stage, c in columns.items()} == rows
    if not narrow:
        # Five of Shanghai's and three of Shenzhen's: the two assigned in Shanghai and the
        # one assigned twice are counted once.
        assert sum(counts.values()) == 8
        assert counts == {"signed": 6, "groundbreaking": 2}
    html = response.content.decode()
    assert theirs[5].name not in html


def test_scoped_board_reads_its_parts_not_their_or(bureau, client_for):
    """The OR of the scope read every project of the bureau to count a scoped officer's
    board (~90 ms at province scale): each part is read alone, through its own index."""
    me, _mine, _theirs = _overlapping(bureau)
    pages = []
    sql = captured_sql(lambda: pages.append(client_for(me).get("/projects/board/")))
    assert pages[0].status_code == 200
    board = [q for q in sql if 'FROM "projects_project"' in q]
    # The count and the columns (the officer's assigned projects are read first, by id).
    assert len(board) == 2
    assert not any(" OR EXISTS" in q for q in board)
    assert all("UNION ALL" in q for q in board) and "COUNT(" in board[0]


def test_scoped_board_query_count_is_pinned(bureau, client_for):
    me, _mine, theirs = _overlapping(bureau)
    client = client_for(me)
    client.get("/projects/board/")  # the first request writes the session
    with CaptureQueriesContext(connection) as few:
        client.get("/projects/board/")
    for project in theirs[3:10]:
        Assignment.objects.create(officer=me, project=project, role=AssignmentRole.ASSISTING)
    for _ in range(6):
        make_project(me)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/projects/board/")
    assert sum(len(c["projects"]) for c in response.context["columns"]) == 21
    assert len(many) == len(few)
    # Session, officer (with its unit and the sub-tree's ids), the assigned projects' ids, the
    # count, the columns, the cards' lights, the bell's unread count.
    assert len(few) == 7
