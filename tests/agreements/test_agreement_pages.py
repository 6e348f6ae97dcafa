"""The agreement pages: who sees them, each form's refusals beside its field, the double
submit, and the list's figures equal to the rows they link to."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from promo.agreements import services
from promo.agreements.choices import Payment
from promo.agreements.models import (
    Agreement,
    AgreementLog,
    IncentiveRequest,
    Measurement,
    Promise,
    Term,
)
from promo.agreements.selectors import (
    agreement_list,
    agreements_with_status,
    keeping_figures,
    promise_list,
)
from promo.core.services import today
from tests.factories import make_project

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def detail(agreement) -> str:
    return reverse("agreements:detail", args=[agreement.pk])


def action(agreement, name) -> str:
    return reverse("agreements:action", args=[agreement.pk, name])


def test_the_officer_reads_the_agreement_and_the_outsider_gets_404(signed, client_for):
    page = client_for(signed.officer).get(detail(signed.agreement))
    assert page.status_code == 200
    assert "年产10万台电机项目投资协议" in page.content.decode()
    for path in (detail(signed.agreement), action(signed.agreement, "term")):
        client = client_for(signed.bureau.outsider)
        response = (
            client.get(path)
            if path.endswith("/") and "term" not in path
            else client.post(path, {"metric": "jobs", "target": "5", "due_on": today().isoformat()})
        )
        assert response.status_code == 404
    assert not Term.objects.exists()
    listing = client_for(signed.bureau.outsider).get(reverse("agreements:list"))
    assert listing.status_code == 200
    assert "年产10万台电机项目投资协议" not in listing.content.decode()
    assert (
        client_for(signed.bureau.outsider)
        .get(reverse("agreements:new", args=[signed.project.pk]))
        .status_code
        == 404
    )


def test_a_teammate_reads_but_is_offered_no_form_and_refused_with_403(signed, client_for):
    client = client_for(signed.bureau.teammate)
    page = client.get(detail(signed.agreement)).content.decode()
    assert action(signed.agreement, "term") not in page
    response = client.post(
        action(signed.agreement, "term"),
        {"metric": "jobs", "target": "5", "due_on": today().isoformat()},
    )
    assert response.status_code == 403
    assert not Term.objects.exists()


def test_the_officer_records_an_agreement_from_the_project(signed, client_for):
    client = client_for(signed.officer)
    form = client.get(reverse("agreements:new", args=[signed.project.pk]))
    key = re.search(r'name="submission" value="([^"]+)"', form.content.decode()).group(1)
    data = {
        "submission": key,
        "kind": "supplement",
        "title": "补充协议（二期）",
        "signed_on": today().isoformat(),
        "parties": "",
        "clawback_rule": "full",
    }
    first = client.post(reverse("agreements:new", args=[signed.project.pk]), data)
    second = client.post(reverse("agreements:new", args=[signed.project.pk]), data)
    made = Agreement.objects.get(title="补充协议（二期）")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == detail(made)
    assert Agreement.objects.count() == 2


def test_bad_input_comes_back_beside_its_field_and_nothing_is_written(signed, client_for):
    client = client_for(signed.officer)
    response = client.post(
        action(signed.agreement, "term"),
        {"metric": "annual_tax", "target": "", "due_on": today().isoformat()},
    )
    assert response.status_code == 400
    assert "请填写承诺值。" in response.content.decode()
    response = client.post(
        action(signed.agreement, "term"),
        {"metric": "annual_tax", "target": "50", "due_on": (today() - 300 * DAY).isoformat()},
    )
    assert response.status_code == 400
    assert "承诺期限不能早于协议签订日期。" in response.content.decode()
    assert 'value="50"' in response.content.decode()
    assert not Term.objects.exists()


def test_a_figure_is_recorded_then_verified_by_another_person_through_the_page(signed, client_for):
    term = services.term_add(
        agreement=signed.agreement,
        actor=signed.officer,
        metric="jobs",
        target="200",
        due_on=today(),
    )
    officer = client_for(signed.officer)
    response = officer.post(
        action(signed.agreement, "measure"),
        {
            "term": term.pk,
            "measured_on": today().isoformat(),
            "value": "210",
            "source": "社保缴费人数",
        },
    )
    assert response.status_code == 302
    measurement = Measurement.objects.get()
    # The one who typed it is not offered the button, and the POST is refused.
    assert "核实</button>" not in officer.get(detail(signed.agreement)).content.decode()
    assert (
        officer.post(
            action(signed.agreement, "verify"), {"measurement": measurement.pk}
        ).status_code
        == 403
    )
    head = client_for(signed.bureau.shanghai_head)
    assert "核实</button>" in head.get(detail(signed.agreement)).content.decode()
    assert (
        head.post(action(signed.agreement, "verify"), {"measurement": measurement.pk}).status_code
        == 302
    )
    measurement.refresh_from_db()
    assert measurement.verified_by == signed.bureau.shanghai_head
    page = head.get(detail(signed.agreement)).content.decode()
    assert 'data-status="met"' in page


def test_an_unknown_action_or_a_foreign_measurement_is_404(signed, client_for):
    client = client_for(signed.bureau.shanghai_head)
    assert client.post(action(signed.agreement, "explode"), {}).status_code == 404
    assert (
        client.post(action(signed.agreement, "verify"), {"measurement": "abc"}).status_code == 404
    )
    assert (
        client.post(action(signed.agreement, "verify"), {"measurement": "999999"}).status_code
        == 404
    )
    assert client.get(action(signed.agreement, "term")).status_code == 405


def _agreement_in_state(officer, head, state: str):
    """One agreement of the Shanghai office in a known state."""
    project = make_project(officer, contract_date=today() - 80 * DAY)
    agreement = services.agreement_create(
        project=project,
        actor=officer,
        kind="main",
        title=f"协议-{state}",
        signed_on=today() - 80 * DAY,
    )
    if state == "pending":
        services.term_add(
            agreement=agreement, actor=officer, metric="jobs", target="10", due_on=today() + 9 * DAY
        )
        return agreement
    term = services.term_add(
        agreement=agreement,
        actor=officer,
        metric="annual_tax",
        target="100",
        due_on=today() - 5 * DAY,
    )
    value = {"keeping": "100", "breached": "40", "clawback": "40", "owing": "100"}[state]
    item = services.measurement_record(
        term=term, actor=officer, measured_on=today() - 6 * DAY, value=value, source="税务"
    )
    services.measurement_verify(measurement=item, actor=head)
    if state == "owing":
        services.promise_add(
            agreement=agreement,
            actor=officer,
            kind="land_delivery",
            description="交地",
            owner_unit=officer.unit,
            due_on=today() - 1 * DAY,
        )
    if state == "clawback":
        promise = services.promise_add(
            agreement=agreement,
            actor=officer,
            kind="incentive",
            description="奖补",
            owner_unit=officer.unit,
            due_on=today(),
            amount="50",
            conditions=[term],
        )
        Promise.objects.filter(pk=promise.pk).update(
            payment=Payment.PAID, paid_amount=Decimal("50")
        )
    return agreement


def test_the_figures_equal_the_rows_of_the_lists_they_link_to(bureau, client_for):
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    states = ["pending", "keeping", "keeping", "breached", "clawback", "owing"]
    made = {state: [] for state in states}
    for state in states:
        made[state].append(_agreement_in_state(officer, head, state))
    for viewer in (bureau.chief, head, officer):
        figures = keeping_figures(viewer)
        # Recomputed from the rows: keeping = judged without breach; owing and clawback by hand.
        assert (figures.judged, figures.keeping, figures.breached) == (5, 3, 2)
        assert figures.rate == Decimal("60.0")
        assert figures.overdue_promises == 1
        assert figures.clawback_due == 1
        assert figures.paid == Decimal("50")
        for status, expected in (("keeping", 3), ("breached", 2), ("owing", 1), ("clawback", 1)):
            assert agreement_list(viewer, status=status).count() == expected
        assert promise_list(viewer, status="overdue").count() == figures.overdue_promises
        page = client_for(viewer).get(reverse("agreements:list")).content.decode()
        for name, link in re.findall(r'<a data-figure="(\w+)" href="([^"]+)">', page):
            listed = client_for(viewer).get(link.replace("&amp;", "&"))
            assert listed.status_code == 200
            shown = re.search(r"共 (\d+) (份|项)", listed.content.decode())
            if name in ("keeping", "breached", "overdue_promises", "clawback_due"):
                assert int(shown.group(1)) == getattr(figures, name), name
    outsider = keeping_figures(bureau.outsider)
    assert (outsider.judged, outsider.breached, outsider.overdue_promises) == (0, 0, 0)


def test_each_row_of_the_list_carries_the_category_its_commitments_give_it(bureau, client_for):
    """The page reads its rows' categories for those rows alone (not over the bureau's every
    commitment): each row's badges equal the categories computed over that agreement's rows."""
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    made = {
        s: _agreement_in_state(officer, head, s)
        for s in ("keeping", "breached", "owing", "clawback", "pending")
    }
    bare = services.agreement_create(
        project=make_project(officer),
        actor=officer,
        kind="main",
        title="协议-bare",
        signed_on=today(),
    )
    expected = {
        row["pk"]: row
        for row in agreements_with_status(Agreement.objects.all()).values(
            "pk", "judged", "breached", "overdue_promises"
        )
    }
    response = client_for(bureau.chief).get(reverse("agreements:list"))
    rows = {a.pk: a for a in response.context["page"].object_list}
    assert set(rows) == {a.pk for a in [*made.values(), bare]}
    for pk, agreement in rows.items():
        shown = (agreement.judged, agreement.breached, agreement.overdue_promises)
        assert shown == (
            expected[pk]["judged"],
            expected[pk]["breached"],
            expected[pk]["overdue_promises"],
        )
    assert (rows[made["keeping"].pk].judged, rows[made["keeping"].pk].breached) == (True, False)
    assert rows[made["breached"].pk].breached and rows[made["clawback"].pk].breached
    assert rows[made["owing"].pk].overdue_promises and not rows[made["keeping"].pk].overdue_promises
    assert not rows[made["pending"].pk].judged and not rows[bare.pk].judged
    page = response.content.decode()
    assert page.count('class="badge overdue">违约<') == 2
    assert page.count("政府承诺逾期</span>") == 1


def test_the_list_and_the_page_read_in_a_fixed_number_of_queries(
    bureau, client_for, django_assert_max_num_queries
):
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    for state in ("keeping", "breached", "owing", "clawback"):
        _agreement_in_state(officer, head, state)
    client = client_for(bureau.chief)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(path):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    few = count(reverse("agreements:list"))
    for _ in range(6):
        _agreement_in_state(officer, head, "breached")
    assert count(reverse("agreements:list")) == few
    agreement = Agreement.objects.get(title="协议-clawback")
    one = count(detail(agreement))
    term = agreement.terms.get()
    for _ in range(4):
        item = services.measurement_record(
            term=term, actor=officer, measured_on=today(), value="1", source="x"
        )
        services.measurement_verify(measurement=item, actor=head)
    assert count(detail(agreement)) == one


def test_a_clawback_request_and_its_approval_through_the_page(bureau, client_for):
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    agreement = _agreement_in_state(officer, head, "clawback")
    promise = agreement.promises.get()
    client = client_for(officer)
    response = client.post(
        action(agreement, "request"),
        {"promise": promise.pk, "action": "clawback", "reason": "年税收未达承诺"},
    )
    assert response.status_code == 302
    request = IncentiveRequest.objects.get()
    assert request.amount == Decimal("30.00")  # 50 × (1 − 40/100)
    # A second tap while it waits is refused with a message; still one request.
    again = client.post(
        action(agreement, "request"),
        {"promise": promise.pk, "action": "clawback", "reason": "年税收未达承诺"},
    )
    assert again.status_code == 400
    assert "已有待审批的申请" in again.content.decode()
    assert IncentiveRequest.objects.count() == 1
    # The requester is not offered the decision and is refused it.
    assert 'name="approve"' not in client.get(detail(agreement)).content.decode()
    assert (
        client.post(
            action(agreement, "decide"), {"request": request.pk, "approve": "1"}
        ).status_code
        == 403
    )
    approved = client_for(head).post(
        action(agreement, "decide"), {"request": request.pk, "approve": "1", "note": "同意"}
    )
    assert approved.status_code == 302
    promise.refresh_from_db()
    assert (promise.payment, promise.clawed_back_amount) == (Payment.CLAWED_BACK, Decimal("30.00"))
    # Deciding again (a double tap on 批准) changes nothing and says why.
    twice = client_for(head).post(
        action(agreement, "decide"), {"request": request.pk, "approve": "1"}, follow=True
    )
    assert "该申请已审批。" in twice.content.decode()
    assert AgreementLog.objects.filter(agreement=agreement, what="approved_clawback").count() == 1


def test_the_cockpit_shows_the_figures_of_its_unit_linked_to_lists_of_that_unit(bureau, client_for):
    officer, head = bureau.shanghai_officer, bureau.shanghai_head
    _agreement_in_state(officer, head, "breached")
    _agreement_in_state(officer, head, "owing")
    outsider = bureau.outsider
    other = _agreement_in_state(outsider, outsider, "pending")  # Shenzhen's, not yet judged
    assert other.project.unit == bureau.shenzhen
    chief = client_for(bureau.chief)
    for unit, breached, overdue in ((bureau.shanghai, 1, 1), (bureau.shenzhen, 0, 0)):
        page = chief.get(reverse("dashboard:index"), {"unit": unit.pk}).content.decode()
        links = dict(
            re.findall(r'<a data-figure="(\w+)" href="([^"]+)">(\d+)</a>', page)
            and [
                (name, (href, int(n)))
                for name, href, n in re.findall(
                    r'<a data-figure="(\w+)" href="([^"]+)">(\d+)</a>', page
                )
            ]
        )
        assert links["breached"][1] == breached
        assert links["overdue_promises"][1] == overdue
        for name in ("breached", "overdue_promises", "keeping", "clawback_due"):
            href, shown = links[name]
            assert f"unit={unit.pk}" in href
            listed = chief.get(href.replace("&amp;", "&")).content.decode()
            assert int(re.search(r"共 (\d+) (份|项)", listed).group(1)) == shown, name
    # A unit the viewer does not see is not a filter they can use.
    assert (
        client_for(officer)
        .get(reverse("agreements:list"), {"unit": bureau.shenzhen.pk})
        .status_code
        == 404
    )


def test_the_project_page_links_to_its_agreements(signed, client_for):
    client = client_for(signed.officer)
    page = client.get(reverse("projects:detail", args=[signed.project.pk])).content.decode()
    link = f"{reverse('agreements:list')}?project={signed.project.pk}"
    assert link in page
    listed = client.get(link).content.decode()
    assert signed.agreement.title in listed
    assert reverse("agreements:new", args=[signed.project.pk]) in listed


def test_the_agreement_page_gives_every_field_its_own_id(bureau, client_for):
    """Seven forms on one page, two with a field named ``promise`` and three with ``term``: a
    label must point at its own field (found in the browser walk: 奖补事项 named the
    delivery form's hidden select)."""
    agreement = _agreement_in_state(bureau.shanghai_officer, bureau.shanghai_head, "owing")
    page = client_for(bureau.shanghai_head).get(detail(agreement)).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) > 20
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    for target in re.findall(r'<label for="([^"]+)"', page):
        assert target in ids


def _request_form(client, agreement, promise) -> dict:
    page = client.get(detail(agreement)).content.decode()
    form = page[page.index(action(agreement, "request")) :]
    key = re.search(r'name="submission" value="([0-9a-f-]{36})"', form).group(1)
    return {"submission": key, "promise": promise.pk, "action": "clawback", "reason": "未达承诺"}


def test_the_same_request_sent_twice_is_saved_once_and_says_so(bureau, client_for):
    agreement = _agreement_in_state(bureau.shanghai_officer, bureau.shanghai_head, "clawback")
    client = client_for(bureau.shanghai_officer)
    data = _request_form(client, agreement, agreement.promises.get())
    first = client.post(action(agreement, "request"), data)
    second = client.post(action(agreement, "request"), data, follow=True)
    assert first.status_code == 302
    assert "这次提交已经保存过，没有重复登记。" in second.content.decode()
    assert IncentiveRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_request_sent_twice_at_once_is_saved_once():
    from tests.factories import make_bureau
    from tests.web.test_double_submit import _sent_at_once, _signed_in_twice

    bureau = make_bureau()
    agreement = _agreement_in_state(bureau.shanghai_officer, bureau.shanghai_head, "clawback")
    clients = _signed_in_twice(bureau.shanghai_officer)
    data = _request_form(clients[0], agreement, agreement.promises.get())
    answers = _sent_at_once(clients, action(agreement, "request"), data)
    assert answers == [(302, detail(agreement))] * 2
    assert IncentiveRequest.objects.count() == 1


def test_the_bureau_filter_joins_no_project_unless_another_root_exists(signed, client_for):
    """``?unit=<the bureau>`` keeps every agreement when the bureau is the tree's one root: the
    list, its count and its figures skip joining every agreement to its project (most of the
    page's 137 ms at province scale). A second root in the same database (another bureau)
    brings the filter back, and the other bureau's agreement stays out."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from officers.choices import Role, UnitKind
    from tests.factories import make_officer, make_unit

    bureau = signed.bureau
    url = f"/agreements/?unit={bureau.bureau.pk}"

    def read() -> tuple[list[int], list[str]]:
        client = client_for(bureau.chief)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        listed = [agreement.pk for agreement in response.context["page"].object_list]
        assert response.context["page"].paginator.count == len(listed)
        return listed, [query["sql"] for query in queries.captured_queries]

    listed, sql = read()
    assert listed == [signed.agreement.pk]
    assert not [
        q
        for q in sql
        if "agreements_agreement" in q and '"projects_project"."unit_id" IN (SELECT' in q
    ]
    other = make_unit("另一市投资促进局", kind=UnitKind.BUREAU)
    keeper = make_officer(other, role=Role.CHIEF, username="other_chief")
    services.agreement_create(
        project=make_project(keeper), actor=keeper, kind="main", title="他局协议",
        signed_on=today(),
    )  # fmt: skip
    listed, sql = read()
    assert listed == [signed.agreement.pk]
    assert [
        q
        for q in sql
        if "agreements_agreement" in q and '"projects_project"."unit_id" IN (SELECT' in q
    ]
