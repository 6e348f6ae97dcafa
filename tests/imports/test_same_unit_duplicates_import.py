"""Same-unit duplicates in a lead import (issue #18, finding 7): a row that would give the
importing unit a second open lead on one investor is a row error, never a silent second lead."""

from __future__ import annotations

import pytest

from leads.models import Lead
from promo.imports.choices import BatchStatus, ImportKind, RowAction
from promo.imports.services import batch_check, batch_upload
from tests.factories import make_investor, make_lead
from tests.imports.files import xlsx

pytestmark = pytest.mark.django_db

HEADER = ["项目名称", "投资方", "总投资(万元)"]


def checked(actor, rows):
    batch = batch_upload(actor=actor, data=xlsx(rows), file_name="台账.xlsx", kind=ImportKind.LEADS)
    return batch_check(batch=batch)


def test_a_row_on_an_investor_the_unit_already_follows_is_an_error_naming_the_lead(bureau):
    me = bureau.shanghai_officer
    first = make_lead(bureau.teammate, investor=make_investor(me, name="甲公司"), name="甲一期")
    batch = checked(me, [HEADER, ["甲二期", "甲公司", "100"]])
    row = batch.rows.get()
    assert row.action == RowAction.ERROR
    assert "甲一期" in row.errors[0]["message"] and str(first.pk) in row.errors[0]["message"]
    assert Lead.objects.filter(investor=first.investor).count() == 1


def test_two_new_rows_on_one_investor_the_second_is_an_error(bureau):
    me = bureau.shanghai_officer
    batch = checked(me, [HEADER, ["乙一期", "乙公司", "100"], ["乙二期", "乙公司", "200"]])
    assert batch.status == BatchStatus.CHECKED
    first, second = batch.rows.order_by("row_number")
    assert first.action == RowAction.CREATE
    assert second.action == RowAction.ERROR and "第 2 行" in second.errors[0]["message"]


def test_a_dropped_lead_of_the_unit_does_not_block_the_row(bureau):
    me = bureau.shanghai_officer
    make_lead(me, investor=make_investor(me, name="丙公司"), status="dropped")
    batch = checked(me, [HEADER, ["丙二期", "丙公司", "100"]])
    assert batch.rows.get().action == RowAction.CREATE
