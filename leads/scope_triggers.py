"""Triggers that keep mirrors right when a lead, visit or investor changes who may see it.

docs/decisions/0012-scope-change-journal.md. Who sees a lead, visit or investor follows
columns (its unit, its lead's unit, its investor) and assignments, so a change of one of
them can take a record out of some callers' scope and into others':

* *leaving* is journaled: ``promo_scope_left(model, ids, units, officers)`` (promo/api
  migration 0004) writes a ``promo.ScopeChange`` per record, naming the units before and
  after; the deletion feeds list it to those callers who no longer see it;
* *entering* moves ``updated_at`` (``clock_timestamp()``, the moment of the change), so the
  record comes in those callers' next ``updated_after`` walk — with the records seen through
  it (a lead's visits, its investor).

Triggers, not service code: a claim's transfer, a data fix in SQL and a cascade delete all
pass here (as the history does, decision 0003). Each one fires only when a scope column
changes (``UPDATE OF … WHEN`` the value differs), so ordinary edits cost nothing, and the
touches of ``updated_at`` they make never fire them again.
"""

from __future__ import annotations

import pgtrigger

# The record's own version moves with its scope, also when SQL changed only the column
# (an ORM save has already set updated_at; that value is kept).
STAMP = """
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
"""


def stamp(*fields: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="scope_stamp",
        when=pgtrigger.Before,
        operation=pgtrigger.UpdateOf(*(f"{field}_id" for field in fields)),
        condition=pgtrigger.AnyChange(*fields),
        func=STAMP,
    )


def moved(func: str, *fields: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="scope_moved",
        when=pgtrigger.After,
        operation=pgtrigger.UpdateOf(*(f"{field}_id" for field in fields)),
        condition=pgtrigger.AnyChange(*fields),
        func=func,
    )


# A record created in this transaction is new to everyone: an assignment added to it right
# away (a new lead's 主办, a signed project's team) need not move its version again, which
# would only write a second history row (officers/scope_triggers.py reads this).
def born(label: str) -> str:
    return f"PERFORM set_config('promo.scope_born', '{label}:' || NEW.id, true);"


# An investor is seen by the units of its own unit, of its leads and of its visits: a new
# lead or visit of another unit brings it to that unit (its version moves); one of a unit it
# already had changes nothing.
_REACHED = """
    UPDATE leads_investor AS i SET updated_at = clock_timestamp()
     WHERE i.id = NEW.investor_id AND i.unit_id <> NEW.unit_id
       AND NOT EXISTS (SELECT 1 FROM leads_lead AS l
                        WHERE l.investor_id = NEW.investor_id AND l.unit_id = NEW.unit_id
                          AND l.id <> {lead})
       AND NOT EXISTS (SELECT 1 FROM leads_visit AS v
                        WHERE v.investor_id = NEW.investor_id AND v.unit_id = NEW.unit_id
                          AND v.id <> {visit});
    RETURN NULL;
"""

# --- leads.Lead ------------------------------------------------------------------------------

LEAD_TRIGGERS = [
    stamp("unit", "investor"),
    # A lead moved to another unit (a claim's transfer) or put on another investor: the lead
    # and the visits seen through it leave the old unit's callers and reach the new one's;
    # the old investor may leave the old unit's callers and those working on the lead.
    moved(
        """
        PERFORM promo_scope_left('leads.lead', ARRAY[NEW.id], ARRAY[OLD.unit_id, NEW.unit_id], '{}');
        PERFORM promo_scope_left(
            'leads.visit',
            ARRAY(SELECT id FROM leads_visit WHERE lead_id = NEW.id),
            ARRAY[OLD.unit_id, NEW.unit_id],
            '{}'
        );
        PERFORM promo_scope_left(
            'leads.investor',
            ARRAY[OLD.investor_id],
            ARRAY[OLD.unit_id],
            ARRAY(SELECT officer_id FROM officers_assignment WHERE lead_id = NEW.id)
        );
        UPDATE leads_visit SET updated_at = clock_timestamp() WHERE lead_id = NEW.id;
        UPDATE leads_investor SET updated_at = clock_timestamp() WHERE id = NEW.investor_id;
        RETURN NULL;
        """,
        "unit",
        "investor",
    ),
    pgtrigger.Trigger(
        name="scope_born",
        when=pgtrigger.After,
        operation=pgtrigger.Insert,
        func=born("leads.lead") + _REACHED.format(lead="NEW.id", visit="0"),
    ),
    # A deleted lead: its tombstone tells its unit; its investor may leave that unit too.
    pgtrigger.Trigger(
        name="scope_gone",
        when=pgtrigger.After,
        operation=pgtrigger.Delete,
        func="""
        PERFORM promo_scope_left(
            'leads.investor',
            ARRAY[OLD.investor_id],
            ARRAY[OLD.unit_id],
            ARRAY(SELECT officer_id FROM officers_assignment WHERE lead_id = OLD.id)
        );
        RETURN NULL;
        """,
    ),
]

# --- leads.Visit -----------------------------------------------------------------------------

VISIT_TRIGGERS = [
    stamp("unit", "lead", "investor"),
    # Logged once and fixed (services never change these): a data fix moving a visit.
    moved(
        """
        PERFORM promo_scope_left(
            'leads.visit',
            ARRAY[NEW.id],
            ARRAY[OLD.unit_id, NEW.unit_id] || ARRAY(SELECT unit_id FROM leads_lead WHERE id = OLD.lead_id),
            ARRAY(SELECT officer_id FROM officers_assignment WHERE lead_id = OLD.lead_id)
        );
        PERFORM promo_scope_left('leads.investor', ARRAY[OLD.investor_id], ARRAY[OLD.unit_id], '{}');
        UPDATE leads_investor SET updated_at = clock_timestamp() WHERE id = NEW.investor_id;
        RETURN NULL;
        """,
        "unit",
        "lead",
        "investor",
    ),
    pgtrigger.Trigger(
        name="scope_born",
        when=pgtrigger.After,
        operation=pgtrigger.Insert,
        func=born("leads.visit") + _REACHED.format(lead="0", visit="NEW.id"),
    ),
    # A deleted visit: its tombstone tells the callers of the unit that logged it; those who
    # saw it through its lead from elsewhere (the lead's unit, its team) are told here, its
    # attendees by ATTENDANCE_TRIGGERS. Its investor may leave the unit that logged it.
    pgtrigger.Trigger(
        name="scope_gone",
        when=pgtrigger.After,
        operation=pgtrigger.Delete,
        declare=[("units", "bigint[]"), ("officers", "bigint[]")],
        func="""
        units := ARRAY(SELECT unit_id FROM leads_lead WHERE id = OLD.lead_id AND unit_id <> OLD.unit_id);
        officers := ARRAY(
            SELECT a.officer_id FROM officers_assignment AS a
              JOIN officers_officer AS o ON o.id = a.officer_id
             WHERE a.lead_id = OLD.lead_id AND o.unit_id IS DISTINCT FROM OLD.unit_id
        );
        IF cardinality(units) + cardinality(officers) > 0 THEN
            PERFORM promo_scope_left('leads.visit', ARRAY[OLD.id], units, officers);
        END IF;
        PERFORM promo_scope_left('leads.investor', ARRAY[OLD.investor_id], ARRAY[OLD.unit_id], '{}');
        RETURN NULL;
        """,
    ),
]

# --- leads.Visit.officers (VisitAttendance) --------------------------------------------------

ATTENDANCE_TRIGGERS = [
    # An attendee sees the visit: added, the visit reaches them (and shows them); removed —
    # also when the visit itself is deleted — it leaves them. A visit's own attendees, set
    # right after it is logged, are new with it.
    pgtrigger.Trigger(
        name="scope_joined",
        when=pgtrigger.After,
        operation=pgtrigger.Insert,
        func="""
        IF current_setting('promo.scope_born', true) IS DISTINCT FROM 'leads.visit:' || NEW.visit_id THEN
            UPDATE leads_visit SET updated_at = clock_timestamp() WHERE id = NEW.visit_id;
        END IF;
        RETURN NULL;
        """,
    ),
    pgtrigger.Trigger(
        name="scope_left",
        when=pgtrigger.After,
        operation=pgtrigger.Delete,
        func="""
        UPDATE leads_visit SET updated_at = clock_timestamp() WHERE id = OLD.visit_id;
        PERFORM promo_scope_left('leads.visit', ARRAY[OLD.visit_id], '{}', ARRAY[OLD.officer_id]);
        RETURN NULL;
        """,
    ),
]

# --- leads.Investor --------------------------------------------------------------------------

INVESTOR_TRIGGERS = [
    stamp("unit"),
    moved(
        """
        PERFORM promo_scope_left('leads.investor', ARRAY[NEW.id], ARRAY[OLD.unit_id, NEW.unit_id], '{}');
        RETURN NULL;
        """,
        "unit",
    ),
]
