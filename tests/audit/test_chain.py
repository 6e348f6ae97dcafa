"""The audit trail's hash chain: appends chain under concurrency, the table refuses edits,
and audit_verify finds a tampered or removed entry."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from promo.audit.models import AuditAnchor, AuditEntry
from promo.audit.services import GENESIS, ChainBreak, audit_verify, canonical, entry_hash, record


def _three() -> list[AuditEntry]:
    ids = [
        record(action="sign_in", username=f"u{i}", address="10.0.0.1", details={"n": i, "t": "中"})
        for i in range(3)
    ]
    return list(AuditEntry.objects.filter(id__in=ids).order_by("id"))


@pytest.mark.django_db
def test_entries_chain_each_to_the_one_before_and_verify_passes():
    first, second, third = _three()
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    # The hash PostgreSQL computed is the one Python recomputes from the stored fields.
    row = AuditEntry.objects.filter(pk=third.pk).values().get()
    assert third.hash == entry_hash(third.prev_hash, canonical(row))
    assert audit_verify() == 3
    call_command("audit_verify")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET outcome = 'denied'",
        "DELETE FROM audit_auditentry",
        "UPDATE audit_auditanchor SET deleted = 0",
    ],
)
def test_the_table_refuses_update_and_delete_even_to_its_owner(sql):
    AuditAnchor.objects.create(pruned_at=timezone.now(), last_id=0, last_hash=GENESIS, deleted=0)
    entry = _three()[0]
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.get(pk=entry.pk).outcome == "success"
    assert AuditEntry.objects.count() == 3


def _tamper(sql: str, params: list) -> None:
    # The test database's owner is a superuser: it can switch the trigger off, as an
    # attacker holding the owner's password could. The chain still tells.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_append_only")


@pytest.mark.django_db
def test_audit_verify_reports_an_edited_entry_with_expected_and_found():
    _first, second, _third = _three()
    _tamper("UPDATE audit_auditentry SET actor_username = 'someone' WHERE id = %s", [second.pk])
    with pytest.raises(ChainBreak) as caught:
        audit_verify()
    assert caught.value.entry_id == second.pk
    assert caught.value.field == "hash"
    assert caught.value.found == second.hash
    assert caught.value.expected != second.hash
    with pytest.raises(CommandError, match=f"id={second.pk}: hash expected") as failed:
        call_command("audit_verify")
    assert failed.value.returncode == 1


@pytest.mark.django_db
def test_audit_verify_reports_a_removed_entry_at_the_one_after_it():
    first, second, third = _three()
    _tamper("DELETE FROM audit_auditentry WHERE id = %s", [second.pk])
    with pytest.raises(ChainBreak) as caught:
        audit_verify()
    assert caught.value.entry_id == third.pk
    assert caught.value.field == "prev_hash"
    assert (caught.value.expected, caught.value.found) == (first.hash, second.hash)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_appends_chain_one_after_the_other():
    """Thread A appends inside a transaction it keeps open; thread B, on its own connection,
    appends meanwhile: B waits for A's commit and chains onto A's entry, not onto the head
    both saw before."""
    base = record(action="sign_in", username="base")
    ready = threading.Barrier(2)
    results: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["a"] = record(action="sign_in", username="a", required=True)
                ready.wait()
                time.sleep(0.4)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            ready.wait()
            started = time.monotonic()
            results["b"] = record(action="sign_in", username="b", required=True)
            results["waited"] = time.monotonic() - started
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    a = AuditEntry.objects.get(pk=results["a"])
    b = AuditEntry.objects.get(pk=results["b"])
    assert a.prev_hash == AuditEntry.objects.get(pk=base).hash
    assert b.prev_hash == a.hash
    assert b.pk > a.pk
    assert results["waited"] >= 0.3
    assert audit_verify() == 3


@pytest.mark.django_db(transaction=True)
def test_many_appends_from_several_threads_keep_one_chain():
    def work(n: int) -> None:
        try:
            for i in range(15):
                record(action="api_call", username=f"t{n}", details={"i": i})
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert AuditEntry.objects.count() == 60
    assert audit_verify() == 60
