"""The bulletin's 协议履约 section (#20): 履约率, 开工率, 资金到位率, 投产率, 达产率, the bureau's
promises kept on time, the incentives paid / withheld / clawed back and 亩均投资强度 / 亩均税收,
by unit and by signing-year cohort. Every figure is recomputed here from the raw rows (by hand,
and by a plain-Python walk over the rows), every count in the page links to a list showing
that many rows, a rate over nothing prints "—", and a published bulletin's figures stay frozen."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.choices import Stage
from projects.models import Project
from promo.agreements import services
from promo.agreements.choices import DATE_METRICS, Payment, PromiseKind
from promo.agreements.models import Agreement, Measurement, Promise, Term
from promo.agreements.selectors import KeepingRow, promise_list
from promo.core.services import today
from promo.reports.choices import BulletinKind
from promo.reports.models import AgreementTable, BulletinAgreementLine
from promo.reports.services import bulletin_generate, bulletin_publish
from tests.factories import make_project

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _last_month() -> tuple[date, date]:
    end = today().replace(day=1) - DAY
    return end.replace(day=1), end


START, END = _last_month()
Y1, Y2 = END.year - 1, END.year - 2


class Book:
    """The agreements of the scenario, made through the services (verified by the chief)."""

    def __init__(self, bureau):
        self.bureau = bureau

    def agreement(self, officer, signed_on: date, title: str) -> Agreement:
        project = make_project(officer, contract_date=today() - 30 * DAY)
        # Signed years back (a lead's steps are dated three months back at most): the date
        # is set on the row, as an import of the existing ledger would.
        Project.objects.filter(pk=project.pk).update(contract_date=signed_on)
        project.refresh_from_db()
        return services.agreement_create(
            project=project, actor=officer, kind="main", title=title, signed_on=signed_on
        )

    def term(self, agreement, metric, target, due, *measured) -> Term:
        officer = agreement.created_by
        term = services.term_add(
            agreement=agreement, actor=officer, metric=metric, target=target, due_on=due
        )
        for on, value in measured:
            item = services.measurement_record(
                term=term, actor=officer, measured_on=on, value=value, source="统计局"
            )
            services.measurement_verify(measurement=item, actor=self.bureau.chief)
        return term

    def promise(self, agreement, kind, due, *, delivered=None, amount="0", **payment) -> Promise:
        promise = services.promise_add(
            agreement=agreement,
            actor=agreement.created_by,
            kind=kind,
            description=f"{kind}-{agreement.title}",
            owner_unit=agreement.project.unit,
            due_on=due,
            amount=amount,
        )
        if delivered or payment:
            # The payment flow (request and approval) is tested in tests/agreements; here only
            # its outcome on the row matters.
            Promise.objects.filter(pk=promise.pk).update(delivered_on=delivered, **payment)
        return promise


def broke_ground(agreement: Agreement, on: date) -> None:
    Project.objects.filter(pk=agreement.project_id).update(
        stage=Stage.GROUNDBREAKING, groundbreaking_actual=on
    )


@pytest.fixture
def scenario(bureau):
    b = Book(bureau)
    sh, team, sz = bureau.shanghai_officer, bureau.sub_unit_officer, bureau.outsider
    # A1 — Shanghai, cohort Y2: 开工 met; 总投资 600 of 1000 (部分履约); land 50, tax 40 so far;
    # land handed over on time; an incentive of 100 paid, 40 of it clawed back.
    a1 = b.agreement(sh, date(Y2, 3, 1), "A1")
    b.term(a1, "start_by", "0", END - 100 * DAY)
    broke_ground(a1, END - 120 * DAY)
    b.term(a1, "total_investment", "1000", END - 10 * DAY, (END - 20 * DAY, "600"))
    b.term(a1, "land", "50", END + 100 * DAY, (END - 30 * DAY, "50"))
    b.term(a1, "annual_tax", "100", END + 200 * DAY, (END - 5 * DAY, "40"))
    b.promise(a1, PromiseKind.LAND_DELIVERY, END - 50 * DAY, delivered=END - 60 * DAY)
    b.promise(a1, PromiseKind.INCENTIVE, END - 30 * DAY, amount="100",
              delivered=END - 40 * DAY, payment=Payment.CLAWED_BACK,
              paid_amount=Decimal("100"), clawed_back_amount=Decimal("40"))  # fmt: skip
    # A2 — Shanghai's Pudong group (in Shanghai's sub-tree), cohort Y1: 投产 missed; 达产 met;
    # an approval overdue; an incentive of 30 withheld.
    a2 = b.agreement(team, date(Y1, 6, 1), "A2")
    b.term(a2, "produce_by", "0", END - 30 * DAY)
    b.term(a2, "full_output", "500", END - DAY, (END - 2 * DAY, "500"))
    b.promise(a2, PromiseKind.APPROVAL, END - 10 * DAY)
    b.promise(a2, PromiseKind.INCENTIVE, END + 30 * DAY, amount="30", payment=Payment.WITHHELD)
    # A3 — Shenzhen, cohort Y1: broke ground 5 days after its date (部分履约); 总投资 250 of 200;
    # infrastructure delivered late; an incentive of 20 paid on time.
    a3 = b.agreement(sz, date(Y1, 2, 1), "A3")
    b.term(a3, "start_by", "0", END - 10 * DAY)
    broke_ground(a3, END - 5 * DAY)
    b.term(a3, "total_investment", "200", END - 3 * DAY, (END - 4 * DAY, "250"))
    b.promise(a3, PromiseKind.INFRASTRUCTURE, END - 20 * DAY, delivered=END - 15 * DAY)
    b.promise(a3, PromiseKind.INCENTIVE, END - 20 * DAY, amount="20", delivered=END - 25 * DAY,
              payment=Payment.PAID, paid_amount=Decimal("20"))  # fmt: skip
    # A4 — Shenzhen, cohort Y1: its tax met, nothing else: the one agreement keeping.
    a4 = b.agreement(sz, date(Y1, 9, 1), "A4")
    b.term(a4, "annual_tax", "10", END - 5 * DAY, (END - 6 * DAY, "12"))
    # A5 — signed after the bulletin's last day: in none of its figures.
    a5 = b.agreement(sh, END + DAY, "A5")
    b.term(a5, "annual_tax", "10", END + 2 * DAY)
    return bureau


def lines(bulletin) -> dict[tuple[str, object], BulletinAgreementLine]:
    out = {}
    for line in BulletinAgreementLine.objects.filter(bulletin=bulletin):
        key = line.cohort if line.table == AgreementTable.COHORT else line.unit_id
        out[(line.table, key)] = line
    return out


def test_every_figure_by_unit_and_cohort_as_worked_out_by_hand(scenario):
    bureau = scenario
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    got = {key: line.figures for key, line in lines(bulletin).items()}
    total = got[("unit", None)]
    # 履约率: A1..A4 judged, only A4 keeps every judged term → 1/4.
    assert (total.agreements_keeping, total.agreements_judged, total.keeping_rate) == (
        1, 4, Decimal("25.0"),
    )  # fmt: skip
    # 开工率: A1 on time, A3 late → 1/2; 投产率 A2 missed → 0/1; 达产率 A2 met → 1/1.
    assert (total.start_met, total.start_judged, total.start_rate) == (1, 2, Decimal("50.0"))
    assert (total.produce_met, total.produce_judged, total.produce_rate) == (0, 1, Decimal("0.0"))
    assert (total.output_met, total.output_judged, total.output_rate) == (1, 1, Decimal("100.0"))
    # 资金到位率: (min(600, 1000) + min(250, 200)) / (1000 + 200) = 800 / 1200.
    assert (total.capital_in, total.capital_target, total.capital_judged) == (
        Decimal("800"), Decimal("1200"), 2,
    )  # fmt: skip
    assert total.capital_rate == Decimal("66.7")
    # Promises fallen due: A1 land (on time), A2 approval (overdue), A3 infrastructure (late),
    # A3 incentive (paid on time); the withheld and the clawed-back tranches are decisions.
    assert (total.promises_kept, total.promises_due, total.promise_rate) == (
        2, 4, Decimal("50.0"),
    )  # fmt: skip
    assert (total.paid, total.withheld, total.clawed_back) == (
        Decimal("120"), Decimal("30"), Decimal("40"),
    )  # fmt: skip
    # Per 亩: only A1 has verified land: 600 / 50 and 40 / 50.
    assert (total.intensity, total.tax_per_mu) == (Decimal("12.00"), Decimal("0.80"))
    assert total.intensity_agreements == total.tax_per_mu_agreements == 1

    shanghai, shenzhen = got[("unit", bureau.shanghai.pk)], got[("unit", bureau.shenzhen.pk)]
    assert (shanghai.agreements_keeping, shanghai.agreements_judged) == (0, 2)
    assert (shanghai.capital_rate, shanghai.promise_rate) == (Decimal("60.0"), Decimal("50.0"))
    assert (shanghai.paid, shanghai.withheld, shanghai.clawed_back) == (100, 30, 40)
    assert (shenzhen.keeping_rate, shenzhen.start_rate, shenzhen.capital_rate) == (
        Decimal("50.0"), Decimal("0.0"), Decimal("100.0"),
    )  # fmt: skip
    # Over nothing: no rate (printed "—"), never 0 %.
    assert (shenzhen.produce_rate, shenzhen.output_rate, shenzhen.intensity) == (None,) * 3
    own = got[("unit", bureau.bureau.pk)]
    assert own == KeepingRow() and own.keeping_rate is None
    assert got[("unit", bureau.department.pk)] == KeepingRow()

    assert sorted(k for t, k in got if t == "cohort") == [Y2, Y1]
    y2, y1 = got[("cohort", Y2)], got[("cohort", Y1)]
    assert (y2.agreements_judged, y2.capital_rate, y2.intensity) == (1, Decimal("60.0"), 12)
    assert (y1.agreements_keeping, y1.agreements_judged, y1.start_rate) == (
        1, 3, Decimal("0.0"),
    )  # fmt: skip


def _walk(on: date, agreement_ids: set[int]) -> dict[int, dict]:
    """Each agreement's contribution, from the raw rows in plain Python (no status SQL)."""
    out: dict[int, dict] = {}
    for agreement in Agreement.objects.filter(pk__in=agreement_ids).select_related("project"):
        row = dict.fromkeys(asdict(KeepingRow()), 0)
        statuses = []
        latest: dict[str, Decimal] = {}
        for term in Term.objects.filter(agreement=agreement):
            verified = [m for m in Measurement.objects.filter(term=term, verified_at__isnull=False)]
            by_due = sorted(
                (m for m in verified if m.measured_on <= term.due_on),
                key=lambda m: (m.measured_on, m.pk),
            )
            now = sorted(
                (m for m in verified if m.measured_on <= on), key=lambda m: (m.measured_on, m.pk)
            )
            if now:
                latest[term.metric] = now[-1].value
            value = by_due[-1].value if by_due else None
            if term.metric in DATE_METRICS:
                actual = getattr(agreement.project, DATE_METRICS[term.metric])
                if actual and actual <= term.due_on:
                    status = "met"
                elif term.due_on >= on:
                    status = "pending"
                else:
                    status = "partly" if actual else "missed"
            elif value is not None and value >= term.target:
                status = "met"
            elif term.due_on >= on:
                status = "pending"
            else:
                status = "partly" if value else "missed"
            statuses.append(status)
            judged = status != "pending"
            name = {"start_by": "start", "produce_by": "produce", "full_output": "output"}.get(
                term.metric
            )
            if name and judged:
                row[f"{name}_judged"] += 1
                row[f"{name}_met"] += status == "met"
            if term.metric == "total_investment" and judged:
                row["capital_judged"] += 1
                row["capital_target"] += term.target
                row["capital_in"] += min(value or 0, term.target)
        judged = any(s != "pending" for s in statuses)
        row["agreements_judged"] = int(judged)
        row["agreements_keeping"] = int(judged and not {"partly", "missed"} & set(statuses))
        for promise in Promise.objects.filter(agreement=agreement):
            decided = promise.payment in (Payment.WITHHELD, Payment.CLAWED_BACK)
            if not decided and (promise.delivered_on or promise.due_on < on):
                row["promises_due"] += 1
                row["promises_kept"] += bool(
                    promise.delivered_on and promise.delivered_on <= promise.due_on
                )
            if promise.payment in (Payment.PAID, Payment.CLAWED_BACK):
                row["paid"] += promise.paid_amount
            if promise.payment == Payment.WITHHELD:
                row["withheld"] += promise.amount
            row["clawed_back"] += promise.clawed_back_amount
        land = latest.get("land")
        for name, metric in (("intensity", "total_investment"), ("tax_per_mu", "annual_tax")):
            if land and metric in latest:
                row[f"{name}_agreements"] += 1
                row[f"{name}_amount"] += latest[metric]
                row[f"{name}_land"] += land
        out[agreement.pk] = row
    return out


def _sum(rows) -> KeepingRow:
    total = dict.fromkeys(asdict(KeepingRow()), 0)
    for row in rows:
        for name, value in row.items():
            total[name] += value
    return KeepingRow(**total)


def test_every_stored_figure_equals_a_plain_walk_over_the_raw_rows(scenario):
    bureau = scenario
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    counted = set(Agreement.objects.filter(signed_on__lte=END).values_list("pk", flat=True))
    walked = _walk(END, counted)
    agreements = Agreement.objects.filter(pk__in=counted).select_related("project__unit")
    groups: dict[tuple[str, object], list[dict]] = {}
    for agreement in agreements:
        unit = agreement.project.unit
        first = unit if unit.parent_id == bureau.bureau.pk else unit.parent
        first_signed = (
            Agreement.objects.filter(project=agreement.project).order_by("signed_on").first()
        )
        for key in (("unit", None), ("unit", first.pk), ("cohort", first_signed.signed_on.year)):
            groups.setdefault(key, []).append(walked[agreement.pk])
    stored = {key: line.figures for key, line in lines(bulletin).items()}
    for key, rows in groups.items():
        assert stored[key] == _sum(rows), key
    for key, figures in stored.items():
        if key not in groups:
            assert figures == KeepingRow(), key


def _count(client, url: str) -> int:
    page = client.get(url.replace("&amp;", "&"))
    assert page.status_code == 200, url
    return int(re.search(r"共 (\d+) (份|项)", page.content.decode()).group(1))


def test_each_count_links_to_a_list_of_that_many_rows_on_the_bulletins_day(scenario, client_for):
    bureau = scenario
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    client = client_for(bureau.chief)
    page = client.get(reverse("reports:bulletin", args=[bulletin.pk])).content.decode()
    assert "协议履约（按单位）" in page and "协议履约（按签约年度）" in page
    links = re.findall(r'<a href="(/agreements/[^"]+)">([\d,.]+)</a>', page)
    assert len(links) > 40
    checked = 0
    for url, text in links:
        if "payment=" in url:
            continue  # an amount: checked against the rows' sum below
        assert _count(client, url) == int(text), url
        checked += 1
    assert checked > 30
    # The amounts: the rows of the linked list add up to the figure.
    listed = promise_list(bureau.chief, payment="ever_paid", on=END)
    assert sum(p.paid_amount for p in listed) == Decimal("120")
    listed = promise_list(bureau.chief, payment="withheld", on=END)
    assert sum(p.amount for p in listed) == Decimal("30")
    listed = promise_list(bureau.chief, payment="clawed_back", on=END)
    assert sum(p.clawed_back_amount for p in listed) == Decimal("40")
    # A rate over nothing prints "—" (the 本级 line has no agreement at all).
    section = page[page.index('data-table="unit"') :]
    own_row = re.search(r"<th scope=\"row\">局本级</th>(.*?)</tr>", section, re.S).group(1)
    assert own_row.count("—") == 8


def test_a_published_bulletins_figures_stay_frozen(scenario):
    bureau = scenario
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    bulletin = bulletin_publish(bulletin=bulletin, actor=bureau.chief)
    before = {key: line.figures for key, line in lines(bulletin).items()}
    # A4's tax is found to have been waived, A2's approval delivered: the data moves...
    term = Term.objects.get(agreement__title="A4")
    services.term_waive(term=term, actor=bureau.chief, reason="政策调整")
    Promise.objects.filter(agreement__title="A2", kind=PromiseKind.APPROVAL).update(
        delivered_on=END - 20 * DAY
    )
    bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    # ...the published figures do not.
    assert {key: line.figures for key, line in lines(bulletin).items()} == before


def test_the_bulletin_page_reads_in_the_same_queries_for_1_and_5_agreements_per_group(
    scenario, client_for
):
    bureau = scenario
    client = client_for(bureau.chief)

    def count() -> int:
        bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("reports:bulletin", args=[bulletin.pk])).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    book = Book(bureau)
    for year in (Y1, Y2, Y2 - 1, Y2 - 2):
        a = book.agreement(bureau.outsider, date(year, 4, 1), f"more-{year}")
        book.term(a, "annual_tax", "10", END - DAY, (END - 2 * DAY, "5"))
    assert count() == few


def test_the_api_list_filters_by_signing_year_cohort(scenario, client_for):
    client = client_for(scenario.chief)

    def titles(year: int) -> set[str]:
        body = client.get(f"/api/v1/agreements/?cohort={year}").json()
        return {row["title"] for row in body["results"]}

    assert titles(Y2) == {"A1"}
    assert titles(Y1) == {"A2", "A3", "A4"}
    assert titles(Y2 - 5) == set()
