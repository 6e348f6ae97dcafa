"""协议履约分析 (issue #20): the bulletin's 协议履约 section computed live, for the officer's
agreements, by unit and by signing-year cohort; every count a link to a list of that many rows.

The scenario (four agreements over two units and two cohorts, and one signed after the
bulletin's day) and the plain walk over the raw rows are the bulletin's
(tests/reports/test_agreement_bulletin.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from promo.agreements.models import Agreement
from promo.core.services import today
from promo.reports.choices import BulletinKind
from promo.reports.selectors import _agreement_cell, _agreement_columns, agreement_analysis
from promo.reports.services import bulletin_generate
from tests.reports.test_agreement_bulletin import (
    END,
    START,
    Y1,
    Y2,
    Book,
    _count,
    _sum,
    _walk,
    lines,
    scenario,  # noqa: F401 (the fixture)
)

pytestmark = pytest.mark.django_db

URL = "/reports/agreements/"


def _rows(section) -> dict[tuple[str, str], list[dict]]:
    return {
        (table["key"], row["name"]): row["cells"]
        for table in section["agreement_tables"]
        for row in table["rows"]
    }


def _page(client, query: str = "") -> str:
    response = client.get(URL + query)
    assert response.status_code == 200
    return response.content.decode()


def test_on_the_bulletins_day_the_live_figures_are_the_frozen_ones(scenario):  # noqa: F811
    bureau = scenario
    bulletin = bulletin_generate(kind=BulletinKind.MONTHLY, period_start=START)
    live = agreement_analysis(bureau.chief, unit=None, on=END)
    frozen = {}
    for line in lines(bulletin).values():
        frozen[line.label] = line.figures
    columns = _agreement_columns()
    rows = _rows(live)
    assert rows, "no section"
    for (table, name), cells in rows.items():
        expected = [_agreement_cell("", frozen[name], column)["text"] for column in columns]
        assert [cell["text"] for cell in cells] == expected, (table, name)


def test_today_every_figure_equals_a_plain_walk_over_the_raw_rows(scenario):  # noqa: F811
    bureau = scenario
    on = today()
    counted = set(Agreement.objects.values_list("pk", flat=True))  # A5 is signed by today
    walked = _walk(on, counted)
    section = agreement_analysis(bureau.chief, unit=None, on=on)
    columns = _agreement_columns()

    def printed(rows) -> list[str]:
        return [_agreement_cell("", _sum(rows), column)["text"] for column in columns]

    by_unit: dict[str, list] = {}
    by_cohort: dict[str, list] = {}
    for agreement in Agreement.objects.select_related("project__unit"):
        unit = agreement.project.unit
        first = unit if unit.parent_id == bureau.bureau.pk else unit.parent
        by_unit.setdefault(first.short_name or first.name, []).append(walked[agreement.pk])
        first_signed = (
            Agreement.objects.filter(project=agreement.project).order_by("signed_on").first()
        )
        by_cohort.setdefault(f"{first_signed.signed_on.year}年签约", []).append(
            walked[agreement.pk]
        )
    rows = _rows(section)
    for name, walked_rows in by_unit.items():
        assert [c["text"] for c in rows[("unit", name)]] == printed(walked_rows), name
    for name, walked_rows in by_cohort.items():
        assert [c["text"] for c in rows[("cohort", name)]] == printed(walked_rows), name
    assert [c["text"] for c in rows[("unit", "合计")]] == printed(walked.values())
    # A5, signed after the bulletin's day, is counted today (its tax not due yet: pending).
    assert len(walked) == 5
    assert {name for table, name in rows if table == "cohort"} == {*by_cohort, "合计"}


def test_each_count_links_to_a_list_of_that_many_rows(scenario, client_for):  # noqa: F811
    bureau = scenario
    for officer, query in ((bureau.chief, ""), (bureau.shanghai_head, "")):
        client = client_for(officer)
        page = _page(client, query)
        links = re.findall(r'<a href="(/agreements/[^"]+)">([\d,.]+)</a>', page)
        checked = 0
        for url, text in links:
            if "payment=" in url:
                continue  # an amount (the bulletin's test adds the listed rows up)
            assert _count(client, url) == int(text), (officer.username, url)
            checked += 1
        assert checked > 10, officer.username


def test_each_linked_lists_path_is_reversed_once_per_page(scenario, client_for):  # noqa: F811
    """Every count links to one of a few lists: the page reverses each list's path once,
    not once per cell (promo.core.urls), and the links still follow the script prefix."""
    from django.urls import set_script_prefix

    from promo.core import urls
    from tests.reversals import counted_reversals

    client = client_for(scenario.chief)
    _page(client)  # the session and the officer's caches warm
    with counted_reversals() as calls:
        page = _page(client)
    links = re.findall(r'<a href="(/agreements/[^"]+)">', page)
    assert len(links) > 3 * len(calls) > 0, (len(links), calls)
    assert sorted(calls) == sorted(set(calls)), calls
    set_script_prefix("/promo/")
    try:
        assert urls.path_of("agreements:list") == "/promo/agreements/"
    finally:
        set_script_prefix("/")
    assert urls.path_of("agreements:list") == "/agreements/"


def test_a_unit_head_reads_his_sub_tree_and_never_another_units(scenario, client_for):  # noqa: F811
    bureau = scenario
    client = client_for(bureau.shanghai_head)
    page = _page(client)
    # His default is the top of what he sees: Shanghai, its team and its own records.
    assert bureau.shanghai.name in page
    section = page[page.index('data-table="unit"') :]
    assert "深圳" not in section
    total = re.search(r'<tr class="total">(.*?)</tr>', section, re.S).group(1)
    assert f"unit={bureau.shanghai.pk}" in total
    # Shenzhen asked for by its id: refused next to the field, and no Shenzhen figure shown.
    page = _page(client, f"?unit={bureau.shenzhen.pk}")
    assert "has-error" in page and "选择一个有效的选项" in page
    body = page[page.index("<h1") :]  # past the language switch's "next" (this very URL)
    assert not re.search(rf"[?;]unit={bureau.shenzhen.pk}(&|\")", body)


def test_an_outsider_reads_only_his_own_and_an_administrator_nothing(scenario, client_for):  # noqa: F811
    bureau = scenario
    mine = agreement_analysis(bureau.outsider, unit=None, on=today())
    # The outsider's unit (Shenzhen) holds A3 and A4: its total counts two agreements judged.
    total = _rows(mine)[("unit", "合计")]
    assert total[0]["parts"][1][0] == "2"
    client = client_for(bureau.outsider)
    page = _page(client)
    assert f"unit={bureau.shanghai.pk}" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?on=2999-01-01", "截至日期不能晚于今天。"),
        ("?on=1900-01-01", "日期不能早于 1980-01-01。"),
        ("?on=2026-02-30", "输入一个有效的日期。"),
        ("?on=%00", "输入一个有效的日期。"),
        ("?unit=abc", "选择一个有效的选项"),
        ("?unit=999999999999999999999", "选择一个有效的选项"),
    ],
)
def test_a_wrong_filter_is_answered_next_to_its_field(scenario, client_for, query, message):  # noqa: F811
    page = _page(client_for(scenario.chief), query)
    assert "has-error" in page and message in page
    # The defaults' figures are shown meanwhile (today, the whole bureau).
    assert 'data-table="unit"' in page


def test_a_wrong_filter_in_english(scenario, client_for):  # noqa: F811
    client = client_for(scenario.chief)
    client.cookies["django_language"] = "en"
    page = client.get(URL + "?on=2999-01-01", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "has-error" in page
    assert "截至日期不能晚于今天" not in page


def test_the_page_reads_in_the_same_queries_for_1_and_5_agreements_per_group(
    scenario,  # noqa: F811
    client_for,
):
    bureau = scenario
    client = client_for(bureau.chief)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            _page(client)
        return len(ctx.captured_queries)

    few = count()
    book = Book(bureau)
    for year in (Y1, Y2, Y2 - 1, Y2 - 2):
        a = book.agreement(bureau.outsider, date(year, 4, 1), f"more-{year}")
        book.term(a, "annual_tax", "10", END - date.resolution, (END - 2 * date.resolution, "5"))
    assert count() == few


def test_the_cockpits_agreement_section_links_to_the_analysis(scenario, client_for):  # noqa: F811
    page = client_for(scenario.chief).get(reverse("dashboard:index")).content.decode()
    assert reverse("reports:agreement_analysis") in page


def _texts(section) -> dict[tuple[str, str], list[str]]:
    return {key: [cell["text"] for cell in cells] for key, cells in _rows(section).items()}


def _computed_live(patch) -> None:
    """Today's analysis computed from every commitment: neither the grains (a bureau-wide
    reader's, decision 0026) nor the states (decision 0020) read."""
    patch.setattr("promo.reports.selectors.stored_keeping_rows", lambda **kw: None)
    patch.setattr("promo.reports.selectors.fresh_grains", lambda unit: None)


def test_today_the_analysis_adds_up_the_stored_states_and_follows_each_write(
    scenario,  # noqa: F811
    client_for,
    monkeypatch,
):
    """Decision 0020: today's analysis reads one stored state per agreement — no commitment,
    reading or promise is read once the states are fresh — and equals the live computation,
    before and after a write."""
    bureau = scenario
    client = client_for(bureau.chief)
    _page(client)  # the first read stores the five agreements' states
    with CaptureQueriesContext(connection) as ctx:
        page = _page(client)
    read = " ".join(query["sql"] for query in ctx.captured_queries)
    for table in ("agreements_term", "agreements_measurement", "agreements_promise"):
        assert table not in read, table
    assert 'data-table="cohort"' in page
    stored = _texts(agreement_analysis(bureau.chief, unit=None, on=today()))

    def live() -> dict:
        with monkeypatch.context() as patch:
            _computed_live(patch)
            return _texts(agreement_analysis(bureau.chief, unit=None, on=today()))

    assert stored == live()
    # A4 (Shenzhen) keeps its one commitment; a second one due yesterday, unmet, breaks it.
    a4 = Agreement.objects.get(title="A4")
    Book(bureau).term(a4, "jobs", "50", today() - date.resolution)
    after = _texts(agreement_analysis(bureau.chief, unit=None, on=today()))
    assert after != stored
    assert after == live()
    assert after[("unit", "合计")][0] == "0.0%"  # 履约率: none of the five keeps now


def test_today_the_analysis_files_each_state_by_its_projects_unit_and_first_agreement(
    scenario,  # noqa: F811
    client_for,
    monkeypatch,
):
    """Each state carries where the analysis files its agreement — the project's unit and
    签约年度 (the year of the project's first agreement) — so today's grouped read joins no
    project and looks up no sibling; a project moved to another unit, or a sibling agreement
    added, re-dated or deleted, marks the states stale, and the figures still equal live."""
    from promo.agreements.models import AgreementState

    bureau = scenario
    client = client_for(bureau.chief)
    head = client_for(bureau.shanghai_head)
    _page(client)  # the first read stores the states
    # The chief adds up the grains (decision 0026), filed by the states' own unit and cohort:
    # no project joined. A unit head groups his scope's states by the same columns.
    read: dict[str, list[str]] = {}
    for reader, marker in ((client, "agreements_agreementstategrain"), (head, "group_key")):
        with CaptureQueriesContext(connection) as ctx:
            _page(reader)
        read[marker] = [q["sql"] for q in ctx.captured_queries if marker in q["sql"]]
        assert read[marker], marker
    assert not [sql for sql in read["agreements_agreementstategrain"] if "projects_project" in sql]
    assert '"agreements_agreementstate"."project_unit"' in read["group_key"][0]

    def stored() -> dict:
        return _texts(agreement_analysis(bureau.chief, unit=None, on=today()))

    def live() -> dict:
        with monkeypatch.context() as patch:
            _computed_live(patch)
            return _texts(agreement_analysis(bureau.chief, unit=None, on=today()))

    def filed(agreement) -> tuple:
        state = AgreementState.objects.get(agreement=agreement)
        return state.on_day, state.project_unit, state.cohort

    a3, a4 = Agreement.objects.get(title="A3"), Agreement.objects.get(title="A4")
    seen = [stored()]
    assert seen[-1] == live()
    assert filed(a3) == (today(), bureau.shenzhen.pk, Y1)
    # A data fix in SQL moves A3's project from Shenzhen to Shanghai.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_project SET unit_id = %s WHERE id = %s",
            [bureau.shanghai.pk, a3.project_id],
        )
    assert filed(a3)[0] is None
    seen.append(stored())
    assert seen[-1] == live() != seen[-2]
    assert filed(a3) == (today(), bureau.shanghai.pk, Y1)
    # A framework agreement for A4's project, signed the year before: A4 moves to that cohort.
    # (Written past the services, which log every agreement in an append-only log: the SQL
    # delete below is then possible, as a data fix would do it.)
    earlier = Agreement.objects.create(
        project=a4.project,
        kind="main",
        title="A4 框架协议",
        signed_on=date(Y1 - 1, 5, 1),
        created_by=bureau.outsider,
    )
    assert filed(a4)[0] is None
    seen.append(stored())
    assert seen[-1] == live() != seen[-2]
    assert filed(a4) == (today(), bureau.shenzhen.pk, Y1 - 1)
    assert filed(earlier) == (today(), bureau.shenzhen.pk, Y1 - 1)
    # Re-dated in SQL to after A4: A4 is its project's first agreement again.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agreements_agreement SET signed_on = %s WHERE id = %s",
            [date(Y1, 12, 1), earlier.pk],
        )
    assert filed(a4)[0] is None
    seen.append(stored())
    assert seen[-1] == live()
    assert filed(a4) == (today(), bureau.shenzhen.pk, Y1)
    # Moved back a year, then deleted in SQL: A4 back in Y1 and the figures as before.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE agreements_agreement SET signed_on = %s WHERE id = %s",
            [date(Y1 - 1, 5, 1), earlier.pk],
        )
    assert stored() == live()
    assert filed(a4)[2] == Y1 - 1
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_agreement WHERE id = %s", [earlier.pk])
    assert filed(a4)[0] is None
    seen.append(stored())
    assert seen[-1] == live() == seen[1]
    assert filed(a4) == (today(), bureau.shenzhen.pk, Y1)
