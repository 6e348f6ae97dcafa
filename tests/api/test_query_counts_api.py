"""No N+1: every list costs the same number of queries for 2 rows as for 20."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Intermediary, PromotionEvent
from leads.services import visit_log
from officers import services as officer_services
from officers.choices import TargetMetric
from officers.models import Target
from projects.services import problem_raise, progress_record
from promo.agreements import services as agreement_services
from promo.agreements.models import AgreementState
from promo.agreements.selectors import refresh_states
from promo.core.services import today
from tests.factories import make_investor, make_lead, make_officer, make_project, make_unit

pytestmark = pytest.mark.django_db

# Pinned per list: a change here means a query was added to (or removed from) every page.
# Every request costs 2 fixed queries (session, officer; the session itself is written at
# most once a minute, promo.accounts.security.SessionIdleMiddleware), plus one per list query and one
# per prefetch.
EXPECTED_QUERIES = {
    "units": 3,
    "officers": 3,
    "targets": 3,
    "investors": 3,
    "intermediaries": 3,
    "promotion-events": 4,  # + investors met
    "leads": 4,  # + assignments with officers
    "visits": 4,  # + officers present
    "projects": 5,  # + assignments, + monthly progress
    "problems": 3,
    # + terms (with their status), their figures, promises (with theirs), conditions, requests
    # — the statuses as the agreements' states of today stored them (the nightly refresh)
    "agreements": 8,
}
# An agreements page with states not of today reads its terms and promises again with the
# statuses computed: two more, however many agreements are stale.
STALE_AGREEMENTS_EXTRA = 2


def _add(resource: str, bureau, n: int) -> None:
    chief = bureau.chief
    for i in range(n):
        if resource == "units":
            make_unit(parent=bureau.shanghai)
        elif resource == "officers":
            make_officer(bureau.shanghai)
        elif resource == "targets":
            officer_services.target_set(
                actor=chief,
                year=2000 + Target.objects.count(),
                metric=TargetMetric.SIGNED_COUNT,
                value=5,
                unit=bureau.shanghai,
            )
        elif resource == "investors":
            make_investor(bureau.shanghai_officer)
        elif resource == "intermediaries":
            Intermediary.objects.create(name=f"中介{i}", kind="person", unit=bureau.shanghai)
        elif resource == "promotion-events":
            event = PromotionEvent.objects.create(
                name=f"推介会{i}",
                city="香港",
                starts_on=today(),
                ends_on=today(),
                organizer=bureau.shanghai,
            )
            event.investors.add(make_investor(bureau.shanghai_officer))
        elif resource == "leads":
            make_lead(bureau.shanghai_officer)
        elif resource == "visits":
            lead = make_lead(bureau.shanghai_officer)
            visit_log(
                actor=bureau.shanghai_officer,
                kind="visit",
                visited_on=today(),
                investor=lead.investor,
                lead=lead,
                summary="拜访",
                officers=[bureau.teammate],
            )
        elif resource == "projects":
            project = make_project(bureau.shanghai_officer)
            progress_record(
                project=project,
                actor=bureau.shanghai_officer,
                month=today(),
                agreed_investment=1,
                paid_in=1,
                fixed_asset_investment=1,
            )
        elif resource == "agreements":
            _agreement(bureau)
        elif resource == "problems":
            problem_raise(
                project=make_project(bureau.shanghai_officer),
                actor=bureau.shanghai_officer,
                kind="power",
                title="供电",
                owner_unit=bureau.department,
                due_on=today() + timedelta(days=3),
            )


def _agreement(bureau) -> None:
    officer = bureau.shanghai_officer
    project = make_project(officer, contract_date=today() - timedelta(days=30))
    agreement = agreement_services.agreement_create(
        project=project, actor=officer, kind="main", title="协议", signed_on=project.contract_date
    )
    term = agreement_services.term_add(
        agreement=agreement, actor=officer, metric="jobs", target=10, due_on=today()
    )
    agreement_services.measurement_record(
        term=term, actor=officer, measured_on=today(), value=5, source="社保"
    )
    promise = agreement_services.promise_add(
        agreement=agreement,
        actor=officer,
        kind="incentive",
        description="奖补",
        owner_unit=bureau.shanghai,
        due_on=today(),
        amount=1,
        conditions=[term],
    )
    agreement_services.incentive_request(
        promise=promise, actor=officer, action="withhold", reason="欠税"
    )


@pytest.mark.parametrize("resource", sorted(EXPECTED_QUERIES))
def test_list_query_count_does_not_grow_with_rows(bureau, client_for, resource):
    client = client_for(bureau.chief)
    url = f"/api/v1/{resource}/"

    def count(*, states: bool = True) -> tuple[int, int]:
        if resource == "agreements" and states:
            refresh_states()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"page_size": 50})
        assert response.status_code == 200, response.json()
        return len(ctx.captured_queries), len(response.json()["results"])

    _add(resource, bureau, 2)
    few, rows_few = count()
    _add(resource, bureau, 18)
    many, rows_many = count()
    assert rows_many >= rows_few + 18
    assert few == many, f"{resource}: {few} queries for {rows_few} rows, {many} for {rows_many}"
    assert many == EXPECTED_QUERIES[resource]
    if resource == "agreements":
        _add(resource, bureau, 2)  # two more agreements, their states not computed
        assert count(states=False)[0] == many + STALE_AGREEMENTS_EXTRA
        AgreementState.objects.update(on_day=None)  # every state stale
        assert count(states=False)[0] == many + STALE_AGREEMENTS_EXTRA
