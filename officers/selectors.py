"""Who sees what, decided here and nowhere else.

Every list, detail page, API endpoint, export and report starts from a ``*_visible_to``
selector built on :func:`scope_for`:

* a chief sees the whole bureau;
* an officer or a unit head sees their unit and its sub-units;
* a department submitter (部门信息员) sees only what they submitted;
* the three administrators (系统管理员, 安全管理员, 审计管理员) see no business record at all
  (三员分立, issue #16), and neither does a superuser in production
  (``PROMO_SUPERUSER_READS_BUSINESS``). The system and security administrators (and a
  superuser) see every unit and account instead: the org tree is theirs to keep
  (``org_units_visible_to``, ``org_officers_visible_to``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, Max, OuterRef, Q, QuerySet, Value, When

from .choices import ADMIN_ROLES, Role
from .models import Officer, OfficerSession, Target, Unit, tree_order


@dataclass(frozen=True)
class Scope:
    """What one officer may see: the whole bureau, a set of units, or only their own records."""

    officer_id: int | None
    unit_ids: frozenset[int] | None  # None: the whole bureau
    own_records_only: bool = False

    @property
    def is_everything(self) -> bool:
        return self.unit_ids is None and not self.own_records_only

    def unit_q(self, field: str = "unit") -> Q:
        """A filter on ``<field>_id`` that keeps the rows of the scope's units."""
        if self.unit_ids is None:
            return Q()
        return Q(**{f"{field}_id__in": self.unit_ids})


NOTHING = Scope(officer_id=None, unit_ids=frozenset(), own_records_only=True)

# The ids of the officer's unit's sub-tree, read in the statement that reads the officer (and
# their unit) for a browser's request (``officers.backends``, ``with_scope_units``).
PRELOADED_UNIT_IDS = "scope_unit_ids_preloaded"


def with_scope_units(officers: QuerySet[Officer]) -> QuerySet[Officer]:
    """``officers``, each with the ids of their unit's sub-tree read in the same statement, so
    that :func:`scope_for` does not ask for them again: one query fewer on every page a unit
    head or an officer opens. A chief's row carries none (their scope is the whole bureau)."""
    subtree = Unit.objects.filter(path__startswith=OuterRef("unit__path"))
    return officers.annotate(
        **{
            PRELOADED_UNIT_IDS: Case(
                When(role=Role.CHIEF, then=Value(None)),
                default=ArraySubquery(subtree.order_by().values("pk")),
            )
        }
    )


def scope_for(officer: Officer | None) -> Scope:
    """The scope of one officer; computed once per request and cached on the officer."""
    if officer is None or not getattr(officer, "is_authenticated", False) or not officer.is_active:
        return NOTHING
    cached = getattr(officer, "_promo_scope", None)
    if cached is not None:
        return cached
    if officer.sees_whole_bureau:
        scope = Scope(officer_id=officer.pk, unit_ids=None)
    elif officer.is_superuser or officer.role in ADMIN_ROLES:
        # 三员分立: an administrator (or a superuser in production) reads no business record.
        scope = NOTHING
    elif officer.role == Role.DEPARTMENT_SUBMITTER:
        scope = Scope(officer_id=officer.pk, unit_ids=frozenset(), own_records_only=True)
    elif officer.unit_id is None:
        scope = NOTHING
    else:
        # The unit row read with the officer (sign-in, an API token) already holds the path,
        # and the sub-tree's ids where the officer was read ``with_scope_units``.
        loaded = Officer._meta.get_field("unit").get_cached_value(officer, None)
        unit_path: str | None = None
        ids = None
        if isinstance(loaded, Unit) and loaded.pk == officer.unit_id and loaded.path:
            unit_path = loaded.path
            ids = getattr(officer, PRELOADED_UNIT_IDS, None)
        if ids is None:
            if unit_path is None:
                unit_path = (
                    Unit.objects.filter(pk=officer.unit_id).values_list("path", flat=True).first()
                )
            subtree = Unit.objects.filter(path__startswith=unit_path or "\0")
            ids = subtree.values_list("pk", flat=True)
        scope = Scope(officer_id=officer.pk, unit_ids=frozenset(ids))
    officer._promo_scope = scope  # type: ignore[attr-defined]  # a cache on the instance
    return scope


def keeps_org_tree(officer: Officer | None) -> bool:
    """The system or security administrator (or a superuser): opens accounts, grants roles,
    resets passwords — so sees every unit and account, though no business record."""
    return bool(
        officer is not None
        and getattr(officer, "is_authenticated", False)
        and officer.is_active
        and (officer.is_superuser or officer.role in (Role.ADMIN, Role.SECURITY_ADMIN))
    )


def org_units_visible_to(officer: Officer) -> QuerySet[Unit]:
    """The units an officer sees as the org tree (the units' and officers' admin and API):
    every unit for the system and security administrators, else ``units_visible_to``."""
    if keeps_org_tree(officer):
        return Unit.objects.all()
    return units_visible_to(officer)


def org_officers_visible_to(officer: Officer) -> QuerySet[Officer]:
    """The accounts an officer sees as the org tree (the officers' admin and API, password
    and second-factor resets, an API client's officer): every account for the system and
    security administrators, else ``officers_visible_to``."""
    if keeps_org_tree(officer):
        return Officer.objects.select_related("unit")
    return officers_visible_to(officer)


def units_visible_to(officer: Officer) -> QuerySet[Unit]:
    """The units whose business an officer sees and acts for (a record's unit, a filter);
    none for an administrator (三员分立)."""
    scope = scope_for(officer)
    if scope.unit_ids is None:
        return Unit.objects.all()
    if scope.own_records_only:
        return Unit.objects.filter(pk=officer.unit_id) if officer.unit_id else Unit.objects.none()
    return Unit.objects.filter(pk__in=scope.unit_ids)


def officers_visible_to(officer: Officer) -> QuerySet[Officer]:
    """The officers an officer works with (assignees, attendees, filters); an administrator
    only themself (三员分立)."""
    scope = scope_for(officer)
    qs = Officer.objects.select_related("unit")
    if scope.unit_ids is None:
        return qs
    if scope.own_records_only:
        return qs.filter(pk=officer.pk)
    return qs.filter(unit_id__in=scope.unit_ids)


def targets_visible_to(officer: Officer) -> QuerySet[Target]:
    scope = scope_for(officer)
    qs = Target.objects.select_related("unit", "officer")
    if scope.unit_ids is None:
        return qs
    if scope.own_records_only:
        return qs.filter(officer=officer)
    return qs.filter(Q(unit_id__in=scope.unit_ids) | Q(officer__unit_id__in=scope.unit_ids))


def breakdown_units_for(officer: Officer) -> QuerySet[Unit]:
    """Units whose targets the officer breaks down to people: a unit head their own unit, a
    chief or administrator every unit."""
    if officer.sees_whole_bureau:
        return Unit.objects.all()
    if officer.role == Role.UNIT_HEAD and officer.unit_id:
        return Unit.objects.filter(pk=officer.unit_id)
    return Unit.objects.none()


def _breakdown_people(prefix: str = "") -> Q:
    """Who a unit's targets are broken down to: active officers and unit heads. The one rule
    of both target pages (summary and breakdown): one who left (deactivated) keeps the target
    row in the history but no longer covers the unit's figure."""
    return Q(**{f"{prefix}is_active": True, f"{prefix}role__in": (Role.OFFICER, Role.UNIT_HEAD)})


def breakdown_officers(unit: Unit) -> QuerySet[Officer]:
    """The people a unit's targets are broken down to: active officers and heads of its sub-tree."""
    return (
        Officer.objects.filter(_breakdown_people(), unit__path__startswith=unit.path)
        .select_related("unit")
        .order_by(tree_order("unit__path"), "full_name", "username")
    )


def target_breakdown(officer: Officer, year: int) -> list[dict]:
    """Each unit target of ``year`` the officer may break down, beside the sum of the targets
    broken down to the people of the unit's sub-tree (目标分解核对): the people
    ``breakdown_officers`` lists, as on the breakdown page.

    ``status``: ``none`` (nothing broken down yet), ``short`` (the people's sum is below the
    unit's target) or ``covered``. Two queries whatever the number of units or people.
    """
    unit_targets = list(
        Target.objects.filter(year=year, unit__in=breakdown_units_for(officer))
        .select_related("unit")
        .order_by(tree_order("unit__path"), "metric")
    )
    if not unit_targets:
        return []
    by_path = {(t.unit.path, t.metric): t.unit_id for t in unit_targets if t.unit is not None}
    people = Target.objects.filter(_breakdown_people("officer__"), year=year)
    if not officer.sees_whole_bureau:  # a unit head: their own unit's sub-tree
        if officer.unit is None:
            return []
        people = people.filter(officer__unit__path__startswith=officer.unit.path)
    sums: dict[tuple[int | None, str], list] = {}
    for metric, value, path in people.values_list("metric", "value", "officer__unit__path"):
        # A person counts for every unit above them: the prefixes of "/1/4/9/" are "/1/",
        # "/1/4/" and "/1/4/9/".
        for end in range(1, len(path)):
            if path[end] != "/":
                continue
            unit_id = by_path.get((path[: end + 1], metric))
            if unit_id is not None:
                entry = sums.setdefault((unit_id, metric), [0, 0])
                entry[0] += value
                entry[1] += 1
    rows = []
    for target in unit_targets:
        total, count = sums.get((target.unit_id, target.metric), (0, 0))
        rows.append(
            {
                "target": target,
                "unit": target.unit,
                "metric": target.metric,
                "label": target.get_metric_display(),
                "unit_value": target.value,
                "people_sum": total,
                "people": count,
                "gap": target.value - total,
                "status": "none" if not count else ("short" if total < target.value else "covered"),
            }
        )
    return rows


def tombstones_visible_to(officer, events: QuerySet, *, unit_field: str | None) -> QuerySet:
    """Delete events (墓碑) of a tracked model that ``officer`` may see.

    A tombstone is visible when the deleted row's last state lay in the officer's units
    (``unit_field`` of the snapshot); ``unit_field=None`` marks records public inside the
    bureau. An officer who sees only their own records sees the tombstones they created.
    """
    scope = scope_for(officer)
    if scope.is_everything or unit_field is None:
        return events if scope.officer_id is not None else events.none()
    if scope.own_records_only:
        if any(f.name == "created_by" for f in events.model._meta.get_fields()):
            return events.filter(created_by_id=scope.officer_id)
        return events.none()
    return events.filter(**{f"{unit_field}__in": scope.unit_ids})


def unit_subtree_ids(unit_id: int) -> list[int]:
    """The ids of a unit and its sub-units (none for an unknown id): a ``?unit=`` filter."""
    path = Unit.objects.filter(pk=unit_id).values_list("path", flat=True).first()
    if not path:
        return []
    return list(Unit.objects.filter(path__startswith=path).values_list("pk", flat=True))


def scope_changes_visible_to(
    officer, changes: QuerySet, *, unit_ids: list[int] | None = None
) -> QuerySet:
    """Journaled scope changes (``promo.ScopeChange``) that may concern ``officer``.

    A change names the units whose callers may have seen the record before (its unit, its
    lead's unit — before and after) and the officers who may have seen it through an
    assignment or attendance. An officer gets those naming one of their units or them; with a
    ``?unit=`` filter (``unit_ids``, a sub-tree) also those naming one of its units. A chief
    without a filter sees the whole bureau: only deletions leave it, and tombstones tell those.
    The feed then keeps the changes of records the caller does not see now; a change of a
    record the caller never had may remain (a mirror ignores an id it does not hold).
    """
    scope = scope_for(officer)
    if scope.officer_id is None:
        return changes.none()
    if scope.is_everything:
        if unit_ids is None:
            return changes.none()
        concerns = Q(pk__in=[])
    else:
        concerns = Q(officers__contains=[scope.officer_id])
        if scope.unit_ids:
            concerns |= Q(units__overlap=sorted(scope.unit_ids))
    if unit_ids is not None:
        concerns |= Q(units__overlap=unit_ids)
    return changes.filter(concerns)


def scope_reset_at(officer, resets: QuerySet, *, filtered: bool) -> datetime | None:
    """The time of the latest of ``resets`` (journaled changes of a whole scope, without a
    record) that changed ``officer``'s: their own unit, role or superuser flag, or a unit moved
    in the tree — which changes every scope but a chief's without a ``?unit=`` filter."""
    scope = scope_for(officer)
    concerns = Q(officers__contains=[officer.pk])
    if filtered or not scope.is_everything:
        concerns |= Q(officers__isnull=True)
    return resets.filter(concerns).aggregate(at=Max("at"))["at"]


def sessions_visible_to(officer: Officer) -> QuerySet[OfficerSession]:
    """An officer's own sign-ins: nobody else's (not even a chief's: they are not records of
    the bureau's work but of one person's browser)."""
    if not getattr(officer, "is_authenticated", False):
        return OfficerSession.objects.none()
    return OfficerSession.objects.filter(officer_id=officer.pk)


def open_sessions_of(officer: Officer) -> QuerySet[OfficerSession]:
    """The officer's sessions still open: not ended, and their session not expired."""
    from django.contrib.sessions.models import Session
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    live = Session.objects.filter(
        session_key=OuterRef("session_key"), expire_date__gt=timezone.now()
    )
    return sessions_visible_to(officer).filter(ended_at__isnull=True).filter(Exists(live))
