"""Retention of the audit trail: the nightly prune deletes only entries older than
PROMO_AUDIT_RETENTION_DAYS, through audit_prune(), which the application role may call though
it cannot delete a row itself; the chain still verifies from the anchor it leaves."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from promo.audit.models import AuditAnchor, AuditEntry
from promo.audit.services import audit_prune, audit_verify, record
from promo.audit.tasks import prune_audit_entries

pytestmark = pytest.mark.django_db


def entries_aged(days: int, n: int) -> list[int]:
    with time_machine.travel(timezone.now() - datetime.timedelta(days=days), tick=True):
        return [record(action="sign_in", username=f"aged{days}-{i}") for i in range(n)]


def test_the_prune_keeps_recent_entries_and_the_chain_verifies_from_its_anchor(settings):
    settings.PROMO_PRUNE_BATCH_SIZE = 2  # several batches, each its own anchor
    old = entries_aged(200, 5)
    kept = [*entries_aged(170, 2), record(action="sign_in", username="today")]
    assert prune_audit_entries() == 5
    assert list(AuditEntry.objects.order_by("id").values_list("id", flat=True)) == kept
    anchor = AuditAnchor.objects.order_by("-id").first()
    assert anchor.last_id == old[-1]
    assert AuditAnchor.objects.count() == 3  # batches of 2, 2 and 1
    assert audit_verify() == 3
    call_command("audit_verify")
    # New entries chain on; a prune with nothing old does nothing.
    record(action="sign_out", username="today")
    assert prune_audit_entries() == 0
    assert audit_verify() == 4


def test_an_everything_pruned_trail_chains_on_from_the_anchor():
    entries_aged(365, 3)
    assert audit_prune(days=180) == 3
    assert not AuditEntry.objects.exists()
    first = AuditEntry.objects.get(pk=record(action="sign_in", username="after"))
    assert first.prev_hash == AuditAnchor.objects.get().last_hash
    assert audit_verify() == 1


def test_the_database_refuses_a_retention_below_180_days():
    entries_aged(100, 1)
    with pytest.raises(DatabaseError, match="at least 180 days"):
        with transaction.atomic():
            audit_prune(days=90)
    assert AuditEntry.objects.count() == 1


def test_the_application_role_prunes_through_the_function_but_cannot_delete_itself(
    app_role,
):
    entries_aged(200, 2)
    recent = record(action="sign_in", username="recent")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        cursor.execute("SELECT audit_prune(180, 1000)")
        assert cursor.fetchone()[0] == 2
        with pytest.raises(DatabaseError, match="permission denied"):
            with transaction.atomic():
                cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [recent])
        # Setting the prune flag itself does not help: the role has no DELETE.
        with pytest.raises(DatabaseError, match="permission denied"):
            with transaction.atomic():
                cursor.execute("SELECT set_config('promo.audit_pruning', 'on', true)")
                cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [recent])
        cursor.execute("RESET ROLE")
    assert list(AuditEntry.objects.values_list("id", flat=True)) == [recent]
    assert audit_verify() == 1


def test_the_beat_runs_the_prune_nightly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["prune-audit-entries"]
    assert entry["task"] == "promo.audit.tasks.prune_audit_entries"
