"""The kernel's query expressions (promo.core.expressions): counts read beside a list."""

from __future__ import annotations

import pytest
from django.db.models import Q

from officers.models import Unit
from promo.core.expressions import CountsOf, named_by

pytestmark = pytest.mark.django_db


def test_counts_of_a_set_and_of_each_condition_in_one_value(bureau):
    units = Unit.objects.filter(path__startswith=bureau.bureau.path)
    [first] = Unit.objects.filter(pk=bureau.bureau.pk).annotate(
        counts=CountsOf(units, Q(city="上海"), Q(city="深圳"), Q(city="拉萨"))
    )
    # The bureau, Shanghai, its Pudong team, Shenzhen and the department.
    assert first.counts == [5, 2, 1, 0]


def test_a_condition_that_holds_for_no_row_counts_none(bureau):
    # unit_id IN () is no SQL at all (Django raises EmptyResultSet): counted 0, not an error.
    [first] = Unit.objects.filter(pk=bureau.bureau.pk).annotate(
        counts=CountsOf(Unit.objects.all(), Q(pk__in=[]), Q())
    )
    assert first.counts == [5, 0, 5]


def test_counts_ride_on_the_rows_of_a_list_read_by_keys(bureau):
    shanghai = Unit.objects.filter(city="上海")
    rows = list(
        named_by(Unit.objects.all(), shanghai.order_by("pk").values("pk")[:1]).annotate(
            counts=CountsOf(shanghai)
        )
    )
    assert [u.pk for u in rows] == [bureau.shanghai.pk]
    assert rows[0].counts == [2]
