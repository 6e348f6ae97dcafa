"""Writes of the audit trail: ``record`` appends one entry to the hash chain.

Why appends are serialized: each entry carries the hash of the one before it, so two appends
must not read the same head. The head lives in one row (``audit_chainhead``, migration 0003):
``record`` updates it and inserts the entry in one statement (``WITH head AS (UPDATE …)
INSERT …``) that computes the hash in PostgreSQL (``sha256(prev_hash || canonical)``). The
update locks the row until commit; a concurrent append waits for it and then, in READ
COMMITTED, evaluates its SET on the row the other committed, so it chains onto that entry.
The id is drawn under the lock, so id order is chain order. Outside a transaction that is one
round trip (an API call's entry); inside one, a savepoint around it.

When a trail write fails: an entry that *accompanies* an action (a sign-in, a denial, an API
call, a read, an export) must not turn the officer's request into an error — the failure is
written to the ``promo.security`` log and the request goes on (the log is the second record).
An entry that is the *condition* of a write (a role or privilege change, an API client's
token, a password or second-factor reset: ``required=True``) is written in the write's own
transaction and its failure rolls the write back: a privilege must not change unrecorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from promo.audit.choices import Action, Outcome
from promo.audit.models import AuditAnchor, AuditEntry

log = logging.getLogger("promo.security")

# pg_advisory_xact_lock key audit_prune() takes (any constant no other lock in promo uses).
CHAIN_LOCK = 0x70726F6D6F_01  # "promo" 01
GENESIS = "0" * 64

_FIELDS = (
    "at",
    "actor_id",
    "actor_username",
    "api_client_id",
    "address",
    "action",
    "object_type",
    "object_id",
    "object_text",
    "outcome",
    "details",
)


def canonical(values: dict[str, Any]) -> str:
    """The entry's canonical serialization: its fields as sorted, compact JSON, time in UTC."""
    data = {name: values.get(name) for name in _FIELDS}
    at = data["at"]
    if isinstance(at, datetime):
        data["at"] = at.astimezone(UTC).isoformat()
    for name in ("actor_id", "api_client_id"):
        number = data[name]
        data[name] = None if number is None else int(number)
    data["details"] = data["details"] or {}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, canonical_text: str) -> str:
    return hashlib.sha256((prev_hash + canonical_text).encode("utf-8")).hexdigest()


def _clip(value: Any, length: int) -> str:
    # PostgreSQL text holds no NUL: a hostile path or query string keeps its other characters.
    return str(value if value is not None else "").replace("\x00", "\ufffd")[:length]


def _without_nul(value: Any) -> Any:
    """``value`` with NUL replaced by U+FFFD in every string, keys included (jsonb refuses
    \\u0000 as text refuses NUL)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def _api_client_id(client: Any) -> int | None:
    if client is None or isinstance(client, int):
        return client
    meta = getattr(client, "_meta", None)
    return client.pk if meta is not None and meta.label == "promo.ApiClient" else None


def _append(values: dict[str, Any], *, durable: bool = True) -> int:
    text = canonical(values)
    table = AuditEntry._meta.db_table
    # One statement. The UPDATE locks the head row; a concurrent append waits for it and then
    # (READ COMMITTED) evaluates the SET against the row the other committed, so it chains
    # onto that entry. The id is drawn inside the lock, so id order is chain order.
    sql = f"""
        WITH settings AS (
            SELECT set_config(
                'synchronous_commit', coalesce(%s, current_setting('synchronous_commit')), true
            ) AS sync
        ),
        head AS (
            UPDATE audit_chainhead
            SET prev = hash, hash = encode(sha256(convert_to(hash || %s, 'UTF8')), 'hex')
            WHERE id = 1
            RETURNING prev, hash, nextval(pg_get_serial_sequence('{table}', 'id')) AS id
        )
        INSERT INTO {table} (id, at, actor_id, actor_username, api_client_id, address, action,
                             object_type, object_id, object_text, outcome, details,
                             prev_hash, hash)
        SELECT head.id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb,
               head.prev, head.hash
        FROM head, settings
        RETURNING id
    """
    params = [
        # An entry that accompanies a read (an API call) does not wait for the WAL flush at
        # its commit: a database crash may lose the last fraction of a second of such entries,
        # never one in the middle (WAL order), so the chain stays whole. Only outside a
        # transaction: inside one the setting would reach the caller's own commit.
        "off" if not durable and not connection.in_atomic_block else None,
        text,
        values["at"],
        values["actor_id"],
        values["actor_username"],
        values["api_client_id"],
        values["address"],
        values["action"],
        values["object_type"],
        values["object_id"],
        values["object_text"],
        values["outcome"],
        json.dumps(_without_nul(values["details"] or {}), ensure_ascii=False, default=str),
    ]
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # A savepoint: a failed append must not poison the surrounding transaction.
            with transaction.atomic():
                cursor.execute(sql, params)
        else:
            cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # no head row: nothing was appended
        raise DatabaseError("audit_chainhead has no row: run the audit migrations")
    return int(row[0])


def record(
    *,
    action: Action | str,
    actor: Any = None,
    outcome: Outcome | str = Outcome.SUCCESS,
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    object_text: str = "",
    api_client: Any = None,
    address: str = "",
    username: str = "",
    details: dict[str, Any] | None = None,
    required: bool = False,
    durable: bool = True,
) -> int | None:
    """Append one entry (审计记录) to the trail; returns its id, or None if it could not be written.

    ``durable=False`` (an API read's entry): its own commit does not wait for the disk
    (``_append``). ``required=True``: the entry is the condition of the write it audits, so inside that
    write's transaction a failure raises (and rolls the write back); otherwise, or once the
    write is committed, it is logged and swallowed (module docstring).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or obj.pk
        object_text = object_text or str(obj)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    if actor is not None and getattr(actor, "is_authenticated", False):
        username = username or actor.get_username()
    values = {
        "at": timezone.now(),
        "actor_id": actor_id,
        "actor_username": _clip(username, 150),
        "api_client_id": _api_client_id(api_client),
        "address": _clip(address, 64),
        "action": str(action),
        "object_type": _clip(object_type, 100),
        "object_id": _clip(object_id, 64),
        "object_text": _clip(object_text, 300),
        "outcome": str(outcome),
        "details": details or {},
    }
    if required and connection.in_atomic_block:
        # Inside the audited write's transaction: failing here rolls the write back.
        return _append(values, durable=durable)
    try:
        return _append(values, durable=durable)
    except (DatabaseError, ValueError) as exc:
        log.error("audit entry not written action=%s user=%s: %s", action, username or "-", exc)
        return None


def retention_days() -> int:
    return int(settings.PROMO_AUDIT_RETENTION_DAYS)


def audit_prune(*, days: int | None = None, batch_size: int | None = None) -> int:
    """Delete entries older than the retention (保存期限) through ``audit_prune()``; returns how many.

    The database function refuses fewer than its own floor of days and leaves an anchor;
    the application role may call it but cannot delete a row itself.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT audit_prune(%s, %s)",
            [days or retention_days(), batch_size or settings.PROMO_PRUNE_BATCH_SIZE],
        )
        return int(cursor.fetchone()[0])


class ChainBreak(Exception):
    def __init__(self, entry_id: int, field: str, expected: str, found: str) -> None:
        super().__init__(f"entry {entry_id}: {field} expected {expected}, found {found}")
        self.entry_id = entry_id
        self.field = field
        self.expected = expected
        self.found = found


def audit_verify(*, chunk: int = 2000) -> int:
    """Walk the chain from its anchor (or the start); returns how many entries were checked.

    Raises ``ChainBreak`` at the first entry whose previous hash or own hash is not what the
    chain before it and its own fields give.
    """
    anchor = AuditAnchor.objects.order_by("-id").first()
    expected_prev = anchor.last_hash if anchor else GENESIS
    after = anchor.last_id if anchor else 0
    checked = 0
    fields = ("id", *_FIELDS, "prev_hash", "hash")
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=after).order_by("id").values(*fields)[:chunk])
        if not rows:
            return checked
        for row in rows:
            if row["prev_hash"] != expected_prev:
                raise ChainBreak(row["id"], "prev_hash", expected_prev, row["prev_hash"])
            computed = entry_hash(row["prev_hash"], canonical(row))
            if row["hash"] != computed:
                raise ChainBreak(row["id"], "hash", computed, row["hash"])
            expected_prev = row["hash"]
            after = row["id"]
            checked += 1


def older_than(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)
