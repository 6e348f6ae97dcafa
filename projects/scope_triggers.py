"""Triggers that keep mirrors right when a project moves to another unit.

docs/decisions/0012-scope-change-journal.md; leads/scope_triggers.py says how. No service
moves a project (its unit is fixed once signed): this catches a data fix in SQL. A project's
assignments are officers/scope_triggers.py's.
"""

from __future__ import annotations

import pgtrigger

from leads.scope_triggers import born, moved, stamp

PROJECT_TRIGGERS = [
    stamp("unit"),
    moved(
        """
        PERFORM promo_scope_left('projects.project', ARRAY[NEW.id], ARRAY[OLD.unit_id, NEW.unit_id], '{}');
        RETURN NULL;
        """,
        "unit",
    ),
    pgtrigger.Trigger(
        name="scope_born",
        when=pgtrigger.After,
        operation=pgtrigger.Insert,
        func=born("projects.project") + "RETURN NULL;",
    ),
]
