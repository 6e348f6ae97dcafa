"""协议履约状态: each agreement's categories kept per day (decision 0020).

The 协议履约 figures (``selectors.keeping_figures``: judged, keeping, in breach, bureau promises
overdue, to claw back) count agreements by the statuses of their commitments and promises,
and those statuses follow from the rows *and the date*. Computed live for a province (240,000
commitments) they took about a second on every read of the agreement list and the cockpit.
``AgreementState`` keeps one row per agreement with its categories and the day they were
computed for:

* **Stale by trigger.** Statement-level triggers on every table the categories read
  (commitments, measurements, promises, their conditions, the agreement, the project's actual
  dates) upsert the touched agreements' rows with ``on_day`` NULL and ``gen`` + 1, in the
  writer's transaction, whoever writes (services, API, import, admin, a data fix in SQL).
  A new day makes every row stale too: a row counts only for the day it was computed for.
* **Recomputed where stale.** ``refresh`` reads the stale rows' generations *first*, then
  computes their categories with the live selectors, then stores each row only if its
  generation is still the one read (``ON CONFLICT … WHERE gen = …``): a write committed in
  between bumped it, so that row stays stale and the next read computes it again — a state
  is never newer than its generation says.
* **Read.** ``keeping_figures`` refreshes what is stale in its scope (a few rows on a working
  day), then counts the rows. More than ``PROMO_AGREEMENT_STATE_READ_LIMIT`` stale rows (the
  nightly refresh missed) are computed live for that read, as before the table existed, and
  a refresh is queued. ``refresh_agreement_states`` (Celery beat, 00:10) recomputes all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import (
    NOT_PROVIDED,
    BigIntegerField,
    DecimalField,
    F,
    Func,
    QuerySet,
)

from promo.core.enqueue import send_now
from promo.core.services import today

from .choices import DATE_METRICS
from .models import (
    GRAIN_SUMS,
    Agreement,
    AgreementState,
    AgreementStateGrain,
    AgreementStatuses,
)

log = logging.getLogger(__name__)

CHUNK = 5000
# A read waits this long for a state row an open writer holds, then counts live.
READ_WAIT_MS = 200
LOCK_NOT_AVAILABLE = "55P03"
ANALYZE_AFTER = 1000
STATE = AgreementState._meta.db_table
STATUSES_TABLE = AgreementStatuses._meta.db_table
GRAIN = AgreementStateGrain._meta.db_table

# --- triggers ------------------------------------------------------------------------------

_TOUCH = f"""
CREATE OR REPLACE FUNCTION promo_agreement_state_touch(ids bigint[]) RETURNS void AS $$
    INSERT INTO {STATE} AS s (agreement_id, gen, on_day, judged, breached, overdue_promises,
                              clawback_due, at_risk_terms, paid, withheld, clawed_back)
    SELECT DISTINCT i, 1, NULL::date, false, false, 0, false, '{{}}'::bigint[], 0, 0, 0
    FROM unnest(ids) AS i WHERE i IS NOT NULL ORDER BY i
    ON CONFLICT (agreement_id) DO UPDATE SET gen = s.gen + 1, on_day = NULL;
$$ LANGUAGE sql;

CREATE OR REPLACE FUNCTION promo_agreements_of_terms(ids bigint[]) RETURNS bigint[] AS $$
    SELECT ARRAY(
        SELECT agreement_id FROM agreements_term WHERE id = ANY(ids)
        UNION
        SELECT p.agreement_id FROM agreements_promise_conditions c
        JOIN agreements_promise p ON p.id = c.promise_id WHERE c.term_id = ANY(ids)
    );
$$ LANGUAGE sql STABLE;
"""

# What a project's agreements' states read of it: the actual dates the date commitments
# (按期开工/竣工/投产) are judged on, and the unit the analysis files them under.
_PROJECT = ", ".join(f"{{row}}.{column}" for column in (*DATE_METRICS.values(), "unit_id"))
# Every agreement of the projects of the statement's agreements: a sibling added, re-dated,
# moved or deleted may change which is the first, the year the others are filed under.
_SIBLINGS = (
    "ARRAY(SELECT a.id FROM agreements_agreement a WHERE a.project_id IN "
    "(SELECT project_id FROM {rows}))"
)

# table: {operation: SQL giving the agreement ids the statement touched (an array)}
_SOURCES: dict[str, dict[str, str]] = {
    "agreements_term": {
        "INSERT": "ARRAY(SELECT agreement_id FROM new_rows)",
        "UPDATE": (
            "ARRAY(SELECT agreement_id FROM new_rows UNION SELECT agreement_id FROM old_rows)"
            " || promo_agreements_of_terms(ARRAY(SELECT id FROM new_rows))"
        ),
        "DELETE": "ARRAY(SELECT agreement_id FROM old_rows)",
    },
    "agreements_measurement": {
        op: f"promo_agreements_of_terms(ARRAY({rows}))"
        for op, rows in (
            ("INSERT", "SELECT term_id FROM new_rows"),
            ("UPDATE", "SELECT term_id FROM new_rows UNION SELECT term_id FROM old_rows"),
            ("DELETE", "SELECT term_id FROM old_rows"),
        )
    },
    "agreements_promise": {
        "INSERT": "ARRAY(SELECT agreement_id FROM new_rows)",
        "UPDATE": "ARRAY(SELECT agreement_id FROM new_rows UNION SELECT agreement_id FROM old_rows)",
        "DELETE": "ARRAY(SELECT agreement_id FROM old_rows)",
    },
    "agreements_promise_conditions": {
        op: (
            "ARRAY(SELECT p.agreement_id FROM agreements_promise p "
            f"WHERE p.id IN (SELECT promise_id FROM {rows}))"
        )
        for op, rows in (("INSERT", "new_rows"), ("DELETE", "old_rows"))
    },
    "agreements_agreement": {
        # signed_on, the clawback rule or the project changed: the agreement and its siblings
        # (old project and new). A deleted agreement's row goes (below).
        "INSERT": _SIBLINGS.format(rows="new_rows"),
        "UPDATE": _SIBLINGS.format(rows="new_rows UNION SELECT project_id FROM old_rows"),
    },
    "projects_project": {
        "UPDATE": (
            "ARRAY(SELECT a.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
            "JOIN agreements_agreement a ON a.project_id = n.id "
            f"WHERE ({_PROJECT.format(row='n')}) IS DISTINCT FROM ({_PROJECT.format(row='o')}))"
        ),
    },
}

_TRANSITIONS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def _name(table: str, op: str) -> str:
    return f"promo_state_{table.removeprefix('agreements_')}_{op.lower()}"


def trigger_sql(*, statuses: bool = True) -> tuple[str, str]:
    """(install, remove): the functions and the statement-level AFTER triggers (``statuses``:
    deleting an agreement also deletes its ``AgreementStatuses``, the table of migration
    ``agreements/0005``)."""
    install, remove = [_TOUCH], []
    for table, operations in _SOURCES.items():
        for op, ids in operations.items():
            name = _name(table, op)
            install.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                f"PERFORM promo_agreement_state_touch({ids}); RETURN NULL; END $$ "
                "LANGUAGE plpgsql;\n"
                f"DROP TRIGGER IF EXISTS {name} ON {table};\n"
                f"CREATE TRIGGER {name} AFTER {op} ON {table} {_TRANSITIONS[op]} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
            )
            remove.append(
                f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();"
            )
    name = _name("agreements_agreement", "DELETE")
    clear_statuses = (
        f"DELETE FROM {STATUSES_TABLE} WHERE agreement_id IN (SELECT id FROM old_rows); "
        if statuses
        else ""
    )
    install.append(
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
        f"DELETE FROM {STATE} WHERE agreement_id IN (SELECT id FROM old_rows); {clear_statuses}"
        f"PERFORM promo_agreement_state_touch({_SIBLINGS.format(rows='old_rows')}); RETURN NULL; "
        "END $$ LANGUAGE plpgsql;\n"
        f"DROP TRIGGER IF EXISTS {name} ON agreements_agreement;\n"
        f"CREATE TRIGGER {name} AFTER DELETE ON agreements_agreement "
        f"{_TRANSITIONS['DELETE']} FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
    )
    remove.append(
        f"DROP TRIGGER IF EXISTS {name} ON agreements_agreement; DROP FUNCTION IF EXISTS {name}();"
    )
    remove.append(
        "DROP FUNCTION IF EXISTS promo_agreement_state_touch(bigint[]);"
        "DROP FUNCTION IF EXISTS promo_agreements_of_terms(bigint[]);"
    )
    return "\n".join(install), "\n".join(remove)


# --- the grains: the states added up per project unit and cohort (decision 0026) ----------

_GRAIN_KEYS = ("project_unit", "cohort")


def _grain_terms(row: str) -> list[tuple[str, str]]:
    """(grain column, what one state ``row`` adds to it)."""
    return [
        ("states", "1"),
        ("judged", f"{row}.judged::int"),
        ("keeping", f"({row}.judged AND NOT {row}.breached)::int"),
        ("breached", f"{row}.breached::int"),
        ("clawback_due", f"{row}.clawback_due::int"),
        *((name, f"{row}.{name}") for name in GRAIN_SUMS),
    ]


GRAIN_COLUMNS: tuple[str, ...] = tuple(column for column, _term in _grain_terms("r"))


def _grain_rows(table: str, sign: str) -> str:
    """Each state of ``table`` as its key and its signed share of every grain column."""
    terms = ", ".join(f"{sign}({term}) AS {column}" for column, term in _grain_terms("r"))
    return (
        f"SELECT COALESCE(r.project_unit, 0) AS project_unit, COALESCE(r.cohort, 0) AS cohort, "
        f"{terms} FROM {table} AS r"
    )


def grain_expected_sql() -> str:
    """The grains as the states add up now (the rebuild's and the comparison's)."""
    sums = ", ".join(f"SUM({column}) AS {column}" for column in GRAIN_COLUMNS)
    return (
        f"SELECT project_unit, cohort, {sums} FROM ({_grain_rows(STATE, '')}) AS d "
        "GROUP BY project_unit, cohort"
    )


def _grain_apply(parts: list[str], *, clear: bool) -> str:
    """Add the signed shares of ``parts`` to the grains; a key whose every column nets to 0
    writes nothing (a state marked stale, or recomputed to what it was). ``clear``: then
    drop the grains left empty (only a subtraction leaves one)."""
    columns = ", ".join(GRAIN_COLUMNS)
    sums = ", ".join(f"SUM({column})" for column in GRAIN_COLUMNS)
    moved = " OR ".join(f"SUM({column}) <> 0" for column in GRAIN_COLUMNS)
    added = ", ".join(f"{column} = g.{column} + EXCLUDED.{column}" for column in GRAIN_COLUMNS)
    empty = " AND ".join(f"g.{column} = 0" for column in GRAIN_COLUMNS)
    return (
        f"INSERT INTO {GRAIN} AS g (project_unit, cohort, {columns}) "
        f"SELECT project_unit, cohort, {sums} FROM ({' UNION ALL '.join(parts)}) AS d "
        f"GROUP BY project_unit, cohort HAVING {moved} "
        # In key order: two writers lock the grains they share in the same order.
        "ORDER BY project_unit, cohort "
        f"ON CONFLICT (project_unit, cohort) DO UPDATE SET {added};"
        + (f"\nDELETE FROM {GRAIN} AS g WHERE {empty};" if clear else "")
    )


def grain_trigger_sql() -> tuple[str, str]:
    """(install, remove): the statement-level AFTER triggers on the states that keep the
    grains (an insert adds the new rows, a delete subtracts the old, an update both)."""
    parts = {
        "INSERT": [_grain_rows("new_rows", "")],
        "UPDATE": [_grain_rows("new_rows", ""), _grain_rows("old_rows", "-")],
        "DELETE": [_grain_rows("old_rows", "-")],
    }
    install, remove = [], []
    for op, rows in parts.items():
        name = f"promo_state_grain_{op.lower()}"
        install.append(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
            f"{_grain_apply(rows, clear=op != 'INSERT')} RETURN NULL; END $$ LANGUAGE plpgsql;\n"
            f"DROP TRIGGER IF EXISTS {name} ON {STATE};\n"
            f"CREATE TRIGGER {name} AFTER {op} ON {STATE} {_TRANSITIONS[op]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}();"
        )
        remove.append(
            f"DROP TRIGGER IF EXISTS {name} ON {STATE}; DROP FUNCTION IF EXISTS {name}();"
        )
    return "\n".join(install), "\n".join(remove)


def rebuild_grain(cursor: Any) -> int:
    """Rewrite the grains from the states (the caller holding the lock on the grains:
    ``promo.dashboard.summary._lock``); returns how many grains were written."""
    columns = ", ".join(GRAIN_COLUMNS)
    cursor.execute(f"DELETE FROM {GRAIN}")
    cursor.execute(
        f"INSERT INTO {GRAIN} (project_unit, cohort, {columns}) "
        f"SELECT project_unit, cohort, {columns} FROM ({grain_expected_sql()}) AS e"
    )
    return int(cursor.rowcount)


def compare_grain(cursor: Any) -> list[tuple]:
    """As ``promo.dashboard.summary.compare``: every grain that differs from its states'
    sum, ``(unit, 1 January of the cohort, 'agreement_grain:<unit>:<cohort>:<columns>',
    stored states, stored paid, summed states, summed paid)`` — the figure names the
    columns that differ."""
    differs = " || ".join(
        f"CASE WHEN COALESCE(s.{c}, 0) <> COALESCE(e.{c}, 0) THEN ' {c}' ELSE '' END"
        for c in GRAIN_COLUMNS
    )
    cursor.execute(
        f"""
        SELECT k.project_unit, make_date(GREATEST(k.cohort, 1), 1, 1),
               'agreement_grain:' || k.project_unit || ':' || k.cohort || ':' || k.what,
               k.s_states, k.s_paid, k.e_states, k.e_paid
        FROM (
            SELECT COALESCE(s.project_unit, e.project_unit) AS project_unit,
                   COALESCE(s.cohort, e.cohort) AS cohort, ltrim({differs}) AS what,
                   COALESCE(s.states, 0) AS s_states, COALESCE(s.paid, 0) AS s_paid,
                   COALESCE(e.states, 0) AS e_states, COALESCE(e.paid, 0) AS e_paid
            FROM {GRAIN} AS s
            FULL OUTER JOIN ({grain_expected_sql()}) AS e
              ON s.project_unit = e.project_unit AND s.cohort = e.cohort
        ) AS k
        WHERE k.what <> ''
        ORDER BY 1, 3
        """
    )
    return cursor.fetchall()


# --- recomputation -------------------------------------------------------------------------


class Row(NamedTuple):
    """One agreement's state as ``selectors.compute_states`` computes it for a day: its
    categories, money, at-risk commitments, and its share of 协议履约分析 (``ANALYSIS``)."""

    judged: bool
    breached: bool
    overdue_promises: int
    clawback_due: bool
    at_risk_terms: list[int]
    paid: Decimal
    withheld: Decimal
    clawed_back: Decimal
    # 协议履约分析's figures of this agreement, by name (``ANALYSIS``).
    analysis: dict[str, Any]
    # Where the analysis files it: the project's unit and 签约年度.
    project_unit: int | None = None
    cohort: int | None = None
    # Each commitment's [status, value at due] and each promise's [status], by id (a
    # string, as JSON keys are): what the agreements API list shows (``AgreementStatuses``).
    term_statuses: dict[str, list[Any]] | None = None
    promise_statuses: dict[str, list[Any]] | None = None


# (agreement ids, the day) → {agreement id: its Row on that day}
Compute = Callable[[list[int], date], dict[int, Row]]
# The stored scalar columns (each a field of Row) and their PostgreSQL array types.
_SCALARS: dict[str, str] = {
    "judged": "boolean",
    "breached": "boolean",
    "overdue_promises": "integer",
    "clawback_due": "boolean",
    "paid": "numeric",
    "withheld": "numeric",
    "clawed_back": "numeric",
    "project_unit": "bigint",
    "cohort": "integer",
}
# 协议履约分析's per-agreement figures (the names of ``selectors.KeepingRow`` besides the
# categories and the money): the state's columns with a database default, the ones the
# triggers' insert of a stale row leaves out.
ANALYSIS: dict[str, str] = {
    field.name: "numeric" if isinstance(field, DecimalField) else "integer"
    for field in AgreementState._meta.concrete_fields
    if field.db_default is not NOT_PROVIDED
}
_SCALARS.update(ANALYSIS)


def _store(seen: list[tuple[int, int]], values: dict[int, Row], day: date, wait_ms: int) -> int:
    """Upsert the computed rows whose generation is still the one read; returns how many.

    A row locked by a writer still open (a long import holds its agreements' rows until it
    commits) is waited for at most ``wait_ms``; then nothing of the chunk is stored and 0
    returned: a read then counts live rather than hang behind the import."""
    ids = [pk for pk, _ in seen]
    columns: list[list[Any]] = [ids, [gen for _, gen in seen]]
    for name in _SCALARS:
        if name in ANALYSIS:
            columns.append([values[pk].analysis[name] for pk in ids])
        else:
            columns.append([getattr(values[pk], name) for pk in ids])
    # The at-risk commitments as (agreement, term) pairs, gathered per agreement in SQL.
    pairs = [(pk, term) for pk in ids for term in values[pk].at_risk_terms]
    columns += [[pk for pk, _ in pairs], [term for _, term in pairs]]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # SET LOCAL lasts to the end of the outermost transaction: put back after.
            cursor.execute(f"SET LOCAL lock_timeout = {int(wait_ms)}")
            stored = _upsert(cursor, columns, day)
            _upsert_statuses(cursor, seen, values, day)
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
            return stored
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        log.info("agreement states locked by an open writer; %d left stale", len(ids))
        return 0


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _upsert_statuses(
    cursor: Any, seen: list[tuple[int, int]], values: dict[int, Row], day: date
) -> None:
    """The rows' statuses beside the states, stamped with the generation read and the day:
    they count only with a state of that generation and day, so those of a state that was
    not stored (a write moved its generation) never count."""
    rows = [(pk, gen) for pk, gen in seen if values[pk].term_statuses is not None]
    if not rows:
        return
    cursor.execute(
        f"INSERT INTO {STATUSES_TABLE} AS s (agreement_id, gen, on_day, terms, promises)"
        " SELECT v.agreement_id, v.gen, %s::date, v.terms, v.promises FROM unnest("
        "%s::bigint[], %s::integer[], %s::jsonb[], %s::jsonb[])"
        " AS v(agreement_id, gen, terms, promises) ORDER BY v.agreement_id"
        " ON CONFLICT (agreement_id) DO UPDATE SET gen = EXCLUDED.gen,"
        " on_day = EXCLUDED.on_day, terms = EXCLUDED.terms, promises = EXCLUDED.promises",
        [
            day,
            [pk for pk, _ in rows],
            [gen for _, gen in rows],
            [_json(values[pk].term_statuses) for pk, _ in rows],
            [_json(values[pk].promise_statuses or {}) for pk, _ in rows],
        ],
    )


def _upsert(cursor: Any, columns: list[list[Any]], day: date) -> int:
    """The one statement: rows stored only where ``gen`` is still the one read."""
    names = list(_SCALARS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in _SCALARS.values())
    cursor.execute(
        f"INSERT INTO {STATE} AS s (agreement_id, gen, {', '.join(names)}, at_risk_terms,"
        f" on_day) SELECT v.*, COALESCE(k.terms, '{{}}'), %s::date FROM unnest("
        f"%s::bigint[], %s::integer[], {arrays}) AS v(agreement_id, gen, {', '.join(names)})"
        " LEFT JOIN (SELECT a, array_agg(t ORDER BY t) AS terms FROM unnest(%s::bigint[],"
        " %s::bigint[]) AS x(a, t) GROUP BY a) k ON k.a = v.agreement_id"
        " ORDER BY v.agreement_id ON CONFLICT (agreement_id) DO UPDATE SET"
        " on_day = EXCLUDED.on_day, at_risk_terms = EXCLUDED.at_risk_terms, "
        + ", ".join(f"{name} = EXCLUDED.{name}" for name in names)
        + " WHERE s.gen = EXCLUDED.gen",
        [day, *columns],
    )
    return int(cursor.rowcount)


def stale(agreements: QuerySet[Agreement]) -> list[tuple[int, int]]:
    """(id, generation read) of the agreements whose state is not of today (absent: 0)."""
    rows = agreements.exclude(state__on_day=today()).order_by("pk").values_list("pk", "state__gen")
    return [(pk, gen or 0) for pk, gen in rows]


def refresh(
    agreements: QuerySet[Agreement] | None = None,
    seen: Iterable[tuple[int, int]] | None = None,
    *,
    compute: Compute,
    wait_ms: int = 5000,
) -> int:
    """Recompute and store the stale states among ``agreements`` (all by default), in chunks;
    returns how many were stored (a row written meanwhile stays stale)."""
    rows = (
        list(seen)
        if seen is not None
        else stale(agreements if agreements is not None else Agreement.objects.all())
    )
    # One day for the computation and the stamp, even across midnight.
    day = today()
    stored = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        stored += _store(chunk, compute([pk for pk, _ in chunk], day), day, wait_ms)
    if stored >= ANALYZE_AFTER:
        # The whole table changed (the nightly run): fresh statistics, else the planner
        # guesses a few hundred rows of today and joins 48,000 by nested loops (province:
        # 197 ms instead of about 30).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {STATE}")
    return stored


def read_limit() -> int:
    return int(settings.PROMO_AGREEMENT_STATE_READ_LIMIT)


def queue_refresh() -> None:
    """Ask the worker for a full refresh, bounded and never raising (promo/core/enqueue.py): a
    broker that is away only loses the request (the nightly run and every read still come)."""
    if not send_now("promo.agreements.tasks.refresh_agreement_states"):
        log.warning("could not queue the agreement states' refresh; reads count live meanwhile")


def all_fresh_sql() -> str:
    """A condition true when every agreement of the bureau has a state of today (parameters:
    the day, three times): as many states as agreements — counted by the grains, which the
    nightly reconciliation checks — and none stale or of another day (a probe of the
    ``on_day`` index, which finds nothing on a fresh day)."""
    return (
        f"(SELECT count(*) FROM {Agreement._meta.db_table}) "
        f"= (SELECT COALESCE(SUM(states), 0) FROM {GRAIN}) "
        f"AND NOT EXISTS (SELECT 1 FROM {STATE} "
        "WHERE on_day IS NULL OR on_day < %s OR on_day > %s)"
    )


def all_fresh(day: date) -> bool:
    """Whether every state of the bureau is of ``day`` (``all_fresh_sql``)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {all_fresh_sql()}", [day, day])
        return bool(cursor.fetchone()[0])


def ensure_fresh(agreements: QuerySet[Agreement], *, compute: Compute) -> bool:
    """Whether every one of ``agreements`` has today's state, the stale ones recomputed and
    stored first — up to the read limit: past it a refresh is queued and False returned
    (the caller reads live). On a day no state of the bureau is stale that is known from
    two index reads (``all_fresh``), without looking for the stale among ``agreements``
    (province: 48,000 agreements joined to their states, ~45 ms)."""
    if all_fresh(today()):
        return True
    rows = stale(agreements)
    if not rows:
        return True
    if len(rows) > read_limit():
        queue_refresh()
        return False
    # Every row stored unless a write moved its generation or held it past READ_WAIT_MS.
    return refresh(seen=rows, compute=compute, wait_ms=READ_WAIT_MS) == len(rows)


def at_risk_term_ids(agreements: QuerySet[Agreement] | None) -> list[int]:
    """The ids of the commitments of ``agreements`` at risk by today's states, read into a list:
    given as a constant array the planner knows how many there are (province: 19,025 of
    240,050). As a subquery unnesting the column it guessed half of all commitments, walked
    them in due order for the page's twenty and compared each with every id read: 42 s at
    province. Read for the scope, the list's count is its length and its page needs no join
    to the projects to keep to the unit."""
    fresh = AgreementState.objects.filter(on_day=today())
    if agreements is not None:  # None: every agreement of the bureau (no join)
        fresh = fresh.filter(agreement__in=agreements.values("pk"))
    terms = (
        fresh.exclude(at_risk_terms=[])
        .annotate(term=Func(F("at_risk_terms"), function="unnest", output_field=BigIntegerField()))
        .values_list("term", flat=True)
    )
    # Fetched as they come: a bigint needs no converter, and through the queryset's rows
    # the province's 19,025 ids cost ~20 ms of row handling on every read of the list.
    sql, params = terms.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [term for (term,) in cursor.fetchall()]
