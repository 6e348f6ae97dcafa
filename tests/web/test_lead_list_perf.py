"""Lead list at scale: a bounded count, the unit sub-tree as ids, no DISTINCT."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import views as lead_views
from leads.models import Lead
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_count_is_bounded_and_pages_keep_working(bureau, client_for, monkeypatch):
    me = bureau.shanghai_officer
    for _ in range(7):
        make_lead(me)
    monkeypatch.setattr(lead_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(lead_views, "COUNT_BOUND", 3)
    client = client_for(me)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/leads/")
    page = response.context["page"]
    # The two rows shown and at most three past them are counted.
    assert page.paginator.capped and "共 5+ 条" in response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    assert any("LIMIT 4" in sql for sql in counts)
    # Further pages are reachable: the bound counts from the page shown.
    last = client.get("/leads/", {"page": 4}).context["page"]
    assert last.number == 4 and len(last.object_list) == 1
    assert not last.paginator.capped and last.paginator.count == 7


def test_exact_total_below_the_bound(bureau, client_for):
    me = bureau.shanghai_officer
    make_lead(me)
    response = client_for(me).get("/leads/")
    assert not response.context["page"].paginator.capped
    assert response.context["page"].paginator.count == 1


def test_unit_filter_is_the_sub_tree_without_distinct(bureau, client_for):
    mine = make_lead(bureau.shanghai_officer)
    below = make_lead(bureau.sub_unit_officer)
    make_lead(bureau.outsider)
    client = client_for(bureau.chief)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/leads/", {"unit": bureau.shanghai.pk, "status": "information"})
    rows = {lead.pk for lead in response.context["page"].object_list}
    assert rows == {mine.pk, below.pk}
    page_sql = [q["sql"] for q in queries.captured_queries if 'FROM "leads_lead"' in q["sql"]]
    assert page_sql and not any("DISTINCT" in sql for sql in page_sql)
    assert not any('"path"::text LIKE' in sql for sql in page_sql)
    assert Lead.objects.count() == 3
