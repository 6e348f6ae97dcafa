"""Running the permission matrix: enumerate, request, and say whether anything was written.

"Nothing written" is decided by PostgreSQL itself: ``pg_stat_xact_user_tables`` counts every
row inserted, updated or deleted in the current transaction, table by table (rolled-back
savepoints included), so one cheap query before and after a request names the tables it
touched; only those are then compared, row by row (an md5 over each table's rows), with their
state before the matrix ran. A write that a refusal rolled back leaves the table as it was
and does not count; a refused request that left any row changed does. Sessions are not data
(signing in, messages), so ``django_session`` is left out; nor is the audit trail
(``audit_auditentry`` and its head row ``audit_chainhead``), which records every API call,
every denial and the audit page's own reads by design (tests/audit/ checks what it records).
Nor are ``agreements_agreementstate``, the statuses stored beside it
(``agreements_agreementstatuses``) and the states added up by its triggers
(``agreements_agreementstategrain``): derived rows, no record of anyone's, which a read of the
协议履约 figures recomputes when stale by design (decisions 0020 and 0026;
tests/agreements/test_agreement_states.py and test_state_grains.py check them against the
live computation).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver

from .table import ALLOW, DENY, NOOP, RULE, Case, Ctx, Outcome, expand_today

IGNORED_TABLES = frozenset(
    {
        "django_session",
        "audit_auditentry",
        "audit_chainhead",
        "agreements_agreementstate",
        "agreements_agreementstatuses",
        "agreements_agreementstategrain",
    }
)
REFUSED = frozenset({401, 403, 404, 405})


# --- what exists: routes of the URLconf and operations of the schema --------------------------


def url_routes(patterns: Any = None, prefix: str = "") -> list[tuple[str, Any]]:
    """Every route of the URLconf as ``(route, pattern)``, routes of includes joined."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            routes += url_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.append((prefix + str(pattern.pattern), pattern))
    return routes


@functools.cache
def generated_schema() -> dict:
    """The OpenAPI schema drf-spectacular generates from the code (once: it takes seconds)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def schema_operations() -> dict[tuple[str, str], dict]:
    """The operations of the OpenAPI schema."""
    schema = generated_schema()
    return {
        (method, path): operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def schema_path(route: str) -> str:
    """``api/v1/^leads/(?P<pk>[^/.]+)/sign/$`` → ``/api/v1/leads/{id}/sign/``."""
    path = route.replace("^", "").replace("$", "")
    path = _GROUP.sub(lambda m: "{" + ("id" if m.group(1) == "pk" else m.group(1)) + "}", path)
    return "/" + path


def is_api_route(route: str) -> bool:
    return route.startswith("api/v1/")


def is_admin_route(route: str) -> bool:
    return route.startswith("admin/")


# --- building a request ----------------------------------------------------------------------

_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _value(value: Any, world: Any, record: Any) -> Any:
    return value(world, record) if callable(value) else value


def web_url(route: str, case: Case, world: Any, record: Any) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name in ("pk", "id", "object_id") and name not in case.kwargs:
            return str(record.pk)
        return str(_value(case.kwargs[name], world, record))

    return "/" + _CONVERTER.sub(fill, route)


def api_url(path: str, case: Case, world: Any, record: Any) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name == "id":
            return str(record.pk)
        return str(_value(case.kwargs[name], world, record))

    return re.sub(r"\{(\w+)\}", fill, path)


# --- what the database says --------------------------------------------------------------------


def _quoted(table: str) -> str:
    return connection.ops.quote_name(table)


def table_digest(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), md5(coalesce(string_agg(md5(t::text), ',' ORDER BY md5(t::text)),"
            f" '')) FROM {_quoted(table)} AS t"
        )
        count, digest = cursor.fetchone()
    return f"{count}:{digest}"


class Baseline:
    """Every table's content before the matrix, to compare the tables a case touched with."""

    def __init__(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.oid, c.relname FROM pg_class AS c"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')"
                " ORDER BY c.oid"
            )
            rows = [(oid, name) for oid, name in cursor.fetchall() if name not in IGNORED_TABLES]
        self.tables = [name for _oid, name in rows]
        oids = ",".join(str(oid) for oid, _name in rows)
        # One array of counters, in the order of ``tables``: no catalogue join per case.
        self.counters_sql = (
            "SELECT array_agg(pg_stat_get_xact_tuples_inserted(o)"
            " + pg_stat_get_xact_tuples_updated(o) + pg_stat_get_xact_tuples_deleted(o)"
            f" ORDER BY n) FROM unnest('{{{oids}}}'::oid[]) WITH ORDINALITY AS t(o, n)"
        )
        self.digests = {t: table_digest(t) for t in self.tables}

    def write_counts(self) -> list[int]:
        """Rows inserted, updated or deleted in this transaction so far, per table (rolled
        back savepoints included)."""
        with connection.cursor() as cursor:
            cursor.execute(self.counters_sql)
            return list(cursor.fetchone()[0])

    def changed(self, before: list[int], after: list[int], *, first: bool = False) -> list[str]:
        """The tables written since ``before`` whose content is no longer the baseline's
        (``first``: stop at the first one, when it is enough to know that something was)."""
        found = []
        for table, b, a in zip(self.tables, before, after, strict=True):
            if a != b and table_digest(table) != self.digests[table]:
                found.append(table)
                if first:
                    break
        return found


# --- one case ------------------------------------------------------------------------------


@dataclass
class Result:
    key: str
    label: str
    persona: str
    record: str
    method: str
    url: str
    expected: Outcome
    status: int
    changed: list[str]
    problem: str  # "" when the answer is the expected one

    def line(self) -> str:
        what = f"{self.method} {self.url}" + (f" [{self.label}]" if self.label else "")
        wrote = f" wrote {','.join(self.changed)}" if self.changed else ""
        return (
            f"{self.problem}: {self.persona} on {self.record or '-'}: {what} → "
            f"{self.status}{wrote} (expected {self.expected.value})"
        )


def _to_sign_in(response: Any) -> bool:
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location.startswith((settings.LOGIN_URL, "/admin/login/"))


def judge(case: Case, expected: Outcome, response: Any, changed: list[str]) -> str:
    """ "" if the answer is what the predicates say, else what went wrong."""
    status = response.status_code
    if status >= 500:
        return "server error"
    reads = case.method == "GET"
    if expected is ALLOW:
        if reads:
            if set(changed) - case.read_receipts:
                return "a read wrote"
            served = status in (200, 304) or (status == 302 and not _to_sign_in(response))
            if served and status not in case.refused_with:
                return ""
            return "unexpected refusal"
        if changed and status < 400 and not _to_sign_in(response):
            return ""
        return "unexpected refusal" if not changed else "written but answered as refused"
    # A side record the case names (a sign-out ending its session row) is not the write the
    # outcome is about.
    changed = [table for table in changed if table not in case.read_receipts]
    if changed:
        return "unexpected allow" if expected is DENY else f"wrote although {expected.value}"
    if expected is DENY:
        if status in REFUSED or status in case.refused_with or _to_sign_in(response):
            return ""
        return "unexpected allow" if reads else "refused with an unclear answer"
    if expected is RULE:
        return ""
    if expected is NOOP:
        return "" if status < 400 else "unexpected refusal"
    return f"unknown expectation {expected}"


def run_case(
    world: Any,
    baseline: Baseline,
    *,
    key: str,
    case: Case,
    persona: Any,
    record_name: str | None,
    api: bool,
    route: str,
) -> Result:
    record = world[record_name] if record_name else None
    actor = persona.actor(api=api)
    ctx = Ctx(world=world, persona=persona, actor=actor, record=record, api=api)
    expected = case.expect(ctx)
    if api and persona.read_only and case.method != "GET" and expected is not DENY:
        expected = DENY  # a read-only API client writes nothing (ApiClientAccessPermission)
    url = (api_url if route.startswith("/") else web_url)(route, case, world, record)
    data = expand_today(_value(case.data, world, record)) if case.data is not None else None
    with transaction.atomic():
        # A case that changes the session itself signs in afresh, inside its savepoint.
        client = persona.client(api=api, fresh=case.fresh_client)
        before = baseline.write_counts()
        if case.method == "GET":
            response = client.get(url + case.query)
        elif api:
            body_format = "multipart" if case.multipart else "json"
            response = getattr(client, case.method.lower())(url, data or {}, format=body_format)
        else:
            response = client.post(url, data or {})
        # A write the predicates allow only has to show that it wrote.
        first = expected is ALLOW and case.method != "GET"
        changed = baseline.changed(before, baseline.write_counts(), first=first)
        body = response.content if case.method == "GET" and not response.streaming else b""
        transaction.set_rollback(True)
    problem = judge(case, expected, response, changed)
    if not problem and body:
        leaked = world.leaks(actor, body)
        if leaked:
            problem = f"shows {', '.join(leaked)}"
    return Result(
        key=key,
        label=case.label,
        persona=persona.name,
        record=record_name or "",
        method=case.method,
        url=url,
        expected=expected,
        status=response.status_code,
        changed=changed,
        problem=problem,
    )
