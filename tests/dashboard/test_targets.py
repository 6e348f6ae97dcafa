"""目标分解: unit targets checked against the sum broken down to people; the breakdown form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from officers.choices import Role, TargetMetric
from officers.models import Target
from officers.selectors import target_breakdown
from officers.services import target_set
from promo.core.services import today
from tests.factories import make_officer

pytestmark = pytest.mark.django_db

SIGNED = TargetMetric.SIGNED_COUNT
AMOUNT = TargetMetric.SIGNED_AMOUNT


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def url(bureau, metric=SIGNED, unit=None) -> str:
    return f"/dashboard/targets/{(unit or bureau.shanghai).pk}/{metric}/?year={today().year}"


def unit_target(bureau, value, metric=SIGNED, unit=None):
    return target_set(
        actor=bureau.chief,
        year=today().year,
        metric=metric,
        value=value,
        unit=unit or bureau.shanghai,
    )


def person_target(bureau, officer, value, metric=SIGNED):
    return target_set(
        actor=bureau.chief, year=today().year, metric=metric, value=value, officer=officer
    )


def test_the_check_says_none_short_or_covered_and_counts_the_sub_tree(bureau):
    unit_target(bureau, 10)
    unit_target(bureau, 5000, metric=AMOUNT)
    person_target(bureau, bureau.shanghai_officer, 4, metric=SIGNED)
    person_target(bureau, bureau.sub_unit_officer, 3, metric=SIGNED)  # a group of Shanghai
    person_target(bureau, bureau.outsider, 9, metric=SIGNED)  # Shenzhen: not Shanghai's
    rows = {r["metric"]: r for r in target_breakdown(bureau.shanghai_head, today().year)}
    assert rows[SIGNED]["people_sum"] == Decimal(7) and rows[SIGNED]["people"] == 2
    assert rows[SIGNED]["gap"] == Decimal(3) and rows[SIGNED]["status"] == "short"
    assert rows[AMOUNT]["status"] == "none" and rows[AMOUNT]["people_sum"] == 0

    person_target(bureau, bureau.teammate, 3, metric=SIGNED)
    rows = {r["metric"]: r for r in target_breakdown(bureau.shanghai_head, today().year)}
    assert rows[SIGNED]["status"] == "covered" and rows[SIGNED]["gap"] == 0


def test_a_unit_head_breaks_the_target_down_and_sees_what_is_missing(bureau):
    unit_target(bureau, 10)
    client = client_for(bureau.shanghai_head)
    page = client.get(url(bureau))
    assert page.status_code == 200
    assert f"p{bureau.sub_unit_officer.pk}" in page.context["form"].fields
    assert f"p{bureau.outsider.pk}" not in page.context["form"].fields

    response = client.post(
        url(bureau),
        {
            f"p{bureau.shanghai_officer.pk}": "4",
            f"p{bureau.teammate.pk}": "2.5",
            "reason": "年初分解",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith("/dashboard/targets/")
    mine = Target.objects.get(officer=bureau.shanghai_officer, metric=SIGNED)
    assert mine.value == Decimal("4") and mine.set_by == bureau.shanghai_head
    assert "尚差 3.50" in response.content.decode()
    assert "未分解完" in response.content.decode()
    event = mine.events.order_by("-pgh_id").first()
    assert event.pgh_context.metadata["why"] == "年初分解"
    assert event.pgh_context.metadata["user"] == bureau.shanghai_head.pk


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(bureau):
    unit_target(bureau, 10)
    client = client_for(bureau.shanghai_head)
    response = client.post(
        url(bureau),
        {f"p{bureau.shanghai_officer.pk}": "4", f"p{bureau.teammate.pk}": "-1"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors[f"p{bureau.teammate.pk}"]
    assert not Target.objects.filter(officer__isnull=False).exists()


def test_an_outsider_head_is_refused_and_nothing_changes(bureau):
    unit_target(bureau, 10)
    shenzhen_head = make_officer(bureau.shenzhen, role=Role.UNIT_HEAD)
    client = client_for(shenzhen_head)
    assert client.get(url(bureau)).status_code == 404
    response = client.post(url(bureau), {f"p{bureau.shanghai_officer.pk}": "4"})
    assert response.status_code == 404
    assert not Target.objects.filter(officer__isnull=False).exists()
    # Officers do not break targets down; the summary is not theirs either.
    assert client_for(bureau.shanghai_officer).get("/dashboard/targets/").status_code == 404


def test_the_chief_sees_every_unit_and_an_unknown_metric_is_not_found(bureau):
    unit_target(bureau, 10)
    unit_target(bureau, 6, unit=bureau.shenzhen)
    client = client_for(bureau.chief)
    page = client.get("/dashboard/targets/")
    assert page.status_code == 200
    assert {r["unit"] for r in page.context["rows"]} == {bureau.shanghai, bureau.shenzhen}
    assert client.get(url(bureau, metric="nonsense")).status_code == 404


def test_the_summary_reads_the_same_queries_for_2_and_12_people(bureau):
    unit_target(bureau, 10)
    client = client_for(bureau.chief)
    person_target(bureau, bureau.shanghai_officer, 1)
    client.get("/dashboard/targets/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/dashboard/targets/").status_code == 200
    for _ in range(10):
        person_target(bureau, make_officer(bureau.shanghai), 1)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/dashboard/targets/")
    assert response.context["rows"][0]["people"] == 11
    assert len(few) == len(many) <= 8


def test_summary_and_breakdown_page_agree_after_an_officer_leaves(bureau):
    unit_target(bureau, 104000, metric=AMOUNT)
    person_target(bureau, bureau.shanghai_officer, 34666, metric=AMOUNT)
    person_target(bureau, bureau.teammate, 34667, metric=AMOUNT)
    person_target(bureau, bureau.sub_unit_officer, 34667, metric=AMOUNT)
    # 张明 leaves the bureau: the account is deactivated, the target row stays in the history.
    bureau.shanghai_officer.is_active = False
    bureau.shanghai_officer.save(update_fields=["is_active"])

    rows = {r["metric"]: r for r in target_breakdown(bureau.chief, today().year)}
    summary = rows[AMOUNT] if rows[AMOUNT]["unit"] == bureau.shanghai else None
    assert summary is not None
    page = client_for(bureau.chief).get(url(bureau, metric=AMOUNT))
    assert page.status_code == 200
    assert (summary["people_sum"], summary["gap"]) == (Decimal(69334), Decimal(34666))
    assert (page.context["people_sum"], page.context["gap"]) == (Decimal(69334), Decimal(34666))
    assert summary["people"] == 2 and summary["status"] == "short"
