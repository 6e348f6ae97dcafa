"""新入统 / 新入规 on the cockpit (issue #20): counted by the milestone's actual date in the
period, per unit row and in 合计, each number linked to the project list of exactly those
projects; a withdrawn or corrected date moves the project out of the period."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.test import Client

from projects.choices import Milestone
from projects.models import Project
from projects.services import project_milestone_correct
from promo.reports.choices import Figure
from tests.reports.seed import TODAY, build_october

pytestmark = pytest.mark.django_db

OCTOBER = {"period": "month", "on": "2026-10-15"}


@pytest.fixture
def october(bureau):
    with time_machine.travel(TODAY, tick=False):
        yield build_october(bureau)


def _cells(response, figure: str) -> dict[str, dict]:
    context = response.context
    return {
        row.name: next(c for c in row.cells if c["figure"] == figure)
        for row in [*context["rows"], *context["own_rows"], context["total"]]
    }


def _listed(client: Client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [p.pk for p in response.context["page"].object_list]


def test_new_in_statistics_and_above_size_per_unit_with_links_to_exactly_those(bureau, october):
    client = Client()
    client.force_login(bureau.chief)
    response = client.get("/dashboard/", OCTOBER)
    assert response.status_code == 200
    stats = _cells(response, Figure.IN_STATISTICS_COUNT)
    above = _cells(response, Figure.ABOVE_SIZE_COUNT)
    # P2 (Shanghai's Pudong group) entered the statistics on 8 October; P4 (Shenzhen) in
    # September and became 规上 on 20 October; P3's 入统 was withdrawn (counts nowhere).
    assert {name: cell["value"] for name, cell in stats.items()} == {
        "上海办事处": 1,
        "深圳办事处": 0,
        "市发改委": 0,
        "局本级": 0,
        "合计": 1,
    }
    assert {name: cell["value"] for name, cell in above.items()} == {
        "上海办事处": 0,
        "深圳办事处": 1,
        "市发改委": 0,
        "局本级": 0,
        "合计": 1,
    }
    p2 = october.p2
    p4 = Project.objects.get(above_size_actual=date(2026, 10, 20))
    assert _listed(client, stats["上海办事处"]["url"]) == [p2.pk]
    assert _listed(client, stats["合计"]["url"]) == [p2.pk]
    assert _listed(client, stats["深圳办事处"]["url"]) == []
    assert _listed(client, above["深圳办事处"]["url"]) == [p4.pk]
    assert _listed(client, above["合计"]["url"]) == [p4.pk]
    for cells in (stats, above):
        for cell in cells.values():
            assert len(_listed(client, cell["url"])) == cell["value"] == cell["count"]


def test_a_corrected_date_moves_the_project_out_of_the_period_and_its_list(bureau, october):
    with time_machine.travel(TODAY, tick=False):
        project_milestone_correct(
            project=october.p2,
            actor=bureau.shanghai_head,
            milestone=Milestone.IN_STATISTICS,
            actual_date=date(2026, 9, 30),
            reason="以入库通知书为准",
        )
        client = Client()
        client.force_login(bureau.chief)
        october_cells = _cells(client.get("/dashboard/", OCTOBER), Figure.IN_STATISTICS_COUNT)
        september = {"period": "month", "on": "2026-09-15"}
        september_cells = _cells(client.get("/dashboard/", september), Figure.IN_STATISTICS_COUNT)
    assert october_cells["合计"]["value"] == 0
    assert _listed(client, october_cells["合计"]["url"]) == []
    # September: P2 now, and P4 (10 September).
    assert september_cells["合计"]["value"] == 2
    assert len(_listed(client, september_cells["合计"]["url"])) == 2
