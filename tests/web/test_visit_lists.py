"""The visit lists: 走访记录 (/leads/visits/) and 来区客商 (/leads/investors/visiting/).

The 来区客商 list prints the campaign table's number (the cockpit's, on the mixed bureau, is in
tests/dashboard/test_cockpit_links.py); both lists show only the officer's scope, put a bad
filter value next to its field instead of failing, cost the same number of queries for 2 rows
as for 20, and read in English with no Chinese left but the records' own data.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads import views_visits as visit_views
from leads.choices import SourceChannel, VisitKind
from leads.models import Visit
from leads.selectors import investors_visible_to
from promo.campaigns.services import campaign_create
from promo.core.choices import Industry, Region
from promo.core.services import today
from promo.reports.choices import Figure
from tests.factories import make_investor, make_lead, met_elsewhere
from tests.plans import captured_sql, rows_read
from tests.reports.seed import TODAY
from tests.web.test_i18n import chinese_left, compiled, english_client  # noqa: F401

pytestmark = pytest.mark.django_db

PRINTED = re.compile(r"<h1>.*?共 (?P<n>[\d,]+)(?P<capped>\+?) (?P<unit>条|个)", re.S)
VISITING = (VisitKind.RECEPTION, VisitKind.INSPECTION)
DAY = TODAY.date()


@pytest.fixture(autouse=True)
def _live_figures(settings):
    settings.PROMO_DASHBOARD_CACHE_SECONDS = 0


def printed(client, url: str, params=None) -> int:
    response = client.get(url, params)
    assert response.status_code == 200, url
    found = PRINTED.search(response.content.decode())
    assert found and not found["capped"], url
    count = int(found["n"].replace(",", ""))
    assert count == response.context["page"].paginator.count
    return count


def log(actor, investor, *, kind=VisitKind.RECEPTION, on=None, lead=None, **fields) -> Visit:
    return lead_services.visit_log(
        actor=actor,
        kind=kind,
        visited_on=on or today(),
        investor=investor,
        lead=lead,
        summary=fields.pop("summary", "洽谈"),
        **fields,
    )


def test_visiting_investors_counts_each_investor_once_with_its_visits(bureau, client_for):
    me = bureau.shanghai_officer
    twice, once, called = (make_investor(me, region=Region.JAPAN) for _i in range(3))
    log(me, twice, on=today() - timedelta(days=3))
    log(me, twice, kind=VisitKind.INSPECTION, on=today() - timedelta(days=1))
    log(me, once, kind=VisitKind.INSPECTION)
    log(me, called, kind=VisitKind.CALL)  # a phone call is not a visit to the district
    log(bureau.outsider, make_investor(bureau.outsider))  # another unit's reception
    client = client_for(bureau.chief)
    params = {"visit_unit": bureau.shanghai.pk, "visited_on_after": today() - timedelta(days=7)}
    response = client.get("/leads/investors/visiting/", params)
    assert printed(client, "/leads/investors/visiting/", params) == 2
    rows = {inv.pk: inv for inv in response.context["page"].object_list}
    assert set(rows) == {twice.pk, once.pk}
    assert (rows[twice.pk].visit_count, rows[twice.pk].last_visit) == (
        2,
        today() - timedelta(days=1),
    )
    assert rows[once.pk].visit_count == 1
    # The row's count links to those visits in the visit list.
    html = response.content.decode()
    link = re.search(rf'href="(/leads/visits/\?[^"]*investor={twice.pk})"', html)
    assert link and printed(client, unescape(link[1])) == 2
    # The whole bureau counts the outsider's reception too; the period boundary is inclusive.
    assert printed(client, "/leads/investors/visiting/", {"visited_on_after": today()}) == 2


def test_channel_and_industry_narrow_by_the_visits_lead(bureau, client_for):
    me = bureau.shanghai_officer
    investor = make_investor(me, region=Region.DOMESTIC)
    lead = make_lead(
        me, investor=investor, industry=Industry.AUTO, source_channel=SourceChannel.EVENT
    )
    log(me, investor, lead=lead)
    log(me, make_investor(me, region=Region.DOMESTIC))  # on no lead
    client = client_for(bureau.chief)

    def count(**params) -> int:
        return printed(client, "/leads/investors/visiting/", params)

    assert count() == 2
    assert count(visit_source_channel=SourceChannel.EVENT) == 1
    assert count(visit_source_channel=SourceChannel.STATIONED) == 0
    assert count(visit_industry=Industry.AUTO) == 1
    assert count(region=Region.DOMESTIC) == 2
    assert count(region=Region.JAPAN) == 0


def test_campaign_links_visiting_investors_to_the_list(bureau, client_for, settings):
    me = bureau.shanghai_officer
    for _i in range(2):
        log(me, make_investor(me), on=today() - timedelta(days=2))
    log(bureau.outsider, make_investor(bureau.outsider), kind=VisitKind.INSPECTION)
    campaign = campaign_create(
        actor=bureau.chief,
        name="百日赛",
        unit=bureau.bureau,
        metrics={Figure.INVESTORS_VISITING: 1},
        start=today() - timedelta(days=30),
        end=today() + timedelta(days=30),
    )
    client = client_for(bureau.chief)
    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    links = re.findall(r'href="(/leads/investors/visiting/\?[^"]*)" data-count="(\d+)"', html)
    assert sorted(int(n) for _url, n in links) == [0, 1, 2]  # department, Shenzhen, Shanghai
    for url, count in links:
        assert printed(client, unescape(url)) == int(count), url


# --- 走访记录 ------------------------------------------------------------------------------


def test_visit_list_shows_rows_newest_first_and_applies_every_filter(bureau, client_for):
    me = bureau.shanghai_officer
    japan = make_investor(me, region=Region.JAPAN)
    lead = make_lead(me, investor=japan, industry=Industry.AUTO, source_channel="event")
    old = log(me, japan, on=today() - timedelta(days=20), lead=lead, kind=VisitKind.VISIT)
    new = log(
        me,
        japan,
        lead=lead,
        officers=[bureau.teammate],
        next_step="寄送政策资料",
        next_step_due=today() + timedelta(days=3),
    )
    team = log(bureau.sub_unit_officer, make_investor(bureau.sub_unit_officer), on=today())
    client = client_for(bureau.shanghai_head)
    response = client.get("/leads/visits/")
    rows = list(response.context["page"].object_list)
    # Newest first; the same day by the order they were logged, latest on top.
    assert [v.pk for v in rows] == [team.pk, new.pk, old.pk]
    html = response.content.decode()
    assert f'href="/leads/{lead.pk}/"' in html and "寄送政策资料" in html
    assert bureau.teammate.display_name in html

    def ids(**params) -> set[int]:
        page = client.get("/leads/visits/", params).context["page"]
        return {v.pk for v in page.object_list}

    assert ids(kind=[VisitKind.VISIT, VisitKind.CALL]) == {old.pk}
    assert ids(kind=[VisitKind.VISIT, VisitKind.RECEPTION]) == {old.pk, new.pk, team.pk}
    assert ids(visited_on_before=today() - timedelta(days=1)) == {old.pk}
    assert ids(visited_on_after=today()) == {new.pk, team.pk}
    assert ids(investor=japan.pk) == {old.pk, new.pk}
    assert ids(investor_name=japan.name) == {old.pk, new.pk}
    assert ids(investor_name="没有这个客商") == set()
    assert ids(industry=Industry.AUTO) == {old.pk, new.pk}
    assert ids(source_channel="event") == {old.pk, new.pk}
    assert ids(source_channel="stationed") == set()
    assert ids(investor_region=Region.JAPAN) == {old.pk, new.pk}
    assert ids(officer=bureau.teammate.pk) == {new.pk}
    assert ids(unit=bureau.shanghai_team.pk) == {team.pk}
    assert ids(unit=bureau.shanghai.pk) == {old.pk, new.pk, team.pk}


def test_the_lead_list_links_to_the_visit_list(bureau, client_for):
    html = client_for(bureau.shanghai_officer).get("/leads/").content.decode()
    assert 'href="/leads/visits/"' in html


def test_visit_export_follows_the_filters_and_the_scope(bureau, client_for):
    me = bureau.shanghai_officer
    investor = make_investor(me, name="导出测试客商")
    log(me, investor, officers=[bureau.teammate])
    log(me, investor, kind=VisitKind.CALL)
    log(bureau.outsider, make_investor(bureau.outsider, name="深圳客商"))
    client = client_for(me)
    body = client.get("/imports/export/visits.csv", {"kind": VisitKind.RECEPTION}).getvalue()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["系统编号", "走访日期", "类型", "客商"]
    assert [r[3] for r in rows[1:]] == ["导出测试客商"]
    assert bureau.teammate.display_name in rows[1][6]
    response = client.get("/imports/export/visits.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.getvalue())).active
    assert sheet.max_row == 3  # header + the two Shanghai visits, not Shenzhen's
    assert client.get("/imports/export/visits.pdf").status_code == 404


# --- Scope -------------------------------------------------------------------------------


def test_an_outsider_sees_only_their_scope(bureau, client_for):
    me = bureau.shanghai_officer
    shanghai_investor = make_investor(me, name="上海客商甲")
    log(me, shanghai_investor)
    theirs = log(bureau.outsider, make_investor(bureau.outsider, name="深圳客商乙"))
    client = client_for(bureau.outsider)
    page = client.get("/leads/visits/").context["page"]
    assert [v.pk for v in page.object_list] == [theirs.pk]
    assert "上海客商甲" not in client.get("/leads/visits/").content.decode()
    # Naming another unit's id: zero rows, never an error.
    for url, params in (
        ("/leads/visits/", {"unit": bureau.shanghai.pk}),
        ("/leads/visits/", {"investor": shanghai_investor.pk}),
        ("/leads/investors/visiting/", {"visit_unit": bureau.shanghai.pk}),
        ("/leads/investors/visiting/", {"visit_unit": 987654}),
    ):
        assert printed(client, url, params) == 0, (url, params)
    response = client.get("/leads/investors/visiting/")
    visiting = response.content.decode()
    assert "深圳客商乙" in visiting and "上海客商甲" not in visiting
    # Every row is an investor the officer may see (their units' visits met it).
    for officer in (bureau.outsider, bureau.shanghai_head, bureau.sub_unit_officer):
        rows = client_for(officer).get("/leads/investors/visiting/").context["page"]
        visible = set(investors_visible_to(officer).values_list("pk", flat=True))
        assert {inv.pk for inv in rows.object_list} <= visible
    # The Shanghai officer does not see Shenzhen's reception either.
    assert printed(client_for(me), "/leads/investors/visiting/") == 1


def test_a_visible_investor_visited_elsewhere_is_not_counted_for_that_unit(bureau, client_for):
    """An investor the outsider also follows: Shanghai's reception of it stays Shanghai's."""
    shared = make_investor(bureau.outsider, name="共同客商")
    met_elsewhere(bureau.shanghai_officer, shared, kind=VisitKind.RECEPTION)
    client = client_for(bureau.outsider)
    assert printed(client, "/leads/investors/visiting/") == 0
    assert printed(client, "/leads/investors/visiting/", {"visit_unit": bureau.shanghai.pk}) == 0


# --- Bad input ----------------------------------------------------------------------------


def test_bad_filter_values_are_shown_next_to_the_field(bureau, client_for):
    log(bureau.shanghai_officer, make_investor(bureau.shanghai_officer))
    client = client_for(bureau.chief)
    response = client.get(
        "/leads/visits/",
        {
            "visited_on_after": "昨天",
            "unit": "abc",
            "kind": "teleport",
            "officer": "-3",
            "investor": "x",
        },
    )
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert set(response.context["filter_form"].errors) >= {
        "visited_on",
        "unit",
        "kind",
        "officer",
        "investor",
    }
    assert "has-error" in response.content.decode()
    response = client.get(
        "/leads/investors/visiting/",
        {"visited_on_before": "2026-13-45", "visit_unit": "x", "region": "mars"},
    )
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert set(response.context["filter_form"].errors) >= {"visited_on", "visit_unit", "region"}
    assert "has-error" in response.content.decode()
    # The API takes the same FilterSets: a stable 400, not a 500.
    assert client.get("/api/v1/visits/", {"officer": "x"}).status_code == 400
    assert client.get("/api/v1/investors/", {"visit_unit": "x"}).status_code == 400


def test_the_api_lists_take_the_new_filters(bureau, client_for):
    me = bureau.shanghai_officer
    investor = make_investor(me, region=Region.JAPAN)
    visit = log(me, investor, officers=[bureau.teammate])
    log(me, make_investor(me), kind=VisitKind.CALL)
    client = client_for(bureau.chief)

    def ids(url, **params) -> set[int]:
        body = client.get(url, params).json()
        return {row["id"] for row in (body["results"] if isinstance(body, dict) else body)}

    assert ids("/api/v1/visits/", officer=bureau.teammate.pk) == {visit.pk}
    assert ids("/api/v1/visits/", investor_region=Region.JAPAN) == {visit.pk}
    visiting = ids(
        "/api/v1/investors/",
        visit_kind=list(VISITING),
        visited_on_after=today().isoformat(),
        visit_unit=bureau.shanghai.pk,
    )
    assert visiting == {investor.pk}


# --- Query counts ---------------------------------------------------------------------------


def _queries(client, url: str, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


def test_query_counts_are_pinned_for_2_and_20_rows(bureau, client_for):
    me = bureau.shanghai_officer

    def add(n: int) -> None:
        for i in range(n):
            lead = make_lead(me) if i % 2 else None
            log(
                me,
                lead.investor if lead else make_investor(me),
                lead=lead,
                officers=[bureau.teammate],
                kind=VISITING[i % 2],
            )

    add(2)
    client = client_for(bureau.shanghai_head)
    pages = [
        ("/leads/visits/", {"kind": list(VISITING)}),
        ("/leads/investors/visiting/", {"visited_on_after": today().isoformat()}),
    ]
    few = [_queries(client, url, params) for url, params in pages]
    add(18)
    many = [_queries(client, url, params) for url, params in pages]
    assert client.get(*pages[0]).context["page"].paginator.count == 20
    assert client.get(*pages[1]).context["page"].paginator.count == 20
    assert few == many
    # Visit list: session, officer (with its unit and the sub-tree's ids), unit and officer
    # choices, count, rows, officers present, the bell. 来区客商: the same without the
    # officer choices and officers present, plus the page's grouped visit counts (a
    # visit_unit adds its sub-tree's ids).
    assert many == [8, 7]


# --- English --------------------------------------------------------------------------------


def test_both_lists_read_in_english(compiled, bureau):  # noqa: F811
    me = bureau.shanghai_officer
    investor = make_investor(me, name="苏州精密机械有限公司")
    lead = make_lead(me, investor=investor, name="精密零部件扩产项目")
    log(
        me,
        investor,
        lead=lead,
        officers=[bureau.teammate],
        summary="洽谈扩产计划",
        next_step="寄送园区政策资料",
        next_step_due=today() + timedelta(days=2),
    )
    client = english_client()
    client.force_login(me)
    data = [
        me.display_name,
        bureau.teammate.display_name,
        investor.name,
        lead.name,
        "洽谈扩产计划",
        "寄送园区政策资料",
        bureau.shanghai_team.name,
        bureau.shanghai.name,
        bureau.teammate.display_name,
        bureau.sub_unit_officer.display_name,
        bureau.shanghai_head.display_name,
    ]
    for url, heading in (
        ("/leads/visits/", "1 visit"),
        ("/leads/investors/visiting/", "1 investor"),
    ):
        html = client.get(url, {"page": "1"}).content.decode()
        assert '<html lang="en">' in html and heading in html, url
        left = chinese_left(html, *data)
        assert all(re.fullmatch(r"[＋（）：，]+", text) for text in left), (url, left)


# --- Deep pages (issue #19): the pager's links carry a cursor, not an offset ---------------------

NEXT = re.compile(r'<a class="button" href="(\?[^"]+)">下一页')
PREVIOUS = re.compile(r'<a class="button" href="(\?[^"]+)">上一页')


def _pages_of_seven(bureau, monkeypatch):
    """Seven visits of the Shanghai office over four days (ties on a day), pages of two;
    beside them the Shenzhen office's, which a Shanghai head never sees."""
    monkeypatch.setattr(visit_views, "PAGE_SIZE", 2)
    me = bureau.shanghai_officer
    investor = make_investor(me)
    for days in (0, 0, 1, 3, 3, 3, 9):
        log(me, investor, on=today() - timedelta(days=days))
    for days in range(12):
        log(bureau.outsider, make_investor(bureau.outsider), on=today() - timedelta(days=days))
    order = Visit.objects.filter(unit=bureau.shanghai).order_by("-visited_on", "-id")
    return [v.pk for v in order]


def _get(client, url: str):
    """The response to ``url`` and the SQL it sent."""
    responses = []
    sql = captured_sql(lambda: responses.append(client.get(url)))
    return responses[0], sql


def _follow(client, pattern, response):
    link = pattern.search(response.content.decode())
    assert link, "no such pager link"
    return _get(client, "/leads/visits/" + unescape(link.group(1)))


def test_pager_links_walk_every_row_once_forward_and_back(bureau, client_for, monkeypatch):
    expected = _pages_of_seven(bureau, monkeypatch)
    client = client_for(bureau.shanghai_head)
    response = client.get("/leads/visits/")
    seen = [[v.pk for v in response.context["page"].object_list]]
    numbers = [response.context["page"].number]
    while NEXT.search(response.content.decode()):
        response, _sql = _follow(client, NEXT, response)
        seen.append([v.pk for v in response.context["page"].object_list])
        numbers.append(response.context["page"].number)
    assert seen == [expected[i : i + 2] for i in range(0, 7, 2)]
    assert numbers == [1, 2, 3, 4]
    assert response.context["page"].paginator.count == 7
    assert "第 4 / 4 页" in response.content.decode()
    back = []
    while PREVIOUS.search(response.content.decode()):
        response, _sql = _follow(client, PREVIOUS, response)
        back.append(
            ([v.pk for v in response.context["page"].object_list], response.context["page"].number)
        )
    assert back == [(seen[2], 3), (seen[1], 2), (seen[0], 1)]


def test_a_deep_page_reads_no_more_rows_than_the_first(bureau, client_for, monkeypatch):
    # One visit of the Shanghai office and one of Shenzhen's (unseen) a day: every page of
    # two reads the same stretch of the date index, however many pages come before it.
    monkeypatch.setattr(visit_views, "PAGE_SIZE", 2)
    for days in range(12):
        for officer in (bureau.shanghai_officer, bureau.outsider):
            log(officer, make_investor(officer), on=today() - timedelta(days=days))
    client = client_for(bureau.shanghai_head)
    response, first_sql = _get(client, "/leads/visits/")
    for _ in range(3):
        response, deep_sql = _follow(client, NEXT, response)
    assert response.context["page"].number == 4

    def rows_query(sql: list[str]) -> str:
        [query] = [q for q in sql if q.startswith('SELECT "leads_visit"."id"') and "LIMIT" in q]
        return query

    first = rows_read(rows_query(first_sql), "leads_visit")
    # An OFFSET read the 12 rows of the three pages before (6 of them Shenzhen's) first.
    assert rows_read(rows_query(deep_sql), "leads_visit") <= first + 2


def test_a_broken_page_link_shows_the_first_page_and_says_so(bureau, client_for, monkeypatch):
    expected = _pages_of_seven(bureau, monkeypatch)
    response = client_for(bureau.shanghai_head).get("/leads/visits/", {"after": "昨天.12"})
    assert [v.pk for v in response.context["page"].object_list] == expected[:2]
    assert "翻页链接无效，已显示第一页。" in response.content.decode()
