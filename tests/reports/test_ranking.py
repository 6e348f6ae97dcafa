"""The bulletin's 排名 by the bureau's scoring method (功效系数法), ties broken and explained.

Twelve first-level units; in October only two sign, so ranking by the month's new signings
(the old rule) put ten units level at 3. The year-to-date figures differ: the efficacy
scores (computed here by hand from the formula) give every unit its own rank, and the two
units with nothing at all are put in order by the stated rule and marked.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from officers.choices import Role
from projects.services import project_create
from promo.core.choices import Industry
from promo.reports.choices import BulletinKind, Figure, RankTie
from promo.reports.services import bulletin_generate, bulletin_publish
from tests.factories import make_investor, make_officer, make_unit

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OCTOBER = date(2026, 10, 1)

# Year-to-date signings (contract date, 万元) of the nine units added to the bureau's three;
# only Shanghai (12000) and Shenzhen (800) sign in October itself.
SIGNINGS: dict[str, list[tuple[date, int]]] = {
    "shanghai": [(date(2026, 10, 15), 12000), (date(2026, 3, 2), 3000)],
    "shenzhen": [(date(2026, 10, 28), 800), (date(2026, 6, 1), 5000)],
    "department": [],
    "N1": [(date(2026, 2, 3), 20000)],
    "N2": [(date(2026, 4, 1), 1000), (date(2026, 5, 1), 1000), (date(2026, 7, 1), 1000)],
    "N3": [(date(2026, 1, 20), 8000)],
    "N4": [(date(2026, 3, 1), 4000), (date(2026, 8, 1), 4000)],
    "N5": [(date(2026, 9, 1), 2500)],
    "N6": [(date(2026, 5, 5), 10000)],
    "N7": [(date(2026, 6, 6), 6000), (date(2026, 7, 7), 1000)],
    "N8": [(date(2026, 2, 2), 9000), (date(2026, 4, 4), 3000), (date(2026, 9, 9), 1000)],
    "N9": [],
}


@pytest.fixture
def world(bureau):
    with time_machine.travel(NOW, tick=False):
        units = {"shanghai": bureau.shanghai, "shenzhen": bureau.shenzhen}
        units["department"] = bureau.department
        actors = {"shanghai": bureau.shanghai_officer, "shenzhen": bureau.outsider}
        for key in [f"N{i}" for i in range(1, 10)]:
            units[key] = make_unit(f"Unit {key}", parent=bureau.bureau)
            actors[key] = make_officer(units[key], role=Role.OFFICER)
        for key, signings in SIGNINGS.items():
            for number, (signed, amount) in enumerate(signings):
                actor = actors[key]
                project_create(
                    actor=actor,
                    investor=make_investor(actor, name=f"Investor {key}-{number}"),
                    name=f"Project {key}-{number}",
                    industry=Industry.ELECTRONICS,
                    contract_date=signed,
                    total_investment=amount,
                )
        yield units


def hand_scores(weights: dict[str, int]) -> dict[str, Decimal]:
    """The 功效系数法 by hand: 60 + 40 × (x − worst) / (best − worst) per metric (100 when
    all are equal), averaged with the weights; no other figure differs between the units
    (no leads, visits, groundbreakings or FDI), so every other metric scores 100."""
    amount = {k: Decimal(sum(a for _d, a in v)) for k, v in SIGNINGS.items()}
    count = {k: Decimal(len(v)) for k, v in SIGNINGS.items()}
    columns = {"signed_amount": amount, "signed_count": count}
    total = Decimal(sum(weights.values()))
    scores = {}
    for key in SIGNINGS:
        weighted = Decimal(0)
        for metric, weight in weights.items():
            column = columns.get(metric)
            if column is None or max(column.values()) == min(column.values()):
                scaled = Decimal(100)
            else:
                best, worst = max(column.values()), min(column.values())
                scaled = 60 + 40 * (column[key] - worst) / (best - worst)
            weighted += scaled * weight
        scores[key] = (weighted / total).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return scores


DEFAULT = {
    "signed_amount": 30,
    "signed_count": 20,
    "groundbreaking_count": 20,
    "arrived_fdi": 10,
    "valid_leads": 10,
    "investors_visiting": 10,
}


def generate():
    with time_machine.travel(NOW, tick=False):
        return bulletin_generate(kind=BulletinKind.MONTHLY, period_start=OCTOBER)


def ranked(bulletin, units) -> dict[str, tuple[int, Decimal | None, str]]:
    name = {unit.pk: key for key, unit in units.items()}
    return {
        # getattr: so that the old code (no scores) fails on the ranks, not on the names.
        name[line.unit_id]: (line.rank, getattr(line, "score", None), getattr(line, "rank_tie", ""))
        for line in bulletin.lines.all()
        if line.rank is not None
    }


def test_twelve_units_get_distinct_ranks_by_their_efficacy_scores(world):
    bulletin = generate()
    got = ranked(bulletin, world)

    # The old rule (the month's signed amount) tied ten units at 3; no more.
    assert sorted(rank for rank, _s, _t in got.values()) == list(range(1, 13))
    expected = hand_scores(DEFAULT)
    assert {key: score for key, (_r, score, _t) in got.items()} == expected
    # Best score first; the two units with nothing (equal scores) in the units' order.
    order = sorted(SIGNINGS, key=lambda k: (-expected[k], list(world).index(k)))
    assert sorted(got, key=lambda k: got[k][0]) == order
    assert order[0] == "N8" and order[-2:] == ["department", "N9"]
    assert got["department"][2] == got["N9"][2] == RankTie.ORDER
    assert {key for key, (_r, _s, tie) in got.items() if tie} == {"department", "N9"}
    assert bulletin.scoring["weights"] == {k: str(v) for k, v in DEFAULT.items()}


def test_equal_scores_are_ordered_by_signed_amount_then_count_then_unit_order(world, settings):
    # Scored on the signed count alone: the units with one signing share a score.
    settings.PROMO_SCORE_WEIGHTS = "signed_count:1"
    got = ranked(generate(), world)
    ones = sorted(["N1", "N3", "N5", "N6"], key=lambda k: got[k][0])
    assert ones == ["N1", "N6", "N3", "N5"]  # 20000 > 10000 > 8000 > 2500
    assert {got[k][2] for k in ones} == {RankTie.SIGNED_AMOUNT}

    # Scored on a figure nobody has: every score equal; N4 (8000, two signings) before N3
    # (8000, one) by the count, the two units with nothing by the units' order.
    settings.PROMO_SCORE_WEIGHTS = "arrived_fdi:1"
    got = ranked(generate(), world)
    assert got["N4"][0] + 1 == got["N3"][0]
    # Each tied line names the rule that placed it below the unit above it.
    assert got["N3"][2] == RankTie.SIGNED_COUNT
    assert got["department"][0] + 1 == got["N9"][0] == 12
    assert got["N9"][2] == RankTie.ORDER


def test_the_page_states_the_method_the_weights_and_why_a_tie_was_broken(world, client_for, bureau):
    bulletin = generate()
    html = (
        client_for(bureau.chief)
        .get(reverse("reports:bulletin", args=[bulletin.pk]))
        .content.decode()
    )
    assert "方法说明" in html and "功效系数法" in html
    # The year-to-date completion under its own heading, apart from the month's figures.
    assert '<th colspan="15" scope="colgroup" class="period-group">本月</th>' in html
    assert '<th scope="colgroup" class="ytd">本年累计</th>' in html
    note = html.split("方法说明", 1)[1]
    for figure, weight in DEFAULT.items():
        assert f"{Figure(figure).label} {weight}" in note
    assert "每个签约未按期开工项目扣 1 分" in html
    assert html.count('<sup class="tie"') == 2
    assert "同分且签约额、个数相同，按单位排列顺序排序" in html


def test_a_published_bulletin_keeps_its_ranks_when_the_weights_change(world, settings, bureau):
    bulletin = generate()
    with time_machine.travel(NOW, tick=False):
        bulletin_publish(bulletin=bulletin, actor=bureau.chief)
    before = ranked(bulletin, world)
    method = dict(bulletin.scoring)

    settings.PROMO_SCORE_WEIGHTS = "signed_count:1"
    bulletin = generate()  # published: re-checked for amendments, never re-ranked
    bulletin.refresh_from_db()

    assert ranked(bulletin, world) == before
    assert bulletin.scoring == method
    # The same weights on a draft do change the order: the frozen ranks are not a no-op.
    with time_machine.travel(NOW, tick=False):
        september = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=date(2026, 9, 1))
    assert september.scoring["weights"] == {"signed_count": "1"}
