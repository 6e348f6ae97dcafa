"""The header's search box (一框搜索, issue #15 finding 10): one box finds investors, leads and
projects by Chinese name, pinyin (full and initials), English name and credit code, only among
the records the officer may see, through pg_trgm's index."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services as lead_services
from leads.choices import LeadStatus
from leads.models import Investor, Lead
from projects.models import Project
from tests.factories import make_investor, make_lead, sign_lead
from tests.plans import captured_sql

pytestmark = pytest.mark.django_db

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(first17: str) -> str:
    """``first17`` with its GB 32100 check character."""
    total = sum(_ALPHABET.index(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _ALPHABET[(31 - total % 31) % 31]


CODE = credit_code("91440300192203821")


def _huawei(bureau):
    """华为 of the Shanghai office, with a negotiating lead and a signed project."""
    me = bureau.shanghai_officer
    investor = make_investor(
        me, "华为技术有限公司", name_en="Huawei Technologies Co., Ltd.", credit_code=CODE
    )
    lead = make_lead(me, investor=investor, status=LeadStatus.NEGOTIATING, name="华为南京研发中心")
    project = sign_lead(me, lead)
    project.refresh_from_db()
    other = make_lead(me, investor=investor, name="华为无锡基地")
    return investor, lead, project, other


def _found(client, q: str) -> str:
    response = client.get("/search/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "q",
    [
        "huawei",  # full pinyin
        "hw",  # initials (two letters: the start of a key)
        "HWJS",  # initials, any case
        "Huawei Technologies",  # English name, two words
        CODE,  # credit code
        CODE.lower(),
        "华为",  # Chinese, two characters
        "为技术",  # Chinese, inside the name
    ],
)
def test_the_box_finds_the_investor_by_each_key(bureau, client_for, q):
    investor, *_ = _huawei(bureau)
    html = _found(client_for(bureau.shanghai_officer), q)
    assert f'href="/investors/{investor.pk}/"' in html


def test_one_box_finds_an_investor_a_lead_and_a_project(bureau, client_for):
    investor, lead, project, other = _huawei(bureau)
    make_investor(bureau.shanghai_officer, "远景动力科技有限公司")
    html = _found(client_for(bureau.shanghai_officer), "huawei")
    assert f'href="/investors/{investor.pk}/"' in html
    assert f'href="/leads/{lead.pk}/"' in html
    assert f'href="/leads/{other.pk}/"' in html
    assert f'href="/projects/{project.pk}/"' in html
    assert "远景动力" not in html


def test_an_outsider_finds_nothing_they_may_not_see(bureau, client_for):
    investor, _lead, _project, _ = _huawei(bureau)
    mine = make_investor(bureau.outsider, "华为终端深圳有限公司")
    html = _found(client_for(bureau.outsider), "huawei")
    assert f'href="/investors/{mine.pk}/"' in html
    assert f'href="/investors/{investor.pk}/"' not in html
    assert "华为南京研发中心" not in html
    assert not re.search(r'href="/(leads|projects)/\d+/"', html)
    from promo.workspace.selectors import search_everything

    results = search_everything(bureau.outsider, "huawei")
    counts = {group.kind: (len(group.rows), group.more) for group in results.groups}
    assert counts == {"investors": (1, False), "leads": (0, False), "projects": (0, False)}


def test_a_record_renamed_through_the_service_is_found_by_its_new_pinyin(bureau, client_for):
    investor, lead, *_ = _huawei(bureau)
    me = bureau.shanghai_officer
    lead_services.investor_update(actor=me, investor=investor, name="荣耀终端有限公司")
    lead_services.lead_update(actor=me, lead=lead, changes={"name": "荣耀长沙工厂"})
    client = client_for(me)
    html = _found(client, "rongyao")
    assert f'href="/investors/{investor.pk}/"' in html
    assert f'href="/leads/{lead.pk}/"' in html
    assert f'href="/leads/{lead.pk}/"' not in _found(client, "nanjing")


@pytest.mark.parametrize("q", ["华", "h", " ", "", "a b c", "%", "_", "\\", "'"])
def test_a_short_or_odd_query_answers_a_hint_not_an_error(bureau, client_for, q):
    _huawei(bureau)
    client = client_for(bureau.shanghai_officer)
    with CaptureQueriesContext(connection) as queries:
        html = _found(client, q)
    assert "/investors/" not in re.sub(r'href="/investors/search/[^"]*"', "", html) or q == ""
    assert not any("search_text" in query["sql"] for query in queries.captured_queries)


def test_more_than_ten_show_a_more_link_that_lists_the_group(bureau, client_for):
    me = bureau.shanghai_officer
    found = [make_investor(me, f"华为{n:02d}号有限公司") for n in range(12)]
    client = client_for(me)
    html = _found(client, "huawei")
    assert len(re.findall(r'href="/investors/\d+/"', html)) == 10
    assert "only=investors" in html
    page = client.get("/search/", {"q": "huawei", "only": "investors"}).content.decode()
    assert all(f'href="/investors/{investor.pk}/"' in page for investor in found)
    assert 'href="/search/?q=huawei&amp;only=investors"' in html
    assert 'href="/search/?q=huawei&amp;only=investors"' not in page


def test_the_page_reads_in_a_fixed_number_of_queries(
    bureau, client_for, django_assert_max_num_queries
):
    me = bureau.shanghai_head
    _huawei(bureau)
    client = client_for(me)
    client.get("/search/", {"q": "huawei"})  # the session and the scope, as on any page
    with CaptureQueriesContext(connection) as few:
        _found(client, "huawei")
    for n in range(6):
        investor = make_investor(bureau.shanghai_officer, f"华为子公司{n}有限公司")
        sign_lead(
            bureau.shanghai_officer,
            make_lead(bureau.shanghai_officer, investor=investor, status=LeadStatus.NEGOTIATING),
        )
    with django_assert_max_num_queries(len(few)):
        html = _found(client, "huawei")
    assert "华为子公司5" in html


def test_the_investor_picker_matches_pinyin_english_and_code(bureau, client_for):
    investor, *_ = _huawei(bureau)
    client = client_for(bureau.shanghai_officer)
    for q in ("huawei", "hwjs", "technologies", CODE, "华为", "华"):
        rows = client.get("/investors/search/", {"q": q}).json()["results"]
        assert [row["id"] for row in rows] == [investor.pk], q


def test_keys_are_written_by_every_save_and_kept_out_of_the_history(bureau):
    investor, lead, project, _ = _huawei(bureau)
    assert "huaweijishu" in Investor.objects.get(pk=investor.pk).search_text
    assert " hwnjyfzx" in Lead.objects.get(pk=lead.pk).search_text
    assert " hwnjyfzx" in Project.objects.get(pk=project.pk).search_text
    # The admin and imports save through Model.save(): a save of the name alone keeps the keys.
    project.name = "荣耀长沙工厂"
    project.save(update_fields=["name"])
    assert "rongyaochangshagongchang" in Project.objects.get(pk=project.pk).search_text


STEERED = ("enable_seqscan", "enable_indexscan")


def test_the_search_reads_the_trigram_index(bureau):
    """Among 3,000 leads and 1,000 projects (bulk-loaded fillers, as an import would leave
    them) the chief's search reads only the matching rows, through each table's GIN trigram
    index. As tests/plans.py does, the planner is steered: sequential and plain index scans
    are priced out, so a table this small is not read whole through another index (the
    unit's, for a merge join) as it would never be at 300,000 rows; what remains is a bitmap
    scan, and it must be the trigram index's, fetching only the matches. Ordered by name
    length, no b-tree order can stand in for it."""
    from django.db import connection

    from promo.core.trigram import trigram_installed

    if not trigram_installed(connection):
        # The embedded server of `make test` (pgserver, from PyPI) ships no contrib modules;
        # every packaged PostgreSQL and the compose image have pg_trgm (promo/core/trigram.py).
        pytest.skip("this PostgreSQL has no pg_trgm: the search reads without its index")
    investor, lead, project, _ = _huawei(bureau)
    me = bureau.shanghai_officer
    Lead.objects.bulk_create(
        Lead(
            name=f"填充{n}",
            search_text=f" 填充{n} tianchong{n}",
            investor=investor,
            unit=lead.unit,
            created_by=me,
            industry=lead.industry,
            source_channel=lead.source_channel,
        )
        for n in range(3000)
    )
    Project.objects.bulk_create(
        Project(
            name=f"填充{n}",
            search_text=f" 填充{n} tianchong{n}",
            investor=investor,
            unit=project.unit,
            created_by=me,
            industry=project.industry,
            contract_date=project.contract_date,
        )
        for n in range(1000)
    )
    from promo.workspace.selectors import search_everything

    sql = [
        s
        for s in captured_sql(lambda: search_everything(bureau.chief, "huawei"))
        if "search_text" in s
    ]
    assert len(sql) == 3
    for statement, table, index in zip(
        sql,
        ("leads_investor", "leads_lead", "projects_project"),
        ("leads_investor_search_trgm", "leads_lead_search_trgm", "projects_project_search_trgm"),
        strict=True,
    ):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            for switch in STEERED:
                cursor.execute(f"SET {switch} = off")
            try:
                cursor.execute("EXPLAIN ANALYZE " + statement)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            finally:
                for switch in STEERED:
                    cursor.execute(f"RESET {switch}")
        assert f"Bitmap Index Scan on {index}" in plan, plan
        # The heap rows the trigram scan fetched: the matches, not the table.
        fetched = re.search(
            r"Bitmap Heap Scan on " + table + r".*?actual time=\S+ rows=(\d+)", plan
        )
        assert fetched and int(fetched.group(1)) <= 3, plan
