"""The API's filter backend binds only the filters a request names (issue #19, the API lists'
cost), with the same rows and errors as django-filter's, which binds them all."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from leads.choices import LeadStatus
from leads.filters import LeadFilter, VisitFilter
from leads.models import Lead, Visit
from promo.api.filters import NamedFiltersBackend, filter_params, filter_query_params
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def _api_filtersets() -> dict[str, type]:
    """Every FilterSet class an API list filters with, by name (walked from the URLs)."""
    found: dict[str, type] = {}

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None)
                filterset_class = getattr(view, "filterset_class", None)
                if filterset_class is not None and getattr(view, "filter_backends", None):
                    found[filterset_class.__name__] = filterset_class

    walk(get_resolver().url_patterns)
    return found


API_FILTERSETS = _api_filtersets()


class _View:
    def __init__(self, filterset_class) -> None:
        self.filterset_class = filterset_class


def _request(officer, query: str) -> Request:
    request = Request(APIRequestFactory().get(f"/api/v1/x/?{query}"))
    request.user = officer
    return request


def test_every_api_filterset_is_walked():
    # The walk finds the API's lists (a check on the test's own reach).
    assert {"LeadFilter", "VisitFilter", "ProjectFilter", "AgreementFilter"} <= set(API_FILTERSETS)


@pytest.mark.parametrize("name", sorted(API_FILTERSETS))
def test_a_filter_not_named_changes_no_row(bureau, name):
    """The rule the backend rests on: bound to no parameter, each API FilterSet with every
    filter leaves its rows as they were — the same SQL as the unfiltered queryset."""
    filterset_class = API_FILTERSETS[name]
    queryset = filterset_class._meta.model._default_manager.all()
    request = _request(bureau.chief, "")
    filterset = filterset_class(data=QueryDict(""), queryset=queryset, request=request)
    assert len(filterset.filters) == len(filterset_class.base_filters) > 0
    assert filterset.is_valid(), filterset.errors
    assert str(filterset.qs.query) == str(queryset.query)


def test_only_the_named_filters_are_bound(bureau):
    backend = NamedFiltersBackend()
    leads = Lead.objects.all()
    bound = backend.get_filterset(
        _request(bureau.chief, "status=negotiating&amount_min=10"), leads, _View(LeadFilter)
    )
    assert set(bound.filters) == {"status", "amount_min"}
    assert len(LeadFilter.base_filters) > 20
    # A range filter is named by either of its pair.
    visits = backend.get_filterset(
        _request(bureau.chief, "visited_on_before=2026-01-01"),
        Visit.objects.all(),
        _View(VisitFilter),
    )
    assert set(visits.filters) == {"visited_on"}
    nothing = backend.get_filterset(_request(bureau.chief, ""), leads, _View(LeadFilter))
    assert nothing.filters == {}
    # The parameters of the filters are those the API lists accept.
    assert filter_query_params(LeadFilter) == frozenset().union(*filter_params(LeadFilter).values())
    assert filter_params(VisitFilter)["visited_on"] == {"visited_on_after", "visited_on_before"}


@pytest.mark.parametrize(
    "query",
    [
        "status=negotiating",
        "status=negotiating&status=valid&amount_min=100",
        "unit={unit}&without_subunits=true",
        "unit={unit}",
        "entered=valid&entered_from=2020-01-01",
        "",
    ],
)
def test_the_same_rows_as_binding_every_filter(bureau, query):
    for status, amount in ((LeadStatus.NEGOTIATING, 50), (LeadStatus.VALID, 500)):
        make_lead(bureau.shanghai_officer, status=status, amount=amount)
        make_lead(bureau.sub_unit_officer, status=status, amount=amount)
    query = query.format(unit=bureau.shanghai.pk)
    leads = Lead.objects.order_by("pk")
    every = DjangoFilterBackend().filter_queryset(
        _request(bureau.chief, query), leads, _View(LeadFilter)
    )
    named = NamedFiltersBackend().filter_queryset(
        _request(bureau.chief, query), leads, _View(LeadFilter)
    )
    assert list(named.values_list("pk", flat=True)) == list(every.values_list("pk", flat=True))
    assert str(named.query) == str(every.query)


def test_a_bad_value_of_a_named_filter_is_still_a_400(bureau, client_for):
    response = client_for(bureau.chief).get("/api/v1/leads/", {"amount_min": "many"})
    assert response.status_code == 400
    assert "amount_min" in str(response.json())


def test_the_browsable_api_form_shows_every_filter(bureau, client_for):
    response = client_for(bureau.chief).get(
        "/api/v1/leads/", {"status": "negotiating"}, HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 200
    page = response.content.decode()
    # Filters the query does not name are still in the form.
    assert 'name="industry"' in page and 'name="amount_min"' in page
