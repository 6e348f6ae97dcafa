"""Deep pages of the lead and project lists (issue #19): the pager's links carry a cursor in
the selected sort, so page 200 is read as page 1 is; a bare deep ``?page=N`` is sent to the
deepest page an offset may read, with a notice."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from leads import views as lead_views
from leads.models import Lead
from projects import views as project_views
from projects.models import Project
from promo.core.paging import OFFSET_PAGES, KeysetPage
from promo.core.services import today
from tests.factories import make_investor, make_lead, make_project

pytestmark = pytest.mark.django_db

NEXT = re.compile(r'<a class="button" href="(\?[^"]+)">下一页')
PREVIOUS = re.compile(r'<a class="button" href="(\?[^"]+)">上一页')
FIRST = re.compile(r'<a class="button" href="(\?[^"]+)">第一页')


def _get(client, url: str):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response, [q["sql"] for q in captured.captured_queries]


def _follow(client, path: str, pattern, response):
    link = pattern.search(response.content.decode())
    assert link, "no such pager link"
    return _get(client, path + unescape(link.group(1)))


def _walk(client, path: str, start: str):
    """Every page from ``start`` by the "next" links, then back by the "previous" ones."""
    response, _sql = _get(client, path + start)
    pages = [[row.pk for row in response.context["page"].object_list]]
    numbers = [response.context["page"].number]
    while NEXT.search(response.content.decode()):
        response, _sql = _follow(client, path, NEXT, response)
        pages.append([row.pk for row in response.context["page"].object_list])
        numbers.append(response.context["page"].number)
    back = []
    while PREVIOUS.search(response.content.decode()):
        response, _sql = _follow(client, path, PREVIOUS, response)
        back.append([row.pk for row in response.context["page"].object_list])
    return pages, numbers, back


def _leads_with_ties(me):
    """Eleven leads whose sort columns tie and hold NULLs (never followed up), each on an
    investor of its own (a unit's second open lead on one investor needs a confirmation)."""
    day = today()
    leads = []
    for i, (amount, name, days) in enumerate(
        [
            (100, "乙", 3),
            (300, "甲", None),
            (100, "甲", 3),
            (200, "丙", 1),
            (300, "乙", None),
            (100, "甲", 5),
            (200, "甲", None),
            (300, "丙", 3),
            (100, "乙", 1),
            (0, "甲.项目", 5),
            (0, "乙", None),
        ]
    ):
        lead = make_lead(me, investor=make_investor(me), amount=amount)
        Lead.objects.filter(pk=lead.pk).update(
            name=name,
            last_activity_on=None if days is None else day - timedelta(days=days),
            # Three leads a second: created_at ties too.
            created_at=lead.created_at.replace(microsecond=0) - timedelta(seconds=i // 3),
        )
        leads.append(lead)
    return leads


SORTS = {
    "-created": ("-created_at", "-id"),
    "stale": ("last_activity_on", "id"),
    "-amount": ("-estimated_amount", "-id"),
    "name": ("name", "id"),
}


@pytest.mark.parametrize("sort", list(SORTS))
def test_lead_pager_walks_every_row_once_in_each_sort(bureau, client_for, monkeypatch, sort):
    monkeypatch.setattr(lead_views, "PAGE_SIZE", 2)
    me = bureau.shanghai_officer
    _leads_with_ties(me)
    make_lead(bureau.outsider)  # another office's: never shown to the Shanghai head
    expected = list(
        Lead.objects.filter(unit=bureau.shanghai)
        .order_by(*SORTS[sort])
        .values_list("pk", flat=True)
    )
    pages, numbers, back = _walk(
        client_for(bureau.shanghai_head), "/leads/", f"?sort={sort}&status=information"
    )
    assert pages == [expected[i : i + 2] for i in range(0, 11, 2)]
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert back == pages[-2::-1]


@pytest.mark.parametrize(
    "order",
    [
        ("last_activity_on", "id"),
        ("-last_activity_on", "-id"),
        ("last_activity_on", "-id"),
        ("-last_activity_on", "id"),
        ("-id",),
        ("name", "-id"),
    ],
)
def test_keyset_follows_any_direction_with_nulls(bureau, order):
    """NULLs sort where PostgreSQL puts them (last ascending, first descending) and the
    cursor goes on from them, forward and back."""
    _leads_with_ties(bureau.shanghai_officer)
    rows = Lead.objects.all()
    expected = list(rows.order_by(*order).values_list("pk", flat=True))
    seen, params, pages = [], QueryDict(""), []
    while True:
        page = KeysetPage(rows, params, per_page=3, order=order)
        assert not page.invalid
        pages.append((page.number, [row.pk for row in page]))
        seen += [row.pk for row in page]
        if not page.has_next:
            break
        params = QueryDict(page.next_query)
    assert seen == expected
    assert page.count == len(expected)
    while page.has_previous:
        page = KeysetPage(rows, QueryDict(page.previous_query), per_page=3, order=order)
        assert (page.number, [row.pk for row in page]) == pages[page.number - 1]


def test_a_deep_lead_page_is_read_from_its_cursor_not_an_offset(bureau, client_for, monkeypatch):
    monkeypatch.setattr(lead_views, "PAGE_SIZE", 2)
    me = bureau.shanghai_officer
    for _ in range(16):
        make_lead(me)
    client = client_for(bureau.shanghai_head)
    response, first_sql = _get(client, "/leads/?status=information")
    for _ in range(OFFSET_PAGES + 1):
        response, deep_sql = _follow(client, "/leads/", NEXT, response)
    assert response.context["page"].number == OFFSET_PAGES + 2
    html = response.content.decode()
    # The filters are kept, and the first page is one click away.
    assert "status=information" in unescape(NEXT.search(html).group(1))
    assert unescape(FIRST.search(html).group(1)) == "?status=information&page=1"
    page_sql = [q for q in deep_sql if q.startswith('SELECT "leads_lead"."id"')]
    assert page_sql and not any("OFFSET" in q for q in page_sql)
    # As many queries as the first page.
    assert len(deep_sql) == len(first_sql)


def test_a_bare_deep_page_is_sent_to_the_deepest_offset_page_with_a_notice(
    bureau, client_for, monkeypatch
):
    monkeypatch.setattr(lead_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(project_views, "PAGE_SIZE", 2)
    me = bureau.shanghai_officer
    for _ in range(3):
        make_project(me)
    client = client_for(me)
    for path in (
        "/leads/",
        "/projects/",
        "/leads/visits/",
        "/leads/investors/visiting/",
        "/reports/notices/",
        "/imports/",
    ):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"page": 200, "q": "测试"})
        assert response.status_code == 302, path
        assert response["Location"] == f"{path}?q=%E6%B5%8B%E8%AF%95&page={OFFSET_PAGES}"
        # Nothing of the list was read.
        assert not any("OFFSET" in q["sql"] for q in captured.captured_queries)
        followed = client.get(response["Location"])
        assert followed.status_code == 200
        assert "无法直接打开第 200 页" in followed.content.decode()


@pytest.mark.parametrize(
    "cursor",
    ["昨天.12", "2026-13-45.3", ".", "1.2.x", "99999999999999999999999", "a\x00b.1", "5"],
)
def test_a_broken_cursor_shows_the_first_page_and_says_so(bureau, client_for, monkeypatch, cursor):
    monkeypatch.setattr(lead_views, "PAGE_SIZE", 1)
    monkeypatch.setattr(project_views, "PAGE_SIZE", 1)
    for _ in range(3):  # three leads (signed) and their three projects: page 3 exists
        make_project(bureau.shanghai_officer)
    client = client_for(bureau.shanghai_officer)
    for path, params in (
        ("/leads/", {}),
        ("/leads/", {"sort": "stale"}),
        ("/leads/", {"sort": "-amount"}),
        ("/projects/", {}),
    ):
        response = client.get(path, {**params, "after": cursor, "page": 3})
        assert response.status_code == 200, (path, params, cursor)
        assert "翻页链接无效，已显示第一页。" in response.content.decode(), (path, params)
        assert response.context["page"].number == 1


def test_project_pager_walks_every_row_once_and_deep_pages_have_no_offset(
    bureau, client_for, monkeypatch
):
    monkeypatch.setattr(project_views, "PAGE_SIZE", 2)
    me = bureau.shanghai_officer
    for days in (0, 0, 0, 4, 4, 9, 9, 9, 9, 12, 30, 30, 31, 40, 41):
        make_project(me, contract_date=today() - timedelta(days=days))
    expected = list(Project.objects.order_by("-contract_date", "-id").values_list("pk", flat=True))
    client = client_for(bureau.shanghai_head)
    pages, numbers, back = _walk(client, "/projects/", "?size=small&size=10m&size=100m")
    assert pages == [expected[i : i + 2] for i in range(0, 15, 2)]
    assert numbers == list(range(1, 9))
    assert back == pages[-2::-1]

    response, first_sql = _get(client, "/projects/")
    for _ in range(OFFSET_PAGES + 1):
        response, deep_sql = _follow(client, "/projects/", NEXT, response)
    page = response.context["page"]
    assert page.number == OFFSET_PAGES + 2 and page.paginator.count == 15
    assert "第 7 / 8 页" in response.content.decode()
    page_sql = [q for q in deep_sql if q.startswith('SELECT "projects_project"."id"')]
    assert page_sql and not any("OFFSET" in q for q in page_sql)
    assert len(deep_sql) == len(first_sql)
