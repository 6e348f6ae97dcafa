"""Same-unit duplicates (issue #18, finding 7): 防撞单 stops a second unit, and a second open
lead of the same unit on one investor needs a confirmation naming the unit's newest one."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from leads.choices import LeadStatus
from leads.models import Lead
from leads.services import lead_create, lead_drop, lead_reject
from promo.core.errors import DuplicateInUnit, HeldElsewhere
from tests.factories import make_bureau, make_investor, make_lead, make_officer, met_elsewhere


def register(officer, investor, *, name="第二个项目", **kwargs):
    return lead_create(
        actor=officer,
        investor=investor,
        name=name,
        industry="electronics",
        source_channel="stationed",
        **kwargs,
    )


@pytest.mark.django_db
def test_a_second_open_lead_of_the_same_unit_is_refused_naming_the_first(bureau):
    first = make_lead(bureau.shanghai_officer, name="第一个项目")
    with pytest.raises(DuplicateInUnit) as err:
        register(bureau.teammate, first.investor)
    assert err.value.status == 409 and err.value.code == "duplicate_in_unit"
    assert err.value.extra["lead"] == first.pk
    assert err.value.extra["holder"] == bureau.shanghai_officer.display_name
    assert "第一个项目" in str(err.value.message) and str(first.pk) in str(err.value.message)
    assert "confirm_duplicate" in err.value.field_errors
    assert Lead.objects.filter(investor=first.investor).count() == 1


@pytest.mark.django_db
def test_confirming_the_named_lead_registers_the_second_and_records_it(bureau):
    first = make_lead(bureau.shanghai_officer)
    second = register(bureau.teammate, first.investor, confirm_duplicate=first.pk)
    assert second.duplicate_of == first
    assert first.duplicate_of is None
    # A third must now name the newest one, the second.
    with pytest.raises(DuplicateInUnit) as err:
        register(bureau.shanghai_officer, first.investor, confirm_duplicate=first.pk)
    assert err.value.extra["lead"] == second.pk
    third = register(bureau.shanghai_officer, first.investor, confirm_duplicate=second.pk)
    assert third.duplicate_of == second


@pytest.mark.django_db
def test_a_stale_confirmation_is_refused_again(bureau):
    first = make_lead(bureau.shanghai_officer)
    # Asked, the teammate goes to confirm; meanwhile a colleague confirms first.
    with pytest.raises(DuplicateInUnit):
        register(bureau.teammate, first.investor)
    second = register(bureau.shanghai_head, first.investor, confirm_duplicate=first.pk)
    with pytest.raises(DuplicateInUnit) as err:
        register(bureau.teammate, first.investor, confirm_duplicate=first.pk)
    assert err.value.extra["lead"] == second.pk
    assert "重新确认" in str(err.value.message)
    assert Lead.objects.filter(investor=first.investor).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("close", ["drop", "reject", "sign"])
def test_a_closed_lead_of_the_unit_does_not_block(bureau, close):
    status = {"drop": LeadStatus.DROPPED, "reject": LeadStatus.REJECTED, "sign": "signed"}
    first = make_lead(bureau.shanghai_officer, status=status[close])
    second = register(bureau.teammate, first.investor)
    assert second.duplicate_of is None


@pytest.mark.django_db
def test_dropping_the_named_lead_makes_its_confirmation_moot(bureau):
    first = make_lead(bureau.shanghai_officer)
    lead_drop(lead=first, actor=bureau.shanghai_officer, reason="对方暂缓投资")
    second = register(bureau.teammate, first.investor, confirm_duplicate=first.pk)
    assert second.duplicate_of is None


@pytest.mark.django_db
def test_only_open_leads_of_the_unit_are_named(bureau):
    first = make_lead(bureau.shanghai_officer)
    second = register(bureau.teammate, first.investor, confirm_duplicate=first.pk)
    lead_reject(lead=second, actor=bureau.teammate, reject_reason="land_grab")
    with pytest.raises(DuplicateInUnit) as err:
        register(bureau.teammate, first.investor)
    assert err.value.extra["lead"] == first.pk


@pytest.mark.django_db
def test_another_unit_still_gets_the_held_elsewhere_answer(bureau):
    first = make_lead(bureau.shanghai_officer, name="上海的项目")
    met_elsewhere(bureau.outsider, first.investor)
    with pytest.raises(HeldElsewhere):
        register(bureau.outsider, first.investor)
    # Confirming a lead of another unit is no way around 防撞单.
    with pytest.raises(HeldElsewhere):
        register(bureau.outsider, first.investor, confirm_duplicate=first.pk)
    assert Lead.objects.filter(investor=first.investor).count() == 1


@pytest.mark.django_db(transaction=True)
def test_five_officers_of_one_unit_racing_on_one_investor_make_one_lead():
    bureau = make_bureau()
    officers = [bureau.shanghai_officer, bureau.teammate, bureau.shanghai_head] + [
        make_officer(bureau.shanghai) for _ in range(2)
    ]
    investor = make_investor(bureau.shanghai_officer, name="并发样例电子有限公司")
    start = threading.Barrier(len(officers))
    outcomes: list[str] = []

    def race(officer) -> None:
        try:
            start.wait()
            register(officer, investor, name=f"{officer.display_name}登记的项目")
            outcomes.append("created")
        except DuplicateInUnit:
            outcomes.append("asked")
        except Exception as exc:  # anything else is a failure the assertion shows
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(officer,)) for officer in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["asked"] * 4 + ["created"], outcomes
    assert Lead.objects.filter(investor=investor).count() == 1
