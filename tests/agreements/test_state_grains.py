"""协议履约状态汇总 (decision 0026): the agreements' states added up per project unit and
签约年度, kept by a trigger on the states, read by a bureau-wide reader instead of every
state — equal to the states added up after every kind of write, never read while a state
is stale or an agreement is signed after today, never a wait for the writers who mark
states stale, and compared and corrected by the nightly reconciliation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from officers.choices import Role
from promo.agreements import services, states
from promo.agreements.models import Agreement, AgreementState, AgreementStateGrain, Term
from promo.agreements.selectors import (
    _grains_read,
    agreements_visible_to,
    compute_states,
    fresh_grains,
    keeping_figures,
    keeping_rows,
)
from promo.core.services import today
from promo.dashboard import summary
from promo.reports.models import SystemNotice
from promo.reports.selectors import agreement_analysis
from tests.agreements.test_agreement_states import COUNTED, DAY, MONEY, _agreement, _live
from tests.dashboard.raw import connect
from tests.factories import make_bureau, make_officer, make_project

pytestmark = pytest.mark.django_db


def _grains() -> dict[tuple[int, int], dict[str, Any]]:
    return {
        (g["project_unit"], g["cohort"]): {c: g[c] for c in states.GRAIN_COLUMNS}
        for g in AgreementStateGrain.objects.values()
    }


def _states_added_up() -> dict[tuple[int, int], dict[str, Any]]:
    """The grains as a plain walk over the states would add them up."""
    out: dict[tuple[int, int], dict[str, Any]] = {}
    for state in AgreementState.objects.all():
        key = (state.project_unit or 0, state.cohort or 0)
        row = out.setdefault(key, dict.fromkeys(states.GRAIN_COLUMNS, 0))
        row["states"] += 1
        row["judged"] += state.judged
        row["keeping"] += state.judged and not state.breached
        row["breached"] += state.breached
        row["clawback_due"] += state.clawback_due
        for name in states.GRAIN_COLUMNS[5:]:
            row[name] += getattr(state, name)
    return out


def _read(officer, unit=None) -> dict[str, Any]:
    figures = keeping_figures(officer, unit=unit)
    return {name: getattr(figures, name) for name in (*COUNTED, *MONEY)}


def test_the_grains_equal_the_states_added_up_after_every_kind_of_write(bureau):
    officer, head, chief = bureau.shanghai_officer, bureau.shanghai_head, bureau.chief
    other = bureau.outsider
    first = _agreement(officer, "协议-甲")
    second = _agreement(other, "协议-乙", signed_days_ago=85)  # another unit
    checks = 0

    def check(what: str) -> None:
        nonlocal checks
        assert _grains() == _states_added_up(), what
        _read(chief)  # a read recomputes what is stale: the grains follow
        assert _grains() == _states_added_up(), what
        with connection.cursor() as cursor:
            assert states.compare_grain(cursor) == [], what
        checks += 1

    check("two agreements made")
    tax = services.term_add(
        agreement=first, actor=officer, metric="annual_tax", target="100", due_on=today() - DAY
    )
    check("a term added")
    item = services.measurement_record(
        term=tax, actor=officer, measured_on=today() - 2 * DAY, value="100", source="税务部门"
    )
    services.measurement_verify(measurement=item, actor=head)
    check("a measurement verified")
    services.term_add(
        agreement=second, actor=other, metric="jobs", target="10", due_on=today() - DAY
    )
    promise = services.promise_add(
        agreement=second,
        actor=other,
        kind="land_delivery",
        description="交地",
        owner_unit=other.unit,
        due_on=today() - DAY,
    )
    check("a term and a promise in the other unit")
    services.promise_deliver(promise=promise, actor=other, delivered_on=today())
    check("the promise delivered")
    # Past the services, straight into the states: the trigger watches the table itself.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agreements_agreementstate SET paid = paid + 12.5, judged = NOT judged "
            "WHERE agreement_id = %s",
            [first.pk],
        )
    assert _grains() == _states_added_up()
    AgreementState.objects.filter(agreement=first).update(on_day=None)  # recomputed next read
    check("a state's figures written in SQL")
    # No service deletes an agreement (its log is append-only); a data fix in SQL may.
    third = Agreement.objects.create(
        project=make_project(other),
        kind="main",
        title="协议-丙",
        signed_on=today() - 9 * DAY,
        created_by=other,
    )
    Term.objects.create(agreement=third, metric="jobs", target=10, due_on=today() - DAY)
    check("an agreement made past the services")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_term WHERE agreement_id = %s", [third.pk])
        cursor.execute("DELETE FROM agreements_agreement WHERE id = %s", [third.pk])
    check("an agreement deleted in SQL")
    assert checks == 8
    # Exercised with figures, not only zeros; an emptied grain is dropped, not kept at 0.
    assert any(row["judged"] for row in _grains().values())
    assert not AgreementStateGrain.objects.filter(states=0).exists()
    assert _read(chief) == _live(chief)


def test_a_bureau_wide_read_adds_up_the_grains_and_equals_the_states_and_the_live_count(
    bureau,
):
    officer, other, chief = bureau.shanghai_officer, bureau.outsider, bureau.chief
    for n, who in enumerate((officer, officer, other)):
        agreement = _agreement(who, f"协议-{n}", signed_days_ago=80 + 3 * n)
        services.term_add(
            agreement=agreement, actor=who, metric="jobs", target="10", due_on=today() - DAY
        )
    _read(chief)  # the states of today computed
    with CaptureQueriesContext(connection) as ctx:
        figures = _read(chief)
        section = agreement_analysis(chief, unit=None, on=today())
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "agreements_agreementstategrain" in sql
    # No state is read one by one: the states' table is only probed for a stale one.
    assert 'agreements_agreementstate"."judged' not in sql and "state__" not in sql
    assert figures == _live(chief) and figures["breached"] == 3
    # The analysis' rows equal those computed live from every commitment.
    scope = agreements_visible_to(chief)
    live = keeping_rows(group=lambda path: F(f"{path}__unit_id"), agreements=scope, on=today())
    assert sum(row.agreements_judged for row in live.values()) == 3
    total = section["agreement_tables"][0]["rows"][-1]
    assert total["is_total"] and total["cells"][0]["parts"][1][0] == "3"
    # One unit's sub-tree reads its own grains only.
    unit = officer.unit
    assert _read(chief, unit)["breached"] == 2
    grains = fresh_grains(unit)
    assert grains is not None and {g["project_unit"] for g in grains} == {unit.pk}


def test_a_unit_head_still_reads_the_states_of_his_scope(bureau):
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    agreement = _agreement(officer, "协议-丙")
    services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="10", due_on=today() - DAY
    )
    _agreement(bureau.outsider, "协议-丁")  # not his
    with CaptureQueriesContext(connection) as ctx:
        figures = _read(head)
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "c.holds" not in sql  # the grains' read
    assert 'LEFT OUTER JOIN "agreements_agreementstate"' in sql  # his scope's states
    assert figures == _live(head) and figures["breached"] == 1


def test_the_grains_are_not_read_while_a_state_is_stale_or_an_agreement_is_signed_later(bureau):
    officer, chief = bureau.shanghai_officer, bureau.chief
    agreement = _agreement(officer, "协议-戊")
    services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="10", due_on=today() - DAY
    )
    assert _grains_read(None) is None  # the term made its state stale
    assert _read(chief) == _live(chief)  # recomputed first, then the grains read
    assert _grains_read(None) is not None
    # A state of another day (the night's refresh missed) is no state of today.
    AgreementState.objects.filter(agreement=agreement).update(on_day=today() - DAY)
    assert _grains_read(None) is None
    assert _read(chief) == _live(chief)
    assert _grains_read(None) is not None
    # An agreement signed after today (entered past the services) is not yet counted in a
    # figure of today: the grains, which hold every state, are not read.
    Agreement.objects.create(
        project=make_project(officer),
        kind="main",
        title="协议-己",
        signed_on=today() + DAY,
        created_by=officer,
    )
    assert _grains_read(None) is None
    assert fresh_grains(None) is None
    assert _read(chief) == _live(chief)
    # An agreement without a state (its state deleted in SQL): the grains hold one state
    # fewer than there are agreements.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_agreement WHERE signed_on > %s", [today()])
    _read(chief)
    assert _grains_read(None) is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM agreements_agreementstate WHERE agreement_id = %s", [agreement.pk]
        )
    assert _grains_read(None) is None


def test_the_nightly_reconciliation_finds_a_wrong_grain_tells_and_corrects_it(bureau):
    officer = bureau.shanghai_officer
    admin = make_officer(bureau.bureau, role=Role.ADMIN)
    agreement = _agreement(officer, "协议-庚")
    services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="10", due_on=today() - DAY
    )
    keeping_figures(bureau.chief)
    assert summary.compare(today() - 3 * DAY, today()) == []
    # A write to the grains themselves is what no trigger sees and the comparison must.
    AgreementStateGrain.objects.update(breached=F("breached") + 1, paid=F("paid") + 5)
    found = summary.compare(today() - 3 * DAY, today())
    state = AgreementState.objects.get(agreement=agreement)
    key = f"agreement_grain:{state.project_unit}:{state.cohort}"
    assert [m.figure for m in found] == [f"{key}:breached paid"], found
    assert found[0].unit_id == officer.unit_id
    assert found[0].stored == (1, Decimal("5")) and found[0].expected == (1, Decimal("0"))
    result = summary.reconcile(today())
    assert len(result.mismatches) == 1 and result.corrected
    assert _grains() == _states_added_up()
    assert SystemNotice.objects.filter(recipient=admin, last_error__contains=key).exists()
    assert summary.compare(today() - 3 * DAY, today()) == []


@pytest.mark.django_db(transaction=True)
def test_writers_marking_states_of_one_grain_stale_never_wait_for_each_other():
    """Two officers' writes to two agreements of the same unit and cohort, each left open:
    marking a state stale moves no figure, so neither takes a grain's row lock."""
    b = make_bureau()
    officer = b.shanghai_officer
    first, second = (_agreement(officer, f"协议-{n}") for n in (1, 2))
    terms = [
        Term.objects.create(agreement=a, metric="jobs", target=10, due_on=today() - DAY)
        for a in (first, second)
    ]
    keeping_figures(b.chief)  # both states of today, in the same grain
    assert len({(s.project_unit, s.cohort) for s in AgreementState.objects.all()}) == 1
    a, c = connect(), connect()
    try:
        with a.cursor() as cursor:
            cursor.execute("UPDATE agreements_term SET target = 20 WHERE id = %s", [terms[0].pk])
        with c.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
            cursor.execute("UPDATE agreements_term SET target = 30 WHERE id = %s", [terms[1].pk])
        c.commit()
        a.commit()
    finally:
        a.close()
        c.close()
    assert set(AgreementState.objects.values_list("on_day", flat=True)) == {None}
    assert _grains() == _states_added_up()


def test_a_fresh_day_is_known_without_looking_for_the_stale_among_the_agreements(bureau):
    """``states.ensure_fresh`` first asks whether any state of the bureau is stale (two index
    reads); only then does it look for the stale among the agreements it was given."""
    officer = bureau.shanghai_officer
    agreement = _agreement(officer, "协议-辛")
    term = services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="10", due_on=today() + DAY
    )

    def looked_for_the_stale() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert states.ensure_fresh(Agreement.objects.all(), compute=compute_states)
        return [q["sql"] for q in ctx.captured_queries if "LEFT OUTER JOIN" in q["sql"]]

    assert looked_for_the_stale()  # the new term made the state stale: recomputed
    assert states.all_fresh(today())
    assert looked_for_the_stale() == []
    Term.objects.filter(pk=term.pk).update(target=20)  # marked stale by the trigger
    assert not states.all_fresh(today())
    assert looked_for_the_stale()
    assert states.all_fresh(today())
