"""Re-encrypting stored personal data, table by table (issue #16).

Used by the data migrations that encrypt the values written before encryption (in the tables
and in their history tables) and by ``manage.py rotate_field_keys`` after a new key was put
first in ``PROMO_FIELD_KEYS``. Rows are read and written in batches by primary key, with
plain SQL: nothing is decrypted beyond the batch in hand, and the history triggers of the
table are not fired by a change that changes no value (callers wrap it in
``pgtrigger.ignore``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper

from . import crypto

BATCH = 1000


@dataclass(frozen=True)
class EncryptedTable:
    table: str
    columns: tuple[str, ...]
    # blind index column -> (source column, kind); refreshed from the clear value
    indexes: dict[str, tuple[str, str]] = field(default_factory=dict)
    pk: str = "id"  # the history tables' is pgh_id


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def reencrypt_table(cursor: CursorWrapper, spec: EncryptedTable, *, reindex: bool = False) -> int:
    """Encrypt under the first key every value of ``spec``'s columns that is clear or under
    an older key; with ``reindex`` (or when the table has indexes and a value was clear),
    refresh the blind indexes. Returns how many rows were written."""
    table = _quote(spec.table)
    pk = _quote(spec.pk)
    columns = list(spec.columns)
    select = ", ".join(_quote(c) for c in columns)
    written = 0
    last = None
    while True:
        if last is None:
            cursor.execute(f"SELECT {pk}, {select} FROM {table} ORDER BY {pk} LIMIT %s", [BATCH])
        else:
            cursor.execute(
                f"SELECT {pk}, {select} FROM {table} WHERE {pk} > %s ORDER BY {pk} LIMIT %s",
                [last, BATCH],
            )
        rows = cursor.fetchall()
        if not rows:
            return written
        last = rows[-1][0]
        updates = []
        for key, *stored in rows:
            values = dict(zip(columns, stored, strict=True))
            needs = reindex or any(
                value and not crypto.first_key_encrypted(value) for value in values.values()
            )
            if not needs:
                continue
            new = {c: crypto.reencrypt(v) if v else v for c, v in values.items()}
            for index_column, (source, kind) in spec.indexes.items():
                new[index_column] = crypto.blind_index(kind, crypto.decrypt(values[source]))
            updates.append((key, new))
        _write(cursor, table, pk, updates)
        written += len(updates)


def _write(
    cursor: CursorWrapper, table: str, pk: str, updates: Iterable[tuple[Any, dict[str, Any]]]
) -> None:
    for key, new in updates:
        assignments = ", ".join(f"{_quote(c)} = %s" for c in new)
        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", [*new.values(), key])


def encrypted_tables() -> list[EncryptedTable]:
    """Every table holding an encrypted field, history tables included, from the models."""
    from django.apps import apps

    from .fields import BlindIndexField, EncryptedTextField

    specs = []
    for model in apps.get_models():
        fields = model._meta.concrete_fields
        columns = tuple(f.column for f in fields if isinstance(f, EncryptedTextField))
        if not columns or model._meta.proxy:
            continue
        indexes = {
            f.column: (_column(model, f.source), f.kind)
            for f in fields
            if isinstance(f, BlindIndexField)
        }
        specs.append(EncryptedTable(model._meta.db_table, columns, indexes, model._meta.pk.column))
    return sorted(specs, key=lambda spec: spec.table)


def _column(model: Any, name: str) -> str:
    return str(model._meta.get_field(name).column)
