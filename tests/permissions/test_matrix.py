"""The generated permission matrix (issue #13): every route of the URLconf and every operation
of the OpenAPI schema, × every role (officers of unit A and B, a 协办 from B on A's records,
unit head, department user, chief, the system, security and audit administrators (三员分立),
read-only and read-write API clients, anonymous), × a record of unit A and one of unit B.

Each case is allowed or refused exactly as the named predicates and visibility selectors say
(tests/permissions/table.py); a refused write leaves every table as it was, and no page or
API answer names a record its caller may not see. A route or operation without an entry
fails the run, so a new endpoint cannot ship unclassified.
"""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import path
from drf_spectacular.generators import SchemaGenerator

from . import runner
from .runner import Baseline, generated_schema, is_admin_route, is_api_route, run_case
from .table import ADMIN, API, WEB
from .world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def world_built(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """One world for the module, built inside a transaction rolled back after its last test;
    each test's transaction nests in it, and each case runs in a savepoint of its own that is
    rolled back too, so every case starts from the same world."""
    from django.conf import settings

    cache = {**settings.CACHES["default"], "KEY_PREFIX": f"matrix-{uuid.uuid4().hex}"}
    overrides = override_settings(
        MEDIA_ROOT=tmp_path_factory.mktemp("media"),
        CACHES={"default": cache},
        PROMO_DASHBOARD_CACHE_SECONDS=0,
    )
    overrides.enable()
    # The schema page is classified like any page, but generating the schema takes seconds:
    # served from the one generated for the table (its content is tests/api/test_schema_api's).
    schema = mock.patch.object(
        SchemaGenerator, "get_schema", lambda self, request=None, public=False: generated_schema()
    )
    schema.start()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
            for persona in built.personas:  # signed in once: sessions are part of the world
                persona.client(api=False)
                persona.client(api=True)
            built.baseline = Baseline()
        except BaseException:
            outer.__exit__(*sys.exc_info())
            overrides.disable()
            schema.stop()
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
    overrides.disable()
    schema.stop()


@pytest.fixture
def world(world_built, db) -> World:
    return world_built


ROUTES = runner.url_routes()
OPERATIONS = runner.schema_operations()


def unclassified(routes, operations) -> list[str]:
    """Routes and operations without an entry in the table (the admin is one group)."""
    missing = []
    for route, pattern in routes:
        if is_admin_route(route):
            continue
        if is_api_route(route):
            api_path = runner.schema_path(route)
            actions = getattr(pattern.callback, "actions", {}) or {}
            for method in actions:
                # DRF adds "head" beside "get" to a viewset's actions at its first request.
                if method in ("head", "options"):
                    continue
                if (method, api_path) not in operations:
                    missing.append(
                        f"{method.upper()} {api_path} (route {route}: not in the schema)"
                    )
            continue
        if route not in WEB:
            missing.append(f"route {route!r} ({pattern.name})")
    for method, api_path in operations:
        if (method, api_path) not in API:
            missing.append(f"operation {method.upper()} {api_path}")
    return missing


def test_every_route_and_operation_is_classified():
    assert unclassified(ROUTES, OPERATIONS) == []
    assert any(is_admin_route(route) for route, _ in ROUTES)


def test_a_new_route_or_operation_without_an_entry_fails_the_check():
    def new_view(request):  # pragma: no cover - never called
        raise AssertionError

    made_up = path("leads/<int:pk>/bonus/", new_view, name="lead_bonus")
    routes = [*ROUTES, ("leads/<int:pk>/bonus/", made_up)]
    operations = {**OPERATIONS, ("post", "/api/v1/leads/{id}/bonus/"): {}}
    assert unclassified(routes, operations) == [
        "route 'leads/<int:pk>/bonus/' (lead_bonus)",
        "operation POST /api/v1/leads/{id}/bonus/",
    ]


def test_the_table_names_no_route_or_operation_that_does_not_exist():
    routes = {route for route, _ in ROUTES}
    assert sorted(set(WEB) - routes) == []
    assert sorted({route for route, _cases in ADMIN.values()} - routes) == []
    assert sorted(set(API) - set(OPERATIONS)) == []


# --- the matrix --------------------------------------------------------------------------------

# Routes of the pages served by DRF (token authentication applies there too).
DRF_PAGES = {"api/schema/", "api/docs/", "api/"}


def _entries():
    for route, cases in WEB.items():
        yield route, route, cases, route in DRF_PAGES
    for (method, api_path), cases in API.items():
        yield f"{method.upper()} {api_path}", api_path, cases, True
    for name, (route, cases) in ADMIN.items():
        yield f"admin: {name}", route, cases, False


ENTRIES = list(_entries())


def matrix_size(personas: int) -> Counter:
    size: Counter = Counter()
    for _key, _route, cases, api in ENTRIES:
        for case in cases:
            kind = "api" if api else "web"
            size[f"{kind} {'reads' if case.method == 'GET' else 'writes'}"] += (
                len(case.records) * personas
            )
    return size


@pytest.mark.parametrize(("key", "route", "cases", "api"), ENTRIES, ids=[e[0] for e in ENTRIES])
def test_matrix(world, key, route, cases, api):
    results = [
        run_case(
            world,
            world.baseline,
            key=key,
            case=case,
            persona=persona,
            record_name=record,
            api=api,
            route=route,
        )
        for case in cases
        for record in case.records
        for persona in world.personas
    ]
    wrong = [r.line() for r in results if r.problem]
    assert not wrong, "\n".join(wrong)


def test_matrix_size(world, capsys):
    size = matrix_size(len(world.personas))
    total = sum(size.values())
    with capsys.disabled():
        print(
            f"\npermission matrix: {total} cases "
            f"({', '.join(f'{n} {kind}' for kind, n in sorted(size.items()))}) over "
            f"{len(WEB)} page routes, {len(API)} API operations and {len(ADMIN)} admin "
            f"checks × {len(world.personas)} callers"
        )
    # Every entry is tried by every caller on each of its records: a shrinking matrix (a
    # caller or a record dropped) shows here.
    assert len(world.personas) == 13
    assert total >= 3000


def test_the_investor_lookups_first_try_is_a_subset_of_what_each_caller_sees(world):
    """The API's investor field asks ``investors_of_own_units`` first and takes what it
    finds: for every caller of the matrix that set lies inside ``investors_visible_to``."""
    from leads.models import Investor
    from leads.selectors import investors_of_own_units, investors_visible_to

    strictly_wider = 0
    for persona in world.personas:
        if persona.officer is None:
            continue
        quick = set(investors_of_own_units(persona.officer).values_list("pk", flat=True))
        seen = set(investors_visible_to(persona.officer).values_list("pk", flat=True))
        assert quick <= seen, persona.name
        strictly_wider += bool(seen - quick)
    assert Investor.objects.exists()
    # Not vacuous: somebody sees an investor only through a lead or a visit (the second ask).
    assert strictly_wider
