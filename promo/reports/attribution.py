"""Why a published figure changed: the records that moved it, and who changed each, when, why.

Reads only; promo.reports.services writes what they find as amendments.

A bulletin keeps, at publication and with each amendment, the records each figure counted
(:func:`promo.reports.selectors.figure_records`) and a *mark* per history table (the last
row written). When the figure changes, the records it counts now are compared with the kept
ones (:func:`compare`): each record that entered, left or changed its part is a cause. Each
cause is then explained from **that record's own history** after the mark (:func:`explain`):
the latest event that touched a column the figure reads — a status date, the contract date,
the amount, the unit — or that created or deleted the record. Its history context
(promo.core.audit.audited) says who and why (kept as written; a code is read as words when
shown, promo.reports.choices.why_label), and a drop or a rejection gives that lead's own
reason instead.

Every look-up is batched: two queries per history table and one per kind of name, whatever
the number of causes or lines (the nightly re-check runs at province scale).

A write committed at the very moment of publication may be counted on the wrong side of the
mark (row ids are handed out before commit): its record is then still named, without who.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.apps import apps
from django.db import connection, models

from leads.choices import LeadStatus
from leads.models import Investor, Lead
from officers.models import Officer
from projects.models import Project, ProjectIncrement

from .choices import CauseRecord, Figure
from .selectors import Composition, figure_family

# An amendment names at most this many records; the others are only counted (a unit moved
# in the tree takes all its records with it).
MAX_CAUSES = 50

# The history tables an amendment's causes are read from, by the key kept in the marks. The
# capital increases (增资) are not a history table but are appended the same way.
HISTORY_TABLES: dict[str, str] = {
    "lead": "leads.LeadEvent",
    "visit": "leads.VisitEvent",
    "project": "projects.ProjectEvent",
    "progress": "projects.InvestmentProgressEvent",
    "increment": "projects.ProjectIncrement",
}

# The columns each figure reads from its record (the rules of promo.reports.selectors
# period_figures; tests/reports/test_amendment_causes.py checks them against the rules). A
# change to another column (a description, a follow-up date) never explains a figure.
_UNIT = frozenset({"unit_id"})
FIGURE_COLUMNS: dict[str, frozenset[str]] = {
    Figure.LEADS_IN_HAND: _UNIT | {"qualified_on", "signed_on", "closed_on"},
    Figure.LEADS_NEGOTIATING: _UNIT | {"negotiating_on", "signed_on", "closed_on"},
    Figure.VALID_LEADS: _UNIT | {"qualified_on"},
    Figure.INVESTORS_VISITING: _UNIT | {"visited_on", "kind", "investor_id"},
    Figure.SIGNED_COUNT: _UNIT | {"contract_date"},
    Figure.SIGNED_AMOUNT: _UNIT | {"contract_date", "signed_investment"},
    Figure.TEN_MILLION_COUNT: _UNIT | {"contract_date", "signed_investment"},
    Figure.HUNDRED_MILLION_COUNT: _UNIT | {"contract_date", "signed_investment"},
    Figure.GROUNDBREAKING_COUNT: _UNIT | {"groundbreaking_actual"},
    # Plus the capital increases dated on or before the period's end.
    Figure.GROUNDBREAKING_AMOUNT: _UNIT | {"groundbreaking_actual", "signed_investment"},
    Figure.COMPLETED_COUNT: _UNIT | {"completed_actual"},
    Figure.PRODUCING_COUNT: _UNIT | {"producing_actual"},
    Figure.IN_STATISTICS_COUNT: _UNIT | {"in_statistics_actual"},
    Figure.ABOVE_SIZE_COUNT: _UNIT | {"above_size_actual"},
    # Plus the monthly progress reports (月度投资进度) of months up to the period's end.
    Figure.ARRIVED_FDI: _UNIT,
}
_PROGRESS_COLUMNS = frozenset({"arrived_fdi", "month", "project_id"})


def history_marks() -> dict[str, int]:
    """The last row id of each history table, in one query: "since" for the next amendment."""
    tables = {key: apps.get_model(label)._meta for key, label in HISTORY_TABLES.items()}
    columns = ", ".join(
        f'(SELECT COALESCE(MAX("{meta.pk.column}"), 0) FROM "{meta.db_table}")'
        for meta in tables.values()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        row = cursor.fetchone()
    return dict(zip(tables, row, strict=True))


@dataclasses.dataclass(frozen=True)
class Change:
    """One record whose part in a figure moved: None = not counted (before or after)."""

    record_id: int
    old: Decimal | None
    new: Decimal | None
    # 来区客商 counts investors: the visits that count (entered) or counted (left) this one.
    visits: tuple[int, ...] = ()

    @property
    def delta(self) -> Decimal:
        return (self.new or Decimal(0)) - (self.old or Decimal(0))


def compare(old: Composition, new: Composition) -> list[Change]:
    """The records that entered, left or changed their part; the largest moves first."""
    changes = []
    for pk in old.parts.keys() | new.parts.keys():
        before, after = old.parts.get(pk), new.parts.get(pk)
        if before == after:
            continue
        visits = new.via.get(pk) if after is not None else old.via.get(pk)
        changes.append(Change(pk, before, after, tuple(sorted(visits or ()))))
    return sorted(changes, key=lambda c: (-abs(c.delta), c.record_id))


@dataclasses.dataclass(frozen=True)
class Question:
    """One amended figure to explain: its changes, and the marks of its last known value."""

    key: Hashable
    figure: str
    changes: Sequence[Change]
    marks: dict[str, int]


@dataclasses.dataclass
class Cause:
    """One named cause, as BulletinAmendmentCause keeps it."""

    record_type: str
    record_id: int
    label: str  # the record's name (a visit: its investor's)
    old_part: Decimal | None
    new_part: Decimal | None
    changed_by_id: int | None = None
    changed_at: datetime | None = None
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class _Event:
    """A write to a record, from its history: its table (a HISTORY_TABLES key), its row,
    who, when and why."""

    table: str
    row_id: int
    at: datetime
    user_id: int | None
    why: str


class _History:
    """The events of some rows of one history table after a mark, each with the row's
    previous state (to tell which columns it changed). Two queries."""

    def __init__(self, label: str, since: int, **filters: Any) -> None:
        model = apps.get_model(label)
        self.table = next(key for key, name in HISTORY_TABLES.items() if name == label)
        events = list(
            model.objects.filter(pgh_id__gt=since, **filters)
            .select_related("pgh_context")
            .order_by("pgh_id")
        )
        objects = {event.pgh_obj_id for event in events}
        before = (
            model.objects.filter(pgh_obj_id__in=objects, pgh_id__lte=since)
            .order_by("pgh_obj_id", "-pgh_id")
            .distinct("pgh_obj_id")
            if objects
            else []
        )
        previous: dict[int, Any] = {event.pgh_obj_id: event for event in before}
        # (event, the row's state before it) per tracked row, oldest first.
        self.by_object: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
        for event in events:
            self.by_object[event.pgh_obj_id].append((event, previous.get(event.pgh_obj_id)))
            previous[event.pgh_obj_id] = event

    def latest(
        self, object_ids: Iterable[int], since: int, columns: frozenset[str], keep: Any = None
    ) -> _Found | None:
        """The latest event after ``since`` on these rows that created or deleted one, or
        changed one of ``columns`` (and that ``keep(event, before)`` accepts)."""
        found: tuple[Any, Any] | None = None
        for object_id in object_ids:
            for event, before in self.by_object.get(object_id, ()):
                if event.pgh_id <= since or (keep is not None and not keep(event, before)):
                    continue
                if not _touches(event, before, columns):
                    continue
                if found is None or event.pgh_id > found[0].pgh_id:
                    found = (event, before)
        if found is None:
            return None
        row, before = found
        metadata = (row.pgh_context.metadata if row.pgh_context_id else None) or {}
        why = str(metadata.get("why") or "")
        event = _Event(self.table, row.pgh_id, row.pgh_created_at, metadata.get("user"), why)
        return _Found(event, row, before)


def _touches(event: Any, before: Any, columns: frozenset[str]) -> bool:
    if event.pgh_label != "update" or before is None:
        return True  # the row was created or deleted (or its earlier state is unknown)
    return any(getattr(event, column) != getattr(before, column) for column in columns)


def _lead_reason(event: Any, before: Any) -> str | None:
    """A drop or a rejection explains itself: that lead's own reason, never the context's."""
    moved = before is None or before.status != event.status
    if moved and event.status == LeadStatus.DROPPED and event.drop_reason:
        return str(event.drop_reason)
    if moved and event.status == LeadStatus.REJECTED and event.reject_reason:
        return f"lead_reject:{event.reject_reason}"  # read as words by why_label
    return None


class _Found(NamedTuple):
    """The event that explains a change, the row as it wrote it, and the row before it."""

    event: _Event
    row: Any
    before: Any


@dataclasses.dataclass(frozen=True)
class _Explained:
    change: Change
    record_type: str
    record_id: int
    found: _Found | None


def _latest_of(*candidates: _Found | None) -> _Found | None:
    # Different tables number their rows apart: the later write wins, the first listed on a tie.
    best = None
    for candidate in candidates:
        if candidate is not None and (best is None or candidate.event.at > best.event.at):
            best = candidate
    return best


def explain(questions: Sequence[Question], *, period_end: date) -> dict[Hashable, list[Cause]]:
    """The causes of each question's changes (at most MAX_CAUSES each), read from history."""
    family = figure_family()
    wanted: dict[str, set[int]] = defaultdict(set)
    since: dict[str, int] = {}

    def mark(q: Question, table: str) -> int:
        return int(q.marks.get(table, 0))

    def need(q: Question, table: str, ids: Iterable[int]) -> None:
        wanted[table].update(ids)
        since[table] = min(since.get(table, mark(q, table)), mark(q, table))

    for q in questions:
        changes = q.changes[:MAX_CAUSES]
        name = family[q.figure]
        if name == "leads":
            need(q, "lead", (c.record_id for c in changes))
        elif name == "visits":
            need(q, "visit", (v for c in changes for v in c.visits))
        else:
            need(q, "project", (c.record_id for c in changes))
            if name == "fdi":
                need(q, "progress", (c.record_id for c in changes))
            if q.figure == Figure.GROUNDBREAKING_AMOUNT:
                need(q, "increment", (c.record_id for c in changes))

    histories = {
        table: _History(HISTORY_TABLES[table], since[table], pgh_obj_id__in=wanted[table])
        for table in ("lead", "visit", "project")
        if wanted[table]
    }
    progress_of: dict[int, set[int]] = defaultdict(set)  # project → its progress rows
    if wanted["progress"]:
        histories["progress"] = _History(
            HISTORY_TABLES["progress"], since["progress"], project_id__in=wanted["progress"]
        )
        for object_id, written in histories["progress"].by_object.items():
            for event, _before in written:
                progress_of[event.project_id].add(object_id)
    increments: dict[int, list[ProjectIncrement]] = defaultdict(list)
    if wanted["increment"]:
        for increment in ProjectIncrement.objects.filter(
            project_id__in=wanted["increment"],
            pk__gt=since["increment"],
            increased_on__lte=period_end,
        ).order_by("pk"):
            increments[increment.project_id].append(increment)

    def up_to_end(event: Any, before: Any) -> bool:
        # A progress report of a later month never moves the period's FDI.
        return event.month <= period_end or (before is not None and before.month <= period_end)

    def find(q: Question, change: Change) -> _Explained:
        name, columns = family[q.figure], FIGURE_COLUMNS[q.figure]
        if name == "leads":
            found = histories["lead"].latest([change.record_id], mark(q, "lead"), columns)
            return _Explained(change, CauseRecord.LEAD, change.record_id, found)
        if name == "visits":
            found = histories["visit"].latest(change.visits, mark(q, "visit"), columns)
            visit_id = found.row.pgh_obj_id if found else change.visits[0]
            return _Explained(change, CauseRecord.VISIT, visit_id, found)
        found = histories["project"].latest([change.record_id], mark(q, "project"), columns)
        if name == "fdi":
            reported = histories["progress"].latest(
                progress_of[change.record_id],
                mark(q, "progress"),
                _PROGRESS_COLUMNS,
                keep=up_to_end,
            )
            found = _latest_of(reported, found)
        if q.figure == Figure.GROUNDBREAKING_AMOUNT:
            added = [i for i in increments[change.record_id] if i.pk > mark(q, "increment")]
            if added:
                last = added[-1]
                why = last.note or "project_record_increment"
                event = _Event("increment", last.pk, last.created_at, last.actor_id, why)
                found = _latest_of(found, _Found(event, last, None))
        return _Explained(change, CauseRecord.PROJECT, change.record_id, found)

    explained = {q.key: [find(q, change) for change in q.changes[:MAX_CAUSES]] for q in questions}
    every = [item for items in explained.values() for item in items]
    labels = _labels((e.record_type, e.record_id, e.change.record_id) for e in every)
    users = {e.found.event.user_id for e in every if e.found is not None} - {None}
    officers = set(Officer.objects.filter(pk__in=users).values_list("pk", flat=True))
    return {key: [_cause(e, labels, officers) for e in items] for key, items in explained.items()}


def _cause(e: _Explained, labels: dict[tuple[str, int], str], officers: set[int]) -> Cause:
    cause = Cause(
        record_type=e.record_type,
        record_id=e.record_id,
        label=labels.get((e.record_type, e.record_id), f"#{e.record_id}")[:300],
        old_part=e.change.old,
        new_part=e.change.new,
    )
    if e.found is not None:
        event = e.found.event
        cause.changed_by_id = event.user_id if event.user_id in officers else None
        cause.changed_at = event.at
        own = _lead_reason(e.found.row, e.found.before) if event.table == "lead" else None
        cause.reason = own if own is not None else event.why
    return cause


def _labels(wanted: Iterable[tuple[str, int, int]]) -> dict[tuple[str, int], str]:
    """``{(record type, id): name}`` as the records read now (a visit by its investor's
    name), one query per kind."""
    ids: dict[str, set[int]] = defaultdict(set)
    investor_of: dict[int, int] = {}
    for record_type, record_id, counted_id in wanted:
        ids[record_type].add(record_id)
        if record_type == CauseRecord.VISIT:
            investor_of[record_id] = counted_id
    labels: dict[tuple[str, int], str] = {}
    for record_type, model in ((CauseRecord.LEAD, Lead), (CauseRecord.PROJECT, Project)):
        if ids[record_type]:
            for pk, name in _names(model, ids[record_type]):
                labels[record_type, pk] = name
    if investor_of:
        names = dict(_names(Investor, set(investor_of.values())))
        for visit_id, investor_id in investor_of.items():
            labels[CauseRecord.VISIT, visit_id] = names.get(investor_id, f"#{investor_id}")
    return labels


def _names(model: type[models.Model], ids: set[int]) -> list[tuple[int, str]]:
    """Names of records, a deleted one's from its last history row."""
    found = list(model._default_manager.filter(pk__in=ids).values_list("pk", "name"))
    missing = ids - {pk for pk, _name in found}
    if missing:
        events = apps.get_model(f"{model._meta.label}Event").objects
        found += list(
            events.filter(pgh_obj_id__in=missing)
            .order_by("pgh_obj_id", "-pgh_id")
            .distinct("pgh_obj_id")
            .values_list("pgh_obj_id", "name")
        )
    return found
