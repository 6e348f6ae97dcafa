"""The cockpit's lead funnel (信息漏斗, issue #17 finding 1): the leads that entered each stage
within the period, the conversion between stages and the median days per step, per unit, each
count linked to a lead list of exactly those leads.

The small world below is worked by hand (November 2026; the clock stands on 3 December):

=====  =========  ==============  ==============  ==============  ==============  ==========
lead   unit       registered      有效            在谈            签约 / closed   November
=====  =========  ==============  ==============  ==============  ==============  ==========
A      Shanghai   10-10           10-20           11-05           签约 11-25      信息…签约
B      Shanghai   11-02           11-12                                           信息, 有效
C      Shanghai   11-01 (Shanghai time; 10-31 in UTC)                             信息
D      team       11-04           11-10           11-20                           信息…在谈
E      Shanghai   09-01           09-10                           放弃 11-15      放弃
F      Shanghai   11-06                                           否决 11-08      信息, 否决
G      Shenzhen   11-01           11-03                                           信息, 有效
H      Shanghai   08-01           08-10           09-01           签约 10-15      —
=====  =========  ==============  ==============  ==============  ==============  ==========

November: 信息 6 (A B C D F G), 有效 4 (A B D G), 在谈 2 (A D), 签约 1 (A): conversions 66.7 %,
50.0 %, 50.0 %. Days into 有效 of the leads qualified in November: B 10, D 6, G 2 → median 6;
into 在谈: A 16, D 10 → 13; into 签约: A 20. Beside: 放弃 1 (E), 否决 1 (F).
October: A registered and qualified, H signed → 信息 2, 有效 2, 在谈 1, 签约 1.
Today's statuses (the old funnel): 信息 1 (C), 有效 2 (B G), 在谈 1 (D), 签约 2 (A H): an hourglass.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import services as lead_services
from leads.choices import LeadStatus
from leads.models import Lead
from promo.dashboard.forms import Period, PeriodKind
from promo.dashboard.selectors import CockpitFilters
from tests.dashboard.test_cockpit_links import assert_links_match_lists, printed_count
from tests.factories import Bureau, make_bureau, make_investor, sign_lead
from tests.worlds import rolled_back_world

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
NOVEMBER = {"period": "custom", "start": "2026-11-01", "end": "2026-11-30"}
OCTOBER = {"period": "custom", "start": "2026-10-01", "end": "2026-10-31"}
STAGES = [LeadStatus.INFORMATION, LeadStatus.VALID, LeadStatus.NEGOTIATING, LeadStatus.SIGNED]


def _shanghai_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _lead(actor, registered: datetime, *steps: tuple[str, date], name: str) -> Lead:
    """A lead registered at ``registered`` and moved through ``steps`` (status, day) by the
    services, the clock on TODAY (a status date may be any past day)."""
    with time_machine.travel(registered, tick=False):
        lead = lead_services.lead_create(
            actor=actor,
            investor=_investor(actor, name),
            name=name,
            industry="electronics",
            source_channel="stationed",
        )
    with time_machine.travel(TODAY, tick=False):
        for status, day in steps:
            if status == LeadStatus.SIGNED:
                sign_lead(actor, lead, contract_date=day)
                lead.refresh_from_db()
            else:
                lead = lead_services.lead_transition(
                    lead=lead,
                    actor=actor,
                    to_status=status,
                    on_date=day,
                    reason="投资方战略调整" if status == LeadStatus.DROPPED else "",
                    reject_reason="land_grab" if status == LeadStatus.REJECTED else "",
                )
    return lead


def _investor(actor, name):
    return make_investor(actor, name=f"{name}客商")


def _build(b) -> None:
    sh, team, sz = b.shanghai_officer, b.sub_unit_officer, b.outsider
    V, N, S = LeadStatus.VALID, LeadStatus.NEGOTIATING, LeadStatus.SIGNED
    d = date
    _lead(
        sh,
        _shanghai_noon(d(2026, 10, 10)),
        (V, d(2026, 10, 20)),
        (N, d(2026, 11, 5)),
        (S, d(2026, 11, 25)),
        name="A",
    )
    _lead(sh, _shanghai_noon(d(2026, 11, 2)), (V, d(2026, 11, 12)), name="B")
    # 20:00 UTC on 31 October is 04:00 on 1 November in Shanghai: a November lead.
    _lead(sh, datetime(2026, 10, 31, 20, 0, tzinfo=UTC), name="C")
    _lead(
        team, _shanghai_noon(d(2026, 11, 4)), (V, d(2026, 11, 10)), (N, d(2026, 11, 20)), name="D"
    )
    _lead(
        sh,
        _shanghai_noon(d(2026, 9, 1)),
        (V, d(2026, 9, 10)),
        (LeadStatus.DROPPED, d(2026, 11, 15)),
        name="E",
    )
    _lead(sh, _shanghai_noon(d(2026, 11, 6)), (LeadStatus.REJECTED, d(2026, 11, 8)), name="F")
    _lead(sz, _shanghai_noon(d(2026, 11, 1)), (V, d(2026, 11, 3)), name="G")
    _lead(
        sh,
        _shanghai_noon(d(2026, 8, 1)),
        (V, d(2026, 8, 10)),
        (N, d(2026, 9, 1)),
        (S, d(2026, 10, 15)),
        name="H",
    )


@pytest.fixture(scope="module")
def small_world(django_db_setup, django_db_blocker) -> Iterator[Bureau]:
    """The table's world, built once for the module (tests/worlds.py)."""

    def build() -> Bureau:
        with time_machine.travel(TODAY, tick=False):
            built = make_bureau()
        _build(built)
        return built

    with rolled_back_world(django_db_blocker, build) as built:
        yield built


@pytest.fixture
def world(small_world, db) -> Iterator[Bureau]:
    with time_machine.travel(TODAY, tick=False):
        yield small_world


def client_for(officer, language: str = "") -> Client:
    client = Client()
    client.force_login(officer)
    if language:
        client.cookies["django_language"] = language
    return client


def _counts(context) -> list[int]:
    return [step["count"] for step in context["funnel"]["steps"]]


def _cockpit(officer, params, **extra):
    response = client_for(officer).get("/dashboard/", params, **extra)
    assert response.status_code == 200
    return response


def test_the_old_hourglass_is_now_a_funnel_of_the_period(world):
    # Today's statuses would read 信息 1 < 签约 2 (the hourglass of the issue).
    now = {s: Lead.objects.filter(status=s).count() for s in STAGES}
    assert now[LeadStatus.SIGNED] > now[LeadStatus.INFORMATION]
    context = _cockpit(world.chief, NOVEMBER).context
    counts = _counts(context)
    assert counts == [6, 4, 2, 1]
    assert counts == sorted(counts, reverse=True)  # never widens
    assert [s["status"] for s in context["funnel"]["steps"]] == STAGES
    closed = {c["status"]: c["count"] for c in context["funnel"]["closed"]}
    assert closed == {LeadStatus.DROPPED: 1, LeadStatus.REJECTED: 1}


def test_the_period_filter_changes_the_counts(world):
    assert _counts(_cockpit(world.chief, OCTOBER).context) == [2, 2, 1, 1]
    assert _counts(_cockpit(world.chief, NOVEMBER).context) == [6, 4, 2, 1]
    # A period in which nothing moved: zeros, and no conversion (shown "—").
    empty = _cockpit(world.chief, {"period": "custom", "start": "2026-06-01", "end": "2026-06-30"})
    steps = empty.context["funnel"]["steps"]
    assert [s["count"] for s in steps] == [0, 0, 0, 0]
    assert [s["conversion"] for s in steps] == [None, None, None, None]
    assert [s["days"] for s in steps] == [None, None, None, None]


def test_conversions_and_median_days_match_the_hand_computation(world):
    steps = _cockpit(world.chief, NOVEMBER).context["funnel"]["steps"]
    rates = [None if s["conversion"] is None else round(s["conversion"], 1) for s in steps]
    assert rates == [None, 66.7, 50.0, 50.0]
    assert [s["days"] for s in steps] == [None, 6.0, 13.0, 20.0]
    assert [s["days_n"] for s in steps] == [0, 3, 2, 1]


def test_the_page_shows_rates_and_dashes(world):
    html = _cockpit(world.chief, NOVEMBER).content.decode()
    assert "66.7%" in html and "50.0%" in html
    empty = _cockpit(world.chief, {"period": "custom", "start": "2026-06-01", "end": "2026-06-30"})
    funnel_table = empty.content.decode().split('<table class="funnel"')[1].split("</table>")[0]
    assert "—" in funnel_table and "%" not in funnel_table


def test_the_unit_head_sees_only_his_unit(world):
    context = _cockpit(world.shanghai_head, NOVEMBER).context
    # Without Shenzhen's G: 信息 5 (A B C D F), 有效 3 (A B D), 在谈 2, 签约 1.
    assert _counts(context) == [5, 3, 2, 1]
    # His table: the team (D), then Shanghai's own leads, then the total.
    rows = {row.name: [s["count"] for s in row.funnel["steps"]] for row in context["rows"]}
    assert list(rows.values()) == [[1, 1, 1, 0]]
    own = context["own_rows"][0]
    assert [s["count"] for s in own.funnel["steps"]] == [4, 2, 1, 1]


def test_the_chief_reads_the_funnel_by_unit(world):
    context = _cockpit(world.chief, NOVEMBER).context
    by_unit = {row.unit: [s["count"] for s in row.funnel["steps"]] for row in context["rows"]}
    assert by_unit[world.shanghai] == [5, 3, 2, 1]
    assert by_unit[world.shenzhen] == [1, 1, 0, 0]
    assert by_unit[world.department] == [0, 0, 0, 0]
    shanghai = next(row for row in context["rows"] if row.unit == world.shanghai)
    rates = [s["conversion"] for s in shanghai.funnel["steps"]]
    assert rates[1] == pytest.approx(60.0) and rates[2] == pytest.approx(200 / 3)
    closed = {c["status"]: c["count"] for c in shanghai.funnel["closed"]}
    assert closed == {LeadStatus.DROPPED: 1, LeadStatus.REJECTED: 1}
    assert "分单位信息漏斗" in _cockpit(world.chief, NOVEMBER).content.decode()


@pytest.mark.parametrize("officer", ["chief", "shanghai_head"])
@pytest.mark.parametrize("params", [NOVEMBER, OCTOBER])
def test_every_funnel_count_equals_the_rows_of_its_list(world, officer, params):
    who = getattr(world, officer)
    response = _cockpit(who, params)
    client = client_for(who)
    funnel_view = response.context["funnel"]
    for step in [*funnel_view["steps"], *funnel_view["closed"]]:
        assert "entered=" in step["url"], step["url"]
        assert printed_count(client, step["url"]) == step["count"], step["url"]
    # And every linked number of the page, the per-unit table's included.
    assert assert_links_match_lists(client, response.content.decode()) >= 6


def test_the_lead_list_filter_by_stage_entered(world):
    client = client_for(world.chief)

    def listed(**params) -> set[str]:
        response = client.get("/leads/", params)
        assert response.status_code == 200
        return {lead.name for lead in response.context["page"].object_list}

    nov = {"entered_from": "2026-11-01", "entered_to": "2026-11-30"}
    assert listed(entered="information", **nov) == {"A", "B", "C", "D", "F", "G"}
    assert listed(entered="valid", **nov) == {"A", "B", "D", "G"}
    assert listed(entered="negotiating", **nov) == {"A", "D"}
    assert listed(entered="signed", **nov) == {"A"}
    assert listed(entered="dropped", **nov) == {"E"}
    assert listed(entered="rejected", **nov) == {"F"}
    # C was registered at 04:00 on 1 November in Shanghai (31 October in UTC).
    assert "C" not in listed(
        entered="information", entered_from="2026-10-01", entered_to="2026-10-31"
    )
    # Open-ended: every lead that has ever been signed.
    assert listed(entered="signed") == {"A", "H"}


@pytest.mark.parametrize(
    ("params", "language", "message"),
    [
        ({"entered": "valid", "entered_from": "2026-13-45"}, "zh-hans", "输入一个有效的日期"),
        ({"entered": "valid", "entered_from": "2026-13-45"}, "en", "Enter a valid date"),
        (
            {"entered": "valid", "entered_from": "2026-11-30", "entered_to": "2026-11-01"},
            "zh-hans",
            "截止日期不能早于起始日期。",
        ),
        (
            {"entered": "valid", "entered_from": "2026-11-30", "entered_to": "2026-11-01"},
            "en",
            "The end date cannot be before the start date.",
        ),
        ({"entered": "somewhere"}, "en", "Select a valid choice"),
    ],
)
def test_bad_stage_filters_are_explained_not_a_500(world, params, language, message):
    response = client_for(world.chief, language).get("/leads/", params)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert message in response.content.decode()


def test_the_api_refuses_a_bad_stage_date(world):
    response = client_for(world.chief).get("/api/v1/leads/", {"entered_from": "not-a-day"})
    assert response.status_code == 400, response.content
    assert "entered_from" in response.content.decode(), response.content


def test_english_labels(world):
    client = client_for(world.chief, "en")
    html = client.get("/dashboard/", NOVEMBER, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for words in ("Lead funnel", "Conversion from the previous stage", "Funnel by unit"):
        assert words in html, words
    assert "期间内进入" not in html and "转化率" not in html
    chart = client.get("/dashboard/", NOVEMBER).context["funnel_chart"]
    assert chart[1]["note"] == "Conversion 66.7%"


def test_the_funnel_is_one_query(world):
    from promo.dashboard.funnel import funnel_counts
    from promo.dashboard.selectors import funnel

    f = CockpitFilters(
        period=Period(PeriodKind.CUSTOM, date(2026, 11, 1), date(2026, 11, 30)),
        today=timezone.localdate(),
    )
    units = [world.shanghai, world.shenzhen, world.department]
    with CaptureQueriesContext(connection) as captured:
        figures = funnel(world.chief, f, units, [world.bureau])
    assert len(captured) == 1
    assert [figures["by_unit"][world.shanghai.pk][s] for s in STAGES] == [5, 3, 2, 1]
    # The units' counts add up to the total (each lead is in one bucket).
    totals = funnel_counts(Lead.objects.all(), f.period.start, f.period.end, units, [world.bureau])
    for status in STAGES:
        assert sum(v[status] for k, v in totals.items() if k is not None) == totals[None][status]


def test_an_outsider_reads_no_funnel(world):
    assert client_for(world.shanghai_officer).get("/dashboard/", NOVEMBER).status_code == 403
    # An officer's own lead list with the stage filter lists only what they may see.
    response = client_for(world.outsider).get(
        "/leads/",
        {"entered": "information", "entered_from": "2026-11-01", "entered_to": "2026-11-30"},
    )
    assert {lead.name for lead in response.context["page"].object_list} <= {"G"}


def test_a_skipped_stage_counts_as_passed(world):
    """A lead signed without 有效/在谈 dates (as an import may bring it) counts at every stage."""
    with time_machine.travel(_shanghai_noon(date(2026, 11, 9)), tick=False):
        lead = lead_services.lead_create(
            actor=world.shanghai_officer,
            investor=_investor(world.shanghai_officer, "I"),
            name="I",
            industry="electronics",
            source_channel="stationed",
        )
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.SIGNED, signed_on=date(2026, 11, 20))
    steps = _cockpit(world.chief, NOVEMBER).context["funnel"]["steps"]
    assert [s["count"] for s in steps] == [7, 5, 3, 2]
    # No 在谈 date: the step into 签约 is measured on A alone.
    assert steps[3]["days_n"] == 1


def test_the_registration_day_is_the_shanghai_day_at_both_ends(world):
    """信息 counts a lead on the day it was registered in Shanghai: the first and last instants
    of a period's days are in, the instants either side out — the same leads as converting
    every timestamp to a local date (``created_at__date``), which the condition no longer
    does (it compares the stored instants, decision 0021)."""
    from leads.filters import entered_q

    instants = {
        "before": datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC),  # 23:59:59 on 30 Nov
        "first": datetime(2026, 11, 30, 16, 0, tzinfo=UTC),  # 00:00 on 1 Dec
        "last": datetime(2026, 12, 1, 15, 59, 59, 999999, tzinfo=UTC),  # 23:59:59.999999
        "after": datetime(2026, 12, 1, 16, 0, tzinfo=UTC),  # 00:00 on 2 Dec
    }
    made = {}
    for name, at in instants.items():
        with time_machine.travel(at, tick=False):
            made[name] = lead_services.lead_create(
                actor=world.shanghai_officer,
                investor=_investor(world.shanghai_officer, f"边界{name}"),
                name=f"边界{name}",
                industry="electronics",
                source_channel="stationed",
            ).pk
    ours = Lead.objects.filter(pk__in=made.values())
    december_1 = date(2026, 12, 1)
    cases = [
        ((december_1, december_1), {"first", "last"}),
        ((date(2026, 11, 30), december_1), {"before", "first", "last"}),
        ((None, december_1), {"before", "first", "last"}),
        ((date(2026, 12, 2), None), {"after"}),
        ((None, None), set(made)),
    ]
    for (start, end), expected in cases:
        found = set(
            ours.filter(entered_q(LeadStatus.INFORMATION, start, end)).values_list("pk", flat=True)
        )
        assert found == {made[name] for name in expected}, (start, end)
        by_local_date = ours
        if start is not None:
            by_local_date = by_local_date.filter(created_at__date__gte=start)
        if end is not None:
            by_local_date = by_local_date.filter(created_at__date__lte=end)
        assert found == set(by_local_date.values_list("pk", flat=True)), (start, end)
