"""协议履约状态 (decision 0020): the 协议履约 figures counted from one stored row per agreement
equal the figures computed live from every commitment's and promise's status — after every
kind of write, through the services or past them in SQL, a day later, with a write landing
in the middle of a recomputation, and when too many rows are stale to recompute on a read."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from projects import services as project_services
from promo.agreements import services, states
from promo.agreements.models import Agreement, AgreementState, AgreementStatuses, Promise, Term
from promo.agreements.selectors import (
    _figures_live,
    agreements_visible_to,
    compute_states,
    keeping_figures,
    keeping_rows,
    promises_visible_to,
    promises_with_status,
    stored_keeping_rows,
)
from promo.agreements.tasks import refresh_agreement_states
from promo.core.services import today
from tests.factories import make_project, stage_evidence

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
COUNTED = ("judged", "keeping", "breached", "overdue_promises", "clawback_due")
MONEY = ("paid", "withheld", "clawed_back")


def _live(officer) -> dict[str, Any]:
    return _figures_live(agreements_visible_to(officer), promises_visible_to(officer), None)


def _stored(officer) -> dict[str, Any]:
    figures = keeping_figures(officer)
    return {name: getattr(figures, name) for name in (*COUNTED, *MONEY)}


def _by_unit(project_path: str) -> F:
    return F(f"{project_path}__unit_id")


def _clawback_due(promise) -> bool:
    return promises_with_status(Promise.objects.filter(pk=promise.pk)).get().clawback_due


def _state(agreement: Agreement) -> AgreementState:
    return AgreementState.objects.get(agreement=agreement)


def _agreement(officer, title: str, *, signed_days_ago: int = 80) -> Agreement:
    project = make_project(officer, contract_date=today() - signed_days_ago * DAY)
    return services.agreement_create(
        project=project,
        actor=officer,
        kind="main",
        title=title,
        signed_on=today() - signed_days_ago * DAY,
    )


def _measure(officer, head, term, value, on):
    item = services.measurement_record(
        term=term, actor=officer, measured_on=on, value=value, source="税务部门"
    )
    return services.measurement_verify(measurement=item, actor=head)


def test_every_kind_of_write_marks_the_state_stale_and_the_figures_stay_equal_to_live(bureau):
    officer, head, chief = bureau.shanghai_officer, bureau.shanghai_head, bureau.chief
    agreement = _agreement(officer, "协议-甲")
    checks = []

    def check(what: str, *, stale: bool = True) -> None:
        # Read once (recomputing what is stale), then compare with the live computation.
        before = _state(agreement)
        if stale:
            assert before.on_day is None, what
        figures = _stored(chief)
        assert figures == _live(chief), what
        assert _state(agreement).on_day == today(), what
        # 协议履约分析's figures added up from the states equal those computed live.
        scope = agreements_visible_to(chief)
        stored = stored_keeping_rows(group=_by_unit, agreements=scope)
        assert stored == keeping_rows(group=_by_unit, agreements=scope, on=today()), what
        checks.append((what, figures, stored))

    tax = services.term_add(
        agreement=agreement, actor=officer, metric="annual_tax", target="100", due_on=today() - DAY
    )
    check("term added")
    assert checks[-1][1]["breached"] == 1  # due yesterday, nothing measured: 未履约
    item = services.measurement_record(
        term=tax, actor=officer, measured_on=today() - 2 * DAY, value="100", source="税务部门"
    )
    check("measurement recorded")
    assert checks[-1][1]["breached"] == 1  # not verified yet: it does not count
    services.measurement_verify(measurement=item, actor=head)
    check("measurement verified")
    assert checks[-1][1]["keeping"] == 1 and checks[-1][1]["breached"] == 0
    start = services.term_add(
        agreement=agreement, actor=officer, metric="start_by", target="0", due_on=today() - 3 * DAY
    )
    check("date term added")
    assert checks[-1][1]["breached"] == 1
    project_services.project_advance(
        project=agreement.project,
        actor=officer,
        to_stage="groundbreaking",
        actual_date=today() - 4 * DAY,
        evidence=stage_evidence("groundbreaking"),
    )
    check("the project broke ground")
    assert checks[-1][1]["breached"] == 0
    promise = services.promise_add(
        agreement=agreement,
        actor=officer,
        kind="land_delivery",
        description="交地",
        owner_unit=officer.unit,
        due_on=today() - DAY,
    )
    check("promise added")
    assert checks[-1][1]["overdue_promises"] == 1
    services.promise_deliver(promise=promise, actor=officer, delivered_on=today())
    check("promise delivered")
    assert checks[-1][1]["overdue_promises"] == 0
    # Past the services: a data fix in SQL is caught by the triggers too.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_project SET groundbreaking_actual = %s WHERE id = %s",
            [today(), agreement.project_id],
        )
    check("a project date corrected in SQL")
    assert checks[-1][1]["breached"] == 1  # broke ground after its due date: 部分履约
    services.term_waive(term=start, actor=head, reason="规划调整，经区政府同意")
    check("term waived")
    assert checks[-1][1]["breached"] == 0
    with connection.cursor() as cursor:
        cursor.execute("UPDATE agreements_measurement SET value = 40 WHERE term_id = %s", [tax.pk])
    check("a measurement changed in SQL")
    assert checks[-1][1]["breached"] == 1
    # An update that changes no date of the project leaves the state as it was.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_project SET name = name || '' WHERE id = %s", [agreement.project_id]
        )
    assert _state(agreement).on_day == today()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_measurement WHERE term_id = %s", [tax.pk])
    check("a measurement deleted in SQL")
    assert len(checks) == 11
    # The analysis' parts were exercised, not only zeros: a date commitment judged, a promise
    # fallen due, an amount commitment judged.
    analysed = [row for _what, _figures, stored in checks for row in stored.values()]
    assert any(row.start_judged for row in analysed)
    assert any(row.promises_due for row in analysed)
    assert any(row.agreements_judged for row in analysed)


def test_an_incentive_paid_then_in_breach_is_counted_to_claw_back_and_its_condition_tracked(
    bureau,
):
    officer, head, chief = bureau.shanghai_officer, bureau.shanghai_head, bureau.chief
    agreement = _agreement(officer, "协议-乙")
    tax = services.term_add(
        agreement=agreement,
        actor=officer,
        metric="annual_tax",
        target="50",
        due_on=today() + 20 * DAY,
    )
    _measure(officer, head, tax, "50", today())
    promise = services.promise_add(
        agreement=agreement,
        actor=officer,
        kind="incentive",
        description="奖补第一期",
        owner_unit=officer.unit,
        due_on=today() + 30 * DAY,
        amount="100",
        conditions=[tax],
    )
    assert _stored(chief) == _live(chief)
    assert _state(agreement).on_day == today() and _clawback_due(promise) is False
    request = services.incentive_request(
        promise=promise, actor=officer, action="pay", reason="兑现"
    )
    services.incentive_decide(request=request, actor=head, approve=True)
    assert _state(agreement).on_day is None  # the payment (a promise column) made it stale
    assert _stored(chief) == _live(chief)
    with time_machine.travel(today() + 40 * DAY):
        # A new day: yesterday's states do not count; the correction puts it in breach.
        assert AgreementState.objects.get(agreement=agreement).on_day != today()
        _measure(officer, head, tax, "30", tax.due_on)
        figures = _stored(chief)
        assert figures == _live(chief)
        assert (figures["breached"], figures["clawback_due"]) == (1, 1)
        assert figures["paid"] == Decimal("100")
        # The promise's own 应追回 reads the fresh state, and the terms when it is stale.
        assert _state(agreement).on_day == today()
        assert _clawback_due(promise) is True
        AgreementState.objects.filter(agreement=agreement).update(on_day=None)
        assert _clawback_due(promise) is True
        assert _stored(chief) == _live(chief)
        # The condition unlinked in SQL: the promise's table of conditions has its trigger.
        assert _state(agreement).on_day == today()
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM agreements_promise_conditions WHERE promise_id = %s", [promise.pk]
            )
        assert _state(agreement).on_day is None
        assert _stored(chief) == _live(chief)


def test_a_write_during_the_recomputation_leaves_the_row_stale_for_the_next_read(bureau):
    officer, head, chief = bureau.shanghai_officer, bureau.shanghai_head, bureau.chief
    agreement = _agreement(officer, "协议-丙")
    tax = services.term_add(
        agreement=agreement, actor=officer, metric="annual_tax", target="100", due_on=today() - DAY
    )
    seen = states.stale(Agreement.objects.filter(pk=agreement.pk))
    computed = compute_states([agreement.pk], today())  # 未履约: nothing verified by the due date
    assert computed[agreement.pk].breached is True
    _measure(officer, head, tax, "100", today() - 2 * DAY)  # lands before the store
    assert states._store(seen, computed, today(), wait_ms=200) == 0
    state = _state(agreement)
    assert state.on_day is None and state.breached is False  # never the stale computation
    figures = _stored(chief)
    assert figures == _live(chief) and figures["keeping"] == 1


def test_over_the_read_limit_the_figures_are_live_and_the_nightly_refresh_stores_all(
    bureau, settings
):
    officer, chief = bureau.shanghai_officer, bureau.chief
    made = [_agreement(officer, f"协议-{n}") for n in range(3)]
    for agreement in made:
        services.term_add(
            agreement=agreement, actor=officer, metric="jobs", target="10", due_on=today() - DAY
        )
    settings.PROMO_AGREEMENT_STATE_READ_LIMIT = 2
    figures = _stored(chief)
    assert figures == _live(chief) and figures["breached"] == 3
    # Computed live for that read: nothing was stored by it.
    assert not AgreementState.objects.filter(on_day=today()).exists()
    assert refresh_agreement_states() == 3
    assert refresh_agreement_states() == 0  # a second run finds nothing stale
    assert AgreementState.objects.filter(on_day=today()).count() == 3
    assert _stored(chief) == figures


def test_deleting_an_agreement_removes_its_state(bureau):
    # No service deletes an agreement (its log is append-only); a data fix in SQL may.
    officer, chief = bureau.shanghai_officer, bureau.chief
    agreement = Agreement.objects.create(
        project=make_project(officer),
        kind="main",
        title="协议-丁",
        signed_on=today() - 9 * DAY,
        created_by=officer,
    )
    Term.objects.create(agreement=agreement, metric="jobs", target=10, due_on=today() - DAY)
    assert _stored(chief)["breached"] == 1
    assert AgreementStatuses.objects.filter(agreement_id=agreement.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_term WHERE agreement_id = %s", [agreement.pk])
        cursor.execute("DELETE FROM agreements_agreement WHERE id = %s", [agreement.pk])
    assert not AgreementState.objects.filter(agreement_id=agreement.pk).exists()
    assert not AgreementStatuses.objects.filter(agreement_id=agreement.pk).exists()
    assert (
        _stored(chief) == _live(chief) == {**dict.fromkeys(COUNTED, 0), **dict.fromkeys(MONEY, 0)}
    )


def test_fresh_states_are_counted_in_the_same_queries_for_one_agreement_or_many(bureau):
    officer, chief = bureau.shanghai_officer, bureau.chief

    def queries() -> int:
        keeping_figures(chief)  # recompute what is stale
        with CaptureQueriesContext(connection) as ctx:
            keeping_figures(chief)
        return len(ctx.captured_queries)

    first = _agreement(officer, "协议-1")
    services.term_add(
        agreement=first, actor=officer, metric="jobs", target="10", due_on=today() - DAY
    )
    one = queries()
    for n in range(5):
        more = _agreement(officer, f"协议-{n + 2}")
        services.term_add(
            agreement=more, actor=officer, metric="jobs", target="10", due_on=today() - DAY
        )
    assert queries() == one == 1  # the states counted and summed, none stale


@pytest.mark.django_db(transaction=True)
def test_a_read_does_not_hang_behind_a_writer_holding_the_states_it_would_store():
    """A long writer (an import of the agreement ledger, all or nothing) holds its agreements'
    state rows until it commits; a read of the figures meanwhile waits at most
    ``READ_WAIT_MS`` for them, counts live, and stores them once the writer is done."""
    import psycopg2

    from tests.factories import make_bureau

    bureau = make_bureau()
    officer, chief = bureau.shanghai_officer, bureau.chief
    agreement = _agreement(officer, "协议-戊")
    services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="10", due_on=today() - DAY
    )
    assert _state(agreement).on_day is None
    db = connection.settings_dict
    writer = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )
    try:
        with writer.cursor() as cursor:  # a transaction left open, as a long import's
            cursor.execute(
                "SELECT 1 FROM agreements_agreementstate WHERE agreement_id = %s FOR UPDATE",
                [agreement.pk],
            )
        started = time.monotonic()
        figures = _stored(chief)
        waited = time.monotonic() - started
        assert figures == _live(chief) and figures["breached"] == 1
        assert waited < 2.0, waited  # READ_WAIT_MS (0.2 s) and the live count, not a hang
        assert _state(agreement).on_day is None  # nothing stored while it was held
    finally:
        writer.rollback()
        writer.close()
    assert _stored(chief) == _live(chief)
    assert _state(agreement).on_day == today()


def test_the_at_risk_list_reads_the_stored_commitments_and_equals_the_trends_drawn(bureau):
    from promo.agreements.models import Term as TermModel
    from promo.agreements.selectors import term_list, terms_visible_to, terms_with_trend

    officer, head, chief = bureau.shanghai_officer, bureau.shanghai_head, bureau.chief
    agreement = _agreement(officer, "协议-己")
    falling = services.term_add(
        agreement=agreement, actor=officer, metric="annual_tax", target="1000",
        due_on=today() + 300 * DAY,
    )  # fmt: skip
    for days_ago, value in ((60, "100"), (30, "150")):
        _measure(officer, head, falling, value, today() - days_ago * DAY)
    soon = services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="50", due_on=today() + 5 * DAY
    )
    services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target="50", due_on=today() + 200 * DAY
    )

    def drawn() -> list[int]:
        qs = terms_with_trend(terms_visible_to(chief)).filter(at_risk=True).order_by("due_on", "id")
        return list(qs.values_list("pk", flat=True))

    listed = [t.pk for t in term_list(chief, status="at_risk")]
    assert listed == drawn() == [soon.pk, falling.pk]
    assert _state(agreement).at_risk_terms == sorted([soon.pk, falling.pk])
    # The trend recovers: the stored list follows the measurement.
    _measure(officer, head, falling, "900", today())
    listed = [t.pk for t in term_list(chief, status="at_risk")]
    assert listed == drawn() == [soon.pk]
    # A past day is drawn live (no state is of that day).
    past = [t.pk for t in term_list(chief, status="at_risk", on=today() - DAY)]
    assert past == list(
        terms_with_trend(TermModel.objects.all(), today() - DAY)
        .filter(at_risk=True)
        .order_by("due_on", "id")
        .values_list("pk", flat=True)
    )


def test_the_at_risk_list_of_each_scope_is_its_own_and_counted_from_the_states(bureau, client_for):
    """The at-risk list reads the ids of its scope's commitments from the states (visible to
    the caller, in the unit, of the metric): the page equals the trends drawn live for that
    scope and the count is the ids' — never a count of the commitments joined to their
    projects (97 ms of the list's 300 at province scale)."""
    from promo.agreements.selectors import _in_unit, terms_visible_to, terms_with_trend

    officer, chief = bureau.shanghai_officer, bureau.chief
    shenzhen = bureau.outsider  # of the Shenzhen office: Shanghai's records are not theirs
    here = _agreement(officer, "协议-上海")
    there = _agreement(shenzhen, "协议-深圳")
    for agreement, keeper in ((here, officer), (there, shenzhen)):
        for metric, days in (("jobs", 5), ("annual_tax", 12), ("jobs", 200)):
            services.term_add(
                agreement=agreement, actor=keeper, metric=metric, target="50",
                due_on=today() + days * DAY,
            )  # fmt: skip

    def drawn(who, unit=None, metric="") -> list[int]:
        qs = terms_with_trend(_in_unit(terms_visible_to(who), unit, "agreement__project"))
        qs = qs.filter(at_risk=True)
        if metric:
            qs = qs.filter(metric=metric)
        return list(qs.order_by("due_on", "id").values_list("pk", flat=True))

    cases = [
        (chief, None, ""),
        (chief, bureau.shanghai, ""),
        (chief, bureau.shenzhen, "jobs"),
        (chief, bureau.bureau, "annual_tax"),
        (officer, None, ""),
        (bureau.outsider, None, ""),
    ]
    for who, unit, metric in cases:
        query = "status=at_risk" + (f"&unit={unit.pk}" if unit else "")
        query += f"&metric={metric}" if metric else ""
        client = client_for(who)
        client.get(f"/agreements/terms/?{query}")  # the states of today stored first
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/agreements/terms/?{query}")
        assert response.status_code == 200
        page = response.context["page"]
        expected = drawn(who, unit, metric)
        assert [term.pk for term in page.object_list] == expected, (who.username, query)
        assert page.paginator.count == len(expected), (who.username, query)
        counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
        assert not [
            sql for sql in counts if '"projects_project"' in sql and "agreements_term" in sql
        ]
    assert len(drawn(chief)) == 4  # two of each agreement: the jobs due in 5 days, the tax in 12
    assert drawn(officer) == drawn(chief, bureau.shanghai) != []
    assert drawn(shenzhen) == drawn(chief, bureau.shenzhen) != []
    assert not set(drawn(officer)) & set(drawn(shenzhen))


def test_the_api_list_shows_the_statuses_stored_for_today_and_computes_the_stale(bureau):
    """The agreements API list reads each commitment's and promise's status from its
    agreement's state of today (decision 0004, "Stored statuses"), in a number of queries
    that does not grow with the page; an agreement whose state a write made stale, or that is
    of another day, has its statuses computed — and every row equals the detail view's, which
    always computes them."""
    from rest_framework.test import APIClient

    from promo.agreements.selectors import refresh_states

    officer, head, chief = bureau.shanghai_officer, bureau.shanghai_head, bureau.chief
    first, second = _agreement(officer, "协议-一"), _agreement(officer, "协议-二")
    tax = services.term_add(
        agreement=first, actor=officer, metric="annual_tax", target="100", due_on=today() - DAY
    )
    _measure(officer, head, tax, "60", today() - 3 * DAY)  # 部分履约 at 60 of 100
    jobs = services.term_add(
        agreement=second, actor=officer, metric="jobs", target="20", due_on=today() + 9 * DAY
    )
    land = services.promise_add(
        agreement=first, actor=officer, kind="land_delivery", description="交地",
        owner_unit=officer.unit, due_on=today() - DAY,
    )  # fmt: skip
    tranche = services.promise_add(
        agreement=second, actor=officer, kind="incentive", description="奖补第一期",
        owner_unit=officer.unit, due_on=today() + 30 * DAY, amount="100", conditions=[jobs],
    )  # fmt: skip
    assert refresh_states() == 2
    stored = {row.agreement_id: row for row in AgreementStatuses.objects.all()}
    assert stored[first.pk].terms == {str(tax.pk): ["partly_met", "60.00"]}
    assert stored[first.pk].promises == {str(land.pk): ["overdue"]}
    assert stored[second.pk].terms == {str(jobs.pk): ["pending", None]}
    assert stored[second.pk].promises == {str(tranche.pk): ["not_payable"]}
    assert (stored[first.pk].gen, stored[first.pk].on_day) == (_state(first).gen, today())
    client = APIClient()
    client.force_login(chief)

    def listed() -> dict[int, dict[str, Any]]:
        response = client.get("/api/v1/agreements/")
        assert response.status_code == 200
        return {row["id"]: row for row in response.json()["results"]}

    def statuses(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "terms": [(t["id"], t["status"], t["value_at_due"]) for t in row["terms"]],
            "promises": [(p["id"], p["status"], p["clawback_due"]) for p in row["promises"]],
        }

    def detail(agreement: Agreement) -> dict[str, Any]:
        return statuses(client.get(f"/api/v1/agreements/{agreement.pk}/").json())

    rows = listed()
    for agreement in (first, second):
        assert statuses(rows[agreement.pk]) == detail(agreement)
    assert statuses(rows[first.pk]) == {
        "terms": [(tax.pk, "partly_met", "60.00")],
        "promises": [(land.pk, "overdue", False)],
    }
    # What the list shows is what the state stored: a stored status changed past the
    # triggers (the state table has none) is what it reads.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agreements_agreementstatuses SET terms = %s::jsonb WHERE agreement_id = %s",
            [f'{{"{jobs.pk}": ["met", "20.00"]}}', second.pk],
        )
    assert statuses(listed()[second.pk])["terms"] == [(jobs.pk, "met", "20.00")]
    # The queries do not grow with the agreements, all fresh.
    with CaptureQueriesContext(connection) as fresh:
        listed()
    for n in range(3):
        more = _agreement(officer, f"协议-{n + 3}")
        services.term_add(
            agreement=more, actor=officer, metric="jobs", target="5", due_on=today() + DAY
        )
    refresh_states()
    with CaptureQueriesContext(connection) as more_fresh:
        assert len(listed()) == 5
    assert len(more_fresh.captured_queries) == len(fresh.captured_queries)
    # A write makes its agreement's state stale: that agreement's statuses are computed (the
    # measurement brings the tax to 100, 已履约), the other's still read as stored.
    _measure(officer, head, tax, "100", today() - 2 * DAY)
    assert _state(first).on_day is None
    rows = listed()
    assert statuses(rows[first.pk]) == detail(first)
    assert statuses(rows[first.pk])["terms"] == [(tax.pk, "met", "100.00")]
    assert statuses(rows[second.pk])["terms"] == [(jobs.pk, "met", "20.00")]
    # Statuses of another generation than the state's never count: a state made of today
    # by hand, its statuses still those of before the write, is read as computed.
    AgreementState.objects.filter(agreement=first).update(on_day=today())
    assert AgreementStatuses.objects.get(agreement=first).gen < _state(first).gen
    assert statuses(listed()[first.pk])["terms"] == [(tax.pk, "met", "100.00")]
    # Another day: no state of yesterday counts; every status is computed for the new day
    # (the jobs fall due unmeasured: 未履约; the tranche's condition is not met).
    with time_machine.travel(today() + 10 * DAY):
        client.force_login(chief)  # a session idle for ten days has ended
        rows = listed()
        for agreement in (first, second):
            assert statuses(rows[agreement.pk]) == detail(agreement)
        assert statuses(rows[second.pk]) == {
            "terms": [(jobs.pk, "missed", None)],
            "promises": [(tranche.pk, "not_payable", False)],
        }
