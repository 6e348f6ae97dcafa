"""List endpoints read with values() (promo.api.rows) give exactly what the serializer gives.

The leads, visits and projects lists build their rows from columns, not model instances. On
seeded data (the bulk benchmark bureau at a small factor, plus records with every optional part
set or empty), every row of the list must equal the read serializer's rendering of the same
record: same keys in the same order, same values, for the whole list, a ?fields= subset, another
sort order and a cursor walk.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from leads.api.serializers import LeadSerializer, VisitSerializer
from leads.api.views import LeadViewSet, VisitViewSet
from leads.choices import LeadStatus
from leads.models import Intermediary, Lead, PromotionEvent, Visit
from leads.services import assignment_add, visit_log
from officers.choices import AssignmentRole, Role
from officers.models import Officer, Unit
from projects.api.serializers import ProjectSerializer
from projects.api.views import ProjectViewSet
from projects.choices import SizeClass, Stage
from projects.models import Project
from projects.services import (
    progress_record,
    project_advance,
    project_assignment_add,
    project_create,
)
from promo.agreements import services as agreement_services
from promo.agreements.api.serializers import AgreementSerializer
from promo.agreements.api.views import AgreementViewSet
from promo.agreements.models import Agreement, Measurement
from promo.api.rows import RowPlan
from promo.core.choices import Industry
from promo.core.services import today
from tests.factories import (
    make_bureau,
    make_lead,
    make_officer,
    make_project,
    sign_lead,
    stage_evidence,
)

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "leads": (LeadViewSet, LeadSerializer, Lead),
    "visits": (VisitViewSet, VisitSerializer, Visit),
    "projects": (ProjectViewSet, ProjectSerializer, Project),
    "agreements": (AgreementViewSet, AgreementSerializer, Agreement),
}


@pytest.fixture
def seeded():
    """The bulk bureau at 1/500 of county scale, and a bureau with every optional part."""
    call_command("seed_demo", scale="county", factor=0.002, stdout=StringIO())
    bureau = make_bureau()
    officer = bureau.shanghai_officer
    # Names built every way display_name allows: 姓名, first + last, the login alone.
    named = make_officer(bureau.shanghai, username="zhangwei")
    named.full_name, named.first_name, named.last_name = "", "Wei", "Zhang"
    named.save()
    bare = make_officer(bureau.shanghai, username="liu")
    bare.full_name = ""
    bare.save()
    event = PromotionEvent.objects.create(
        name="香港推介会", city="香港", starts_on=today(), ends_on=today(), organizer=bureau.bureau
    )
    intermediary = Intermediary.objects.create(name="王顾问", kind="person", unit=bureau.shanghai)
    plain = make_lead(officer)
    rich = make_lead(officer, status=LeadStatus.NEGOTIATING)
    Lead.objects.filter(pk=rich.pk).update(intermediary=intermediary, event=event)
    assignment_add(actor=officer, lead=rich, officer=named, role=AssignmentRole.ASSISTING)
    assignment_add(actor=officer, lead=rich, officer=bare, role=AssignmentRole.ASSISTING)
    sign_lead(officer, make_lead(officer, status=LeadStatus.NEGOTIATING))
    visit_log(
        actor=officer,
        kind="visit",
        visited_on=today(),
        investor=rich.investor,
        lead=rich,
        event=event,
        summary="拜访",
        next_step="再访",
        next_step_due=today(),
        officers=[named, bare, bureau.teammate],
    )
    visit_log(
        actor=officer, kind="reception", visited_on=today(), investor=plain.investor, summary="接待"
    )
    # Projects: milestones planned and reached, or not; monthly progress reported by officers
    # named every way, some months apart; one entered without a lead, one without a total (no
    # completion rate).
    start = today() - timedelta(days=100)
    built = project_create(
        actor=officer,
        investor=plain.investor,
        name="直接登记项目",
        industry=Industry.ELECTRONICS,
        contract_date=start,
        total_investment=Decimal("15000.50"),
        groundbreaking_planned=start + timedelta(days=20),
        completed_planned=today() + timedelta(days=30),
        producing_planned=today() + timedelta(days=90),
    )
    project_advance(
        project=built,
        actor=officer,
        to_stage=Stage.GROUNDBREAKING,
        actual_date=start + timedelta(days=25),
        evidence=stage_evidence(Stage.GROUNDBREAKING),
    )
    project_assignment_add(
        actor=officer, project=built, officer=bare, role=AssignmentRole.ASSISTING
    )
    project_assignment_add(
        actor=officer, project=built, officer=named, role=AssignmentRole.ASSISTING
    )
    for reporter, month, paid in [
        (officer, start, "100"),
        (bare, today(), "2500.75"),
        (named, start + timedelta(days=40), "1200"),
    ]:
        progress_record(
            project=built,
            actor=reporter,
            month=month,
            agreed_investment=Decimal("15000.50"),
            paid_in=Decimal(paid),
            fixed_asset_investment=Decimal(paid) / 2,
            arrived_fdi=Decimal("12.30"),
            note=f"{reporter.username} 填报",
        )
    empty = make_project(officer)
    progress_record(
        project=empty,
        actor=bare,
        month=today(),
        agreed_investment=0,
        paid_in=0,
        fixed_asset_investment=0,
    )
    Project.objects.filter(pk=empty.pk).update(
        total_investment=0, signed_investment=0, size_class=SizeClass.SMALL
    )
    return bureau


def _rendered(serializer_class, instance, request) -> dict:
    """The serializer's output for one record, as the JSON the API would send the caller
    (``allowed_transitions`` and ``allowed_stages`` say what *they* may do)."""
    context = {"request": request}
    return json.loads(JSONRenderer().render(serializer_class(instance, context=context).data))


def _expected(resource: str, officer: Officer, ids: list[int]) -> list[dict]:
    """Each id rendered by the serializer from the view's own instance queryset."""
    viewset, serializer_class, _model = ENDPOINTS[resource]
    view = viewset()
    view.action = "retrieve"  # the instances a single record is rendered from
    view.request = Request(APIRequestFactory().get("/"))
    view.request.user = officer
    by_id = {obj.pk: obj for obj in view.visible().filter(pk__in=ids)}
    return [_rendered(serializer_class, by_id[pk], view.request) for pk in ids]


def _walk(client: APIClient, url: str) -> list[dict]:
    rows: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        rows.extend(body["results"])
        url = body["next"]
    return rows


def _officers(bureau) -> list[Officer]:
    chief = Officer.objects.filter(role=Role.CHIEF, unit__parent__isnull=True).first()
    return [bureau.chief, bureau.shanghai_head, bureau.shanghai_officer, bureau.teammate, chief]


@pytest.mark.parametrize("resource", ["leads", "visits", "projects"])
def test_every_row_equals_the_serializer(seeded, resource):
    _viewset, _serializer, model = ENDPOINTS[resource]
    # The bulk seed ran: the walk below has pages to cross (15 projects, 40 and more leads).
    assert model.objects.count() > 2 * 7
    for officer in _officers(seeded):
        client = APIClient()
        client.force_login(officer)
        # Small pages: the next links are built from the last row's columns.
        rows = _walk(client, f"/api/v1/{resource}/?page_size=7")
        assert rows, officer
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids))
        expected = _expected(resource, officer, ids)
        for got, want in zip(rows, expected, strict=True):
            assert list(got) == list(want)  # same fields, same order
            assert got == want, (resource, officer.username, got["id"])


@pytest.mark.parametrize(
    ("resource", "query"),
    [
        ("leads", "fields=assignments,id,created_by,project,intermediary"),
        ("leads", "ordering=-estimated_amount&page_size=500"),
        ("leads", "ordering=-created_at&page_size=9"),
        ("leads", "ordering=name&status=negotiating&page_size=500"),
        ("leads", "updated_after=2000-01-01T00:00:00Z&page_size=11"),
        ("visits", "fields=officers,event,visited_on,id"),
        ("visits", "ordering=visited_on&page_size=500"),
        ("visits", "kind=visit&ordering=-updated_at&page_size=500"),
        ("projects", "fields=id,stages,progress,assignments,completion_rate"),
        ("projects", "fields=lead,allowed_stages,id&ordering=contract_date&page_size=500"),
        ("projects", "ordering=-total_investment&page_size=500"),
        ("projects", "ordering=updated_at&page_size=8"),
        ("projects", "stage=groundbreaking&ordering=name&page_size=500"),
    ],
)
def test_subsets_and_orders_equal_the_serializer(seeded, resource, query):
    client = APIClient()
    client.force_login(seeded.chief)
    rows = _walk(client, f"/api/v1/{resource}/?{query}")
    assert rows
    expected = _expected(resource, seeded.chief, [row["id"] for row in rows])
    wanted = None
    for part in query.split("&"):
        if part.startswith("fields="):
            wanted = part.removeprefix("fields=").split(",")
    for got, want in zip(rows, expected, strict=True):
        if wanted is not None:
            want = {name: value for name, value in want.items() if name in wanted}
        assert got == want
        assert list(got) == list(want)


def test_every_agreement_row_equals_the_serializer_nested_parts_included():
    """The demo bureau's agreements are in every state (measured values verified or not,
    promises with conditions, paid, withheld and clawed back, requests decided or pending):
    each list row, its commitments, measured values, promises and requests, equals the
    serializer's rendering, for the chief and for an officer, whole and by ?fields=."""
    call_command("seed_demo", stdout=StringIO())
    chief = Officer.objects.filter(role=Role.CHIEF, unit__parent__isnull=True).first()
    # A commitment measured twice, the later entry dated earlier: the values come in date order.
    measured = Measurement.objects.select_related("term", "recorded_by").order_by("id").first()
    agreement_services.measurement_record(
        term=measured.term,
        actor=measured.recorded_by,
        measured_on=measured.measured_on - timedelta(days=30),
        value=Decimal("1.50"),
        source="统计部门",
    )
    officer = (
        Officer.objects.filter(role=Role.OFFICER, assignments__project__agreements__isnull=False)
        .distinct()
        .first()
    )
    for who in (chief, officer):
        client = APIClient()
        client.force_login(who)
        rows = _walk(client, "/api/v1/agreements/?page_size=4")
        assert rows, who
        expected = _expected("agreements", who, [row["id"] for row in rows])
        for got, want in zip(rows, expected, strict=True):
            assert list(got) == list(want)
            assert got == want, (who.username, got["id"])
    # The chief's walk crossed every part the nested plans read.
    client = APIClient()
    client.force_login(chief)
    rows = _walk(client, "/api/v1/agreements/?page_size=4&fields=id,terms,promises,requests")
    assert all(list(row) == ["id", "terms", "promises", "requests"] for row in rows)
    assert any(len(term["measurements"]) == 2 for row in rows for term in row["terms"])
    measured = [m for row in rows for term in row["terms"] for m in term["measurements"]]
    assert {m["verified_by"] is None for m in measured} == {True, False}
    promises = [promise for row in rows for promise in row["promises"]]
    assert any(promise["conditions"] for promise in promises)
    assert any(promise["clawback_due"] for promise in promises)
    requests = [request for row in rows for request in row["requests"]]
    assert {request["decided_by"] is None for request in requests} == {True, False}


def test_the_rich_records_carry_every_part(seeded):
    """The edge cases are really in the lists: names built three ways, references by id."""
    client = APIClient()
    client.force_login(seeded.shanghai_officer)
    leads = _walk(client, "/api/v1/leads/?fields=id,intermediary,event,assignments,project")
    rich = next(row for row in leads if row["intermediary"] is not None)
    assert rich["intermediary"]["name"] == "王顾问"
    assert rich["event"]["name"] == "香港推介会"
    names = [a["officer"]["name"] for a in rich["assignments"]]
    assert "Wei Zhang" in names
    assert "liu" in names
    assert any(row["project"] is not None for row in leads)
    visits = _walk(client, "/api/v1/visits/?fields=id,officers,event")
    assert any(len(row["officers"]) == 4 and row["event"] for row in visits)
    projects = _walk(client, "/api/v1/projects/?fields=id,lead,completion_rate,stages,progress")
    built = next(row for row in projects if len(row["progress"]) == 3)
    assert [row["month"] for row in built["progress"]] == sorted(
        (row["month"] for row in built["progress"]), reverse=True
    )
    assert {row["reported_by"]["name"] for row in built["progress"]} >= {"liu", "Wei Zhang"}
    assert built["stages"][1]["actual"] is not None
    assert built["stages"][2]["actual"] is None
    assert any(row["lead"] is None for row in projects)
    assert any(row["lead"] is not None for row in projects)
    assert any(row["completion_rate"] is None for row in projects)


def test_a_project_reads_the_same_in_the_list_and_alone(seeded):
    """The detail view (the serializer itself) takes the same ?fields=, progress included."""
    client = APIClient()
    client.force_login(seeded.chief)
    query = "fields=id,lead,stages,progress,assignments,completion_rate"
    for row in _walk(client, f"/api/v1/projects/?{query}"):
        response = client.get(f"/api/v1/projects/{row['id']}/?{query}")
        assert response.status_code == 200, response.content
        assert response.json() == row


def test_unknown_field_is_a_400(seeded):
    client = APIClient()
    client.force_login(seeded.chief)
    response = client.get("/api/v1/leads/?fields=id,nonsense")
    assert response.status_code == 400
    assert "nonsense" in json.dumps(response.json(), ensure_ascii=False)


def test_a_field_without_a_plan_is_refused_at_once():
    """A method field the plan cannot read is a configuration error, not a silent null."""
    from django.core.exceptions import ImproperlyConfigured
    from rest_framework import serializers

    class Bare(serializers.ModelSerializer):
        extra = serializers.SerializerMethodField()

        class Meta:
            model = Unit
            fields = ["id", "extra"]

        def get_extra(self, unit):
            return 1

    with pytest.raises(ImproperlyConfigured):
        RowPlan.of(Bare, ())


def test_a_to_many_key_field_is_refused_and_a_single_key_is_read():
    from django.core.exceptions import ImproperlyConfigured
    from rest_framework import serializers

    from leads.models import PromotionEvent

    class Many(serializers.ModelSerializer):
        investors = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

        class Meta:
            model = PromotionEvent
            fields = ["id", "investors"]

    with pytest.raises(ImproperlyConfigured):
        RowPlan.of(Many, ())

    class Single(serializers.ModelSerializer):
        organizer = serializers.PrimaryKeyRelatedField(read_only=True)

        class Meta:
            model = PromotionEvent
            fields = ["id", "organizer"]

    plan = RowPlan.of(Single, ())
    assert plan.columns(["id", "organizer"]) == ["id", "organizer_id"]
    assert plan.render([{"id": 1, "organizer_id": 7}], ["id", "organizer"]) == [
        {"id": 1, "organizer": 7}
    ]


@pytest.mark.parametrize(
    "options",
    [
        {"max_digits": 14, "decimal_places": 2},
        {"max_digits": 4, "decimal_places": 2},
        {"max_digits": None, "decimal_places": 6},
        {"max_digits": 14, "decimal_places": 2, "coerce_to_string": False},
        {"max_digits": 14, "decimal_places": 2, "normalize_output": True},
        {"max_digits": 14, "decimal_places": 0},
    ],
)
def test_a_decimal_column_is_written_as_drf_writes_it(options):
    """The plan's decimal converter skips DRF's quantize only where it changes nothing: the
    same output for amounts at the field's places, and DRF's own for every other value."""
    from decimal import InvalidOperation

    from rest_framework import serializers

    from promo.api.rows import _converter

    field = serializers.DecimalField(**options)
    convert = _converter(field)
    values = [
        Decimal("0.00"), Decimal("-0.00"), Decimal("1234.50"), Decimal("99.99"),
        Decimal("999999999999.99"), Decimal("1.5"), Decimal("1.005"), Decimal("7"),
        Decimal("1E+3"), Decimal("0.000001"), Decimal("-12.345678"), 3, 2.5, "4.20",
    ]  # fmt: skip
    for value in values:
        try:
            want = field.to_representation(value)
        except InvalidOperation:  # more digits than the field holds: DRF's error, unchanged
            with pytest.raises(InvalidOperation):
                convert(value)
            continue
        got = convert(value)
        assert (type(got), got) == (type(want), want), (options, value)


def test_the_built_rows_equal_the_fields_read_one_by_one():
    """The function a plan builds for a set of fields (one dict display per row) gives what
    each field's own reading gives: columns converted or not, nulls, references joined or
    read by id, computed fields and batches with their missing rows."""
    from rest_framework import serializers

    from promo.api.rows import FromBatch, FromColumns
    from promo.api.serializers import RefSerializer

    class Sample(serializers.ModelSerializer):
        parent = RefSerializer(read_only=True)
        level = serializers.IntegerField()
        created_at = serializers.DateTimeField(read_only=True)
        doubled = serializers.SerializerMethodField()
        children = serializers.SerializerMethodField()

        list_rows = {
            "doubled": FromColumns(("level",), lambda row: row["level"] * 2),
            "children": FromBatch(
                lambda keys: {key: [key * 10] for key in keys if key % 2}, missing=list
            ),
        }

        class Meta:
            model = Unit
            fields = ["id", "name", "parent", "level", "created_at", "doubled", "children"]

    plan = RowPlan.of(Sample, ())
    columns = plan.columns(plan.names)
    assert columns[:2] == ["id", "name"] and "parent__name" in columns
    from datetime import UTC, datetime

    when = datetime(2026, 12, 4, 18, 30, 5, 123456, tzinfo=UTC)
    rows = [
        {"id": 1, "name": "局", "parent_id": None, "parent__name": None, "level": 0,
         "created_at": when},
        {"id": 2, "name": "上海", "parent_id": 1, "parent__name": "局", "level": 1,
         "created_at": None},
    ]  # fmt: skip
    serializer = Sample()
    want = [
        {
            "id": row["id"],
            "name": row["name"],
            "parent": None if row["parent_id"] is None else {"id": 1, "name": "局"},
            "level": row["level"],
            "created_at": None
            if row["created_at"] is None
            else serializer.fields["created_at"].to_representation(row["created_at"]),
            "doubled": row["level"] * 2,
            "children": [row["id"] * 10] if row["id"] % 2 else [],
        }
        for row in rows
    ]
    assert plan.render(rows, plan.names) == want
    # Another set of fields, another order: its own function, the dicts in that order.
    got = plan.render(rows, ["children", "id"])
    assert [list(row) for row in got] == [["children", "id"]] * 2
    assert got == [{"children": [10], "id": 1}, {"children": [], "id": 2}]


def test_among_reads_what_values_reads_and_compiles_once_per_set_of_columns(monkeypatch):
    """``Among`` gives the rows ``filter(field in keys).values(*columns)`` gives — in the
    queryset's order, with the compiler's converters (a decimal computed by an expression,
    the statuses' CASE) — for any keys, none included, and compiles its statement once per
    set of columns however many pages read it."""
    from django.db.models.sql.compiler import SQLCompiler

    from promo.agreements.models import Term
    from promo.agreements.selectors import terms_with_status
    from promo.api.rows import Among

    call_command("seed_demo", stdout=StringIO())
    terms = terms_with_status(Term.objects.order_by("due_on", "id"), today())
    among = Among(terms, "agreement_id")
    columns = ["id", "agreement_id", "metric", "target", "due_on", "status", "due_value"]
    agreement_ids = list(Agreement.objects.order_by("id").values_list("id", flat=True))
    assert len(agreement_ids) > 4
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        if not self.query.subquery:  # a statement, not one of its sub-queries
            compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    for keys in (agreement_ids[:2], agreement_ids[2:], agreement_ids[::2], [agreement_ids[0]]):
        got = among.values(keys, columns)
        want = list(terms.filter(agreement_id__in=keys).values(*columns))
        assert got, keys
        assert got == want
        assert [list(row) for row in got] == [list(row) for row in want]
        assert {type(row["due_value"]) for row in got} <= {Decimal, type(None)}
    assert among.values([], columns) == []
    # Each ``want`` compiled its own statement; ``among`` compiled once, for the first page.
    assert len(compiled) == 4 + 1
    among.values(agreement_ids, ["id", "status"])
    assert len(compiled) == 4 + 2


def test_datetimes_dates_choices_and_big_ids_are_written_without_a_call_per_value(monkeypatch):
    """What a page holds most of — datetimes, dates, choices, big ids: ~3,400 values on a page
    of 50 agreements — the plan's builder writes in its own text, as DRF writes them; DRF's
    ``to_representation`` is called only for a value of another type (a naive datetime, a
    string where a date was expected, an enum member, a number as text), and gives what DRF
    gives. Checked in two time zones: an aware datetime is written in the current one, UTC
    with "Z"."""
    from datetime import UTC, date, datetime
    from datetime import timezone as fixed_zone

    from django.db import models
    from django.utils import timezone
    from rest_framework import serializers

    class Colour(models.TextChoices):
        RED = "red", "红"

    class Kinds(serializers.ModelSerializer):
        when = serializers.DateTimeField()
        day = serializers.DateField()
        colour = serializers.ChoiceField(choices=Colour.choices)
        number = serializers.BigIntegerField()

        class Meta:
            model = Unit
            fields = ["when", "day", "colour", "number"]

    plan = RowPlan.of(Kinds, ())
    plus_eight = fixed_zone(timedelta(hours=8))
    fast = [  # the types written in the builder's text
        {"when": datetime(2026, 12, 4, 18, 30, 5, 123456, tzinfo=UTC), "day": date(2026, 1, 2),
         "colour": "red", "number": 7},
        {"when": datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "day": date(1999, 12, 31),
         "colour": "not-a-choice", "number": 2**62},
        {"when": datetime(2026, 6, 1, 23, 59, 59, 1, tzinfo=plus_eight), "day": None,
         "colour": "", "number": 0},
        {"when": None, "day": date(2026, 12, 7), "colour": None, "number": None},
    ]  # fmt: skip
    other = [  # DRF's own to_representation
        {"when": datetime(2026, 12, 4, 18, 30), "day": "2026-01-02", "colour": Colour.RED,
         "number": "12"},
        {"when": "2026-12-04T18:30:00Z", "day": "not a date", "colour": 3, "number": True},
    ]  # fmt: skip
    field_classes = {
        serializers.DateTimeField, serializers.DateField, serializers.ChoiceField,
        serializers.BigIntegerField,
    }  # fmt: skip
    for zone in ("Asia/Shanghai", "UTC"):
        with timezone.override(zone):
            fields = Kinds().fields
            rows = fast + other
            want = [
                {name: None if row[name] is None else fields[name].to_representation(row[name])
                 for name in plan.names}
                for row in rows
            ]  # fmt: skip
            calls = []
            for cls in field_classes:
                original = cls.to_representation

                def counting(self, value, original=original, calls=calls):
                    calls.append(value)
                    return original(self, value)

                monkeypatch.setattr(cls, "to_representation", counting)
            got = plan.render(rows, plan.names)
            monkeypatch.undo()
            assert got == want, zone
            assert [list(row) for row in got] == [plan.names] * len(rows)
            assert {type(v) for row in got for v in row.values()} <= {str, int, type(None)}
            # Only the values of another type went through DRF: 8, none of the first rows'.
            assert calls == [value for row in other for value in row.values()], zone
    assert want[0]["when"] == "2026-12-04T18:30:05.123456Z"  # UTC, the last zone
    assert want[2]["when"] == "2026-06-01T15:59:59.000001Z"
