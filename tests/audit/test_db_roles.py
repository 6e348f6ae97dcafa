"""The application's database role (manage.py db_roles) cannot erase the trails: as that role,
updating or deleting a history row, a lifecycle event and an audit entry fails; inserting and
reading work; disabling a trigger fails."""

from __future__ import annotations

import pghistory.models
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from leads.models import Lead, LeadStatusEvent
from promo.audit.management.commands.db_roles import protected_tables
from promo.audit.models import AuditEntry
from promo.audit.services import audit_verify, record
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def lead_history():
    """The pghistory event model of leads (its table is a trail)."""
    return next(
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event) and model.pgh_tracked_model is Lead
    )


def as_role(role: str, statement: str, params: list | None = None) -> list:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        cursor.execute(statement, params or [])
        rows = cursor.fetchall() if cursor.description else []
        cursor.execute("RESET ROLE")
        return rows


def refused(role: str, statement: str, params: list | None = None) -> str:
    with pytest.raises(DatabaseError) as caught:
        as_role(role, statement, params)
    return str(caught.value)


def test_the_trails_are_protected_tables():
    tables = protected_tables()
    assert "audit_auditentry" in tables and "audit_auditanchor" in tables
    assert LeadStatusEvent._meta.db_table in tables
    assert any(t.endswith("event") and t.startswith("leads_lead") for t in tables), tables
    assert Lead._meta.db_table not in tables


def test_the_application_role_cannot_update_or_delete_history_or_audit_rows(bureau, app_role):
    lead = make_lead(bureau.shanghai_officer)
    history_table = lead_history()._meta.db_table
    assert history_table in protected_tables()
    entry = record(action="sign_in", username="x")
    event = lead.status_events.first()
    checks = [
        (f'DELETE FROM "{history_table}"', []),
        (f'UPDATE "{history_table}" SET pgh_label = pgh_label', []),
        ("DELETE FROM audit_auditentry WHERE id = %s", [entry]),
        ("UPDATE audit_auditentry SET outcome = 'denied' WHERE id = %s", [entry]),
        ("TRUNCATE audit_auditentry", []),
        ("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_append_only", []),
        (f'ALTER TABLE "{history_table}" DISABLE TRIGGER ALL', []),
    ]
    if event is not None:
        checks.append((f'DELETE FROM "{LeadStatusEvent._meta.db_table}"', []))
    for statement, params in checks:
        message = refused(app_role, statement, params)
        assert "permission denied" in message or "must be owner" in message, (statement, message)
    assert AuditEntry.objects.filter(pk=entry).exists()
    assert pghistory.models.Events.objects.tracks(lead).count() >= 1


def test_the_application_role_inserts_into_the_trail_and_writes_records(bureau, app_role):
    lead = make_lead(bureau.shanghai_officer)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        entry = record(action="sign_in", username="as-app", required=True)
        # An ordinary write, its history row written by the trigger as the same role.
        Lead.objects.filter(pk=lead.pk).update(name="改名的项目")
        cursor.execute("RESET ROLE")
    assert AuditEntry.objects.get(pk=entry).actor_username == "as-app"
    assert audit_verify() == AuditEntry.objects.count()
    newest = lead_history().objects.filter(pgh_obj_id=lead.pk).order_by("pgh_id").last()
    assert newest.name == "改名的项目"


def test_db_roles_runs_twice_and_refuses_the_owner(app_role):
    call_command("db_roles", app_role=app_role, no_login=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="owner"):
        call_command("db_roles", app_role=owner)
