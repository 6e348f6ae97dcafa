"""Period figures: each counting rule, on a hand-built October with a frozen clock."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from promo.reports.selectors import bulletin_units, period_figures
from tests.factories import make_unit
from tests.reports.seed import (
    DEPARTMENT,
    END,
    SHANGHAI,
    SHENZHEN,
    START,
    TODAY,
    TOTAL,
    build_october,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def october(bureau):
    with time_machine.travel(TODAY, tick=False):
        return build_october(bureau)


def test_each_first_level_unit_counts_its_sub_tree_with_hand_computed_figures(bureau, october):
    units = bulletin_units()
    assert [u.pk for u in units] == [bureau.shanghai.pk, bureau.shenzhen.pk, bureau.department.pk]
    figures = period_figures(start=START, end=END, units=units)
    assert figures[bureau.shanghai.pk].as_dict() == SHANGHAI
    assert figures[bureau.shenzhen.pk].as_dict() == SHENZHEN
    assert figures[bureau.department.pk].as_dict() == DEPARTMENT


def test_bureau_total_counts_the_whole_tree_and_distinct_investors_once(bureau, october):
    assert period_figures(start=START, end=END)[None].as_dict() == TOTAL


def test_status_at_period_end_ignores_later_changes(bureau, october):
    # Up to 30 September: L1 was valid, L4 negotiating; L2, L3 not yet qualified.
    figures = period_figures(start=date(2026, 9, 1), end=date(2026, 9, 30), units=[bureau.shanghai])
    shanghai = figures[bureau.shanghai.pk]
    assert (shanghai.leads_in_hand, shanghai.leads_negotiating) == (2, 1)
    assert shanghai.arrived_fdi == 100  # P2's first reported cumulative figure
    assert shanghai.investors_visiting == 1  # the reception on 30 September


def test_a_leaf_unit_alone_counts_only_its_own_records(bureau, october):
    figures = period_figures(start=START, end=END, units=[bureau.shanghai_team])
    pudong = figures[bureau.shanghai_team.pk]
    assert (pudong.valid_leads, pudong.groundbreaking_count, pudong.arrived_fdi) == (1, 1, 150)
    assert pudong.leads_in_hand == 0


def test_overlapping_units_are_refused(bureau):
    with pytest.raises(ValueError):
        period_figures(start=START, end=END, units=[bureau.shanghai, bureau.shanghai_team])


def test_query_count_does_not_grow_with_the_number_of_units(
    bureau, october, django_assert_num_queries
):
    extra = [make_unit(parent=parent) for parent in (bureau.shanghai, bureau.shenzhen)]
    leaves = [bureau.shanghai_team, bureau.department]
    with django_assert_num_queries(4):
        period_figures(start=START, end=END, units=leaves)
    more = [*leaves, *extra]
    with django_assert_num_queries(4):
        period_figures(start=START, end=END, units=more)
