"""Units come in tree order whatever the number of digits in their ids."""

from __future__ import annotations

import pytest

from officers.models import Officer, Unit
from promo.reports.selectors import bulletin_units


@pytest.fixture
def ragged_tree(db):
    """A bureau whose first-level units have ids 9, 10 and 100: their paths' text sorts 10, 100, 9."""
    bureau = Unit.objects.create(pk=5, name="测试局", kind="bureau")
    nine = Unit.objects.create(pk=9, name="九处", kind="branch", parent=bureau)
    ten = Unit.objects.create(pk=10, name="十处", kind="branch", parent=bureau)
    ten_child = Unit.objects.create(pk=11, name="十处一科", kind="branch", parent=ten)
    hundred = Unit.objects.create(pk=100, name="百处", kind="branch", parent=bureau)
    return bureau, nine, ten, ten_child, hundred


def test_units_are_listed_in_tree_order_not_in_the_text_order_of_their_paths(ragged_tree):
    bureau, nine, ten, ten_child, hundred = ragged_tree
    assert [u.path for u in ragged_tree] == ["/5/", "/5/9/", "/5/10/", "/5/10/11/", "/5/100/"]

    assert list(Unit.objects.filter(pk__in=[u.pk for u in ragged_tree])) == [
        bureau,
        nine,
        ten,
        ten_child,
        hundred,
    ]
    assert bulletin_units() == [nine, ten, hundred]


def test_officers_are_listed_by_their_units_tree_order(ragged_tree):
    _bureau, nine, ten, _ten_child, hundred = ragged_tree
    for unit in (hundred, ten, nine):
        Officer.objects.create(username=f"o{unit.pk}", unit=unit)

    assert [o.unit_id for o in Officer.objects.filter(username__startswith="o")] == [9, 10, 100]
