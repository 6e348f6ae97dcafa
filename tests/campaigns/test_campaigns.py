"""Campaigns (专项活动, 百日赛): scoring by hand, officers' figures, access, queries, screen, XLSX."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pghistory.models
import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from leads import services as lead_services
from leads.choices import LeadStatus, VisitKind
from leads.models import Lead, Visit
from officers.choices import AssignmentRole, Role
from officers.models import Assignment
from projects.models import Project
from promo.campaigns.choices import VISITS
from promo.campaigns.models import Campaign, CampaignMetric
from promo.campaigns.selectors import (
    Window,
    league,
    officer_figures,
    ranked_officers,
)
from promo.campaigns.services import campaign_create, campaign_update
from promo.core.errors import PermissionDenied, RuleViolation
from promo.core.services import today
from promo.reports.choices import Figure
from promo.reports.selectors import period_figures
from tests.factories import (
    make_investor,
    make_lead,
    make_officer,
    make_project,
    make_unit,
    stage_evidence,
)

pytestmark = pytest.mark.django_db


def client_for(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def running_window() -> tuple[date, date]:
    return today() - timedelta(days=60), today() + timedelta(days=40)


def new_campaign(actor, unit, metrics, **fields) -> Campaign:
    start, end = running_window()
    fields.setdefault("start", start)
    fields.setdefault("end", end)
    return campaign_create(
        actor=actor, name=fields.pop("name", "百日赛"), unit=unit, metrics=metrics, **fields
    )


def qualify(actor, *, on: date) -> Lead:
    lead = make_lead(actor, status=LeadStatus.INFORMATION)
    return lead_services.lead_transition(
        lead=lead, actor=actor, to_status=LeadStatus.VALID, on_date=on
    )


# --- scoring -------------------------------------------------------------------------------


def test_league_matches_the_hand_computed_example(bureau):
    root = make_unit("赛区")
    a_unit, b_unit, c_unit = (make_unit(n, parent=root) for n in ("甲组", "乙组", "丙组"))
    a, b = make_officer(a_unit), make_officer(b_unit)
    make_officer(c_unit)
    in_window = today() - timedelta(days=10)
    make_project(a, amount=10000, contract_date=in_window)
    make_project(a, amount=10000, contract_date=in_window)
    make_project(b, amount=30000, contract_date=in_window)
    make_project(b, amount=99000, contract_date=today() - timedelta(days=80))  # before the race
    campaign = new_campaign(bureau.chief, root, {Figure.SIGNED_AMOUNT: 60, Figure.SIGNED_COUNT: 40})
    table = league(campaign, today=today())
    # Amount: best 乙 30000, worst 丙 0 → 甲 60 + 40 × 20000/30000 = 86.67, 乙 100, 丙 60.
    # Count:  best 甲 2,     worst 丙 0 → 甲 100, 乙 60 + 40 × 1/2 = 80, 丙 60.
    # Weighted 60/40: 甲 (86.667 × 60 + 100 × 40)/100 = 92; 乙 (100 × 60 + 80 × 40)/100 = 92;
    # 丙 60. 甲 and 乙 tie: both first, 丙 third.
    got = [
        (
            row["subject"].name,
            [c["value"] for c in row["cells"]],
            [c["score"] for c in row["cells"]],
            row["total"],
            row["rank"],
        )
        for row in table["units"]
    ]
    assert got == [
        (
            "甲组",
            [Decimal("20000.00"), 2],
            [Decimal("86.67"), Decimal("100.00")],
            Decimal("92.00"),
            1,
        ),
        (
            "乙组",
            [Decimal("30000.00"), 1],
            [Decimal("100.00"), Decimal("80.00")],
            Decimal("92.00"),
            1,
        ),
        ("丙组", [Decimal("0.00"), 0], [Decimal("60.00"), Decimal("60.00")], Decimal("60.00"), 3),
    ]
    # The officers race on the same metrics, as 主办 of what was signed.
    officers = {row["subject"].pk: (row["total"], row["rank"]) for row in table["officers"]}
    assert officers[a.pk] == (Decimal("92.00"), 1)
    assert officers[b.pk] == (Decimal("92.00"), 1)


def test_window_counts_days_elapsed_and_left():
    start, end = date(2026, 7, 20), date(2026, 10, 31)
    assert Window(start, end, date(2026, 7, 19)).status == "upcoming"
    running = Window(start, end, date(2026, 7, 29))
    assert (running.days_total, running.days_elapsed, running.days_left) == (104, 10, 94)
    assert running.counted_end == date(2026, 7, 29)
    done = Window(start, end, date(2026, 11, 30))
    assert (done.status, done.days_elapsed, done.days_left, done.counted_end) == (
        "finished",
        104,
        0,
        end,
    )


def test_a_campaign_not_started_shows_no_table(bureau):
    campaign = new_campaign(
        bureau.chief,
        bureau.bureau,
        {Figure.SIGNED_COUNT: 1},
        start=today() + timedelta(days=5),
        end=today() + timedelta(days=50),
    )
    html = client_for(bureau.chief).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "尚未开始" in html
    assert league(campaign, today=today())["units"] == []


# --- officers' figures ----------------------------------------------------------------------


def test_officers_figures_equal_the_records(bureau):
    me, mate = bureau.shanghai_officer, bureau.teammate
    start, _end = running_window()
    inside, before = today() - timedelta(days=5), start - timedelta(days=1)
    make_project(me, amount=5000, contract_date=inside)
    make_project(me, amount=150000, contract_date=inside)  # ≥ 100M (10 亿 = 100000 万元)
    make_project(me, amount=7000, contract_date=before)
    assisted = make_project(mate, amount=8000, contract_date=inside)
    Assignment.objects.create(officer=me, project=assisted, role=AssignmentRole.ASSISTING)
    qualify(me, on=inside)
    qualify(me, on=before)
    investor = make_investor(me)
    for day in (inside, inside, before):
        lead_services.visit_log(
            actor=me, kind=VisitKind.VISIT, visited_on=day, investor=investor, summary="拜访"
        )
    campaign = new_campaign(
        bureau.chief,
        bureau.bureau,
        {
            Figure.SIGNED_COUNT: 1,
            Figure.SIGNED_AMOUNT: 1,
            Figure.HUNDRED_MILLION_COUNT: 1,
            Figure.VALID_LEADS: 1,
            VISITS: 1,
            Figure.LEADS_IN_HAND: 1,  # a unit figure: officers are not ranked on it
        },
    )
    window = Window(campaign.start, campaign.end, today())
    figures = [Figure.SIGNED_COUNT, Figure.SIGNED_AMOUNT, Figure.HUNDRED_MILLION_COUNT]
    figures += [Figure.VALID_LEADS, VISITS]
    values = officer_figures(window, ranked_officers(campaign), figures)

    def records(officer) -> dict:
        led = Assignment.objects.filter(officer=officer, role=AssignmentRole.LEAD)
        signed = Project.objects.filter(
            pk__in=led.values("project_id"), contract_date__gte=start, contract_date__lte=today()
        )
        return {
            Figure.SIGNED_COUNT: signed.count(),
            Figure.SIGNED_AMOUNT: sum((p.signed_investment for p in signed), Decimal("0.00")),
            Figure.HUNDRED_MILLION_COUNT: signed.filter(signed_investment__gte=100000).count(),
            Figure.VALID_LEADS: Lead.objects.filter(
                pk__in=led.values("lead_id"), qualified_on__gte=start, qualified_on__lte=today()
            ).count(),
            VISITS: Visit.objects.filter(
                created_by=officer, visited_on__gte=start, visited_on__lte=today()
            ).count(),
        }

    assert (
        values[me.pk]
        == records(me)
        == {
            Figure.SIGNED_COUNT: 2,
            Figure.SIGNED_AMOUNT: Decimal("155000.00"),
            Figure.HUNDRED_MILLION_COUNT: 1,
            Figure.VALID_LEADS: 1,
            VISITS: 2,
        }
    )
    assert values[mate.pk] == records(mate)
    assert values[mate.pk][Figure.SIGNED_COUNT] == 1
    table = league(campaign, today=today())
    assert sorted(m["figure"] for m in table["officer_metrics"]) == sorted(figures)
    ranked = {row["subject"].pk for row in table["officers"]}
    assert me.pk in ranked and bureau.shanghai_head.pk in ranked
    assert bureau.chief.pk not in ranked and bureau.submitter.pk not in ranked


# --- access ---------------------------------------------------------------------------------


def test_who_sees_a_campaign_and_an_outsider_is_refused_with_nothing_changed(bureau):
    campaign = new_campaign(
        bureau.chief, bureau.shanghai, {Figure.SIGNED_COUNT: 1}, name="上海办冲刺赛"
    )
    pages = [f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/screen/"]
    pages.append(f"/campaigns/{campaign.pk}/export.xlsx")
    for officer in (bureau.chief, bureau.shanghai_head, bureau.shanghai_officer):
        client = client_for(officer)
        assert all(client.get(page).status_code == 200 for page in pages), officer
        assert campaign.name in client.get("/campaigns/").content.decode()
    before = (
        Campaign.objects.get(pk=campaign.pk).updated_at,
        pghistory.models.Events.objects.count(),
    )
    for officer in (bureau.outsider, bureau.submitter):
        client = client_for(officer)
        assert [client.get(page).status_code for page in pages] == [404, 404, 404]
        assert client.post(pages[0]).status_code in (404, 405)
        assert campaign.name not in client.get("/campaigns/").content.decode()
    with pytest.raises(PermissionDenied):
        campaign_update(actor=bureau.outsider, campaign=campaign, name="改名")
    with pytest.raises(PermissionDenied):
        campaign_update(actor=bureau.shanghai_head, campaign=campaign, metrics="visits:5")
    after = (
        Campaign.objects.get(pk=campaign.pk).updated_at,
        pghistory.models.Events.objects.count(),
    )
    assert after == before
    assert list(campaign.metrics.values_list("figure", "weight")) == [
        (Figure.SIGNED_COUNT, Decimal("1.00"))
    ]
    # Not signed in: sent to the sign-in page, never shown the figures.
    response = Client().get(pages[1])
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_bureau_wide_race_is_seen_by_every_officer_and_an_inactive_one_by_chiefs_only(bureau):
    campaign = new_campaign(bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 1})
    assert client_for(bureau.outsider).get(f"/campaigns/{campaign.pk}/").status_code == 200
    campaign_update(actor=bureau.chief, campaign=campaign, is_active=False, reason="活动取消")
    assert client_for(bureau.outsider).get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert client_for(bureau.chief).get(f"/campaigns/{campaign.pk}/").status_code == 200


# --- services and constraints ---------------------------------------------------------------


def test_only_chiefs_create_and_bad_input_is_refused_with_nothing_written(bureau):
    with pytest.raises(PermissionDenied):
        new_campaign(bureau.shanghai_head, bureau.shanghai, {Figure.SIGNED_COUNT: 1})
    bad = [
        ({"metrics": {"golf": 1}}, "metrics"),
        ({"metrics": {Figure.SIGNED_COUNT: 0}}, "metrics"),
        ({"metrics": {}}, "metrics"),
        ({"metrics": "signed_count:x"}, "metrics"),
        ({"metrics": {Figure.SIGNED_COUNT: 1}, "name": "  "}, "name"),
        ({"metrics": {Figure.SIGNED_COUNT: 1}, "end": today() - timedelta(days=61)}, "end"),
    ]
    for fields, field in bad:
        metrics = fields.pop("metrics")
        with pytest.raises(RuleViolation) as refused:
            new_campaign(bureau.chief, bureau.bureau, metrics, **fields)
        assert field in refused.value.field_errors
    assert not Campaign.objects.exists() and not CampaignMetric.objects.exists()


def test_update_replaces_metrics_and_leaves_an_attributed_history(bureau):
    campaign = new_campaign(bureau.chief, bureau.bureau, "signed_count:20, visits:10")
    campaign_update(
        actor=bureau.chief,
        campaign=campaign,
        metrics=[{"figure": "valid_leads", "weight": "15"}, {"figure": "visits", "weight": 5}],
        reason="调整权重",
    )
    assert dict(campaign.metrics.values_list("figure", "weight")) == {
        "valid_leads": Decimal("15.00"),
        "visits": Decimal("5.00"),
    }
    event = (
        pghistory.models.Events.objects.tracks(campaign.metrics.get(figure="visits"))
        .order_by("pgh_created_at", "pgh_id")
        .last()
    )
    assert event.pgh_context["user"] == bureau.chief.pk
    assert event.pgh_context["why"] == "调整权重"
    with pytest.raises(RuleViolation):
        campaign_update(actor=bureau.chief, campaign=campaign, end=campaign.start - timedelta(1))
    campaign.refresh_from_db()
    assert campaign.end >= campaign.start


def test_database_refuses_an_end_before_the_start(bureau):
    with pytest.raises(IntegrityError, match="campaigns_campaign_end_after_start"):
        with transaction.atomic():
            Campaign.objects.create(
                name="倒排", start=date(2026, 10, 31), end=date(2026, 7, 20), unit=bureau.bureau
            )


# --- pages ----------------------------------------------------------------------------------

LINK = re.compile(
    r'href="(?P<url>/(?:leads|projects)/(?:visits/)?\?[^"]*)" data-count="(?P<count>\d+)"'
)


def _records_for_links(bureau) -> None:
    from projects import services as project_services
    from projects.choices import Stage

    make_lead(bureau.shanghai_officer, status=LeadStatus.VALID)
    make_lead(bureau.sub_unit_officer, status=LeadStatus.NEGOTIATING)
    make_lead(bureau.outsider, status=LeadStatus.NEGOTIATING)
    make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=80))  # before
    # ≥ 10M but under 100M signed: counted by one size class and not the other.
    make_project(bureau.sub_unit_officer, amount=3000, contract_date=today() - timedelta(days=9))
    for officer in (bureau.shanghai_officer, bureau.sub_unit_officer, bureau.outsider):
        project = make_project(officer, contract_date=today() - timedelta(days=20))
        if officer != bureau.outsider:
            project_services.project_advance(
                project=project,
                actor=officer,
                to_stage=Stage.GROUNDBREAKING,
                actual_date=today() - timedelta(days=5),
                evidence=stage_evidence(Stage.GROUNDBREAKING),
            )


def _check_links(client, campaign) -> list[str]:
    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    links = LINK.findall(html)
    for url, count in links:
        page = client.get(unescape(url))
        assert page.status_code == 200
        assert page.context["page"].paginator.count == int(count), url
    return [url.split("?")[0] for url, _count in links]


LINK_METRICS = {
    Figure.LEADS_IN_HAND: 1,
    Figure.LEADS_NEGOTIATING: 1,
    Figure.SIGNED_COUNT: 1,
    Figure.TEN_MILLION_COUNT: 1,
    Figure.HUNDRED_MILLION_COUNT: 1,
    Figure.GROUNDBREAKING_COUNT: 1,
    Figure.VALID_LEADS: 1,
    VISITS: 1,
}


def test_linked_numbers_equal_the_count_of_their_list(bureau):
    from promo.campaigns.selectors import _list_capabilities

    _records_for_links(bureau)
    _lead_filters, project_filters = _list_capabilities()
    project_links = {
        "unit",
        "contract_date",
        "groundbreaking_actual",
        "signed_investment_min",
    } <= project_filters
    campaign = new_campaign(bureau.chief, bureau.bureau, LINK_METRICS)
    # The chief sees the three units whole; the Shanghai head only the Shanghai office.
    for officer, units in ((bureau.chief, 3), (bureau.shanghai_head, 1)):
        paths = _check_links(client_for(officer), campaign)
        # In hand, in negotiation and valid leads (qualified in the window) to the lead list,
        # visits logged to the visit log; signings, the ≥ 10M and ≥ 100M signings and
        # groundbreakings to the project list.
        assert paths.count("/leads/") == 3 * units
        assert paths.count("/leads/visits/") == units
        assert paths.count("/projects/") == (4 * units if project_links else 0)
    # The Shenzhen officer races too (the campaign covers the bureau); links only for Shenzhen.
    paths = _check_links(client_for(bureau.outsider), campaign)
    assert paths.count("/leads/") == 3


def test_a_finished_race_links_only_what_the_lists_can_date(bureau):
    from promo.campaigns.selectors import _list_capabilities

    _records_for_links(bureau)
    lead_filters, _project_filters = _list_capabilities()
    finished = new_campaign(
        bureau.chief,
        bureau.bureau,
        LINK_METRICS,
        start=today() - timedelta(days=60),
        end=today() - timedelta(days=3),
    )
    paths = _check_links(client_for(bureau.chief), finished)
    stock_links = {"in_hand_as_of", "negotiating_as_of"} <= lead_filters
    # Valid leads and visits are dated in the window, so they link after the race too.
    assert paths.count("/leads/") == (6 if stock_links else 0) + 3
    assert paths.count("/leads/visits/") == 3


def test_the_screen_is_a_full_page_refreshed_every_minute_in_chinese_and_english(bureau):
    make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=3))
    campaign = new_campaign(bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 1})
    client = client_for(bureau.chief)
    html = client.get(f"/campaigns/{campaign.pk}/screen/").content.decode()
    assert '<meta http-equiv="refresh" content="60">' in html
    assert '<html lang="zh-hans">' in html
    assert "单位排名" in html and "干部排名" in html and "数据时间" in html
    assert "上海办事处" in html and "张明" in html
    assert "mainnav" not in html and "<nav" not in html


def test_the_screen_refresh_can_be_paused_and_resumed_without_a_script(bureau):
    """Issue #17, finding 6: the screen refreshed every 60 s with no way to pause (WCAG 2.2.1,
    timing adjustable). A link pauses it (the same screen without the refresh) and one
    resumes it; the language asked for is kept."""
    campaign = new_campaign(bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 1})
    client = client_for(bureau.chief)
    url = f"/campaigns/{campaign.pk}/screen/"
    html = client.get(url).content.decode()
    assert f'<a href="{url}?paused=1">暂停自动刷新</a>' in html
    paused = client.get(url + "?paused=1").content.decode()
    assert 'http-equiv="refresh"' not in paused
    assert "自动刷新已暂停" in paused and f'<a href="{url}">恢复自动刷新</a>' in paused
    assert "单位排名" in paused  # the same screen, standing still
    kept = client.get(url + "?lang=en&paused=1").content.decode()
    assert 'http-equiv="refresh"' not in kept and f'href="{url}?lang=en"' in kept
    assert f'href="{url}?lang=en&amp;paused=1"' in client.get(url + "?lang=en").content.decode()
    # Anything but 1 is no pause: the screen keeps refreshing.
    assert 'http-equiv="refresh"' in client.get(url + "?paused=yes").content.decode()


@pytest.fixture
def english(settings, tmp_path):
    """A private copy of locale/, compiled (the .mo files are not committed)."""
    import shutil
    from pathlib import Path

    from django.core.management import call_command

    copy = tmp_path / "locale"
    shutil.copytree(Path(settings.BASE_DIR) / "locale", copy, ignore=shutil.ignore_patterns("*.mo"))
    settings.LOCALE_PATHS = [copy]
    call_command("compile_translations", verbosity=0)


CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]+")


def test_league_and_list_pages_in_english_leave_only_the_records_chinese(bureau, english):
    make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=3))
    campaign = new_campaign(
        bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 2, Figure.LEADS_IN_HAND: 1, VISITS: 1}
    )
    client = client_for(bureau.chief)
    client.cookies["django_language"] = "en"
    people = [o for o in vars(bureau).values() if hasattr(o, "display_name")]
    units = [u for u in vars(bureau).values() if hasattr(u, "path")]
    data = [campaign.name, "简体中文", *(u.name for u in units), *(o.display_name for o in people)]
    for url in ("/campaigns/", f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/screen/"):
        html = client.get(url).content.decode()
        assert '<html lang="en">' in html, url
        for value in sorted(data, key=len, reverse=True):
            html = html.replace(value, "")
        assert CJK.findall(html) == [], url


def test_the_screen_in_english(bureau, english):
    campaign = new_campaign(bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 1})
    client = client_for(bureau.chief)
    html = client.get(f"/campaigns/{campaign.pk}/screen/?lang=en").content.decode()
    assert '<html lang="en">' in html
    assert "Unit ranking" in html and "Officer ranking" in html and "Data as of" in html
    assert "单位排名" not in html and "数据时间" not in html
    # Chinese stays the default even when the display PC's browser asks for English.
    html = client.get(
        f"/campaigns/{campaign.pk}/screen/", HTTP_ACCEPT_LANGUAGE="en-US,en"
    ).content.decode()
    assert "单位排名" in html


def _page_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_query_counts_are_the_same_for_2_and_10_units(bureau):
    root = make_unit("竞赛局")
    campaign = new_campaign(
        bureau.chief,
        root,
        {Figure.SIGNED_COUNT: 2, Figure.LEADS_IN_HAND: 1, Figure.VALID_LEADS: 1, VISITS: 1},
    )

    def add_units(n: int, offset: int) -> None:
        for i in range(n):
            unit = make_unit(f"组{offset + i}", parent=root)
            officer = make_officer(unit, role=Role.OFFICER)
            make_project(officer, contract_date=today() - timedelta(days=2))
            qualify(officer, on=today() - timedelta(days=1))

    add_units(2, 0)
    client = client_for(bureau.chief)
    urls = [f"/campaigns/{campaign.pk}/", f"/campaigns/{campaign.pk}/screen/"]
    few = [_page_queries(client, url) for url in urls]
    add_units(8, 2)
    many = [_page_queries(client, url) for url in urls]
    assert many == few
    # Today 18 (league page) and 17 (screen) with the session, the officer and base.html's.
    assert max(few) <= 20, few
    # The league's own reads: metrics, competing units, period_figures (its own grouped
    # queries), visits per unit, the ranked officers, then projects, leads and visits per
    # officer — one query each.
    with CaptureQueriesContext(connection) as one_call:
        period_figures(start=campaign.start, end=today(), units=[root])
    fetched = Campaign.objects.select_related("unit").get(pk=campaign.pk)
    with CaptureQueriesContext(connection) as captured:
        table = league(fetched, today=today())
    assert len(table["units"]) == 10 and len(table["officers"]) == 10
    assert len(captured) == len(one_call) + 7


def test_xlsx_has_numbers_as_numbers(bureau):
    make_project(bureau.shanghai_officer, amount=12345, contract_date=today() - timedelta(days=3))
    campaign = new_campaign(
        bureau.chief, bureau.bureau, {Figure.SIGNED_AMOUNT: 3, Figure.SIGNED_COUNT: 1}
    )
    response = client_for(bureau.chief).get(f"/campaigns/{campaign.pk}/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    units, people = book.worksheets
    header = [c.value for c in units[2]]
    assert header[:3] == ["名次", "单位", "新签约总投资(万元)"]
    rows = {row[1]: row for row in units.iter_rows(min_row=3, values_only=True)}
    shanghai = rows["上海办事处"]
    assert shanghai[0] == 1 and shanghai[2] == 12345 and isinstance(shanghai[2], int | float)
    assert shanghai[-1] == 100 and isinstance(shanghai[-1], int | float)
    officer_rows = {row[1]: row for row in people.iter_rows(min_row=3, values_only=True)}
    assert officer_rows["张明"][2] == 12345 and officer_rows["张明"][-1] == "上海办事处"


def test_the_table_is_shared_for_the_configured_minute_and_a_change_of_campaign_resets_it(
    bureau, settings
):
    from django.core.cache import cache

    settings.PROMO_DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    campaign = new_campaign(bureau.chief, bureau.bureau, {Figure.SIGNED_COUNT: 1})
    client = client_for(bureau.chief)
    url = f"/campaigns/{campaign.pk}/screen/"
    first = client.get(url).context
    make_project(bureau.shanghai_officer, contract_date=today() - timedelta(days=1))
    second = client.get(url).context
    assert second["as_of"] == first["as_of"]
    signed = {row["subject"].name: row["cells"][0]["value"] for row in second["units"]}
    assert signed["上海办事处"] == 0
    campaign_update(actor=bureau.chief, campaign=campaign, metrics={Figure.SIGNED_COUNT: 2})
    third = client.get(url).context
    signed = {row["subject"].name: row["cells"][0]["value"] for row in third["units"]}
    assert signed["上海办事处"] == 1 and third["as_of"] > first["as_of"]
    cache.clear()
