"""Triggers that keep mirrors right when an assignment or an officer's own scope changes.

docs/decisions/0012-scope-change-journal.md; leads/scope_triggers.py says how leaving is
journaled and entering moves ``updated_at``.

* An assignment (主办/协办/挂钩领导) lets its officer see a lead or project of another unit,
  and through a lead its visits and investor: adding one brings them to the officer (their
  versions move), removing one journals them for the officer. The lead or project shows its
  team, so its own version moves either way. An officer of the record's own unit sees it
  anyway: then only the record's version moves. A record created in the same transaction
  (a new lead's 主办, a signed project's team) is new to everyone already.
* An officer's unit, role or superuser flag decides their whole scope, and a unit's place
  in the tree (its path) that of everyone above it: such a change is journaled as a reset
  (no record), and those mirrors sync again from scratch.
"""

from __future__ import annotations

import pgtrigger

# The assignment's officer sees the lead through its unit anyway (or, as a department
# submitter, sees only what they entered): assignments do not change what they see.
_SAME_UNIT = "(SELECT unit_id FROM officers_officer WHERE id = {row}.officer_id) = {lead}.unit_id"

# Not the record created earlier in this transaction (leads/scope_triggers.py ``born``).
_BORN = "current_setting('promo.scope_born', true) IS DISTINCT FROM '{label}:' || {id}"

_JOINED = f"""
    IF NEW.lead_id IS NOT NULL THEN
        SELECT id, unit_id, investor_id INTO lead FROM leads_lead WHERE id = NEW.lead_id;
        IF {_BORN.format(label="leads.lead", id="lead.id")} THEN
            UPDATE leads_lead SET updated_at = clock_timestamp() WHERE id = lead.id;
        END IF;
        IF NOT COALESCE({_SAME_UNIT.format(row="NEW", lead="lead")}, FALSE) THEN
            UPDATE leads_visit SET updated_at = clock_timestamp() WHERE lead_id = lead.id;
            UPDATE leads_investor SET updated_at = clock_timestamp() WHERE id = lead.investor_id;
        END IF;
    ELSE
        IF {_BORN.format(label="projects.project", id="NEW.project_id")} THEN
            UPDATE projects_project SET updated_at = clock_timestamp() WHERE id = NEW.project_id;
        END IF;
    END IF;
"""

_LEFT = f"""
    IF OLD.lead_id IS NOT NULL THEN
        SELECT id, unit_id, investor_id INTO lead FROM leads_lead WHERE id = OLD.lead_id;
        UPDATE leads_lead SET updated_at = clock_timestamp() WHERE id = OLD.lead_id;
        IF lead.id IS NULL OR NOT COALESCE({_SAME_UNIT.format(row="OLD", lead="lead")}, FALSE) THEN
            PERFORM promo_scope_left('leads.lead', ARRAY[OLD.lead_id], '{{}}', ARRAY[OLD.officer_id]);
            PERFORM promo_scope_left(
                'leads.visit',
                ARRAY(SELECT id FROM leads_visit WHERE lead_id = OLD.lead_id),
                '{{}}',
                ARRAY[OLD.officer_id]
            );
            PERFORM promo_scope_left(
                'leads.investor', ARRAY[lead.investor_id], '{{}}', ARRAY[OLD.officer_id]
            );
        END IF;
    ELSE
        UPDATE projects_project SET updated_at = clock_timestamp() WHERE id = OLD.project_id;
        PERFORM promo_scope_left('projects.project', ARRAY[OLD.project_id], '{{}}', ARRAY[OLD.officer_id]);
    END IF;
"""

ASSIGNMENT_TRIGGERS = [
    pgtrigger.Trigger(
        name="scope_joined",
        when=pgtrigger.After,
        operation=pgtrigger.Insert,
        declare=[("lead", "RECORD")],
        func=_JOINED + "RETURN NULL;",
    ),
    pgtrigger.Trigger(
        name="scope_left",
        when=pgtrigger.After,
        operation=pgtrigger.Delete,
        declare=[("lead", "RECORD")],
        func=_LEFT + "RETURN NULL;",
    ),
    # An assignment handed to another officer or record: the old one left, the new one joined.
    pgtrigger.Trigger(
        name="scope_moved",
        when=pgtrigger.After,
        operation=pgtrigger.UpdateOf("officer_id", "lead_id", "project_id"),
        condition=pgtrigger.AnyChange("officer", "lead", "project"),
        declare=[("lead", "RECORD")],
        func=_LEFT + _JOINED + "RETURN NULL;",
    ),
    # Another role (主办 → 协办 in a claim's transfer) changes what the record shows.
    pgtrigger.Trigger(
        name="scope_role",
        when=pgtrigger.After,
        operation=pgtrigger.UpdateOf("role"),
        condition=pgtrigger.AnyChange("role"),
        func="""
        UPDATE leads_lead SET updated_at = clock_timestamp() WHERE id = NEW.lead_id;
        UPDATE projects_project SET updated_at = clock_timestamp() WHERE id = NEW.project_id;
        RETURN NULL;
        """,
    ),
]

# A reset: this officer's scope changed as a whole.
OFFICER_TRIGGERS = [
    pgtrigger.Trigger(
        name="scope_reset",
        when=pgtrigger.After,
        operation=pgtrigger.UpdateOf("unit_id", "role", "is_superuser"),
        condition=pgtrigger.AnyChange("unit", "role", "is_superuser"),
        func="""
        INSERT INTO promo_scopechange (model, object_id, units, officers, at)
        VALUES ('', NULL, '{}', ARRAY[NEW.id], clock_timestamp());
        RETURN NULL;
        """,
    ),
]

# A reset of everyone: a unit moved in the tree (a new unit only gets its first path).
UNIT_TRIGGERS = [
    pgtrigger.Trigger(
        name="scope_reset",
        when=pgtrigger.After,
        operation=pgtrigger.UpdateOf("path"),
        condition=pgtrigger.Q(old__path__df=pgtrigger.F("new__path")) & ~pgtrigger.Q(old__path=""),
        func="""
        INSERT INTO promo_scopechange (model, object_id, units, officers, at)
        VALUES ('', NULL, ARRAY[NEW.id], NULL, clock_timestamp());
        RETURN NULL;
        """,
    ),
]
